//! End-to-end tests of `fleetform certs` through `run_with()`, which the top-level CLI's `run()`
//! calls with the real clock and streams: files on disk, modes, overwrite rules, and bad input that must leave the output
//! directory exactly as it was.
//!
//! Long (about 1,400 lines): every `certs` subcommand's files, modes and refusals, in the same
//! temp-folder fixtures; splitting by subcommand would copy them.

#![cfg(unix)]
// file modes are part of what is tested
// A skipped cross-check must be visible in the test output, hence eprintln.
#![allow(clippy::print_stderr)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode};

use clap::{CommandFactory as _, Parser};
use fleetform::cli::certs::{CertsArgs, run_with};
use time::{Duration, OffsetDateTime};

#[derive(Parser)]
#[command(name = "fleetform")]
struct Cli {
    #[command(subcommand)]
    command: Top,
}

#[derive(clap::Subcommand)]
enum Top {
    Certs(CertsArgs),
}

fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

struct Outcome {
    result: anyhow::Result<ExitCode>,
    stdout: String,
    stderr: String,
}

impl Outcome {
    fn ok(&self) -> &str {
        match &self.result {
            Ok(code) => assert_eq!(*code, ExitCode::SUCCESS, "stderr: {}", self.stderr),
            Err(e) => panic!("command failed: {e:#}\nstderr: {}", self.stderr),
        }
        &self.stdout
    }

    fn err(&self) -> String {
        match &self.result {
            Ok(_) => panic!("command succeeded but should fail; stdout: {}", self.stdout),
            Err(e) => format!("{e:#}"),
        }
    }
}

fn certs_at(args: &[&str], at: OffsetDateTime) -> Outcome {
    let mut argv = vec!["fleetform", "certs"];
    argv.extend_from_slice(args);
    let cli = Cli::try_parse_from(&argv).unwrap_or_else(|e| panic!("{e}"));
    let Top::Certs(certs) = cli.command;
    let mut out = Vec::new();
    let mut err = Vec::new();
    let result = run_with(&certs, at, &mut out, &mut err, false);
    Outcome {
        result,
        stdout: String::from_utf8(out).unwrap(),
        stderr: String::from_utf8(err).unwrap(),
    }
}

fn certs(args: &[&str]) -> Outcome {
    certs_at(args, now())
}

fn p(path: &Path) -> &str {
    path.to_str().unwrap()
}

/// Every file and directory under `root` with its contents and mode.
fn snapshot(root: &Path) -> BTreeMap<PathBuf, (Vec<u8>, u32)> {
    use std::os::unix::fs::PermissionsExt as _;
    let mut map = BTreeMap::new();
    if !root.exists() {
        return map;
    }
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::metadata(&path).unwrap();
            let contents = if meta.is_dir() {
                stack.push(path.clone());
                Vec::new()
            } else {
                std::fs::read(&path).unwrap()
            };
            map.insert(path, (contents, meta.permissions().mode() & 0o777));
        }
    }
    map
}

fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

/// A workspace with an initialised CA in `<tmp>/certs`.
struct Workspace {
    tmp: tempfile::TempDir,
}

impl Workspace {
    fn new() -> Self {
        Self {
            tmp: tempfile::tempdir().unwrap(),
        }
    }

    fn with_ca(extra: &[&str]) -> Self {
        let ws = Self::new();
        let out = ws.path("certs");
        let mut args = vec![
            "init",
            "--out",
            p(&out),
            "--organization",
            "Acme",
            "--country",
            "DE",
        ];
        args.extend_from_slice(extra);
        certs(&args).ok();
        ws
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.tmp.path().join(rel)
    }

