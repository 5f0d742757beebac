//! Issue 19: AWS output that is safe and works on a real account. Each test holds one point
//! of the review: it reads what the planner wrote (policy statements, resources, scripts),
//! and where Terraform or AWS itself decides, runs the real tool (terraform plan against a
//! local moto server, the AWS CLI, moto).

mod common;

use std::collections::BTreeMap;

use common::build_text;
use fleetform::emit::Rendered;

/// A minimal AWS spec with `extra` appended (top-level YAML keys).
fn spec(method: &str, extra: &str) -> String {
    format!(
        "version: 1\nstack: {{name: acct, environment: test}}\nclouds:\n  aws:\n    region: eu-central-1\n    provisioning: {{method: {method}}}\nfleet:\n  devices: 100\n{extra}"
    )
}

fn build(text: &str) -> Rendered {
    build_text("fleet.yaml", text, &common::root().join("examples/minimal"))
}

/// The text of `path` in a rendering (panics when absent).
fn file<'a>(r: &'a Rendered, path: &str) -> &'a str {
    let f = r
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} is not written; files: {:?}", r.files.keys()));
    std::str::from_utf8(&f.bytes).unwrap()
}

/// Every top-level block of every `.tf` file of the AWS module, by (kind, type, name).
fn blocks(r: &Rendered) -> BTreeMap<(String, String, String), hcl::Block> {
    blocks_in(r, "aws/")
}

/// Every top-level block of every `.tf` file under `dir` (`aws/`, `dev/aws/`).
fn blocks_in(r: &Rendered, dir: &str) -> BTreeMap<(String, String, String), hcl::Block> {
    let mut out = BTreeMap::new();
    for (path, f) in &r.files {
        if !(path.starts_with(dir) && path.ends_with(".tf") && !path[dir.len()..].contains('/')) {
            continue;
        }
        let body: hcl::Body = hcl::from_str(std::str::from_utf8(&f.bytes).unwrap()).unwrap();
        for b in body.into_blocks() {
            let labels: Vec<String> = b.labels.iter().map(|l| l.as_str().to_owned()).collect();
            let key = (
                b.identifier.to_string(),
                labels.first().cloned().unwrap_or_default(),
                labels.get(1).cloned().unwrap_or_default(),
            );
            out.insert(key, b);
        }
    }
    out
}

fn block<'a>(
    all: &'a BTreeMap<(String, String, String), hcl::Block>,
    kind: &str,
    ty: &str,
    name: &str,
) -> &'a hcl::Block {
    all.get(&(kind.to_owned(), ty.to_owned(), name.to_owned()))
        .unwrap_or_else(|| panic!("no {kind} {ty}.{name}"))
}

/// An attribute's expression, rendered as HCL.
fn attr(b: &hcl::Block, key: &str) -> Option<String> {
    b.body
        .attributes()
        .find(|a| a.key.as_str() == key)
        .map(|a| hcl::format::to_string(&a.expr).unwrap())
}

/// One statement of a policy document, with what a reviewer checks.
#[derive(Debug)]
struct Statement {
    actions: Vec<String>,
    resources: String,
    /// (test, variable, values) per condition.
    conditions: Vec<(String, String, String)>,
}

fn statement(
    all: &BTreeMap<(String, String, String), hcl::Block>,
    doc: &str,
    sid: &str,
) -> Statement {
    let d = block(all, "data", "aws_iam_policy_document", doc);
    let s = d
        .body
        .blocks()
        .find(|s| attr(s, "sid").as_deref() == Some(&format!("\"{sid}\"")))
        .unwrap_or_else(|| panic!("{doc} has no statement {sid}"));
    let actions: Vec<String> = serde_json::from_str(&attr(s, "actions").unwrap()).unwrap();
    let conditions = s
        .body
        .blocks()
        .filter(|c| c.identifier.as_str() == "condition")
        .map(|c| {
            (
                attr(c, "test").unwrap().trim_matches('"').to_owned(),
                attr(c, "variable").unwrap().trim_matches('"').to_owned(),
                attr(c, "values").unwrap(),
            )
        })
        .collect();
    Statement {
        actions,
        resources: attr(s, "resources").unwrap_or_default(),
        conditions,
    }
}

