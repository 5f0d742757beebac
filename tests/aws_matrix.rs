//! The AWS planner across its choices: every provisioning method with every ingest choice,
//! plus the optional features, each module checked by `terraform fmt` and `terraform
//! validate` against the real hashicorp/aws 5.100 schema; and the properties that must hold
//! whatever the spec says (spec text stays literal, no private keys, least-privilege device
//! policy, a 100,000-device registry stays one small `for_each`).
//!
//! Long (about 700 lines): one matrix, its case list and the properties every case must keep;
//! the cases share the build and the Terraform checks.

mod common;

use std::fmt::Write as _;
use std::path::Path;
use std::time::Instant;

use common::{build_text, write_temp};
use fleetform::emit::Rendered;

/// Provisioning methods, with the extra YAML under `clouds.aws.provisioning`.
const METHODS: &[(&str, &str)] = &[
    ("manual", "method: manual\n      certificate_mode: sni_only"),
    ("jitp", "method: jitp"),
    ("jitr", "method: jitr"),
    (
        "claim",
        "method: fleet_by_claim\n      pre_provisioning_hook: true",
    ),
    ("trusted", "method: trusted_user"),
];

/// Ingest choices: the YAML of `clouds.aws.stream`.
const INGEST: &[(&str, &str)] = &[
    ("firehose", "service: firehose"),
    (
        "kinesis",
        "service: kinesis\n      kinesis_capacity: provisioned",
    ),
    (
        "ondemand",
        "service: kinesis\n      kinesis_capacity: on_demand",
    ),
    (
        "both",
        "service: kinesis_and_firehose\n      kinesis_retention_hours: 72",
    ),
];

/// Optional parts, spread over the matrix so every one is validated in several contexts.
#[derive(Clone, Copy, Default)]
struct Extras {
    basic_ingest: bool,
    fleet_indexing: bool,
    state_store: bool,
    ota: bool,
    analytics: bool,
    web_api: bool,
    role_alias: bool,
    registry: bool,
    shadow: bool,
    lifecycle: u8,
}

fn spec(method: &str, ingest: &str, x: Extras) -> String {
    let mut s = String::new();
    let _ = write!(
        s,
        "version: 1
stack:
  name: matrix
  environment: test
  owner: qa
clouds:
  aws:
    region: eu-west-1
    provisioning:
      {method}
    iot:
      fleet_indexing: {}
      basic_ingest: {}
    stream:
      {ingest}
fleet:
  devices: 3000
  growth_percent_per_year: 20
  device_types:
    - name: sensor
      searchable_attributes: [model]
  groups:
    - name: site
    - name: site-hall
      parent: site
",
        x.fleet_indexing, x.basic_ingest
    );
    if x.registry || method.contains("manual") {
        s.push_str(
            "  registry:
    devices:
      - id: sensor-001
        type: sensor
        groups: [site-hall]
        attributes: {model: m1}
      - id: sensor-002
        type: sensor
",
        );
    }
    s.push_str("identity:\n  method: x509\n  x509:\n    subject:\n      organization: QA\n      country: DE\n");
    let mut grants = Vec::new();
    if x.ota {
        grants.push("firmware_read");
    }
    if x.state_store {
        grants.push("state_read");
    }
    grants.push("archive_upload");
    if x.role_alias {
        let _ = write!(
            s,
            "authorization:\n  device:\n    publish: [\"events/{{device_id}}/door\"]\n    subscribe: [\"config/{{device_id}}/#\"]\n  cloud_credentials:\n    role_alias: matrix-devices\n    duration_seconds: 7200\n    grants: [{}]\n",
            grants.join(", ")
        );
    }
    let _ = write!(
        s,
        "messaging:
  messages_per_device_per_hour: 60
  message_bytes: 800
  topics:
    telemetry: dt/{{device_type}}/{{device_id}}/data
  cloud_to_device:
    commands: true
    commands_per_device_per_day: 4
  state:
    enabled: {}
    updates_per_device_per_day: 10
pipeline:
  routes:
    - name: telemetry
      to: [stream, archive{}]
    - name: hot
      condition: temperature > 80 and site = 'hall'
      to: [stream]
{}  alerts:
    - name: overheat
      condition: temperature > 90
    - name: door_open
      condition: door = 'open' and not armed
      function: false
  state_store: {{enabled: {}}}
  ota: {{enabled: {}}}
  analytics: {{enabled: {}}}
  web_api: {{enabled: {}}}
",
        x.shadow,
        if x.state_store { ", state_store" } else { "" },
        if x.shadow {
            "    - name: shadows\n      source: state_changes\n      to: [archive]\n    - name: presence\n      source: connection_state\n      to: [stream]\n    - name: registry\n      source: lifecycle\n      to: [archive]\n"
        } else {
            ""
        },
        x.state_store,
        x.ota,
        x.analytics,
        x.web_api,
    );
    s.push_str(match x.lifecycle {
        0 => "storage:\n  archive:\n    lifecycle:\n      - {tier: cool, after_days: 30}\n      - {tier: cold, after_days: 90}\n      - {tier: archive, after_days: 180}\n      - {tier: deep_archive, after_days: 365}\n    expire_after_days: 2555\n",
        1 => "storage:\n  archive:\n    encryption: platform_managed\n    versioning: false\n    prefixes: [raw/, errors/]\n    lifecycle:\n      - {tier: cold, after_days: 7, allow_early_deletion: true}\n    expire_after_days: 60\n",
        2 => "storage:\n  archive:\n    noncurrent_versions_expire_after_days: 120\n    lifecycle:\n      - {tier: cool, after_days: 45}\n",
        4 => "storage:\n  archive:\n    enabled: false\n",
        _ => "",
    });
    s.push_str(
        "monitoring:\n  log_retention_days: 365\n  notify:\n    email: [ops@example.com]\ncost:\n  monthly_budget_usd: 400\n",
    );
    s
}

