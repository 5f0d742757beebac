//! Bulk registration on AWS: the templates and inputs follow the documented formats, the
//! generated module passes the real provider and checkov, and the generated script issues the
//! documented AWS CLI calls (checked offline against the real AWS CLI's parameter validation).
//!
//! Formats, from docs.aws.amazon.com/iot/latest/developerguide: `bulk-provisioning.html` (the
//! input is newline-delimited JSON, one object per device with every template parameter) and
//! `provision-template.html` (a template has `Parameters` of `{Type: String, Default?}` and
//! `Resources` of type `AWS::IoT::Thing|Certificate|Policy`; thing properties `ThingName`,
//! `AttributePayload`, `ThingTypeName`, `ThingGroups`; override settings `DO_NOTHING`,
//! `REPLACE`, `FAIL`, `MERGE`); `API_StartThingRegistrationTask` (template body at most 10,240
//! characters) and `API_RegisterThing` (parameter values at most 4,096 characters).
//!
//! Long because each documented bulk format (AWS task input and template, IoT Hub import
//! lines) is tested against its reference here, with the fixtures they share.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const SPEC: &str = "version: 1\nstack: {name: bulky, environment: test}\nclouds:\n  aws:\n    region: eu-west-1\n    provisioning: {method: manual}\nfleet:\n  devices: 100\n  device_types: [{name: meter}, {name: valve}]\n  groups: [{name: north}, {name: south}]\n  registry: {file: devices.csv, bulk_threshold: 10}\n";

/// Devices of several shapes: with and without a type, zero to two groups, sparse attributes,
/// values with every punctuation AWS allows in an attribute (quotes and backslashes are
/// refused at validate time, `validate::cloud_values`).
fn registry() -> String {
    let mut s = String::from("id,type,groups,site,serial\n");
    for i in 0..40 {
        let ty = ["meter", "", "valve"][i % 3];
        let groups = ["north", "", "north;south"][i % 3];
        let site = if i % 4 == 0 { "" } else { "site:7/b" };
        let _ = writeln!(
            s,
            "dev-{i:03},{ty},{groups},{site},\"SN-{i}/x#[1]=a,b@c.d_e\""
        );
    }
    s
}

fn build() -> (tempfile::TempDir, fleetform::emit::Rendered) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), SPEC).unwrap();
    std::fs::write(dir.path().join("devices.csv"), registry()).unwrap();
    let rendered = common::build_file(&dir.path().join("fleet.yaml"));
    (dir, rendered)
}

fn json_file(rendered: &fleetform::emit::Rendered, path: &str) -> Value {
    serde_json::from_slice(&rendered.files[path].contents()).unwrap()
}

/// Every `{"Ref": name}` in a template.
fn refs(v: &Value, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(o) => {
            if let (1, Some(Value::String(name))) = (o.len(), o.get("Ref")) {
                out.insert(name.clone());
            }
            o.values().for_each(|x| refs(x, out));
        }
        Value::Array(a) => a.iter().for_each(|x| refs(x, out)),
        _ => {}
    }
}

