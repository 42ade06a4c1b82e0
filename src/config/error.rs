//! Configuration errors that point at the file, line and column at fault.

use std::fmt;
use std::path::PathBuf;

/// A configuration file could not be read or is invalid.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("read config {path}: {source}")]
    Read {
        /// The config file.
        path: PathBuf,
        /// What the filesystem said.
        #[source]
        source: std::io::Error,
    },
    /// The file is not valid TOML or has an invalid value, at a known place.
    #[error("{0}")]
    At(Box<ConfigErrorAt>),
    /// A setting is invalid with no single place to blame (e.g. two checks with one name).
    #[error("{path}: {message}")]
    Invalid {
        /// The config file, or `<embedded defaults>`.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
}

/// A config error at a file position, rendered as `file:line:col: message` with a caret.
#[derive(Debug)]
pub struct ConfigErrorAt {
    /// The config file.
    pub path: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column (in characters).
    pub column: usize,
    /// What is wrong there.
    pub message: String,
    /// The offending line's text.
    pub source_line: String,
}

impl ConfigError {
    /// Builds a positioned error from a byte span in `text`.
    pub fn at(path: PathBuf, text: &str, offset: usize, message: String) -> ConfigError {
        let offset = offset.min(text.len());
        let before = &text[..floor_char_boundary(text, offset)];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        let column = before[line_start..].chars().count() + 1;
        let source_line = text[line_start..]
            .lines()
            .next()
            .unwrap_or_default()
            .to_string();
        ConfigError::At(Box::new(ConfigErrorAt {
            path,
            line,
            column,
            message,
            source_line,
        }))
    }
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for ConfigErrorAt {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{}:{}:{}: {}",
            self.path.display(),
            self.line,
            self.column,
            self.message.trim_end()
        )?;
        writeln!(f, "  |")?;
        writeln!(f, "{:>3} | {}", self.line, self.source_line)?;
        write!(f, "  | {}^", " ".repeat(self.column.saturating_sub(1)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_are_one_based_lines_and_columns() {
        let text = "a = 1\nbb = 'x'\n";
        let ConfigError::At(err) = ConfigError::at("c.toml".into(), text, 9, "bad".into()) else {
            panic!("expected a positioned error");
        };
        assert_eq!((err.line, err.column), (2, 4));
        assert!(err.to_string().starts_with("c.toml:2:4: bad"));
    }
}
