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

/// Checks that `path` can take an output file written by [`write_atomic`]
/// (a temporary file renamed over it), before any work is done or charged:
/// it must be a new name or an existing regular file, not a symbolic link
/// (`/dev/stdout` is one), a FIFO, a device, a socket or a directory, which
/// the rename would replace with a regular file; and its directory must
/// exist and accept a new file (probed with a temporary file, removed at
/// once). The error says which.
pub fn check_output_target(path: &Path) -> Result<(), String> {
    let shown = path.display();
    match fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "{shown} is a symbolic link: the output is written as a new regular file and would replace the link; give the real path of a file"
            ))
        }
        Ok(m) if m.is_dir() => return Err(format!("{shown} is a directory; give a file name")),
        Ok(m) if !m.is_file() => {
            return Err(format!(
                "{shown} is not a regular file (a device, a FIFO or a socket): the output is only written to regular files"
            ))
        }
        Ok(_) => {}
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{shown}: {e}")),
    }
    let dir = parent_of(path);
    tempfile::Builder::new()
        .prefix(".coopbench-")
        .suffix(".tmp")
        .tempfile_in(&dir)
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot write {shown}: its directory {} does not take a new file: {e}",
                dir.display()
            )
        })
}

/// Checks that `dir` can take an output directory written by
/// [`write_dir_atomic`], before any work is done: it must be a new name, or
/// with `replace` an existing directory (not a symbolic link) that holds
/// only regular files, as an earlier output does; and its parent must exist
/// and accept a new directory (probed, removed at once). The error says
/// which, and that `--force` replaces an existing output.
pub fn check_output_dir(dir: &Path, replace: bool) -> Result<(), String> {
    let shown = dir.display();
    match fs::symlink_metadata(dir) {
        Ok(m) if m.file_type().is_symlink() => {
            return Err(format!(
                "{shown} is a symbolic link: the output is written as a new directory and would replace the link; give the real path"
            ))
        }
        Ok(m) if !m.is_dir() => {
            return Err(format!("{shown} exists and is not a directory; give a new directory name"))
        }
        Ok(_) if !replace => {
            return Err(format!(
                "{shown} already exists: nothing is overwritten unless you pass --force"
            ))
        }
        Ok(_) => {
            let entries = fs::read_dir(dir).map_err(|e| format!("{shown}: {e}"))?;
            for e in entries {
                let e = e.map_err(|e| format!("{shown}: {e}"))?;
                let regular = e.file_type().map_err(|e| format!("{shown}: {e}"))?.is_file();
                if !regular {
                    return Err(format!(
                        "{shown} holds {}, which is not a regular file: --force only replaces a directory of files as this command writes them",
                        e.path().display()
                    ));
                }
            }
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => return Err(format!("{shown}: {e}")),
    }
    let parent = parent_of(dir);
    tempfile::Builder::new()
        .prefix(".coopbench-")
        .tempdir_in(&parent)
        .map(drop)
        .map_err(|e| {
            format!(
                "cannot write {shown}: its directory {} does not take a new directory: {e}",
                parent.display()
            )
        })
}

/// Writes `files` (name, bytes) as the directory `dir`, whole or not at all:
/// a staging directory beside it takes every file (fsync'd), then is renamed
/// to `dir`. With `replace`, an existing `dir` is first renamed aside and
/// removed once the new one is in place; a crash between the two renames
/// leaves no `dir` and the old one under a `.coopbench-` name beside it,
/// never a mixture. Names must be plain file names.
pub fn write_dir_atomic(dir: &Path, files: &[(String, Vec<u8>)], replace: bool) -> io::Result<()> {
    let parent = parent_of(dir);
    let staging = tempfile::Builder::new()
        .prefix(".coopbench-")
        .suffix(".tmp")
        .tempdir_in(&parent)?;
    for (name, bytes) in files {
        if Path::new(name).file_name() != Some(std::ffi::OsStr::new(name)) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("{name:?} is not a plain file name"),
            ));
        }
        let mut f = fs::File::create_new(staging.path().join(name))?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    sync_dir(staging.path())?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        fs::set_permissions(staging.path(), fs::Permissions::from_mode(0o755))?;
    }
    let old = if replace && fs::symlink_metadata(dir).is_ok_and(|m| m.is_dir()) {
        let aside = tempfile::Builder::new()
            .prefix(".coopbench-old-")
            .tempdir_in(&parent)?
            .keep();
        fs::rename(dir, &aside)?;
        Some(aside)
    } else {
        None
    };
    let staged = staging.keep();
    if let Err(e) = fs::rename(&staged, dir) {
        let _ = fs::remove_dir_all(&staged);
        if let Some(old) = &old {
            let _ = fs::rename(old, dir);
        }
        return Err(e);
    }
    sync_dir(&parent)?;
    if let Some(old) = old {
        fs::remove_dir_all(old)?;
    }
    Ok(())
}

