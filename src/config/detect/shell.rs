//! Shell scripts, by extension or by a shell's shebang on an extensionless file: shellcheck.

use std::path::Path;

use super::super::raw::StageValue;
use super::propose::{DetectedCheck, check, seconds, strings};
use super::tree::Tree;
use crate::parsers::Format;

/// The interpreters whose shebang makes a file a shell script.
pub const SHELL_INTERPRETERS: [&str; 4] = ["sh", "bash", "dash", "ksh"];

/// Whether a file's first bytes are a shebang naming one of `interpreters`.
pub fn shebang_matches(head: &[u8], interpreters: &[String]) -> bool {
    let Some(rest) = head.strip_prefix(b"#!") else {
        return false;
    };
    let line = rest.split(|&b| b == b'\n').next().unwrap_or_default();
    let line = String::from_utf8_lossy(line);
    let mut words = line.split_whitespace();
    let Some(first) = words.next() else {
        return false;
    };
    let program = first.rsplit('/').next().unwrap_or(first);
    // `#!/usr/bin/env bash` names the interpreter in its second word.
    let program = if program == "env" {
        words.find(|w| !w.starts_with('-')).unwrap_or_default()
    } else {
        program
    };
    interpreters.iter().any(|i| i == program)
}

/// Shell scripts, by extension or by a shell's shebang on an extensionless file.
pub fn detect(tree: &Tree) -> Option<DetectedCheck> {
    let interpreters: Vec<String> = SHELL_INTERPRETERS.iter().map(|s| s.to_string()).collect();
    let shell = tree.any(|p| {
        p.ends_with(".sh")
            || p.ends_with(".bash")
            || (!Path::new(p)
                .file_name()
                .is_some_and(|n| n.to_string_lossy().contains('.'))
                && tree
                    .head(p)
                    .is_some_and(|h| shebang_matches(&h, &interpreters)))
    });
    if !shell {
        return None;
    }
    let mut c = check(
        "shellcheck",
        StageValue::Audit,
        &["shellcheck", "-f", "json1", "{files}"],
        Format::Shellcheck,
    );
    c.files = strings(&["*.sh", "*.bash"]);
    c.shebang = Some(interpreters);
    c.timeout = Some(seconds(60));
    Some(DetectedCheck::new(
        "shell scripts (*.sh or a sh/bash shebang)",
        c,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh() -> Vec<String> {
        SHELL_INTERPRETERS.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn shebangs() {
        assert!(shebang_matches(b"#!/bin/sh\necho", &sh()));
        assert!(shebang_matches(b"#!/usr/bin/env bash\n", &sh()));
        assert!(shebang_matches(b"#!/usr/bin/env -S bash -e\n", &sh()));
        assert!(!shebang_matches(b"#!/usr/bin/env python3\n", &sh()));
        assert!(!shebang_matches(b"echo hi\n", &sh()));
    }
}
