//! Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder.
//!
//! A `kill -9` at any moment leaves either the old content or the new, never half.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
#[cfg(test)]
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Writing a file atomically failed.
#[derive(Debug, thiserror::Error)]
#[error("write {path}: {source}")]
pub struct AtomicWriteError {
    /// The file we were writing.
    pub path: PathBuf,
    /// What the filesystem said.
    #[source]
    pub source: std::io::Error,
}

static COUNTER: AtomicU64 = AtomicU64::new(0);

/// Replaces `path` with `contents` atomically, creating parent folders as needed. This is
/// how the auditor's outputs reach the disk, so the text passes the redaction choke point
/// (`secrets::clean_bytes`) on its way: no report, inbox file, ledger or state file can carry
/// a secret value, whoever built it.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    write_atomic_exact(path, &crate::secrets::clean_bytes(contents))
}

/// `write_atomic` without the redaction, for files that must hold exactly these bytes and
/// are not outputs: the snapshot's own git files and stamps, `info/exclude`.
pub fn write_atomic_exact(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    let wrap = |source| AtomicWriteError {
        path: path.to_path_buf(),
        source,
    };
    // Only a regular file is replaced: a rename over a symlink, a device or a FIFO would put
    // a plain file where something else was (as root, `/dev/stdout` itself).
    if let Ok(meta) = fs::symlink_metadata(path)
        && !meta.file_type().is_file()
    {
        return Err(wrap(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "not a regular file: refusing to replace it",
        )));
    }
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(dir) = dir {
        fs::create_dir_all(dir).map_err(wrap)?;
    }
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Unique per process and call, so concurrent writers never share a temp file.
    let tmp_name = format!(
        ".{file_name}.tmp.{}.{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    );
    let tmp = match dir {
        Some(dir) => dir.join(tmp_name),
        None => PathBuf::from(tmp_name),
    };
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(contents)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&tmp, path)?;
        if let Some(dir) = dir {
            // The rename is only durable once the folder's entry is on disk.
            File::open(dir)?.sync_all()?;
        }
        Ok(())
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result.map_err(wrap)
}

/// Writes an output the user named (`--sarif FILE`), redacted like every output: a regular
/// file (or a symlink to one, whose target is replaced) atomically; a device, a FIFO or a
/// symlink to one (`/dev/stdout`, a pipe) by writing through it.
pub fn write_output(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    let wrap = |source| AtomicWriteError {
        path: path.to_path_buf(),
        source,
    };
    let clean = crate::secrets::clean_bytes(contents);
    match fs::metadata(path) {
        Ok(meta) if meta.file_type().is_dir() => Err(wrap(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "is a folder",
        ))),
        Ok(meta) if !meta.file_type().is_file() => {
            let mut out = OpenOptions::new().write(true).open(path).map_err(wrap)?;
            out.write_all(&clean)
                .and_then(|()| out.flush())
                .map_err(wrap)
        }
        Ok(_) => {
            let target = fs::canonicalize(path).map_err(wrap)?;
            write_atomic_exact(&target, &clean)
        }
        Err(_) => write_atomic_exact(path, &clean),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_content_and_leaves_no_temp_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("sub/file.json");
        write_atomic(&path, b"old").expect("first write");
        write_atomic(&path, b"new").expect("second write");
        assert_eq!(fs::read(&path).expect("read"), b"new");
        let names: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .expect("read_dir")
            .map(|e| e.expect("entry").file_name())
            .collect();
        assert_eq!(names.len(), 1, "temp files left behind: {names:?}");
    }

    #[test]
    fn only_regular_files_are_replaced_and_outputs_write_through_the_rest() {
        let dir = tempfile::tempdir().expect("tempdir");
        let real = dir.path().join("real.json");
        fs::write(&real, b"old").expect("write");
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&real, &link).expect("symlink");
        // The auditor's own files: a planted symlink is refused, never replaced.
        assert!(write_atomic(&link, b"x").is_err());
        assert!(
            fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        // A user's output through a symlink replaces its target and keeps the link.
        write_output(&link, b"new").expect("through the link");
        assert_eq!(fs::read(&real).expect("read"), b"new");
        assert!(
            fs::symlink_metadata(&link)
                .expect("meta")
                .file_type()
                .is_symlink()
        );
        // A device is written through, not replaced (as root, `/dev/stdout` was).
        write_output(Path::new("/dev/null"), b"discarded").expect("through a device");
        assert!(
            fs::metadata("/dev/null")
                .expect("meta")
                .file_type()
                .is_char_device()
        );
        assert!(
            write_output(dir.path(), b"x").is_err(),
            "a folder is refused"
        );
    }
}