    fn write(&self, rel: &str, contents: &str) -> PathBuf {
        let path = self.path(rel);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

fn openssl_verify(root: &Path, chain: &Path, at: OffsetDateTime) {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED openssl cross-check: `openssl` is not installed");
        return;
    }
    // chain.pem = device + signing CA: the first is the leaf, the rest untrusted intermediates.
    let text = std::fs::read_to_string(chain).unwrap();
    let split =
        text.find("-----END CERTIFICATE-----").unwrap() + "-----END CERTIFICATE-----\n".len();
    let dir = tempfile::tempdir().unwrap();
    let leaf = dir.path().join("leaf.pem");
    let rest = dir.path().join("rest.pem");
    std::fs::write(&leaf, &text[..split]).unwrap();
    std::fs::write(&rest, &text[split..]).unwrap();
    let out = Command::new("openssl")
        .args(["verify", "-x509_strict", "-purpose", "sslclient", "-attime"])
        .arg((at.unix_timestamp() + 60).to_string())
        .arg("-CAfile")
        .arg(root)
        .arg("-untrusted")
        .arg(&rest)
        .arg(&leaf)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl verify: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn help_is_well_formed_for_every_subcommand() {
    Cli::command().debug_assert();
    let mut cmd = Cli::command();
    let certs = cmd.find_subcommand_mut("certs").unwrap();
    for sub in [
        "init",
        "verify-aws",
        "verify-azure",
        "device",
        "claim",
        "rotate",
        "inspect",
    ] {
        let help = certs
            .find_subcommand_mut(sub)
            .unwrap_or_else(|| panic!("{sub}"))
            .render_long_help()
            .to_string();
        assert!(help.contains("Example"), "{sub} has no example:\n{help}");
    }
}

#[test]
fn init_writes_the_ca_files_with_key_modes_0600() {
    let ws = Workspace::new();
    let out = ws.path("certs");
    let o = certs(&[
        "init",
        "--out",
        p(&out),
        "--organization",
        "Acme",
        "--country",
        "DE",
    ]);
    let stdout = o.ok();
    for name in [
        "root-ca.pem",
        "root-ca.key",
        "signing-ca.pem",
        "signing-ca.key",
        "chain.pem",
    ] {
        let path = out.join(name);
        assert!(
            stdout.lines().any(|l| l == p(&path)),
            "{name} not reported:\n{stdout}"
        );
        let expected = if Path::new(name).extension().is_some_and(|e| e == "key") {
            0o600
        } else {
            0o644
        };
        assert_eq!(mode(&path), expected, "{name}");
    }
    assert!(
        o.stderr
            .contains("warning: CA keys are written unencrypted"),
        "{}",
        o.stderr
    );
    let root = std::fs::read_to_string(out.join("root-ca.pem")).unwrap();
    assert!(root.starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn existing_files_are_not_overwritten_without_force() {
    let ws = Workspace::with_ca(&[]);
    let out = ws.path("certs");
    let before = snapshot(&out);
    let o = certs(&["init", "--out", p(&out)]);
    let err = o.err();
    assert!(err.contains("refusing to overwrite"), "{err}");
    assert!(err.contains("(and 4 more existing files)"), "{err}");
    assert!(
        err.contains("hint: nothing was written; pass `--force`"),
        "{err}"
    );
    assert_eq!(snapshot(&out), before, "output dir changed");

    let o = certs(&["init", "--out", p(&out), "--force", "--format", "json"]);
    let json: serde_json::Value = serde_json::from_str(o.ok()).unwrap();
    assert_eq!(json["written"].as_array().unwrap().len(), 5);
    assert_eq!(json["written"][1]["kind"], "private-key");
    assert_eq!(json["written"][1]["replaced"], true);
    assert_ne!(
        std::fs::read(out.join("root-ca.key")).unwrap(),
        before[&out.join("root-ca.key")].0
    );
    assert_eq!(mode(&out.join("root-ca.key")), 0o600);
}

#[test]
fn devices_from_a_registry_get_bundles_that_verify() {
    let ws = Workspace::with_ca(&[]);
    let registry = ws.write(
        "devices.csv",
        "id,model\nsensor-0001,a\nsensor-0002,b\nsensor-0003,c\n",
    );
    let devices = ws.path("devices");
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--registry",
        p(&registry),
        "--out",
        p(&devices),
        "--organization",
        "Acme",
    ]);
    // Three bundles of three files, the `.gitignore` that keeps their keys out of git, and
    // the manifest.
    assert_eq!(o.ok().lines().count(), 11);
    for id in ["sensor-0001", "sensor-0002", "sensor-0003"] {
        let dir = devices.join(id);
        assert_eq!(mode(&dir.join("device.key")), 0o600);
        assert_eq!(mode(&dir.join("device.pem")), 0o644);
        openssl_verify(&ws.path("certs/root-ca.pem"), &dir.join("chain.pem"), now());
    }
    // YAML registries work the same way (into their own folder: a manifest describes one
    // registry, and the first one's is not replaced).
    let yaml = ws.write("more.yaml", "- id: gw-1\n- id: gw-2\n");
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--registry",
        p(&yaml),
        "--out",
        p(&ws.path("gateways")),
        "--format",
        "json",
    ]);
    let json: serde_json::Value = serde_json::from_str(o.ok()).unwrap();
    assert_eq!(json["serials"].as_object().unwrap().len(), 2);
}

#[test]
fn bad_ids_are_refused_and_nothing_is_written() {
    let ws = Workspace::with_ca(&[]);
    let ca_dir = ws.path("certs");
    let devices = ws.path("devices");
    std::fs::create_dir(&devices).unwrap();
    std::fs::write(devices.join("keep.txt"), "untouched").unwrap();
    let before = snapshot(ws.tmp.path());

    for (row, needle) in [
        ("a/b", "path separator"),
        ("..", "`..`"),
        ("../../etc", "path separator"),
        ("bad\u{7}bell", "control character U+0007"),
        ("tab\there", "control character U+0009"),
    ] {
        let registry = ws.path("bad.csv");
        std::fs::write(&registry, format!("id\ngood-1\n{row}\n")).unwrap();
        let mut before_with_registry = before.clone();
        before_with_registry.insert(
            registry.clone(),
            (std::fs::read(&registry).unwrap(), mode(&registry)),
        );
        let o = certs(&[
            "device",
            "--ca-dir",
            p(&ca_dir),
            "--registry",
            p(&registry),
            "--out",
            p(&devices),
        ]);
        let err = o.err();
        assert!(err.contains("invalid device id"), "{err}");
        assert!(err.contains(needle), "{row:?}: {err}");
        assert!(err.contains("line 3 of"), "{err}");
        assert_eq!(
            snapshot(ws.tmp.path()),
            before_with_registry,
            "{row:?} wrote something"
        );
        std::fs::remove_file(&registry).unwrap();
    }
    // Directly on the command line too.
    for id in ["a/b", "..", "x\ny"] {
        let o = certs(&[
            "device",
            "--ca-dir",
            p(&ca_dir),
            "--id",
            id,
            "--out",
            p(&devices),
        ]);
        assert!(o.err().contains("invalid device id"), "{id:?}");
    }
    assert_eq!(snapshot(ws.tmp.path()), before);
}

