//! Files under one folder, never through a link.
//!
//! fleetform writes into folders a pull request may have prepared (`build --out`, the
//! certificate kit's `--out`) and reads folders and files it may have filled (`check`, a
//! spec's registry). A symlink planted there would turn a write into a write anywhere the
//! process can reach (a private key into a Terraform folder, a file over `~/.ssh/config`)
//! and a read into a leak (a system file's contents in a public CI log). So every operation
//! here starts from a handle on one folder, the [`Root`], and walks each component of a
//! relative path with `openat(O_NOFOLLOW)`: a link anywhere on the way is an
//! [`Error::Link`], never a detour, and a folder swapped for a link after a check cannot
//! redirect the write that follows it (the handle still names the folder that was checked).
//!
//! The root itself is opened with the same rule for every component of its path that lies
//! inside the working folder, the part a checked-out repository controls. Components above
//! the working folder, and absolute paths elsewhere, are the machine's own layout (macOS
//! links `/tmp` to `/private/tmp`), so there only the root's own last component must not be
//! a link.
//!
//! Built on `rustix` (already in the tree through `tempfile`): safe wrappers for `openat`,
//! `mkdirat`, `renameat`, `unlinkat` and `fstatat`, so this crate keeps `unsafe_code =
//! "forbid"`. `cap-std` was the alternative; it sandboxes paths *inside* a folder but follows
//! links that stay inside, and fleetform wants no link at all in what it owns. On other
//! platforms the same API checks every component with `symlink_metadata` before using the
//! path, which refuses planted links but not a race against a concurrent writer.
//!
//! Longer than most modules (about 700 lines before its tests) because it holds both
//! implementations of one small API, the Unix handles and the checked-path fallback, side by
//! side, so a change to one is made to the other in the same place.

use std::ffi::OsString;
use std::fmt::Write as _;
use std::io::Read as _;
use std::path::{Component, Path, PathBuf};

/// What is at a path (without following a link there).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    File,
    Dir,
    /// A symlink: at the path itself or at a folder on the way to it.
    Link,
    /// A FIFO, socket or device.
    Other,
}

/// Why a file operation was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    #[error(
        "`{}` is a symlink; fleetform does not read or write through links\nhint: replace the link with the real folder or file, or choose another path",
        .0.display()
    )]
    Link(PathBuf),
    #[error("`{}` is not a folder", .0.display())]
    NotADirectory(PathBuf),
    #[error("`{}` is not a regular file (a FIFO, socket or device?)", .0.display())]
    NotAFile(PathBuf),
    #[error("`{}` is larger than {limit} bytes, more than fleetform reads", path.display())]
    TooLarge { path: PathBuf, limit: u64 },
    #[error("`{0}` is not a plain relative path inside the folder")]
    BadPath(String),
    #[error("{}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl Error {
    /// Whether the error means "nothing there".
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound)
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// File permissions fleetform writes with (Unix; ignored elsewhere).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// 0644.
    Public,
    /// 0755.
    Executable,
    /// 0600: private keys.
    Secret,
}

impl Mode {
    #[cfg_attr(not(unix), allow(dead_code))]
    fn bits(self) -> u32 {
        match self {
            Mode::Public => 0o644,
            Mode::Executable => 0o755,
            Mode::Secret => 0o600,
        }
    }
}

/// The names of a relative path, refusing anything but plain names.
fn names(rel: &Path) -> Result<Vec<OsString>> {
    let mut out = Vec::new();
    for c in rel.components() {
        match c {
            Component::Normal(n) => out.push(n.to_owned()),
            Component::CurDir => {}
            _ => return Err(Error::BadPath(rel.display().to_string())),
        }
    }
    if out.is_empty() {
        return Err(Error::BadPath(rel.display().to_string()));
    }
    Ok(out)
}