/// Checks a template against the documented format; returns its required parameters.
fn check_template(name: &str, t: &Value) -> BTreeSet<String> {
    let top: BTreeSet<&str> = t.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(top, BTreeSet::from(["Parameters", "Resources"]), "{name}");
    let mut required = BTreeSet::new();
    for (p, def) in t["Parameters"].as_object().unwrap() {
        assert_eq!(def["Type"], "String", "{name}: parameter {p}");
        if def.get("Default").is_none() {
            required.insert(p.clone());
        }
    }
    let mut used = BTreeSet::new();
    refs(&t["Resources"], &mut used);
    let declared: BTreeSet<String> = t["Parameters"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    assert_eq!(
        used, declared,
        "{name}: every parameter is used and every Ref declared"
    );
    for (logical, res) in t["Resources"].as_object().unwrap() {
        let ty = res["Type"].as_str().unwrap();
        assert!(
            [
                "AWS::IoT::Thing",
                "AWS::IoT::Certificate",
                "AWS::IoT::Policy"
            ]
            .contains(&ty),
            "{name}/{logical}: {ty}"
        );
        if ty == "AWS::IoT::Thing" {
            for k in res["Properties"].as_object().unwrap().keys() {
                assert!(
                    [
                        "ThingName",
                        "AttributePayload",
                        "ThingTypeName",
                        "ThingGroups"
                    ]
                    .contains(&k.as_str()),
                    "{name}: thing property {k}"
                );
            }
            if let Some(o) = res.get("OverrideSettings") {
                for (k, v) in o.as_object().unwrap() {
                    assert!(
                        ["AttributePayload", "ThingTypeName", "ThingGroups"].contains(&k.as_str())
                    );
                    assert!(
                        ["DO_NOTHING", "REPLACE", "FAIL", "MERGE"].contains(&v.as_str().unwrap())
                    );
                }
            }
        }
    }
    assert!(
        t.to_string().len() <= 10_240,
        "{name}: template body too long"
    );
    required
}

#[test]
fn templates_and_inputs_follow_the_documented_bulk_format() {
    let (_dir, rendered) = build();
    assert!(
        !rendered.files.contains_key("aws/registry/devices.json"),
        "no per-device Terraform resources in bulk"
    );
    let tf = String::from_utf8(rendered.files["aws/bulk.tf"].bytes.clone()).unwrap();
    let iot = String::from_utf8(rendered.files["aws/iot.tf"].bytes.clone()).unwrap();
    assert!(!tf.contains("aws_iot_thing\" \"registry"));
    let tasks: Vec<String> = rendered
        .files
        .keys()
        .filter_map(|p| p.strip_prefix("aws/registry/bulk/"))
        .filter_map(|p| p.strip_suffix(".template.json"))
        .map(str::to_owned)
        .collect();
    // Shapes: (type, groups) cycle through 3 combinations; `site` is missing on every 4th.
    assert_eq!(tasks.len(), 6, "{tasks:?}");
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for task in &tasks {
        let template = json_file(
            &rendered,
            &format!("aws/registry/bulk/{task}.template.json"),
        );
        let required = check_template(task, &template);
        let input = rendered.files[&format!("aws/registry/bulk/{task}.jsonl")].contents();
        let text = std::str::from_utf8(&input).unwrap();
        assert!(text.ends_with('\n'), "{task}: newline-delimited");
        for line in text.lines() {
            let v: Value =
                serde_json::from_str(line).unwrap_or_else(|e| panic!("{task}: {e}: {line}"));
            let o = v.as_object().unwrap();
            let keys: BTreeSet<String> = o.keys().cloned().collect();
            assert_eq!(
                keys, required,
                "{task}: every parameter, nothing else: {line}"
            );
            for (k, v) in o {
                let s = v
                    .as_str()
                    .unwrap_or_else(|| panic!("{task}: {k} is a string"));
                assert!(s.len() <= 4096, "{task}: {k}");
            }
            // Types and groups are named as the module creates them (with the environment's
            // prefix): a task naming one that does not exist fails for every device.
            for (k, v) in o {
                if k == "ThingTypeName" || k.starts_with("ThingGroup") {
                    let name = format!("name = \"{}\"", v.as_str().unwrap());
                    assert!(
                        iot.contains(&name),
                        "{task}: {k} {v} is not a thing type or group of iot.tf"
                    );
                }
            }
            let id = o["ThingName"].as_str().unwrap();
            assert!(
                id.len() <= 128
                    && id
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b":_-".contains(&b))
            );
            assert!(
                seen.insert(id.to_owned(), task.clone()).is_none(),
                "{id} in two tasks"
            );
        }
    }
    assert_eq!(seen.len(), 40, "every device exactly once");
    // Values survive JSON encoding exactly.
    let first = rendered.files["aws/registry/bulk/things-01.jsonl"].contents();
    let line: Value =
        serde_json::from_str(std::str::from_utf8(&first).unwrap().lines().next().unwrap()).unwrap();
    assert_eq!(line["ThingName"], "dev-000");
    assert!(
        line.as_object()
            .unwrap()
            .values()
            .any(|v| v == "SN-0/x#[1]=a,b@c.d_e"),
        "{line}"
    );
    // The certificate task's template is built by Terraform, from the CA and the device policy.
    assert!(
        tf.contains("bulk_certificate_template = jsonencode("),
        "{tf}"
    );
    assert!(tf.contains("PolicyName = aws_iot_policy.device.name"));
}

