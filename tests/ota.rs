//! Over-the-air updates on AWS (issue 19.10): every device is in the fleet thing group the
//! update script targets by default (the provisioning templates, the JITR activator and the
//! registry put it there), and with code signing the job document carries the signature AWS
//! Signer made, over the image the device downloads, so the device can verify it.
//!
//! The script runs against fakes of `terraform` (its outputs) and `aws` (which logs each call
//! and answers as the services do; each call is also checked against the real AWS CLI's
//! parameter validation, `--generate-cli-skeleton`). The fake Signer signs with a key made
//! here; the test then verifies the job document's signature with openssl, as a device would.

mod common;

use std::path::Path;
use std::process::Command;

use serde_json::Value;

const CLAIM: &str = "version: 1\nstack: {name: kettles, environment: test}\nclouds:\n  aws:\n    region: eu-west-1\n    provisioning: {method: fleet_by_claim}\nfleet:\n  devices: 100\n  device_types:\n    - {name: kettle, searchable_attributes: [model, capacity]}\n    - {name: toaster, searchable_attributes: [model, slots]}\npipeline:\n  ota: {enabled: true}\n";

fn json(rendered: &fleetform::emit::Rendered, path: &str) -> Value {
    serde_json::from_slice(&rendered.files[path].contents()).unwrap()
}

fn text(rendered: &fleetform::emit::Rendered, path: &str) -> String {
    String::from_utf8(rendered.files[path].contents().to_vec()).unwrap()
}

#[test]
fn every_provisioned_device_joins_the_fleet_group() {
    // JITP (home-security): the template puts the thing in the group and types it by the
    // certificate's dnQualifier.
    let rendered = common::build_file(&common::root().join("examples/home-security/fleet.yaml"));
    let ota = text(&rendered, "aws/ota.tf");
    assert!(
        ota.contains("resource \"aws_iot_thing_group\" \"fleet\"")
            && ota.contains("name = \"home-security-prod-fleet\""),
        "{ota}"
    );
    let jitp = json(&rendered, "aws/provisioning/jitp-template.json");
    let thing = &jitp["Resources"]["thing"];
    assert_eq!(
        thing["Properties"]["ThingGroups"],
        serde_json::json!(["home-security-prod-fleet"])
    );
    assert_eq!(thing["OverrideSettings"]["ThingGroups"], "MERGE");
    assert_eq!(
        thing["Properties"]["ThingTypeName"],
        serde_json::json!({"Fn::Join": ["", ["home-security-prod-", {"Ref": "AWS::IoT::Certificate::DistinguishedNameQualifier"}]]})
    );
    assert!(jitp["Parameters"]["AWS::IoT::Certificate::DistinguishedNameQualifier"].is_object());
    let script = text(&rendered, "aws/scripts/create-ota-job.sh");
    assert!(
        script.contains("group=${3:-'home-security-prod-fleet'}"),
        "{script}"
    );

    // Fleet provisioning: the same group; the type is the DeviceType parameter the hook
    // fills from the allow list, and each searchable attribute is a parameter.
    let dir = tempfile::tempdir().unwrap();
    let rendered = common::build_text("fleet.yaml", CLAIM, dir.path());
    let t = json(&rendered, "aws/provisioning/fleet-template.json");
    let thing = &t["Resources"]["thing"];
    assert_eq!(
        thing["Properties"]["ThingGroups"],
        serde_json::json!(["kettles-test-fleet"])
    );
    assert_eq!(
        thing["Properties"]["ThingTypeName"],
        serde_json::json!({"Fn::Join": ["", ["kettles-test-", {"Ref": "DeviceType"}]]})
    );
    let attributes = thing["Properties"]["AttributePayload"].as_object().unwrap();
    let keys: Vec<&str> = attributes.keys().map(String::as_str).collect();
    assert_eq!(keys, ["model", "capacity", "slots", "serial_number"]);
    for (name, value) in attributes {
        let parameter = value["Ref"].as_str().unwrap();
        assert!(
            t["Parameters"][parameter].is_object(),
            "{name} refers to a declared parameter"
        );
    }
    assert_eq!(
        t["Parameters"]["DeviceType"],
        serde_json::json!({"Type": "String"})
    );
}

