//! Guards against agent shortcuts: built-in checks no linter has. Each compares what a commit
//! changed (the facts of each file before and after, see `facts.rs`) and flags a shortcut: a
//! disabled or deleted test, a weakened assertion, tampering with the supervision, a conflict
//! marker, a stub, a credentials file, a large blob, a debug leftover.
//!
//! Pure: file versions and their line diff in, findings out; a modified file is read only
//! around its changes (`regions.rs`). The engine feeds it each audited commit; `scan` each
//! scanned commit.

mod carried;
mod ci;
mod facts;
mod lang;
mod makefile;
mod regions;
mod rules;
mod text;

pub use ci::ci_checks_of;
pub use facts::{Facts, Mark, facts};
pub use lang::{Lang, is_test_path, lang_of};
pub use makefile::{Makefile, kept_through_make};
pub use rules::{Rule, is_ci};

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};

use crate::finding::{Finding, Location, Severity};
use crate::git::{FileStatus, Hunk};

/// The tests each file lost that no file gained under the same name (tests moved to another
/// file keep their name; a renamed test is one removed and one added), and how many of the
/// gained ones are new.
fn net_losses(
    removed_tests: Vec<(String, Vec<String>, bool)>,
    mut added_tests: HashMap<String, usize>,
) -> (Vec<(String, Vec<String>, bool)>, usize) {
    let mut per_file: Vec<(String, Vec<String>, bool)> = Vec::new();
    for (path, lost, deleted) in removed_tests {
        let unmatched: Vec<String> = lost
            .into_iter()
            .filter(|name| match added_tests.get_mut(name) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    false
                }
                _ => true,
            })
            .collect();
        if !unmatched.is_empty() {
            per_file.push((path, unmatched, deleted));
        }
    }
    (per_file, added_tests.values().sum())
}

/// TEST_DELETED: the tests the commit's files lost (`net_losses`), when the commit has fewer
/// tests than before.
fn tests_deleted(
    per_file: Vec<(String, Vec<String>, bool)>,
    added: usize,
    deletes_code: bool,
    carried: &HashSet<(String, String)>,
    settings: &GuardSettings,
    commit: &str,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let removed: usize = per_file.iter().map(|(_, l, _)| l.len()).sum();
    let net_lost = removed.saturating_sub(added);
    if net_lost > 0 {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        // New tests under other names may be a redesign of the old ones: worth a look,
        // not a verdict. None at all is the shortcut.
        let (severity, replaced) = if deletes_code {
            (
                settings.severity(Rule::TestDeleted).min(Severity::Medium),
                "with code the commit removes: check that the code that stays kept its tests"
                    .to_string(),
            )
        } else if added == 0 {
            (
                settings.severity(Rule::TestDeleted),
                "and adds none that replace them".to_string(),
            )
        } else {
            (
                settings.severity(Rule::TestDeleted).min(Severity::Medium),
                format!(
                    "and adds {added} new one{}: check that they check what the removed ones did",
                    plural(added)
                ),
            )
        };
        for (path, lost, deleted) in per_file {
            // Moved into another test, parametrized, renamed behind a helper: the checks are
            // written again, which names alone cannot tell from a deletion.
            let all_carried = lost
                .iter()
                .all(|n| carried.contains(&(path.clone(), n.clone())));
            let (severity, replaced) = if all_carried && severity > Severity::Medium {
                (
                    Severity::Medium,
                    "but what they used reappears in lines it adds to the tests: check that \
                     those check what the removed ones did"
                        .to_string(),
                )
            } else {
                (severity, replaced.clone())
            };
            let shown: Vec<String> = lost.iter().take(10).map(|n| format!("`{n}`")).collect();
            let detail = format!(
                "{} {} test{} ({}{}); the commit has {net_lost} test{} fewer {replaced}",
                if deleted {
                    "the deleted file held"
                } else {
                    "the file lost"
                },
                lost.len(),
                plural(lost.len()),
                shown.join(", "),
                if lost.len() > 10 { ", ..." } else { "" },
                plural(net_lost),
            );
            out.push(rules::finding(
                Rule::TestDeleted,
                severity,
                &path,
                None,
                detail,
                None,
                commit,
            ));
        }
    }
    out
}

/// A code file that loses more than this many bytes lost code (a statement, not a reworded
/// line). Small on purpose: removing a feature is often three lines (express's "Remove
/// req.acceptsCharset", flask's revert of a BaseException handler), and its tests go with it.
const SHRINK_BYTES: u64 = 16;

/// Whether a path is the project's own code: in a language the guards read, not a test, not
/// vendored.
pub fn is_code(path: &str) -> bool {
    lang_of(path) != Lang::Other && !is_test_path(path) && !rules::is_vendored(path)
}

/// Facts are read from files up to this size.
const MAX_FACTS_BYTES: usize = 2 << 20;

/// One file a commit changed, with both versions.
#[derive(Debug, Clone)]
pub struct FileChange<'a> {
    /// Path after the commit (before, for a deletion).
    pub path: String,
    /// Path before, when it was renamed.
    pub old_path: Option<String>,
    /// How it changed.
    pub kind: FileStatus,
    /// Content before (none when added).
    pub old: Option<&'a [u8]>,
    /// Content after (none when deleted).
    pub new: Option<&'a [u8]>,
    /// Size after, in bytes.
    pub new_size: u64,
    /// Size before, in bytes (0 when added, or not known).
    pub old_size: u64,
    /// How the versions differ line by line, when both were read: the guards then read only
    /// the changed regions (without: the whole versions).
    pub hunks: Option<&'a [Hunk]>,
    /// What was already read of the versions, standing in for their contents.
    pub known: Option<Known<'a>>,
}

/// What the history scan already read of a file's two versions (each blob once, in
/// parallel): their facts, and whether the new one is binary.
#[derive(Debug, Clone, Copy)]
pub struct Known<'a> {
    /// Facts of the version before.
    pub old: &'a Facts,
    /// Facts of the version after.
    pub new: &'a Facts,
    /// Whether the version after is binary.
    pub new_binary: bool,
}

/// `[guards]`, resolved.
#[derive(Debug, Clone)]
pub struct GuardSettings {
    /// Run the guards.
    pub enabled: bool,
    /// Rules switched off.
    pub disabled: Vec<Rule>,
    /// Rules re-ranked.
    pub severity: BTreeMap<Rule, Severity>,
    /// LARGE_FILE above this size.
    pub large_file: u64,
    /// Folders where large and binary files are expected.
    pub asset_folders: Vec<String>,
    /// The auditor's own files and folders (config, inbox, state, reports).
    pub supervision_paths: Vec<String>,
    /// Test runner scripts the configuration names.
    pub test_runners: Vec<String>,
}

impl GuardSettings {
    /// Whether the rules read this file's text beyond its facts (the tampering rules show and
    /// compare changed lines; some credentials files are told by their content).
    pub fn needs_text(&self, path: &str) -> bool {
        rules::needs_text(self, path)
    }

    /// Whether `rule` runs.
    pub fn on(&self, rule: Rule) -> bool {
        self.enabled && !self.disabled.contains(&rule)
    }

    /// The severity `rule` reports at, after `[guards] severity`.
    pub fn severity(&self, rule: Rule) -> Severity {
        self.severity
            .get(&rule)
            .copied()
            .unwrap_or_else(|| rule.default_severity())
    }
}

/// The content as text, unless it is binary or too large to read facts from.
fn readable(bytes: Option<&[u8]>) -> Option<&[u8]> {
    bytes.filter(|b| b.len() <= MAX_FACTS_BYTES && !crate::bytes::is_binary(b))
}

/// The facts of one version of a file (none for a binary or oversized one).
pub fn version_facts(path: &str, content: &[u8]) -> Facts {
    readable(Some(content))
        .map(|c| facts(path, c))
        .unwrap_or_default()
}

/// The content as text, for the rules that compare lines.
fn text(bytes: Option<&[u8]>) -> Option<Cow<'_, str>> {
    readable(bytes).map(String::from_utf8_lossy)
}

/// The marks of `new` that `old` does not have (by text, counting repeats).
fn added<'m>(old: &[Mark], new: &'m [Mark]) -> Vec<&'m Mark> {
    let mut have: HashMap<&str, usize> = HashMap::new();
    for m in old {
        *have.entry(m.shape.as_str()).or_default() += 1;
    }
    let mut out = Vec::new();
    for m in new {
        match have.get_mut(m.shape.as_str()) {
            Some(n) if *n > 0 => *n -= 1,
            _ => out.push(m),
        }
    }
    out
}

/// The conflicts among a file's markers: each `<<<<<<<` with the `|||||||`, `=======` and
/// `>>>>>>>` after it (a conflict left half-resolved may have lost some), and a `>>>>>>>` left
/// on its own. A lone `=======` is a heading's underline, not a conflict.
fn conflict_blocks(markers: &[Mark]) -> Vec<Vec<&Mark>> {
    let mut blocks = Vec::new();
    let mut open: Option<Vec<&Mark>> = None;
    for m in markers {
        let t = m.text.as_str();
        if t.starts_with("<<<<<<<") {
            blocks.extend(open.replace(vec![m]));
        } else if t.starts_with(">>>>>>>") {
            let mut block = open.take().unwrap_or_default();
            block.push(m);
            blocks.push(block);
        } else if let Some(block) = open.as_mut() {
            block.push(m);
        }
    }
    blocks.extend(open);
    blocks
}

/// Only the conflict markers of some facts.
fn conflicts_only(f: &Facts) -> Cow<'static, Facts> {
    Cow::Owned(Facts {
        conflicts: f.conflicts.clone(),
        ..Facts::default()
    })
}