#[test]
fn with_ota_every_bulk_registered_thing_joins_the_fleet_group() {
    // Firmware jobs target the fleet group (issue 19.10): the bulk task puts each thing in it
    // beside its own groups, and REPLACE keeps it there when a task runs again.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.yaml"),
        format!("{SPEC}pipeline:\n  ota: {{enabled: true}}\n"),
    )
    .unwrap();
    std::fs::write(dir.path().join("devices.csv"), registry()).unwrap();
    let rendered = common::build_file(&dir.path().join("fleet.yaml"));
    let templates: Vec<&String> = rendered
        .files
        .keys()
        .filter(|p| p.starts_with("aws/registry/bulk/") && p.ends_with(".template.json"))
        .collect();
    assert!(!templates.is_empty());
    for path in templates {
        let t = json_file(&rendered, path);
        check_template(path, &t);
        let thing = &t["Resources"]["thing"];
        let groups = thing["Properties"]["ThingGroups"].as_array().unwrap();
        assert_eq!(groups.last().unwrap(), "bulky-test-fleet", "{path}");
        assert_eq!(thing["OverrideSettings"]["ThingGroups"], "REPLACE");
    }
}

#[test]
fn the_bulk_module_passes_terraform_and_checkov() {
    let (_dir, rendered) = build();
    let out = common::write_temp(&rendered);
    let aws = out.path().join("aws");
    if let Err(e) = common::terraform_fmt_check(&aws) {
        panic!("terraform fmt:\n{e}");
    }
    if let Err(e) = common::terraform_validate(&aws) {
        panic!("terraform validate:\n{e}");
    }
    if common::checkov().is_none() {
        common::skip("checkov", "not installed");
        return;
    }
    let failed = common::checkov_failures(&aws).unwrap();
    assert!(failed.is_empty(), "checkov: {failed:#?}");
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

/// Fakes `terraform` (the module's output), `aws` (task ids and statuses; every call logged,
/// and the calls that can be checked offline validated by the real AWS CLI) and `curl`.
fn fakes(bin: &Path, output: &Value, real_aws: Option<&Path>, failures: u32) {
    let write = |name: &str, body: String| {
        let p = bin.join(name);
        std::fs::write(&p, body).unwrap();
        let mut perm = std::fs::metadata(&p).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
        std::fs::set_permissions(&p, perm).unwrap();
    };
    std::fs::write(bin.join("output.json"), output.to_string()).unwrap();
    write(
        "terraform",
        format!(
            "#!/usr/bin/env bash\ncase \"$*\" in *'output -json bulk_registration'*) cat {};; *) echo \"unexpected terraform $*\" >&2; exit 3;; esac\n",
            bin.join("output.json").display()
        ),
    );
    let validate = match real_aws {
        Some(aws) => format!(
            "case \"$1 $2\" in 'iot start-thing-registration-task'|'iot list-thing-registration-task-reports'|'iot list-thing-registration-tasks'|'s3api put-object')\n  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=y {} \"$@\" --generate-cli-skeleton output >/dev/null || {{ echo \"the AWS CLI rejects: aws $*\" >&2; exit 4; }};;\nesac\n",
            aws.display()
        ),
        None => String::new(),
    };
    write(
        "aws",
        format!(
            "#!/usr/bin/env bash\nset -e\nprintf '%s\\n' \"$*\" >> {log}\n{validate}\ncase \"$1 $2\" in\n  'iot list-thing-registration-tasks') echo 0;;\n  'iot start-thing-registration-task') n=$(grep -c start-thing-registration-task {log}); echo \"task-$n\";;\n  'iot describe-thing-registration-task') n=$(grep -c describe-thing-registration-task {log}); if [ $((n % 2)) = 1 ]; then printf 'InProgress\\t50\\t5\\t0\\tNone\\n'; else printf 'Completed\\t100\\t10\\t{failures}\\tNone\\n'; fi;;\n  'iot list-thing-registration-task-reports') echo \"https://reports.invalid/$4-$6\";;\n  's3api put-object') echo '{{}}';;\n  *) echo \"unexpected aws $*\" >&2; exit 3;;\nesac\n",
            log = bin.join("aws.log").display(),
        ),
    );
    write(
        "curl",
        "#!/usr/bin/env bash\nprintf '{\"report\":\"%s\"}\\n' \"${@: -1}\"\n".to_owned(),
    );
}

fn script_output(rendered: &fleetform::emit::Rendered) -> Value {
    let task = |name: &str| {
        let key = format!("aws/registry/bulk/{name}.template.json");
        serde_json::json!({
            "key": format!("things/{name}.jsonl"),
            "template": String::from_utf8(rendered.files[&key].bytes.clone()).unwrap(),
            "devices": 1,
        })
    };
    serde_json::json!({
        "bucket": "bulky-test-registration-123456789012",
        "role_arn": "arn:aws:iam::123456789012:role/bulky-test-bulk-registration",
        "region": "eu-west-1",
        "tasks": {"things-01": task("things-01"), "things-02": task("things-02")},
        "certificate_template": "{\"Parameters\":{\"ThingName\":{\"Type\":\"String\"},\"CertificatePem\":{\"Type\":\"String\"}},\"Resources\":{}}",
    })
}

#[test]
fn the_registration_script_runs_the_documented_commands() {
    if which("jq").is_none() {
        common::skip("jq", "not installed (the registration script needs it)");
        return;
    }
    let real_aws = which("aws");
    if real_aws.is_none() {
        common::skip(
            "aws",
            "the AWS CLI is not installed; commands are not validated",
        );
    }
    let (_dir, rendered) = build();
    // The output the script reads is the one bulk.tf declares.
    let outputs = String::from_utf8(rendered.files["aws/outputs.tf"].bytes.clone()).unwrap();
    let body: hcl::Body = hcl::from_str(&outputs).unwrap();
    let block = body
        .blocks()
        .find(|b| b.identifier() == "output" && b.labels()[0].as_str() == "bulk_registration")
        .unwrap();
    let value = block
        .body()
        .attributes()
        .find(|a| a.key() == "value")
        .unwrap();
    let hcl::Expression::Object(o) = value.expr() else {
        panic!("an object")
    };
    let keys: BTreeSet<String> = o.keys().map(ToString::to_string).collect();
    let expected = script_output(&rendered);
    let wanted: BTreeSet<String> = expected.as_object().unwrap().keys().cloned().collect();
    assert_eq!(keys, wanted);

    let out = common::write_temp(&rendered);
    let script = out.path().join("aws/scripts/register-devices.sh");
    for (failures, code) in [(0, 0), (3, 1)] {
        let bin = tempfile::tempdir().unwrap();
        fakes(bin.path(), &expected, real_aws.as_deref(), failures);
        let reports = bin.path().join("reports");
        let run = Command::new("bash")
            .arg(&script)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.path().display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("POLL_SECONDS", "0")
            .env("REPORTS_DIR", &reports)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        let stdout = String::from_utf8_lossy(&run.stdout);
        assert_eq!(run.status.code(), Some(code), "{stdout}\n{stderr}");
        let log = std::fs::read_to_string(bin.path().join("aws.log")).unwrap();
        let calls: Vec<String> = log
            .lines()
            .map(|l| l.split(' ').take(2).collect::<Vec<_>>().join(" "))
            .collect();
        let one_task = [
            "iot list-thing-registration-tasks",
            "iot start-thing-registration-task",
            "iot describe-thing-registration-task",
            "iot describe-thing-registration-task",
            "iot list-thing-registration-task-reports",
            "iot list-thing-registration-task-reports",
        ];
        assert_eq!(calls, [one_task, one_task].concat(), "{log}");
        assert!(log.contains("--input-file-bucket bulky-test-registration-123456789012 --input-file-key things/things-01.jsonl --role-arn arn:aws:iam::123456789012:role/bulky-test-bulk-registration"), "{log}");
        assert!(stdout.contains("things-02: Completed 100%"), "{stdout}");
        assert!(reports.join("task-1-ERRORS.jsonl").is_file());
        assert!(reports.join("task-2-RESULTS.jsonl").is_file());
        if failures > 0 {
            assert!(stderr.contains("3 device(s) failed"), "{stderr}");
        }
    }
    // One task by name, and the certificate step, which uploads its input first.
    let bin = tempfile::tempdir().unwrap();
    fakes(bin.path(), &expected, real_aws.as_deref(), 0);
    let certs = bin.path().join("certificates.jsonl");
    std::fs::write(
        &certs,
        "{\"ThingName\":\"dev-000\",\"CertificatePem\":\"-----BEGIN CERTIFICATE-----\"}\n",
    )
    .unwrap();
    for args in [
        vec!["things".to_owned(), "things-02".to_owned()],
        vec!["certificates".to_owned(), certs.display().to_string()],
    ] {
        let run = Command::new("bash")
            .arg(&script)
            .args(&args)
            .env(
                "PATH",
                format!(
                    "{}:{}",
                    bin.path().display(),
                    std::env::var("PATH").unwrap()
                ),
            )
            .env("POLL_SECONDS", "0")
            .env("REPORTS_DIR", bin.path().join("reports"))
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
    let log = std::fs::read_to_string(bin.path().join("aws.log")).unwrap();
    assert!(
        !log.contains("things/things-01.jsonl"),
        "only the task asked for:\n{log}"
    );
    assert!(log.contains("s3api put-object --region eu-west-1 --bucket bulky-test-registration-123456789012 --key certificates/certificates.jsonl"), "{log}");
    assert!(
        log.contains("--input-file-key certificates/certificates.jsonl"),
        "{log}"
    );
    // An unknown task is a usage error.
    let run = Command::new("bash")
        .arg(&script)
        .args(["things", "things-99"])
        .env(
            "PATH",
            format!(
                "{}:{}",
                bin.path().display(),
                std::env::var("PATH").unwrap()
            ),
        )
        .output()
        .unwrap();
    assert_eq!(run.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&run.stderr).contains("no task `things-99`"));
}

// ---------------------------------------------------------------------------------------------
// Azure: the IoT Hub import job.

const AZURE_SPEC: &str = "version: 1\nstack: {name: imports, environment: test}\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-imports\n    iot_hub: {sku: SKU}\nfleet:\n  devices: 100\n  device_types: [{name: meter}]\n  groups: [{name: north}, {name: south}]\n  registry: {file: devices.csv}\nidentity:\n  method: METHOD\n";

fn azure_build(sku: &str, method: &str) -> (tempfile::TempDir, fleetform::emit::Rendered) {
    let dir = tempfile::tempdir().unwrap();
    let spec = AZURE_SPEC.replace("SKU", sku).replace("METHOD", method);
    std::fs::write(dir.path().join("fleet.yaml"), spec).unwrap();
    std::fs::write(
        dir.path().join("devices.csv"),
        registry().replace(",valve,", ",meter,"),
    )
    .unwrap();
    let rendered = common::build_file(&dir.path().join("fleet.yaml"));
    (dir, rendered)
}

/// The properties of an `ExportImportDevice` (Azure IoT service SDKs) and their enums.
const DEVICE_KEYS: [&str; 13] = [
    "id",
    "moduleId",
    "eTag",
    "importMode",
    "status",
    "statusReason",
    "authentication",
    "twinETag",
    "tags",
    "properties",
    "capabilities",
    "deviceScope",
    "parentScopes",
];
const IMPORT_MODES: [&str; 9] = [
    "create",
    "createOrUpdate",
    "createOrUpdateIfMatchETag",
    "delete",
    "deleteIfMatchETag",
    "update",
    "updateIfMatchETag",
    "updateTwin",
    "updateTwinIfMatchETag",
];

#[test]
fn the_import_input_follows_the_documented_device_format() {
    for (sku, method, auth, tags) in [
        ("S1", "x509", "certificateAuthority", true),
        ("B1", "x509", "certificateAuthority", false),
        ("S1", "symmetric_key", "sas", true),
    ] {
        let (_dir, rendered) = azure_build(sku, method);
        let text = String::from_utf8(
            rendered.files["azure/registry/devices.txt"]
                .contents()
                .into_owned(),
        )
        .unwrap();
        assert!(text.ends_with('\n'));
        let mut ids = BTreeSet::new();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            let o = v.as_object().unwrap();
            for k in o.keys() {
                assert!(DEVICE_KEYS.contains(&k.as_str()), "{k}: {line}");
            }
            let id = o["id"].as_str().unwrap();
            assert!(id.len() <= 128 && ids.insert(id.to_owned()), "{id}");
            assert!(["enabled", "disabled"].contains(&o["status"].as_str().unwrap()));
            assert!(IMPORT_MODES.contains(&o["importMode"].as_str().unwrap()));
            assert_eq!(
                o["authentication"],
                serde_json::json!({"type": auth}),
                "{sku} {method}"
            );
            assert_eq!(
                o.contains_key("tags"),
                tags,
                "twin tags only where hubs have twins: {sku}"
            );
            if tags {
                let t = o["tags"].as_object().unwrap();
                if let Some(groups) = t.get("groups") {
                    assert!(
                        groups
                            .as_array()
                            .unwrap()
                            .iter()
                            .all(|g| g == "north" || g == "south")
                    );
                }
            }
        }
        assert_eq!(ids.len(), 40);
        let tf = String::from_utf8(rendered.files["azure/import.tf"].bytes.clone()).unwrap();
        let squashed = tf.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(squashed.contains("name = \"devices.txt\""), "{tf}");
        assert!(
            squashed.contains("principal_id = local.import_hub.identity[0].principal_id"),
            "{tf}"
        );
        assert!(
            squashed.contains("shared_access_key_enabled = false"),
            "{tf}"
        );
        let outputs = String::from_utf8(rendered.files["azure/outputs.tf"].bytes.clone()).unwrap();
        // The importDevices request body: the documented ImportDevicesRequest properties.
        for key in [
            "inputBlobContainerUri",
            "outputBlobContainerUri",
            "inputBlobName",
            "outputBlobName",
            "authenticationType",
        ] {
            assert!(outputs.contains(&format!("{key} ")), "{key}:\n{outputs}");
        }
        let squashed = outputs.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            squashed.contains("authenticationType = \"identityBased\""),
            "{outputs}"
        );
    }
}

