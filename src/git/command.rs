//! The one way the auditor starts the `git` program: a command that runs no program the
//! audited repository configures, and sees the objects as they are.
//!
//! The repository is the agent's, and its `.git/config` is the agent's to edit. Several keys
//! make git run a program: `core.fsmonitor` (status), `filter.*.clean`/`smudge`/`process`
//! (status, checkout), `diff.*.textconv` and `diff.external` (patches), `gpg.program` under
//! `log.showSignature` (log), `core.pager`, hooks under `core.hooksPath`, `core.sshCommand`.
//! The auditor only asks git for `log --raw` and `cat-file --batch` (no patches, no
//! filters, no network); the overrides below also switch off what those two would still run.
//! Command-line `-c` settings win over every config file, includes too. Replace refs would
//! let an agent show git a clean blob in place of a leaked one, so they are ignored.
//!
//! libgit2 never runs external programs: it has no fsmonitor, no external filter drivers, no
//! textconv, no hooks and (built without its ssh transport) no ssh. That is why everything
//! else (status, diffs, checkouts) goes through it.

use std::path::Path;
use std::process::{Command, Stdio};

/// `-c` settings given to every git child. Each switches off a program the repository's
/// configuration could name.
const OVERRIDES: [&str; 7] = [
    "core.fsmonitor=false",
    "core.hooksPath=/dev/null",
    "core.pager=cat",
    "core.sshCommand=false",
    "core.useReplaceRefs=false",
    "log.showSignature=false",
    "diff.external=",
];

/// Environment variables that would point git elsewhere than the repository asked for, or
/// hand it a program to run.
const ENV_TO_CLEAR: [&str; 10] = [
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_EXTERNAL_DIFF",
    "GIT_PAGER",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
];

/// A `git` command run in `root` that cannot run a program the repository configures.
pub fn git_command(root: &Path) -> Command {
    let mut cmd = Command::new("git");
    cmd.arg("-C").arg(root).arg("--no-pager");
    for o in OVERRIDES {
        cmd.arg("-c").arg(o);
    }
    for key in ENV_TO_CLEAR {
        cmd.env_remove(key);
    }
    cmd.env("GIT_NO_REPLACE_OBJECTS", "1")
        .env("GIT_TERMINAL_PROMPT", "0")
        .env("GIT_OPTIONAL_LOCKS", "0")
        .stdin(Stdio::null());
    cmd
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_override_is_a_key_and_a_value() {
        for o in OVERRIDES {
            let (key, _) = o.split_once('=').expect("key=value");
            assert_eq!(key.matches('.').count(), 1, "{o}");
        }
        let cmd = git_command(Path::new("/r"));
        let args: Vec<_> = cmd.get_args().collect();
        assert_eq!(args[..3], ["-C", "/r", "--no-pager"]);
    }
}
