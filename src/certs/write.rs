//! Writing bundles to disk, all or nothing.
//!
//! The only module in the kit that writes files. A run first builds a [`WritePlan`] of
//! everything it will write under one output folder (in memory, after all inputs were
//! validated and all certificates generated). [`write_plan`] then checks the whole plan before
//! touching the disk: no planned file may exist unless `force` is set, no directory on the way
//! may be a file, no link may be on the way (the folder may come from a pull request, and a
//! link would send a private key anywhere), and no private key may land in a directory holding
//! Terraform files (keys must never reach Terraform configuration or state). Only then does it
//! write, through a [`Root`] handle on the output folder that never follows a link: private
//! keys with mode 0600 in folders created 0700, certificates 0644, new files with `O_EXCL` so a
//! file appearing in the meantime is not clobbered, replaced files via a fresh temporary name
//! and a rename so a reader never sees half a key. Before the first key, the output folder gets
//! a `.gitignore` that ignores keys, and no key may go to a path git tracks unless `force` (see
//! `certs::git`). If a write fails midway, every file and directory this run created is
//! removed again; files that `force` already replaced cannot be restored, and the error says
//! so.
//!
//! About 700 lines, 100 of them tests: the write plan, its preflight (links, tracked paths,
//! Terraform folders, existing files) and the undo on failure are one transaction and read best
//! together.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zeroize::Zeroizing;

use super::error::{CertsError, Result};
use super::issue::DeviceBundle;
use super::{DeviceId, git, layout};
use crate::safe_fs::{self, Kind, Mode, Root};

/// What a planned file holds; decides its mode and how it is reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FileKind {
    /// A certificate (public).
    Certificate,
    /// A certificate chain (public).
    Chain,
    /// A private key: mode 0600.
    PrivateKey,
    /// Human-readable instructions.
    Instructions,
    /// The `.gitignore` that keeps private keys out of git (see `certs::git`).
    GitIgnore,
}

impl FileKind {
    fn is_secret(self) -> bool {
        self == Self::PrivateKey
    }
}

/// One file to write.
pub struct PlannedFile {
    /// Where.
    pub path: PathBuf,
    /// What kind.
    pub kind: FileKind,
    /// The device (or CA name) it belongs to, for reports.
    pub owner: Option<String>,
    contents: Zeroizing<Vec<u8>>,
}

impl std::fmt::Debug for PlannedFile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PlannedFile")
            .field("path", &self.path)
            .field("kind", &self.kind)
            .finish_non_exhaustive()
    }
}

/// The files of one device's bundle in `<out>/<id>/`, in the order they are written.
pub fn device_files(out: &Path, id: &DeviceId) -> [(PathBuf, FileKind); 3] {
    let dir = out.join(id.as_str());
    [
        (dir.join(layout::DEVICE_CERT), FileKind::Certificate),
        (dir.join(layout::DEVICE_KEY), FileKind::PrivateKey),
        (dir.join(layout::DEVICE_CHAIN), FileKind::Chain),
    ]
}

/// Everything a run will write, all under one output folder.
#[derive(Debug)]
pub struct WritePlan {
    root: PathBuf,
    files: Vec<PlannedFile>,
}

impl WritePlan {
    /// An empty plan writing under `root` (the output folder; created if missing).
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self {
            root: root.into(),
            files: Vec::new(),
        }
    }

    /// The output folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Adds one device's bundle: its files in [`device_files`] order, the key only when
    /// fleetform generated it.
    pub fn add_device(&mut self, out: &Path, bundle: &DeviceBundle) {
        let owner = Some(bundle.id.as_str());
        for (path, kind) in device_files(out, &bundle.id) {
            match kind {
                FileKind::Certificate => self.add(path, kind, owner, &bundle.cert_pem),
                FileKind::Chain => self.add(path, kind, owner, &bundle.chain_pem),
                FileKind::PrivateKey => {
                    if let Some(key) = &bundle.key_pem {
                        self.add(path, kind, owner, key.as_str());
                    }
                }
                FileKind::Instructions | FileKind::GitIgnore => {}
            }
        }
    }

    /// Adds a file.
    pub fn add(
        &mut self,
        path: impl Into<PathBuf>,
        kind: FileKind,
        owner: Option<&str>,
        contents: impl AsRef<[u8]>,
    ) {
        self.files.push(PlannedFile {
            path: path.into(),
            kind,
            owner: owner.map(str::to_owned),
            contents: Zeroizing::new(contents.as_ref().to_vec()),
        });
    }

    /// The planned files, in order.
    pub fn files(&self) -> &[PlannedFile] {
        &self.files
    }

    /// Number of planned files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether nothing is planned.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }
}

