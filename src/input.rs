//! Opening input files that someone else may control: regular files only, never blocking,
//! never more than a cap.
//!
//! A spec, a registry, a CSR or a CA file can come from a pull request. A path that names a
//! FIFO would block the run forever, `/dev/zero` or `/dev/urandom` would be read until memory
//! runs out, and a folder or a socket gives a confusing I/O error. So every input is checked
//! twice: its metadata *before* it is opened (a FIFO is never opened for reading), and the
//! opened handle again (a path swapped for a FIFO in between still cannot block: the open is
//! non-blocking, and the handle must be a regular file). Reads stop one byte after the cap, so
//! a file that grows while it is read is refused too.

use std::fs::File;
use std::io::Read;
use std::path::Path;

/// Why an input file was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InputError {
    /// Not a regular file; the text names what it is ("a named pipe (FIFO)").
    #[error("it is {0}, not a regular file")]
    NotRegular(&'static str),
    /// Longer than the cap.
    #[error("it is {}; fleetform reads at most {} here", size_text(*.size), size_text(*.limit))]
    TooLarge { size: u64, limit: u64 },
    /// Reading failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
}

impl InputError {
    /// A hint for people: what to give instead.
    pub fn hint(&self) -> &'static str {
        match self {
            InputError::NotRegular(_) => {
                "give the path of a regular text file; fleetform does not read pipes, devices, sockets, folders or symbolic links here"
            }
            InputError::TooLarge { .. } => {
                "split the file, or register a fleet this large through fleet provisioning (AWS) or DPS enrollment groups (Azure)"
            }
            InputError::Io(_) => "check that the path exists and can be read",
        }
    }
}

/// Whether a symbolic link as the last component of the path is followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Links {
    /// Follow it (a path the user typed).
    Follow,
    /// Refuse it (a path named inside an input someone else wrote).
    Refuse,
}

/// `1.5 MiB`, `512 MiB`, `300 bytes`.
pub fn size_text(bytes: u64) -> String {
    const MIB: f64 = 1024.0 * 1024.0;
    if bytes < 1024 * 1024 {
        return format!("{bytes} bytes");
    }
    let mib = bytes as f64 / MIB;
    if (mib.fract()).abs() < f64::EPSILON {
        format!("{mib:.0} MiB")
    } else {
        format!("{mib:.1} MiB")
    }
}

fn kind(t: std::fs::FileType) -> Option<&'static str> {
    if t.is_file() {
        return None;
    }
    if t.is_dir() {
        return Some("a folder");
    }
    if t.is_symlink() {
        return Some("a symbolic link");
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt as _;
        if t.is_fifo() {
            return Some("a named pipe (FIFO)");
        }
        if t.is_char_device() || t.is_block_device() {
            return Some("a device");
        }
        if t.is_socket() {
            return Some("a socket");
        }
    }
    Some("not a regular file")
}

/// Opens `path` for reading if it is a regular file of at most `limit` bytes; returns the
/// handle and the file's length.
///
/// # Errors
/// [`InputError::NotRegular`] for anything but a regular file (checked before opening, and on
/// the opened handle), [`InputError::TooLarge`] above `limit`, [`InputError::Io`] otherwise.
pub fn open(path: &Path, limit: u64, links: Links) -> Result<(File, u64), InputError> {
    let meta = match links {
        Links::Follow => std::fs::metadata(path)?,
        Links::Refuse => std::fs::symlink_metadata(path)?,
    };
    if let Some(what) = kind(meta.file_type()) {
        return Err(InputError::NotRegular(what));
    }
    let file = open_nonblocking(path, links)?;
    let meta = file.metadata()?;
    if let Some(what) = kind(meta.file_type()) {
        return Err(InputError::NotRegular(what));
    }
    if meta.len() > limit {
        return Err(InputError::TooLarge {
            size: meta.len(),
            limit,
        });
    }
    Ok((file, meta.len()))
}

#[cfg(unix)]
fn open_nonblocking(path: &Path, links: Links) -> std::io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let mut flags = libc::O_NONBLOCK;
    if links == Links::Refuse {
        flags |= libc::O_NOFOLLOW;
    }
    std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)
}

