//! The AWS bill of materials: what the planner builds, from its decisions, as the estimator
//! prices it ([`super::cost::AwsWorkload`]).

use std::sync::Arc;

use super::cost::{
    AwsStream, AwsWorkload, DynamoDbWorkload, Kinesis, KinesisMode, LambdaWorkload, S3Archive,
    S3Transition, Versioning, class_label,
};
use super::hcl::label;
use super::{Flags, route_actions};
use crate::capacity;
use crate::clouds::Cloud;
use crate::cost::from_model::{
    alert_functions, bytes_per_day, state_reads_per_month, state_writes_per_month, telemetry_routes,
};
use crate::cost::{Batching, Workload};
use crate::design::{Bill, BillItem};
use crate::model::{Aws, AwsProvisioningMethod, KinesisCapacity, Model, RouteSource};

/// The bill of `m` on AWS, from the planner's `flags`.
pub(super) fn bill(m: &Model, aws: &Aws, flags: &Flags) -> Bill {
    let w = crate::cost::from_model::workload(m);
    let meter = workload(m, aws, flags, &w);
    Bill {
        cloud: Cloud::Aws,
        region: aws.region.clone(),
        items: {
            let mut items = items(m, flags, &meter);
            items.extend(not_priced(m, aws, flags));
            items
        },
        catalog: super::catalog::CATALOG,
        meter: Arc::new(meter),
    }
}

/// The priced resources, with the addresses the planner gives them.
fn items(m: &Model, flags: &Flags, meter: &AwsWorkload) -> Vec<BillItem> {
    let mut out = Vec::new();
    let rules: Vec<String> = telemetry_routes(m)
        .map(|r| format!("aws_iot_topic_rule.route_{}", label(&r.name)))
        .chain(
            m.alerts
                .iter()
                .map(|a| format!("aws_iot_topic_rule.alert_{}", label(&a.name))),
        )
        .collect();
    out.push(BillItem {
        resource_type: "aws_iot_topic_rule",
        addresses: rules,
        size: format!(
            "{} telemetry rule(s), {} action(s) each on average{}",
            meter.rules_per_message,
            crate::cost::format::num(meter.actions_per_rule),
            if meter.basic_ingest {
                ", Basic Ingest"
            } else {
                ""
            }
        ),
        drivers: vec![
            "connection-minutes",
            "messages (5 KB blocks)",
            "shadow operations (1 KB blocks)",
            "rules triggered (5 KB blocks)",
            "actions applied",
        ],
        priced: true,
    });
    let kinesis = match &meter.stream {
        AwsStream::Kinesis(k)
        | AwsStream::KinesisToFirehose(k)
        | AwsStream::KinesisBesideFirehose(k) => Some(k),
        AwsStream::None | AwsStream::Firehose => None,
    };
    if let Some(k) = kinesis {
        let (size, drivers) = match k.mode {
            KinesisMode::Provisioned { shards, .. } => (
                format!(
                    "{} shard(s), provisioned, {} h retention",
                    shards.unwrap_or_default(),
                    k.retention_hours
                ),
                vec!["shard-hours", "PUT payload units (25 KB)"],
            ),
            KinesisMode::OnDemand => (
                format!("on-demand, {} h retention", k.retention_hours),
                vec![
                    "stream-hours",
                    "GB in (1 KB records)",
                    "GB out per consumer",
                ],
            ),
        };
        out.push(BillItem {
            resource_type: "aws_kinesis_stream",
            addresses: vec!["aws_kinesis_stream.telemetry".to_owned()],
            size,
            drivers,
            priced: true,
        });
    }
    if flags.firehose {
        out.push(BillItem {
            resource_type: "aws_kinesis_firehose_delivery_stream",
            addresses: vec!["aws_kinesis_firehose_delivery_stream.archive".to_owned()],
            size: if flags.firehose_reads_kinesis {
                "reads the Kinesis stream".to_owned()
            } else {
                "Direct PUT from the topic rules".to_owned()
            },
            drivers: vec!["GB ingested (5 KB records)"],
            priced: true,
        });
    }
    if let Some(lambda) = &meter.lambda {
        out.push(BillItem {
            resource_type: "aws_lambda_function",
            addresses: m
                .alerts
                .iter()
                .filter(|a| a.function)
                .map(|a| format!("aws_lambda_function.alert_{}", label(&a.name)))
                .collect(),
            size: format!(
                "{}, {} MB",
                lambda.architecture.as_str(),
                lambda.function.memory_mb
            ),
            drivers: vec!["requests", "GB-seconds"],
            priced: true,
        });
    }
    if meter.dynamodb.is_some() {
        out.push(BillItem {
            resource_type: "aws_dynamodb_table",
            addresses: vec!["aws_dynamodb_table.state".to_owned()],
            size: "on-demand".to_owned(),
            drivers: vec!["write request units", "read request units", "GB-months"],
            priced: true,
        });
    }
    if let Some(archive) = &meter.archive {
        let mut classes = vec!["S3 Standard".to_owned()];
        classes.extend(
            archive
                .transitions
                .iter()
                .map(|t| format!("S3 {} after {} d", class_label(t.class), t.after_days)),
        );
        out.push(BillItem {
            resource_type: "aws_s3_bucket",
            addresses: vec!["aws_s3_bucket.archive".to_owned()],
            size: classes.join(", "),
            drivers: vec!["GB-months per class", "PUT requests", "transition requests"],
            priced: true,
        });
    }
    out
}

