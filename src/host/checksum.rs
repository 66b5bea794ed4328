//! SecureConfig: refusing to start a plugin executable whose SHA-256 is not the expected one
//! (go-plugin's `SecureConfig.Check`, verified before the process starts).
//!
//! Hashing a large provider on every launch is wasteful, so digests are remembered per
//! (device, inode, size, modification time, status-change time): a file rewritten in place gets a
//! new key even when its modification time is set back (writing always moves `ctime`, which no
//! user call can set), and is hashed again.
//!
//! The race that remains: the file is hashed, then executed by path, so a file swapped between
//! the two runs unchecked. Closing it needs executing the very file that was hashed
//! (`fexecve`), which `std::process::Command` cannot express; keep plugin directories writable
//! only by their owner.

use std::collections::HashMap;
use std::io::Read;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Mutex, OnceLock};

use crate::error::Error;

type FileKey = (u64, u64, u64, i64, i64, i64, i64);

fn cache() -> &'static Mutex<HashMap<FileKey, Vec<u8>>> {
    static CACHE: OnceLock<Mutex<HashMap<FileKey, Vec<u8>>>> = OnceLock::new();
    CACHE.get_or_init(Default::default)
}

/// The SHA-256 of the file, computed once per version of the file.
pub fn sha256_file(path: &Path) -> Result<Vec<u8>, Error> {
    let io_err = |e| Error::Config(format!("error verifying checksum: {}: {e}", path.display()));
    let meta = std::fs::metadata(path).map_err(io_err)?;
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
    let mut file = std::fs::File::open(path).map_err(io_err)?;
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

/// Checks `path` against `expected` with go-plugin's error texts.
pub fn verify(path: &Path, expected: &[u8]) -> Result<(), Error> {
    if expected.is_empty() {
        return Err(Error::Config("no checksum provided".into()));
    }
    let actual = sha256_file(path)?;
    if aws_lc_rs::constant_time::verify_slices_are_equal(&actual, expected).is_err() {
        return Err(Error::Config(format!(
            "checksums did not match: {} has SHA-256 {}, the host expects {}",
            path.display(),
            hex(&actual),
            hex(expected)
        )));
    }
    Ok(())
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert!(verify(&path, &abc).is_ok());
        let err = verify(&path, &[0u8; 32]).unwrap_err().to_string();
        assert!(err.starts_with("checksums did not match"), "{err}");
        assert_eq!(
            verify(&path, &[]).unwrap_err().to_string(),
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
        let err = verify(Path::new("/nonexistent/plugin"), &[1])
            .unwrap_err()
            .to_string();
        assert!(err.contains("/nonexistent/plugin"), "{err}");
    }
}