/// The part of `path` a checked-out repository may control: the components after the
/// working folder (all of them for a relative path), or only the last one elsewhere. When
/// `create`, folders missing above that last one are walked (and created) like it, so
/// `certs --out /tmp/x/pki/certs` creates `pki` too; the walk starts at the deepest folder
/// that exists.
fn split_trusted(path: &Path, create: bool) -> (PathBuf, Vec<Component<'_>>) {
    if path.is_relative() {
        return (PathBuf::from("."), path.components().collect());
    }
    if let Ok(cwd) = std::env::current_dir()
        && let Ok(rest) = path.strip_prefix(&cwd)
    {
        return (cwd, rest.components().collect());
    }
    match (path.parent(), path.file_name()) {
        (Some(parent), Some(_)) => {
            let mut base = parent;
            while create && !base.exists() {
                match base.parent() {
                    Some(up) => base = up,
                    None => break,
                }
            }
            match path.strip_prefix(base) {
                Ok(rest) if base != parent => (base.to_path_buf(), rest.components().collect()),
                _ => (
                    parent.to_path_buf(),
                    path.components().next_back().into_iter().collect(),
                ),
            }
        }
        _ => (path.to_path_buf(), Vec::new()),
    }
}

#[cfg(unix)]
mod imp {
    use std::os::fd::OwnedFd;

    use rustix::fs::{AtFlags, CWD, FileType, Mode as RMode, OFlags};
    use rustix::io::Errno;

    use super::{Component, Error, Kind, Mode, OsString, Path, PathBuf, Result, names};

    const DIR_FLAGS: OFlags = OFlags::RDONLY
        .union(OFlags::DIRECTORY)
        .union(OFlags::NOFOLLOW)
        .union(OFlags::CLOEXEC);