/// Labels of the Lambda functions the planner generates: the alert handlers, the JITR
/// activator, the fleet provisioning hook and the web API's reader.
fn function_labels(m: &Model, aws: &Aws) -> Vec<String> {
    let mut out: Vec<String> = m
        .alerts
        .iter()
        .filter(|a| a.function)
        .map(|a| format!("alert_{}", label(&a.name)))
        .collect();
    match aws.provisioning.method {
        AwsProvisioningMethod::Jitr => out.push("jitr_activator".to_owned()),
        AwsProvisioningMethod::FleetByClaim | AwsProvisioningMethod::TrustedUser => {
            out.push("pre_provisioning_hook".to_owned());
        }
        AwsProvisioningMethod::Manual | AwsProvisioningMethod::Jitp => {}
    }
    if m.features.web_api {
        out.push("read_state".to_owned());
    }
    out
}

/// The billed resources the estimate does not price yet, by address; their catalog entries
/// say what each bills for.
fn not_priced(m: &Model, aws: &Aws, flags: &Flags) -> Vec<BillItem> {
    let functions = function_labels(m, aws);
    let addresses = |ty: &str, labels: &[&str]| -> Vec<String> {
        labels.iter().map(|l| format!("{ty}.{l}")).collect()
    };
    let mut out = Vec::new();
    let mut line = |ty: &'static str, addresses: Vec<String>| {
        if !addresses.is_empty() {
            out.push(BillItem::not_priced(ty, addresses));
        }
    };
    let web = m.features.web_api;
    let hook = functions.iter().any(|f| f == "pre_provisioning_hook");
    line("aws_kms_key", addresses("aws_kms_key", &["fleet"]));
    // Rules the estimate does not price: they follow device events, not telemetry.
    let mut rules: Vec<String> = m
        .routes
        .iter()
        .filter(|r| r.source != RouteSource::Telemetry)
        .map(|r| format!("aws_iot_topic_rule.route_{}", label(&r.name)))
        .collect();
    if aws.provisioning.method == AwsProvisioningMethod::Jitr {
        rules.push("aws_iot_topic_rule.jitr".to_owned());
    }
    line("aws_iot_topic_rule", rules);
    if aws.fleet_indexing {
        line(
            "aws_iot_indexing_configuration",
            addresses("aws_iot_indexing_configuration", &["this"]),
        );
    }
    let mut logs = vec!["iot", "rule_errors"];
    logs.extend(flags.firehose.then_some("firehose"));
    logs.extend(web.then_some("web_api"));
    let mut logs = addresses("aws_cloudwatch_log_group", &logs);
    logs.extend(
        functions
            .iter()
            .map(|f| format!("aws_cloudwatch_log_group.{f}")),
    );
    line("aws_cloudwatch_log_group", logs);
    let mut buckets = vec!["access_logs"];
    buckets.extend(flags.analytics.then_some("athena_results"));
    buckets.extend(flags.ota.then_some("firmware"));
    line("aws_s3_bucket", addresses("aws_s3_bucket", &buckets));
    let mut tables = Vec::new();
    tables.extend((flags.state_table && m.alerts.iter().any(|a| a.function)).then_some("alerts"));
    tables.extend(web.then_some("device_owners"));
    tables.extend(hook.then_some("provisioning_allow_list"));
    line(
        "aws_dynamodb_table",
        addresses("aws_dynamodb_table", &tables),
    );
    line(
        "aws_lambda_function",
        functions
            .iter()
            .filter(|f| !f.starts_with("alert_"))
            .map(|f| format!("aws_lambda_function.{f}"))
            .collect(),
    );
    if !functions.is_empty() {
        line(
            "aws_sqs_queue",
            addresses("aws_sqs_queue", &["function_dlq"]),
        );
    }
    if flags.sns {
        line("aws_sns_topic", addresses("aws_sns_topic", &["alerts"]));
    }
    if flags.analytics {
        line(
            "aws_glue_catalog_database",
            addresses("aws_glue_catalog_database", &["telemetry"]),
        );
        let mut glue = vec!["telemetry"];
        glue.extend(flags.partition_by_device.then_some("telemetry_by_device"));
        line(
            "aws_glue_catalog_table",
            addresses("aws_glue_catalog_table", &glue),
        );
        line(
            "aws_athena_workgroup",
            addresses("aws_athena_workgroup", &["analytics"]),
        );
    }
    if flags.ota {
        line(
            "aws_signer_signing_profile",
            addresses("aws_signer_signing_profile", &["firmware"]),
        );
    }
    if web {
        line(
            "aws_apigatewayv2_api",
            addresses("aws_apigatewayv2_api", &["web"]),
        );
        line(
            "aws_cognito_user_pool",
            addresses("aws_cognito_user_pool", &["web"]),
        );
    }
    if flags.alarms {
        let mut alarms = vec!["rule_errors".to_owned()];
        alarms.extend(flags.firehose.then(|| "firehose_freshness".to_owned()));
        alarms.extend(
            (flags.firehose && !flags.firehose_reads_kinesis)
                .then(|| "firehose_throttled".to_owned()),
        );
        alarms.extend(flags.kinesis.then(|| "kinesis_throttled".to_owned()));
        alarms.extend(functions.iter().map(|f| format!("{f}_errors")));
        if !functions.is_empty() {
            alarms.push("function_dead_letters".to_owned());
        }
        if hook {
            alarms.push("provisioning_refusals".to_owned());
        }
        line(
            "aws_cloudwatch_metric_alarm",
            alarms
                .iter()
                .map(|a| format!("aws_cloudwatch_metric_alarm.{a}"))
                .collect(),
        );
    }
    if m.cost.monthly_budget_usd.is_some() {
        line(
            "aws_budgets_budget",
            addresses("aws_budgets_budget", &["monthly"]),
        );
    }
    out
}

