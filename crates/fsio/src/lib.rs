//! Durable file writes, the one way coopbench writes state and outputs: a
//! temporary file in the target directory, fsync'd, then renamed (replace) or
//! linked (no-clobber) into place, then the directory fsync'd. A crash, even
//! `kill -9`, leaves the old file or the new one, never a part. Secrets are
//! created 0600 and checked before use.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// Creates `dir` and its parents (new directories 0700 on unix: the pool
/// directory holds the association's private key).
pub fn ensure_dir(dir: &Path) -> io::Result<()> {
    let mut b = fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

fn parent_of(path: &Path) -> PathBuf {
    path.parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."))
        .to_path_buf()
}

/// fsyncs a directory so that renames inside it survive a crash.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    #[cfg(unix)]
    fs::File::open(dir)?.sync_all()?;
    let _ = dir;
    Ok(())
}

fn staged(path: &Path, bytes: &[u8]) -> io::Result<(tempfile::NamedTempFile, PathBuf)> {
    let dir = parent_of(path);
    ensure_dir(&dir)?;
    // tempfile creates its files 0600.
    let mut tmp = tempfile::Builder::new()
        .prefix(".coopbench-")
        .suffix(".tmp")
        .tempfile_in(&dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    Ok((tmp, dir))
}

/// Writes `bytes` to `path` atomically, replacing it if it exists: a crash
/// leaves the old file or the new one, never a part.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, dir) = staged(path, bytes)?;
    tmp.persist(path).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// Writes `bytes` to a new file at `path`, whole or not at all; fails with
/// `AlreadyExists` if `path` exists (a temporary file, then a no-clobber
/// link). The file is 0600: use it for secrets, and for documents that must
/// not be replaced.
pub fn write_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, dir) = staged(path, bytes)?;
    tmp.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(&dir)
}

/// As [`write_new`], then readable by others (0644): for public documents.
pub fn write_new_public(path: &Path, bytes: &[u8]) -> io::Result<()> {
    write_new(path, bytes)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(path, fs::Permissions::from_mode(0o644))?;
    }
    Ok(())
}

/// Refuses a secret file that other users can read.
#[cfg(unix)]
pub fn check_private(path: &Path) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(path)
        .map_err(|e| format!("cannot read {}: {e}", path.display()))?
        .permissions()
        .mode();
    if mode & 0o077 != 0 {
        return Err(format!(
            "{} can be read by other users (mode {:o}); run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        ));
    }
    Ok(())
}

/// Refuses a secret file that other users can read (not checked off unix).
#[cfg(not(unix))]
pub fn check_private(_path: &Path) -> Result<(), String> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_atomic_replaces_and_leaves_no_temporary_file() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub/out.json");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"two");
        let names: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.json"]);
    }

    #[test]
    fn write_new_never_clobbers_and_creates_private_files() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("key");
        write_new(&p, b"secret").unwrap();
        let e = write_new(&p, b"other").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"secret");
        assert!(check_private(&p).is_ok());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                fs::metadata(&p).unwrap().permissions().mode() & 0o777,
                0o600
            );
            fs::set_permissions(&p, fs::Permissions::from_mode(0o644)).unwrap();
            let msg = check_private(&p).unwrap_err();
            assert!(msg.contains("chmod 600"), "{msg}");
        }
    }
}
