//! Configuration: raw TOML layers, their merge, and the validated settings the engine uses.
//!
//! Precedence, lowest first: embedded defaults (`defaults.toml`) < checks detected in the repo
//! < the repo's `auditor.toml` < `--config FILE` < command-line flags. A layer that has any
//! `[[check]]` table replaces the check list of the layers below it; every other key merges
//! field by field.

mod detect;
mod error;
mod raw;
mod secret_files;
mod settings;
pub mod supervision;
mod units;

pub use detect::{
    DetectedCheck, DetectedSetup, Tree, detect_checks, detect_setup, go_work_uses,
    matters_for_detection, module_path, one_line, program_available, render_init_toml,
    shebang_matches,
};
pub use error::ConfigError;
pub use raw::{AckValue, RawCheck, RawConfig};
pub use settings::{
    CheckSpec, EventSettings, MetricSettings, PathSettings, PolicySettings, Scope, SecretsSettings,
    Settings, Stage, WatchSettings, WorkspaceMode, WorkspaceSettings, embedded_defaults, load,
};
pub use units::{parse_duration, parse_size};

/// The embedded defaults, compiled in.
pub const DEFAULTS_TOML: &str = include_str!("defaults.toml");

/// The config file name looked up at the repository root.
pub const CONFIG_FILE_NAME: &str = "auditor.toml";