    fn io(path: &Path, e: impl Into<std::io::Error>) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source: e.into(),
        }
    }

    fn kind_of(ft: FileType) -> Kind {
        match ft {
            FileType::RegularFile => Kind::File,
            FileType::Directory => Kind::Dir,
            FileType::Symlink => Kind::Link,
            _ => Kind::Other,
        }
    }

    /// Opens the folder `name` in `dir` without following a link; `shown` is its path.
    fn open_dir(dir: &OwnedFd, name: &OsString, shown: &Path) -> Result<OwnedFd> {
        match rustix::fs::openat(dir, name.as_os_str(), DIR_FLAGS, RMode::empty()) {
            Ok(fd) => Ok(fd),
            Err(e) if e == Errno::LOOP || e == Errno::NOTDIR => {
                match rustix::fs::statat(dir, name.as_os_str(), AtFlags::SYMLINK_NOFOLLOW) {
                    Ok(st) if FileType::from_raw_mode(st.st_mode) == FileType::Symlink => {
                        Err(Error::Link(shown.to_path_buf()))
                    }
                    _ => Err(Error::NotADirectory(shown.to_path_buf())),
                }
            }
            Err(e) => Err(io(shown, e)),
        }
    }

    /// A folder opened once; every path below it is walked without following links.
    #[derive(Debug)]
    pub struct Root {
        fd: OwnedFd,
        path: PathBuf,
    }

    impl Root {
        pub(super) fn open_with(path: &Path, create: Option<Mode>) -> Result<(Root, Vec<PathBuf>)> {
            let (base, rest) = super::split_trusted(path, create.is_some());
            let mut fd = rustix::fs::openat(
                CWD,
                base.as_path(),
                OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC,
                RMode::empty(),
            )
            .map_err(|e| io(&base, e))?;
            let mut shown = if base == Path::new(".") {
                PathBuf::new()
            } else {
                base.clone()
            };
            let mut created = Vec::new();
            for c in rest {
                match c {
                    Component::CurDir | Component::RootDir | Component::Prefix(_) => {}
                    Component::ParentDir => {
                        shown.push("..");
                        fd = rustix::fs::openat(&fd, "..", DIR_FLAGS, RMode::empty())
                            .map_err(|e| io(&shown, e))?;
                    }
                    Component::Normal(n) => {
                        shown.push(n);
                        let name = n.to_owned();
                        fd = match open_dir(&fd, &name, &shown) {
                            Err(e) if e.is_not_found() && create.is_some() => {
                                let mode = create.map_or(0o755, |m| {
                                    if m == Mode::Secret { 0o700 } else { 0o755 }
                                });
                                match rustix::fs::mkdirat(
                                    &fd,
                                    name.as_os_str(),
                                    RMode::from_raw_mode(mode),
                                ) {
                                    Ok(()) => created.push(shown.clone()),
                                    Err(e) if e == Errno::EXIST => {}
                                    Err(e) => return Err(io(&shown, e)),
                                }
                                open_dir(&fd, &name, &shown)?
                            }
                            other => other?,
                        };
                    }
                }
            }
            Ok((
                Root {
                    fd,
                    path: path.to_path_buf(),
                },
                created,
            ))
        }

        pub fn path(&self) -> &Path {
            &self.path
        }

        /// The folder holding `rel`'s last name, and that name.
        fn parent(&self, rel: &Path) -> Result<(Option<OwnedFd>, OsString)> {
            let mut parts = names(rel)?;
            let last = parts.pop().unwrap_or_default();
            let mut shown = self.path.clone();
            let mut fd: Option<OwnedFd> = None;
            for n in &parts {
                shown.push(n);
                let next = open_dir(fd.as_ref().unwrap_or(&self.fd), n, &shown)?;
                fd = Some(next);
            }
            Ok((fd, last))
        }

        pub fn kind(&self, rel: impl AsRef<Path>) -> Result<Option<Kind>> {
            let rel = rel.as_ref();
            let (dir, name) = match self.parent(rel) {
                Ok(p) => p,
                Err(Error::Link(_)) => return Ok(Some(Kind::Link)),
                Err(Error::NotADirectory(_)) => return Ok(None),
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            };
            match rustix::fs::statat(
                dir.as_ref().unwrap_or(&self.fd),
                name.as_os_str(),
                AtFlags::SYMLINK_NOFOLLOW,
            ) {
                Ok(st) => Ok(Some(kind_of(FileType::from_raw_mode(st.st_mode)))),
                Err(e) if e == Errno::NOENT || e == Errno::NOTDIR => Ok(None),
                Err(e) => Err(io(&self.path.join(rel), e)),
            }
        }

        pub(super) fn open_read_impl(&self, rel: &Path) -> Result<Option<std::fs::File>> {
            let shown = self.path.join(rel);
            let (dir, name) = match self.parent(rel) {
                Err(e) if e.is_not_found() => return Ok(None),
                other => other?,
            };
            let flags = OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
            let fd = match rustix::fs::openat(
                dir.as_ref().unwrap_or(&self.fd),
                name.as_os_str(),
                flags,
                RMode::empty(),
            ) {
                Ok(fd) => fd,
                Err(e) if e == Errno::NOENT => return Ok(None),
                Err(e) if e == Errno::LOOP => return Err(Error::Link(shown)),
                Err(e) => return Err(io(&shown, e)),
            };
            let st = rustix::fs::fstat(&fd).map_err(|e| io(&shown, e))?;
            match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => Ok(Some(std::fs::File::from(fd))),
                FileType::Directory => Err(Error::NotAFile(shown)),
                _ => Err(Error::NotAFile(shown)),
            }
        }

        pub(super) fn open_rw_impl(&self, rel: &Path) -> Result<Option<std::fs::File>> {
            let shown = self.path.join(rel);
            let (dir, name) = match self.parent(rel) {
                Err(e) if e.is_not_found() => return Ok(None),
                other => other?,
            };
            let flags = OFlags::RDWR | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::CLOEXEC;
            let fd = match rustix::fs::openat(
                dir.as_ref().unwrap_or(&self.fd),
                name.as_os_str(),
                flags,
                RMode::empty(),
            ) {
                Ok(fd) => fd,
                Err(e) if e == Errno::NOENT => return Ok(None),
                Err(e) if e == Errno::LOOP => return Err(Error::Link(shown)),
                Err(e) if e == Errno::ISDIR => return Err(Error::NotAFile(shown)),
                Err(e) => return Err(io(&shown, e)),
            };
            let st = rustix::fs::fstat(&fd).map_err(|e| io(&shown, e))?;
            match FileType::from_raw_mode(st.st_mode) {
                FileType::RegularFile => Ok(Some(std::fs::File::from(fd))),
                _ => Err(Error::NotAFile(shown)),
            }
        }

        pub(super) fn create_file(&self, rel: &Path, mode: Mode) -> Result<std::fs::File> {
            let shown = self.path.join(rel);
            let (dir, name) = self.parent(rel)?;
            let flags =
                OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC;
            let fd = rustix::fs::openat(
                dir.as_ref().unwrap_or(&self.fd),
                name.as_os_str(),
                flags,
                RMode::from_raw_mode(mode.bits()),
            )
            .map_err(|e| io(&shown, e))?;
            // The umask can only narrow the mode `open` used; set exactly what was asked.
            rustix::fs::fchmod(&fd, RMode::from_raw_mode(mode.bits()))
                .map_err(|e| io(&shown, e))?;
            Ok(std::fs::File::from(fd))
        }

        pub(super) fn mkdir(&self, rel: &Path, secret: bool) -> Result<bool> {
            let (dir, name) = self.parent(rel)?;
            let mode = if secret { 0o700 } else { 0o755 };
            match rustix::fs::mkdirat(
                dir.as_ref().unwrap_or(&self.fd),
                name.as_os_str(),
                RMode::from_raw_mode(mode),
            ) {
                Ok(()) => Ok(true),
                Err(e) if e == Errno::EXIST => match self.kind(rel)? {
                    Some(Kind::Dir) => Ok(false),
                    Some(Kind::Link) => Err(Error::Link(self.path.join(rel))),
                    _ => Err(Error::NotADirectory(self.path.join(rel))),
                },
                Err(e) => Err(io(&self.path.join(rel), e)),
            }
        }

        pub fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
            let (from, to) = (from.as_ref(), to.as_ref());
            let (fdir, fname) = self.parent(from)?;
            let (tdir, tname) = self.parent(to)?;
            rustix::fs::renameat(
                fdir.as_ref().unwrap_or(&self.fd),
                fname.as_os_str(),
                tdir.as_ref().unwrap_or(&self.fd),
                tname.as_os_str(),
            )
            .map_err(|e| io(&self.path.join(to), e))
        }

        fn unlink(&self, rel: &Path, flags: AtFlags) -> Result<()> {
            let (dir, name) = self.parent(rel)?;
            rustix::fs::unlinkat(dir.as_ref().unwrap_or(&self.fd), name.as_os_str(), flags)
                .map_err(|e| io(&self.path.join(rel), e))
        }

        pub fn remove_file(&self, rel: impl AsRef<Path>) -> Result<()> {
            self.unlink(rel.as_ref(), AtFlags::empty())
        }

        pub fn remove_dir(&self, rel: impl AsRef<Path>) -> Result<()> {
            self.unlink(rel.as_ref(), AtFlags::REMOVEDIR)
        }
    }
}