// ---------------------------------------------------------------------------------------------
// 7. The rules' error action writes to CloudWatch Logs, which needs DescribeLogStreams.

#[test]
fn rule_error_action_role_has_what_the_cloudwatch_logs_action_requires() {
    let r = build(&spec("fleet_by_claim", ""));
    let all = blocks(&r);
    let s = statement(&all, "iot_rules", "WriteRuleErrors");
    for action in [
        "logs:CreateLogStream",
        "logs:DescribeLogStreams",
        "logs:PutLogEvents",
    ] {
        assert!(s.actions.contains(&action.to_owned()), "{action}: {s:?}");
    }
    // Only on the rule error log group (and its streams).
    assert!(
        s.resources
            .contains("aws_cloudwatch_log_group.rule_errors.arn"),
        "{s:?}"
    );
    assert!(
        !s.resources.contains('*') || s.resources.contains(":*"),
        "{s:?}"
    );
    // Every rule's error action uses that group with that role.
    for ((kind, ty, name), b) in &all {
        if kind == "resource" && ty == "aws_iot_topic_rule" {
            let text = hcl::format::to_string(b).unwrap();
            assert!(
                text.contains("aws_cloudwatch_log_group.rule_errors.name")
                    && text.contains("aws_iam_role.iot_rules.arn"),
                "{name} has no error action into the rule error log group:\n{text}"
            );
        }
    }
    assert!(file(&r, "aws/pipeline.tf").contains("logs:DescribeLogStreams"));
}

// ---------------------------------------------------------------------------------------------
// 5. Two environments of one example in one account and region: no name in common.

/// Attributes that name a resource in its account and region (or globally).
const NAME_KEYS: &[&str] = &["name", "alias", "function_name", "bucket", "alarm_name"];

/// Resource types whose name is scoped to a parent (a role, a log group, a database, an
/// API), not to the account: two stacks may use the same one.
const SCOPED: &[&str] = &[
    "aws_iam_role_policy",
    "aws_cloudwatch_log_metric_filter",
    "aws_glue_catalog_table",
    "aws_apigatewayv2_stage",
    "aws_cloudwatch_log_stream",
];

/// The default of a boolean variable of a module.
fn bool_default(all: &BTreeMap<(String, String, String), hcl::Block>, var: &str) -> bool {
    attr(block(all, "variable", var, ""), "default").as_deref() == Some("true")
}

/// Every account- or region-wide name a module plans with its defaults: literal names, with
/// `local.name_prefix` replaced by its value and `local.account_id`/`var.region` kept as
/// placeholders (the same in both environments); `for_each` things by their keys.
fn planned_names(r: &Rendered, dir: &str) -> BTreeMap<String, String> {
    let all = blocks_in(r, dir);
    let main: hcl::Body = hcl::from_str(file(r, &format!("{dir}main.tf"))).unwrap();
    let prefix = main
        .blocks()
        .filter(|b| b.identifier.as_str() == "locals")
        .find_map(|b| attr(b, "name_prefix"))
        .unwrap()
        .trim_matches('"')
        .to_owned();
    let account = bool_default(&all, "manage_account_iot_settings");
    let mut out = BTreeMap::new();
    for ((kind, ty, label), b) in &all {
        if kind != "resource" || SCOPED.contains(&ty.as_str()) {
            continue;
        }
        if !account
            && attr(b, "count").is_some_and(|c| c.contains("var.manage_account_iot_settings"))
        {
            continue;
        }
        if attr(b, "for_each").is_some() {
            // Registry things and memberships: keyed by thing name.
            if ty == "aws_iot_thing" {
                let json = file(r, &format!("{dir}registry/devices.json"));
                let v: serde_json::Value = serde_json::from_str(json).unwrap();
                for id in v.as_object().unwrap().keys() {
                    out.insert(format!("thing:{id}"), format!("{ty}.{label}"));
                }
            }
            continue;
        }
        for key in NAME_KEYS {
            let Some(v) = attr(b, key) else { continue };
            if !v.starts_with('"') {
                continue; // a reference to another resource's name
            }
            let v = v.replace("${local.name_prefix}", &prefix);
            out.insert(format!("{ty}:{v}"), format!("{ty}.{label}.{key}"));
        }
    }
    out
}

