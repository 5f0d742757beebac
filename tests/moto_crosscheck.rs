//! Cross-check of `fleetform diff` with Terraform itself (issue 14's acceptance test).
//!
//! The base spec (`tests/fixtures/crosscheck/fleet.yaml`) is built and applied with the real
//! hashicorp/aws provider to a local moto server, for the AWS services moto serves (S3,
//! Kinesis, Firehose, IAM, Lambda, SNS, SQS, CloudWatch, DynamoDB, KMS, IoT things). Then each
//! kind of spec change is built and `terraform plan`ned against that state, and what
//! Terraform plans for every served address must be what `fleetform diff` reports: the same
//! replacements, creations, destructions and moves, and the same updated arguments (less
//! what Terraform already plans against the base itself: moto's drift).
//!
//! Endpoints, fake keys and the provider's skip flags live in an override file this harness
//! writes next to the generated code, never in it. moto lacks parts of the IoT API
//! (`SetV2LoggingOptions`, tags on IoT resources) and AWS-managed IAM policies, so those
//! resources are left out with `-target`.
//!
//! Just over 600 lines: the moto server fixture, the override file and the cross-check of
//! `diff` against Terraform's plan belong to one harness.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::moto::Moto;

use fleetform::infradiff::{self, Action};
use serde_json::Value as Json;

const BASE: &str = include_str!("fixtures/crosscheck/fleet.yaml");

/// Resource types moto serves well enough to apply and refresh.
const SERVED: &[&str] = &[
    "aws_cloudwatch_log_group",
    "aws_cloudwatch_log_metric_filter",
    "aws_cloudwatch_log_stream",
    "aws_cloudwatch_metric_alarm",
    "aws_dynamodb_table",
    "aws_iam_role",
    "aws_iam_role_policy",
    "aws_iot_thing",
    "aws_kinesis_firehose_delivery_stream",
    "aws_kinesis_stream",
    "aws_kms_alias",
    "aws_kms_key",
    "aws_lambda_function",
    "aws_s3_bucket",
    "aws_s3_bucket_lifecycle_configuration",
    "aws_s3_bucket_notification",
    "aws_s3_bucket_ownership_controls",
    "aws_s3_bucket_policy",
    "aws_s3_bucket_public_access_block",
    "aws_s3_bucket_server_side_encryption_configuration",
    "aws_s3_bucket_versioning",
    "aws_sns_topic",
    "aws_sns_topic_policy",
    "aws_sns_topic_subscription",
    "aws_sqs_queue",
];

/// The provider settings that point hashicorp/aws at the moto server.
fn override_file(moto: &Moto) -> String {
    let url = moto.url();
    let services = [
        "cloudwatch",
        "cloudwatchlogs",
        "dynamodb",
        "firehose",
        "iam",
        "iot",
        "kinesis",
        "kms",
        "lambda",
        "s3",
        "sns",
        "sqs",
        "sts",
    ];
    let endpoints: String = services.iter().fold(String::new(), |acc, s| {
        acc + &format!("    {s} = \"{url}\"\n")
    });
    format!(
        "# Written by tests/moto_crosscheck.rs: a local moto server, fake keys.\nprovider \"aws\" {{\n  access_key                  = \"testing\"\n  secret_key                  = \"testing\"\n  skip_credentials_validation = true\n  skip_metadata_api_check     = true\n  skip_requesting_account_id  = true\n  skip_region_validation      = true\n  s3_use_path_style           = true\n  endpoints {{\n{endpoints}  }}\n}}\n"
    )
}

fn served(address: &str) -> bool {
    SERVED.contains(&address.split('.').next().unwrap_or_default())
}

/// `TYPE.NAME` of an instance address.
fn resource_of(address: &str) -> &str {
    address.split('[').next().unwrap_or(address)
}

struct Terraform {
    binary: PathBuf,
    config: PathBuf,
    cache: PathBuf,
}