#[cfg(not(unix))]
mod imp {
    use super::{Component, Error, Kind, Mode, Path, PathBuf, Result, names};

    fn io(path: &Path, e: std::io::Error) -> Error {
        Error::Io {
            path: path.to_path_buf(),
            source: e,
        }
    }

    /// A folder; every path below it is checked for links, component by component.
    #[derive(Debug)]
    pub struct Root {
        path: PathBuf,
    }

    fn kind_at(path: &Path) -> std::io::Result<Kind> {
        let ft = std::fs::symlink_metadata(path)?.file_type();
        Ok(if ft.is_symlink() {
            Kind::Link
        } else if ft.is_dir() {
            Kind::Dir
        } else if ft.is_file() {
            Kind::File
        } else {
            Kind::Other
        })
    }

    impl Root {
        pub(super) fn open_with(path: &Path, create: Option<Mode>) -> Result<(Root, Vec<PathBuf>)> {
            let (base, rest) = super::split_trusted(path, create.is_some());
            let mut cur = base;
            let mut created = Vec::new();
            for c in rest {
                match c {
                    Component::Normal(n) => cur.push(n),
                    Component::ParentDir => cur.push(".."),
                    _ => continue,
                }
                match kind_at(&cur) {
                    Ok(Kind::Dir) => {}
                    Ok(Kind::Link) => return Err(Error::Link(cur)),
                    Ok(_) => return Err(Error::NotADirectory(cur)),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound && create.is_some() => {
                        std::fs::create_dir(&cur).map_err(|e| io(&cur, e))?;
                        created.push(cur.clone());
                    }
                    Err(e) => return Err(io(&cur, e)),
                }
            }
            Ok((
                Root {
                    path: path.to_path_buf(),
                },
                created,
            ))
        }