/// A file that was written.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct WrittenFile {
    /// Where.
    pub path: PathBuf,
    /// What kind.
    pub kind: FileKind,
    /// The device or CA it belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    /// Whether an existing file was replaced (`--force`).
    pub replaced: bool,
}

/// Writes `plan` all or nothing (see the module docs). `force` allows replacing existing files.
pub fn write_plan(plan: &WritePlan, force: bool) -> Result<Vec<WrittenFile>> {
    write_plan_inner(plan, force, None)
}

/// Makes `<root>/.gitignore` ignore keys and `name` (a file that holds keys under another
/// name, the certificate archive), before that file is written; creates `root` (0700) if
/// missing. Returns the `.gitignore` when it was written.
///
/// # Errors
/// A link on the way, or a failed read or write.
pub fn ignore_in(root: &Path, name: &str) -> Result<Option<WrittenFile>> {
    let (dir, _) = Root::create(root, Mode::Secret).map_err(fs_error)?;
    let current = dir
        .read(git::GITIGNORE, 1024 * 1024)
        .map_err(fs_error)?
        .map(|b| String::from_utf8_lossy(&b).into_owned());
    let Some(text) = git::ignore_file_with(current.as_deref(), name) else {
        return Ok(None);
    };
    let path = root.join(git::GITIGNORE);
    let written = if current.is_some() {
        dir.replace(git::GITIGNORE, text.as_bytes(), Mode::Public)
    } else {
        dir.write_new(git::GITIGNORE, text.as_bytes(), Mode::Public, false)
    };
    written.map_err(|e| CertsError::Write {
        path: path.clone(),
        io: into_io(e),
        cleanup: "nothing else was written; fix the cause and run the command again".to_owned(),
    })?;
    Ok(Some(WrittenFile {
        path,
        kind: FileKind::GitIgnore,
        owner: None,
        replaced: current.is_some(),
    }))
}

/// `path` relative to `root`; planned paths are always built as `root.join(...)`.
fn relative(root: &Path, path: &Path) -> Result<PathBuf> {
    path.strip_prefix(root)
        .ok()
        .filter(|rel| {
            !rel.as_os_str().is_empty()
                && rel
                    .components()
                    .all(|c| matches!(c, std::path::Component::Normal(_)))
        })
        .map(Path::to_path_buf)
        .ok_or_else(|| {
            CertsError::internal(
                "planning output paths",
                format!("`{}` is not inside `{}`", path.display(), root.display()),
            )
        })
}

/// A link refused on the way to an output file.
fn link_error(path: PathBuf) -> CertsError {
    CertsError::OutputPath {
        path,
        reason: "it is a symlink, and fleetform writes no file (least of all a private key) through a link".to_owned(),
        hint: "replace the link with a real directory, or choose another output directory".to_owned(),
    }
}

fn fs_error(e: safe_fs::Error) -> CertsError {
    match e {
        safe_fs::Error::Link(p) => link_error(p),
        safe_fs::Error::NotADirectory(p) => CertsError::OutputPath {
            path: p,
            reason: "it is a file, but a directory is needed there".to_owned(),
            hint: "move the file away or choose another output directory".to_owned(),
        },
        safe_fs::Error::NotAFile(p) => CertsError::OutputPath {
            path: p,
            reason: "it is not a regular file".to_owned(),
            hint: "move it away or choose another output directory".to_owned(),
        },
        safe_fs::Error::Io { path, source } => CertsError::OutputPath {
            path,
            reason: source.to_string(),
            hint: "check the output directory's permissions".to_owned(),
        },
        other => CertsError::internal("checking output paths", other),
    }
}

/// The output folder, opened without following links, if it exists.
fn open_root(root: &Path) -> Result<Option<Root>> {
    match Root::open(root) {
        Ok(r) => Ok(Some(r)),
        Err(e) if e.is_not_found() => Ok(None),
        Err(e) => Err(fs_error(e)),
    }
}

