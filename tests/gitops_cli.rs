//! The commands a GitOps pipeline runs, through the binary: `check` (is the committed
//! Terraform what the spec compiles to?), `diff` (what does this pull request do to the
//! infrastructure and the bill?) in every format, against a second spec or a git revision,
//! with `--exit-code`; and `diagram`/`explain` on a spec with environments.
//!
//! Every command runs inside a temp folder with relative paths, so snapshots hold no temp
//! paths; content hashes in `check`'s manifest diff are redacted.
//!
//! Long because each pipeline command (`check`, `diff`, exit codes, JSON) is tested in the
//! same temp-folder fixture a GitOps job uses.

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

use insta_cmd::{assert_cmd_snapshot, get_cargo_bin};

const MINIMAL: &str = include_str!("../examples/minimal/fleet.yaml");
const MULTICLOUD: &str = include_str!("../examples/multicloud/fleet.yaml");

fn cmd(dir: &Path) -> Command {
    let mut c = Command::new(get_cargo_bin("fleetform"));
    c.current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("CLICOLOR_FORCE");
    c
}

fn run(dir: &Path, args: &[&str]) -> Output {
    cmd(dir).args(args).output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8(out.stdout.clone()).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8(out.stderr.clone()).unwrap()
}

/// Exit code, stdout and stderr in one text, with `sha256:<64 hex>` redacted.
fn transcript(out: &Output) -> String {
    let raw = format!(
        "exit code: {:?}\n----- stdout -----\n{}----- stderr -----\n{}",
        out.status.code(),
        stdout(out),
        stderr(out)
    );
    let mut text = String::with_capacity(raw.len());
    let mut rest = raw.as_str();
    while let Some(i) = rest.find("sha256:") {
        text.push_str(&rest[..i + 7]);
        rest = &rest[i + 7..];
        let hex = rest.bytes().take_while(u8::is_ascii_hexdigit).count();
        if hex == 64 {
            text.push_str("[hash]");
            rest = &rest[64..];
        }
    }
    text.push_str(rest);
    text
}

fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// The multicloud example without its header comment, streaming through Kinesis (so that
/// Kinesis retention can change in place).
fn base() -> String {
    let spec = &MULTICLOUD[MULTICLOUD.find("version: 1").unwrap()..];
    let spec = spec.replace(
        "      service: firehose\n",
        "      service: kinesis_and_firehose\n",
    );
    assert!(spec.contains("kinesis_and_firehose"));
    spec
}

fn edit(spec: &str, from: &str, to: &str) -> String {
    assert!(spec.contains(from), "`{from}` is not in the spec");
    spec.replacen(from, to, 1)
}

/// Changes Terraform must apply by destroying and re-creating resources, in the providers
/// fleetform pins: the thing type's `properties.description` is ForceNew in hashicorp/aws,
/// and `infrastructure_encryption_enabled` is ForceNew on `azurerm_storage_account`.
fn replacing() -> String {
    let spec = edit(
        &base(),
        "    - name: freezer\n",
        "    - name: freezer\n      description: Retail freezer with door and compressor sensors\n",
    );
    edit(
        &spec,
        "    resource_group: rg-freezers-prod\n",
        "    resource_group: rg-freezers-prod\n    storage:\n      infrastructure_encryption: true\n",
    )
}

/// Changes applied in place: Kinesis retention (72 h adds extended-retention hours to the
/// bill) and the archive's lifecycle days on both clouds.
fn in_place() -> String {
    let spec = edit(
        &base(),
        "      service: kinesis_and_firehose\n",
        "      service: kinesis_and_firehose\n      kinesis_retention_hours: 72\n",
    );
    let spec = edit(&spec, "        after_days: 120", "        after_days: 180");
    edit(
        &spec,
        "    expire_after_days: 730",
        "    expire_after_days: 900",
    )
}

/// A temp folder with `old.yaml` and the variants.
fn specs() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "old.yaml", &base());
    write(dir.path(), "replace.yaml", &replacing());
    write(dir.path(), "inplace.yaml", &in_place());
    dir
}

// ---------------------------------------------------------------------------------------------
// check