fn assert_no_common_names(r: &Rendered, a: &str, b: &str) {
    let na = planned_names(r, &format!("{a}/aws/"));
    let nb = planned_names(r, &format!("{b}/aws/"));
    assert!(na.len() > 10, "too few names found in {a}: {na:?}");
    let common: Vec<_> = na.keys().filter(|k| nb.contains_key(*k)).collect();
    assert!(
        common.is_empty(),
        "{a} and {b} share an account and region and would both create: {common:#?}"
    );
}

#[test]
fn environments_in_one_account_and_region_plan_no_name_in_common() {
    // dev and staging of the example both deploy into us-east-2.
    let r = common::build_file(&common::root().join("examples/environments/fleet.yaml"));
    assert_no_common_names(&r, "dev", "staging");
}

#[test]
fn a_full_featured_stack_twice_in_one_account_has_no_name_in_common() {
    // home-security has thing types, a role alias, OTA with signing, a web API and JITP; the
    // second environment brings its own CA, as the shared-account check demands.
    let text = std::fs::read_to_string(common::root().join("examples/home-security/fleet.yaml"))
        .unwrap()
        + "\nenvironments:\n  dev: {}\n  test:\n    identity:\n      x509:\n        ca_certificate_file: certs/test-ca.pem\n";
    let r = build_text(
        "fleet.yaml",
        &text,
        &common::root().join("examples/home-security"),
    );
    assert_no_common_names(&r, "dev", "test");
}

#[test]
fn one_environment_per_account_and_region_manages_account_wide_iot_settings() {
    let r = common::build_file(&common::root().join("examples/environments/fleet.yaml"));
    let owns = |env: &str| {
        bool_default(
            &blocks_in(&r, &format!("{env}/aws/")),
            "manage_account_iot_settings",
        )
    };
    // dev and staging share us-east-2: the first (dev) manages it; prod is alone in us-east-1.
    assert!(owns("dev"));
    assert!(!owns("staging"));
    assert!(owns("prod"));
}

/// Validates a spec text; the codes of its errors.
fn error_codes(text: &str) -> Vec<String> {
    let o = fleetform::validate::validate(
        "fleet.yaml",
        text,
        &common::Dir(common::root().join("examples/minimal")),
    );
    o.diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| format!("{}: {}", d.code, d.message))
        .collect()
}

#[test]
fn two_environments_registering_one_ca_in_one_account_and_region_are_rejected() {
    let two = "environments:\n  dev: {}\n  test: {}\n";
    let errors = error_codes(&spec("jitp", two));
    assert!(
        errors.iter().any(|e| e.starts_with("shared-aws-account")
            && e.contains("`dev` and `test`")
            && e.contains("CA certificate")),
        "{errors:?}"
    );
    // Different accounts: fine.
    let apart = "environments:\n  dev:\n    clouds: {aws: {account_id: '111111111111'}}\n  test:\n    clouds: {aws: {account_id: '222222222222'}}\n";
    assert_eq!(error_codes(&spec("jitp", apart)), Vec::<String>::new());
    // Fleet provisioning registers no CA: two environments may share an account.
    assert_eq!(
        error_codes(&spec("fleet_by_claim", two)),
        Vec::<String>::new()
    );
}

// ---------------------------------------------------------------------------------------------
// 6. Derived names within AWS's limits.