/// The extras of matrix cell `i`: each feature is on in about half the cells.
fn extras(i: usize) -> Extras {
    Extras {
        basic_ingest: i.is_multiple_of(3),
        fleet_indexing: i.is_multiple_of(2),
        state_store: i % 2 == 1,
        ota: i % 4 == 1,
        analytics: i % 4 != 1,
        web_api: i % 2 == 1 && !i.is_multiple_of(3),
        role_alias: i % 3 != 1,
        registry: i % 4 == 3,
        shadow: i.is_multiple_of(2) || i % 5 == 4,
        lifecycle: (i % 4) as u8,
    }
}

/// Every cell of the matrix: (name, spec).
fn matrix() -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut i = 0;
    for (m, method) in METHODS {
        for (g, ingest) in INGEST {
            out.push((format!("{m}-{g}"), spec(method, ingest, extras(i))));
            i += 1;
        }
    }
    // Everything at once, and nothing optional at all.
    let all = Extras {
        basic_ingest: true,
        fleet_indexing: true,
        state_store: true,
        ota: true,
        analytics: true,
        web_api: true,
        role_alias: true,
        registry: true,
        shadow: true,
        lifecycle: 0,
    };
    out.push((
        "everything".to_owned(),
        spec("method: jitp", "service: kinesis_and_firehose", all),
    ));
    // No archive at all: a Kinesis stream and nothing that lands in S3 but access logs.
    out.push((
        "stream-only".to_owned(),
        spec(
            "method: jitp\n      certificate_mode: sni_only",
            "service: kinesis\n      kinesis_capacity: on_demand",
            Extras {
                lifecycle: 4,
                ..Extras::default()
            },
        )
        .replace("to: [stream, archive]", "to: [stream]"),
    ));
    // A Kinesis stream choice with nothing routed to the stream: Firehose alone archives.
    out.push((
        "kinesis-archive-only".to_owned(),
        spec(
            "method: fleet_by_claim",
            "service: kinesis\n      kinesis_capacity: provisioned",
            Extras::default(),
        )
        .replace("to: [stream, archive]", "to: [archive]")
        .replace("to: [stream]", "to: [archive]"),
    ));
    out.push((
        "bare".to_owned(),
        spec(
            "method: fleet_by_claim",
            "service: firehose",
            Extras {
                lifecycle: 3,
                ..Extras::default()
            },
        ),
    ));
    out
}

fn build(name: &str, text: &str) -> Rendered {
    build_text(name, text, Path::new(env!("CARGO_MANIFEST_DIR")))
}

fn aws_text(r: &Rendered) -> String {
    let mut out = String::new();
    for (p, f) in &r.files {
        if p.starts_with("aws/") && p.ends_with(".tf") {
            let _ = writeln!(out, "# {p}\n{}", String::from_utf8_lossy(&f.bytes));
        }
    }
    out
}

