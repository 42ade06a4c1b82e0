//! Test runners' summary lines: how many tests ran, failed and were skipped, read from the
//! output of a test command that writes no JUnit (pytest, cargo test, nextest, jest, vitest,
//! mocha, node's runner, go test).
//!
//! A runner prints its summary last, so the last one of each runner counts (a test printing
//! a summary-shaped line earlier changes nothing); cargo test and go test print one line per
//! test binary or test, which are summed, and only from complete output. A script running
//! several runners gets the sum of their summaries.

use std::sync::LazyLock;

use regex::Regex;

use super::TestCounts;

fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static regex")
}

/// `1 failed, 3 passed, 1 skipped in 0.01s`, between `=` rules or not (`-q`).
static PYTEST: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^=*\s*(?P<items>\d+ [a-z]+(?:, \d+ [a-z]+)*) in [\d.]+s(?: \([^)]*\))?\s*=*$")
});
static PYTEST_NONE: LazyLock<Regex> = LazyLock::new(|| re(r"^=*\s*no tests ran in [\d.]+s\s*=*$"));
static CARGO: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^test result: (?:ok|FAILED)\. (?P<passed>\d+) passed; (?P<failed>\d+) failed; (?P<ignored>\d+) ignored; \d+ measured; (?P<filtered>\d+) filtered out",
    )
});
static NEXTEST: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*Summary \[\s*[\d.]+s\] (?P<ran>\d+) tests? run: (?P<rest>.*)$"));
static JEST: LazyLock<Regex> =
    LazyLock::new(|| re(r"^Tests:\s+(?P<items>.*?),?\s*(?P<total>\d+) total$"));
static VITEST: LazyLock<Regex> = LazyLock::new(|| {
    re(r"^\s*Tests\s+(?P<items>\d+ [a-z]+(?: \| \d+ [a-z]+)*)\s+\((?P<total>\d+)\)$")
});
static MOCHA: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*(?P<n>\d+) (?P<word>passing|pending|failing)(?: \(\w+\))?$"));
static NODE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^(?:#|ℹ) (?P<word>tests|pass|fail|cancelled|skipped|todo) (?P<n>\d+)$"));
static GO_VERBOSE: LazyLock<Regex> =
    LazyLock::new(|| re(r"^\s*--- (?P<result>PASS|FAIL|SKIP): \S"));
static GO_JSON: LazyLock<Regex> =
    LazyLock::new(|| re(r#"^\{.*"Action":"(?P<result>pass|fail|skip)".*"Test":""#));
/// The last word of a runner that found no test to run: jest and vitest (exit 1 unless told
/// to pass with none), mocha. pytest's is `PYTEST_NONE` with its exit code 5.
static NO_TESTS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"^(?:No tests found, exiting with code \d+|No test files found, exiting with code \d+|Error: No test files found\b.*)$",
    )
});
/// pytest's exit code when it collected no test (4, a usage error such as a test path that
/// is not there, prints "no tests ran" too, and is a failure).
const PYTEST_NO_TESTS_COLLECTED: i32 = 5;
static ANSI: LazyLock<Regex> = LazyLock::new(|| re(r"\x1b\[[0-9;?]*[A-Za-z]"));

/// Counts of one summary, as `ran` (skipped excluded), `failed` and `skipped`.
fn counts(ran: u32, failed: u32, skipped: u32) -> TestCounts {
    TestCounts {
        total: ran,
        failed,
        skipped,
    }
}

fn add(a: TestCounts, b: TestCounts) -> TestCounts {
    counts(
        a.total.saturating_add(b.total),
        a.failed.saturating_add(b.failed),
        a.skipped.saturating_add(b.skipped),
    )
}

fn number(s: &str) -> u32 {
    s.parse().unwrap_or(u32::MAX)
}

/// `N word` items (`3 passed`, `1 skipped`) split by `sep`, or none when one is not that shape.
fn items<'a>(text: &'a str, sep: &str) -> Option<Vec<(u32, &'a str)>> {
    text.split(sep)
        .map(|item| {
            let (n, word) = item.trim().split_once(' ')?;
            Some((n.parse().ok()?, word.trim()))
        })
        .collect()
}

fn pytest(line: &str) -> Option<TestCounts> {
    if PYTEST_NONE.is_match(line) {
        return Some(TestCounts::default());
    }
    let caps = PYTEST.captures(line)?;
    let mut c = TestCounts::default();
    for (n, word) in items(&caps["items"], ", ")? {
        match word {
            "passed" | "xfailed" | "xpassed" => c.total += n,
            "failed" | "error" | "errors" => {
                c.total += n;
                c.failed += n;
            }
            // Deselected (`-k`, `-m`) tests were there and did not run.
            "skipped" | "deselected" => c.skipped += n,
            "warning" | "warnings" | "rerun" | "reruns" => {}
            _ => return None,
        }
    }
    Some(c)
}