impl Terraform {
    fn run(&self, dir: &Path, args: &[&str]) -> (bool, String, String) {
        let out = Command::new(&self.binary)
            .args(args)
            .current_dir(dir)
            .env("TF_CLI_CONFIG_FILE", &self.config)
            .env("TF_PLUGIN_CACHE_DIR", &self.cache)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .output()
            .expect("terraform runs");
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn must(&self, dir: &Path, args: &[&str]) -> String {
        let (ok, stdout, stderr) = self.run(dir, args);
        assert!(ok, "terraform {args:?} failed:\n{stdout}\n{stderr}");
        stdout
    }
}

/// A built spec written to a temp folder: its AWS module, and the modules for the diff.
struct Built {
    _dir: tempfile::TempDir,
    aws: PathBuf,
    sets: Vec<(String, Vec<fleetform::plan::Module>)>,
}

fn build(text: &str, moto: &Moto) -> Built {
    let base = common::root().join("tests/fixtures/crosscheck");
    let outcome = fleetform::validate::validate("fleet.yaml", text, &common::Dir(base.clone()));
    assert!(outcome.validated.is_some(), "the spec is valid");
    let sets = fleetform::plan_sets(&outcome).unwrap().sets;
    let rendered = common::build_text("fleet.yaml", text, &base);
    let dir = common::write_temp(&rendered);
    let aws = dir.path().join("aws");
    std::fs::write(aws.join("zz_moto_override.tf"), override_file(moto)).unwrap();
    Built {
        _dir: dir,
        aws,
        sets,
    }
}

/// Served resources of a module's configuration, as `TYPE.NAME`.
fn configured(module: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in std::fs::read_dir(module).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let body: hcl::Body = hcl::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        for b in body
            .blocks()
            .filter(|b| b.identifier.as_str() == "resource")
        {
            let address = format!("{}.{}", b.labels[0].as_str(), b.labels[1].as_str());
            if served(&address) {
                out.insert(address);
            }
        }
    }
    out
}

/// Managed resources in a state file, as `TYPE.NAME`.
fn in_state(state: &Path) -> BTreeSet<String> {
    let v: Json = serde_json::from_str(&std::fs::read_to_string(state).unwrap()).unwrap();
    v["resources"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["mode"] == "managed")
        .map(|r| {
            format!(
                "{}.{}",
                r["type"].as_str().unwrap(),
                r["name"].as_str().unwrap()
            )
        })
        .collect()
}

fn targets(resources: &BTreeSet<String>) -> Vec<String> {
    resources.iter().map(|r| format!("-target={r}")).collect()
}

/// What one side plans: addresses by kind, and the top-level arguments each update changes.
#[derive(Debug, Default, PartialEq, Eq)]
struct Planned {
    replace: BTreeSet<String>,
    create: BTreeSet<String>,
    destroy: BTreeSet<String>,
    /// New address → the address a `moved` block carries it from.
    moved: BTreeMap<String, String>,
    updates: BTreeMap<String, BTreeSet<String>>,
}

/// Top-level arguments whose planned value differs: configured ones (or `tags_all`).
fn changed_arguments(change: &Json, configured: &BTreeSet<String>) -> BTreeSet<String> {
    let empty = serde_json::Map::new();
    let obj = |k: &str| change[k].as_object().unwrap_or(&empty);
    let (before, after, unknown) = (obj("before"), obj("after"), obj("after_unknown"));
    let is_unknown = |v: Option<&Json>| match v {
        Some(Json::Bool(b)) => *b,
        Some(v @ (Json::Array(_) | Json::Object(_))) => v.to_string().contains("true"),
        _ => false,
    };
    let nullish = |v: Option<&Json>| v.is_none_or(Json::is_null);
    before
        .keys()
        .chain(after.keys())
        .filter(|k| configured.contains(*k) || k.as_str() == "tags_all")
        .filter(|k| {
            let (b, a) = (before.get(*k), after.get(*k));
            let differ = !(b == a || nullish(b) && nullish(a));
            differ || is_unknown(unknown.get(*k))
        })
        .cloned()
        .collect()
}

/// `terraform plan` of `module` (with its state) for the `resources` given, as [`Planned`];
/// `Err` holds Terraform's output when the plan fails.
fn terraform_plan(
    tf: &Terraform,
    module: &Path,
    resources: &BTreeSet<String>,
) -> Result<Planned, String> {
    let mut args = vec!["plan", "-no-color", "-input=false", "-out=crosscheck.plan"];
    let targets = targets(resources);
    args.extend(targets.iter().map(String::as_str));
    let (ok, stdout, stderr) = tf.run(module, &args);
    if !ok {
        return Err(format!("{stdout}\n{stderr}"));
    }
    let json: Json =
        serde_json::from_str(&tf.must(module, &["show", "-json", "crosscheck.plan"])).unwrap();
    let mut configured_args: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for r in json["configuration"]["root_module"]["resources"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let keys = r["expressions"]
            .as_object()
            .map(|e| e.keys().cloned().collect())
            .unwrap_or_default();
        configured_args.insert(r["address"].as_str().unwrap_or_default().to_owned(), keys);
    }
    let mut out = Planned::default();
    for rc in json["resource_changes"].as_array().into_iter().flatten() {
        if rc["mode"] != "managed" {
            continue;
        }
        let address = rc["address"].as_str().unwrap().to_owned();
        if let Some(from) = rc["previous_address"].as_str() {
            out.moved.insert(address.clone(), from.to_owned());
        }
        let actions: Vec<&str> = rc["change"]["actions"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Json::as_str)
            .collect();
        match actions.as_slice() {
            ["delete", "create"] | ["create", "delete"] => {
                out.replace.insert(address);
            }
            ["create"] => {
                out.create.insert(address);
            }
            ["delete"] => {
                out.destroy.insert(address);
            }
            ["update"] => {
                let keys = configured_args
                    .get(resource_of(&address))
                    .cloned()
                    .unwrap_or_default();
                out.updates
                    .insert(address, changed_arguments(&rc["change"], &keys));
            }
            _ => {}
        }
    }
    Ok(out)
}