/// Longest name AWS accepts, per resource type and attribute (API references).
fn limit(ty: &str, key: &str) -> Option<usize> {
    Some(match (ty, key) {
        ("aws_iam_role", "name") | ("aws_lambda_function", "function_name") => 64,
        ("aws_s3_bucket", "bucket") => 63,
        ("aws_iot_provisioning_template", "name") => 36,
        ("aws_kinesis_firehose_delivery_stream", "name") => 64,
        ("aws_sqs_queue", "name") => 80,
        (
            "aws_iot_topic_rule"
            | "aws_iot_thing_type"
            | "aws_iot_thing_group"
            | "aws_iot_policy"
            | "aws_kinesis_stream"
            | "aws_athena_workgroup"
            | "aws_cognito_user_pool"
            | "aws_apigatewayv2_api",
            "name",
        )
        | ("aws_iot_role_alias", "alias") => 128,
        ("aws_signer_signing_profile", "name") => 64,
        ("aws_budgets_budget", "name") => 100,
        ("aws_dynamodb_table" | "aws_glue_catalog_database" | "aws_kms_alias", "name")
        | ("aws_cloudwatch_metric_alarm", "alarm_name") => 255,
        ("aws_sns_topic", "name") => 256,
        ("aws_cloudwatch_log_group", "name") => 512,
        _ => return None,
    })
}

#[test]
fn every_derived_name_fits_within_what_aws_accepts() {
    let long = "a".repeat(64);
    let group = "g".repeat(128);
    let alias = "r".repeat(128);
    let extra = [
        "  device_types:".to_owned(),
        format!("    - name: {group}"),
        "  groups:".to_owned(),
        format!("    - name: {group}"),
        "authorization:".to_owned(),
        "  cloud_credentials:".to_owned(),
        format!("    role_alias: {alias}"),
        "    grants: [firmware_read]".to_owned(),
        "pipeline:".to_owned(),
        "  routes:".to_owned(),
        format!("    - name: {long}"),
        "      to: [archive, state_store]".to_owned(),
        "  alerts:".to_owned(),
        format!("    - name: {long}"),
        "      condition: t > 1".to_owned(),
        "      function: true".to_owned(),
        "      notify: true".to_owned(),
        "  state_store: {enabled: true}".to_owned(),
        "  ota: {enabled: true}".to_owned(),
        "  web_api: {enabled: true}".to_owned(),
        "  analytics: {enabled: true}".to_owned(),
        "storage:".to_owned(),
        "  archive: {}".to_owned(),
        "monitoring:".to_owned(),
        "  notify: {email: [oncall@example.com]}".to_owned(),
        "cost: {monthly_budget_usd: 100}".to_owned(),
        String::new(),
    ]
    .join("\n");
    let text = spec("fleet_by_claim", &extra).replace(
        "name: acct, environment: test",
        &format!("name: {}, environment: {}", "s".repeat(24), "e".repeat(10)),
    );
    let r = build(&text);
    let all = blocks(&r);
    let mut checked = 0;
    for ((kind, ty, label), b) in &all {
        if kind != "resource" {
            continue;
        }
        for key in NAME_KEYS {
            let (Some(max), Some(v)) = (limit(ty, key), attr(b, key)) else {
                continue;
            };
            if !v.starts_with('"') {
                continue;
            }
            let v = v
                .trim_matches('"')
                .replace(
                    "${local.name_prefix}",
                    &format!("{}-{}", "s".repeat(24), "e".repeat(10)),
                )
                .replace("${local.account_id}", "123456789012")
                .replace("${var.region}", "eu-central-1");
            assert!(
                v.len() <= max,
                "{ty}.{label}.{key} is {} characters (AWS takes {max}): {v}",
                v.len()
            );
            checked += 1;
        }
    }
    assert!(checked > 20, "only {checked} names checked");
    // A shortened Lambda keeps its log group: /aws/lambda/<function name>.
    let f = block(
        &all,
        "resource",
        "aws_lambda_function",
        &format!("alert_{long}"),
    );
    let name = attr(f, "function_name").unwrap();
    let lg = block(
        &all,
        "resource",
        "aws_cloudwatch_log_group",
        &format!("alert_{long}"),
    );
    assert_eq!(
        attr(lg, "name").unwrap(),
        format!("\"/aws/lambda/{}", name.trim_start_matches('"'))
    );
}

// ---------------------------------------------------------------------------------------------
// 3. Device credentials decrypt only through S3, for the firmware bucket.

