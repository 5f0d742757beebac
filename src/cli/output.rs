//! Writing a build to disk: atomically, minimally, and without ever losing a user's file.
//!
//! The guarantees, each tested:
//! - Nothing is touched until every file has been staged inside the output folder; a failure
//!   while staging leaves the previous output as it was.
//! - Files are then moved into place with renames; if one fails, the moves already made are
//!   undone from backups.
//! - Unchanged files are not rewritten, so their modification times stay.
//! - fleetform only replaces or removes files its manifest says it wrote (and only when they
//!   still hold what it wrote). A file someone else put in the way is an error, not an
//!   overwrite, unless `--force`.
//! - No path leaves the output folder, and nothing is read or written through a symlink:
//!   every access goes through a [`Root`] handle on `--out` (see `safe_fs`), so a link on the
//!   way to `--out`, at `--out` or anywhere inside it is an error.
//! - The staging folder has an unpredictable name (`.fleetform-staging-<random>`, created
//!   exclusively, mode 0700), so nothing can be planted there in advance, and cleaning up
//!   removes only the files and folders this run put there, never a whole tree.

use std::collections::BTreeSet;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use sha2::Digest as _;

use crate::emit::{Digest256, MANIFEST, Rendered, RenderedFile, parse_manifest, safe_path};
use crate::safe_fs::{self, Mode, Root};

/// What a write did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Report {
    pub created: Vec<String>,
    pub updated: Vec<String>,
    pub unchanged: Vec<String>,
    pub deleted: Vec<String>,
    /// Files fleetform no longer generates but left in place because someone edited them.
    pub kept: Vec<String>,
}

/// Why a write did not happen.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum WriteError {
    /// Files in the way: `foreign` were not written by fleetform, `edited` were but have been
    /// changed since.
    #[error("{}", conflicts_message(foreign, edited))]
    Conflicts {
        foreign: Vec<String>,
        edited: Vec<String>,
    },
    #[error(
        "`{}` is a symlink; fleetform does not write through symlinks in or on the way to the output folder\nhint: replace the link with a real folder, or choose another `--out`",
        .0.display()
    )]
    Symlink(PathBuf),
    #[error(
        "`{}` exists and is not a directory\nhint: move it away (fleetform needs a folder there), or give `--out` a folder (it is created if missing)",
        .0.display()
    )]
    NotADirectory(PathBuf),
    #[error("unsafe output path `{0}`")]
    UnsafePath(String),
    #[error(transparent)]
    Fs(safe_fs::Error),
}

impl From<safe_fs::Error> for WriteError {
    fn from(e: safe_fs::Error) -> Self {
        match e {
            safe_fs::Error::Link(p) => WriteError::Symlink(p),
            safe_fs::Error::NotADirectory(p) => WriteError::NotADirectory(p),
            other => WriteError::Fs(other),
        }
    }
}