#[test]
fn unreadable_ca_wrong_passphrase_and_bad_csr_write_nothing() {
    let ws = Workspace::new();
    let pass_file = ws.write("pass.txt", "a long enough passphrase\n");
    let ca_dir = ws.path("certs");
    certs(&[
        "init",
        "--out",
        p(&ca_dir),
        "--passphrase-file",
        p(&pass_file),
    ])
    .ok();
    let key = std::fs::read_to_string(ca_dir.join("signing-ca.key")).unwrap();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    let devices = ws.path("devices");
    let before = snapshot(ws.tmp.path());

    // Missing CA directory: the error names the file and says how to get one.
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("nope")),
        "--id",
        "d1",
        "--out",
        p(&devices),
    ]);
    let err = o.err();
    assert!(
        err.contains("cannot read CA certificate") && err.contains("nope/signing-ca.pem"),
        "{err}"
    );
    assert!(err.contains("hint: run `fleetform certs init"), "{err}");

    // Garbage CA certificate.
    let broken = ws.path("broken");
    std::fs::create_dir(&broken).unwrap();
    std::fs::write(broken.join("signing-ca.pem"), "garbage").unwrap();
    std::fs::copy(ca_dir.join("signing-ca.key"), broken.join("signing-ca.key")).unwrap();
    let before_broken = snapshot(ws.tmp.path());
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&broken),
        "--id",
        "d1",
        "--out",
        p(&devices),
    ]);
    assert!(o.err().contains("broken/signing-ca.pem"), "{}", o.err());
    assert_eq!(snapshot(ws.tmp.path()), before_broken);
    std::fs::remove_dir_all(&broken).unwrap();

    // Encrypted key without a passphrase.
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ca_dir),
        "--id",
        "d1",
        "--out",
        p(&devices),
    ]);
    assert!(
        o.err().contains("is encrypted and no passphrase was given"),
        "{}",
        o.err()
    );

    // Wrong passphrase.
    let wrong = ws.write("wrong.txt", "not the passphrase");
    let before = {
        let mut b = before;
        b.insert(
            wrong.clone(),
            (std::fs::read(&wrong).unwrap(), mode(&wrong)),
        );
        b
    };
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ca_dir),
        "--id",
        "d1",
        "--out",
        p(&devices),
        "--passphrase-file",
        p(&wrong),
    ]);
    let err = o.err();
    assert!(
        err.contains("wrong passphrase") && err.contains("signing-ca.key"),
        "{err}"
    );

    // A passphrase value given where a variable name belongs is not echoed.
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ca_dir),
        "--id",
        "d1",
        "--passphrase-env",
        "my secret pass",
        "--out",
        p(&devices),
    ]);
    let err = o.err();
    assert!(err.contains("not an environment variable name"), "{err}");
    assert!(!err.contains("my secret pass"), "{err}");

    // Malformed CSR.
    let csr = ws.write(
        "d.csr",
        "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
    );
    let before = {
        let mut b = before;
        b.insert(csr.clone(), (std::fs::read(&csr).unwrap(), mode(&csr)));
        b
    };
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ca_dir),
        "--csr",
        p(&csr),
        "--out",
        p(&devices),
        "--passphrase-file",
        p(&pass_file),
    ]);
    let err = o.err();
    assert!(
        err.contains("cannot sign certificate signing request") && err.contains("d.csr"),
        "{err}"
    );

    assert_eq!(
        snapshot(ws.tmp.path()),
        before,
        "bad input changed the workspace"
    );
    assert!(!devices.exists());

    // And with the right passphrase it works; device keys can be encrypted too.
    certs(&[
        "device",
        "--ca-dir",
        p(&ca_dir),
        "--id",
        "d1",
        "--out",
        p(&devices),
        "--passphrase-file",
        p(&pass_file),
        "--device-passphrase-file",
        p(&pass_file),
    ])
    .ok();
    let device_key = std::fs::read_to_string(devices.join("d1/device.key")).unwrap();
    assert!(device_key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert_eq!(mode(&devices.join("d1/device.key")), 0o600);
    openssl_verify(
        &ca_dir.join("root-ca.pem"),
        &devices.join("d1/chain.pem"),
        now(),
    );
}

#[test]
fn passphrase_from_an_environment_variable() {
    // Tests cannot set variables (edition 2024 makes `set_var` unsafe and the crate forbids
    // unsafe code), so use one that is always there and long enough: PATH.
    if std::env::var("PATH").map_or(true, |v| v.len() < 8) {
        eprintln!("SKIPPED: PATH is unset or short");
        return;
    }
    let ws = Workspace::new();
    let ca_dir = ws.path("certs");
    certs(&["init", "--out", p(&ca_dir), "--passphrase-env", "PATH"]).ok();
    certs(&[
        "verify-aws",
        "--ca-dir",
        p(&ca_dir),
        "--passphrase-env",
        "PATH",
        "--registration-code",
        &"ab".repeat(32),
    ])
    .ok();
    let o = certs(&[
        "verify-aws",
        "--ca-dir",
        p(&ca_dir),
        "--passphrase-env",
        "FLEETFORM_TEST_SURELY_UNSET_VAR",
        "--registration-code",
        &"ab".repeat(32),
        "--force",
    ]);
    assert!(
        o.err().contains("`FLEETFORM_TEST_SURELY_UNSET_VAR`") && o.err().contains("is not set")
    );
}

#[test]
fn csr_mode_writes_no_key() {
    let ws = Workspace::with_ca(&[]);
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "sensor-csr");
    let csr = ws.write(
        "s.csr",
        &params.serialize_request(&key).unwrap().pem().unwrap(),
    );
    let devices = ws.path("devices");
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--csr",
        p(&csr),
        "--out",
        p(&devices),
    ]);
    assert_eq!(o.ok().lines().count(), 2);
    assert!(devices.join("sensor-csr/device.pem").exists());
    assert!(!devices.join("sensor-csr/device.key").exists());
    openssl_verify(
        &ws.path("certs/root-ca.pem"),
        &devices.join("sensor-csr/chain.pem"),
        now(),
    );
}