#[test]
fn a_spec_group_cannot_take_the_fleet_groups_name() {
    let dir = tempfile::tempdir().unwrap();
    let spec = CLAIM.replace("pipeline:", "  groups: [{name: fleet}]\npipeline:");
    std::fs::write(dir.path().join("fleet.yaml"), &spec).unwrap();
    let out = common::fleetform(dir.path(), &["validate", "fleet.yaml"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "{stderr}");
    assert!(stderr.contains("fleet.yaml:12:19"), "located: {stderr}");
    assert!(
        stderr.contains("the group name `fleet` is taken on AWS"),
        "{stderr}"
    );
}

fn executable(p: &Path, body: &str) {
    std::fs::write(p, body).unwrap();
    let mut perm = std::fs::metadata(p).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
    std::fs::set_permissions(p, perm).unwrap();
}

/// `terraform` answers the module's outputs; `aws` logs every call, has it checked by the
/// real AWS CLI when there is one, keeps the job document it is given, and signs with
/// `signing-key.pem` as AWS Signer does (the signed object is JSON holding the signature).
fn fakes(bin: &Path, signed: bool) {
    let profile = if signed {
        "  *'output -raw firmware_signing_profile_name') printf kettles_test_firmware;;\n"
    } else {
        "  *'output -raw firmware_signing_profile_name') echo 'Error: Unsupported value for raw output' >&2; exit 1;;\n"
    };
    executable(
        &bin.join("terraform"),
        &format!(
            "#!/usr/bin/env bash\ncase \"$*\" in\n  *'output -raw region') printf eu-west-1;;\n  *'output -raw firmware_bucket_name') printf kettles-test-firmware-123456789012;;\n  *'output -raw ota_jobs_role_arn') printf arn:aws:iam::123456789012:role/kettles-test-iot-jobs;;\n{profile}  *) echo \"unexpected terraform $*\" >&2; exit 3;;\nesac\n"
        ),
    );
    // The CLI's skeleton of a Signer job's output breaks its own rule (a `jobOwner` shorter
    // than 12 characters), so the Signer calls are left to the log checks below.
    let validate = match common::which("aws") {
        Some(aws) => format!(
            "case \"$1 $2\" in 's3 cp'|'signer '*) ;; *) AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y {} \"$@\" --generate-cli-skeleton output >/dev/null || {{ echo \"the AWS CLI rejects: aws $*\" >&2; exit 4; }};; esac\n",
            aws.display()
        ),
        None => String::new(),
    };
    let dir = bin.display();
    executable(
        &bin.join("aws"),
        &format!(
            r#"#!/usr/bin/env bash
set -e
printf '%s\n' "$*" >> {dir}/aws.log
{validate}
case "$1 $2" in
  's3api put-object') body=""; while [ $# -gt 0 ]; do [ "$1" = --body ] && body=$2; shift; done; cp "$body" {dir}/uploaded; echo v-1;;
  'signer start-signing-job') echo job-7;;
  'signer wait') ;;
  'signer describe-signing-job') echo signed/1.2.0/job-7;;
  's3 cp') sig=$(openssl dgst -sha256 -sign {dir}/signing-key.pem {dir}/uploaded | base64 -w0); printf '{{"rawPayloadSize":%s,"signature":"%s","signatureAlgorithm":"SHA256withECDSA","payload":"..."}}' "$(wc -c <{dir}/uploaded)" "$sig";;
  'iot describe-thing-group') echo arn:aws:iot:eu-west-1:123456789012:thinggroup/$5;;
  'iot create-job') while [ $# -gt 0 ]; do [ "$1" = --document ] && cp "${{2#file://}}" {dir}/document.json; shift; done; echo '{{}}';;
  *) echo "unexpected aws $*" >&2; exit 3;;
esac
"#
        ),
    );
}

