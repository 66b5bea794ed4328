//! SecureConfig: refusing to start a plugin executable whose SHA-256 is not the expected one
//! (go-plugin's `SecureConfig.Check`, verified before the process starts).
//!
//! Hashing a large provider on every launch is wasteful, so digests are remembered per
//! (device, inode, size, modification time, status-change time): a file rewritten in place gets a
//! new key even when its modification time is set back (writing always moves `ctime`, which no
//! user call can set), and is hashed again.
//!
//! The executable is opened once ([`open_verified`]): that open file is hashed, and on Linux that
//! same open file is executed ([`super::exec_verified`]), so a file swapped or rewritten after the
//! check never runs. Elsewhere the checked path is executed by name, and a swap between the check
//! and the exec would run unchecked: keep plugin directories writable only by their owner.

use std::collections::HashMap;
use std::fs::File;
use std::io::{Read, Seek};
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use crate::error::Error;

/// An executable opened once and checked: the file to execute.
#[derive(Debug)]
pub(crate) struct VerifiedExecutable {
    pub(crate) file: File,
    /// It starts with `#!`: its interpreter will open it again by a `/proc/self/fd` path.
    pub(crate) script: bool,
}

/// Opens `path`, checks its SHA-256 against `expected` (go-plugin's error texts) and returns the
/// open file.
pub(crate) fn open_verified(path: &Path, expected: &[u8]) -> Result<VerifiedExecutable, Error> {
    if expected.is_empty() {
        return Err(Error::Config("no checksum provided".into()));
    }
    let io_err = |e| Error::Config(format!("error verifying checksum: {}: {e}", path.display()));
    let mut file = File::open(path).map_err(io_err)?;
    let actual = sha256_open(&mut file, path)?;
    compare(path, &actual, expected)?;
    let mut start = [0u8; 2];
    file.rewind().map_err(io_err)?;
    let script = file.read_exact(&mut start).is_ok() && &start == b"#!";
    Ok(VerifiedExecutable { file, script })
}

type FileKey = (u64, u64, u64, i64, i64, i64, i64);

fn cache() -> &'static Mutex<HashMap<FileKey, Vec<u8>>> {
    static CACHE: OnceLock<Mutex<HashMap<FileKey, Vec<u8>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The SHA-256 of the file, computed once per version of the file.
pub fn sha256_file(path: &Path) -> Result<Vec<u8>, Error> {
    let io_err = |e| Error::Config(format!("error verifying checksum: {}: {e}", path.display()));
    let mut file = File::open(path).map_err(io_err)?;
    sha256_open(&mut file, path)
}

/// The SHA-256 of an open file (its key taken from the open file too).
fn sha256_open(file: &mut File, path: &Path) -> Result<Vec<u8>, Error> {
    let io_err = |e| Error::Config(format!("error verifying checksum: {}: {e}", path.display()));
    let meta = file.metadata().map_err(io_err)?;
    let key = (
        meta.dev(),
        meta.ino(),
        meta.size(),
        meta.mtime(),
        meta.mtime_nsec(),
        meta.ctime(),
        meta.ctime_nsec(),
    );
    if let Some(digest) = cache().lock().unwrap_or_else(|e| e.into_inner()).get(&key) {
        return Ok(digest.clone());
    }
    let mut context = aws_lc_rs::digest::Context::new(&aws_lc_rs::digest::SHA256);
    let mut buf = vec![0u8; 1 << 16];
    loop {
        let n = file.read(&mut buf).map_err(io_err)?;
        if n == 0 {
            break;
        }
        context.update(&buf[..n]);
    }
    let digest = context.finish().as_ref().to_vec();
    cache()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key, digest.clone());
    Ok(digest)
}

fn compare(path: &Path, actual: &[u8], expected: &[u8]) -> Result<(), Error> {
    if aws_lc_rs::constant_time::verify_slices_are_equal(actual, expected).is_err() {
        return Err(Error::ChecksumMismatch {
            path: path.to_path_buf(),
            actual: actual.to_vec(),
            expected: expected.to_vec(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::hex;

    #[test]
    fn matching_checksum_passes_and_a_wrong_one_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin");
        std::fs::write(&path, b"abc").unwrap();
        let abc = sha256_file(&path).unwrap();
        assert_eq!(
            hex(&abc),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(open_verified(&path, &abc).is_ok());
        let err = open_verified(&path, &[0u8; 32]).unwrap_err().to_string();
        assert!(err.starts_with("checksums did not match"), "{err}");
        assert!(err.contains(&hex(&abc)), "{err}");
        assert_eq!(
            open_verified(&path, &[]).unwrap_err().to_string(),
            "no checksum provided"
        );
    }

    #[test]
    fn a_changed_file_is_hashed_again() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plugin");
        std::fs::write(&path, b"abc").unwrap();
        let first = sha256_file(&path).unwrap();
        std::fs::write(&path, b"abcd").unwrap();
        assert_ne!(sha256_file(&path).unwrap(), first);
    }

    #[test]
    fn missing_file_says_which() {
        let err = open_verified(Path::new("/nonexistent/plugin"), &[1])
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/plugin"), "{err}");
    }
}