fn write_plan_inner(
    plan: &WritePlan,
    force: bool,
    fail_at: Option<usize>,
) -> Result<Vec<WrittenFile>> {
    let rels = plan
        .files
        .iter()
        .map(|f| relative(&plan.root, &f.path))
        .collect::<Result<Vec<_>>>()?;
    let targets: Vec<(&Path, &Path, FileKind)> = plan
        .files
        .iter()
        .zip(&rels)
        .map(|(f, rel)| (f.path.as_path(), rel.as_path(), f.kind))
        .collect();
    let existing = check_targets(&plan.root, &targets, force)?;
    let secret = plan.files.iter().any(|f| f.kind.is_secret());
    // The `.gitignore` goes first, so no key is ever on disk without it.
    let ignore = if secret {
        let current = match open_root(&plan.root)? {
            Some(root) => root
                .read(git::GITIGNORE, 1024 * 1024)
                .map_err(fs_error)?
                .map(|b| String::from_utf8_lossy(&b).into_owned()),
            None => None,
        };
        git::ignore_file(current.as_deref()).map(|text| (text, current.is_some()))
    } else {
        None
    };

    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let mut created_files: Vec<PathBuf> = Vec::new();
    let mut replaced = 0usize;
    let mut written = Vec::with_capacity(plan.files.len());

    // The output folder and the folders above it that are missing (0700 when keys go in).
    let mode = if secret { Mode::Secret } else { Mode::Public };
    let (root, above) = Root::create(&plan.root, mode).map_err(fs_error)?;
    let fail = |path: &Path,
                source: std::io::Error,
                created_files: &[PathBuf],
                created_dirs: &[PathBuf],
                replaced: usize| {
        let (files, dirs) = roll_back(&root, created_files, created_dirs);
        let above_removed = above
            .iter()
            .rev()
            .filter(|d| std::fs::remove_dir(d).is_ok())
            .count();
        let mut cleanup = format!(
            "removed the {files} files and {} directories this run had created",
            dirs + above_removed
        );
        if replaced > 0 {
            let _ = write!(
                cleanup,
                "; {replaced} existing files had already been replaced (--force) and cannot be restored"
            );
        }
        cleanup.push_str("; fix the cause (disk full? permissions?) and run the command again");
        CertsError::Write {
            path: path.to_owned(),
            io: source,
            cleanup,
        }
    };

    if let Some((text, replace)) = &ignore {
        let rel = Path::new(git::GITIGNORE);
        let result = if *replace {
            root.replace(rel, text.as_bytes(), Mode::Public)
        } else {
            root.write_new(rel, text.as_bytes(), Mode::Public, false)
        };
        let path = plan.root.join(rel);
        if let Err(e) = result {
            return Err(fail(
                &path,
                into_io(e),
                &created_files,
                &created_dirs,
                replaced,
            ));
        }
        if !*replace {
            created_files.push(rel.to_path_buf());
        }
        written.push(WrittenFile {
            path,
            kind: FileKind::GitIgnore,
            owner: None,
            replaced: *replace,
        });
    }

    for (n, (file, rel)) in plan.files.iter().zip(&rels).enumerate() {
        if let Some(parent) = rel.parent().filter(|p| !p.as_os_str().is_empty()) {
            match root.create_dirs(parent, secret) {
                Ok(dirs) => created_dirs.extend(dirs),
                Err(e) => {
                    let io = into_io(e);
                    return Err(fail(
                        &plan.root.join(parent),
                        io,
                        &created_files,
                        &created_dirs,
                        replaced,
                    ));
                }
            }
        }
        let is_replacement = existing.contains(rel);
        let mode = if file.kind.is_secret() {
            Mode::Secret
        } else {
            Mode::Public
        };
        let result = if fail_at == Some(n) {
            Err(std::io::Error::other("injected failure"))
        } else if is_replacement {
            // The old file is about to go: make the new one durable first, or a crash could
            // leave an empty key where a CA key used to be.
            root.replace(rel, &file.contents, mode).map_err(into_io)
        } else {
            // New files skip the sync; a batch of 10,000 stays fast.
            root.write_new(rel, &file.contents, mode, false)
                .map_err(into_io)
        };
        match result {
            Ok(()) => {
                if is_replacement {
                    replaced += 1;
                } else {
                    created_files.push(rel.clone());
                }
                written.push(WrittenFile {
                    path: file.path.clone(),
                    kind: file.kind,
                    owner: file.owner.clone(),
                    replaced: is_replacement,
                });
            }
            Err(e) => {
                return Err(fail(&file.path, e, &created_files, &created_dirs, replaced));
            }
        }
    }
    Ok(written)
}

fn into_io(e: safe_fs::Error) -> std::io::Error {
    match e {
        safe_fs::Error::Io { source, .. } => source,
        other => std::io::Error::other(other.to_string()),
    }
}

