//! Writing a build to disk: atomically, minimally, and without ever losing a user's file.
//!
//! The guarantees, each tested:
//! - Nothing is touched until every file has been staged next to its destination; a failure
//!   while staging leaves the previous output as it was.
//! - Files are then moved into place with renames; if one fails, the moves already made are
//!   undone from backups.
//! - Unchanged files are not rewritten, so their modification times stay.
//! - fleetform only replaces or removes files its manifest says it wrote (and only when they
//!   still hold what it wrote). A file someone else put in the way is an error, not an
//!   overwrite, unless `--force`.
//! - No path leaves the output folder, and no write follows a symlink inside it.

use std::collections::BTreeSet;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use fs_err as fs;

use crate::emit::{Digest256, MANIFEST, Rendered, RenderedFile, parse_manifest, safe_path};

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
    #[error("`{0}` is a symlink; fleetform does not write through symlinks in the output folder")]
    Symlink(PathBuf),
    #[error(
        "`{0}` exists and is not a directory\nhint: give `--out` a folder (it is created if missing)"
    )]
    NotADirectory(PathBuf),
    #[error("unsafe output path `{0}`")]
    UnsafePath(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
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

/// Reads the previous manifest's files, if any.
fn previous(out: &Path) -> std::collections::BTreeMap<String, String> {
    std::fs::read_to_string(out.join(MANIFEST))
        .ok()
        .and_then(|t| parse_manifest(&t))
        .map(|m| m.files)
        .unwrap_or_default()
}

/// Refuses symlinks on the way from `out` to `out/rel`.
fn check_no_symlinks(out: &Path, rel: &str) -> Result<(), WriteError> {
    let mut cur = out.to_path_buf();
    for comp in rel.split('/') {
        cur.push(comp);
        match std::fs::symlink_metadata(&cur) {
            Ok(m) if m.file_type().is_symlink() => return Err(WriteError::Symlink(cur)),
            Ok(_) => {}
            Err(_) => break,
        }
    }
    Ok(())
}

/// Writes `rendered` into `out`.
pub fn write(out: &Path, rendered: &Rendered, force: bool) -> Result<Report, WriteError> {
    match std::fs::symlink_metadata(out) {
        Ok(m) if !m.is_dir() => return Err(WriteError::NotADirectory(out.to_path_buf())),
        Ok(_) => {}
        Err(_) => fs::create_dir_all(out)?,
    }
    let prev = previous(out);
    let mut report = Report::default();
    let mut actions: Vec<(&str, Action)> = Vec::new();
    let (mut foreign, mut edited) = (Vec::new(), Vec::new());
    for (rel, file) in &rendered.files {
        if !(safe_path(rel) || rel == MANIFEST) {
            return Err(WriteError::UnsafePath(rel.clone()));
        }
        check_no_symlinks(out, rel)?;
        let target = out.join(rel);
        match digest(&target, file) {
            Ok((true, _)) => report.unchanged.push(rel.clone()),
            Ok(_) if rel == MANIFEST || force => actions.push((rel, Action::Update)),
            // Ours, and still as we wrote it: safe to replace.
            Ok((_, existing))
                if prev
                    .get(rel)
                    .is_some_and(|h| *h == format!("sha256:{existing}")) =>
            {
                actions.push((rel, Action::Update));
            }
            Ok(_) if prev.contains_key(rel) => edited.push(rel.clone()),
            Ok(_) => foreign.push(rel.clone()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                actions.push((rel, Action::Create));
            }
            Err(e) => return Err(fs_err_wrap(&e, &target)),
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
        check_no_symlinks(out, rel)?;
        match std::fs::File::open(out.join(rel)).and_then(Digest256::of_reader) {
            Ok(d) if format!("sha256:{}", d.sha256_hex) == *hash => {
                stale.push(rel.clone());
            }
            Ok(_) => report.kept.push(rel.clone()),
            Err(_) => {}
        }
    }
    if actions.is_empty() && stale.is_empty() {
        return Ok(report);
    }

    let staging = out.join(format!(".fleetform-staging-{}", std::process::id()));
    let result = stage_and_commit(out, &staging, rendered, &actions, &mut report);
    let _ = std::fs::remove_dir_all(&staging);
    result?;
    for rel in stale {
        fs::remove_file(out.join(&rel))?;
        remove_empty_parents(out, &rel);
        report.deleted.push(rel);
    }
    Ok(report)
}

/// Whether the file at `target` already holds `file`, and its hex SHA-256. Files held in
/// memory are compared byte for byte; streamed ones (registry data, up to hundreds of MB) by
/// length and hash, reading the old file as a stream.
fn digest(target: &Path, file: &RenderedFile) -> std::io::Result<(bool, String)> {
    if file.streamed.is_some() {
        let d = std::fs::File::open(target).and_then(Digest256::of_reader)?;
        Ok((file.matches(&d), d.sha256_hex))
    } else {
        let existing = std::fs::read(target)?;
        Ok((existing == file.bytes, crate::emit::sha256_hex(&existing)))
    }
}

fn fs_err_wrap(e: &std::io::Error, path: &Path) -> WriteError {
    WriteError::Io(std::io::Error::new(
        e.kind(),
        format!("{}: {e}", path.display()),
    ))
}

fn stage_and_commit(
    out: &Path,
    staging: &Path,
    rendered: &Rendered,
    actions: &[(&str, Action)],
    report: &mut Report,
) -> Result<(), WriteError> {
    // 1. Stage every new file; nothing in `out` changes yet.
    for (rel, _) in actions {
        let file = &rendered.files[*rel];
        let staged = staging.join("new").join(rel);
        if let Some(parent) = staged.parent() {
            fs::create_dir_all(parent)?;
        }
        let mut f = std::io::BufWriter::with_capacity(256 * 1024, fs::File::create(&staged)?);
        file.write_to(&mut f)?;
        f.flush()?;
        f.get_ref().sync_all()?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = if file.executable { 0o755 } else { 0o644 };
            fs::set_permissions(&staged, std::fs::Permissions::from_mode(mode))?;
        }
    }
    // 2. Move into place, keeping backups of what is replaced; undo on failure. The manifest
    //    goes last, so an interrupted build never claims files it did not write.
    let mut ordered: Vec<&(&str, Action)> =
        actions.iter().filter(|(r, _)| *r != MANIFEST).collect();
    ordered.extend(actions.iter().filter(|(r, _)| *r == MANIFEST));
    let mut done: Vec<(&str, bool)> = Vec::new();
    // Folders created for new files, deepest last, so an undo can remove them again.
    let mut created_dirs: Vec<PathBuf> = Vec::new();
    for (rel, action) in ordered {
        let target = out.join(rel);
        let step = (|| -> std::io::Result<bool> {
            if let Some(parent) = target.parent() {
                let mut missing = Vec::new();
                let mut dir = parent.to_path_buf();
                while !dir.exists() && dir.starts_with(out) && dir != out {
                    missing.push(dir.clone());
                    if !dir.pop() {
                        break;
                    }
                }
                fs::create_dir_all(parent)?;
                created_dirs.extend(missing.into_iter().rev());
            }
            let had_backup = matches!(action, Action::Update) && target.exists();
            if had_backup {
                let backup = staging.join("old").join(rel);
                if let Some(parent) = backup.parent() {
                    fs::create_dir_all(parent)?;
                }
                fs::rename(&target, &backup)?;
            }
            fs::rename(staging.join("new").join(rel), &target)?;
            Ok(had_backup)
        })();
        match step {
            Ok(had_backup) => done.push((rel, had_backup)),
            Err(e) => {
                for (rel, had_backup) in done.into_iter().rev() {
                    let target = out.join(rel);
                    let _ = std::fs::remove_file(&target);
                    if had_backup {
                        let _ = std::fs::rename(staging.join("old").join(rel), &target);
                    }
                }
                for dir in created_dirs.iter().rev() {
                    let _ = std::fs::remove_dir(dir);
                }
                return Err(e.into());
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
fn remove_empty_parents(out: &Path, rel: &str) {
    let mut dir = out.join(rel);
    while dir.pop() && dir != out && dir.starts_with(out) {
        if std::fs::remove_dir(&dir).is_err() {
            break;
        }
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
