//! The one-daemon-per-repository lock: an exclusive `flock` on `state/supervisor/daemon.lock`
//! holding the owner's pid. The kernel drops the lock when its process dies, however it dies,
//! so a stale lock from a killed daemon never blocks a new one.

use std::fs::{File, OpenOptions};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};

/// Taking the lock failed.
#[derive(Debug, thiserror::Error)]
pub enum LockError {
    /// Another live process holds it.
    #[error("another auditor (pid {}) holds {path}", pid.map_or("unknown".to_string(), |p| p.to_string()))]
    Held {
        /// The lock file.
        path: PathBuf,
        /// The holder's pid, when it wrote one.
        pid: Option<u32>,
    },
    /// The lock file could not be opened.
    #[error("open {path}: {source}")]
    Io {
        /// The lock file.
        path: PathBuf,
        /// What the filesystem said.
        #[source]
        source: std::io::Error,
    },
}

/// A held lock; released when dropped (or when the process dies).
#[derive(Debug)]
pub struct PidLock {
    _file: Flock<File>,
    /// The lock file.
    pub path: PathBuf,
}

fn open(path: &Path) -> Result<File, LockError> {
    if let Some(dir) = path.parent() {
        let _ = std::fs::create_dir_all(dir);
    }
    OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(path)
        .map_err(|source| LockError::Io {
            path: path.to_path_buf(),
            source,
        })
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut text = String::new();
    file.rewind().ok()?;
    file.read_to_string(&mut text).ok()?;
    text.trim().parse().ok()
}

/// Takes the lock without waiting and records our pid in it.
pub fn try_lock(path: &Path) -> Result<PidLock, LockError> {
    let file = open(path)?;
    match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
        Ok(mut locked) => {
            // The pid is only informative (for "held by pid N"); the flock is the lock.
            let _ = locked.set_len(0);
            let _ = locked.rewind();
            let _ = writeln!(locked, "{}", std::process::id());
            let _ = locked.sync_all();
            Ok(PidLock {
                _file: locked,
                path: path.to_path_buf(),
            })
        }
        Err((mut file, Errno::EWOULDBLOCK)) => Err(LockError::Held {
            path: path.to_path_buf(),
            pid: read_pid(&mut file),
        }),
        Err((_, errno)) => Err(LockError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(errno),
        }),
    }
}

/// Waits for the lock (used to serialise watchdogs).
pub fn lock_blocking(path: &Path) -> Result<PidLock, LockError> {
    let file = open(path)?;
    let locked =
        Flock::lock(file, FlockArg::LockExclusive).map_err(|(_, errno)| LockError::Io {
            path: path.to_path_buf(),
            source: std::io::Error::from(errno),
        })?;
    Ok(PidLock {
        _file: locked,
        path: path.to_path_buf(),
    })
}

/// The pid of the live process holding the lock, or `None` when nobody holds it.
pub fn holder(path: &Path) -> Option<u32> {
    match try_lock_probe(path) {
        Probe::Free => None,
        Probe::Held(pid) => pid.or(Some(0)),
    }
}

enum Probe {
    Free,
    Held(Option<u32>),
}

fn try_lock_probe(path: &Path) -> Probe {
    if !path.exists() {
        return Probe::Free;
    }
    let Ok(file) = OpenOptions::new().read(true).open(path) else {
        return Probe::Free;
    };
    // A shared, non-blocking probe: succeeds only when no one holds it exclusively.
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(_released_on_drop) => Probe::Free,
        Err((mut file, _)) => Probe::Held(read_pid(&mut file)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_lock_is_refused_with_the_holders_pid_and_freed_on_drop() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("daemon.lock");
        let first = try_lock(&path).expect("first lock");
        match try_lock(&path) {
            Err(LockError::Held { pid, .. }) => assert_eq!(pid, Some(std::process::id())),
            other => panic!("expected Held, got {other:?}"),
        }
        assert_eq!(holder(&path), Some(std::process::id()));
        drop(first);
        assert_eq!(holder(&path), None);
        assert!(try_lock(&path).is_ok());
    }
}