/// Reads a whole file of at most `limit` bytes. A larger file is refused
/// before it is read whole (its length is checked first, and at most
/// `limit + 1` bytes are ever read, for files whose length is not known in
/// advance such as pipes): the error, of kind `FileTooLarge`, says "`what`
/// is larger than the limit" with both numbers.
pub fn read_bounded(path: &Path, limit: u64, what: &str) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let file = fs::File::open(path)?;
    let too_large = |size: String| {
        io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("{size}; {what} is at most {limit} bytes, so it is not read"),
        )
    };
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(format!("it is {} bytes", meta.len())));
    }
    let mut out = Vec::with_capacity(meta.len().min(limit) as usize);
    file.take(limit + 1).read_to_end(&mut out)?;
    if out.len() as u64 > limit {
        return Err(too_large(format!("it is more than {limit} bytes")));
    }
    Ok(out)
}

/// As [`read_bounded`], as UTF-8 text.
pub fn read_text_bounded(path: &Path, limit: u64, what: &str) -> io::Result<String> {
    String::from_utf8(read_bounded(path, limit, what)?)
        .map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "it is not UTF-8 text"))
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
    fn an_output_directory_is_written_whole_and_replaced_only_when_asked() {
        let d = tempfile::tempdir().unwrap();
        let out = d.path().join("out");
        let files = |x: &str| vec![("a.csv".to_string(), x.as_bytes().to_vec())];
        check_output_dir(&out, false).unwrap();
        write_dir_atomic(&out, &files("1"), false).unwrap();
        assert_eq!(fs::read(out.join("a.csv")).unwrap(), b"1");
        let e = check_output_dir(&out, false).unwrap_err();
        assert!(e.contains("--force"), "{e}");
        check_output_dir(&out, true).unwrap();
        write_dir_atomic(&out, &files("2"), true).unwrap();
        assert_eq!(fs::read(out.join("a.csv")).unwrap(), b"2");
        // Nothing beside it: no staging, no old copy.
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out"]);
        // A directory holding a subdirectory is not an earlier output.
        fs::create_dir(out.join("keep")).unwrap();
        assert!(check_output_dir(&out, true)
            .unwrap_err()
            .contains("not a regular file"));
        // A name that is not a plain file name writes nothing.
        let bad = vec![("../x.csv".to_string(), b"x".to_vec())];
        assert!(write_dir_atomic(&d.path().join("new"), &bad, false).is_err());
        assert!(!d.path().join("new").exists() && !d.path().join("x.csv").exists());
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(&out, d.path().join("link")).unwrap();
            let e = check_output_dir(&d.path().join("link"), true).unwrap_err();
            assert!(e.contains("symbolic link"), "{e}");
        }
    }

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
    fn output_targets_must_be_regular_files_in_a_writable_directory() {
        let d = tempfile::tempdir().unwrap();
        let new = d.path().join("new.json");
        assert_eq!(check_output_target(&new), Ok(()));
        fs::write(&new, b"x").unwrap();
        assert_eq!(check_output_target(&new), Ok(()));
        let e = check_output_target(d.path()).unwrap_err();
        assert!(e.contains("is a directory"), "{e}");
        let e = check_output_target(&d.path().join("nowhere/x.json")).unwrap_err();
        assert!(e.contains("does not take a new file"), "{e}");
        #[cfg(unix)]
        {
            let link = d.path().join("link.json");
            std::os::unix::fs::symlink(&new, &link).unwrap();
            let e = check_output_target(&link).unwrap_err();
            assert!(e.contains("symbolic link"), "{e}");
            let e = check_output_target(Path::new("/dev/null")).unwrap_err();
            assert!(e.contains("not a regular file"), "{e}");
        }
        // Nothing was left behind by the probes.
        let names: Vec<_> = fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names.len(), 2, "{names:?}");
    }

    #[test]
    fn read_bounded_refuses_past_the_limit_without_reading_it() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("f");
        fs::write(&p, b"12345").unwrap();
        assert_eq!(read_bounded(&p, 5, "a test file").unwrap(), b"12345");
        let e = read_bounded(&p, 4, "a test file").unwrap_err();
        assert_eq!(e.kind(), io::ErrorKind::FileTooLarge);
        assert!(
            e.to_string()
                .contains("it is 5 bytes; a test file is at most 4 bytes"),
            "{e}"
        );
        #[cfg(unix)]
        {
            // A device has no length: the bound is enforced while reading.
            let e = read_bounded(Path::new("/dev/zero"), 1000, "a test file").unwrap_err();
            assert!(e.to_string().contains("more than 1000 bytes"), "{e}");
        }
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
