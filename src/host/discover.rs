//! Plugin discovery (go-plugin's `Discover(glob, dir)`): the files in `dir` whose names match a
//! glob pattern, as absolute paths.

use std::path::{Path, PathBuf};

use crate::error::Error;

/// The paths in `dir` matching `pattern` (for example `terraform-provider-*`), sorted.
pub fn discover(pattern: &str, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    let dir = std::fs::canonicalize(dir)
        .map_err(|e| Error::io(format!("plugin directory {}", dir.display()), e))?;
    let full = dir.join(pattern);
    let full = full.to_str().ok_or_else(|| {
        Error::Config(format!(
            "plugin directory {} is not valid UTF-8",
            dir.display()
        ))
    })?;
    let paths =
        glob::glob(full).map_err(|e| Error::Config(format!("bad plugin glob {pattern:?}: {e}")))?;
    let mut found: Vec<PathBuf> = paths
        .filter_map(Result::ok)
        .filter(|p| p.is_file())
        .collect();
    found.sort();
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_matching_files_only() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["tf-provider-a", "tf-provider-b", "other"] {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        std::fs::create_dir(dir.path().join("tf-provider-dir")).unwrap();
        let found = discover("tf-provider-*", dir.path()).unwrap();
        let names: Vec<_> = found
            .iter()
            .map(|p| p.file_name().unwrap().to_str().unwrap())
            .collect();
        assert_eq!(names, ["tf-provider-a", "tf-provider-b"]);
        assert!(found.iter().all(|p| p.is_absolute()));
    }

    #[test]
    fn bad_pattern_and_missing_dir_are_errors() {
        let dir = tempfile::tempdir().unwrap();
        assert!(discover("[", dir.path()).is_err());
        assert!(discover("*", Path::new("/nonexistent-dir")).is_err());
    }
}