fn cargo(line: &str) -> Option<TestCounts> {
    let caps = CARGO.captures(line)?;
    let failed = number(&caps["failed"]);
    Some(counts(
        number(&caps["passed"]).saturating_add(failed),
        failed,
        number(&caps["ignored"]).saturating_add(number(&caps["filtered"])),
    ))
}

fn nextest(line: &str) -> Option<TestCounts> {
    let caps = NEXTEST.captures(line)?;
    let ran = number(&caps["ran"]);
    let of = |word: &str| {
        caps["rest"]
            .split(", ")
            .filter_map(|item| item.trim().split_once(' '))
            .find(|(_, w)| w.starts_with(word))
            .map_or(0, |(n, _)| number(n))
    };
    Some(counts(ran, ran.saturating_sub(of("passed")), of("skipped")))
}

/// jest's `Tests:` and vitest's `Tests` line: the items and the total, skipped and todo
/// tests included in the total.
fn total_line(items: Vec<(u32, &str)>, total: u32) -> Option<TestCounts> {
    let mut failed = 0;
    let mut not_run = 0u32;
    for (n, word) in items {
        match word {
            "failed" => failed += n,
            "skipped" | "todo" | "pending" => not_run += n,
            "passed" => {}
            _ => return None,
        }
    }
    Some(counts(total.saturating_sub(not_run), failed, not_run))
}

fn jest(line: &str) -> Option<TestCounts> {
    let caps = JEST.captures(line)?;
    let listed = caps["items"].trim_end_matches(',').trim();
    let listed = if listed.is_empty() {
        Vec::new()
    } else {
        items(listed, ", ")?
    };
    total_line(listed, number(&caps["total"]))
}

fn vitest(line: &str) -> Option<TestCounts> {
    let caps = VITEST.captures(line)?;
    total_line(items(&caps["items"], " | ")?, number(&caps["total"]))
}

/// A runner whose summary spans lines (mocha, node): the words seen since its first line.
#[derive(Default, Clone, Copy)]
struct Spread {
    ran: u32,
    failed: u32,
    skipped: u32,
}

/// The counts read from one output, by runner.
#[derive(Default)]
struct Tally {
    pytest: Option<TestCounts>,
    nextest: Option<TestCounts>,
    jest: Option<TestCounts>,
    vitest: Option<TestCounts>,
    mocha: Option<Spread>,
    node: Option<Spread>,
    cargo: Option<TestCounts>,
    go: Option<TestCounts>,
}

impl Tally {
    fn line(&mut self, line: &str) {
        if let Some(c) = pytest(line) {
            self.pytest = Some(c);
        } else if let Some(c) = cargo(line) {
            self.cargo = Some(self.cargo.map_or(c, |a| add(a, c)));
        } else if let Some(c) = nextest(line) {
            self.nextest = Some(c);
        } else if let Some(c) = jest(line) {
            self.jest = Some(c);
        } else if let Some(c) = vitest(line) {
            self.vitest = Some(c);
        } else if let Some(caps) = MOCHA.captures(line) {
            let n = number(&caps["n"]);
            // `N passing` opens mocha's summary: a new one replaces the one before.
            let s = match &caps["word"] {
                "passing" => {
                    self.mocha = Some(Spread::default());
                    self.mocha.as_mut()
                }
                _ => self.mocha.as_mut(),
            };
            if let Some(s) = s {
                match &caps["word"] {
                    "passing" => s.ran = s.ran.saturating_add(n),
                    "failing" => {
                        s.ran = s.ran.saturating_add(n);
                        s.failed = n;
                    }
                    _ => s.skipped = n,
                }
            }
        } else if let Some(caps) = NODE.captures(line) {
            let n = number(&caps["n"]);
            if &caps["word"] == "tests" {
                self.node = Some(Spread::default());
            }
            if let Some(s) = self.node.as_mut() {
                match &caps["word"] {
                    "pass" => s.ran = s.ran.saturating_add(n),
                    "fail" | "cancelled" => {
                        s.ran = s.ran.saturating_add(n);
                        s.failed = s.failed.saturating_add(n);
                    }
                    "skipped" | "todo" => s.skipped = s.skipped.saturating_add(n),
                    _ => {}
                }
            }
        } else if let Some(caps) = GO_VERBOSE.captures(line).or_else(|| GO_JSON.captures(line)) {
            let c = match caps["result"].to_ascii_lowercase().as_str() {
                "pass" => counts(1, 0, 0),
                "fail" => counts(1, 1, 0),
                _ => counts(0, 0, 1),
            };
            self.go = Some(self.go.map_or(c, |a| add(a, c)));
        }
    }