#[test]
fn with_enrollment_groups_the_registry_is_not_imported_and_the_build_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let spec = AZURE_SPEC
        .replace("SKU", "S1")
        .replace("METHOD", "x509")
        .replace("    iot_hub: {sku: S1}\n", "    iot_hub: {sku: S1}\n    dps:\n      enrollment_groups: [{name: meters, device_type: meter}]\n");
    std::fs::write(dir.path().join("fleet.yaml"), spec).unwrap();
    std::fs::write(
        dir.path().join("devices.csv"),
        registry().replace(",valve,", ",meter,"),
    )
    .unwrap();
    let rendered = common::build_file(&dir.path().join("fleet.yaml"));
    assert!(!rendered.files.contains_key("azure/registry/devices.txt"));
    assert!(!rendered.files.contains_key("azure/import.tf"));
    let readme = String::from_utf8(rendered.files["azure/README.md"].bytes.clone()).unwrap();
    assert!(readme.contains("| registry | not mapped: DPS enrollment groups create each device when it first provisions, so the 40 registry device(s) are not imported |"), "{readme}");
}

#[test]
fn the_import_module_passes_terraform_and_checkov() {
    let (_dir, rendered) = azure_build("S1", "x509");
    let out = common::write_temp(&rendered);
    let azure = out.path().join("azure");
    if let Err(e) = common::terraform_fmt_check(&azure) {
        panic!("terraform fmt:\n{e}");
    }
    // The real azurerm provider (init + validate), where terraform and its mirror are.
    if let Err(e) = common::terraform_validate(&azure) {
        panic!("terraform validate:\n{e}");
    }
    if common::checkov().is_none() {
        common::skip("checkov", "not installed");
        return;
    }
    let failed = common::checkov_failures(&azure).unwrap();
    assert!(failed.is_empty(), "checkov: {failed:#?}");
}