/// What `fleetform diff` reports for the served addresses among `resources`.
fn fleetform_plan(diff: &infradiff::InfraDiff, resources: &BTreeSet<String>) -> Planned {
    let mut out = Planned::default();
    for a in &diff.addresses {
        if a.module != "aws" || !resources.contains(resource_of(&a.address)) {
            continue;
        }
        let address = a.address.clone();
        if let Some(from) = &a.moved_from {
            out.moved.insert(address.clone(), from.clone());
        }
        match a.action {
            Action::Replace => {
                out.replace.insert(address);
            }
            Action::Create => {
                out.create.insert(address);
            }
            Action::Destroy => {
                out.destroy.insert(address);
            }
            Action::Update => {
                let keys = a
                    .changes
                    .iter()
                    .map(|c| {
                        c.path
                            .split(['[', '.'])
                            .next()
                            .unwrap_or_default()
                            .to_owned()
                    })
                    .collect();
                out.updates.insert(address, keys);
            }
            Action::Move | Action::Read => {}
        }
    }
    out
}

/// Drops, from each update, the arguments Terraform already changes against the base itself
/// (moto's drift); an update left with nothing is no update.
fn without_drift(mut p: Planned, drift: &BTreeMap<String, BTreeSet<String>>) -> Planned {
    let none = BTreeSet::new();
    p.updates = std::mem::take(&mut p.updates)
        .into_iter()
        .filter_map(|(address, keys)| {
            let was = p.moved.get(&address).unwrap_or(&address);
            let keys: BTreeSet<String> = keys
                .difference(drift.get(was).unwrap_or(&none))
                .cloned()
                .collect();
            (!keys.is_empty()).then_some((address, keys))
        })
        .collect();
    p
}

fn edit(from: &str, to: &str) -> String {
    assert!(BASE.contains(from), "`{from}` is not in the base spec");
    BASE.replacen(from, to, 1)
}