        pub fn path(&self) -> &Path {
            &self.path
        }

        /// The full path of `rel`, refusing links on the way.
        fn checked(&self, rel: &Path) -> Result<PathBuf> {
            let parts = names(rel)?;
            let mut cur = self.path.clone();
            for n in &parts[..parts.len() - 1] {
                cur.push(n);
                match kind_at(&cur) {
                    Ok(Kind::Dir) => {}
                    Ok(Kind::Link) => return Err(Error::Link(cur)),
                    Ok(_) => return Err(Error::NotADirectory(cur)),
                    Err(e) => return Err(io(&cur, e)),
                }
            }
            cur.push(&parts[parts.len() - 1]);
            Ok(cur)
        }

        pub fn kind(&self, rel: impl AsRef<Path>) -> Result<Option<Kind>> {
            let rel = rel.as_ref();
            let full = match self.checked(rel) {
                Ok(p) => p,
                Err(Error::Link(_)) => return Ok(Some(Kind::Link)),
                Err(Error::NotADirectory(_)) => return Ok(None),
                Err(e) if e.is_not_found() => return Ok(None),
                Err(e) => return Err(e),
            };
            match kind_at(&full) {
                Ok(k) => Ok(Some(k)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(io(&full, e)),
            }
        }

        pub(super) fn open_read_impl(&self, rel: &Path) -> Result<Option<std::fs::File>> {
            let full = match self.checked(rel) {
                Err(e) if e.is_not_found() => return Ok(None),
                other => other?,
            };
            match kind_at(&full) {
                Ok(Kind::File) => {}
                Ok(Kind::Link) => return Err(Error::Link(full)),
                Ok(_) => return Err(Error::NotAFile(full)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io(&full, e)),
            }
            std::fs::File::open(&full)
                .map(Some)
                .map_err(|e| io(&full, e))
        }

        pub(super) fn open_rw_impl(&self, rel: &Path) -> Result<Option<std::fs::File>> {
            let full = match self.checked(rel) {
                Err(e) if e.is_not_found() => return Ok(None),
                other => other?,
            };
            match kind_at(&full) {
                Ok(Kind::File) => {}
                Ok(Kind::Link) => return Err(Error::Link(full)),
                Ok(_) => return Err(Error::NotAFile(full)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
                Err(e) => return Err(io(&full, e)),
            }
            std::fs::OpenOptions::new()
                .read(true)
                .write(true)
                .open(&full)
                .map(Some)
                .map_err(|e| io(&full, e))
        }

        pub(super) fn create_file(&self, rel: &Path, _mode: Mode) -> Result<std::fs::File> {
            let full = self.checked(rel)?;
            std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(&full)
                .map_err(|e| io(&full, e))
        }

        pub(super) fn mkdir(&self, rel: &Path, _secret: bool) -> Result<bool> {
            let full = self.checked(rel)?;
            match std::fs::create_dir(&full) {
                Ok(()) => Ok(true),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => match kind_at(&full) {
                    Ok(Kind::Dir) => Ok(false),
                    Ok(Kind::Link) => Err(Error::Link(full)),
                    _ => Err(Error::NotADirectory(full)),
                },
                Err(e) => Err(io(&full, e)),
            }
        }

        pub fn rename(&self, from: impl AsRef<Path>, to: impl AsRef<Path>) -> Result<()> {
            let (from, to) = (from.as_ref(), to.as_ref());
            let (f, t) = (self.checked(from)?, self.checked(to)?);
            std::fs::rename(&f, &t).map_err(|e| io(&t, e))
        }

        pub fn remove_file(&self, rel: impl AsRef<Path>) -> Result<()> {
            let rel = rel.as_ref();
            let full = self.checked(rel)?;
            std::fs::remove_file(&full).map_err(|e| io(&full, e))
        }

        pub fn remove_dir(&self, rel: impl AsRef<Path>) -> Result<()> {
            let rel = rel.as_ref();
            let full = self.checked(rel)?;
            std::fs::remove_dir(&full).map_err(|e| io(&full, e))
        }
    }
}

pub use imp::Root;

impl Root {
    /// Opens an existing folder (see the module docs for which links on its path are refused).
    pub fn open(path: &Path) -> Result<Root> {
        Self::open_with(path, None).map(|(root, _)| root)
    }