/// The skips of `new` that `old` does not have: matched first by shape and test (a file with
/// the same condition on several tests gains a skip on the test that gained it), then by
/// shape alone (a skipped test renamed keeps its skip).
fn added_skips<'m>(old: &[Mark], new: &'m [Mark]) -> Vec<&'m Mark> {
    let mut unmatched_old: Vec<&Mark> = old.iter().collect();
    let mut take = |m: &Mark, same: &dyn Fn(&Mark, &Mark) -> bool| -> bool {
        match unmatched_old.iter().position(|o| same(o, m)) {
            Some(at) => {
                unmatched_old.swap_remove(at);
                true
            }
            None => false,
        }
    };
    let left: Vec<&Mark> = new
        .iter()
        .filter(|m| !take(m, &|o, m| o.shape == m.shape && o.test == m.test))
        .collect();
    // A test skipped on a condition before and after: the condition was reworded
    // (`platform.system() == "Windows"` to `WIN`), nothing newly disabled.
    let left: Vec<&Mark> = left
        .into_iter()
        .filter(|m| {
            !take(m, &|o, m| {
                o.conditional && m.conditional && o.test.is_some() && o.test == m.test
            })
        })
        .collect();
    left.into_iter()
        .filter(|m| !take(m, &|o, m| o.shape == m.shape))
        .collect()
}

/// The facts of a file before and after a commit, read once so that the contents can be
/// dropped before the commit is judged (then passed back as `Known`).
pub fn change_facts(c: &FileChange<'_>) -> (Facts, Facts) {
    let (old, new) = facts_of(c);
    (old.into_owned(), new.into_owned())
}

/// The facts of a file before and after a commit: as already known, of its changed regions
/// when the hunks are known, of its whole versions otherwise (none for a missing or unreadable
/// version).
fn facts_of<'a>(c: &FileChange<'a>) -> (Cow<'a, Facts>, Cow<'a, Facts>) {
    if let Some(known) = c.known {
        return (Cow::Borrowed(known.old), Cow::Borrowed(known.new));
    }
    let old_path = c.old_path.as_deref().unwrap_or(&c.path);
    let (old, new) = match (readable(c.old), readable(c.new), c.hunks) {
        (Some(old), Some(new), Some(hunks)) => regions::changed_facts(
            &facts::Reader::new(old_path, old),
            &facts::Reader::new(&c.path, new),
            hunks,
        ),
        (old, new, _) => (
            old.map(|o| facts(old_path, o)).unwrap_or_default(),
            new.map(|n| facts(&c.path, n)).unwrap_or_default(),
        ),
    };
    (Cow::Owned(old), Cow::Owned(new))
}

fn pragma_detail(rule: &str) -> String {
    format!("the commit adds an `auditor:allow({rule})` pragma, which silences the supervisor")
}

/// The commit a set of changes belongs to.
#[derive(Debug, Clone, Copy)]
pub struct CommitRef<'a> {
    /// Its id.
    pub id: &'a str,
    /// Whether it has no parent (or none in a shallow clone): nothing supervised the project
    /// before it, so nothing in it is tampering.
    pub root: bool,
    /// The checks the CI definitions it did not change still run (`ci_checks_of` each): a
    /// check removed from one definition that another still runs is not lost.
    pub ci_elsewhere: Option<&'a std::collections::HashSet<String>>,
}

/// What a commit did to its tests, as the guards read them: what explains fewer tests run,
/// or more skipped, than before it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TestTally {
    /// Tests its files lost that no file gained under the same name.
    pub removed: u32,
    /// Skip, ignore and focus markers it added, conditional ones included.
    pub skips_added: u32,
    /// Files it deleted that tests may be generated from (fixtures, data, vendored tests):
    /// a parametrized test over a folder runs fewer cases with no test removed.
    pub data_removed: u32,
}

impl TestTally {
    /// Both commits' changes.
    pub fn plus(self, other: TestTally) -> TestTally {
        TestTally {
            removed: self.removed.saturating_add(other.removed),
            skips_added: self.skips_added.saturating_add(other.skips_added),
            data_removed: self.data_removed.saturating_add(other.data_removed),
        }
    }

    /// Whether anything in it explains fewer tests run.
    pub fn explains_anything(self) -> bool {
        self != TestTally::default()
    }
}

/// What the guards found in one commit.
pub fn check_commit(
    changes: &[FileChange<'_>],
    settings: &GuardSettings,
    at: CommitRef<'_>,
) -> Vec<Finding> {
    check_commit_tallied(changes, settings, at).0
}

/// What the guards found in one commit, and what it did to its tests.
pub fn check_commit_tallied(
    changes: &[FileChange<'_>],
    settings: &GuardSettings,
    at: CommitRef<'_>,
) -> (Vec<Finding>, TestTally) {
    if !settings.enabled {
        return (Vec::new(), TestTally::default());
    }
    // What the commit's CI still runs, for a check removed from one definition: what each
    // other definition runs after it, changed or not.
    let ci_after = ci::ci_checks_after(changes);
    let mut scan = CommitScan {
        settings,
        at,
        out: Vec::new(),
        tally: TestTally::default(),
        new_pragmas: Vec::new(),
        removed_tests: Vec::new(),
        added_tests: HashMap::new(),
        assertions_lost: Vec::new(),
        pragmas_by_file: HashMap::new(),
    };
    for c in changes {
        let ci_elsewhere: std::collections::HashSet<String> = ci_after
            .iter()
            .filter(|(p, _)| *p != c.path)
            .flat_map(|(_, checks)| checks.iter().cloned())
            .chain(at.ci_elsewhere.into_iter().flatten().cloned())
            .collect();
        rules::path_rules(c, settings, at, &ci_elsewhere, &mut scan.out);
        scan.file(c);
    }
    // Code the commit deletes takes its tests with it: a feature removed, not a shortcut.
    let deletes_code = changes.iter().any(|c| {
        is_code(&c.path)
            && (c.kind == FileStatus::Deleted || c.new_size + SHRINK_BYTES < c.old_size)
    });
    scan.finish(deletes_code, changes)
}

/// Whether the guards read the commit's test files' texts (those that `holds_tests`), from
/// each changed file's facts before and after: when it loses a test name that none of its
/// files gains, or a file's assertions. Their lines tell whether what was lost is written
/// again (`carried.rs`).
pub fn reads_test_texts<'f>(files: &[(&'f Facts, &'f Facts)]) -> bool {
    let gained: HashSet<&str> = files
        .iter()
        .flat_map(|(_, new)| new.tests.iter().map(String::as_str))
        .collect();
    files.iter().any(|(old, new)| {
        new.assertions < old.assertions || old.tests.iter().any(|t| !gained.contains(t.as_str()))
    })
}

/// Whether a file's lines count as the tests' lines: under the tests, or holding tests before
/// or after the commit (Rust's `mod tests`).
pub fn holds_tests(path: &str, old: &Facts, new: &Facts) -> bool {
    lang::is_test_path(path) || !old.tests.is_empty() || !new.tests.is_empty()
}

/// A test file's path and its texts before and after the commit.
type TestTexts<'t> = (&'t str, Option<Cow<'t, str>>, Option<Cow<'t, str>>);