#[test]
fn check_passes_on_an_up_to_date_output() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fleet.yaml", MINIMAL);
    assert!(
        run(dir.path(), &["build", "fleet.yaml", "--out", "out"])
            .status
            .success()
    );
    let mut c = cmd(dir.path());
    c.args(["check", "fleet.yaml", "--out", "out"]);
    assert_cmd_snapshot!(c);
}

#[test]
fn check_fails_on_a_stale_output_with_a_diff_and_a_hint() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "fleet.yaml", MINIMAL);
    assert!(
        run(dir.path(), &["build", "fleet.yaml", "--out", "out"])
            .status
            .success()
    );
    write(
        dir.path(),
        "fleet.yaml",
        &edit(MINIMAL, "owner: platform-team", "owner: iot-team"),
    );
    let before = std::fs::read(dir.path().join("out/aws/main.tf")).unwrap();
    let out = run(dir.path(), &["check", "fleet.yaml", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stdout(&out).starts_with("--- a/"),
        "a unified diff on stdout"
    );
    assert!(
        stderr(&out).contains("hint: run `fleetform build fleet.yaml --out out`"),
        "the hint is on stderr"
    );
    insta::assert_snapshot!(transcript(&out));
    assert_eq!(
        std::fs::read(dir.path().join("out/aws/main.tf")).unwrap(),
        before,
        "check writes nothing"
    );
}

