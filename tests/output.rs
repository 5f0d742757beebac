//! The output folder, end to end through the binary: what `build` promises about the files
//! it writes (see `src/cli/output.rs`).
//!
//! - A build that fails while writing leaves the previous output as it was, byte for byte,
//!   and leaves no staging folder behind: whether it fails before staging (a file in the way
//!   of a folder), while staging (a write the OS refuses), or while moving files into place
//!   (a folder that cannot be changed), which must undo the moves already made.
//! - Files fleetform stops generating are removed, except those someone edited (reported as
//!   kept); files someone added are never touched.
//! - `--force` takes over a file fleetform did not write.
//! - An unchanged build rewrites nothing, so every modification time stays.
//!
//! `tests/cli.rs` and the unit tests of `src/cli/output.rs` cover refusing foreign files,
//! symlinks, and the mtime of one file; these tests do not repeat them.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::SystemTime;

use insta_cmd::get_cargo_bin;

const MINIMAL: &str = include_str!("../examples/minimal/fleet.yaml");
const MULTICLOUD: &str = include_str!("../examples/multicloud/fleet.yaml");

fn fleetform(dir: &Path, args: &[&str]) -> Output {
    Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "exit {:?}\nstdout:\n{}\nstderr:\n{}",
        out.status.code(),
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// A temp folder holding `fleet.yaml`.
fn project(spec: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), spec).unwrap();
    dir
}

/// Every file under `dir` (relative path → bytes) and every folder (relative paths).
#[derive(Debug, PartialEq, Eq)]
struct Tree {
    files: BTreeMap<String, Vec<u8>>,
    dirs: BTreeSet<String>,
}

fn tree(dir: &Path) -> Tree {
    let mut t = Tree {
        files: BTreeMap::new(),
        dirs: BTreeSet::new(),
    };
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let rel = path
                .strip_prefix(dir)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            if path.is_dir() {
                t.dirs.insert(rel);
                stack.push(path);
            } else {
                t.files.insert(rel, std::fs::read(&path).unwrap());
            }
        }
    }
    t
}

fn mtimes(dir: &Path) -> BTreeMap<String, SystemTime> {
    tree(dir)
        .files
        .keys()
        .map(|rel| {
            let m = std::fs::metadata(dir.join(rel))
                .unwrap()
                .modified()
                .unwrap();
            (rel.clone(), m)
        })
        .collect()
}

fn staging_folders(out: &Path) -> Vec<String> {
    std::fs::read_dir(out)
        .unwrap()
        .filter_map(|e| {
            let name = e.unwrap().file_name().to_string_lossy().into_owned();
            name.starts_with(".fleetform-staging").then_some(name)
        })
        .collect()
}

fn manifest_files(out: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(out.join(fleetform::emit::MANIFEST)).unwrap();
    fleetform::emit::parse_manifest(&text)
        .unwrap()
        .files
        .into_keys()
        .collect()
}

/// The minimal example plus an alert, which adds `aws/functions/...`.
fn minimal_with_alert(alert: &str) -> String {
    format!(
        "{MINIMAL}\npipeline:\n  alerts:\n    - name: {alert}\n      condition: temperature > 80\n"
    )
}

/// Asserts that a failed build changed nothing: same files, bytes, folders and mtimes, and no
/// staging folder.
fn assert_untouched(out: &Path, before: &Tree, before_mtimes: &BTreeMap<String, SystemTime>) {
    let after = tree(out);
    let lost: Vec<&String> = before
        .files
        .keys()
        .filter(|k| !after.files.contains_key(*k))
        .collect();
    let added: Vec<&String> = after
        .files
        .keys()
        .filter(|k| !before.files.contains_key(*k))
        .collect();
    assert!(
        lost.is_empty() && added.is_empty(),
        "files lost: {lost:?}, files added: {added:?}"
    );
    for (rel, bytes) in &before.files {
        assert!(after.files[rel] == *bytes, "`{rel}` changed");
    }
    assert_eq!(&mtimes(out), before_mtimes, "modification times changed");
    assert_eq!(staging_folders(out), Vec::<String>::new(), "staging left");
    assert_eq!(after.dirs, before.dirs, "folders differ");
}

// ---------------------------------------------------------------------------------------------
// (a) A failure while writing leaves the previous output as it was.

