//! File helpers: atomic writes (temporary file, fsync, rename, fsync the
//! directory), no-clobber writes for secrets and documents that must never be
//! replaced, the 0600 check on the association's key, and safe path pieces.

use coopbench_protocol::pool::is_identifier;
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

/// Checks an id (round, pool, metric) right before it becomes part of a
/// path: 1-64 characters of `a-z 0-9 - _ .`, not starting with `.` (so no
/// separators, no `..`, no control characters, nothing hidden). `what` names
/// it in the error, e.g. "round id".
pub fn path_id<'a>(what: &str, id: &'a str) -> Result<&'a str, String> {
    if is_identifier(id) {
        Ok(id)
    } else {
        Err(format!(
            "{what} {id:?} cannot be used in a file name: it must be 1-64 characters of a-z, 0-9, '-', '_' or '.', not starting with '.'"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_ids_are_refused() {
        for bad in [
            "",
            "..",
            ".",
            "../x",
            "a/b",
            "a\\b",
            "/etc",
            "x\ny",
            "x\0",
            ".hidden",
            "Round",
            "a b",
            "2025q4/../../x",
            "é",
        ] {
            assert!(path_id("round id", bad).is_err(), "{bad:?} accepted");
        }
        let long = "a".repeat(65);
        assert!(path_id("round id", &long).is_err());
        for good in ["2025q4", "r-1", "a.b_c", "0"] {
            assert_eq!(path_id("round id", good), Ok(good));
        }
        let e = path_id("round id", "../x").unwrap_err();
        assert!(e.contains("round id \"../x\""), "{e}");
    }

    #[test]
    fn write_new_never_replaces() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sub").join("f");
        write_new(&p, b"one").unwrap();
        let e = write_new(&p, b"two").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::AlreadyExists);
        assert_eq!(fs::read(&p).unwrap(), b"one");
        write_atomic(&p, b"three").unwrap();
        assert_eq!(fs::read(&p).unwrap(), b"three");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let q = d.path().join("secret");
            write_new(&q, b"s").unwrap();
            assert_eq!(
                fs::metadata(&q).unwrap().permissions().mode() & 0o777,
                0o600
            );
            assert!(check_private(&q).is_ok());
            fs::set_permissions(&q, fs::Permissions::from_mode(0o644)).unwrap();
            assert!(check_private(&q).unwrap_err().contains("chmod 600"));
        }
        // No temporary files left behind.
        let left: Vec<_> = fs::read_dir(p.parent().unwrap())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left.len(), 1, "{left:?}");
    }
}
