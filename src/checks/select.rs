//! Which files a check runs on, and the expansion of `{files}` in its command.
//!
//! File names come from the repository, so they are hostile input: a file named
//! `--severity=error` must never become an option of the tool it is passed to, and a name
//! that is not UTF-8 must reach the tool as the bytes it is.

use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::{OsStrExt, OsStringExt};
use std::path::{Path, PathBuf};

use crate::config::{CheckSpec, Scope, shebang_matches};

/// The files a check should run on, or `None` when it has nothing to do.
///
/// `changed` are the changed files that exist at the audited commit, exactly as git stores
/// their paths; `tree` lists every file (asked for only when the check's scope is the tree);
/// `head` reads a file's first bytes.
pub fn select_files(
    spec: &CheckSpec,
    changed: &[PathBuf],
    tree: &dyn Fn() -> Vec<PathBuf>,
    head: &dyn Fn(&Path) -> Option<Vec<u8>>,
) -> Option<Vec<PathBuf>> {
    let unfiltered = spec.file_globs.is_empty() && spec.shebang.is_empty();
    let matches = |path: &PathBuf| {
        unfiltered
            || spec.files.is_match(path)
            || (!spec.shebang.is_empty()
                && !path
                    .file_name()
                    .is_some_and(|n| n.as_bytes().contains(&b'.'))
                && head(path).is_some_and(|h| shebang_matches(&h, &spec.shebang)))
    };
    let relevant_change = changed.iter().any(matches);
    match spec.scope {
        // A whole-tree check runs when a relevant file changed, on every matching file.
        Scope::Tree => relevant_change.then(|| tree().into_iter().filter(matches).collect()),
        Scope::Changed => {
            let files: Vec<PathBuf> = changed.iter().filter(|p| matches(p)).cloned().collect();
            // A check without {files} and without file filters always runs (e.g. a test suite).
            (unfiltered || !files.is_empty()).then_some(files)
        }
    }
}

/// A repository-relative path as an argument that no tool reads as an option: `./` first,
/// so that `-x`, `--flag=v` and `@responsefile` are file names. Bytes are kept as they are.
fn file_argument(path: &Path) -> OsString {
    let mut arg = b"./".to_vec();
    arg.extend_from_slice(path.as_os_str().as_bytes());
    OsString::from_vec(arg)
}

/// Replaces a `{files}` argument with the files, one argument each (see `file_argument`).
pub fn expand_command(command: &[String], files: &[PathBuf]) -> Vec<OsString> {
    let mut out = Vec::with_capacity(command.len() + files.len());
    for arg in command {
        if arg == "{files}" {
            out.extend(files.iter().map(|f| file_argument(f)));
        } else {
            out.push(OsStr::new(arg).to_os_string());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_placeholder_expands_to_one_argument_each_never_an_option() {
        let cmd: Vec<String> = ["shellcheck", "-f", "json1", "{files}"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        let files: Vec<PathBuf> = ["a.sh", "b c.sh", "--severity=error", "@args", "d/-x.sh"]
            .iter()
            .map(PathBuf::from)
            .collect();
        assert_eq!(
            expand_command(&cmd, &files),
            [
                "shellcheck",
                "-f",
                "json1",
                "./a.sh",
                "./b c.sh",
                "./--severity=error",
                "./@args",
                "./d/-x.sh"
            ]
        );
    }

    #[test]
    fn a_name_that_is_not_utf8_keeps_its_bytes() {
        let name = PathBuf::from(OsString::from_vec(b"caf\xe9.sh".to_vec()));
        let argv = expand_command(&["{files}".to_string()], &[name]);
        assert_eq!(argv[0].as_bytes(), b"./caf\xe9.sh");
    }
}