/// Every matrix module passes `terraform fmt`, real `init` + `validate`, and its README's
/// `terraform test` (the shipped intent tests, plus a plan with the real provider).
#[test]
fn every_cell_validates_plans_and_passes_its_shipped_tests() {
    let Some(tf) = common::terraform_or_skip("terraform validate / test") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let cells = matrix();
    for (name, text) in &cells {
        for (path, file) in &build(name, text).files {
            let p = dir.path().join(name).join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &file.bytes).unwrap();
        }
    }
    if let Err(diff) = common::terraform_fmt_check(dir.path()) {
        panic!("terraform fmt would change the output:\n{diff}");
    }
    let started = Instant::now();
    let (checks, failures) = common::check_all(tf, dir.path());
    let passed = checks
        .iter()
        .filter(|c| matches!(c.test, Some(Ok(()))))
        .count();
    common::announce(&format!(
        "aws matrix: {passed} of {} modules pass real validate, plan and their shipped tests ({:.0?})",
        checks.len(),
        started.elapsed()
    ));
    assert_eq!(checks.len(), cells.len(), "one root per cell");
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn matrix_builds_are_deterministic_and_cover_every_feature() {
    let mut seen = std::collections::BTreeSet::new();
    for (name, text) in matrix() {
        let a = build(&name, &text);
        assert_eq!(a, build(&name, &text), "{name} builds differently twice");
        let gaps = common::uncovered_arguments(&a);
        assert!(gaps.is_empty(), "{name}: no replacement rule for {gaps:?}");
        let hcl = aws_text(&a);
        for (needle, feature) in [
            ("aws_kinesis_firehose_delivery_stream", "firehose"),
            ("stream_mode = \"ON_DEMAND\"", "kinesis on-demand"),
            ("stream_mode = \"PROVISIONED\"", "kinesis provisioned"),
            ("kinesis_source_configuration", "firehose reads kinesis"),
            ("$aws/rules/", "basic ingest"),
            ("aws_iot_indexing_configuration", "fleet indexing"),
            ("aws_dynamodb_table", "state store"),
            ("aws_signer_signing_profile", "ota"),
            ("aws_athena_workgroup", "analytics"),
            ("aws_cognito_identity_pool", "web api"),
            ("aws_iot_role_alias", "role alias"),
            ("aws_iot_thing\" \"registry", "registry"),
            ("pre_provisioning_hook {", "hook"),
            ("aws_iam_policy\" \"installer", "trusted user"),
            ("aws_iot_topic_rule\" \"jitr", "jitr"),
            ("registration_config", "jitp"),
            ("aws_iot_certificate\" \"device", "manual"),
            ("\"SNI_ONLY\"", "sni only"),
            ("STANDARD_IA", "lifecycle cool"),
            ("DEEP_ARCHIVE", "lifecycle deep archive"),
            ("sse_algorithm = \"AES256\"", "platform-managed archive"),
            ("prefix = \"errors/\"", "lifecycle prefixes"),
            ("aws_iot_event_configurations", "registry events"),
            ("aws_budgets_budget", "budget"),
        ] {
            if hcl.contains(needle) {
                seen.insert(feature);
            }
        }
    }
    assert_eq!(
        seen.len(),
        24,
        "the matrix misses a feature; covered: {seen:?}"
    );
}

#[test]
fn every_feature_has_a_parity_row() {
    let (_, text) = matrix()
        .into_iter()
        .find(|(n, _)| n == "everything")
        .unwrap();
    let outcome = fleetform::validate::validate("everything", &text, &common::Dir(common::root()));
    let model = outcome.validated.expect("valid").model;
    let modules = fleetform::plan_modules(&model).unwrap();
    let keys: Vec<&str> = modules[0].parity.iter().map(|r| r.feature).collect();
    for key in [
        "identity",
        "provisioning",
        "authorization",
        "cloud_credentials",
        "device_state",
        "cloud_to_device",
        "routes",
        "stream",
        "archive",
        "lifecycle",
        "alerts",
        "state_store",
        "ota",
        "analytics",
        "web_api",
        "monitoring",
        "budget",
    ] {
        assert!(keys.contains(&key), "no parity row for `{key}`: {keys:?}");
    }
}