#[test]
fn verification_certificates_for_both_clouds() {
    let ws = Workspace::with_ca(&[]);
    let ca_dir = ws.path("certs");
    let code = "0123456789abcdef".repeat(4);
    let o = certs(&[
        "verify-aws",
        "--ca-dir",
        p(&ca_dir),
        "--registration-code",
        &code,
    ]);
    let path = ca_dir.join("aws-verification-signing-ca.pem");
    assert_eq!(o.ok().trim(), p(&path));
    assert!(
        o.stderr.contains("aws iot register-ca-certificate"),
        "{}",
        o.stderr
    );
    let report =
        fleetform::certs::inspect(&[(&path, &std::fs::read_to_string(&path).unwrap())], now())
            .unwrap();
    assert_eq!(report.certificates[0].common_name, code);

    let o = certs(&[
        "verify-azure",
        "--ca-dir",
        p(&ca_dir),
        "--code",
        "ABCDEF0123456789",
    ]);
    assert!(o.ok().contains("azure-verification-root-ca.pem"));

    let o = certs(&[
        "verify-aws",
        "--ca-dir",
        p(&ca_dir),
        "--registration-code",
        "nothex",
    ]);
    assert!(o.err().contains("64 hexadecimal digits"), "{}", o.err());
}

#[test]
fn claim_rotate_and_inspect() {
    let ws = Workspace::with_ca(&[]);
    let ca_dir = ws.path("certs");
    let claims = ws.path("claims");
    certs(&[
        "claim",
        "--ca-dir",
        p(&ca_dir),
        "--name",
        "factory-1",
        "--out",
        p(&claims),
    ])
    .ok();
    assert_eq!(mode(&claims.join("factory-1/claim.key")), 0o600);
    openssl_verify(
        &ca_dir.join("root-ca.pem"),
        &claims.join("factory-1/chain.pem"),
        now(),
    );

    let later = now() + Duration::days(400);
    let o = certs_at(&["rotate", "--ca-dir", p(&ca_dir)], later);
    let stdout = o.ok();
    assert!(stdout.contains("signing-ca-2027-02-05.pem"), "{stdout}");
    assert!(
        stdout.contains("aws iot register-ca-certificate"),
        "{stdout}"
    );
    assert!(stdout.contains("--secondary-certificate-path"), "{stdout}");
    assert!(ca_dir.join("signing-ca-2027-02-05-rotation.md").exists());
    assert_eq!(mode(&ca_dir.join("signing-ca-2027-02-05.key")), 0o600);

    // Devices from the new signing CA verify against the same root; the old CA is untouched.
    let devices = ws.path("devices");
    certs_at(
        &[
            "device",
            "--ca-dir",
            p(&ca_dir),
            "--ca",
            "signing-ca-2027-02-05",
            "--id",
            "new-1",
            "--out",
            p(&devices),
        ],
        later,
    )
    .ok();
    openssl_verify(
        &ca_dir.join("root-ca.pem"),
        &devices.join("new-1/chain.pem"),
        later,
    );

    // A second rotation on the same day needs another name.
    let o = certs_at(&["rotate", "--ca-dir", p(&ca_dir)], later);
    assert!(o.err().contains("refusing to overwrite"), "{}", o.err());

    // inspect: 0 for a good chain, 1 once it has expired.
    let chain = devices.join("new-1/chain.pem");
    let root = ca_dir.join("root-ca.pem");
    let o = certs_at(&["inspect", p(&chain), p(&root)], later);
    assert!(
        o.ok().contains("ok: 3 certificate(s), no problems"),
        "{}",
        o.stdout
    );
    let o = certs_at(
        &["inspect", p(&chain), "--format", "json"],
        later + Duration::days(800),
    );
    assert_eq!(o.result.as_ref().unwrap(), &ExitCode::from(1));
    let json: serde_json::Value = serde_json::from_str(&o.stdout).unwrap();
    assert!(json["problems"][0].as_str().unwrap().contains("expired"));
}

#[test]
fn weak_parameters_are_refused_with_reasons() {
    let ws = Workspace::new();
    let out = ws.path("certs");
    let cases: &[(&[&str], &str)] = &[
        (&["--key", "rsa1024"], "shorter than 2048"),
        (
            &["--signing-days", "9000", "--root-days", "3000"],
            "outlive its root",
        ),
        (&["--path-len", "0"], "cannot sign the signing CA"),
        (&["--root-days", "40000"], "30 years"),
        (&["--country", "Germany"], "two-letter"),
    ];
    for (extra, needle) in cases {
        let mut args = vec!["init", "--out", p(&out)];
        args.extend_from_slice(extra);
        let argv: Vec<&str> = std::iter::once("fleetform")
            .chain(std::iter::once("certs"))
            .chain(args.iter().copied())
            .collect();
        // `--key rsa1024` fails in clap's value parser, the rest in the library.
        let message = match Cli::try_parse_from(&argv) {
            Err(e) => e.to_string(),
            Ok(_) => certs(&args).err(),
        };
        assert!(message.contains(needle), "{extra:?}: {message}");
    }
    assert!(
        !out.exists(),
        "refused parameters must not create the output dir"
    );

    // Device lifetime over 825 days: a warning, not an error.
    let ws = Workspace::with_ca(&[]);
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--id",
        "d1",
        "--days",
        "1000",
        "--out",
        p(&ws.path("devices")),
    ]);
    o.ok();
    assert!(
        o.stderr
            .contains("warning: leaf certificates valid for 1000 days"),
        "{}",
        o.stderr
    );
}