#[test]
fn device_credentials_use_the_stack_key_only_through_s3_for_the_firmware_bucket() {
    let r = build_text(
        "fleet.yaml",
        &std::fs::read_to_string(common::root().join("examples/home-security/fleet.yaml")).unwrap(),
        &common::root().join("examples/home-security"),
    );
    let all = blocks(&r);
    let s = statement(&all, "device_credentials", "DecryptFirmware");
    assert_eq!(s.actions, ["kms:Decrypt"]);
    let via = s
        .conditions
        .iter()
        .find(|c| c.1 == "kms:ViaService")
        .unwrap_or_else(|| panic!("no kms:ViaService: {s:?}"));
    assert!(
        via.0 == "StringEquals" && via.2.contains("s3.${var.region}.amazonaws.com"),
        "{s:?}"
    );
    let ctx = s
        .conditions
        .iter()
        .find(|c| c.1 == "kms:EncryptionContext:aws:s3:arn")
        .unwrap_or_else(|| panic!("no encryption context: {s:?}"));
    assert!(
        ctx.2.contains("aws_s3_bucket.firmware.arn") && !ctx.2.contains("archive"),
        "{s:?}"
    );
}

// ---------------------------------------------------------------------------------------------
// 4. Manual registration finds the certificates `fleetform certs device` writes, and warns
//    at plan about registered devices without one.

#[test]
fn manual_registration_reads_the_certs_device_layout_and_warns_about_missing_ones() {
    let Some(found) = common::terraform() else {
        common::skip("terraform", "terraform or the provider mirror is missing");
        return;
    };
    let (tf, config) = (found.bin.clone(), found.config.clone());
    let r = common::build_file(&common::root().join("examples/greenhouse/fleet.yaml"));
    // The spec's folder, with the module two levels below it (`--out out`).
    let spec_dir = tempfile::tempdir().unwrap();
    let module = spec_dir.path().join("out/aws");
    for (path, f) in &r.files {
        if let Some(rel) = path.strip_prefix("aws/") {
            let p = module.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, &f.bytes).unwrap();
        }
    }
    let registry: serde_json::Value =
        serde_json::from_str(file(&r, "aws/registry/devices.json")).unwrap();
    let ids: Vec<&String> = registry.as_object().unwrap().keys().collect();
    assert!(ids.len() > 2, "{ids:?}");
    let pem = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    std::fs::create_dir_all(spec_dir.path().join("certs")).unwrap();
    std::fs::write(spec_dir.path().join("certs/greenhouse-ca.pem"), pem).unwrap();
    // What `fleetform certs device --id <id>` writes in the spec's folder, for one device.
    let one = spec_dir
        .path()
        .join(fleetform::certs::layout::DEVICES_DIR)
        .join(ids[0])
        .join(fleetform::certs::layout::DEVICE_CERT);
    std::fs::create_dir_all(one.parent().unwrap()).unwrap();
    std::fs::write(&one, pem).unwrap();
    // Until the real-provider harness lands: outputs that expose sensitive values fail any
    // plan (issue 11), and this test is about the certificates only.
    std::fs::remove_file(module.join("outputs.tf")).unwrap();
    std::fs::create_dir_all(module.join("tests")).unwrap();
    std::fs::write(
        module.join("tests/certificates.tftest.hcl"),
        format!(
            "mock_provider \"aws\" {{\n  mock_data \"aws_iam_policy_document\" {{\n    defaults = {{\n      json = \"{{}}\"\n    }}\n  }}\n}}\n\nrun \"plan\" {{\n  command = plan\n\n  expect_failures = [check.device_certificates]\n\n  assert {{\n    condition     = keys(aws_iot_certificate.device) == [\"{id}\"]\n    error_message = \"registered: ${{jsonencode(keys(aws_iot_certificate.device))}}\"\n  }}\n\n  assert {{\n    condition     = length(local.devices_without_certificates) == {missing}\n    error_message = \"without: ${{jsonencode(local.devices_without_certificates)}}\"\n  }}\n}}\n",
            id = ids[0],
            missing = ids.len() - 1
        ),
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(&tf)
            .args(args)
            .env("TF_CLI_CONFIG_FILE", &config)
            .env("TF_IN_AUTOMATION", "1")
            .current_dir(&module)
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.success(), text)
    };
    let (ok, text) = run(&["init", "-backend=false", "-input=false", "-no-color"]);
    assert!(ok, "{text}");
    let (ok, text) = run(&["test", "-no-color", "-filter=tests/certificates.tftest.hcl"]);
    assert!(ok, "terraform test failed:\n{text}");
    // What the warning says (a run without expect_failures reports it as its failure).
    std::fs::write(
        module.join("tests/warning.tftest.hcl"),
        "mock_provider \"aws\" {\n  mock_data \"aws_iam_policy_document\" {\n    defaults = {\n      json = \"{}\"\n    }\n  }\n}\n\nrun \"plan\" {\n  command = plan\n}\n",
    )
    .unwrap();
    let (ok, text) = run(&["test", "-no-color", "-filter=tests/warning.tftest.hcl"]);
    assert!(!ok, "{text}");
    assert_eq!(text.matches("Error:").count(), 1, "{text}");
    let flat = text.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        flat.contains("Check block assertion failed")
            && flat.contains(&format!(
                "{} registered device(s) have no certificate",
                ids.len() - 1
            ))
            && flat.contains(ids[1].as_str()),
        "{text}"
    );
}