#[test]
#[allow(clippy::print_stderr)]
fn terraform_plans_against_moto_what_fleetform_diff_reports() {
    let Some(found) = common::terraform() else {
        return common::skip(
            "moto cross-check",
            "terraform or its offline aws mirror is missing",
        );
    };
    let Some(moto_server) = Moto::binary() else {
        return common::skip(
            "moto cross-check",
            "moto_server is not on PATH (pip install 'moto[server]')",
        );
    };
    let cache = std::env::temp_dir().join("fleetform-tf-plugin-cache");
    std::fs::create_dir_all(&cache).unwrap();
    let tf = Terraform {
        binary: found.bin.clone(),
        config: found.config.clone(),
        cache,
    };
    let moto = Moto::start(&moto_server);

    // The base, applied.
    let base = build(BASE, &moto);
    tf.must(&base.aws, &["init", "-no-color", "-input=false"]);
    let resources = configured(&base.aws);
    let mut apply = vec!["apply", "-no-color", "-input=false", "-auto-approve"];
    let apply_targets = targets(&resources);
    apply.extend(apply_targets.iter().map(String::as_str));
    tf.must(&base.aws, &apply);
    let state = base.aws.join("terraform.tfstate");
    let applied = in_state(&state);
    assert!(applied.len() >= 40, "{applied:?}");

    // What Terraform plans against the base itself is moto's drift: no replacement, and
    // updates whose arguments are discounted below.
    let drift = terraform_plan(&tf, &base.aws, &resources).unwrap();
    assert!(
        drift.replace.is_empty() && drift.create.is_empty() && drift.destroy.is_empty(),
        "moto drifts beyond updates: {drift:?}"
    );
    let drift = drift.updates;

    let cases: Vec<(&str, String)> = vec![
        (
            "stack rename",
            edit("  name: crosscheck\n", "  name: crosscheck2\n"),
        ),
        (
            "shard count",
            edit(
                "messages_per_device_per_hour: 60",
                "messages_per_device_per_hour: 20000",
            ),
        ),
        (
            "lifecycle days",
            edit("        after_days: 30", "        after_days: 60"),
        ),
        (
            "alert rename",
            edit("    - name: overheat\n", "    - name: overtemp\n"),
        ),
        (
            "alert rename, renamed_from",
            edit(
                "    - name: overheat\n",
                "    - name: overtemp\n      renamed_from: overheat\n",
            ),
        ),
        ("device removed", edit("      - id: sensor-003\n", "")),
    ];
    let mut table = vec![
        "| spec change | Terraform replaces | fleetform replaces | created | destroyed | moved | updated |".to_owned(),
        "|---|---|---|---|---|---|---|".to_owned(),
    ];
    // Two cases at a time: each plans its own copy of the state.
    let next = AtomicUsize::new(0);
    let rows = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..2 {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some((name, text)) = cases.get(i) else {
                        break;
                    };
                    let head = build(text, &moto);
                    std::fs::copy(&state, head.aws.join("terraform.tfstate")).unwrap();
                    tf.must(&head.aws, &["init", "-no-color", "-input=false"]);
                    // Removed resources are planned too: they are in the state.
                    let scope: BTreeSet<String> =
                        configured(&head.aws).union(&applied).cloned().collect();
                    let planned = terraform_plan(&tf, &head.aws, &scope)
                        .unwrap_or_else(|e| panic!("{name}: {e}"));
                    let terraform = without_drift(planned, &drift);
                    let diff = infradiff::diff_sets(&base.sets, &head.sets);
                    let fleetform = without_drift(fleetform_plan(&diff, &scope), &drift);
                    let row = format!(
                        "| {name} | {} | {} | {} | {} | {} | {} |",
                        terraform.replace.len(),
                        fleetform.replace.len(),
                        terraform.create.len(),
                        terraform.destroy.len(),
                        terraform.moved.len(),
                        terraform.updates.len()
                    );
                    assert_eq!(
                        terraform, fleetform,
                        "{name}: Terraform (left) and fleetform (right) differ"
                    );
                    // Each case does what it says, so the comparison is never of two empty plans.
                    let effect = match *name {
                        "stack rename" => terraform.replace.len() >= 30,
                        "shard count" => terraform
                            .updates
                            .get("aws_kinesis_stream.telemetry")
                            .is_some_and(|k| k.contains("shard_count")),
                        "lifecycle days" => terraform
                            .updates
                            .contains_key("aws_s3_bucket_lifecycle_configuration.archive"),
                        "alert rename" => terraform
                            .destroy
                            .contains("aws_lambda_function.alert_overheat"),
                        "alert rename, renamed_from" => {
                            terraform
                                .moved
                                .get("aws_lambda_function.alert_overtemp")
                                .map(String::as_str)
                                == Some("aws_lambda_function.alert_overheat")
                                && terraform.destroy.is_empty()
                        }
                        "device removed" => {
                            terraform.destroy
                                == BTreeSet::from([
                                    "aws_iot_thing.registry[\"sensor-003\"]".to_owned()
                                ])
                        }
                        _ => unreachable!(),
                    };
                    assert!(
                        effect,
                        "{name} did not change what it should: {terraform:?}"
                    );
                    rows.lock().unwrap().push((i, row));
                }
            });
        }
    });
    let mut rows = rows.into_inner().unwrap();
    rows.sort();
    table.extend(rows.into_iter().map(|(_, row)| row));

    // A protected stack: Terraform refuses the rename, naming resources fleetform flags.
    let protected = edit(
        "  name: crosscheck\n",
        "  name: crosscheck2\n  prevent_destroy: true\n",
    );
    let head = build(&protected, &moto);
    std::fs::copy(&state, head.aws.join("terraform.tfstate")).unwrap();
    tf.must(&head.aws, &["init", "-no-color", "-input=false"]);
    let scope: BTreeSet<String> = configured(&head.aws).union(&applied).cloned().collect();
    let refused = terraform_plan(&tf, &head.aws, &scope).expect_err("Terraform refuses the plan");
    let named: BTreeSet<String> = refused
        .split("Resource ")
        .skip(1)
        .filter_map(|s| {
            s.split_once(" has lifecycle.prevent_destroy set")
                .map(|(a, _)| a.to_owned())
        })
        .collect();
    let diff = infradiff::diff_sets(&base.sets, &head.sets);
    let flagged: BTreeSet<String> = diff
        .addresses
        .iter()
        .filter(|a| a.blocked_by_prevent_destroy && scope.contains(resource_of(&a.address)))
        .map(|a| a.address.clone())
        .collect();
    // Terraform stops at the first protected resource on each path (the stream that writes
    // to a protected bucket is never reached), so it names a subset of what fleetform flags.
    assert!(!named.is_empty(), "{refused}");
    assert!(
        named.is_subset(&flagged),
        "Terraform names {named:?}, fleetform flags {flagged:?}"
    );
    table.push(format!(
        "| stack rename, prevent_destroy | plan refused: {} named | {} flagged | | | | |",
        named.len(),
        flagged.len()
    ));
    eprintln!("\n{}\n", table.join("\n"));
}
