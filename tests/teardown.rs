//! Teardown on AWS (issue 19.18): with JITP, AWS IoT attaches the device policy to
//! certificates Terraform never created, and AWS refuses to delete an attached policy, so
//! `terraform destroy` stops at `aws_iot_policy.device`. The generated
//! `scripts/teardown-devices.sh` must detach it first. This runs the script with the real AWS
//! CLI against a moto server that plays AWS IoT (moto refuses `DeletePolicy` on an attached
//! policy as AWS does): a device is provisioned the way JITP leaves it, the policy cannot be
//! deleted, the script runs, and then it can; with `--delete-devices` the certificate and the
//! thing are gone too.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::process::{Command, Output};

use common::moto::Moto;

/// The AWS CLI against the moto server, with fake keys.
fn aws(moto: &Moto, bin: &Path, args: &[&str]) -> Output {
    Command::new("aws")
        .args(args)
        .args(["--region", "eu-west-1", "--output", "json"])
        .env("PATH", path_with(bin))
        .env("AWS_ENDPOINT_URL", moto.url())
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env_remove("AWS_PROFILE")
        .output()
        .expect("the AWS CLI runs")
}

fn must(moto: &Moto, bin: &Path, args: &[&str]) -> serde_json::Value {
    let out = aws(moto, bin, args);
    assert!(
        out.status.success(),
        "aws {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null)
}

fn path_with(bin: &Path) -> String {
    format!("{}:{}", bin.display(), std::env::var("PATH").unwrap())
}

/// A `terraform` that answers `output -raw` the way the applied module would.
fn fake_terraform(bin: &Path, outputs: &[(&str, &str)]) {
    let mut cases = String::new();
    for (k, v) in outputs {
        let _ = writeln!(cases, "  *'output -raw {k}') printf '%s' '{v}';;");
    }
    let p = bin.join("terraform");
    std::fs::write(
        &p,
        format!("#!/usr/bin/env bash\ncase \"$*\" in\n{cases}  *) echo \"unexpected terraform $*\" >&2; exit 3;;\nesac\n"),
    )
    .unwrap();
    let mut perm = std::fs::metadata(&p).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(&p, perm).unwrap();
}

/// A thing with a certificate that has the device policy, as JITP leaves a device; returns
/// the certificate id.
fn provisioned_device(moto: &Moto, bin: &Path, policy: &str, thing: &str) -> String {
    let cert = must(
        moto,
        bin,
        &["iot", "create-keys-and-certificate", "--set-as-active"],
    );
    let arn = cert["certificateArn"].as_str().unwrap().to_owned();
    must(moto, bin, &["iot", "create-thing", "--thing-name", thing]);
    must(
        moto,
        bin,
        &[
            "iot",
            "attach-thing-principal",
            "--thing-name",
            thing,
            "--principal",
            &arn,
        ],
    );
    must(
        moto,
        bin,
        &[
            "iot",
            "attach-policy",
            "--policy-name",
            policy,
            "--target",
            &arn,
        ],
    );
    cert["certificateId"].as_str().unwrap().to_owned()
}

#[test]
fn the_teardown_script_lets_destroy_delete_the_device_policy() {
    let Some(moto_server) = Moto::binary() else {
        return common::skip(
            "teardown",
            "moto_server is not on PATH (pip install 'moto[server]')",
        );
    };
    if common::which("aws").is_none() {
        return common::skip("teardown", "the AWS CLI is not installed");
    }
    let rendered = common::build_file(&common::root().join("examples/home-security/fleet.yaml"));
    let out = common::write_temp(&rendered);
    let script = out.path().join("aws/scripts/teardown-devices.sh");
    assert!(script.is_file(), "JITP output ships the teardown script");
    let readme = std::fs::read_to_string(out.path().join("aws/README.md")).unwrap();
    assert!(
        readme.contains("scripts/teardown-devices.sh\nterraform destroy"),
        "the README runs it before destroy"
    );

    let moto = Moto::start(&moto_server);
    let bin = tempfile::tempdir().unwrap();
    let policy = "home-security-prod-device";
    fake_terraform(
        bin.path(),
        &[("region", "eu-west-1"), ("device_policy_name", policy)],
    );
    let run = |args: &[&str]| {
        let out = Command::new("bash")
            .arg(&script)
            .args(args)
            .env("PATH", path_with(bin.path()))
            .env("AWS_ENDPOINT_URL", moto.url())
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("RETRY_SECONDS", "0")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let create_policy = |name: &str| {
        must(
            &moto,
            bin.path(),
            &[
                "iot",
                "create-policy",
                "--policy-name",
                name,
                "--policy-document",
                r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"iot:Connect","Resource":"*"}]}"#,
            ],
        );
    };
    let delete_policy = |name: &str| {
        aws(
            &moto,
            bin.path(),
            &["iot", "delete-policy", "--policy-name", name],
        )
    };

    // Detach only: the policy can go, the devices stay.
    create_policy(policy);
    let kept = provisioned_device(&moto, bin.path(), policy, "door-1");
    let refused = delete_policy(policy);
    assert!(!refused.status.success(), "AWS refuses an attached policy");
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("DeleteConflict"),
        "{}",
        String::from_utf8_lossy(&refused.stderr)
    );
    let printed = run(&[]);
    assert!(printed.contains("from 1 target(s)"), "{printed}");
    assert!(delete_policy(policy).status.success(), "detached, it goes");
    let cert = must(
        &moto,
        bin.path(),
        &["iot", "describe-certificate", "--certificate-id", &kept],
    );
    assert_eq!(cert["certificateDescription"]["status"], "ACTIVE");

    // --delete-devices: certificates and things go as well.
    create_policy(policy);
    let gone = provisioned_device(&moto, bin.path(), policy, "door-2");
    let printed = run(&["--delete-devices"]);
    assert!(printed.contains("deleted thing door-2"), "{printed}");
    assert!(
        printed.contains(&format!("deleted certificate {gone}")),
        "{printed}"
    );
    assert!(delete_policy(policy).status.success());
    let things = must(&moto, bin.path(), &["iot", "list-things"]);
    let names: Vec<&str> = things["things"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|t| t["thingName"].as_str())
        .collect();
    assert_eq!(names, ["door-1"], "only the device kept above remains");
    let described = aws(
        &moto,
        bin.path(),
        &["iot", "describe-certificate", "--certificate-id", &gone],
    );
    assert!(!described.status.success(), "the certificate is deleted");

    // A usage error is an error.
    let wrong = Command::new("bash")
        .arg(&script)
        .arg("--everything")
        .env("PATH", path_with(bin.path()))
        .output()
        .unwrap();
    assert_eq!(wrong.status.code(), Some(2));
}