// ---------------------------------------------------------------------------------------------
// 9. Each environment's budget counts only its own costs, and mails once.

#[test]
fn each_environments_budget_counts_its_own_costs_and_notifies_one_way() {
    let r = common::build_file(&common::root().join("examples/environments/fleet.yaml"));
    let mut filters = Vec::new();
    for env in ["dev", "staging"] {
        let all = blocks_in(&r, &format!("{env}/aws/"));
        let b = block(&all, "resource", "aws_budgets_budget", "monthly");
        let filter = b
            .body
            .blocks()
            .find(|c| c.identifier.as_str() == "cost_filter")
            .unwrap();
        assert_eq!(attr(filter, "name").as_deref(), Some("\"TagKeyValue\""));
        let values = attr(filter, "values").unwrap();
        assert!(
            values.contains(&format!("user:fleetform-stack$pumps-{env}")),
            "{values}"
        );
        filters.push(values);
        // Every resource carries that tag (provider default_tags from local.tags).
        let main = file(&r, &format!("{env}/aws/main.tf"));
        assert!(
            main.contains(&format!("fleetform-stack = \"pumps-{env}\"")),
            "{main}"
        );
        // SNS or addresses, never both.
        for n in b
            .body
            .blocks()
            .filter(|c| c.identifier.as_str() == "notification")
        {
            let sns = attr(n, "subscriber_sns_topic_arns").is_some();
            let mail = attr(n, "subscriber_email_addresses").is_some();
            assert!(sns != mail, "{env}: one notification path, not both");
        }
    }
    assert_ne!(filters[0], filters[1]);
}

// ---------------------------------------------------------------------------------------------
// 13. The version limit bites on the provisioning template (the provider prunes IoT policy
//     versions itself, and creates template versions without pruning).

#[test]
fn the_version_warning_is_on_the_provisioning_template_not_the_policy() {
    let r = build(&spec("fleet_by_claim", ""));
    let iot = file(&r, "aws/iot.tf");
    assert!(!iot.contains("delete-policy-version"), "{iot}");
    let prov = file(&r, "aws/provisioning.tf");
    let at = prov
        .find("resource \"aws_iot_provisioning_template\"")
        .unwrap();
    let before = &prov[..at];
    let after = &prov[at..];
    let note = &after[..after.find('}').unwrap()];
    assert!(
        note.contains("5 versions") && note.contains("delete-provisioning-template-version"),
        "{before}{note}"
    );
    let readme = file(&r, "aws/README.md");
    assert!(
        readme.contains("delete-provisioning-template-version --template-name acct-test-fleet"),
        "{readme}"
    );
}

// ---------------------------------------------------------------------------------------------
// 8. Firehose is sized against its Direct PUT quota, and throttling raises an alarm.