/// Hand edits, deleted files, files the spec no longer asks for, and binaries.
#[test]
fn check_reports_every_kind_of_drift() {
    let dir = tempfile::tempdir().unwrap();
    let with_alert = format!(
        "{MINIMAL}\npipeline:\n  alerts:\n    - name: too_hot\n      condition: temperature > 80\n"
    );
    write(dir.path(), "fleet.yaml", &with_alert);
    assert!(
        run(dir.path(), &["build", "fleet.yaml", "--out", "out"])
            .status
            .success()
    );
    let out_dir = dir.path().join("out");

    // Hand edit, deletion, and a zip that is not what fleetform packs.
    let main = std::fs::read_to_string(out_dir.join("aws/main.tf")).unwrap();
    std::fs::write(out_dir.join("aws/main.tf"), format!("{main}# hand edit\n")).unwrap();
    std::fs::remove_file(out_dir.join("aws/versions.tf")).unwrap();
    std::fs::write(
        out_dir.join("aws/functions/alert-too-hot.zip"),
        [0xff, 0xfe, 0],
    )
    .unwrap();
    let out = run(dir.path(), &["check", "fleet.yaml", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    assert!(text.contains("+++ b/aws/main.tf\n"), "{text}");
    assert!(text.contains("\n-# hand edit\n"), "{text}");
    assert!(text.contains("missing: aws/versions.tf\n"), "{text}");
    assert!(
        text.contains("Binary files a/aws/functions/alert-too-hot.zip and b/aws/functions/alert-too-hot.zip differ"),
        "{text}"
    );
    assert!(
        stderr(&out).contains("error: 3 file(s) in out differ"),
        "{}",
        stderr(&out)
    );

    // Back to the spec without the alert: its files are no longer generated (functions.tf
    // stays: the pre-provisioning hook needs it).
    assert!(
        run(
            dir.path(),
            &["build", "fleet.yaml", "--out", "out", "--force"]
        )
        .status
        .success()
    );
    write(dir.path(), "fleet.yaml", MINIMAL);
    let out = run(dir.path(), &["check", "fleet.yaml", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    let text = stdout(&out);
    for gone in [
        "aws/functions/alert-too-hot.zip",
        "aws/functions/src/alert-too-hot/handler.py",
    ] {
        assert!(
            text.contains(&format!("no longer generated: {gone}\n")),
            "{gone}:\n{text}"
        );
    }
}

#[test]
fn check_on_an_invalid_spec_exits_1_with_diagnostics() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "fleet.yaml",
        &edit(MINIMAL, "devices: 100", "devices: lots"),
    );
    let out = run(dir.path(), &["check", "fleet.yaml", "--out", "out"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty());
    assert!(stderr(&out).contains("fleet.yaml:"), "{}", stderr(&out));
}

// ---------------------------------------------------------------------------------------------
// diff OLD NEW

#[test]
fn diff_of_a_replacing_change_in_every_format() {
    let dir = specs();
    for format in ["text", "markdown", "json"] {
        let mut c = cmd(dir.path());
        c.args(["diff", "old.yaml", "replace.yaml", "--format", format]);
        assert_cmd_snapshot!(format!("diff-replace-{format}"), c);
    }
    let out = run(
        dir.path(),
        &["diff", "old.yaml", "replace.yaml", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let replaced: Vec<&str> = v["infrastructure"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "replace")
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    // Replacing the storage account changes its id, which its container, management policy,
    // diagnostic setting and the role assignment scoped to the container force new on.
    assert_eq!(
        replaced,
        [
            "aws_iot_thing_type.type_freezer",
            "azurerm_monitor_diagnostic_setting.archive_blobs",
            "azurerm_role_assignment.capture_writer",
            "azurerm_storage_account.archive",
            "azurerm_storage_container.archive",
            "azurerm_storage_management_policy.archive",
        ]
    );
    assert_eq!(v["verdict"], "data_loss");
    let lost: Vec<&str> = v["data_loss"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["address"].as_str().unwrap())
        .collect();
    assert_eq!(
        lost,
        [
            "azurerm_storage_account.archive",
            "azurerm_storage_container.archive"
        ]
    );
}

#[test]
fn diff_of_an_in_place_change_in_every_format_with_the_cost_delta() {
    let dir = specs();
    for format in ["text", "markdown", "json"] {
        let mut c = cmd(dir.path());
        c.args(["diff", "old.yaml", "inplace.yaml", "--format", format]);
        assert_cmd_snapshot!(format!("diff-in-place-{format}"), c);
    }
    let out = run(
        dir.path(),
        &["diff", "old.yaml", "inplace.yaml", "--format", "json"],
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let addresses = v["infrastructure"]["addresses"].as_array().unwrap();
    assert!(addresses.iter().all(|a| a["action"] == "update"));
    let kinesis = addresses
        .iter()
        .find(|a| a["address"] == "aws_kinesis_stream.telemetry")
        .expect("the stream changes");
    assert_eq!(kinesis["changes"][0]["path"], "retention_period");
    assert_eq!(kinesis["changes"][0]["new"], "72");
    assert_eq!(kinesis["changes"][0]["forces_replacement"], false);
    // 72 h retention adds 1 shard × 730 h of extended retention at $0.02 = $14.60.
    let aws = &v["cost"]["default"]["clouds"][0];
    assert_eq!(aws["cloud"], "aws");
    let retention = aws["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "extended retention")
        .expect("an extended retention line");
    assert!((retention["delta_usd"].as_f64().unwrap() - 14.6).abs() < 1e-9);
}

/// azurerm has not forced a new event hub on `partition_count` since 3.75 (it updates in
/// place, which Azure allows to grow on Premium and Dedicated namespaces and refuses
/// elsewhere); the diff should say "update", not "destroyed and re-created".
#[test]
fn repartitioning_an_event_hub_is_an_in_place_update() {
    let dir = specs();
    let spec = edit(
        &base(),
        "    resource_group: rg-freezers-prod\n",
        "    resource_group: rg-freezers-prod\n    event_hubs:\n      tier: premium\n      partitions: 8\n",
    );
    let premium = edit(
        &base(),
        "    resource_group: rg-freezers-prod\n",
        "    resource_group: rg-freezers-prod\n    event_hubs:\n      tier: premium\n",
    );
    write(dir.path(), "premium.yaml", &premium);
    write(dir.path(), "partitions.yaml", &spec);
    let out = run(
        dir.path(),
        &[
            "diff",
            "premium.yaml",
            "partitions.yaml",
            "--format",
            "json",
        ],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let hub = v["infrastructure"]["addresses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["address"] == "azurerm_eventhub.telemetry")
        .expect("the telemetry event hub changes");
    assert_eq!(hub["action"], "update", "{hub}");
}

/// Environments are compared by name. One that only the new spec has (`prod`) is priced
/// against nothing, so its whole bill shows as added; one only the old spec has
/// (`production`) as removed; and the text says so rather than printing no cost at all.
#[test]
fn diff_of_specs_whose_environments_differ_prices_each_side() {
    let dir = tempfile::tempdir().unwrap();
    let spec = include_str!("../examples/environments/fleet.yaml");
    write(dir.path(), "new.yaml", spec);
    write(
        dir.path(),
        "old.yaml",
        &edit(spec, "\n  prod:\n", "\n  production:\n"),
    );
    let out = run(dir.path(), &["diff", "old.yaml", "new.yaml"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.contains("Environment `prod` is only in the head spec"),
        "{text}"
    );
    assert!(
        text.contains("Environment `production` is only in the base spec"),
        "{text}"
    );
    assert!(text.contains("Environment prod:\n"), "{text}");

    let out = run(
        dir.path(),
        &["diff", "old.yaml", "new.yaml", "--format", "json"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let envs: Vec<&str> = v["cost"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(envs, ["dev", "staging", "prod", "production"]);
    for (env, change) in [("prod", "added"), ("production", "removed")] {
        for cloud in v["cost"][env]["clouds"].as_array().unwrap() {
            let lines = cloud["lines"].as_array().unwrap();
            assert!(!lines.is_empty(), "{env}");
            assert!(
                lines.iter().all(|l| l["change"] == change),
                "{env}: {cloud}"
            );
        }
    }
}

/// With `--format json`, stdout is one JSON document even when both specs are invalid: the
/// first invalid spec is reported, like `cost --compare` does.
#[test]
fn diff_as_json_of_two_invalid_specs_is_one_document() {
    let dir = specs();
    let broken = edit(&base(), "version: 1", "version: 1\nno_such_key: true");
    write(dir.path(), "bad-old.yaml", &broken);
    write(dir.path(), "bad-new.yaml", &broken);
    let out = run(
        dir.path(),
        &["diff", "bad-old.yaml", "bad-new.yaml", "--format", "json"],
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value =
        serde_json::from_slice(&out.stdout).expect("stdout is one JSON document");
    let text = v.to_string();
    assert!(text.contains("bad-old.yaml"), "{text}");
    assert!(!text.contains("bad-new.yaml"), "{text}");
}

/// The pull-request comment: data loss first, then the cost delta, then the rest, as the
/// README says; and the README's exit-code table is the one `diff --help` prints.
#[test]
fn markdown_layout_and_exit_codes_are_what_the_readme_documents() {
    let dir = specs();
    let md = stdout(&run(
        dir.path(),
        &["diff", "old.yaml", "replace.yaml", "--format", "markdown"],
    ));
    let at = |needle: &str| {
        md.find(needle)
            .unwrap_or_else(|| panic!("`{needle}` is not in:\n{md}"))
    };
    let order = [
        at("## Infrastructure change"),
        at("> [!CAUTION]"),
        at("`azure/azurerm_storage_account.archive` (replaced because of"),
        at("## Fleet cost change"),
        at("## Resource changes"),
        at("> [!WARNING]"),
        at("| | address | changed arguments |"),
    ];
    assert!(order.is_sorted(), "{order:?}\n{md}");

    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let documented = [
        readme.find("1. `## Infrastructure change`"),
        readme.find("2. `## Fleet cost change`"),
        readme.find("3. `## Resource changes`"),
    ];
    assert!(
        documented.iter().all(Option::is_some) && documented.is_sorted(),
        "the README documents the three parts in order"
    );
    let help = stdout(&run(dir.path(), &["diff", "--help"]));
    for (code, readme_row, help_word) in [
        (0, "| `0` | nothing changes |", "no change"),
        (1, "| `1` | a spec is invalid", "a spec is invalid"),
        (2, "| `2` | usage or I/O error", "usage error"),
        (
            3,
            "| `3` | the infrastructure or the bill changes",
            "the bill changes",
        ),
        (
            4,
            "| `4` | a replacement or destroy loses data",
            "loses data",
        ),
    ] {
        assert!(readme.contains(readme_row), "README row for {code}");
        let line = help
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{code}  ")))
            .unwrap_or_else(|| panic!("`diff --help` documents exit code {code}:\n{help}"));
        assert!(line.contains(help_word), "{line}");
    }
}

// ---------------------------------------------------------------------------------------------
// --exit-code

#[test]
fn exit_code_is_3_for_changes_and_4_for_data_loss_only_with_the_flag() {
    let dir = specs();
    write(dir.path(), "same.yaml", &base());
    // A change that moves only the bill (one more message an hour): still a change.
    write(
        dir.path(),
        "busier.yaml",
        &edit(
            &base(),
            "messages_per_device_per_hour: 60",
            "messages_per_device_per_hour: 61",
        ),
    );
    let code = |args: &[&str]| run(dir.path(), args).status.code();
    assert_eq!(code(&["diff", "old.yaml", "same.yaml"]), Some(0));
    assert_eq!(
        code(&["diff", "old.yaml", "same.yaml", "--exit-code"]),
        Some(0)
    );
    assert_eq!(code(&["diff", "old.yaml", "inplace.yaml"]), Some(0));
    assert_eq!(
        code(&["diff", "old.yaml", "inplace.yaml", "--exit-code"]),
        Some(3)
    );
    assert_eq!(code(&["diff", "old.yaml", "replace.yaml"]), Some(0));
    assert_eq!(
        code(&[
            "diff",
            "old.yaml",
            "replace.yaml",
            "--exit-code",
            "--format",
            "json"
        ]),
        Some(4)
    );
    assert_eq!(
        code(&["diff", "old.yaml", "busier.yaml", "--exit-code"]),
        Some(3)
    );

    let same = run(dir.path(), &["diff", "old.yaml", "same.yaml"]);
    assert_eq!(
        stdout(&same).lines().next(),
        Some("Infrastructure: 0 to add, 0 to replace, 0 to change, 0 to destroy")
    );
    assert!(
        stdout(&same).contains("The estimate does not change."),
        "{}",
        stdout(&same)
    );

    // Invalid specs are 1 and usage errors 2, with or without the flag.
    let broken = edit(&base(), "version: 1", "version: 1\nno_such_key: true");
    write(dir.path(), "broken.yaml", &broken);
    assert_eq!(
        code(&["diff", "old.yaml", "broken.yaml", "--exit-code"]),
        Some(1)
    );
    assert_eq!(code(&["diff", "old.yaml", "--exit-code"]), Some(2));
    assert_eq!(
        code(&["diff", "old.yaml", "no-such.yaml", "--exit-code"]),
        Some(2)
    );
}

// ---------------------------------------------------------------------------------------------
// diff SPEC --base REV

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args([
            "-c",
            "user.name=fleetform tests",
            "-c",
            "user.email=tests@example.com",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "init.defaultBranch=main",
        ])
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A git repository with the base spec committed at `fleets/fleet.yaml`.
fn repo() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("fleets")).unwrap();
    write(&dir.path().join("fleets"), "fleet.yaml", &base());
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "fleet"]);
    dir
}

#[test]
fn diff_against_a_git_revision() {
    let dir = repo();
    write(&dir.path().join("fleets"), "fleet.yaml", &in_place());

    // From the repository root, with the spec in a subfolder.
    let mut c = cmd(dir.path());
    c.args(["diff", "fleets/fleet.yaml", "--base", "HEAD"]);
    assert_cmd_snapshot!(c);

    // The same answer as comparing the two files, from inside the subfolder too.
    let specs = specs();
    let files = run(specs.path(), &["diff", "old.yaml", "inplace.yaml"]);
    let from_sub = run(
        &dir.path().join("fleets"),
        &["diff", "fleet.yaml", "--base", "HEAD", "--exit-code"],
    );
    assert_eq!(from_sub.status.code(), Some(3));
    assert_eq!(stdout(&from_sub), stdout(&files));

    // Committed, there is nothing left to show.
    git(dir.path(), &["commit", "-q", "-am", "longer retention"]);
    let clean = run(
        dir.path(),
        &["diff", "fleets/fleet.yaml", "--base", "HEAD", "--exit-code"],
    );
    assert_eq!(clean.status.code(), Some(0), "{}", stdout(&clean));
    let previous = run(
        dir.path(),
        &[
            "diff",
            "fleets/fleet.yaml",
            "--base",
            "HEAD~1",
            "--format",
            "json",
        ],
    );
    assert!(previous.status.success());
    let v: serde_json::Value = serde_json::from_slice(&previous.stdout).unwrap();
    assert_eq!(
        v["infrastructure"]["addresses"].as_array().unwrap().len(),
        3
    );
}

/// Registry files are read at the same revision as the spec.
#[test]
fn diff_against_a_git_revision_reads_registry_files_at_that_revision() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/greenhouse");
    for f in ["fleet.yaml", "devices.csv"] {
        std::fs::copy(root.join(f), dir.path().join(f)).unwrap();
    }
    git(dir.path(), &["init", "-q"]);
    git(dir.path(), &["add", "."]);
    git(dir.path(), &["commit", "-q", "-m", "greenhouse"]);
    let mut csv = std::fs::read_to_string(dir.path().join("devices.csv")).unwrap();
    csv.push_str("valve-a1-99,irrigation-valve,site-a-bay-1,1,1.1.2\n");
    write(dir.path(), "devices.csv", &csv);

    let out = run(
        dir.path(),
        &["diff", "fleet.yaml", "--base", "HEAD", "--exit-code"],
    );
    assert_eq!(out.status.code(), Some(3), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("aws registry: 1 device added (valve-a1-99)"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("~ aws/registry/devices.json (+2 -1 lines)"),
        "{}",
        stdout(&out)
    );
}

/// A registry edit reads as devices added, removed and changed by id (counted, the first
/// five named), in text, markdown and JSON alike, and removing a device is an identity loss.
#[test]
fn registry_edits_are_reported_by_device_in_every_format() {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/greenhouse");
    let csv = std::fs::read_to_string(root.join("devices.csv")).unwrap();
    for side in ["old", "new"] {
        std::fs::create_dir(dir.path().join(side)).unwrap();
        std::fs::copy(
            root.join("fleet.yaml"),
            dir.path().join(side).join("fleet.yaml"),
        )
        .unwrap();
    }
    write(&dir.path().join("old"), "devices.csv", &csv);
    let mut edited: String = csv
        .lines()
        .filter(|l| !l.starts_with("climate-a1-01,"))
        .map(|l| {
            l.replace(
                "climate-a1-03,climate-node,site-a-bay-1,1,2.3.9",
                "climate-a1-03,climate-node,site-a-bay-1,1,2.4.0",
            ) + "\n"
        })
        .collect();
    assert_ne!(
        edited.len(),
        csv.len(),
        "the example has climate-a1-01 and climate-a1-03"
    );
    for i in 0..7 {
        let _ = writeln!(
            edited,
            "valve-b9-{i:02},irrigation-valve,site-a-bay-1,1,1.1.2"
        );
    }
    write(&dir.path().join("new"), "devices.csv", &edited);
    let args = |format: &str| {
        vec![
            "diff",
            "old/fleet.yaml",
            "new/fleet.yaml",
            "--exit-code",
            "--format",
            format,
        ]
        .into_iter()
        .map(str::to_owned)
        .collect::<Vec<_>>()
    };
    let line = "aws registry: 7 devices added (valve-b9-00, valve-b9-01, valve-b9-02, valve-b9-03, valve-b9-04, …); 1 device removed (climate-a1-01); 1 device changed (climate-a1-03: attributes.firmware)";
    for format in ["text", "markdown"] {
        let out = cmd(dir.path()).args(args(format)).output().unwrap();
        // The removed device's thing is destroyed: its identity is lost.
        assert_eq!(out.status.code(), Some(4), "{format}: {}", stderr(&out));
        let text = stdout(&out);
        assert!(text.contains(line), "{format}:\n{text}");
        let loss = text
            .find("aws_iot_thing.registry[\"climate-a1-01\"]")
            .unwrap();
        assert!(
            loss < text.find(line).unwrap(),
            "{format}: the loss comes first:\n{text}"
        );
    }
    let out = cmd(dir.path()).args(args("json")).output().unwrap();
    assert_eq!(out.status.code(), Some(4));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let devices = &v["infrastructure"]["devices"];
    assert_eq!(
        devices,
        &serde_json::json!([{
            "module": "aws",
            "added": (0..7).map(|i| format!("valve-b9-{i:02}")).collect::<Vec<_>>(),
            "removed": ["climate-a1-01"],
            "changed": [{"id": "climate-a1-03", "fields": ["attributes.firmware"]}],
        }])
    );
    let lost: Vec<&str> = v["data_loss"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["address"].as_str())
        .collect();
    assert_eq!(
        lost,
        ["aws_iot_thing.registry[\"climate-a1-01\"]"],
        "{}",
        v["data_loss"]
    );
}

#[test]
fn diff_against_an_unknown_revision_is_an_error() {
    let dir = repo();
    let mut c = cmd(dir.path());
    c.args(["diff", "fleets/fleet.yaml", "--base", "no-such-branch"]);
    let out = c.output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("git cannot show `fleet.yaml` at `no-such-branch`"),
        "{}",
        stderr(&out)
    );
    // Options are not revisions.
    let out = run(
        dir.path(),
        &["diff", "fleets/fleet.yaml", "--base=--output=/tmp/x"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("is not a git revision"),
        "{}",
        stderr(&out)
    );
}

/// `validate --base` knows what the spec was, so it can say which key's change replaces
/// something that holds data, at that key.
#[test]
fn validate_against_a_revision_warns_at_the_key_that_loses_data() {
    let dir = repo();
    let fleets = dir.path().join("fleets");
    let renamed = edit(&base(), "  name: freezers\n", "  name: chillers\n");
    write(&fleets, "fleet.yaml", &renamed);
    let out = run(
        dir.path(),
        &[
            "validate",
            "fleets/fleet.yaml",
            "--base",
            "HEAD",
            "--format",
            "json",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let warnings = v["diagnostics"].as_array().unwrap();
    assert_eq!(warnings.len(), 1, "{warnings:?}");
    let w = &warnings[0];
    assert_eq!(w["code"], "replaces-stateful");
    assert_eq!(w["path"], "stack.name");
    assert_eq!(
        (w["line"].as_u64(), w["column"].as_u64()),
        (Some(4), Some(9))
    );
    let message = w["message"].as_str().unwrap();
    assert!(
        message.starts_with("changing `stack.name` replaces"),
        "{message}"
    );
    assert!(
        message.contains("`aws/aws_dynamodb_table.state`") || message.contains("more"),
        "{message}"
    );
    // A gate: warnings fail the run with --deny-warnings.
    let code = |args: &[&str]| run(dir.path(), args).status.code();
    assert_eq!(
        code(&[
            "validate",
            "fleets/fleet.yaml",
            "--base",
            "HEAD",
            "--deny-warnings"
        ]),
        Some(1)
    );
    // An in-place change warns about nothing; without --base there is nothing to compare.
    write(&fleets, "fleet.yaml", &in_place());
    assert_eq!(
        code(&[
            "validate",
            "fleets/fleet.yaml",
            "--base",
            "HEAD",
            "--deny-warnings"
        ]),
        Some(0)
    );
    write(&fleets, "fleet.yaml", &renamed);
    assert_eq!(
        code(&["validate", "fleets/fleet.yaml", "--deny-warnings"]),
        Some(0)
    );
}

// ---------------------------------------------------------------------------------------------
// diagram and explain on environments

/// `build` writes one stack per environment (`out/dev`, `out/staging`, `out/prod`, each with
/// its own sizes and regions); `diagram` and `explain` must describe those environments, not the
/// base spec (which would show `pumps-dev` with the base's 200 devices where dev has 20).
#[test]
fn diagram_and_explain_describe_the_environments_that_build_writes() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for sub in ["explain", "diagram"] {
        let out = run(root, &[sub, "examples/environments/fleet.yaml"]);
        assert!(out.status.success(), "{sub}: {}", stderr(&out));
        let text = stdout(&out);
        for stack in ["pumps-dev", "pumps-staging", "pumps-prod"] {
            assert!(text.contains(stack), "{sub} does not mention `{stack}`");
        }
    }
    let explain = stdout(&run(root, &["explain", "examples/environments/fleet.yaml"]));
    assert!(
        explain.contains("**20 devices** today"),
        "the dev environment (20 devices) is described"
    );
}