/// Checks output paths before anything is generated, with the same rules [`write_plan`]
/// applies: nothing may exist unless `force`, no file may block a directory, no link may be on
/// the way, no key may go next to Terraform files. Lets a batch fail in milliseconds instead of
/// after generating keys. `root` is the output folder every target lies under.
pub fn preflight(root: &Path, targets: &[(PathBuf, FileKind)], force: bool) -> Result<()> {
    let rels = targets
        .iter()
        .map(|(p, _)| relative(root, p))
        .collect::<Result<Vec<_>>>()?;
    let list: Vec<(&Path, &Path, FileKind)> = targets
        .iter()
        .zip(&rels)
        .map(|((p, k), rel)| (p.as_path(), rel.as_path(), *k))
        .collect();
    check_targets(root, &list, force)?;
    Ok(())
}

/// Validates targets (`(full path, path relative to root, kind)`) against the disk; returns the
/// relative paths that exist (only possible with force).
fn check_targets(
    root_path: &Path,
    targets: &[(&Path, &Path, FileKind)],
    force: bool,
) -> Result<BTreeSet<PathBuf>> {
    let mut seen = BTreeSet::new();
    for (path, _, _) in targets {
        if !seen.insert(*path) {
            return Err(CertsError::OutputPath {
                path: path.to_path_buf(),
                reason: "two outputs of this run would go to the same file".to_owned(),
                hint: "give every device a distinct id".to_owned(),
            });
        }
    }
    let mut existing = BTreeSet::new();
    if let Some(root) = open_root(root_path)? {
        // Folders on the way, each looked at once however many files share it.
        let mut dirs_checked: BTreeSet<PathBuf> = BTreeSet::new();
        for (path, rel, _) in targets {
            let mut prefix = PathBuf::new();
            let parents: Vec<_> = rel
                .parent()
                .into_iter()
                .flat_map(Path::components)
                .collect();
            for c in parents {
                prefix.push(c);
                if !dirs_checked.insert(prefix.clone()) {
                    continue;
                }
                match root.kind(&prefix).map_err(fs_error)? {
                    None | Some(Kind::Dir) => {}
                    Some(Kind::Link) => return Err(link_error(root_path.join(&prefix))),
                    Some(Kind::File | Kind::Other) => {
                        return Err(fs_error(safe_fs::Error::NotADirectory(
                            root_path.join(&prefix),
                        )));
                    }
                }
            }
            match root.kind(rel).map_err(fs_error)? {
                None => {}
                Some(Kind::Dir) => {
                    return Err(CertsError::OutputPath {
                        path: path.to_path_buf(),
                        reason: "a directory is in the way".to_owned(),
                        hint: "move the directory away or choose another output directory"
                            .to_owned(),
                    });
                }
                Some(Kind::Link) => return Err(link_error(path.to_path_buf())),
                Some(Kind::Other) => {
                    return Err(fs_error(safe_fs::Error::NotAFile(path.to_path_buf())));
                }
                Some(Kind::File) => {
                    existing.insert(rel.to_path_buf());
                }
            }
        }
    }
    if !force && let Some(first) = existing.first() {
        let more = existing.len() - 1;
        return Err(CertsError::AlreadyExists {
            first: root_path.join(first),
            more: if more == 0 {
                String::new()
            } else {
                format!(" (and {more} more existing files)")
            },
        });
    }
    // `.gitignore` does not apply to files git already tracks: a key there would go out with
    // the next `git commit -a`.
    let keys: Vec<&Path> = targets
        .iter()
        .filter(|(_, _, kind)| kind.is_secret())
        .map(|(_, rel, _)| *rel)
        .collect();
    let tracked = git::tracked(root_path, &keys);
    if !force && let Some(first) = tracked.first() {
        let more = tracked.len() - 1;
        return Err(CertsError::TrackedKey {
            path: root_path.join(first),
            more: if more == 0 {
                String::new()
            } else {
                format!(" (and {more} more)")
            },
        });
    }
    // Every existing folder a key would land under, up to the repository root (the folder
    // holding `.git`) or the filesystem root: a key anywhere inside a Terraform configuration's
    // tree is one `file()` away from state and one commit away from the repository, whether or
    // not its own folder exists yet. Each folder is read once, however many keys share it.
    let mut checked: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, _, _) in targets.iter().filter(|(_, _, kind)| kind.is_secret()) {
        // Absolute, so a relative `--out` is checked above the working folder too.
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        for dir in path.ancestors().skip(1) {
            if !checked.insert(dir.to_owned()) {
                break; // this folder and everything above it were checked for an earlier key
            }
            if !dir.is_dir() {
                continue;
            }
            if let Some(example) = terraform_file_in(dir) {
                return Err(CertsError::TerraformDirectory {
                    dir: dir.to_owned(),
                    example,
                });
            }
            if dir.join(".git").exists() {
                break;
            }
        }
    }
    Ok(existing)
}

