//! Writing bundles to disk, all or nothing.
//!
//! The only module in the kit that writes files. A run first builds a [`WritePlan`] of
//! everything it will write (in memory, after all inputs were validated and all certificates
//! generated). [`write_plan`] then checks the whole plan before touching the disk: no planned
//! file may exist unless `force` is set, no directory on the way may be a file, and no private
//! key may land in a directory holding Terraform files (keys must never reach Terraform
//! configuration or state). Only then does it write: private keys with mode 0600, certificates
//! 0644, new files with `O_EXCL` so a file appearing in the meantime is not clobbered, replaced
//! files via a temporary file and a rename so a reader never sees half a key. If a write fails
//! midway, every file and directory this run created is removed again; files that `force`
//! already replaced cannot be restored, and the error says so.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use serde::Serialize;
use zeroize::Zeroizing;

use super::error::{CertsError, Result};
use super::issue::DeviceBundle;
use super::{DeviceId, layout};

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

/// Everything a run will write.
#[derive(Debug, Default)]
pub struct WritePlan {
    files: Vec<PlannedFile>,
}

impl WritePlan {
    /// An empty plan.
    pub fn new() -> Self {
        Self::default()
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
                FileKind::Instructions => {}
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

fn write_plan_inner(
    plan: &WritePlan,
    force: bool,
    fail_at: Option<usize>,
) -> Result<Vec<WrittenFile>> {
    let existing = check_targets(plan.files.iter().map(|f| (f.path.as_path(), f.kind)), force)?;
    let dirs_to_create = missing_dirs(plan.files.iter().map(|f| f.path.as_path()))?;

    let mut created_dirs: Vec<PathBuf> = Vec::new();
    let mut created_files: Vec<PathBuf> = Vec::new();
    let mut replaced = 0usize;
    let mut written = Vec::with_capacity(plan.files.len());

    let fail = |path: &Path,
                source: std::io::Error,
                created_files: &[PathBuf],
                created_dirs: &[PathBuf],
                replaced: usize| {
        let (files, dirs) = roll_back(created_files, created_dirs);
        let mut cleanup =
            format!("removed the {files} files and {dirs} directories this run had created");
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

    for dir in &dirs_to_create {
        match fs_err::create_dir(dir) {
            Ok(()) => created_dirs.push(dir.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists && dir.is_dir() => {}
            Err(e) => {
                return Err(fail(dir, e, &created_files, &created_dirs, replaced));
            }
        }
    }

    for (n, file) in plan.files.iter().enumerate() {
        let is_replacement = existing.contains(&file.path);
        let result = if fail_at == Some(n) {
            Err(std::io::Error::other("injected failure"))
        } else if is_replacement {
            replace_file(&file.path, &file.contents, file.kind.is_secret())
        } else {
            create_file(&file.path, &file.contents, file.kind.is_secret())
        };
        match result {
            Ok(()) => {
                if is_replacement {
                    replaced += 1;
                } else {
                    created_files.push(file.path.clone());
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

/// Checks output paths before anything is generated, with the same rules [`write_plan`]
/// applies: nothing may exist unless `force`, no file may block a directory, no key may go next
/// to Terraform files. Lets a batch fail in milliseconds instead of after generating keys.
pub fn preflight(targets: &[(PathBuf, FileKind)], force: bool) -> Result<()> {
    check_targets(targets.iter().map(|(p, k)| (p.as_path(), *k)), force)?;
    missing_dirs(targets.iter().map(|(p, _)| p.as_path()))?;
    Ok(())
}

/// Validates targets against the disk; returns those that exist (only possible with force).
fn check_targets<'a>(
    targets: impl Iterator<Item = (&'a Path, FileKind)> + Clone,
    force: bool,
) -> Result<BTreeSet<PathBuf>> {
    let mut seen = BTreeSet::new();
    let mut existing = BTreeSet::new();
    for (path, _) in targets.clone() {
        if !seen.insert(path) {
            return Err(CertsError::OutputPath {
                path: path.to_owned(),
                reason: "two outputs of this run would go to the same file".to_owned(),
                hint: "give every device a distinct id".to_owned(),
            });
        }
        match fs_err::symlink_metadata(path) {
            Ok(meta) if meta.is_dir() => {
                return Err(CertsError::OutputPath {
                    path: path.to_owned(),
                    reason: "a directory is in the way".to_owned(),
                    hint: "move the directory away or choose another output directory".to_owned(),
                });
            }
            Ok(_) => {
                existing.insert(path.to_owned());
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => {
                return Err(CertsError::OutputPath {
                    path: path.to_owned(),
                    reason: e.to_string(),
                    hint: "check the output directory's permissions".to_owned(),
                });
            }
        }
    }
    if !force && let Some(first) = existing.first() {
        let more = existing.len() - 1;
        return Err(CertsError::AlreadyExists {
            first: first.clone(),
            more: if more == 0 {
                String::new()
            } else {
                format!(" (and {more} more existing files)")
            },
        });
    }
    // Every existing folder a key would land under, up to the repository root (the folder
    // holding `.git`) or the filesystem root: a key anywhere inside a Terraform configuration's
    // tree is one `file()` away from state and one commit away from the repository, whether or
    // not its own folder exists yet. Each folder is read once, however many keys share it.
    let mut checked: BTreeSet<PathBuf> = BTreeSet::new();
    for (path, _) in targets.filter(|(_, kind)| kind.is_secret()) {
        // Absolute, so a relative `--out` is checked above the working folder too.
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
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

/// Directories the plan needs that do not exist, shallowest first.
fn missing_dirs<'a>(paths: impl Iterator<Item = &'a Path>) -> Result<Vec<PathBuf>> {
    let mut missing = BTreeSet::new();
    for path in paths {
        let mut dir = path.parent();
        while let Some(d) = dir {
            if d.as_os_str().is_empty() {
                break;
            }
            match fs_err::metadata(d) {
                Ok(meta) if meta.is_dir() => break,
                Ok(_) => {
                    return Err(CertsError::OutputPath {
                        path: d.to_owned(),
                        reason: "it is a file, but a directory is needed there".to_owned(),
                        hint: "move the file away or choose another output directory".to_owned(),
                    });
                }
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    missing.insert(d.to_owned());
                }
                Err(e) => {
                    return Err(CertsError::OutputPath {
                        path: d.to_owned(),
                        reason: e.to_string(),
                        hint: "check the output directory's permissions".to_owned(),
                    });
                }
            }
            dir = d.parent();
        }
    }
    let mut missing: Vec<PathBuf> = missing.into_iter().collect();
    missing.sort_by_key(|p| p.components().count());
    Ok(missing)
}

fn open_options(secret: bool) -> fs_err::OpenOptions {
    let mut options = fs_err::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use fs_err::os::unix::fs::OpenOptionsExt as _;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    #[cfg(not(unix))]
    let _ = secret;
    options
}

fn create_file(path: &Path, contents: &[u8], secret: bool) -> std::io::Result<()> {
    let mut file = open_options(secret).open(path)?;
    if let Err(e) = write_and_fix_mode(&mut file, contents, secret) {
        drop(file);
        let _ = fs_err::remove_file(path);
        return Err(e);
    }
    Ok(())
}

fn write_and_fix_mode(
    file: &mut fs_err::File,
    contents: &[u8],
    secret: bool,
) -> std::io::Result<()> {
    file.write_all(contents)?;
    file.flush()?;
    // `open` created the file with 0600 / 0644 and the umask can only narrow that. Keys are
    // then set to exactly 0600 (on the open descriptor), whatever the umask; a narrower mode on
    // a public certificate does no harm and saves a system call per file.
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    #[cfg(not(unix))]
    let _ = secret;
    Ok(())
}

fn replace_file(path: &Path, contents: &[u8], secret: bool) -> std::io::Result<()> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = path.with_file_name(format!(".{name}.fleetform-tmp"));
    let _ = fs_err::remove_file(&tmp);
    create_file(&tmp, contents, secret)?;
    // The old file is about to go: make the new one durable first, or a crash could leave an
    // empty key where a CA key used to be. New files skip this; a batch of 10,000 stays fast.
    if let Err(e) = fs_err::File::open(&tmp).and_then(|f| f.sync_all()) {
        let _ = fs_err::remove_file(&tmp);
        return Err(e);
    }
    if let Err(e) = fs_err::rename(&tmp, path) {
        let _ = fs_err::remove_file(&tmp);
        return Err(e);
    }
    Ok(())
}

/// Removes created files, then created directories deepest first (only if empty).
fn roll_back(files: &[PathBuf], dirs: &[PathBuf]) -> (usize, usize) {
    let files = files
        .iter()
        .filter(|f| fs_err::remove_file(f).is_ok())
        .count();
    let dirs = dirs
        .iter()
        .rev()
        .filter(|d| fs_err::remove_dir(d).is_ok())
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

        let mut plan = WritePlan::new();
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
            msg.contains("removed the 4 files and 3 directories"),
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
        let mut plan = WritePlan::new();
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

        let mut plan2 = WritePlan::new();
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
        let mut plan = WritePlan::new();
        plan.add(tmp.path().join("ca.key"), FileKind::PrivateKey, None, "k");
        let err = write_plan(&plan, false).unwrap_err();
        assert!(
            matches!(err, CertsError::TerraformDirectory { .. }),
            "{err}"
        );
        assert!(!tmp.path().join("ca.key").exists());
    }
}