    /// Opens a folder, creating it and missing parents (mode 0700 for [`Mode::Secret`],
    /// else 0755). Returns the folders it created, shallowest first.
    pub fn create(path: &Path, mode: Mode) -> Result<(Root, Vec<PathBuf>)> {
        Self::open_with(path, Some(mode))
    }

    /// Opens `rel` for reading: `None` when it does not exist; an error when it, or a folder
    /// on the way, is a link, or when it is not a regular file (a FIFO would block).
    pub fn open_file(&self, rel: impl AsRef<Path>) -> Result<Option<std::fs::File>> {
        self.open_read_impl(rel.as_ref())
    }

    /// Reads `rel`: `None` when it does not exist; an error when it, or a folder on the way,
    /// is a link, when it is not a regular file, or when it is longer than `limit` bytes.
    pub fn read(&self, rel: impl AsRef<Path>, limit: u64) -> Result<Option<Vec<u8>>> {
        let rel = rel.as_ref();
        let Some(file) = self.open_read_impl(rel)? else {
            return Ok(None);
        };
        let shown = self.path().join(rel);
        let mut bytes = Vec::new();
        file.take(limit.saturating_add(1))
            .read_to_end(&mut bytes)
            .map_err(|source| Error::Io {
                path: shown.clone(),
                source,
            })?;
        if bytes.len() as u64 > limit {
            return Err(Error::TooLarge { path: shown, limit });
        }
        Ok(Some(bytes))
    }

    /// Creates the folders of `rel_dir` that are missing, each 0700 when `secret`; returns
    /// those it created, shallowest first.
    pub fn create_dirs(&self, rel_dir: impl AsRef<Path>, secret: bool) -> Result<Vec<PathBuf>> {
        let rel_dir = rel_dir.as_ref();
        let mut created = Vec::new();
        let mut cur = PathBuf::new();
        for n in names(rel_dir)? {
            cur.push(n);
            if self.mkdir(&cur, secret)? {
                created.push(cur.clone());
            }
        }
        Ok(created)
    }

    /// Writes a new file (it must not exist, not even as a link) with `mode`, flushed to disk
    /// when `durable`. A failed write removes the partial file again.
    pub fn write_new(
        &self,
        rel: impl AsRef<Path>,
        bytes: &[u8],
        mode: Mode,
        durable: bool,
    ) -> Result<()> {
        self.write_new_with(rel, mode, durable, |out| out.write_all(bytes))
    }

    /// [`Root::write_new`] for content too large to hold: `write` streams it into the new
    /// file (buffered). A failed write removes the partial file again.
    pub fn write_new_with(
        &self,
        rel: impl AsRef<Path>,
        mode: Mode,
        durable: bool,
        write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
    ) -> Result<()> {
        let rel = rel.as_ref();
        let file = self.create_file(rel, mode)?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        let written = write(&mut out)
            .and_then(|()| {
                out.into_inner()
                    .map_err(std::io::IntoInnerError::into_error)
            })
            .and_then(|file| if durable { file.sync_all() } else { Ok(()) });
        if let Err(source) = written {
            let _ = self.remove_file(rel);
            return Err(Error::Io {
                path: self.path().join(rel),
                source,
            });
        }
        Ok(())
    }