#[test]
fn keys_are_never_written_next_to_terraform() {
    // `--out` below a Terraform root that does not exist yet is caught too.
    let ws = Workspace::with_ca(&[]);
    let tf = ws.path("infra");
    std::fs::create_dir(&tf).unwrap();
    std::fs::write(tf.join("main.tf"), "terraform {}\n").unwrap();
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--id",
        "d1",
        "--out",
        p(&tf.join("new/devices")),
    ]);
    assert!(o.err().contains("holds Terraform files"), "{}", o.err());
    assert!(!tf.join("new").exists());
}

#[test]
fn keys_are_never_written_into_a_terraform_root() {
    let ws = Workspace::with_ca(&[]);
    let tf = ws.path("infra");
    std::fs::create_dir(&tf).unwrap();
    std::fs::write(tf.join("main.tf"), "terraform {}\n").unwrap();
    let before = snapshot(&tf);
    let o = certs(&["init", "--out", p(&tf)]);
    assert!(o.err().contains("holds Terraform files"), "{}", o.err());
    assert_eq!(snapshot(&tf), before);
}

/// A valid spec registering `dev-b` in a file and `dev-a` inline, with device certificates
/// valid for 400 days.
const SPEC_WITH_DEVICES: &str = "\
version: 1
stack:
  name: certs-spec
  environment: dev
  owner: platform-team
clouds:
  aws:
    region: eu-west-1
fleet:
  devices: 10
  registry:
    file: devices.csv
    devices:
      - id: dev-a
identity:
  method: x509
  x509:
    ca: generated
    validity:
      device_days: 400
";

#[test]
fn spec_supplies_the_devices_and_their_validity() {
    let ws = Workspace::with_ca(&[]);
    ws.write("devices.csv", "id\ndev-b\n");
    let spec = ws.write("fleet.yaml", SPEC_WITH_DEVICES);
    let out = ws.path("devices");
    certs(&[
        "device",
        "--spec",
        p(&spec),
        "--ca-dir",
        p(&ws.path("certs")),
        "--out",
        p(&out),
    ])
    .ok();
    // Inline and file entries alike, as `build` sees the registry.
    for id in ["dev-a", "dev-b"] {
        let pem = std::fs::read(out.join(id).join("device.pem")).unwrap();
        let (_, der) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let cert = der.parse_x509().unwrap();
        let v = cert.validity();
        let days = (v.not_after.timestamp() - v.not_before.timestamp()) / 86_400;
        assert!((399..=401).contains(&days), "{id}: {days} days");
    }

    // A flag given explicitly wins, even when it equals the built-in default.
    let o = certs(&[
        "device",
        "--spec",
        p(&spec),
        "--id",
        "dev-c",
        "--days",
        "730",
        "--ca-dir",
        p(&ws.path("certs")),
        "--out",
        p(&out),
    ]);
    o.ok();
    let pem = std::fs::read(out.join("dev-c").join("device.pem")).unwrap();
    let (_, der) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
    let v = der.parse_x509().unwrap().validity().clone();
    let days = (v.not_after.timestamp() - v.not_before.timestamp()) / 86_400;
    assert!((729..=731).contains(&days), "dev-c: {days} days");
}

#[test]
fn an_invalid_spec_shows_its_diagnostics_and_writes_nothing() {
    let ws = Workspace::with_ca(&[]);
    let spec = ws.write(
        "fleet.yaml",
        &SPEC_WITH_DEVICES.replace("devices: 10", "devices: ten"),
    );
    let o = certs(&[
        "device",
        "--spec",
        p(&spec),
        "--ca-dir",
        p(&ws.path("certs")),
        "--out",
        p(&ws.path("devices")),
    ]);
    let e = o.result.as_ref().unwrap_err();
    assert!(
        e.downcast_ref::<fleetform::cli::certs::InvalidSpec>()
            .is_some(),
        "{e:#}"
    );
    // file:line:column of the bad value.
    assert!(o.err().contains("fleet.yaml:10:"), "{}", o.err());
    assert!(!ws.path("devices").exists());
}

#[test]
fn a_spec_without_devices_is_refused() {
    let ws = Workspace::with_ca(&[]);
    let spec = ws.write(
        "fleet.yaml",
        &SPEC_WITH_DEVICES.replace(
            "  registry:\n    file: devices.csv\n    devices:\n      - id: dev-a\n",
            "",
        ),
    );
    let o = certs(&[
        "device",
        "--spec",
        p(&spec),
        "--ca-dir",
        p(&ws.path("certs")),
        "--out",
        p(&ws.path("devices")),
    ]);
    assert!(o.err().contains("registers no devices"), "{}", o.err());
    assert!(!ws.path("devices").exists());
}

#[test]
fn ids_that_differ_only_in_case_are_one_device() {
    let ws = Workspace::with_ca(&[]);
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--id",
        "Pump-1",
        "--id",
        "pump-1",
        "--out",
        p(&ws.path("devices")),
    ]);
    assert!(o.err().contains("appears twice"), "{}", o.err());
    assert!(o.err().contains("--id #1 and #2"), "{}", o.err());
    assert!(!ws.path("devices").exists());
}

#[test]
fn rotate_never_replaces_the_ca_it_reads() {
    let ws = Workspace::with_ca(&[]);
    let dir = ws.path("certs");
    let before = snapshot(&dir);
    for name in ["root-ca", "signing-ca"] {
        let o = certs(&["rotate", "--ca-dir", p(&dir), "--name", name, "--force"]);
        assert!(
            o.err().contains("it names a CA this rotation reads"),
            "{}",
            o.err()
        );
    }
    assert_eq!(snapshot(&dir), before);
}