#[test]
fn the_job_document_carries_a_signature_the_device_can_verify() {
    if common::which("jq").is_none() || common::which("openssl").is_none() {
        return common::skip("ota script", "jq or openssl is not installed");
    }
    if common::which("aws").is_none() {
        common::skip(
            "aws",
            "the AWS CLI is not installed; commands are not validated",
        );
    }
    let dir = tempfile::tempdir().unwrap();
    let rendered = common::build_text("fleet.yaml", CLAIM, dir.path());
    let out = common::write_temp(&rendered);
    let script = out.path().join("aws/scripts/create-ota-job.sh");
    let firmware = out.path().join("kettle-1.2.0.bin");
    std::fs::write(&firmware, b"\x7fELF firmware image, version 1.2.0\n").unwrap();

    for signed in [true, false] {
        let bin = tempfile::tempdir().unwrap();
        let b = bin.path();
        fakes(b, signed);
        let key = b.join("signing-key.pem");
        let openssl = |args: &[&str]| {
            let o = Command::new("openssl").args(args).output().unwrap();
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        };
        openssl(&[
            "ecparam",
            "-name",
            "prime256v1",
            "-genkey",
            "-noout",
            "-out",
            key.to_str().unwrap(),
        ]);
        let public = b.join("signing-public.pem");
        openssl(&[
            "ec",
            "-in",
            key.to_str().unwrap(),
            "-pubout",
            "-out",
            public.to_str().unwrap(),
        ]);

        let run = Command::new("bash")
            .arg(&script)
            .arg(&firmware)
            .arg("1.2.0")
            .env(
                "PATH",
                format!("{}:{}", b.display(), std::env::var("PATH").unwrap()),
            )
            .output()
            .unwrap();
        let log = std::fs::read_to_string(b.join("aws.log")).unwrap_or_default();
        assert!(
            run.status.success(),
            "{}\n{}\n{log}",
            String::from_utf8_lossy(&run.stdout),
            String::from_utf8_lossy(&run.stderr)
        );
        assert!(
            log.contains(
                "iot describe-thing-group --region eu-west-1 --thing-group-name kettles-test-fleet"
            ),
            "the default target is the fleet group:\n{log}"
        );
        let doc: Value =
            serde_json::from_slice(&std::fs::read(b.join("document.json")).unwrap()).unwrap();
        let fw = &doc["firmware"];
        let image = std::fs::read(&firmware).unwrap();
        assert_eq!(fw["version"], "1.2.0");
        assert_eq!(fw["size"], image.len());
        let sha = Command::new("sha256sum").arg(&firmware).output().unwrap();
        let sha = String::from_utf8_lossy(&sha.stdout);
        assert_eq!(fw["sha256"], sha.split(' ').next().unwrap());
        assert_eq!(
            fw["url"],
            "${aws:iot:s3-presigned-url-v2:https://s3.eu-west-1.amazonaws.com/kettles-test-firmware-123456789012/firmware/1.2.0/kettle-1.2.0.bin}",
            "the URL is the image the hash and signature are of, not the signed object"
        );
        if !signed {
            assert!(fw.get("signature").is_none(), "{doc}");
            assert!(!log.contains("signer"), "{log}");
            continue;
        }
        assert!(
            log.contains("signer start-signing-job --region eu-west-1 --profile-name kettles_test_firmware --source s3={bucketName=kettles-test-firmware-123456789012,key=firmware/1.2.0/kettle-1.2.0.bin,version=v-1} --destination s3={bucketName=kettles-test-firmware-123456789012,prefix=signed/1.2.0/}"),
            "the uploaded version is signed:\n{log}"
        );
        assert!(log.contains("s3 cp --region eu-west-1 s3://kettles-test-firmware-123456789012/signed/1.2.0/job-7 -"), "{log}");
        assert_eq!(fw["signature"]["algorithm"], "SHA256withECDSA");
        assert_eq!(fw["signature"]["signing_job"], "job-7");
        // What a device does: verify the downloaded image against the document's signature.
        let sig = b.join("signature.der");
        let decoded = Command::new("base64")
            .arg("-d")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .and_then(|mut c| {
                use std::io::Write as _;
                c.stdin
                    .take()
                    .unwrap()
                    .write_all(fw["signature"]["value"].as_str().unwrap().as_bytes())?;
                c.wait_with_output()
            })
            .unwrap();
        std::fs::write(&sig, decoded.stdout).unwrap();
        let verify = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&public)
            .arg("-signature")
            .arg(&sig)
            .arg(&firmware)
            .output()
            .unwrap();
        assert!(
            verify.status.success(),
            "the signature verifies: {}",
            String::from_utf8_lossy(&verify.stdout)
        );
        // And a tampered image does not.
        let tampered = b.join("tampered.bin");
        std::fs::write(&tampered, [image.as_slice(), b"!"].concat()).unwrap();
        let verify = Command::new("openssl")
            .args(["dgst", "-sha256", "-verify"])
            .arg(&public)
            .arg("-signature")
            .arg(&sig)
            .arg(&tampered)
            .output()
            .unwrap();
        assert!(!verify.status.success());
    }
}
