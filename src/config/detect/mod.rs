//! Detection: which linters, test command and setup suit a repository, for `auditor init` and
//! for the embedded defaults (a repository with no `[[check]]` anywhere).
//!
//! Detection reads only what the tree holds (marker files, manifests, shebangs) and asks
//! whether a program is installed; it never runs anything the repository contains. Each
//! ecosystem has its own module and proposes its linters and at most one test command; the
//! proposal keeps one test command for the whole repository (the project's own
//! `tests/run_tests.sh` wins) and says what it passed over.
//!
//! - `tree`: the repository as detection sees it (paths, file heads, installed programs).
//! - `propose`: the orchestration, and the programs each check needs.
//! - `rust`, `shell`, `python`, `node`, `go`, `ruby`, `jvm`: one ecosystem each.
//! - `setup`: what the tests need installed in the workspace first.
//! - `render`: the commented `auditor.toml` that `init` writes.

mod go;
mod jvm;
mod node;
mod propose;
mod python;
mod render;
mod ruby;
mod rust;
mod setup;
mod shell;
mod tree;

pub use go::{go_work_uses, module_path};
pub use propose::{DetectedCheck, detect_checks, matters_for_detection, program_available};
pub use render::{one_line, render_init_toml};
pub use setup::{DetectedSetup, detect_setup};
pub use shell::shebang_matches;
pub use tree::Tree;