#[test]
fn keys_are_never_written_anywhere_below_terraform() {
    // Creating the folder first makes no difference: every folder above is checked.
    let ws = Workspace::with_ca(&[]);
    let tf = ws.path("infra");
    std::fs::create_dir_all(tf.join("keys")).unwrap();
    std::fs::write(tf.join("main.tf"), "terraform {}\n").unwrap();
    let o = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--id",
        "d1",
        "--out",
        p(&tf.join("keys")),
    ]);
    assert!(o.err().contains("holds Terraform files"), "{}", o.err());
    assert_eq!(std::fs::read_dir(tf.join("keys")).unwrap().count(), 0);
}

// ---------------------------------------------------------------------------------------------
// A registry at scale: manifest, resume, one archive (issue 18, point 3).

fn registry_of(ws: &Workspace, n: usize) -> PathBuf {
    let ids: Vec<String> = (0..n).map(|i| format!("meter-{i:05}\n")).collect();
    ws.write("devices.csv", &format!("id\n{}", ids.concat()))
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .concat()
}

/// SHA-256 of the DER of the first certificate in `pem`, lowercase hex.
fn der_sha256(pem: &[u8]) -> String {
    use sha2::Digest as _;
    let (_, block) = x509_parser::pem::parse_x509_pem(pem).unwrap();
    hex(&sha2::Sha256::digest(&block.contents))
}

/// The manifest's rows: (id, sha256, serial).
fn manifest(path: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("id,sha256,serial"));
    lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            assert_eq!(f.len(), 3, "{l}");
            (f[0].to_owned(), f[1].to_owned(), f[2].to_owned())
        })
        .collect()
}

fn batch(ws: &Workspace, registry: &Path, out: &Path, extra: &[&str]) -> Outcome {
    let ca_dir = ws.path("certs");
    let mut args = vec![
        "device",
        "--ca-dir",
        p(&ca_dir),
        "--registry",
        p(registry),
        "--out",
        p(out),
    ];
    args.extend_from_slice(extra);
    certs(&args)
}

#[test]
fn a_registry_run_lists_every_device_with_its_fingerprint() {
    let ws = Workspace::with_ca(&[]);
    let registry = registry_of(&ws, 5);
    let out = ws.path("devices");
    batch(&ws, &registry, &out, &[]).ok();
    let rows = manifest(&out.join("manifest.csv"));
    let ids: Vec<&str> = rows.iter().map(|r| r.0.as_str()).collect();
    assert_eq!(
        ids,
        [
            "meter-00000",
            "meter-00001",
            "meter-00002",
            "meter-00003",
            "meter-00004"
        ],
        "registry order"
    );
    for (id, sha, serial) in &rows {
        let pem = std::fs::read(out.join(id).join("device.pem")).unwrap();
        assert_eq!(*sha, der_sha256(&pem), "{id}: SHA-256 of the DER");
        let (_, block) = x509_parser::pem::parse_x509_pem(&pem).unwrap();
        let cert = block.parse_x509().unwrap();
        let serial_hex = hex(cert.raw_serial());
        assert_eq!(*serial, serial_hex, "{id}");
    }
    // A single --id run writes no manifest; a second registry run into the folder is refused
    // rather than replacing the first manifest.
    let err = batch(&ws, &registry, &out, &[]).err();
    assert!(err.contains("refusing to overwrite"), "{err}");
}

#[test]
fn an_interrupted_run_resumes_without_issuing_a_bundle_again() {
    let ws = Workspace::with_ca(&[]);
    let registry = registry_of(&ws, 6);
    let out = ws.path("devices");
    batch(&ws, &registry, &out, &[]).ok();
    let first: Vec<Vec<u8>> = (0..6)
        .map(|i| std::fs::read(out.join(format!("meter-{i:05}/device.pem"))).unwrap())
        .collect();
    // As if the run had stopped during device 2: devices 3 to 5 never written, device 2
    // without its key, no manifest yet.
    for i in 3..6 {
        std::fs::remove_dir_all(out.join(format!("meter-{i:05}"))).unwrap();
    }
    std::fs::remove_file(out.join("meter-00002/device.key")).unwrap();
    std::fs::remove_file(out.join("manifest.csv")).unwrap();

    let o = batch(&ws, &registry, &out, &["--resume"]);
    o.ok();
    assert!(
        o.stderr
            .contains("kept 2 existing bundle(s) that check out; issued 4 (1 of them"),
        "{}",
        o.stderr
    );
    for (i, before) in first.iter().enumerate() {
        let dir = out.join(format!("meter-{i:05}"));
        let pem = std::fs::read(dir.join("device.pem")).unwrap();
        if i < 2 {
            assert_eq!(pem, *before, "meter-{i:05} was kept, not issued again");
        } else {
            assert_ne!(pem, *before, "meter-{i:05} was issued");
        }
        assert_eq!(mode(&dir.join("device.key")), 0o600);
        openssl_verify(&ws.path("certs/root-ca.pem"), &dir.join("chain.pem"), now());
    }
    let rows = manifest(&out.join("manifest.csv"));
    assert_eq!(rows.len(), 6, "kept and issued devices alike");
    for (id, sha, _) in &rows {
        assert_eq!(
            *sha,
            der_sha256(&std::fs::read(out.join(id).join("device.pem")).unwrap())
        );
    }

    // Resuming a finished run issues nothing and changes no bundle.
    let before = snapshot(&out);
    let o = batch(&ws, &registry, &out, &["--resume"]);
    o.ok();
    assert!(
        o.stderr
            .contains("kept 6 existing bundle(s) that check out; issued 0"),
        "{}",
        o.stderr
    );
    let after = snapshot(&out);
    assert_eq!(before, after);
}

