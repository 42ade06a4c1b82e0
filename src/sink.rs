//! The process's ways out to the terminal: stdout, stderr and the log writer. Each passes
//! the redaction choke point (`secrets::clean`); files go through `store::write_atomic` and
//! the event log, which do the same. Clippy forbids the print macros everywhere else
//! (`clippy.toml`), so nothing prints around them.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

/// `--quiet`: messages for the person (summaries, confirmations, warnings) are not printed;
/// errors and the machine output a flag asked for (`--json`, `--sarif -`, a hook's answer)
/// still are, and the exit code says the rest.
static QUIET: AtomicBool = AtomicBool::new(false);

/// Sets `--quiet` for the process.
pub fn set_quiet(quiet: bool) {
    QUIET.store(quiet, Ordering::Relaxed);
}

/// Whether `--quiet` was given.
pub fn is_quiet() -> bool {
    QUIET.load(Ordering::Relaxed)
}

/// Prints a message for the person to stdout; nothing with `--quiet`.
pub fn say(text: &str) -> std::io::Result<()> {
    if is_quiet() { Ok(()) } else { print(text) }
}

/// Prints a message for the person to stderr; nothing with `--quiet`.
pub fn say_err(text: &str) {
    if !is_quiet() {
        eprint(text);
    }
}

/// Prints `text` to stdout; a closed pipe (`| head`) is not an error.
pub fn print(text: &str) -> std::io::Result<()> {
    let text = crate::secrets::clean(text);
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(e),
        _ => Ok(()),
    }
}

/// Prints `text` to stderr as is (a failing stderr has nowhere to be reported).
pub fn eprint(text: &str) {
    let text = crate::secrets::clean(text);
    let _ = std::io::stderr().lock().write_all(text.as_bytes());
}

/// `auditor: warning: MESSAGE` on stderr.
pub fn warn(message: &str) {
    say_err(&format!("auditor: warning: {message}\n"));
}

/// `auditor: error: MESSAGE` on stderr.
pub fn error(message: &str) {
    eprint(&format!("auditor: error: {message}\n"));
}

/// The log writer (`tracing`'s): each formatted record is cleaned, then written to stderr.
pub struct LogWriter;

impl Write for LogWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        std::io::stderr()
            .lock()
            .write_all(&crate::secrets::clean_bytes(buf))?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}