/// A plain file where the new build needs a folder: `out/aws/functions/src/alert-too-hot`
/// is in the way of the alert function's source. Validation and planning succeed; the write
/// fails.
#[test]
fn a_file_in_the_way_of_a_folder_leaves_the_previous_output() {
    let dir = project(MINIMAL);
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let out = dir.path().join("out");
    std::fs::write(
        out.join("aws/functions/src/alert-too-hot"),
        "a note someone left here\n",
    )
    .unwrap();
    let before = tree(&out);
    let before_mtimes = mtimes(&out);

    std::fs::write(dir.path().join("fleet.yaml"), minimal_with_alert("too_hot")).unwrap();
    let result = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "out"]);
    assert_eq!(result.status.code(), Some(2), "an I/O error exits 2");
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert!(
        stderr.contains("aws/functions/src/alert-too-hot"),
        "the error names the path: {stderr}"
    );
    assert!(result.stdout.is_empty(), "no summary on failure");
    assert_untouched(&out, &before, &before_mtimes);
}

/// A failure while staging: the OS refuses to write a staged file (`EFBIG` under a file-size
/// limit, `ulimit -f` with `SIGXFSZ` ignored so the write returns an error instead of killing
/// the process), after other files were staged already. Staging happens after validation,
/// planning and every check on the destination, and writes nothing but the staging folder.
/// (Staging used to fail on a long `--out` too; paths are now walked a folder at a time from
/// a handle, so `PATH_MAX` no longer applies.)
#[cfg(unix)]
#[test]
fn a_failure_while_staging_leaves_the_previous_output() {
    let dir = project(MINIMAL);
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let out = dir.path().join("out");
    let before = tree(&out);
    let before_mtimes = mtimes(&out);

    let spec = minimal_with_alert("overheat");
    let next = common::build_text("fleet.yaml", &spec, dir.path());
    let changed = next
        .files
        .iter()
        .filter(|(k, f)| before.files.get(*k) != Some(&f.bytes))
        .count();
    assert!(changed > 2, "several files must be staged");
    let largest = next.files.values().map(|f| f.bytes.len()).max().unwrap();
    assert!(largest > 4096, "one staged file is larger than the limit");

    std::fs::write(dir.path().join("fleet.yaml"), &spec).unwrap();
    // 8 blocks of 512 bytes: small files stage, the largest does not.
    let result = Command::new("sh")
        .arg("-c")
        .arg("trap '' XFSZ; ulimit -f 8; exec \"$0\" build fleet.yaml --out out")
        .arg(get_cargo_bin("fleetform"))
        .current_dir(dir.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.to_lowercase().contains("too large"),
        "the OS error is reported: {stderr}"
    );
    assert_untouched(&out, &before, &before_mtimes);

    // The same build without the limit works: the failure was the limit, not the build.
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let check = fleetform(dir.path(), &["check", "fleet.yaml", "--out", "out"]);
    assert!(check.status.success());
}

/// Makes a folder unchangeable: read-only for ordinary users, immutable (`chattr +i`) for
/// root, who ignores permissions. Undone on drop.
struct Frozen {
    dir: PathBuf,
    immutable: bool,
}

impl Frozen {
    fn new(dir: &Path) -> Option<Self> {
        use std::os::unix::fs::PermissionsExt;
        let probe = dir.join(".probe");
        let blocked = || std::fs::write(&probe, "").is_err();
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o555)).unwrap();
        if blocked() {
            return Some(Self {
                dir: dir.to_path_buf(),
                immutable: false,
            });
        }
        let _ = std::fs::remove_file(&probe);
        std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        let chattr = Command::new("chattr").arg("+i").arg(dir).output();
        if chattr.is_ok_and(|o| o.status.success()) {
            let frozen = Self {
                dir: dir.to_path_buf(),
                immutable: true,
            };
            if blocked() {
                return Some(frozen);
            }
            let _ = std::fs::remove_file(&probe);
        }
        None
    }
}

impl Drop for Frozen {
    fn drop(&mut self) {
        use std::os::unix::fs::PermissionsExt;
        if self.immutable {
            let _ = Command::new("chattr").arg("-i").arg(&self.dir).output();
        } else {
            let _ = std::fs::set_permissions(&self.dir, std::fs::Permissions::from_mode(0o755));
        }
    }
}

