//! Which files a check runs on, and the expansion of `{files}` in its command.

use crate::config::{CheckSpec, Scope, shebang_matches};

/// The files a check should run on, or `None` when it has nothing to do.
///
/// `changed` are the changed files that exist at the audited commit; `tree` lists every file
/// (asked for only when the check's scope is the tree); `head` reads a file's first bytes.
pub fn select_files(
    spec: &CheckSpec,
    changed: &[String],
    tree: &dyn Fn() -> Vec<String>,
    head: &dyn Fn(&str) -> Option<Vec<u8>>,
) -> Option<Vec<String>> {
    let unfiltered = spec.file_globs.is_empty() && spec.shebang.is_empty();
    let matches = |path: &String| {
        unfiltered
            || spec.files.is_match(path)
            || (!spec.shebang.is_empty()
                && !std::path::Path::new(path)
                    .file_name()
                    .is_some_and(|n| n.to_string_lossy().contains('.'))
                && head(path).is_some_and(|h| shebang_matches(&h, &spec.shebang)))
    };
    let relevant_change = changed.iter().any(matches);
    match spec.scope {
        // A whole-tree check runs when a relevant file changed, on every matching file.
        Scope::Tree => relevant_change.then(|| tree().into_iter().filter(matches).collect()),
        Scope::Changed => {
            let files: Vec<String> = changed.iter().filter(|p| matches(p)).cloned().collect();
            // A check without {files} and without file filters always runs (e.g. a test suite).
            (unfiltered || !files.is_empty()).then_some(files)
        }
    }
}

/// Replaces a `{files}` argument with the files, one argument each.
pub fn expand_command(command: &[String], files: &[String]) -> Vec<String> {
    let mut out = Vec::with_capacity(command.len() + files.len());
    for arg in command {
        if arg == "{files}" {
            out.extend(files.iter().cloned());
        } else {
            out.push(arg.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_placeholder_expands_to_one_argument_each() {
        let cmd: Vec<String> = ["shellcheck", "-f", "json1", "{files}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let files = vec!["a.sh".to_string(), "b c.sh".to_string()];
        assert_eq!(
            expand_command(&cmd, &files),
            ["shellcheck", "-f", "json1", "a.sh", "b c.sh"]
        );
    }
}