fn conflicts_message(foreign: &[String], edited: &[String]) -> String {
    let list = |paths: &[String]| {
        paths
            .iter()
            .map(|p| format!("`{p}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut lines = Vec::new();
    if !foreign.is_empty() {
        lines.push(format!(
            "{} file(s) in the output folder were not written by fleetform and would be overwritten: {}",
            foreign.len(),
            list(foreign)
        ));
    }
    if !edited.is_empty() {
        lines.push(format!(
            "{} file(s) fleetform wrote have been edited since and would lose the edits: {}",
            edited.len(),
            list(edited)
        ));
    }
    lines.push(if edited.is_empty() {
        "hint: move them away, choose another `--out`, or pass `--force` to overwrite them"
    } else {
        "hint: carry the edits over into the spec (or keep a copy), choose another `--out`, or pass `--force` to overwrite them"
    }
    .to_owned());
    lines.join("\n")
}

enum Action {
    Create,
    Update,
}

/// The largest manifest fleetform reads back (its own are a few hundred bytes per file).
const MANIFEST_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads the previous manifest's files, if any. A link in its place is an error.
fn previous(root: &Root) -> Result<std::collections::BTreeMap<String, String>, WriteError> {
    Ok(root
        .read(MANIFEST, MANIFEST_LIMIT)?
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|t| parse_manifest(&t))
        .map(|m| m.files)
        .unwrap_or_default())
}

/// A file on disk, as far as a write needs to know: its digest, and whether it already
/// holds `expected`. Streamed, so a huge planted file costs time, not memory. A file held in
/// memory is compared byte for byte; a streamed one (registry data, up to hundreds of MB) by
/// length and hash.
struct OnDisk {
    digest: String,
    same: bool,
}

fn on_disk(
    root: &Root,
    rel: &str,
    expected: Option<&RenderedFile>,
) -> Result<Option<OnDisk>, WriteError> {
    let Some(mut file) = root.open_file(rel)? else {
        return Ok(None);
    };
    let mut hasher = sha2::Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    let mut offset = 0usize;
    let mut same = true;
    loop {
        let n = file.read(&mut buf).map_err(|source| safe_fs::Error::Io {
            path: root.path().join(rel),
            source,
        })?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        if let Some(exp) = expected.filter(|e| e.streamed.is_none()) {
            same = same && exp.bytes.get(offset..offset + n) == Some(&buf[..n]);
        }
        offset += n;
    }
    let found = Digest256 {
        len: offset as u64,
        sha256_hex: crate::emit::hex(&hasher.finalize()),
    };
    let same = expected.is_some_and(|e| match e.streamed {
        Some(_) => e.matches(&found),
        None => same && e.bytes.len() == offset,
    });
    Ok(Some(OnDisk {
        digest: format!("sha256:{}", found.sha256_hex),
        same,
    }))
}

/// Writes `rendered` into `out`.
pub fn write(out: &Path, rendered: &Rendered, force: bool) -> Result<Report, WriteError> {
    let (root, _) = Root::create(out, Mode::Public)?;
    let prev = previous(&root)?;
    let mut report = Report::default();
    let mut actions: Vec<(&str, Action)> = Vec::new();
    let (mut foreign, mut edited) = (Vec::new(), Vec::new());
    for (rel, file) in &rendered.files {
        if !(safe_path(rel) || rel == MANIFEST) {
            return Err(WriteError::UnsafePath(rel.clone()));
        }
        match on_disk(&root, rel, Some(file))? {
            Some(d) if d.same => report.unchanged.push(rel.clone()),
            Some(_) if rel == MANIFEST || force => actions.push((rel, Action::Update)),
            // Ours, and still as we wrote it: safe to replace.
            Some(d) if prev.get(rel).is_some_and(|h| *h == d.digest) => {
                actions.push((rel, Action::Update));
            }
            Some(_) if prev.contains_key(rel) => edited.push(rel.clone()),
            Some(_) => foreign.push(rel.clone()),
            None => actions.push((rel, Action::Create)),
        }
    }
    if !(foreign.is_empty() && edited.is_empty()) {
        return Err(WriteError::Conflicts { foreign, edited });
    }
    // Stale files: ours last time, not generated now. Remove them only if unchanged.
    let generated: BTreeSet<&str> = rendered.files.keys().map(String::as_str).collect();
    let mut stale = Vec::new();
    for (rel, hash) in &prev {
        if generated.contains(rel.as_str()) || !safe_path(rel) {
            continue;
        }
        match on_disk(&root, rel, None)? {
            Some(d) if d.digest == *hash => stale.push(rel.clone()),
            Some(_) => report.kept.push(rel.clone()),
            None => {}
        }
    }
    if actions.is_empty() && stale.is_empty() {
        return Ok(report);
    }

    let mut staging = Staging::new(&root)?;
    let result = stage_and_commit(&root, &mut staging, rendered, &actions, &mut report);
    staging.clean_up();
    result?;
    for rel in stale {
        root.remove_file(&rel)?;
        remove_empty_parents(&root, &rel);
        report.deleted.push(rel);
    }
    Ok(report)
}

/// The staging folder of one write, and everything this run put in it.
struct Staging<'a> {
    root: &'a Root,
    name: PathBuf,
    files: Vec<PathBuf>,
    dirs: Vec<PathBuf>,
}

impl<'a> Staging<'a> {
    fn new(root: &'a Root) -> Result<Self, WriteError> {
        for _ in 0..16 {
            let name = PathBuf::from(safe_fs::random_name(".fleetform-staging-"));
            // Created exclusively: an existing folder of that name is someone else's.
            if !root.create_dirs(&name, true)?.is_empty() {
                return Ok(Self {
                    root,
                    name,
                    files: Vec::new(),
                    dirs: Vec::new(),
                });
            }
        }
        Err(WriteError::Fs(safe_fs::Error::BadPath(
            "no free staging folder name".to_owned(),
        )))
    }

    fn path(&self, side: &str, rel: &str) -> PathBuf {
        self.name.join(side).join(rel)
    }

    /// Creates the folders `rel` needs under `side`, remembering them.
    fn dirs_for(&mut self, side: &str, rel: &str) -> Result<(), WriteError> {
        if let Some(parent) = Path::new(side).join(rel).parent() {
            let created = self.root.create_dirs(self.name.join(parent), true)?;
            self.dirs.extend(created);
        }
        Ok(())
    }

    /// Removes what this run staged: its files, then its folders deepest first, then itself.
    fn clean_up(self) {
        for f in &self.files {
            let _ = self.root.remove_file(f);
        }
        for d in self.dirs.iter().rev() {
            let _ = self.root.remove_dir(d);
        }
        let _ = self.root.remove_dir(&self.name);
    }
}

fn stage_and_commit(
    root: &Root,
    staging: &mut Staging<'_>,
    rendered: &Rendered,
    actions: &[(&str, Action)],
    report: &mut Report,
) -> Result<(), WriteError> {
    // 1. Stage every new file; nothing in `out` changes yet.
    for (rel, _) in actions {
        let file = &rendered.files[*rel];
        staging.dirs_for("new", rel)?;
        let staged = staging.path("new", rel);
        let mode = if file.executable {
            Mode::Executable
        } else {
            Mode::Public
        };
        // Streamed files (registry data) are generated again straight into the file.
        root.write_new_with(&staged, mode, true, |out| file.write_to(out))?;
        staging.files.push(staged);
    }
    // 2. Move into place, keeping backups of what is replaced; undo on failure. The manifest
    //    goes last, so an interrupted build never claims files it did not write.
    let mut ordered: Vec<&(&str, Action)> =
        actions.iter().filter(|(r, _)| *r != MANIFEST).collect();
    ordered.extend(actions.iter().filter(|(r, _)| *r == MANIFEST));
    let mut done: Vec<(&str, bool)> = Vec::new();
    // Folders created for new files, shallowest first, so an undo can remove them again.
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    for (rel, action) in ordered {
        let step = (|| -> Result<bool, WriteError> {
            if let Some(parent) = Path::new(rel).parent()
                && !parent.as_os_str().is_empty()
            {
                created_dirs.extend(root.create_dirs(parent, false)?);
            }
            let had_backup =
                matches!(action, Action::Update) && root.kind(Path::new(rel))?.is_some();
            if had_backup {
                staging.dirs_for("old", rel)?;
                let backup = staging.path("old", rel);
                root.rename(Path::new(rel), &backup)?;
                staging.files.push(backup);
            }
            root.rename(staging.path("new", rel), Path::new(rel))?;
            Ok(had_backup)
        })();
        match step {
            Ok(had_backup) => done.push((rel, had_backup)),
            Err(e) => {
                for (rel, had_backup) in done.into_iter().rev() {
                    let _ = root.remove_file(rel);
                    if had_backup {
                        let _ = root.rename(staging.path("old", rel), Path::new(rel));
                    }
                }
                for dir in created_dirs.iter().rev() {
                    let _ = root.remove_dir(dir);
                }
                return Err(e);
            }
        }
    }
    for (rel, action) in actions {
        match action {
            Action::Create => report.created.push((*rel).to_owned()),
            Action::Update => report.updated.push((*rel).to_owned()),
        }
    }
    Ok(())
}

/// Removes directories left empty by a deletion, up to (not including) `out`.
fn remove_empty_parents(root: &Root, rel: &str) {
    let mut dir = Path::new(rel);
    while let Some(parent) = dir.parent() {
        if parent.as_os_str().is_empty() || root.remove_dir(parent).is_err() {
            break;
        }
        dir = parent;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::emit::sha256_hex;

    fn rendered(files: &[(&str, &str)]) -> Rendered {
        let mut r = Rendered::default();
        for (p, c) in files {
            r.files.insert(
                (*p).to_owned(),
                RenderedFile::new(c.as_bytes().to_vec(), false),
            );
        }
        // A minimal manifest, as `emit::render` would produce.
        let m = crate::emit::Manifest {
            generator: "fleetform".into(),
            files: files
                .iter()
                .map(|(p, c)| {
                    (
                        (*p).to_owned(),
                        format!("sha256:{}", sha256_hex(c.as_bytes())),
                    )
                })
                .collect(),
        };
        r.files.insert(
            MANIFEST.into(),
            RenderedFile::new(serde_json::to_vec(&m).unwrap(), false),
        );
        r
    }

    #[test]
    fn keeps_user_files_and_removes_only_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        write(
            out,
            &rendered(&[("aws/main.tf", "a"), ("aws/old.tf", "o")]),
            false,
        )
        .unwrap();
        std::fs::write(out.join("aws/user.tf"), "mine").unwrap();
        let report = write(out, &rendered(&[("aws/main.tf", "b")]), false).unwrap();
        assert_eq!(report.deleted, vec!["aws/old.tf"]);
        assert_eq!(
            std::fs::read_to_string(out.join("aws/user.tf")).unwrap(),
            "mine"
        );
        assert_eq!(
            std::fs::read_to_string(out.join("aws/main.tf")).unwrap(),
            "b"
        );
    }

    #[test]
    fn keeps_edits_to_generated_files_unless_forced() {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path();
        write(
            out,
            &rendered(&[("aws/main.tf", "a"), ("aws/b.tf", "b")]),
            false,
        )
        .unwrap();
        std::fs::write(out.join("aws/main.tf"), "a\n# hand edit\n").unwrap();
        let next = rendered(&[("aws/main.tf", "a2"), ("aws/b.tf", "b2")]);
        let err = write(out, &next, false).unwrap_err();
        assert!(
            matches!(err, WriteError::Conflicts { ref foreign, ref edited } if foreign.is_empty() && edited == &["aws/main.tf"]),
            "{err}"
        );
        assert!(err.to_string().contains("edited since"), "{err}");
        assert_eq!(
            std::fs::read_to_string(out.join("aws/main.tf")).unwrap(),
            "a\n# hand edit\n"
        );
        assert_eq!(std::fs::read_to_string(out.join("aws/b.tf")).unwrap(), "b");
        write(out, &next, true).unwrap();
        assert_eq!(
            std::fs::read_to_string(out.join("aws/main.tf")).unwrap(),
            "a2"
        );
    }

    #[test]
    fn refuses_to_overwrite_foreign_files() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("aws")).unwrap();
        std::fs::write(dir.path().join("aws/main.tf"), "hand-written").unwrap();
        let err = write(
            dir.path(),
            &rendered(&[("aws/main.tf", "x"), ("aws/b.tf", "y")]),
            false,
        )
        .unwrap_err();
        assert!(
            matches!(err, WriteError::Conflicts { ref foreign, ref edited } if foreign == &["aws/main.tf"] && edited.is_empty())
        );
        assert!(
            !dir.path().join("aws/b.tf").exists(),
            "nothing is written on conflict"
        );
        assert_eq!(
            std::fs::read_to_string(dir.path().join("aws/main.tf")).unwrap(),
            "hand-written"
        );
    }

    #[test]
    fn unchanged_files_are_not_rewritten() {
        let dir = tempfile::tempdir().unwrap();
        let r = rendered(&[("aws/main.tf", "a")]);
        write(dir.path(), &r, false).unwrap();
        let report = write(dir.path(), &r, false).unwrap();
        assert!(report.created.is_empty() && report.updated.is_empty());
        assert_eq!(report.unchanged.len(), 2);
    }

    #[cfg(unix)]
    #[test]
    fn does_not_follow_symlinks() {
        let dir = tempfile::tempdir().unwrap();
        let elsewhere = tempfile::tempdir().unwrap();
        std::os::unix::fs::symlink(elsewhere.path(), dir.path().join("aws")).unwrap();
        let err = write(dir.path(), &rendered(&[("aws/main.tf", "x")]), false).unwrap_err();
        assert!(matches!(err, WriteError::Symlink(_)));
        assert!(
            std::fs::read_dir(elsewhere.path())
                .unwrap()
                .next()
                .is_none()
        );
    }
}