/// A failure while moving files into place: `out/azure` cannot be changed, so the AWS files
/// (moved first) must be put back from their backups when the first Azure file fails.
#[cfg(unix)]
#[test]
fn a_failure_while_moving_files_into_place_undoes_the_moves_already_made() {
    let dir = project(MULTICLOUD);
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let out = dir.path().join("out");
    let before = tree(&out);
    let before_mtimes = mtimes(&out);

    // A new owner changes the tags, so both modules change.
    let spec = MULTICLOUD.replace("owner: store-systems", "owner: cold-chain-team");
    assert_ne!(spec, MULTICLOUD);
    std::fs::write(dir.path().join("fleet.yaml"), &spec).unwrap();
    let Some(frozen) = Frozen::new(&out.join("azure")) else {
        return common::skip(
            "chattr",
            "cannot make a folder unchangeable here (root without CAP_LINUX_IMMUTABLE?)",
        );
    };
    let result = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "out"]);
    drop(frozen);
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(result.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("azure"),
        "the error names the path: {stderr}"
    );
    assert_untouched(&out, &before, &before_mtimes);

    // Unfrozen, the same build goes through and the manifest follows.
    let report = ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    assert!(report.contains(" updated"), "{report}");
    let check = fleetform(dir.path(), &["check", "fleet.yaml", "--out", "out"]);
    assert!(check.status.success());
}

// ---------------------------------------------------------------------------------------------
// (b) Files no longer generated

#[test]
fn files_no_longer_generated_are_removed_unless_edited_and_added_files_stay() {
    let dir = project(MULTICLOUD);
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let out = dir.path().join("out");
    let first = manifest_files(&out);

    // Someone adds a file of their own and edits one fleetform will stop generating.
    std::fs::write(out.join("aws/extra.tf"), "# mine\n").unwrap();
    let edited = "aws/functions/src/alert-too-warm/handler.py";
    let mut handler = std::fs::read_to_string(out.join(edited)).unwrap();
    handler.push_str("# tuned by hand\n");
    std::fs::write(out.join(edited), &handler).unwrap();

    // Without the alert, its function code, zips, event hub and routes go away.
    let start = MULTICLOUD.find("  alerts:\n").unwrap();
    let end = MULTICLOUD[start..].find("  state_store:").unwrap() + start;
    let spec = format!("{}{}", &MULTICLOUD[..start], &MULTICLOUD[end..]);
    std::fs::write(dir.path().join("fleet.yaml"), &spec).unwrap();
    let stdout = ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let second = manifest_files(&out);

    let dropped: BTreeSet<&String> = first.difference(&second).collect();
    assert!(
        dropped.contains(&edited.to_owned()),
        "the alert's handler is no longer generated: {dropped:?}"
    );
    let removed: BTreeSet<&String> = dropped
        .iter()
        .copied()
        .filter(|p| p.as_str() != edited)
        .collect();
    assert!(removed.len() >= 3, "{removed:?}");
    assert!(
        stdout.contains(&format!("{} removed", removed.len())),
        "the summary counts exactly the removed files:\n{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "kept {edited}: fleetform no longer generates it, but it was edited"
        )),
        "{stdout}"
    );

    // On disk: exactly the new manifest, plus the added file and the edited one.
    let on_disk: BTreeSet<String> = tree(&out)
        .files
        .into_keys()
        .filter(|p| p != fleetform::emit::MANIFEST)
        .collect();
    let mut want: BTreeSet<String> = second.clone();
    want.insert("aws/extra.tf".into());
    want.insert(edited.into());
    assert_eq!(on_disk, want);
    assert_eq!(
        std::fs::read_to_string(out.join("aws/extra.tf")).unwrap(),
        "# mine\n"
    );
    assert_eq!(std::fs::read_to_string(out.join(edited)).unwrap(), handler);
    assert!(
        !second.contains(edited),
        "the manifest no longer claims the kept file"
    );

    // Folders emptied by the removal are gone; the kept file's folder stays.
    let t = tree(&out);
    for d in &t.dirs {
        assert!(
            t.files.keys().any(|f| f.starts_with(&format!("{d}/"))),
            "`{d}` was left empty"
        );
    }

    // The next build neither reports nor touches the kept file again.
    let again = ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    assert!(!again.contains("kept"), "{again}");
    assert!(again.contains("0 created, 0 updated"), "{again}");
    assert_eq!(std::fs::read_to_string(out.join(edited)).unwrap(), handler);
}

/// Switching the syntax is the extreme case: every `.tf` becomes a `.tf.json` (and the
/// shipped `.tftest.hcl` a `.tftest.json`).
#[test]
fn switching_to_terraform_json_replaces_every_tf_file() {
    let dir = project(MINIMAL);
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let out = dir.path().join("out");
    std::fs::write(out.join("aws/extra.tf"), "# mine\n").unwrap();
    let hcl = manifest_files(&out);
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out", "--format", "tf-json"],
    ));
    let json = manifest_files(&out);
    for path in &hcl {
        if let Some(stem) = path.strip_suffix(".tf") {
            assert!(!out.join(path).exists(), "`{path}` was removed");
            assert!(json.contains(&format!("{stem}.tf.json")), "{json:?}");
        } else if let Some(stem) = path.strip_suffix(".tftest.hcl") {
            assert!(!out.join(path).exists(), "`{path}` was removed");
            assert!(json.contains(&format!("{stem}.tftest.json")), "{json:?}");
        } else {
            assert!(json.contains(path), "`{path}` is still generated");
        }
    }
    assert!(out.join("aws/extra.tf").exists());
    let check = fleetform(dir.path(), &["check", "fleet.yaml", "--out", "out"]);
    assert!(
        check.status.success(),
        "check reads the syntax from the manifest: {}",
        String::from_utf8_lossy(&check.stdout)
    );
}