#[test]
fn spec_text_that_looks_like_hcl_stays_literal() {
    let text = spec("method: jitp", "service: firehose", Extras::default())
        .replace(
            "owner: qa",
            "owner: \"${file(\\\"/etc/passwd\\\")}\"\n  description: \"%{ for x in y }${x}%{ endfor } \\\" \\\\ end\"",
        )
        .replace("site = 'hall'", "site = '${var.region}'")
        .replace(
            "condition: temperature > 90",
            "condition: temperature > 90 and note != '\"\"\";import os;#'",
        );
    let r = build("hcl-injection", &text);
    let hcl = aws_text(&r);
    assert!(
        hcl.contains("$${file(\\\"/etc/passwd\\\")}"),
        "owner tag not escaped:\n{hcl}"
    );
    assert!(
        hcl.contains("site = '$${var.region}'"),
        "condition not escaped"
    );
    assert!(!hcl.contains("= '${var.region}'"));
    for (path, f) in &r.files {
        if path.ends_with(".tf") {
            let body = String::from_utf8_lossy(&f.bytes);
            hcl::parse(&body).unwrap_or_else(|e| panic!("{path} does not parse: {e}"));
        }
    }
    artifacts_parse("hcl-injection", &r);
    if common::terraform().is_some() {
        let dir = write_temp(&r);
        common::terraform_validate(&dir.path().join("aws")).unwrap();
    }
}

/// JSON artifacts are JSON, Python functions compile, scripts pass `bash -n`.
fn artifacts_parse(name: &str, r: &Rendered) {
    let dir = write_temp(r);
    for (path, f) in &r.files {
        let full = dir.path().join(path);
        let ok = |tool: &str, args: &[&str]| match std::process::Command::new(tool)
            .args(args)
            .arg(&full)
            .output()
        {
            Ok(out) => assert!(
                out.status.success(),
                "{name}/{path} does not parse:\n{}",
                String::from_utf8_lossy(&out.stderr)
            ),
            Err(_) => common::skip(tool, "not installed"),
        };
        if path.ends_with(".json") {
            serde_json::from_slice::<serde_json::Value>(&f.bytes)
                .unwrap_or_else(|e| panic!("{name}/{path} is not JSON: {e}"));
        } else if path.ends_with(".py") {
            ok("python3", &["-m", "py_compile"]);
        } else if path.ends_with(".sh") {
            ok("bash", &["-n"]);
        }
    }
}

#[test]
fn generated_artifacts_parse() {
    for (name, text) in matrix() {
        artifacts_parse(&name, &build(&name, &text));
    }
}

#[test]
fn no_private_key_and_only_the_aws_provider() {
    for (name, text) in matrix() {
        let r = build(&name, &text);
        for (path, f) in &r.files {
            let body = String::from_utf8_lossy(&f.bytes);
            assert!(
                !body.contains("PRIVATE KEY"),
                "{name}/{path} carries a private key"
            );
            if path.ends_with(".tf") {
                for banned in [
                    "resource \"tls_",
                    "resource \"null_",
                    "resource \"random_",
                    "data \"archive_",
                    "private_key",
                ] {
                    assert!(!body.contains(banned), "{name}/{path} uses `{banned}`");
                }
            }
        }
    }
}

#[test]
fn device_policy_is_scoped_to_the_thing() {
    let (_, text) = matrix()
        .into_iter()
        .find(|(n, _)| n == "everything")
        .unwrap();
    let r = build("everything", &text);
    let iot = String::from_utf8_lossy(&r.files["aws/iot.tf"].bytes).into_owned();
    let policy = iot
        .split("data \"aws_iam_policy_document\" \"device_policy\"")
        .nth(1)
        .and_then(|s| s.split("\n}\n").next())
        .unwrap();
    assert!(!policy.contains("\"iot:*\""), "wildcard action:\n{policy}");
    assert!(!policy.contains("\"*\""), "wildcard resource:\n{policy}");
    assert!(policy.contains("\"${local.iot_arn}:client/${local.thing_name}\""));
    let main = String::from_utf8_lossy(&r.files["aws/main.tf"].bytes).into_owned();
    assert!(main.contains("thing_name             = \"$${iot:Connection.Thing.ThingName}\""));
    assert!(iot.contains(
        "\"dt/$${iot:Connection.Thing.ThingTypeName}/$${iot:Connection.Thing.ThingName}/data\""
    ));
    assert!(
        iot.contains("$aws/rules/matrix_test_telemetry/dt/"),
        "basic ingest topic missing"
    );
    assert!(policy.contains("iot:AssumeRoleWithCertificate"));
}

