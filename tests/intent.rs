//! The tests fleetform ships with every root catch a hand edit: changing one lifecycle day in
//! the generated code makes the root's own `terraform test` (run as its README says) fail
//! with a message that names the spec key and the value the spec asks for, and undoing the
//! edit makes it pass again. Checked for an AWS and an Azure root.

mod common;

use std::path::Path;

use common::{build_file, root, write_temp};

/// Replaces `from` with `to` exactly once in `file`.
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert_eq!(
        text.matches(from).count(),
        1,
        "{} holds `{from}` exactly once:\n{text}",
        file.display()
    );
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Builds `example`, checks its `cloud` root's shipped tests pass, edits `file` (`from` to
/// `to`), checks they fail naming `key` and `wants`, undoes the edit and checks they pass.
fn hand_edit_is_caught(
    example: &str,
    cloud: &str,
    file: &str,
    from: &str,
    to: &str,
    key: &str,
    wants: &str,
) {
    let Some(tf) = common::terraform_or_skip("terraform test (hand edits)") else {
        return;
    };
    let out = write_temp(&build_file(
        &root().join(format!("examples/{example}/fleet.yaml")),
    ));
    let module = out.path().join(cloud);
    if !tf.can_check(&module) {
        return;
    }
    let (ok, printed) = tf.readme_test(&module);
    assert!(
        ok,
        "{example}/{cloud}: the shipped tests pass as built:\n{printed}"
    );

    let path = module.join(file);
    edit(&path, from, to);
    let (ok, printed) = tf.readme_test(&module);
    assert!(
        !ok,
        "{example}/{cloud}: the edit `{from}` -> `{to}` is caught:\n{printed}"
    );
    assert!(
        printed.contains(key) && printed.contains(wants),
        "{example}/{cloud}: the failure names `{key}` and `{wants}`:\n{printed}"
    );
    let failure: Vec<&str> = printed
        .lines()
        .skip_while(|l| !l.contains("Error: Test assertion failed"))
        .take_while(|l| !l.contains("tearing down"))
        .collect();
    common::announce(&format!(
        "{example}/{cloud}: after editing {file} (`{from}` -> `{to}`), terraform test says:\n{}",
        failure.join("\n")
    ));

    edit(&path, to, from);
    let (ok, printed) = tf.readme_test(&module);
    assert!(
        ok,
        "{example}/{cloud}: undoing the edit makes the tests pass:\n{printed}"
    );
}

#[test]
fn a_hand_edited_s3_lifecycle_day_fails_the_shipped_test() {
    hand_edit_is_caught(
        "home-security",
        "aws",
        "storage.tf",
        "      days          = 30\n      storage_class = \"STANDARD_IA\"",
        "      days          = 45\n      storage_class = \"STANDARD_IA\"",
        "storage.archive.lifecycle[0].after_days",
        "after 30 days",
    );
}

#[test]
fn a_hand_edited_blob_lifecycle_day_fails_the_shipped_test() {
    hand_edit_is_caught(
        "industrial-cranes",
        "azure",
        "storage.tf",
        "tier_to_cool_after_days_since_modification_greater_than = 30",
        "tier_to_cool_after_days_since_modification_greater_than = 45",
        "storage.archive.lifecycle[0].after_days",
        "after 30 days",
    );
}