/// The texts of the commit's files that `holds_tests`.
fn test_texts<'t>(changes: &'t [FileChange<'_>]) -> Vec<TestTexts<'t>> {
    changes
        .iter()
        .filter(|c| {
            let (old, new) = facts_of(c);
            holds_tests(&c.path, &old, &new)
        })
        .map(|c| (c.path.as_str(), text(c.old), text(c.new)))
        .collect()
}

/// The words of the lines the commit adds to its tests (`carried.rs`).
fn added_to_tests<'t>(texts: &'t [TestTexts<'_>]) -> HashSet<&'t str> {
    carried::vocabulary(texts.iter().flat_map(|(_, old, new)| {
        new.as_deref()
            .map(|n| carried::added_lines(old.as_deref(), n))
            .unwrap_or_default()
    }))
}

/// The lost tests (file, name) whose checks reappear in `added`.
fn carried_tests(
    lost: &[(String, Vec<String>, bool)],
    texts: &[TestTexts<'_>],
    added: &HashSet<&str>,
) -> HashSet<(String, String)> {
    let mut out = HashSet::new();
    for (path, names, _) in lost {
        let Some((_, Some(old), new)) = texts.iter().find(|(p, _, _)| p == path) else {
            continue;
        };
        let parametrized = new
            .as_deref()
            .map(|new| carried::parametrized_tests(old, new))
            .unwrap_or_default();
        for name in names {
            if carried::is_carried(old, new.as_deref(), name, added)
                || carried::folded_into(name, &parametrized)
            {
                out.insert((path.clone(), name.clone()));
            }
        }
    }
    out
}

/// ASSERTION_REMOVED for a file whose tests stayed but hold `lost` fewer assertions: LOW when
/// the commit removes code (the checks of a feature removed, of deprecated code dropped) or
/// when what the file lost is written again in lines the commit adds to its tests (a reworded
/// assertion, values moved into a parametrize list, a check moved into a helper), which is
/// how most such commits read on real histories; MEDIUM otherwise.
fn assertions_lost(
    path: &str,
    lost: u32,
    deletes_code: bool,
    texts: &[TestTexts<'_>],
    added: &HashSet<&str>,
    settings: &GuardSettings,
    commit: &str,
) -> Finding {
    let rewritten = texts.iter().any(|(p, old, new)| {
        *p == path
            && old
                .as_deref()
                .zip(new.as_deref())
                .is_some_and(|(old, new)| carried::is_rewritten(old, new, added))
    });
    let plural = if lost == 1 { "" } else { "s" };
    // The title says what the commit did as far as it is known: "weakened" only when nothing
    // explains the loss (the agent reads the title first).
    let title = if deletes_code {
        "A test lost assertions with the code the commit removes"
    } else if rewritten {
        "A test's assertions were moved or reworded"
    } else {
        Rule::AssertionRemoved.title()
    };
    let (severity, detail) = if deletes_code {
        (
            settings.severity(Rule::AssertionRemoved).min(Severity::Low),
            format!(
                "the commit removes {lost} assertion{plural} from the file's tests while its tests \
                 stayed, with code it removes: check that the code that stays kept its checks"
            ),
        )
    } else if rewritten {
        (
            settings.severity(Rule::AssertionRemoved).min(Severity::Low),
            format!(
                "the commit removes {lost} assertion{plural} from the file's tests while its tests \
                 stayed, and what it removed reappears in lines it adds to the tests: check that \
                 they still assert it"
            ),
        )
    } else {
        (
            settings.severity(Rule::AssertionRemoved),
            format!(
                "the commit removes {lost} assertion{plural} from the file's tests while its tests stayed"
            ),
        )
    };
    let mut f = rules::finding(
        Rule::AssertionRemoved,
        severity,
        path,
        None,
        detail,
        None,
        commit,
    );
    if title != f.title {
        f.description = f.description.replacen(f.title.as_str(), title, 1);
        f.title = title.into();
    }
    f
}

/// One commit's comparison, file by file, and what it gathers for the whole commit (tests
/// lost and gained across files, pragmas added).
struct CommitScan<'a> {
    settings: &'a GuardSettings,
    at: CommitRef<'a>,
    out: Vec<Finding>,
    tally: TestTally,
    /// Pragmas the commit added: file, mark, rule.
    new_pragmas: Vec<(String, Mark, String)>,
    /// Tests each file lost: file, names, whether the file was deleted.
    removed_tests: Vec<(String, Vec<String>, bool)>,
    /// Tests gained anywhere, by name.
    added_tests: HashMap<String, usize>,
    /// Files whose tests stayed but lost assertions: file, how many.
    assertions_lost: Vec<(String, u32)>,
    /// Each file's pragmas after the commit.
    pragmas_by_file: HashMap<String, Vec<(Mark, String)>>,
}

impl CommitScan<'_> {
    fn emit_mark(&mut self, rule: Rule, path: &str, m: &Mark, detail: String) {
        let severity = self.settings.severity(rule);
        let f = rules::mark_finding(rule, severity, path, m, detail, self.at.id);
        self.out.push(f);
    }

    /// One file's versions compared.
    fn file(&mut self, c: &FileChange<'_>) {
        if c.kind == FileStatus::Deleted
            && (!is_code(&c.path) || lang::is_test_path(&c.path) || rules::is_vendored(&c.path))
        {
            self.tally.data_removed = self.tally.data_removed.saturating_add(1);
        }
        let (old, new) = facts_of(c);
        // Vendored code is someone else's: its tests, skips and stubs are not the agent's
        // shortcuts (a conflict there still breaks the build).
        let (old, new) = if rules::is_vendored(&c.path) {
            (conflicts_only(&old), conflicts_only(&new))
        } else {
            (old, new)
        };
        self.skips(&c.path, &old, &new);
        self.tests(c, &old, &new);
        if self.settings.on(Rule::AssertionRemoved) && c.kind != FileStatus::Deleted {
            self.assertions(&c.path, c.kind, &old, &new);
        }
        if self.settings.on(Rule::ConflictMarker) && !rules::is_example_path(&c.path) {
            self.conflicts(&c.path, &old, &new);
        }
        // In tests a method that does nothing is a test double (a subclass that silences
        // logging), not a stub where code should be.
        if self.settings.on(Rule::StubCode) && !lang::is_test_path(&c.path) {
            for m in added(&old.stubs, &new.stubs) {
                self.emit_mark(Rule::StubCode, &c.path, m, format!("`{}`", m.text));
            }
        }
        if self.settings.on(Rule::DebugLeftover) {
            for m in added(&old.debug, &new.debug) {
                self.emit_mark(Rule::DebugLeftover, &c.path, m, format!("`{}`", m.text));
            }
        }
        self.pragmas(&c.path, &old, &new);
    }

    /// Skip markers the file gained.
    fn skips(&mut self, path: &str, old: &Facts, new: &Facts) {
        let new_skips = added_skips(&old.skips, &new.skips);
        self.tally.skips_added = self
            .tally
            .skips_added
            .saturating_add(u32::try_from(new_skips.len()).unwrap_or(u32::MAX));
        if !self.settings.on(Rule::TestDisabled) {
            return;
        }
        // A condition (a platform, a missing tool) on a test the commit adds is how such a
        // test is written; an unconditional skip, or a new condition on a test that was
        // already there, is the shortcut.
        let on_new_test =
            |m: &Mark| m.conditional && m.test.as_ref().is_some_and(|t| !old.tests.contains(t));
        for m in new_skips {
            if !on_new_test(m) {
                self.emit_mark(Rule::TestDisabled, path, m, format!("`{}`", m.text));
            }
        }
    }

    /// What tests this file lost and gained (a move to another file is not a loss).
    fn tests(&mut self, c: &FileChange<'_>, old: &Facts, new: &Facts) {
        let mut before: HashMap<&str, usize> = HashMap::new();
        for t in &old.tests {
            *before.entry(t.as_str()).or_default() += 1;
        }
        for t in &new.tests {
            match before.get_mut(t.as_str()) {
                Some(n) if *n > 0 => *n -= 1,
                _ => *self.added_tests.entry(t.clone()).or_default() += 1,
            }
        }
        let mut lost: Vec<String> = before
            .into_iter()
            .flat_map(|(name, n)| std::iter::repeat_n(name.to_string(), n))
            .collect();
        lost.sort();
        if !lost.is_empty() {
            self.removed_tests
                .push((c.path.clone(), lost, c.kind == FileStatus::Deleted));
        }
    }

    /// Assertions the file's tests lost, commented out, or replaced by constant truths.
    fn assertions(&mut self, path: &str, kind: FileStatus, old: &Facts, new: &Facts) {
        let same_tests = new.tests.len() >= old.tests.len();
        // A new file (or a copy, a move git did not pair) comments out nothing that was
        // there: only an existing file's assertions can be.
        let commented = if kind == FileStatus::Added {
            Vec::new()
        } else {
            added(&old.commented_assertions, &new.commented_assertions)
        };
        // Those commented out are reported where they are, not counted again.
        let still_there = new.assertions + u32::try_from(commented.len()).unwrap_or(u32::MAX);
        if same_tests && still_there < old.assertions {
            // Judged with the commit's other test files, in `finish`.
            self.assertions_lost
                .push((path.to_string(), old.assertions - still_there));
        }
        for m in added(&old.constant_truths, &new.constant_truths) {
            let detail = format!("`{}` asserts a constant truth", m.text);
            self.emit_mark(Rule::AssertionRemoved, path, m, detail);
        }
        // One finding per file, at the first, however many a rewrite commented out.
        if let Some(first) = commented.first() {
            let detail = if commented.len() == 1 {
                format!("`{}` comments an assertion out", first.text)
            } else {
                let lines: Vec<String> = commented.iter().map(|m| m.line.to_string()).collect();
                format!(
                    "`{}` comments an assertion out, one of {} (lines {})",
                    first.text,
                    commented.len(),
                    lines.join(", ")
                )
            };
            self.emit_mark(Rule::AssertionRemoved, path, first, detail);
        }
    }

    /// Conflict blocks the commit added a line of, each reported once at its opening line.
    fn conflicts(&mut self, path: &str, old: &Facts, new: &Facts) {
        let new_markers = added(&old.conflicts, &new.conflicts);
        for block in conflict_blocks(&new.conflicts) {
            if block
                .iter()
                .any(|m| new_markers.iter().any(|n| n.line == m.line))
            {
                let lines: Vec<String> = block.iter().map(|m| m.line.to_string()).collect();
                let detail = format!(
                    "`{}` (markers on lines {})",
                    block[0].text,
                    lines.join(", ")
                );
                self.emit_mark(Rule::ConflictMarker, path, block[0], detail);
            }
        }
    }

    /// The pragmas the file gained, and all it holds after the commit.
    fn pragmas(&mut self, path: &str, old: &Facts, new: &Facts) {
        let old_marks: Vec<Mark> = old.pragmas.iter().map(|(m, _)| m.clone()).collect();
        let new_marks: Vec<Mark> = new.pragmas.iter().map(|(m, _)| m.clone()).collect();
        for m in added(&old_marks, &new_marks) {
            let rule = new
                .pragmas
                .iter()
                .find(|(p, _)| p.line == m.line)
                .map(|(_, r)| r.clone())
                .unwrap_or_default();
            self.new_pragmas.push((path.to_string(), m.clone(), rule));
        }
        self.pragmas_by_file
            .insert(path.to_string(), new.pragmas.clone());
    }

    /// The commit's tests deleted across its files, then pragmas: an added one is tampering;
    /// an old one that silenced a finding is reported LOW.
    fn finish(
        mut self,
        deletes_code: bool,
        changes: &[FileChange<'_>],
    ) -> (Vec<Finding>, TestTally) {
        let commit = self.at.id;
        let (lost, added) = net_losses(
            std::mem::take(&mut self.removed_tests),
            std::mem::take(&mut self.added_tests),
        );
        self.tally.removed =
            u32::try_from(lost.iter().map(|(_, l, _)| l.len()).sum::<usize>()).unwrap_or(u32::MAX);
        let texts = if lost.is_empty() && self.assertions_lost.is_empty() {
            Vec::new()
        } else {
            test_texts(changes)
        };
        let added_words = added_to_tests(&texts);
        if self.settings.on(Rule::AssertionRemoved) {
            for (path, n) in std::mem::take(&mut self.assertions_lost) {
                let finding = assertions_lost(
                    &path,
                    n,
                    deletes_code,
                    &texts,
                    &added_words,
                    self.settings,
                    commit,
                );
                self.out.push(finding);
            }
        }
        if self.settings.on(Rule::TestDeleted) {
            let carried = carried_tests(&lost, &texts, &added_words);
            let deleted = tests_deleted(lost, added, deletes_code, &carried, self.settings, commit);
            self.out.extend(deleted);
        }
        let mut kept = Vec::with_capacity(self.out.len());
        for f in std::mem::take(&mut self.out) {
            match self.silenced_by(&f) {
                Some(pragma_line) => {
                    // A root commit's pragmas are reported like old ones: there was nothing
                    // to tamper with.
                    let is_new = !self.at.root
                        && self
                            .new_pragmas
                            .iter()
                            .any(|(p, m, _)| Some(p) == f.file.as_ref() && m.line == pragma_line);
                    if !is_new {
                        kept.push(rules::suppressed(&f, pragma_line, commit));
                    }
                }
                None => kept.push(f),
            }
        }
        if self.settings.on(Rule::SupervisionTampering) && !self.at.root {
            for (path, mark, rule) in &self.new_pragmas {
                kept.push(rules::mark_finding(
                    Rule::SupervisionTampering,
                    Severity::Critical,
                    path,
                    mark,
                    pragma_detail(rule),
                    commit,
                ));
            }
        }
        for f in &mut kept {
            f.location = Location::Introduced;
        }
        (kept, self.tally)
    }

    /// The line of the pragma that silences `f`, on its line or the one above.
    fn silenced_by(&self, f: &Finding) -> Option<u32> {
        let (file, line) = f.file.as_ref().zip(f.line)?;
        self.pragmas_by_file.get(file).and_then(|ps| {
            ps.iter()
                .find(|(m, rule)| {
                    (m.line == line || m.line + 1 == line) && rule.eq_ignore_ascii_case(&f.rule)
                })
                .map(|(m, _)| m.line)
        })
    }
}

/// What the guards find in `path` as it stands in `commit` (all of `content`, as though the
/// file were new there). The guards report what a commit adds; this tells whether an open
/// issue's condition still stands after a commit changed its file (a reworded skip, an edit
/// elsewhere in the file), since the issue's identity is the same either way.
pub fn standing(
    path: &str,
    content: &[u8],
    settings: &GuardSettings,
    commit: &str,
) -> Vec<Finding> {
    let whole = FileChange {
        path: path.to_string(),
        old_path: None,
        kind: FileStatus::Added,
        old: None,
        new: Some(content),
        new_size: content.len() as u64,
        old_size: 0,
        hunks: None,
        known: None,
    };
    check_commit(
        std::slice::from_ref(&whole),
        settings,
        CommitRef {
            id: commit,
            root: false,
            ci_elsewhere: None,
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> GuardSettings {
        GuardSettings {
            enabled: true,
            disabled: Vec::new(),
            severity: BTreeMap::new(),
            large_file: 5_000_000,
            asset_folders: vec!["assets".into()],
            supervision_paths: vec!["auditor.toml".into(), "tasks/supervisor_feedback".into()],
            test_runners: vec!["tests/run_tests.sh".into()],
        }
    }

    fn modified<'a>(path: &str, old: &'a str, new: &'a str) -> FileChange<'a> {
        FileChange {
            path: path.into(),
            old_path: None,
            kind: FileStatus::Modified,
            old: Some(old.as_bytes()),
            new: Some(new.as_bytes()),
            new_size: new.len() as u64,
            old_size: old.len() as u64,
            hunks: None,
            known: None,
        }
    }

    fn added_file<'a>(path: &str, new: &'a [u8]) -> FileChange<'a> {
        FileChange {
            path: path.into(),
            old_path: None,
            kind: FileStatus::Added,
            old: None,
            new: Some(new),
            new_size: new.len() as u64,
            old_size: 0,
            hunks: None,
            known: None,
        }
    }

    fn deleted_file<'a>(path: &str, old: &'a str) -> FileChange<'a> {
        FileChange {
            path: path.into(),
            old_path: None,
            kind: FileStatus::Deleted,
            old: Some(old.as_bytes()),
            new: None,
            new_size: 0,
            old_size: old.len() as u64,
            hunks: None,
            known: None,
        }
    }

    fn rules(findings: &[Finding]) -> Vec<&str> {
        findings.iter().map(|f| f.rule.as_str()).collect()
    }

    fn run(changes: &[FileChange<'_>]) -> Vec<Finding> {
        check_commit(
            changes,
            &settings(),
            CommitRef {
                id: "c0ffee",
                root: false,
                ci_elsewhere: None,
            },
        )
    }

    #[test]
    fn test_disabled_fires_on_added_markers_only() {
        // Positives, one per language.
        let cases = [
            (
                "src/lib.rs",
                "#[cfg(test)]\nmod t {\n#[test]\nfn a() {}\n}\n",
                concat!(
                    "#[cfg(test)]\nmod t {\n#[test]\n",
                    "#[ig",
                    "nore]\nfn a() {}\n}\n"
                ),
            ),
            (
                "tests/test_a.py",
                "def test_a():\n    assert f()\n",
                "@pytest.mark.skip\ndef test_a():\n    assert f()\n",
            ),
            (
                "tests/test_a.py",
                "def test_a():\n    assert f()\n",
                "@pytest.mark.xfail\ndef test_a():\n    assert f()\n",
            ),
            (
                "web/a.test.ts",
                "it('a', () => {})\n",
                "it.skip('a', () => {})\n",
            ),
            (
                "web/a.test.ts",
                "describe('s', () => {})\n",
                "describe.only('s', () => {})\n",
            ),
            (
                "pkg/a_test.go",
                "func TestA(t *testing.T) {\n}\n",
                "func TestA(t *testing.T) {\n\tt.Skip(\"x\")\n}\n",
            ),
            (
                "src/test/java/ATest.java",
                "@Test\nvoid a() {}\n",
                "@Disabled\n@Test\nvoid a() {}\n",
            ),
        ];
        for (path, old, new) in cases {
            let f = run(&[modified(path, old, new)]);
            assert_eq!(rules(&f), ["TEST_DISABLED"], "{path}: {new}");
            assert_eq!(f[0].severity, Severity::High);
        }
        // Negatives: already there, in a string, in a comment, a look-alike.
        let negatives = [
            (
                "src/lib.rs",
                concat!("#[test]\n", "#[ig", "nore]\nfn a() {}\n"),
                concat!("#[test]\n", "#[ig", "nore]\nfn a() { let x = 1; }\n"),
            ),
            (
                "web/a.test.ts",
                "it('a', () => {})\n",
                "it('a', () => { const s = \"it.skip(\" })\n",
            ),
            (
                "tests/test_a.py",
                "def test_a():\n    pass\n",
                "def test_a():\n    # pytest.skip( later\n    pass\n",
            ),
            (
                "web/a.test.js",
                "it('a', () => {})\n",
                "it('a', () => { process.exit(0) })\n",
            ),
        ];
        for (path, old, new) in negatives {
            assert!(run(&[modified(path, old, new)]).is_empty(), "{path}: {new}");
        }
    }

    #[test]
    fn test_deleted_counts_what_is_lost_not_what_moved() {
        let old = "def test_a():\n    assert 1\n\ndef test_b():\n    assert 2\n";
        let deleted = deleted_file("tests/test_x.py", old);
        let f = run(std::slice::from_ref(&deleted));
        assert_eq!(rules(&f), ["TEST_DELETED"]);
        assert!(
            f[0].description
                .contains("held 2 tests (`test_a`, `test_b`)"),
            "{}",
            f[0].description
        );
        // Moved to another file in the same commit: nothing lost.
        let moved = added_file("tests/test_y.py", old.as_bytes());
        assert!(run(&[deleted.clone(), moved]).is_empty());
        // A renamed file is not a deleted one.
        let renamed = FileChange {
            path: "tests/test_z.py".into(),
            old_path: Some("tests/test_x.py".into()),
            kind: FileStatus::Renamed,
            old: Some(old.as_bytes()),
            new: Some(old.as_bytes()),
            new_size: old.len() as u64,
            old_size: old.len() as u64,
            hunks: None,
            known: None,
        };
        assert!(run(&[renamed]).is_empty());
        // A test renamed in place is not lost.
        assert!(
            run(&[modified(
                "tests/api.rs",
                "#[test]\nfn a() {}\n",
                "#[test]\nfn a_renamed() {}\n"
            )])
            .is_empty()
        );
        // One test function removed from a Rust test module.
        let f = run(&[modified(
            "tests/api.rs",
            "#[test]\nfn a() {}\n#[test]\nfn b() {}\n",
            "#[test]\nfn a() {}\n",
        )]);
        assert_eq!(rules(&f), ["TEST_DELETED"]);
        assert!(f[0].description.contains("`b`"));
        assert_eq!(f[0].severity, Severity::High);
        // Vendored code's tests are someone else's.
        let vendored = FileChange {
            path: "plugins/apps/vendor/github.com/x/y/y_test.go".into(),
            old: Some(b"package y\n\nfunc TestY(t *testing.T) {\n}\n".as_slice()),
            ..deleted.clone()
        };
        assert!(run(&[vendored]).is_empty());
        // Tests that go with the code they test: a feature removed, MEDIUM.
        let code = FileChange {
            path: "src/x.py".into(),
            old: Some(b"def x():\n    return 1\n".as_slice()),
            ..deleted.clone()
        };
        let f = run(&[deleted.clone(), code]);
        assert_eq!(rules(&f), ["TEST_DELETED"]);
        assert_eq!(f[0].severity, Severity::Medium);
        assert!(
            f[0].description.contains("with code the commit removes"),
            "{}",
            f[0].description
        );
        // An API removed from a file that stays, with its tests.
        let shrunk = FileChange {
            old_size: 600,
            new_size: 30,
            ..modified("lib/api.py", "", "")
        };
        let f = run(&[deleted.clone(), shrunk]);
        assert_eq!(f[0].severity, Severity::Medium, "{f:?}");
        // Five removed, three redesigned ones added: two fewer, said as it is, MEDIUM.
        let five = "def test_a():\n    assert 1\ndef test_b():\n    assert 1\ndef test_c():\n    assert 1\ndef test_d():\n    assert 1\ndef test_e():\n    assert 1\n";
        let three = "def test_parse():\n    assert 1\ndef test_render():\n    assert 1\ndef test_errors():\n    assert 1\n";
        let f = run(&[modified("tests/test_x.py", five, three)]);
        assert_eq!(rules(&f), ["TEST_DELETED"]);
        assert_eq!(f[0].severity, Severity::Medium);
        assert!(
            f[0].description
                .contains("2 tests fewer and adds 3 new ones")
                && !f[0].description.contains("adds none"),
            "{}",
            f[0].description
        );
    }

    #[test]
    fn a_context_manager_that_asserts_is_an_assertion() {
        let old = "def test_warns():\n    f()\n    assert len(w) == 1\n    assert w[0].category is UserWarning\n    assert 'x' in str(w[0])\n";
        let new =
            "def test_warns():\n    with pytest.warns(UserWarning, match='x'):\n        f()\n";
        let f = run(&[modified("tests/test_w.py", old, new)]);
        // Three asserts became one that checks the same: two fewer, not three.
        assert!(
            f.iter().all(|f| !f.description.contains("3 assertions")),
            "{f:?}"
        );
        let same = "def test_warns():\n    with pytest.warns(UserWarning):\n        f()\n";
        let one = "def test_warns():\n    f()\n    assert caught(UserWarning)\n";
        assert!(run(&[modified("tests/test_w.py", one, same)]).is_empty());
    }

    #[test]
    fn assertions_weakened() {
        let f = run(&[modified(
            "tests/test_a.py",
            "def test_a():\n    assert f() == 2\n",
            "def test_a():\n    assert True\n",
        )]);
        assert!(rules(&f).contains(&"ASSERTION_REMOVED"), "{f:?}");
        let f = run(&[modified(
            "web/a.test.js",
            "it('a', () => { expect(f()).toBe(2) })\n",
            "it('a', () => { expect(true).toBe(true) })\n",
        )]);
        assert!(rules(&f).contains(&"ASSERTION_REMOVED"));
        let f = run(&[modified(
            "tests/t.rs",
            "#[test]\nfn a() {\n assert_eq!(f(), 1);\n assert!(g());\n}\n",
            "#[test]\nfn a() {\n assert_eq!(f(), 1);\n}\n",
        )]);
        assert_eq!(rules(&f), ["ASSERTION_REMOVED"]);
        assert_eq!(f[0].severity, Severity::Medium, "{f:?}");
        assert_eq!(f[0].title, "A test's assertions were weakened");
        // With code the commit removes (express 8e058f16 "Removed `app.error()`"), the checks
        // of what went: LOW.
        let with_code = run(&[
            modified(
                "tests/t.rs",
                "#[test]\nfn a() {\n assert_eq!(f(), 1);\n assert!(g());\n}\n",
                "#[test]\nfn a() {\n assert_eq!(f(), 1);\n}\n",
            ),
            modified(
                "src/lib.rs",
                "pub fn f() -> u8 { 1 }\npub fn g() -> bool { true }\n",
                "pub fn f() -> u8 { 1 }\n",
            ),
        ]);
        assert_eq!(rules(&with_code), ["ASSERTION_REMOVED"]);
        assert_eq!(with_code[0].severity, Severity::Low, "{with_code:?}");
        // Its title says what is known, not "weakened".
        let title = &with_code[0].title;
        assert_eq!(
            title,
            "A test lost assertions with the code the commit removes"
        );
        assert!(with_code[0].description.starts_with(title.as_str()));
        // More assertions is fine.
        assert!(
            run(&[modified(
                "tests/t.rs",
                "#[test]\nfn a() {\n assert!(g());\n}\n",
                "#[test]\nfn a() {\n assert!(g());\n assert!(h());\n}\n"
            )])
            .is_empty()
        );
    }

    #[test]
    fn content_rules() {
        let f = run(&[modified(
            "src/a.rs",
            "fn a() {}\n",
            "<<<<<<< HEAD\nfn a() {}\n=======\nfn b() {}\n>>>>>>> x\n",
        )]);
        // One conflict, one finding, at its opening line.
        assert_eq!(rules(&f), ["CONFLICT_MARKER"]);
        assert_eq!(f[0].line, Some(1));
        assert!(
            f[0].description.contains("lines 1, 3, 5"),
            "{}",
            f[0].description
        );
        // A Markdown setext heading is no conflict.
        assert!(run(&[modified("README.md", "x\n", "Title\n=======\n")]).is_empty());
        // What a half-resolved conflict leaves is one too.
        let half = "/**\n<<<<<<< HEAD\n * one\n=======\n * two\n */\n";
        let f = run(&[modified("lib/http.js", "x\n", half)]);
        assert_eq!(rules(&f), ["CONFLICT_MARKER"]);
        assert!(
            f[0].description.contains("lines 2, 4"),
            "{}",
            f[0].description
        );
        // Documentation explaining conflicts and tests expecting them show examples.
        let block = "<<<<<<< yours:sample.txt\nA\n=======\nB\n>>>>>>> theirs:sample.txt\n";
        for path in [
            "Documentation/git-merge.adoc",
            "docs/merging.md",
            "t/t6022-merge-rename.sh",
            "tests/apps/procfile-bad/Procfile",
            "pkg/merge/testdata/conflict.go",
        ] {
            assert!(run(&[modified(path, "x\n", block)]).is_empty(), "{path}");
        }
        for path in ["Makefile", "requirements.txt", "templates/index.html"] {
            assert_eq!(
                rules(&run(&[modified(path, "x\n", block)])),
                ["CONFLICT_MARKER"],
                "{path}"
            );
        }
        let f = run(&[modified(
            "src/a.rs",
            "fn a() -> u32 { 1 }\n",
            concat!("fn a() -> u32 { ", "to", "do!() }\n"),
        )]);
        assert_eq!(rules(&f), ["STUB_CODE"]);
        // Stubs in tests are not flagged, in an old-style `testsuite/` package either (flask
        // 88617311: a subclass that silences `log_exception`).
        assert!(
            run(&[modified(
                "flask/testsuite/subclassing.py",
                "class A:\n    def log_exception(self, exc_info):\n        log(exc_info)\n",
                "class A:\n    def log_exception(self, exc_info):\n        pass\n",
            )])
            .is_empty()
        );
        assert!(
            run(&[modified(
                "tests/a.rs",
                "fn a() {}\n",
                concat!("fn a() { ", "to", "do!() }\n")
            )])
            .is_empty()
        );
        let f = run(&[modified(
            "src/util.rs",
            "fn a() {}\n",
            "fn a() { dbg!(1); }\n",
        )]);
        assert_eq!(rules(&f), ["DEBUG_LEFTOVER"]);
        assert_eq!(f[0].severity, Severity::Low);
    }

    #[test]
    fn file_rules() {
        for path in [
            ".env",
            "config/id_rsa",
            "secrets/credentials.json",
            "infra/terraform.tfstate",
        ] {
            assert_eq!(
                rules(&run(&[added_file(path, b"x")])),
                ["SENSITIVE_FILE"],
                "{path}"
            );
        }
        for path in [".env.example", "docs/id_rsa.pub", "src/pem.rs"] {
            assert!(run(&[added_file(path, b"x")]).is_empty(), "{path}");
        }
        // A PEM file is a key only when a private key is in it: certificates, CA bundles and
        // Diffie-Hellman parameters are public.
        let key = concat!("-----BEGIN RSA PRI", "VATE KEY-----\nMIIB\n").as_bytes();
        assert_eq!(
            rules(&run(&[added_file("certs/server.pem", key)])),
            ["SENSITIVE_FILE"]
        );
        assert_eq!(
            rules(&run(&[added_file("certs/server.key", key)])),
            ["SENSITIVE_FILE"]
        );
        for (path, content) in [
            ("tests/dhparam.pem", "-----BEGIN DH PARAMETERS-----\nMIIB\n"),
            ("certs/ca-bundle.crt", "-----BEGIN CERTIFICATE-----\nMIIB\n"),
            ("certs/server.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n"),
        ] {
            assert!(
                run(&[added_file(path, content.as_bytes())]).is_empty(),
                "{path}"
            );
        }
        // A key among the tests is most likely a test key: MEDIUM.
        let f = run(&[added_file("test/ssl/ca.key", key)]);
        assert_eq!(rules(&f), ["SENSITIVE_FILE"]);
        assert_eq!(f[0].severity, Severity::Medium);
        // An environment file among test fixtures is a fixture.
        for path in [
            "tests/apps/dockerfile/.env",
            "pkg/testdata/.env",
            "fixtures/.env.test",
        ] {
            assert!(run(&[added_file(path, b"A=1\n")]).is_empty(), "{path}");
        }
        assert_eq!(
            rules(&run(&[added_file(
                ".npmrc",
                b"//registry.npmjs.org/:_authToken=abc\n"
            )])),
            ["SENSITIVE_FILE"]
        );
        assert!(run(&[added_file(".npmrc", b"save-exact=true\n")]).is_empty());
        let big = vec![b'a'; 6_000_000];
        assert_eq!(
            rules(&run(&[added_file("data/dump.csv", &big)])),
            ["LARGE_FILE"]
        );
        assert!(run(&[added_file("assets/video.csv", &big)]).is_empty());
        // Asset folders count wherever they are in the path; a folder merely named like one
        // does not.
        let blob = b"\x00\x01binary\x00";
        assert!(run(&[added_file("web/assets/model.bin", blob)]).is_empty());
        assert_eq!(
            rules(&run(&[added_file("assets.bin", blob)])),
            ["LARGE_FILE"]
        );
        assert_eq!(
            rules(&run(&[added_file("src/assetsx/model.bin", blob)])),
            ["LARGE_FILE"]
        );
        // Images, icons and fonts are assets wherever they are (git's `gitweb/git-logo.png`,
        // `git-gui/lib/git-gui.ico`, flask's `website/logo.png`); only their size is judged.
        let png = b"\x89PNG\r\n\x1a\n\0\0";
        for path in ["gitweb/git-logo.png", "lib/git-gui.ico", "website/ship.PNG"] {
            assert!(run(&[added_file(path, png)]).is_empty(), "{path}");
        }
        assert_eq!(
            rules(&run(&[added_file("website/huge.png", &big)])),
            ["LARGE_FILE"]
        );
        // A Finder's `.DS_Store` is no asset.
        assert_eq!(
            rules(&run(&[added_file(".DS_Store", b"\0\0\0\x01Bud1\0")])),
            ["LARGE_FILE"]
        );
        assert_eq!(
            rules(&run(&[added_file("bin/tool", b"\x7fELF\0\0\x01")])),
            ["LARGE_FILE"]
        );
        // A small binary among the tests is test data; a large one is still too large.
        let zst = b"\x28\xb5\x2f\xfd\0\0";
        assert!(run(&[added_file("tests/data/sherlock.zst", zst)]).is_empty());
        assert!(run(&[added_file("t/t1013/objects/9a/e9e86b", zst)]).is_empty());
        assert_eq!(
            rules(&run(&[added_file("tests/data/huge.bin", &big)])),
            ["LARGE_FILE"]
        );
    }

    #[test]
    fn supervision_tampering() {
        let f = run(&[modified(
            "auditor.toml",
            "[policy]\nfail_on = \"HIGH\"\n",
            "[policy]\nfail_on = \"CRITICAL\"\n",
        )]);
        assert_eq!(rules(&f), ["SUPERVISION_TAMPERING"]);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(
            f[0].snippet
                .as_deref()
                .is_some_and(|s| s.contains("+fail_on = \"CRITICAL\""))
        );
        let f = run(&[modified(
            ".github/workflows/ci.yml",
            "run: make test\n",
            "run: true\n",
        )]);
        assert_eq!(f[0].severity, Severity::High);
        let f = run(&[modified("tests/run_tests.sh", "cargo test\n", "exit 0\n")]);
        assert_eq!(rules(&f), ["SUPERVISION_TAMPERING"]);
        let f = run(&[modified(
            "pyproject.toml",
            "[tool.coverage.report]\nfail_under = 90\n",
            "[tool.coverage.report]\nfail_under = 50\n",
        )]);
        assert_eq!(rules(&f), ["SUPERVISION_TAMPERING"]);
        assert!(f[0].description.contains("from 90 to 50"));
        // Raising a threshold is fine.
        assert!(
            run(&[modified(
                "pyproject.toml",
                "fail_under = 50\n",
                "fail_under = 90\n"
            )])
            .is_empty()
        );
    }

    #[test]
    fn a_condition_on_a_new_test_is_no_shortcut_but_on_an_old_one_it_is() {
        let py_old = "import pytest\n\ndef test_old():\n    assert f()\n";
        let skipif = "@pytest.mark.skipif(WIN, reason=\"no cat on Windows\")\n";
        let new_test = format!("{py_old}\n{skipif}def test_new():\n    assert g()\n");
        assert!(run(&[modified("tests/test_a.py", py_old, &new_test)]).is_empty());
        let old_test = format!("import pytest\n\n{skipif}def test_old():\n    assert f()\n");
        assert_eq!(
            rules(&run(&[modified("tests/test_a.py", py_old, &old_test)])),
            ["TEST_DISABLED"]
        );
        // Unconditional on a new test: still the shortcut.
        let skipped = format!("{py_old}\n@pytest.mark.skip\ndef test_new():\n    assert g()\n");
        assert_eq!(
            rules(&run(&[modified("tests/test_a.py", py_old, &skipped)])),
            ["TEST_DISABLED"]
        );
        // A skip under a platform check in a new Go test.
        let go_old = "package a\n\nfunc TestOld(t *testing.T) {\n}\n";
        let go_new = format!(
            "{go_old}\nfunc TestNew(t *testing.T) {{\n\tif runtime.GOOS == \"windows\" {{\n\t\tt.Skip(\"no\")\n\t}}\n}}\n"
        );
        assert!(run(&[modified("pkg/a_test.go", go_old, &go_new)]).is_empty());
        // The same condition on an old test and on a new one: the new one gained it.
        let two_old = format!("import pytest\n\n{skipif}def test_old():\n    assert f()\n");
        let two_new = format!("{two_old}\n{skipif}def test_new():\n    assert g()\n");
        assert!(run(&[modified("tests/test_a.py", &two_old, &two_new)]).is_empty());
        // A formatter's quotes change no mark.
        let single = two_old.replace('"', "'");
        assert!(run(&[modified("tests/test_a.py", &single, &two_old)]).is_empty());
        // A test's condition reworded (pallets/click a1d87858): nothing newly disabled; made
        // unconditional, it is.
        let spelled = two_old.replace("WIN", "platform.system() == \"Windows\"");
        assert!(run(&[modified("tests/test_a.py", &spelled, &two_old)]).is_empty());
        let always = two_old.replace("@pytest.mark.skipif(WIN, ", "@pytest.mark.skip(");
        assert_eq!(
            rules(&run(&[modified("tests/test_a.py", &spelled, &always)])),
            ["TEST_DISABLED"]
        );
        // cfg_attr on a new Rust test; a bare one on it is reported.
        let rs_old = "#[cfg(test)]\nmod t {\n    #[test]\n    fn old() {}\n}\n";
        let ignore = concat!("ig", "nore");
        let rs_new = format!(
            "#[cfg(test)]\nmod t {{\n    #[test]\n    fn old() {{}}\n    #[test]\n    #[cfg_attr(windows, {ignore})]\n    fn new() {{}}\n}}\n"
        );
        assert!(run(&[modified("src/lib.rs", rs_old, &rs_new)]).is_empty());
        let rs_bare = format!(
            "#[cfg(test)]\nmod t {{\n    #[test]\n    fn old() {{}}\n    #[test]\n    #[{ignore}]\n    fn new() {{}}\n}}\n"
        );
        assert_eq!(
            rules(&run(&[modified("src/lib.rs", rs_old, &rs_bare)])),
            ["TEST_DISABLED"]
        );
    }

    /// express 7f253280 "Remove req.acceptsCharset": three lines of code and the file of its
    /// tests go together. A feature removed, not a shortcut: MEDIUM, not HIGH.
    #[test]
    fn tests_deleted_with_a_small_feature_removal_are_medium() {
        let lib = "req.get = function(name) { return this.headers[name]; };\n";
        let with = format!(
            "{lib}req.acceptsCharset = function(c) {{\n  return accepts(this).charset(c);\n}};\n"
        );
        let tests =
            "it('should return true', function () {\n  assert(req.acceptsCharset('utf-8'));\n});\n";
        let f = run(&[
            modified("lib/request.js", &with, lib),
            deleted_file("test/req.acceptsCharset.js", tests),
        ]);
        assert_eq!(rules(&f), ["TEST_DELETED"], "{f:?}");
        assert_eq!(f[0].severity, Severity::Medium, "{f:?}");
        // With no code removed it is the shortcut.
        let f = run(&[deleted_file("test/req.acceptsCharset.js", tests)]);
        assert_eq!(f[0].severity, Severity::High, "{f:?}");
    }

    /// flask 1e5dd430: a test removed from one file whose check the commit writes into a test
    /// of another file is carried (MEDIUM); a test removed with nothing like it added, or with
    /// only what every test of the file uses, is the shortcut (HIGH).
    #[test]
    fn a_test_whose_checks_the_commit_writes_again_is_medium() {
        let basic = carried::FLASK_BASIC;
        let kept = &basic.replace(carried::FLASK_UNKNOWN_CODE, "");
        let handler_old = "def test_error_handler_no_match(app, client):\n    pass\n";
        let handler_new = "\
def test_error_handler_no_match(app, client):
    with pytest.raises(ValueError) as exc_info:
        app.register_error_handler(999, None)
    assert \"Use a subclass of HTTPException\" in str(exc_info.value)
";
        let f = run(&[
            modified("tests/test_basic.py", basic, kept),
            modified("tests/test_user_error_handler.py", handler_old, handler_new),
        ]);
        assert_eq!(rules(&f), ["TEST_DELETED"], "{f:?}");
        assert_eq!(f[0].severity, Severity::Medium, "{f:?}");
        assert!(f[0].description.contains("reappears"), "{f:?}");
        let generic = "def test_error_handler_no_match(app, client):\n    rv = client.get(\"/x\")\n    assert rv.data\n";
        for other in [handler_old, generic] {
            let f = run(&[
                modified("tests/test_basic.py", basic, kept),
                modified("tests/test_user_error_handler.py", handler_old, other),
            ]);
            assert_eq!(f[0].severity, Severity::High, "{f:?}");
        }
    }

    #[test]
    fn an_assertion_commented_out_is_assertion_removed() {
        let old = "it('sets', function () {\n  assert.length(res.headers['set-cookie'], 1);\n});\n";
        let new =
            "it('sets', function () {\n  //assert.length(res.headers['set-cookie'], 1);\n});\n";
        let f = run(&[modified("test/response.test.js", old, new)]);
        let commented: Vec<&Finding> = f
            .iter()
            .filter(|f| f.description.contains("comments an assertion out"))
            .collect();
        assert_eq!((commented.len(), f.len()), (1, 1), "{f:?}");
        assert_eq!(commented[0].rule, "ASSERTION_REMOVED");
        assert_eq!(commented[0].line, Some(2));
        // One already commented out is not the commit's.
        assert!(run(&[modified("test/response.test.js", new, new)]).is_empty());
        // A new file's commented assertions were never live.
        assert!(run(&[added_file("test/new.test.js", new.as_bytes())]).is_empty());
        // A rewrite that comments out many is one finding naming them all.
        let old =
            "fn t() {\n    assert_eq!(a(), 1);\n    assert_eq!(b(), 2);\n    assert!(c());\n}\n";
        let new = "fn t() {\n    // assert_eq!(a(), 1);\n    // assert_eq!(b(), 2);\n    // assert!(c());\n}\n";
        let f = run(&[modified("tests/flags.rs", old, new)]);
        assert_eq!(f.len(), 1, "{f:?}");
        assert!(
            f[0].description.contains("one of 3 (lines 2, 3, 4)"),
            "{}",
            f[0].description
        );
    }

    #[test]
    fn a_ci_change_is_high_only_when_it_weakens_a_check() {
        let ci = |old: &str, new: &str| {
            let f = run(&[modified(".github/workflows/test.yml", old, new)]);
            assert_eq!(rules(&f), ["SUPERVISION_TAMPERING"], "{new}");
            (f[0].severity, f[0].remediation.clone())
        };
        // A dependency bot's bump of pinned actions: LOW, and nothing to revert.
        let (severity, remediation) = ci(
            "    - uses: actions/checkout@b4ffde65f46336ab88eb53be808477a3936bae11 # v4.1.1\n    - uses: actions/setup-python@v4\n      with:\n        python-version: '3.11'\n",
            "    - uses: actions/checkout@11bd71901bbe5b1630ceea73d27597364c9af683 # v4.2.2\n    - uses: actions/setup-python@v5\n      with:\n        python-version: '3.12'\n",
        );
        assert_eq!(severity, Severity::Low);
        assert!(!remediation.contains("Revert"), "{remediation}");
        // Another platform, a version bumped, an install step or a cache changed: every check,
        // trigger, version and platform is still there (most CI edits on real histories).
        let one = "    runs-on: ubuntu-latest\n    steps:\n      - run: go test ./...\n";
        let two = "    runs-on: ${{ matrix.os }}\n    strategy:\n      matrix:\n        os: [ubuntu-latest, macos-latest]\n    steps:\n      - run: go test ./...\n";
        assert_eq!(ci(one, two).0, Severity::Low);
        let pythons = "    strategy:\n      matrix:\n        python: ['3.10', '3.11']\n    runs-on: ubuntu-20.04\n    steps:\n      - run: pip install -e .\n      - run: pytest\n";
        let bumped = pythons
            .replace("'3.11'", "'3.12'")
            .replace("20.04", "22.04")
            .replace("pip install -e .", "pip install -e '.[test]'");
        let (severity, remediation) = ci(pythons, &bumped);
        assert_eq!(severity, Severity::Low);
        assert!(remediation.contains("not what it checks"), "{remediation}");
        // Fewer versions or platforms, a tox environment dropped: worth a look.
        let fewer = pythons.replace("['3.10', '3.11']", "['3.11']");
        let (f, _) = (
            run(&[modified(".github/workflows/test.yml", pythons, &fewer)]),
            (),
        );
        assert_eq!(f[0].severity, Severity::Medium, "{f:?}");
        assert!(
            f[0].description.contains("`3.10` gone"),
            "{}",
            f[0].description
        );
        let os = two.replace("[ubuntu-latest, macos-latest]", "[ubuntu-latest]");
        assert_eq!(ci(two, &os).0, Severity::Medium);
        // A version written shorter is still run (express 4cf7eed9: `"1.8"` into `"1"`).
        let node = "    strategy:\n      matrix:\n        include:\n          - node-version: \"1.8\"\n          - node-version: \"2.5\"\n    steps:\n      - run: npm test\n";
        let majors = node.replace("1.8", "1").replace("2.5", "2");
        assert_eq!(ci(node, &majors).0, Severity::Low);
        // Triggers: a branch renamed, more branches, the same events written as a list, or
        // a condition on a step that checks nothing narrow nothing (vault-helm b69e3d92,
        // stripe-node 15df8baa, vault-helm 8a6872e3, express 6c98f80b).
        let on = "on:\n  push:\n    branches: [ master, beta ]\n  pull_request:\njobs:\n  t:\n    steps:\n      - name: cache\n        run: echo warm\n      - run: npm test\n";
        let renamed = on.replace("[ master, beta ]", "[ main, beta ]");
        let more = on.replace(
            "    branches: [ master, beta ]\n",
            "    branches:\n      - master\n      - beta\n      - feature/**\n",
        );
        let listed = on.replace(
            "on:\n  push:\n    branches: [ master, beta ]\n  pull_request:\n",
            "on: [push, pull_request]\n",
        );
        let cache_if = on.replace(
            "        run: echo warm\n",
            "        if: runner.os == 'Linux'\n        run: echo warm\n",
        );
        for edited in [renamed, more, listed, cache_if] {
            assert_eq!(ci(on, &edited).0, Severity::Low, "{edited}");
        }
        // Keys named like filters elsewhere (CircleCI's `persist_to_workspace: paths:`, a
        // matrix value `- tags`), a new job that is started by hand, tox's `py311` for
        // `3.11`, an address: no narrowing (dokku c9e24a05, 5fd04001, git f49905d4, click
        // 525c5f1f, dokku a7465f9d).
        let circle = "jobs:\n  build:\n    steps:\n      - run: make test\n";
        let workspace = circle.replace(
            "      - run: make test\n",
            "      - run: make test\n      - persist_to_workspace:\n          root: .\n          paths:\n            - build\n",
        );
        let items = "    strategy:\n      matrix:\n        index:\n          - apps\n    steps:\n      - run: make test\n";
        let tags = items.replace("          - apps\n", "          - apps\n          - tags\n");
        let manual_job =
            format!("{circle}  windows:\n    when: manual\n    script:\n      - meson test\n");
        let tox_old = "      matrix:\n        include:\n          - {python: '3.11', tox: py311}\n          - {python: '3.10', tox: py310}\n    steps:\n      - run: tox -e ${{ matrix.tox }}\n      - run: ip a a 10.0.0.2/24 broadcast 10.0.0.255\n";
        let tox_new = "      matrix:\n        include:\n          - {python: '3.11'}\n          - {python: '3.10'}\n    steps:\n      - run: tox -e ${{ matrix.tox }}\n      - run: ip a a 10.0.0.2/24\n";
        for (old, new) in [
            (circle, workspace.as_str()),
            (items, tags.as_str()),
            (circle, manual_job.as_str()),
            (tox_old, tox_new),
        ] {
            assert_eq!(ci(old, new).0, Severity::Low, "{new}");
        }
        // A job that was there, now started by hand: MEDIUM.
        let gitlab = "test:\n  script:\n    - meson test\n";
        let by_hand = gitlab.replace("test:\n", "test:\n  when: manual\n");
        assert_eq!(
            run(&[modified(".gitlab-ci.yml", gitlab, &by_hand)])[0].severity,
            Severity::Medium
        );
        // An event dropped, a filter added, a condition on a step that runs a check: MEDIUM.
        let no_pr = on.replace("  pull_request:\n", "");
        let ignored = on.replace(
            "  pull_request:\n",
            "  pull_request:\n    paths-ignore: ['src/**']\n",
        );
        let test_if = on.replace(
            "      - run: npm test\n",
            "      - run: npm test\n        if: github.event_name == 'push'\n",
        );
        for (edited, says) in [
            (no_pr, "no longer runs on `pull_request`"),
            (ignored, "adds a filter"),
            (test_if, "adds a condition"),
        ] {
            let f = run(&[modified(".github/workflows/test.yml", on, &edited)]);
            assert_eq!(f[0].severity, Severity::Medium, "{edited}");
            assert!(f[0].description.contains(says), "{}", f[0].description);
        }
        // flask 19a0db6d: a tox environment dropped from a matrix row.
        let envs = "      matrix:\n        include:\n          - {name: Range, python: '3.8', tox: 'devel,lowest'}\n    steps:\n      - run: tox -e ${{ matrix.tox }}\n";
        assert_eq!(
            ci(envs, &envs.replace("devel,lowest", "devel")).0,
            Severity::Medium
        );
        // flask 28d0f66c: Pythons dropped while tox environments are added.
        let travis = "matrix:\n  include:\n    - python: 3.6\n      env: TOXENV=py\n    - python: 2.6\n      env: TOXENV=py\n    - python: 3.3\n      env: TOXENV=py\nscript: tox\n";
        let fewer_pythons = "matrix:\n  include:\n    - python: 3.6\n      env: TOXENV=py,simplejson,devel,lowest\nscript: tox\n";
        assert_eq!(ci(travis, fewer_pythons).0, Severity::Medium);
        // flask 87d5f5b9: an environment moved to a job of its own is still run.
        let own_job = format!(
            "{}  typing:\n    steps:\n      - run: tox run -e typing\n",
            envs.replace("devel,lowest", "devel")
        );
        assert_eq!(
            ci(&envs.replace("devel,lowest", "devel,typing"), &own_job).0,
            Severity::Low
        );
        let tox = "    env:\n      - TOXENV=py37\n      - TOXENV=py38\n    script: tox\n";
        assert_eq!(
            ci(tox, &tox.replace("      - TOXENV=py37\n", "")).0,
            Severity::Medium
        );
        // Lines only added (git's windows-meson job, stripe-node's Node 16, express's
        // `fail-fast: false`): LOW; but not a trigger or a condition added, which can narrow
        // when the CI runs.
        let tests = "jobs:\n  test:\n    steps:\n      - run: go test ./...\n";
        let more = format!("{tests}  lint:\n    steps:\n      - run: golangci-lint run\n");
        assert_eq!(ci(tests, &more).0, Severity::Low);
        let narrowed = format!("on:\n  push:\n    branches: [main]\n{tests}");
        assert_eq!(ci(tests, &narrowed).0, Severity::Medium);
        // Steps re-indented (dokku 7338a772) or a version added to a list (stripe-node
        // ad430c6a) remove nothing: LOW. Commented out (ripgrep 3853608e, dokku ef916855),
        // they are gone whatever words the comment keeps: MEDIUM.
        let steps = "    steps:\n    - uses: actions/checkout@v4\n    - name: build\n      run: ./tests/ci/setup.sh build\n";
        let reindented = steps
            .replace("    - ", "      - ")
            .replace("      run:", "        run:");
        assert_eq!(ci(steps, &reindented).0, Severity::Low);
        let versions = "    strategy:\n      matrix:\n        node: [18, 20]\n    steps:\n      - run: npm test\n";
        assert_eq!(
            ci(versions, &versions.replace("[18, 20]", "[18, 20, 22]")).0,
            Severity::Low
        );
        assert_eq!(
            ci(versions, &versions.replace("[18, 20]", "[20]")).0,
            Severity::Medium
        );
        let trigger = "on:\n  push:\n  pull_request:\n    branches:\n      - '*'\njobs:\n  t:\n    steps:\n      - run: npm test\n";
        let off = trigger.replace(
            "  pull_request:\n    branches:\n      - '*'\n",
            "  # pull_request:\n  #   branches:\n  #     - '*'\n",
        );
        assert_eq!(ci(trigger, &off).0, Severity::Medium);
        // Its old spelling renamed is the same check: no weakening.
        let spelled = "      - run: py.test tests\n";
        assert_ne!(
            ci(spelled, &spelled.replace("py.test", "pytest")).0,
            Severity::High
        );
        // A check's line grown is no addition: it may deselect tests.
        let narrower = versions.replace("npm test", "npm test -- --grep fast");
        assert_eq!(ci(versions, &narrower).0, Severity::Medium);
        let one_file = versions.replace("npm test", "npm test -- test/fast.js");
        assert_eq!(ci(versions, &one_file).0, Severity::Medium);
        let more_deselected = narrower.replace("--grep fast", "--grep 'fast and small'");
        assert_eq!(ci(&narrower, &more_deselected).0, Severity::Medium);
        // A coverage floor lowered in a CI command weakens it.
        let (severity, _) = ci(
            "      - run: pytest --cov --cov-fail-under=90\n",
            "      - run: pytest --cov --cov-fail-under=50\n",
        );
        assert_eq!(severity, Severity::High);
        // A definition that runs no check (click's lock.yml, cobra's stale.yml, a release
        // job): LOW, changed or deleted.
        let (severity, remediation) = ci(
            "jobs:\n  lock:\n    steps:\n      - uses: dessant/lock-threads@v4\n        with:\n          issue-inactive-days: 14\n",
            "jobs:\n  lock:\n    steps:\n      - uses: dessant/lock-threads@v4\n        with:\n          process-only: issues\n",
        );
        assert_eq!(severity, Severity::Low);
        assert!(remediation.contains("runs no test"), "{remediation}");
        let stale = "jobs:\n  stale:\n    steps:\n      - uses: actions/stale@v9\n";
        let gone = run(&[deleted_file(".github/workflows/stale.yml", stale)]);
        assert_eq!(gone[0].severity, Severity::Low, "{gone:?}");
        // A new workflow (click's lock.yml, vault-helm's actionlint.yml): LOW; one that cannot
        // fail still weakens.
        let added = |text: &str| run(&[added_file(".github/workflows/lint.yml", text.as_bytes())]);
        let new = added("jobs:\n  lint:\n    steps:\n      - run: actionlint\n");
        assert_eq!(rules(&new), ["SUPERVISION_TAMPERING"]);
        assert_eq!(new[0].severity, Severity::Low);
        let soft = added(
            "jobs:\n  test:\n    steps:\n      - run: cargo test\n        continue-on-error: true\n",
        );
        assert_eq!(soft[0].severity, Severity::High);
        // Weakened: a test step dropped, a step that can no longer fail, a job switched off.
        for (old, new) in [
            (
                "      - run: make lint\n      - run: make test\n",
                "      - run: make lint\n",
            ),
            ("      - run: pytest\n", "      - run: pytest || true\n"),
            // pytest's old spelling is pytest.
            (
                "      - run: flake8\n      - run: py.test tests\n",
                "      - run: flake8\n",
            ),
            (
                "      - run: cargo test\n",
                "      - run: cargo test\n        continue-on-error: true\n",
            ),
            (
                "  test:\n    runs-on: ubuntu-latest\n",
                "  test:\n    if: false\n    runs-on: ubuntu-latest\n",
            ),
        ] {
            assert_eq!(ci(old, new).0, Severity::High, "{new}");
        }
        let deleted = |old: &'static str| FileChange {
            kind: FileStatus::Deleted,
            new: None,
            ..modified(".github/workflows/test.yml", old, "")
        };
        assert_eq!(
            run(&[deleted("      - run: npm test\n")])[0].severity,
            Severity::High
        );
        // A change of CI provider: the check left one definition for another.
        let moved = run(&[
            FileChange {
                kind: FileStatus::Deleted,
                new: None,
                ..modified("azure-pipelines.yml", "  - script: tox -e py\n", "")
            },
            FileChange {
                kind: FileStatus::Added,
                old: None,
                ..modified(
                    ".github/workflows/tests.yaml",
                    "",
                    "      - run: tox -e py\n",
                )
            },
        ]);
        assert!(
            moved.iter().all(|f| f.severity < Severity::High),
            "{moved:?}"
        );
        // Another definition the commit also edits still runs it.
        let kept = run(&[
            modified(
                ".github/workflows/legacy.yml",
                "      - run: npm run lint\n",
                "",
            ),
            modified(
                ".github/workflows/ci.yml",
                "        run: npm run lint\n",
                "        run: npm run lint\n        timeout-minutes: 5\n",
            ),
        ]);
        assert!(kept.iter().all(|f| f.severity < Severity::High), "{kept:?}");
        // A definition deleted whose every check another one runs (click's and flask's
        // .travis.yml and appveyor.yml gone for GitHub Actions): moved, LOW.
        let moved = run(&[
            deleted_file(".travis.yml", "language: python\nscript:\n  - tox\n"),
            modified(
                ".github/workflows/tests.yaml",
                "      - run: pip install tox\n",
                "      - run: pip install tox\n      - run: tox\n",
            ),
        ]);
        let travis: Vec<&Finding> = moved
            .iter()
            .filter(|f| f.file.as_deref() == Some(".travis.yml"))
            .collect();
        assert_eq!(travis.len(), 1, "{moved:?}");
        assert_eq!(travis[0].severity, Severity::Low, "{travis:?}");
        assert!(travis[0].description.contains("still runs"), "{travis:?}");
        // A release step that may fail where nothing is checked, a folder named after tests:
        // definitions that run no check (LOW).
        let release = "      - run: gh release upload v1 dist/*\n";
        let soft = "      - run: gh release upload v1 dist/* || true\n";
        assert_eq!(ci(release, soft).0, Severity::Low);
        assert_eq!(
            ci("      - run: mkdir -p test-results/bats\n", "").0,
            Severity::Low
        );
        assert_eq!(
            ci("      - run: ./node_modules/.bin/jest\n", "").0,
            Severity::High
        );
        // A workflow that checks nothing (a labeler, a stale bot) deleted: LOW.
        let labeler =
            "on: pull_request\njobs:\n  label:\n    steps:\n      - uses: actions/labeler@v4\n";
        assert_eq!(run(&[deleted(labeler)])[0].severity, Severity::Low);
        // What names, describes or configures a step, or a shell's own `test`, is no check.
        for (old, new) in [
            (
                "      description: \"Run bats tests\"\n",
                "      description: \"Run them\"\n",
            ),
            ("          config: test/kind/config.yaml\n", ""),
            ("          if test -z \"$X\"; then exit 0; fi\n", ""),
            (
                "          - {name: '3.7', python: '3.7', os: ubuntu-latest, tox: py37}\n",
                "",
            ),
            (
                "  test:\n    runs-on: ubuntu-latest\n",
                "  unit:\n    runs-on: ubuntu-latest\n",
            ),
            ("      - run: pip install tox\n", ""),
            (
                "          >&2 echo \"Please run yarn build and check\"\n",
                "",
            ),
        ] {
            // Not checks: the definition, these lines alone, runs none (LOW).
            assert_eq!(ci(old, new).0, Severity::Low, "{old}");
        }
        // A check's command removed from a script block, or a runner's check dropped.
        for (old, new) in [
            (
                "        script:\n          - meson test -C build\n",
                "        script:\n",
            ),
            (
                "      - run: |\n          make -e lint go-tests\n",
                "      - run: |\n          make -e go-tests\n",
            ),
        ] {
            assert_eq!(ci(old, new).0, Severity::High, "{old}");
        }
        // Not lost (dokku c9e24a05, f723333a, a7465f9d; sindresorhus/got 8224769a): a make
        // target split by a suffix, a later target of one `make` line, `npm test` run as
        // `npm run test:coverage`; options that only report (vault-helm 04074311).
        for (old, new) in [
            (
                "      - run: sudo -E make -e test-ci\n",
                "      - run: sudo -E make -e test-ci-<< parameters.index >>\n",
            ),
            (
                "      - run: |\n          0) make -e lint ;;\n          1) make -e go-tests ci-go-coverage;;\n",
                "      - run: |\n          0) make -e lint go-tests ci-go-coverage ;;\n",
            ),
            (
                "      - run: npm test\n",
                "      - run: npm run test:coverage\n",
            ),
            (
                "      - run: bats ./test/acceptance -t\n",
                "      - run: bats --tap --timing ./test/acceptance\n",
            ),
            (
                "      - run: pytest\n",
                "      - run: python -m pytest --junitxml=results.xml -v\n",
            ),
        ] {
            assert_eq!(ci(old, new).0, Severity::Low, "{old}");
        }
        // A retry of failed tests removed can only turn green into red: nothing to look at.
        let retry = "      - run: make test-ci\n      - run: make tests-ci-retry-failed\n";
        assert_eq!(ci(retry, "      - run: make test-ci\n").0, Severity::Low);
    }

    #[test]
    fn pragmas_suppress_but_are_reported() {
        // Added with the shortcut: tampering, and the shortcut is silenced.
        let f = run(&[modified(
            "src/util.rs",
            "fn a() {}\n",
            "// auditor:allow(DEBUG_LEFTOVER) needed\nfn a() { dbg!(1); }\n",
        )]);
        assert_eq!(rules(&f), ["SUPERVISION_TAMPERING"]);
        // A pragma that was already there: the finding it silences is reported LOW.
        let f = run(&[modified(
            "src/util.rs",
            "// auditor:allow(STUB_CODE) generated\nfn a() {}\n",
            concat!(
                "// auditor:allow(STUB_CODE) generated\nfn a() { ",
                "to",
                "do!() }\n"
            ),
        )]);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].issue_type, crate::finding::IssueType::GuardSuppressed);
        assert_eq!(f[0].severity, Severity::Low);
    }

    #[test]
    fn a_root_commit_tampers_with_nothing() {
        let changes = [
            added_file(".github/workflows/ci.yml", b"jobs: {}\n"),
            added_file(
                "src/util.rs",
                b"// auditor:allow(DEBUG_LEFTOVER) needed\nfn a() { dbg!(1); }\n",
            ),
            added_file(".env", b"A=1\n"),
        ];
        let sorted = |root| {
            let found = check_commit(
                &changes,
                &settings(),
                CommitRef {
                    id: "c",
                    root,
                    ci_elsewhere: None,
                },
            );
            let mut r: Vec<String> = rules(&found).into_iter().map(String::from).collect();
            r.sort();
            r
        };
        let later = sorted(false);
        assert_eq!(
            later,
            [
                "SENSITIVE_FILE",
                "SUPERVISION_TAMPERING",
                "SUPERVISION_TAMPERING"
            ]
        );
        // In the project's first commit nothing was supervised yet: the CI file and the pragma
        // are no tampering, and the finding the pragma silences is reported LOW.
        assert_eq!(sorted(true), ["SENSITIVE_FILE", "allow:DEBUG_LEFTOVER"]);
    }

    #[test]
    fn rules_can_be_switched_off_and_re_ranked() {
        let mut s = settings();
        s.disabled.push(Rule::DebugLeftover);
        s.severity.insert(Rule::StubCode, Severity::High);
        let changes = [modified(
            "src/util.rs",
            "fn a() {}\n",
            concat!("fn a() { dbg!(", "to", "do!()); }\n"),
        )];
        let f = check_commit(
            &changes,
            &s,
            CommitRef {
                id: "c",
                root: false,
                ci_elsewhere: None,
            },
        );
        assert_eq!(rules(&f), ["STUB_CODE"]);
        assert_eq!(f[0].severity, Severity::High);
    }
}