#[test]
fn a_100k_device_registry_is_one_small_for_each() {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("id,type,groups,model\n");
    for i in 0..100_000 {
        let _ = writeln!(csv, "dev-{i:06},sensor,site-hall,m{}", i % 7);
    }
    std::fs::write(dir.path().join("devices.csv"), csv).unwrap();
    let text = spec(
        "method: manual\n      certificate_mode: sni_only",
        "service: firehose",
        Extras::default(),
    )
    .replace(
        "  registry:\n    devices:",
        // Above the default bulk threshold: kept in Terraform by raising it.
        "  registry:\n    file: devices.csv\n    bulk_threshold: 1000000\n    devices:",
    );
    let outcome =
        fleetform::validate::validate("big", &text, &common::Dir(dir.path().to_path_buf()));
    let model = outcome.validated.expect("valid").model;
    assert_eq!(model.fleet.registry.len(), 100_002);
    // How fast this is lives in `benches/build.rs` (speed targets are benchmarks, not timed
    // tests): here, only the shape of what 100,000 devices become.
    let modules = fleetform::plan_modules(&model).unwrap();
    let rendered = fleetform::emit::render(&modules).unwrap();
    let registry_tf = rendered.files["aws/registry.tf"].bytes.len();
    assert!(registry_tf < 4096, "registry.tf is {registry_tf} bytes");
    let hcl_total: usize = rendered
        .files
        .iter()
        .filter(|(p, _)| p.ends_with(".tf"))
        .map(|(_, f)| f.bytes.len())
        .sum();
    assert!(hcl_total < 200_000, "the .tf files are {hcl_total} bytes");
    assert_eq!(
        aws_text(&rendered)
            .matches("resource \"aws_iot_thing\"")
            .count(),
        1,
        "one for_each, not one block per device"
    );
}

#[test]
fn only_what_routes_feed_is_created() {
    let cells = matrix();
    let hcl = |name: &str| {
        let (_, text) = cells.iter().find(|(n, _)| n == name).unwrap();
        aws_text(&build(name, text))
    };
    let stream_only = hcl("stream-only");
    assert!(stream_only.contains("resource \"aws_kinesis_stream\" \"telemetry\""));
    assert!(!stream_only.contains("aws_kinesis_firehose_delivery_stream"));
    assert!(!stream_only.contains("resource \"aws_s3_bucket\" \"archive\""));
    // kinesis_and_firehose: rules put to the stream only, Firehose reads it.
    let both = hcl("jitp-both");
    assert!(both.contains("kinesis_source_configuration"));
    assert!(!both.contains("firehose {\n    delivery_stream_name"));
}

/// The parity row says analytics is built exactly when the module has the Athena workgroup:
/// Glue and Athena read what Firehose archives, so a stream-only stack cannot have them.
#[test]
fn analytics_is_mapped_exactly_when_built() {
    let mut cells = matrix();
    let (_, stream_only) = cells.iter().find(|(n, _)| n == "stream-only").unwrap();
    let with_analytics =
        stream_only.replace("analytics: {enabled: false}", "analytics: {enabled: true}");
    assert_ne!(&with_analytics, stream_only);
    cells.push(("stream-only-analytics".to_owned(), with_analytics));
    for (name, text) in cells {
        let outcome = fleetform::validate::validate(&name, &text, &common::Dir(common::root()));
        let model = outcome.validated.expect("valid").model;
        let modules = fleetform::plan_modules(&model).unwrap();
        let rendered = fleetform::emit::render(&modules).unwrap();
        let built = aws_text(&rendered).contains("resource \"aws_athena_workgroup\"");
        let row = modules[0].parity.iter().find(|r| r.feature == "analytics");
        match (model.features.analytics, built, row.map(|r| &r.mapping)) {
            (false, false, None)
            | (true, true, Some(fleetform::plan::Mapping::Mapped(_)))
            | (true, false, Some(fleetform::plan::Mapping::NotMapped(_))) => {}
            (asked, built, row) => {
                panic!("{name}: analytics asked {asked}, built {built}, parity row {row:?}")
            }
        }
    }
}

