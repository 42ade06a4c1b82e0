//! The files `[secrets]` names besides the config: rule files in gitleaks' format, the
//! adoption baseline, and a `.gitleaksignore` at the repository's root. Read once, when the
//! settings load; a file that cannot be used is a config error naming it (and, for a rule
//! file, the line and column at fault).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::ConfigError;
use crate::secrets::{Baseline, ExtraRules, GitleaksIgnore, SecretsSettings, parse_rules};

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn under(root: &Path, path: &str) -> PathBuf {
    let p = Path::new(path);
    if p.is_absolute() {
        p.to_path_buf()
    } else {
        root.join(p)
    }
}

/// Reads what `secrets` names, relative to `root`.
pub fn attach(secrets: &mut SecretsSettings, root: &Path) -> Result<(), ConfigError> {
    let mut sets = Vec::new();
    for name in &secrets.rule_files {
        let path = under(root, name);
        let text = read(&path)?;
        let set = parse_rules(&text, name).map_err(|e| match e.offset {
            Some(offset) => ConfigError::at(path.clone(), &text, offset, e.message.clone()),
            None => ConfigError::Invalid {
                path: path.clone(),
                message: e.message.clone(),
            },
        })?;
        if !set.skipped.is_empty() {
            crate::sink::warn(&format!(
                "{}: rules without a regex are not run here (file names are the guards' SENSITIVE_FILE): {}",
                path.display(),
                set.skipped.join(", ")
            ));
        }
        sets.push(set);
    }
    crate::secrets::check_outbound_with(&sets);
    secrets.extra = Arc::new(ExtraRules::new(sets));
    let baseline = under(root, &secrets.baseline_path);
    if baseline.is_file() {
        let text = read(&baseline)?;
        let parsed = Baseline::parse(&text).map_err(|e| ConfigError::Invalid {
            path: baseline.clone(),
            message: e.to_string(),
        })?;
        secrets.baseline = Arc::new(parsed);
    }
    let ignore = root.join(".gitleaksignore");
    if ignore.is_file() {
        let (parsed, bad) = GitleaksIgnore::parse(&read(&ignore)?);
        if !bad.is_empty() {
            crate::sink::warn(&format!(
                "{}: lines {bad:?} are not `[commit:]file:rule:line` fingerprints and are skipped",
                ignore.display()
            ));
        }
        secrets.ignore = Arc::new(parsed);
    }
    Ok(())
}