    /// Creates a new file (it must not exist, not even as a link) with `mode` and hands it
    /// out for writing over time (a manifest or an archive filled a chunk at a time). The
    /// caller removes it again if it gives up.
    pub fn create_new(&self, rel: impl AsRef<Path>, mode: Mode) -> Result<std::fs::File> {
        self.create_file(rel.as_ref(), mode)
    }

    /// Opens an existing regular file for reading and writing (to continue it): `None` when
    /// it does not exist; an error when it, or a folder on the way, is a link, or when it is
    /// not a regular file.
    pub fn open_rw(&self, rel: impl AsRef<Path>) -> Result<Option<std::fs::File>> {
        self.open_rw_impl(rel.as_ref())
    }

    /// Replaces (or creates) `rel` atomically: the bytes go to a fresh temporary name in the
    /// same folder, are flushed, and are renamed over `rel`, so a reader never sees half a
    /// file and a link at `rel` is replaced, not written through.
    pub fn replace(&self, rel: impl AsRef<Path>, bytes: &[u8], mode: Mode) -> Result<()> {
        let rel = rel.as_ref();
        let tmp = temp_sibling(rel)?;
        self.write_new(&tmp, bytes, mode, true)?;
        if let Err(e) = self.rename(&tmp, rel) {
            let _ = self.remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }
}

/// The folder and file name of a path a user named (`.` for a bare file name).
fn split_named(path: &Path) -> Result<(&Path, &std::ffi::OsStr)> {
    let name = path
        .file_name()
        .ok_or_else(|| Error::BadPath(path.display().to_string()))?;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    Ok((dir, name))
}

/// Opens the file a user named on the command line: its folder is opened as a [`Root`] (so
/// links among the components inside the working folder are refused) and the file itself is
/// opened without following a link. `None` when it does not exist.
pub fn open_named(path: &Path) -> Result<Option<std::fs::File>> {
    let (dir, name) = split_named(path)?;
    let root = match Root::open(dir) {
        Err(e) if e.is_not_found() => return Ok(None),
        other => other?,
    };
    match root.kind(name)? {
        Some(Kind::Link) => Err(Error::Link(path.to_path_buf())),
        Some(Kind::Dir) => Err(Error::NotAFile(path.to_path_buf())),
        _ => root.open_file(name),
    }
}

/// Writes the file a user named on the command line, atomically: into its folder, opened as by
/// [`open_named`], under a temporary name renamed over the file, so a link there is replaced
/// rather than written through.
pub fn replace_named(path: &Path, bytes: &[u8]) -> Result<()> {
    let (dir, name) = split_named(path)?;
    Root::open(dir)?.replace(name, bytes, Mode::Public)
}

/// An unpredictable name: `<prefix><16 hex digits>`.
pub fn random_name(prefix: &str) -> String {
    let mut bytes = [0u8; 8];
    // getrandom only fails without an OS random source; fall back to the clock then, which is
    // still unpredictable enough to avoid a planted name, and creation is exclusive anyway.
    if getrandom::fill(&mut bytes).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        bytes = (nanos as u64 ^ u64::from(std::process::id())).to_le_bytes();
    }
    let mut s = String::from(prefix);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// `dir/.name.<random>.tmp` next to `rel`.
fn temp_sibling(rel: &Path) -> Result<PathBuf> {
    let name = rel
        .file_name()
        .ok_or_else(|| Error::BadPath(rel.display().to_string()))?
        .to_string_lossy()
        .into_owned();
    Ok(rel.with_file_name(random_name(&format!(".{name}.fleetform-"))))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt as _;
    use std::os::unix::fs::symlink;

    #[test]
    fn links_anywhere_on_the_way_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret"), "s3cr3t").unwrap();
        symlink(outside.path(), dir.path().join("d")).unwrap();
        symlink(outside.path().join("secret"), dir.path().join("f")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        assert!(matches!(root.read("d/secret", 100), Err(Error::Link(_))));
        assert!(matches!(root.read("f", 100), Err(Error::Link(_))));
        assert_eq!(root.kind(Path::new("d/secret")).unwrap(), Some(Kind::Link));
        assert_eq!(root.kind(Path::new("f")).unwrap(), Some(Kind::Link));
        assert!(matches!(
            root.write_new("d/new", b"x", Mode::Public, false),
            Err(Error::Link(_))
        ));
        assert!(root.write_new("f", b"x", Mode::Public, false).is_err());
        assert!(matches!(
            root.create_dirs("d/x", false),
            Err(Error::Link(_))
        ));
        assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 1);
        assert_eq!(
            std::fs::read_to_string(outside.path().join("secret")).unwrap(),
            "s3cr3t"
        );
        assert!(matches!(
            Root::open(&dir.path().join("d")),
            Err(Error::Link(_))
        ));
    }