#[test]
fn the_import_script_starts_follows_and_reports_the_job() {
    let (_dir, rendered) = azure_build("S1", "x509");
    let out = common::write_temp(&rendered);
    let script = out.path().join("azure/scripts/import-devices.sh");
    for (final_status, errors, code) in [
        ("completed", "", 0),
        ("completed", "{\"errorCode\":\"DeviceAlreadyExists\"}", 1),
        ("failed", "", 1),
    ] {
        let bin = tempfile::tempdir().unwrap();
        let b = bin.path();
        let write = |name: &str, body: String| {
            let p = b.join(name);
            std::fs::write(&p, body).unwrap();
            let mut perm = std::fs::metadata(&p).unwrap().permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perm, 0o755);
            std::fs::set_permissions(&p, perm).unwrap();
        };
        write("terraform", "#!/usr/bin/env bash\ncase \"$*\" in\n  *device_import_hub_id*) printf '/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-imports/providers/Microsoft.Devices/IotHubs/iot-imports-test';;\n  *device_import_storage_account*) printf 'stimportstestimp';;\n  *device_import_request*) printf '{\"inputBlobContainerUri\":\"https://stimportstestimp.blob.core.windows.net/device-import\",\"outputBlobContainerUri\":\"https://stimportstestimp.blob.core.windows.net/device-import\",\"inputBlobName\":\"devices.txt\",\"outputBlobName\":\"import-errors.log\",\"authenticationType\":\"identityBased\"}';;\n  *) exit 3;;\nesac\n".to_owned());
        write(
            "az",
            format!(
                "#!/usr/bin/env bash\nprintf '%s\\n' \"$*\" >> {log}\nall=\"$*\"\ncase \"$*\" in\n  *'--method post'*importDevices*) body=\"${{all##*--body @}}\"; body=\"${{body%% *}}\"; cp \"$body\" {dir}/request.json; echo job-1;;\n  *'--method get'*'--query status'*) n=$(grep -c -- '--query status' {log}); if [ \"$n\" = 1 ]; then echo running; else echo {final_status}; fi;;\n  *'--query failureReason'*) echo 'the input blob was not found';;\n  *'storage blob download'*) file=\"${{all##*--file }}\"; file=\"${{file%% *}}\"; printf '%s' '{errors}' > \"$file\";;\n  *) echo \"unexpected az $*\" >&2; exit 3;;\nesac\n",
                log = b.join("az.log").display(),
                dir = b.display()
            ),
        );
        let run = Command::new("bash")
            .arg(&script)
            .current_dir(b)
            .env(
                "PATH",
                format!("{}:{}", b.display(), std::env::var("PATH").unwrap()),
            )
            .env("POLL_SECONDS", "0")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&run.stderr);
        assert_eq!(
            run.status.code(),
            Some(code),
            "{final_status} {errors}: {stderr}"
        );
        let log = std::fs::read_to_string(b.join("az.log")).unwrap();
        let lines: Vec<&str> = log.lines().collect();
        assert!(lines[0].starts_with("rest --method post --url https://management.azure.com/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg-imports/providers/Microsoft.Devices/IotHubs/iot-imports-test/importDevices?api-version=2023-06-30 --body @"), "{log}");
        assert!(
            lines[1].contains("/jobs/job-1?api-version=2023-06-30 --query status"),
            "{log}"
        );
        assert!(log.contains("storage blob download --auth-mode login --account-name stimportstestimp --container-name device-import --name import-errors.log"), "{log}");
        let request: Value =
            serde_json::from_str(&std::fs::read_to_string(b.join("request.json")).unwrap())
                .unwrap();
        assert_eq!(request["authenticationType"], "identityBased");
        if final_status == "failed" {
            assert!(stderr.contains("the input blob was not found"), "{stderr}");
        } else if !errors.is_empty() {
            assert!(stderr.contains("DeviceAlreadyExists"), "{stderr}");
        }
    }
}