/// A spec of `devices` sending one message a minute each at peak factor 1, archived.
fn firehose_spec(region: &str, devices: u64) -> String {
    format!(
        "version: 1\nstack: {{name: hose, environment: test}}\nclouds:\n  aws:\n    region: {region}\n    stream: {{service: firehose}}\nfleet:\n  devices: {devices}\n  growth_percent_per_year: 0\nmessaging:\n  messages_per_device_per_hour: 60\n  peak_factor: 1\n  message_bytes: 200\npipeline:\n  routes:\n    - name: telemetry\n      to: [archive]\ncost: {{headroom_percent: 0}}\n"
    )
}

fn validated(text: &str) -> fleetform::validate::Outcome {
    fleetform::validate::validate(
        "fleet.yaml",
        text,
        &common::Dir(common::root().join("examples/minimal")),
    )
}

#[test]
fn firehose_takes_direct_puts_only_within_its_regional_quota() {
    use fleetform::spec::AwsStreamService;
    let service = |region: &str, devices: u64| {
        let o = validated(&firehose_spec(region, devices));
        let warned = o.diagnostics.iter().any(|d| d.code == "firehose-quota");
        let v = o.validated.expect("valid");
        (v.model.aws.unwrap().stream.service, warned)
    };
    // 60,000 devices at 1/min = 1,000 messages/s: within 80% of us-east-1's 2,000 requests/s,
    // past 80% of eu-central-1's 1,000.
    assert_eq!(
        service("us-east-1", 60_000),
        (AwsStreamService::Firehose, false)
    );
    assert_eq!(
        service("eu-central-1", 60_000),
        (AwsStreamService::KinesisAndFirehose, true)
    );
    // 120,000 devices (2,000/s) pass us-east-1's too.
    assert_eq!(
        service("us-east-1", 120_000),
        (AwsStreamService::KinesisAndFirehose, true)
    );
    // What is built follows: Firehose reads the stream, which is sized for the peak.
    let r = build(&firehose_spec("eu-central-1", 60_000));
    let all = blocks(&r);
    let hose = block(
        &all,
        "resource",
        "aws_kinesis_firehose_delivery_stream",
        "archive",
    );
    assert_eq!(
        attr(hose, "destination").as_deref(),
        Some("\"extended_s3\"")
    );
    assert!(
        hose.body
            .blocks()
            .any(|b| b.identifier.as_str() == "kinesis_source_configuration"),
        "Firehose must read the Kinesis stream"
    );
    assert!(all.contains_key(&(
        "resource".into(),
        "aws_kinesis_stream".into(),
        "telemetry".into()
    )));
}

#[test]
fn direct_put_firehose_alarms_on_throttled_records() {
    let r = build(&firehose_spec("us-east-1", 1_000));
    let all = blocks(&r);
    let a = block(
        &all,
        "resource",
        "aws_cloudwatch_metric_alarm",
        "firehose_throttled",
    );
    assert_eq!(attr(a, "namespace").as_deref(), Some("\"AWS/Firehose\""));
    assert_eq!(
        attr(a, "metric_name").as_deref(),
        Some("\"ThrottledRecords\"")
    );
    assert!(
        attr(a, "dimensions")
            .unwrap()
            .contains("aws_kinesis_firehose_delivery_stream.archive.name")
    );
}

// ---------------------------------------------------------------------------------------------
// 15. The lifecycle note says what the 128 KiB transition minimum does to these objects.

#[test]
fn the_lifecycle_note_says_when_objects_are_too_small_to_tier() {
    // greenhouse: a small fleet, one folder per device: objects of about 1 KiB.
    let small = common::build_file(&common::root().join("examples/greenhouse/fleet.yaml"));
    let note = file(&small, "aws/storage.tf");
    assert!(
        note.contains("the transitions below apply to none of them"),
        "{note}"
    );
    assert!(!note.contains("well above it"), "{note}");
    // fleet-analytics-aws: hourly folders of a large fleet, megabytes per object.
    let big = common::build_file(&common::root().join("examples/fleet-analytics-aws/fleet.yaml"));
    assert!(file(&big, "aws/storage.tf").contains("so the transitions below apply."));
}