#[test]
fn resume_refuses_bundles_that_do_not_check_out_and_writes_nothing() {
    let ws = Workspace::with_ca(&[]);
    let registry = registry_of(&ws, 3);
    let out = ws.path("devices");
    batch(&ws, &registry, &out, &[]).ok();
    std::fs::remove_file(out.join("manifest.csv")).unwrap();
    // meter-00000 gets meter-00001's certificate; meter-00002 a key that is not its own.
    let other = std::fs::read(out.join("meter-00001/device.pem")).unwrap();
    std::fs::write(out.join("meter-00000/device.pem"), &other).unwrap();
    let key = std::fs::read(out.join("meter-00001/device.key")).unwrap();
    std::fs::write(out.join("meter-00002/device.key"), &key).unwrap();
    // And a bundle from another CA is not this run's either.
    let before = snapshot(ws.tmp.path());
    let err = batch(&ws, &registry, &out, &["--resume"]).err();
    assert!(
        err.contains("2 existing bundle(s) do not check out"),
        "{err}"
    );
    assert!(
        err.contains("is for `meter-00001`, not `meter-00000`"),
        "{err}"
    );
    assert!(
        err.contains("meter-00002") && err.contains("does not belong to the certificate"),
        "{err}"
    );
    assert!(err.contains("hint:"), "{err}");
    assert_eq!(snapshot(ws.tmp.path()), before, "nothing written");

    let other_ca = Workspace::with_ca(&[]);
    let err = certs(&[
        "device",
        "--ca-dir",
        p(&other_ca.path("certs")),
        "--registry",
        p(&registry),
        "--out",
        p(&out),
        "--resume",
    ])
    .err();
    assert!(err.contains("was not issued by the CA"), "{err}");
}

/// (path, mode, mtime, contents) of every entry.
fn tar_entries(path: &Path) -> Vec<(String, u32, u64, Vec<u8>)> {
    use std::io::Read as _;
    let mut archive = tar::Archive::new(std::fs::File::open(path).unwrap());
    archive
        .entries()
        .unwrap()
        .map(|e| {
            let mut e = e.unwrap();
            let name = e.path().unwrap().to_string_lossy().into_owned();
            let mode = e.header().mode().unwrap();
            let mtime = e.header().mtime().unwrap();
            assert_eq!(e.header().uid().unwrap(), 0);
            let mut bytes = Vec::new();
            e.read_to_end(&mut bytes).unwrap();
            (name, mode, mtime, bytes)
        })
        .collect()
}

#[test]
fn one_archive_in_registry_order_that_resumes_after_a_cut() {
    // More devices than one chunk, so the archive is written in several steps.
    let n = fleetform::certs::batch::CHUNK + 6;
    let ws = Workspace::with_ca(&[]);
    let registry = registry_of(&ws, n);
    let out = ws.path("bundles");
    let o = batch(&ws, &registry, &out, &["--bundle", "tar"]);
    let listed: Vec<&str> = o.ok().lines().collect();
    assert_eq!(
        listed,
        [
            p(&out.join(".gitignore")),
            p(&out.join("devices.tar")),
            p(&out.join("manifest.csv"))
        ]
    );
    assert_eq!(mode(&out.join("devices.tar")), 0o600);
    // The archive holds every key, and `*.key` does not match it: git ignores it by name.
    let ignore = std::fs::read_to_string(out.join(".gitignore")).unwrap();
    assert!(
        ignore.lines().any(|l| l == "devices.tar") && ignore.lines().any(|l| l == "*.key"),
        "{ignore}"
    );
    assert!(!out.join("meter-00000").exists(), "no folders");
    let entries = tar_entries(&out.join("devices.tar"));
    assert_eq!(entries.len(), 3 * n);
    for (i, chunk) in entries.chunks(3).enumerate() {
        let id = format!("meter-{i:05}");
        let names: Vec<&str> = chunk.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                format!("{id}/device.pem"),
                format!("{id}/device.key"),
                format!("{id}/chain.pem")
            ]
        );
        let modes: Vec<u32> = chunk.iter().map(|e| e.1).collect();
        assert_eq!(modes, [0o644, 0o600, 0o644]);
        assert!(chunk.iter().all(|e| e.2 == now().unix_timestamp() as u64));
        assert!(
            chunk[2].3.starts_with(&chunk[0].3),
            "the chain starts with the certificate"
        );
    }
    let rows = manifest(&out.join("manifest.csv"));
    assert_eq!(rows.len(), n);
    assert_eq!(rows[7].1, der_sha256(&entries[21].3));

    // Without --resume an existing archive is refused.
    let err = batch(&ws, &registry, &out, &["--bundle", "tar"]).err();
    assert!(err.contains("refusing to overwrite"), "{err}");

    // Cut the archive in the middle of device 1027's chain (its last entry), as a killed run
    // leaves it: the cut entry reads short, and the device is not whole.
    let tar_path = out.join("devices.tar");
    let bytes = std::fs::read(&tar_path).unwrap();
    let chain_of_1027 = &entries[3 * 1027 + 2].3;
    let at = bytes
        .windows(chain_of_1027.len())
        .position(|w| w == chain_of_1027.as_slice())
        .unwrap()
        + 40;
    std::fs::write(&tar_path, &bytes[..at]).unwrap();
    std::fs::remove_file(out.join("manifest.csv")).unwrap();

    let o = batch(&ws, &registry, &out, &["--bundle", "tar", "--resume"]);
    o.ok();
    assert!(
        o.stderr.contains(&format!(
            "kept 1027 existing bundle(s) that check out; issued {}",
            n - 1027
        )),
        "{}",
        o.stderr
    );
    let resumed = tar_entries(&tar_path);
    assert_eq!(resumed.len(), 3 * n);
    assert_eq!(
        resumed[..3 * 1027],
        entries[..3 * 1027],
        "kept devices are byte for byte the same"
    );
    assert_ne!(
        resumed[3 * 1027].3,
        entries[3 * 1027].3,
        "the cut device was issued again"
    );
    let rows = manifest(&out.join("manifest.csv"));
    assert_eq!(rows.len(), n);
    for (i, (id, sha, _)) in rows.iter().enumerate() {
        assert_eq!(*id, format!("meter-{i:05}"));
        assert_eq!(*sha, der_sha256(&resumed[3 * i].3));
    }

    // An archive started from another registry is not continued.
    let other = ws.write("other.csv", "id\nmeter-00001\nmeter-00000\n");
    let err = batch(&ws, &other, &out, &["--bundle", "tar", "--resume"]).err();
    assert!(
        err.contains("the registry's order expects `meter-00001/device.pem`"),
        "{err}"
    );
}