    #[test]
    fn replace_swaps_a_link_for_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("target"), "keep").unwrap();
        symlink(outside.path().join("target"), dir.path().join("k")).unwrap();
        let root = Root::open(dir.path()).unwrap();
        root.replace("k", b"new", Mode::Secret).unwrap();
        assert_eq!(
            std::fs::read_to_string(outside.path().join("target")).unwrap(),
            "keep"
        );
        let meta = std::fs::symlink_metadata(dir.path().join("k")).unwrap();
        assert!(meta.is_file());
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    /// `certs --out /tmp/x/pki/certs` (outside the working folder, `pki` missing) creates both
    /// folders, 0700 for keys, and says so, so a failed write can remove them again.
    #[test]
    fn create_makes_missing_folders_above_an_absolute_path() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("pki/certs");
        let (root, created) = Root::create(&out, Mode::Secret).unwrap();
        assert_eq!(created, [dir.path().join("pki"), out.clone()]);
        root.write_new("a.key", b"k", Mode::Secret, false).unwrap();
        for d in [dir.path().join("pki"), out.clone()] {
            let mode = std::fs::metadata(&d).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o700, "{}", d.display());
        }
        // A dangling link where a missing folder would go is still a link, not a detour.
        let away = tempfile::tempdir().unwrap();
        symlink(away.path().join("gone"), dir.path().join("link")).unwrap();
        assert!(matches!(
            Root::create(&dir.path().join("link/certs"), Mode::Secret),
            Err(Error::Link(_))
        ));
        assert!(!away.path().join("gone").exists());
    }

    #[test]
    fn fifos_and_oversized_files_are_not_read() {
        let dir = tempfile::tempdir().unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(dir.path().join("pipe"))
            .status();
        let root = Root::open(dir.path()).unwrap();
        if status.is_ok_and(|s| s.success()) {
            assert!(matches!(root.read("pipe", 100), Err(Error::NotAFile(_))));
        }
        std::fs::write(dir.path().join("big"), vec![b'x'; 101]).unwrap();
        assert!(matches!(root.read("big", 100), Err(Error::TooLarge { .. })));
        assert_eq!(root.read("big", 101).unwrap().unwrap().len(), 101);
        assert!(root.read("missing", 1).unwrap().is_none());
    }

    #[test]
    fn relative_roots_refuse_links_below_the_working_folder() {
        // The working folder is the test's; a relative path walks from it. A link named in a
        // relative root path is refused even though it points to a real folder.
        let dir = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        symlink(outside.path(), dir.path().join("link")).unwrap();
        let abs_inside = dir.path().join("link").join("x");
        // Absolute and outside the working folder: only the last component is checked, so the
        // link above it is followed (the machine's layout), and `x` is created in `outside`.
        let (root, created) = Root::create(&abs_inside, Mode::Public).unwrap();
        assert_eq!(created.len(), 1);
        assert!(outside.path().join("x").is_dir());
        drop(root);
        assert!(matches!(
            Root::open(&dir.path().join("link")),
            Err(Error::Link(_))
        ));
    }
}