    fn total(self, complete: bool) -> Option<TestCounts> {
        let spread = |s: Spread| counts(s.ran, s.failed, s.skipped);
        // Summed per line: a dropped middle would lose lines.
        let summed = [self.cargo, self.go].into_iter().filter(|_| complete);
        [self.pytest, self.nextest, self.jest, self.vitest]
            .into_iter()
            .chain([self.mocha.map(spread), self.node.map(spread)])
            .chain(summed)
            .flatten()
            .reduce(add)
    }
}

/// The test counts the summary lines of `output` give, when it holds any. `complete` says
/// whether the output is whole (nothing dropped from its middle).
pub fn test_summary(output: &str, complete: bool) -> Option<TestCounts> {
    let mut tally = Tally::default();
    for line in output.lines() {
        tally.line(plain(line.trim_end_matches('\r')).trim_end());
    }
    tally.total(complete)
}

/// `text` without its terminal colours (runners colour their summaries on a terminal, and
/// some when told to).
pub(super) fn plain(text: &str) -> std::borrow::Cow<'_, str> {
    if text.contains('\x1b') {
        ANSI.replace_all(text, "")
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Whether a runner that exited with `exit_code` said it found no test at all (and not that
/// tests failed or that it was called wrong).
pub fn found_no_tests(output: &str, exit_code: i32) -> bool {
    output.lines().any(|line| {
        let line = plain(line);
        let line = line.trim();
        NO_TESTS.is_match(line)
            || (exit_code == PYTEST_NO_TESTS_COLLECTED && PYTEST_NONE.is_match(line))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn c(ran: u32, failed: u32, skipped: u32) -> Option<TestCounts> {
        Some(counts(ran, failed, skipped))
    }

    // Each output below was captured from the real runner on a suite of: one passing test,
    // one skipped, one failing (and a todo or xfail where the runner has them).

    #[test]
    fn pytest_summaries() {
        let out = "FAILED test_x.py::test_b - assert 0\n\
                   ============== 1 failed, 3 passed, 1 skipped, 1 xfailed in 0.01s ===============\n";
        assert_eq!(test_summary(out, true), c(5, 1, 1));
        assert_eq!(
            test_summary("1 failed, 3 passed, 1 skipped, 1 xfailed in 0.01s\n", true),
            c(5, 1, 1)
        );
        assert_eq!(
            test_summary("1 passed, 5 deselected in 0.00s\n", true),
            c(1, 0, 5)
        );
        assert_eq!(
            test_summary(
                "= 2 passed, 1 error, 3 warnings in 1.20s (0:00:01) =\n",
                true
            ),
            c(3, 1, 0)
        );
        assert_eq!(
            test_summary("======= no tests ran in 0.01s =======\n", true),
            c(0, 0, 0)
        );
        // Prose that looks like one is not.
        assert_eq!(test_summary("3 apples in 2.0s\n", true), None);
    }

    #[test]
    fn runners_that_found_no_test() {
        // Captured: pytest 8 (exit 5), mocha 11.8, jest 30 and vitest 4.1 (exit 1 each).
        assert!(found_no_tests("\nno tests ran in 0.00s\n", 5));
        assert!(found_no_tests(
            "============================ no tests ran in 0.01s =============================\n",
            5
        ));
        // pytest's usage error: a test path that is not there.
        assert!(!found_no_tests(
            "\nno tests ran in 0.00s\nERROR: file or directory not found: tests\n",
            4
        ));
        assert!(found_no_tests("Error: No test files found: \"test\"\n", 1));
        assert!(found_no_tests(
            "No tests found, exiting with code 1\nRun with `--passWithNoTests` to exit with code 0\n",
            1
        ));
        assert!(found_no_tests(
            "\n\x1b[1m\x1b[30m\x1b[46m RUN \x1b[49m\x1b[39m\x1b[22m \x1b[36mv4.1.12 \x1b[39m\x1b[90m/tmp/js\x1b[39m\n\n\x1b[31mNo test files found, exiting with code 1\n\x1b[39m\n",
            1
        ));
        assert!(!found_no_tests("1 failed, 3 passed in 0.01s\n", 1));
        assert!(!found_no_tests("assert 'no tests ran' in message\n", 5));
    }

    #[test]
    fn cargo_test_sums_every_binary_of_complete_output() {
        let out = "running 3 tests\n\
                   test result: FAILED. 1 passed; 1 failed; 1 ignored; 0 measured; 0 filtered out; finished in 0.06s\n\
                   test result: ok. 1 passed; 0 failed; 0 ignored; 0 measured; 2 filtered out; finished in 0.00s\n\
                   test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; 0 filtered out; finished in 0.00s\n";
        assert_eq!(test_summary(out, true), c(3, 1, 3));
        assert_eq!(test_summary(out, false), None);
    }

    #[test]
    fn nextest_summary() {
        let out = "  Cancelling due to test failure: \n────────────\n     Summary [   0.059s] 3 tests run: 2 passed, 1 failed, 1 skipped\n        FAIL [   0.058s] (3/3) rs tests::c\n";
        assert_eq!(test_summary(out, false), c(3, 1, 1));
        assert_eq!(
            test_summary(
                "     Summary [   1.000s] 1 test run: 1 passed, 4 skipped\n",
                true
            ),
            c(1, 0, 4)
        );
    }

    #[test]
    fn jest_and_vitest_summaries() {
        let jest = "Test Suites: 1 failed, 1 total\n\
                    Tests:       1 failed, 1 skipped, 1 todo, 1 passed, 4 total\n\
                    Snapshots:   0 total\n";
        assert_eq!(test_summary(jest, true), c(2, 1, 2));
        assert_eq!(
            test_summary("Tests:       12 passed, 12 total\n", true),
            c(12, 0, 0)
        );
        // vitest, colours and all, as it prints them.
        let vitest = "\x1b[2m Test Files \x1b[22m \x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m\x1b[90m (1)\x1b[39m\n\
                      \x1b[2m      Tests \x1b[22m \x1b[1m\x1b[31m1 failed\x1b[39m\x1b[22m\x1b[2m | \x1b[22m\x1b[1m\x1b[32m1 passed\x1b[39m\x1b[22m\x1b[2m | \x1b[22m\x1b[33m1 skipped\x1b[39m\x1b[2m | \x1b[22m\x1b[90m1 todo\x1b[39m\x1b[90m (4)\x1b[39m\n";
        assert_eq!(test_summary(vitest, true), c(2, 1, 2));
    }

    #[test]
    fn mocha_and_node_summaries() {
        let mocha =
            "  s\n    ✔ a\n\n  1 passing (3ms)\n  1 pending\n  1 failing\n\n  1) s\n       c:\n";
        assert_eq!(test_summary(mocha, true), c(2, 1, 1));
        let node = "1..4\n# tests 4\n# suites 0\n# pass 1\n# fail 1\n# cancelled 0\n# skipped 1\n# todo 1\n# duration_ms 78.18\n";
        assert_eq!(test_summary(node, true), c(2, 1, 2));
        let spec =
            "ℹ tests 3\nℹ suites 0\nℹ pass 3\nℹ fail 0\nℹ cancelled 0\nℹ skipped 0\nℹ todo 0\n";
        assert_eq!(test_summary(spec, true), c(3, 0, 0));
    }

    #[test]
    fn go_test_verbose_and_json() {
        let verbose = "=== RUN   TestA\n--- PASS: TestA (0.00s)\n=== RUN   TestB\n    --- SKIP: TestB/sub (0.00s)\n--- FAIL: TestC (0.01s)\nFAIL\nok  \texample.com/p\t0.01s\n";
        assert_eq!(test_summary(verbose, true), c(2, 1, 1));
        let json = "{\"Time\":\"t\",\"Action\":\"run\",\"Package\":\"p\",\"Test\":\"TestA\"}\n\
                    {\"Time\":\"t\",\"Action\":\"pass\",\"Package\":\"p\",\"Test\":\"TestA\",\"Elapsed\":0}\n\
                    {\"Time\":\"t\",\"Action\":\"pass\",\"Package\":\"p\",\"Elapsed\":0}\n";
        assert_eq!(test_summary(json, true), c(1, 0, 0));
        // Without -v, go prints no count.
        assert_eq!(test_summary("ok  \texample.com/p\t0.01s\n", true), None);
    }

    #[test]
    fn the_last_summary_of_a_runner_counts_and_runners_add_up() {
        // A test that prints a summary-shaped line does not replace the real, later one.
        let out = "Tests:       500 passed, 500 total\n...\nTests:       1 passed, 1 total\n\
                   3 passed in 0.10s\n";
        assert_eq!(test_summary(out, true), c(4, 0, 0));
    }

    proptest! {
        #[test]
        fn arbitrary_text_never_panics(s in r"[#ℹ=\-|:;,.()a-zA-Z0-9 \n\x1b\[]{0,300}") {
            let _ = test_summary(&s, true);
        }
    }
}