/// What the AWS stack of `model` bills, from the planner's `flags`, for today's fleet `w`.
fn workload(model: &Model, aws: &Aws, flags: &Flags, w: &Workload) -> AwsWorkload {
    let kinesis = || Kinesis {
        mode: match aws.stream.kinesis_capacity {
            KinesisCapacity::Provisioned => KinesisMode::Provisioned {
                shards: Some(aws.stream.kinesis_shards),
                shard_limit: None,
            },
            KinesisCapacity::OnDemand => KinesisMode::OnDemand,
        },
        retention_hours: aws.stream.kinesis_retention_hours,
        // A Firehose reading the stream is its consumer.
        consumers: u32::from(flags.firehose_reads_kinesis),
    };
    // The streams the planner builds, whatever the spec's stream service says: a stream no
    // route feeds is not created, so it is not billed.
    let stream = match (flags.kinesis, flags.firehose, flags.firehose_reads_kinesis) {
        (true, true, true) => AwsStream::KinesisToFirehose(kinesis()),
        (true, true, false) => AwsStream::KinesisBesideFirehose(kinesis()),
        (true, false, _) => AwsStream::Kinesis(kinesis()),
        (false, true, _) => AwsStream::Firehose,
        (false, false, _) => AwsStream::None,
    };
    // One rule per telemetry route and per alert; each action its topic rule carries counts,
    // at least one per rule. A Firehose reading the Kinesis stream needs no action of its own.
    let mut rules = 0u32;
    let mut actions = 0.0;
    for route in telemetry_routes(model) {
        rules += 1;
        actions += route_actions(flags, route).len().max(1) as f64;
    }
    // An alert rule has one action: the function (which also notifies) or the SNS topic.
    let alerts = u32::try_from(model.alerts.len()).unwrap_or(u32::MAX);
    rules += alerts;
    actions += f64::from(alerts);
    // The archive is billed when Firehose writes telemetry into it; with the archive turned
    // off in the spec, a Firehose stream still lands in a bucket, with no lifecycle.
    let archive = flags.firehose.then(|| {
        let a = model.archive.as_ref();
        let buffer_bytes = f64::from(aws.stream.firehose_buffer_mib) * capacity::MIB as f64;
        let intervals = capacity::SECONDS_PER_DAY / f64::from(aws.stream.firehose_buffer_seconds);
        // Small fleets are partitioned by device: one object per device per buffer interval.
        let per_partition = if flags.partition_by_device {
            w.devices as f64 * intervals
        } else {
            // By hour: about one object per interval (an interval that straddles an hour
            // writes two, which the estimate leaves out: at most 24 a day).
            intervals.max(bytes_per_day(w) / buffer_bytes)
        };
        S3Archive {
            batching: Batching::ObjectsPerDay(per_partition.max(1.0)),
            transitions: a
                .map(|a| {
                    a.lifecycle
                        .iter()
                        .map(|t| S3Transition {
                            class: t.tier.s3_class(),
                            after_days: t.after_days,
                        })
                        .collect()
                })
                .unwrap_or_default(),
            expire_after_days: a.and_then(|a| a.expire_after_days),
            versioning: match a {
                Some(a) if !a.versioning => Versioning::Disabled,
                Some(a) => Versioning::Enabled {
                    noncurrent_expire_after_days: Some(a.noncurrent_versions_expire_after_days),
                },
                None => Versioning::Enabled {
                    noncurrent_expire_after_days: None,
                },
            },
            small_object_transitions: false,
        }
    });
    AwsWorkload {
        rules_per_message: f64::from(rules),
        actions_per_rule: if rules == 0 {
            1.0
        } else {
            (actions / f64::from(rules)).max(1.0)
        },
        basic_ingest: aws.basic_ingest,
        shadow_replies_subscribed: false,
        stream,
        lambda: alert_functions(model, flags.lambda_memory_mb).map(|function| LambdaWorkload {
            function,
            architecture: flags.lambda_architecture,
        }),
        dynamodb: model.features.state_store.then(|| DynamoDbWorkload {
            writes_per_month: state_writes_per_month(model, w),
            reads_per_month: state_reads_per_month(model, w),
            item_bytes: w.message_bytes.max(w.shadow_document_bytes),
            items: w.devices,
            eventually_consistent_reads: true,
        }),
        archive,
    }
}