// ---------------------------------------------------------------------------------------------
// (c) --force

#[test]
fn force_takes_over_a_foreign_file_and_leaves_the_others() {
    let dir = project(MINIMAL);
    let reference = tempfile::tempdir().unwrap();
    std::fs::write(reference.path().join("fleet.yaml"), MINIMAL).unwrap();
    ok(&fleetform(
        reference.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let generated = std::fs::read(reference.path().join("out/aws/main.tf")).unwrap();

    let out = dir.path().join("out");
    std::fs::create_dir_all(out.join("aws")).unwrap();
    std::fs::write(out.join("aws/main.tf"), "# hand-written\n").unwrap();
    std::fs::write(out.join("aws/extra.tf"), "# mine\n").unwrap();

    let refused = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "out"]);
    assert_eq!(refused.status.code(), Some(2));
    assert_eq!(
        std::fs::read_to_string(out.join("aws/main.tf")).unwrap(),
        "# hand-written\n"
    );

    let forced = ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out", "--force"],
    ));
    assert!(forced.contains("1 updated"), "{forced}");
    assert_eq!(std::fs::read(out.join("aws/main.tf")).unwrap(), generated);
    assert_eq!(
        std::fs::read_to_string(out.join("aws/extra.tf")).unwrap(),
        "# mine\n",
        "--force only overwrites files fleetform generates"
    );
    assert!(manifest_files(&out).contains("aws/main.tf"));
    assert!(!manifest_files(&out).contains("aws/extra.tf"));
    assert_eq!(
        tree(&out).files,
        {
            let mut want = tree(&reference.path().join("out")).files;
            want.insert("aws/extra.tf".into(), b"# mine\n".to_vec());
            want
        },
        "the output is what a clean build writes, plus the user's file"
    );

    // From now on the file is fleetform's: a build without --force is fine.
    let again = ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    assert!(again.contains("0 created, 0 updated"), "{again}");
}

// ---------------------------------------------------------------------------------------------
// (d) Unchanged builds

#[test]
fn an_unchanged_build_keeps_every_modification_time() {
    for syntax in ["human", "tf-json"] {
        let dir = project(MULTICLOUD);
        let args = ["build", "fleet.yaml", "--out", "out", "--format", syntax];
        ok(&fleetform(dir.path(), &args));
        let out = dir.path().join("out");
        let before = tree(&out);
        let before_mtimes = mtimes(&out);
        std::thread::sleep(std::time::Duration::from_millis(50));
        let report = ok(&fleetform(dir.path(), &args));
        assert!(
            report.contains(&format!(
                "0 created, 0 updated, {} unchanged, 0 removed",
                before.files.len()
            )),
            "{syntax}: {report}"
        );
        assert_untouched(&out, &before, &before_mtimes);
    }
}

/// The same failure when the new build also adds folders (an alert's function code): the
/// rollback removes the files it moved and the folders it created for them.
#[cfg(unix)]
#[test]
fn a_failure_while_moving_files_into_place_removes_the_folders_it_created() {
    let start = MULTICLOUD.find("  alerts:\n").unwrap();
    let end = MULTICLOUD[start..].find("  state_store:").unwrap() + start;
    let dir = project(&format!("{}{}", &MULTICLOUD[..start], &MULTICLOUD[end..]));
    ok(&fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out"],
    ));
    let out = dir.path().join("out");
    let before = tree(&out);
    let before_mtimes = mtimes(&out);

    // With the alert back, `aws/functions/src/alert-too-warm/` is created before the first
    // Azure file fails.
    std::fs::write(dir.path().join("fleet.yaml"), MULTICLOUD).unwrap();
    let Some(frozen) = Frozen::new(&out.join("azure")) else {
        return common::skip(
            "chattr",
            "cannot make a folder unchangeable here (root without CAP_LINUX_IMMUTABLE?)",
        );
    };
    let result = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "out"]);
    drop(frozen);
    assert_eq!(result.status.code(), Some(2));
    assert_untouched(&out, &before, &before_mtimes);
}