#[cfg(not(unix))]
fn open_nonblocking(path: &Path, _links: Links) -> std::io::Result<File> {
    File::open(path)
}

/// Reads all of a regular file of at most `limit` bytes (see [`open`]).
///
/// # Errors
/// As [`open`]; also [`InputError::TooLarge`] when the file grows past `limit` while it is read.
pub fn read(path: &Path, limit: u64, links: Links) -> Result<Vec<u8>, InputError> {
    let (file, len) = open(path, limit, links)?;
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    file.take(limit.saturating_add(1)).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(InputError::TooLarge {
            size: bytes.len() as u64,
            limit,
        });
    }
    Ok(bytes)
}

/// Refuses symbolic links on the way from `base` to `base/rel` (`base` itself may be one).
///
/// # Errors
/// [`InputError::NotRegular`] naming the first link found.
pub fn no_links_below(base: &Path, rel: &Path) -> Result<(), InputError> {
    let mut cur = base.to_path_buf();
    for comp in rel.components() {
        cur.push(comp);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => {
                return Err(InputError::NotRegular(
                    "a symbolic link (or inside a linked folder)",
                ));
            }
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_are_read_up_to_the_cap() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.csv");
        std::fs::write(&p, "id\nx\n").unwrap();
        assert_eq!(read(&p, 5, Links::Refuse).unwrap(), b"id\nx\n");
        let err = read(&p, 4, Links::Refuse).unwrap_err();
        assert!(
            matches!(err, InputError::TooLarge { size: 5, limit: 4 }),
            "{err}"
        );
        assert_eq!(
            err.to_string(),
            "it is 5 bytes; fleetform reads at most 4 bytes here"
        );
    }

    #[test]
    fn a_huge_sparse_file_is_refused_before_reading() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("huge.csv");
        let f = File::create(&p).unwrap();
        f.set_len(600 * 1024 * 1024).unwrap();
        let err = read(&p, 512 * 1024 * 1024, Links::Refuse).unwrap_err();
        assert_eq!(
            err.to_string(),
            "it is 600 MiB; fleetform reads at most 512 MiB here"
        );
    }

    #[test]
    fn folders_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let err = read(dir.path(), 10, Links::Follow).unwrap_err();
        assert_eq!(err.to_string(), "it is a folder, not a regular file");
    }

    #[cfg(unix)]
    #[test]
    fn devices_are_refused() {
        for dev in ["/dev/zero", "/dev/urandom", "/dev/null"] {
            let err = read(Path::new(dev), 1 << 20, Links::Follow).unwrap_err();
            assert_eq!(
                err.to_string(),
                "it is a device, not a regular file",
                "{dev}"
            );
        }
    }

    #[cfg(unix)]
    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("pipe.csv");
        let status = std::process::Command::new("mkfifo")
            .arg(&p)
            .status()
            .unwrap();
        assert!(status.success());
        // With no writer, a blocking open would never return: run it on a thread and give up
        // after a while rather than hang the test suite.
        let (tx, rx) = std::sync::mpsc::channel();
        let path = p.clone();
        std::thread::spawn(move || {
            let _ = tx.send(read(&path, 1 << 20, Links::Refuse).map_err(|e| e.to_string()));
        });
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("reading a FIFO returned promptly");
        assert_eq!(
            got.unwrap_err(),
            "it is a named pipe (FIFO), not a regular file"
        );
    }

    #[cfg(unix)]
    #[test]
    fn links_are_refused_when_asked() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("real.csv");
        std::fs::write(&target, "id\n").unwrap();
        let link = dir.path().join("link.csv");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        assert!(read(&link, 100, Links::Follow).is_ok());
        let err = read(&link, 100, Links::Refuse).unwrap_err();
        assert_eq!(err.to_string(), "it is a symbolic link, not a regular file");
        let sub = dir.path().join("sub");
        std::os::unix::fs::symlink(dir.path(), &sub).unwrap();
        let err = no_links_below(dir.path(), Path::new("sub/real.csv")).unwrap_err();
        assert!(err.to_string().contains("symbolic link"), "{err}");
        assert!(no_links_below(dir.path(), Path::new("real.csv")).is_ok());
    }
}