#[test]
fn fleetform_bulk_prints_commands_the_aws_cli_accepts() {
    let (dir, _) = build();
    let out = Command::new(insta_cmd::get_cargo_bin("fleetform"))
        .args(["bulk", "fleet.yaml", "--out", "tf"])
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(
        text.matches("aws iot start-thing-registration-task")
            .count(),
        7,
        "six things tasks and the certificate task:\n{text}"
    );
    assert!(text.contains("--template-body 'file://tf/aws/registry/bulk/things-01.template.json' --input-file-bucket \"$bucket\" --input-file-key things/things-01.jsonl --role-arn \"$role\""), "{text}");
    let Some(aws) = which("aws") else {
        common::skip(
            "aws",
            "the AWS CLI is not installed; commands are not validated",
        );
        return;
    };
    // Every start command, with the module's real template file and plausible outputs,
    // passes the AWS CLI's own parameter validation.
    let (_d, rendered) = build();
    let module = common::write_temp(&rendered);
    std::fs::rename(module.path(), dir.path().join("tf")).unwrap();
    for line in text.lines().filter(|l| {
        l.starts_with("task=$(aws iot start-thing-registration-task")
            && !l.contains("certificate-template")
    }) {
        let cmd = line
            .trim_start_matches("task=$(aws ")
            .trim_end_matches(')')
            .replace("\"$bucket\"", "bulky-test-registration-123456789012")
            .replace(
                "\"$role\"",
                "arn:aws:iam::123456789012:role/bulky-test-bulk-registration",
            );
        let run = Command::new("bash")
            .arg("-c")
            .arg(format!(
                "{} {cmd} --generate-cli-skeleton output",
                aws.display()
            ))
            .current_dir(dir.path())
            .env("AWS_ACCESS_KEY_ID", "x")
            .env("AWS_SECRET_ACCESS_KEY", "y")
            .output()
            .unwrap();
        assert!(
            run.status.success(),
            "{cmd}: {}",
            String::from_utf8_lossy(&run.stderr)
        );
    }
}