/// The diagram and `fleetform explain` describe what the build writes, cell by cell: a
/// Kinesis, Firehose, archive, state or Glue + Athena box exactly when the module has the
/// resource, and from each route's rule an arrow to exactly the streams and table its topic
/// rule writes to (the same for the destinations `explain` names).
#[test]
fn diagram_and_explain_match_the_planned_module() {
    use fleetform::diagram::{Graph, Kind};
    use fleetform::plan::Cloud;
    for (name, text) in matrix() {
        let outcome = fleetform::validate::validate(&name, &text, &common::Dir(common::root()));
        let model = outcome.validated.expect("valid").model;
        let rendered = fleetform::emit::render(&fleetform::plan_modules(&model).unwrap()).unwrap();
        let hcl = aws_text(&rendered);
        let graph = Graph::new(&model, &[Cloud::Aws]);
        let node = |title: &str| graph.nodes.iter().position(|n| n.title == title);
        let explained = fleetform::explain::explanation(&model, &[Cloud::Aws]);
        let part = &explained.clouds[0];
        let sized = |what: &str| part.sizing.iter().any(|s| s.starts_with(what));
        let has = |resource: &str| hcl.contains(&format!("resource \"{resource}\""));
        let kinesis = has("aws_kinesis_stream");
        let firehose = has("aws_kinesis_firehose_delivery_stream");
        for (built, title, what) in [
            (kinesis, "Kinesis Data Streams", "Kinesis stream"),
            (firehose, "Amazon Data Firehose", "Firehose"),
            (
                has("aws_s3_bucket\" \"archive"),
                "S3 Standard",
                "archive bucket",
            ),
            (
                has("aws_dynamodb_table\" \"state"),
                "DynamoDB state table",
                "state table",
            ),
            (has("aws_athena_workgroup"), "Glue + Athena", "analytics"),
        ] {
            assert_eq!(
                node(title).is_some(),
                built,
                "{name}: the diagram's {what} box disagrees with the module (built: {built})"
            );
        }
        assert_eq!(
            sized("**Kinesis Data Streams"),
            kinesis,
            "{name}: explain, Kinesis"
        );
        assert_eq!(
            sized("**Amazon Data Firehose"),
            firehose,
            "{name}: explain, Firehose"
        );

        let pipeline = hcl::parse(&String::from_utf8_lossy(
            &rendered.files["aws/pipeline.tf"].bytes,
        ))
        .unwrap();
        for route in &model.routes {
            let rule = pipeline
                .blocks()
                .filter(|b| b.identifier.as_str() == "resource")
                .filter(|b| b.labels[0].as_str() == "aws_iot_topic_rule")
                .find(|b| {
                    b.body.attributes().any(|a| {
                        a.key.as_str() == "description"
                            && matches!(&a.expr, hcl::Expression::String(d)
                                if *d == format!("Route {}", route.name)
                                    || d.starts_with(&format!("Route {} (", route.name)))
                    })
                })
                .unwrap_or_else(|| panic!("{name}: no topic rule for route {}", route.name));
            let acts = |block: &str| rule.body.blocks().any(|b| b.identifier.as_str() == block);
            let rule_node = node(&format!("IoT rule {}", route.name)).unwrap();
            let drawn = |title: &str| {
                node(title).is_some_and(|to| {
                    graph
                        .edges
                        .iter()
                        .any(|e| e.from.0 == rule_node && e.to.0 == to)
                })
            };
            let words = &part
                .routes
                .iter()
                .find(|r| r.name == route.name)
                .unwrap()
                .destinations;
            for (block, title, said) in [
                ("kinesis", "Kinesis Data Streams", "the Kinesis data stream"),
                (
                    "firehose",
                    "Amazon Data Firehose",
                    "Firehose (into the archive bucket)",
                ),
                (
                    "dynamodbv2",
                    "DynamoDB state table",
                    "the DynamoDB state table",
                ),
            ] {
                assert_eq!(
                    drawn(title),
                    acts(block),
                    "{name}: route {} -> {title} in the diagram, `{block}` action in the rule",
                    route.name
                );
                assert_eq!(
                    words.contains(said),
                    acts(block),
                    "{name}: route {} is explained as {words:?}",
                    route.name
                );
            }
        }
        assert!(
            graph.nodes.iter().any(|n| n.kind == Kind::Hub),
            "{name}: IoT Core is drawn"
        );
    }
}