fn terraform_file_in(dir: &Path) -> Option<String> {
    let entries = std::fs::read_dir(dir).ok()?;
    entries
        .filter_map(std::result::Result::ok)
        .find_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let lower = name.to_ascii_lowercase();
            let is_tf = [".tf", ".tf.json", ".tfstate", ".tfstate.backup"]
                .iter()
                .any(|ext| lower.ends_with(ext))
                || lower == ".terraform";
            is_tf.then_some(name)
        })
}

/// Removes created files, then created directories deepest first (only if empty).
fn roll_back(root: &Root, files: &[PathBuf], dirs: &[PathBuf]) -> (usize, usize) {
    let files = files.iter().filter(|f| root.remove_file(f).is_ok()).count();
    let dirs = dirs
        .iter()
        .rev()
        .filter(|d| root.remove_dir(d).is_ok())
        .count();
    (files, dirs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        let mut stack = vec![root.to_owned()];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                out.push(path.strip_prefix(root).unwrap().display().to_string());
                if path.is_dir() {
                    stack.push(path);
                }
            }
        }
        out.sort();
        out
    }

    #[test]
    fn midway_failure_removes_only_what_this_run_created() {
        let tmp = tempfile::tempdir().unwrap();
        let out = tmp.path().join("devices");
        fs_err::create_dir_all(out.join("old")).unwrap();
        fs_err::write(out.join("old/device.pem"), "keep me").unwrap();
        let before = tree(tmp.path());

        let mut plan = WritePlan::new(&out);
        for id in ["a", "b", "c"] {
            plan.add(
                out.join(id).join("device.pem"),
                FileKind::Certificate,
                Some(id),
                "cert",
            );
            plan.add(
                out.join(id).join("device.key"),
                FileKind::PrivateKey,
                Some(id),
                "key",
            );
        }
        let err = write_plan_inner(&plan, false, Some(4)).unwrap_err();
        let msg = err.to_string();
        assert!(
            // The `.gitignore` went first: 4 bundle files and it.
            msg.contains("removed the 5 files and 3 directories"),
            "{msg}"
        );
        assert_eq!(tree(tmp.path()), before);
        assert_eq!(
            fs_err::read_to_string(out.join("old/device.pem")).unwrap(),
            "keep me"
        );
    }

    #[cfg(unix)]
    #[test]
    fn modes_and_overwrite_rules() {
        use std::os::unix::fs::PermissionsExt as _;
        let tmp = tempfile::tempdir().unwrap();
        let key = tmp.path().join("x/k.key");
        let cert = tmp.path().join("x/c.pem");
        let mut plan = WritePlan::new(tmp.path());
        plan.add(&key, FileKind::PrivateKey, None, "secret");
        plan.add(&cert, FileKind::Certificate, None, "public");
        write_plan(&plan, false).unwrap();
        let mode = |p: &Path| fs_err::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&key), 0o600);
        assert_eq!(mode(&cert), 0o644);

        let err = write_plan(&plan, false).unwrap_err();
        assert!(matches!(err, CertsError::AlreadyExists { .. }), "{err}");
        assert!(
            err.to_string().contains("(and 1 more existing files)"),
            "{err}"
        );

        let mut plan2 = WritePlan::new(tmp.path());
        plan2.add(&key, FileKind::PrivateKey, None, "secret2");
        let written = write_plan(&plan2, true).unwrap();
        assert!(written[0].replaced);
        assert_eq!(fs_err::read_to_string(&key).unwrap(), "secret2");
        assert_eq!(mode(&key), 0o600);
    }

    #[test]
    fn refuses_keys_next_to_terraform() {
        let tmp = tempfile::tempdir().unwrap();
        fs_err::write(tmp.path().join("main.tf"), "").unwrap();
        let mut plan = WritePlan::new(tmp.path());
        plan.add(tmp.path().join("ca.key"), FileKind::PrivateKey, None, "k");
        let err = write_plan(&plan, false).unwrap_err();
        assert!(
            matches!(err, CertsError::TerraformDirectory { .. }),
            "{err}"
        );
        assert!(!tmp.path().join("ca.key").exists());
    }
}