#[test]
fn aws_bulk_writes_the_certificate_task_input_for_every_device_kept_or_issued() {
    // The documented input of a bulk certificate task (AWS IoT bulk-provisioning.html): one JSON
    // object per line with every template parameter as a string; the certificate template takes
    // `ThingName` and `CertificatePem`.
    let ws = Workspace::with_ca(&[]);
    let registry = registry_of(&ws, 4);
    let out = ws.path("bundles");
    let input = ws.path("certificates.jsonl");
    for bundle in ["dirs", "tar"] {
        let _ = std::fs::remove_dir_all(&out);
        let _ = std::fs::remove_file(&input);
        batch(
            &ws,
            &registry,
            &out,
            &["--bundle", bundle, "--aws-bulk", p(&input)],
        )
        .ok();
        let first = std::fs::read_to_string(&input).unwrap();
        // Resumed, every device is kept, and the input is the same.
        std::fs::remove_file(out.join("manifest.csv")).unwrap();
        batch(
            &ws,
            &registry,
            &out,
            &["--bundle", bundle, "--aws-bulk", p(&input), "--resume"],
        )
        .ok();
        let again = std::fs::read_to_string(&input).unwrap();
        assert_eq!(
            first, again,
            "{bundle}: kept devices are listed as issued ones"
        );
        let lines: Vec<serde_json::Value> = first
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 4, "{bundle}");
        let rows = manifest(&out.join("manifest.csv"));
        for (i, (line, row)) in lines.iter().zip(&rows).enumerate() {
            let o = line.as_object().unwrap();
            let mut keys: Vec<&str> = o.keys().map(String::as_str).collect();
            keys.sort_unstable();
            assert_eq!(keys, ["CertificatePem", "ThingName"], "{bundle}: {line}");
            assert_eq!(o["ThingName"], format!("meter-{i:05}"));
            let pem = o["CertificatePem"].as_str().unwrap();
            assert!(pem.starts_with("-----BEGIN CERTIFICATE-----\n"), "{pem}");
            assert_eq!(
                der_sha256(pem.as_bytes()),
                row.1,
                "{bundle}: the issued certificate"
            );
        }
    }
}

#[test]
fn the_device_type_is_the_certificates_dn_qualifier() {
    let ws = Workspace::with_ca(&[]);
    let devices = ws.path("devices");
    certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--id",
        "valve-0001",
        "--type",
        "valve",
        "--out",
        p(&devices),
    ])
    .ok();
    let cert = devices.join("valve-0001/device.pem");
    let subject = Command::new("openssl")
        .args(["x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in"])
        .arg(&cert)
        .output()
        .unwrap();
    let subject = String::from_utf8_lossy(&subject.stdout);
    // 2.5.4.46, a PrintableString (X.520), beside the CN: what AWS JITP reads as
    // AWS::IoT::Certificate::DistinguishedNameQualifier.
    assert!(
        subject.contains("CN=valve-0001") && subject.contains("dnQualifier=valve"),
        "{subject}"
    );
    openssl_verify(
        &ws.path("certs/root-ca.pem"),
        &devices.join("valve-0001/chain.pem"),
        now(),
    );
    // A type a PrintableString cannot hold is refused before anything is written.
    let err = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--id",
        "valve-0002",
        "--type",
        "big_valve",
        "--out",
        p(&devices),
    ])
    .err();
    assert!(err.contains("dnQualifier is a PrintableString"), "{err}");
    assert!(!devices.join("valve-0002").exists());
    // With --spec, the type must be one of the spec's.
    let spec = ws.write(
        "fleet.yaml",
        "version: 1\nstack: {name: plant, environment: test}\nclouds:\n  aws: {region: eu-west-1, provisioning: {method: jitp}}\nfleet:\n  devices: 10\n  device_types: [{name: meter}, {name: valve}]\n",
    );
    let err = certs(&[
        "device",
        "--ca-dir",
        p(&ws.path("certs")),
        "--spec",
        p(&spec),
        "--id",
        "pump-1",
        "--type",
        "pump",
        "--out",
        p(&devices),
    ])
    .err();
    assert!(
        err.contains("has no such device type") && err.contains("meter, valve"),
        "{err}"
    );
}
