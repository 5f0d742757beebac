//! Alerts, device state and monitoring.
//!
//! Each alert is a topic rule on the telemetry filter with the alert's condition; it invokes
//! a generated function (which records the alert in the alerts table and publishes to SNS) or,
//! without a function, publishes to SNS directly. The latest state of every device lives in a
//! DynamoDB table ([`super::tables`]); alerts live in their own table, because the telemetry
//! rules replace a device's state item with every message. Monitoring turns the failure signals of each part (rule error actions, function
//! errors and dead letters, Firehose freshness, Kinesis throttling) into alarms on the same
//! SNS topic, and the spec's monthly budget into an AWS Budgets budget.

use hcl::{Block, Expression};

use super::functions::{self, Function};
use super::hcl::{BlockExt, label, named, rf, t, tpl};
use super::iam::{self, Stmt};
use super::intent::{self, eq_all};
use super::{Ctx, pipeline, tables};
use crate::model::RouteSource;
use crate::plan::PlanError;
use crate::plan::tf::{self, lit, r};

const FILE: &str = "alerts.tf";
const PURPOSE: &str = "Alerts: topic rules on alert conditions, alert functions and the SNS topic.";
const STATE_FILE: &str = "state.tf";
const STATE_PURPOSE: &str = "The latest state of every device, and the alerts recorded on them (DynamoDB, on-demand, PITR, KMS).";
const MONITORING_FILE: &str = "monitoring.tf";
const MONITORING_PURPOSE: &str =
    "CloudWatch alarms on every failure signal, and the monthly budget.";

pub(super) fn plan(cx: &mut Ctx) -> Result<(), PlanError> {
    emails(cx);
    if cx.flags.sns {
        sns(cx);
    }
    if cx.flags.state_table {
        state_table(cx);
    }
    alerts(cx)
}

fn emails(cx: &mut Ctx) {
    let emails = cx.m.monitoring.emails.clone();
    cx.var(
        "alert_emails",
        "list(string)",
        "E-mail addresses subscribed to alerts, alarms and budget notifications (each must confirm the subscription).",
        Some(tf::strings(&emails)),
        vec![tf::validation(
            tf::call(
                "alltrue",
                [tf::for_list(
                    "email",
                    r("var.alert_emails"),
                    tf::call("can", [tf::call("regex", [lit("^[^@\\s]+@[^@\\s]+$"), r("email")])]),
                )],
            ),
            "Each entry must be an e-mail address.",
            tf::strings(["ops at example.com"]),
        )],
    );
}

fn sns(cx: &mut Ctx) {
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_sns_topic", "alerts")
            .attr("name", named("alerts"))
            .attr("kms_master_key_id", r("aws_kms_key.fleet.arn"))
            .build(),
    );
    f.push(iam::document(
        "alerts_topic",
        vec![
            Stmt::allow(
                "AccountPublishes",
                &["sns:Publish", "sns:Subscribe", "sns:GetTopicAttributes"],
                vec![r("aws_sns_topic.alerts.arn")],
            )
            .principal(
                "AWS",
                vec![tpl([
                    rf("local.arn_prefix"),
                    t("iam::"),
                    rf("local.account_id"),
                    t(":root"),
                ])],
            ),
            iam::same_account(
                Stmt::allow(
                    "AlarmsAndBudgetsPublish",
                    &["sns:Publish"],
                    vec![r("aws_sns_topic.alerts.arn")],
                )
                .principal(
                    "Service",
                    vec![
                        lit("cloudwatch.amazonaws.com"),
                        lit("budgets.amazonaws.com"),
                    ],
                ),
            ),
        ],
    ));
    f.push(
        tf::resource("aws_sns_topic_policy", "alerts")
            .attr("arn", r("aws_sns_topic.alerts.arn"))
            .attr(
                "policy",
                r("data.aws_iam_policy_document.alerts_topic.json"),
            )
            .build(),
    );
    f.push(
        tf::resource("aws_sns_topic_subscription", "email")
            .attr("for_each", tf::call("toset", [r("var.alert_emails")]))
            .attr("topic_arn", r("aws_sns_topic.alerts.arn"))
            .attr("protocol", lit("email"))
            .attr("endpoint", r("each.value"))
            .build(),
    );
    cx.out(
        "alerts_topic_arn",
        "SNS topic of alerts, alarms and budget notifications: subscribe more endpoints here.",
        r("aws_sns_topic.alerts.arn"),
    );
}

fn state_table(cx: &mut Ctx) {
    tables::table(
        cx,
        STATE_FILE,
        STATE_PURPOSE,
        tables::Table {
            label: "state",
            name: "device-state",
            note: "One item per device, keyed by its thing name, replaced by each state_store route (PutItem).",
            hash: "device_id",
            range: None,
        },
    );
    cx.intent.assert(
        "pipeline.state_store",
        "a latest-state table with point-in-time recovery and the stack's KMS key",
        eq_all([
            (
                r("aws_dynamodb_table.state.point_in_time_recovery.0.enabled"),
                tf::boolean(true),
            ),
            (
                r("aws_dynamodb_table.state.server_side_encryption.0.enabled"),
                tf::boolean(true),
            ),
        ]),
    );
    cx.out(
        "state_table_name",
        "DynamoDB table with the latest state of every device (key: device_id).",
        r("aws_dynamodb_table.state.name"),
    );
    if alerts_table(cx) {
        tables::table(
            cx,
            STATE_FILE,
            STATE_PURPOSE,
            tables::Table {
                label: "alerts",
                name: "device-alerts",
                note: "One item per device and alert, updated in place by the alert functions: apart from the state items, which every telemetry write replaces.",
                hash: "device_id",
                range: Some("alert"),
            },
        );
        cx.out(
            "alerts_table_name",
            "DynamoDB table with the last occurrence of each alert on each device (keys: device_id, alert).",
            r("aws_dynamodb_table.alerts.name"),
        );
    }
}

/// Whether alert functions record alerts in their own table: there is a state store and
/// some alert runs a function. The table is separate because the telemetry rules write
/// device state with PutItem (the only write the DynamoDBv2 rule action has), which replaces
/// the whole item; an alert recorded on the state item would be erased by the next message.
pub(super) fn alerts_table(cx: &Ctx) -> bool {
    cx.flags.state_table && cx.m.alerts.iter().any(|a| a.function)
}

fn alerts(cx: &mut Ctx) -> Result<(), PlanError> {
    let m = cx.m;
    let mut docs = Vec::new();
    for (i, alert) in m.alerts.iter().enumerate() {
        let rule = pipeline::alert_rule_name(cx, &alert.cloud_name);
        let l = format!("alert_{}", label(&alert.name));
        let sql = pipeline::sql(cx, RouteSource::Telemetry, Some(&alert.condition));
        if alert.function {
            let mut env: Vec<(&'static str, Expression)> = vec![("ALERT_NAME", lit(&alert.name))];
            let mut statements = Vec::new();
            let record = alerts_table(cx);
            if record {
                env.push(("ALERTS_TABLE", r("aws_dynamodb_table.alerts.name")));
                statements.push(Stmt::allow(
                    "RecordAlert",
                    &["dynamodb:UpdateItem"],
                    vec![r("aws_dynamodb_table.alerts.arn")],
                ));
            }
            if alert.notify {
                env.push(("TOPIC_ARN", r("aws_sns_topic.alerts.arn")));
                statements.push(Stmt::allow(
                    "Notify",
                    &["sns:Publish"],
                    vec![r("aws_sns_topic.alerts.arn")],
                ));
            }
            functions::function(
                cx,
                Function {
                    label: l.clone(),
                    name: format!("alert-{}", alert.cloud_name.replace('_', "-")),
                    file: FILE,
                    file_purpose: PURPOSE,
                    description: format!("Alert {}: {}", alert.name, alert.condition_text),
                    blueprint: "aws/functions/alert.py.j2",
                    context: serde_json::json!({
                        "alert": alert.name,
                        "condition": alert.condition_text,
                        "alerts_table": record,
                        "notify": alert.notify,
                    }),
                    env,
                    statements,
                    timeout: 10,
                    concurrency: functions::Concurrency::Alerts,
                },
            )?;
        }
        cx.intent.assert(
            &format!("pipeline.alerts[{i}].condition (`{}`)", alert.name),
            format!("topic rule SQL `{sql}`"),
            intent::rule_sql(&l, &sql),
        );
        let f = cx.tf(FILE, PURPOSE);
        f.push(
            tf::resource("aws_iot_topic_rule", &l)
                .attr("name", lit(&rule))
                .attr(
                    "description",
                    lit(format!("Alert {}: {}", alert.name, alert.condition_text)),
                )
                .attr("enabled", tf::boolean(true))
                .attr("sql", lit(&sql))
                .attr("sql_version", lit("2016-03-23"))
                .when(alert.function, |b| {
                    b.child(
                        tf::block("lambda")
                            .attr("function_arn", r(&format!("aws_lambda_function.{l}.arn")))
                            .build(),
                    )
                })
                .when(!alert.function && alert.notify, |b| {
                    b.child(
                        tf::block("sns")
                            .attr("target_arn", r("aws_sns_topic.alerts.arn"))
                            .attr("message_format", lit("JSON"))
                            .attr("role_arn", r("aws_iam_role.iot_rules.arn"))
                            .build(),
                    )
                })
                .child(pipeline::error_action())
                .build(),
        );
        if alert.function {
            f.push(
                tf::resource("aws_lambda_permission", &l)
                    .attr("statement_id", lit("AllowIotAlertRule"))
                    .attr("action", lit("lambda:InvokeFunction"))
                    .attr(
                        "function_name",
                        r(&format!("aws_lambda_function.{l}.function_name")),
                    )
                    .attr("principal", lit("iot.amazonaws.com"))
                    .attr("source_arn", r(&format!("aws_iot_topic_rule.{l}.arn")))
                    .attr("source_account", r("local.account_id"))
                    .build(),
            );
        }
        docs.push(serde_json::json!({
            "name": alert.name,
            "rule": rule,
            "condition": alert.condition_text,
            "sql": sql,
            "function": alert.function,
            "notify": alert.notify,
        }));
    }
    cx.fact("alerts", docs);
    Ok(())
}

/// A CloudWatch alarm to the alerts topic.
struct Alarm<'a> {
    label: String,
    name: String,
    description: String,
    namespace: Expression,
    metric: &'a str,
    dimensions: Vec<(&'a str, Expression)>,
    statistic: &'a str,
    threshold: u32,
    period: u32,
}

impl Alarm<'_> {
    fn block(self) -> Block {
        tf::resource("aws_cloudwatch_metric_alarm", &self.label)
            .attr("alarm_name", named(&self.name))
            .attr("alarm_description", lit(self.description))
            .attr("namespace", self.namespace)
            .attr("metric_name", lit(self.metric))
            .when(!self.dimensions.is_empty(), |b| {
                b.attr("dimensions", tf::obj(self.dimensions))
            })
            .attr("statistic", lit(self.statistic))
            .attr("period", tf::num(self.period))
            .attr("evaluation_periods", tf::num(1))
            .attr("threshold", tf::num(self.threshold))
            .attr("comparison_operator", lit("GreaterThanThreshold"))
            .attr("treat_missing_data", lit("notBreaching"))
            .attr("alarm_actions", tf::list([r("aws_sns_topic.alerts.arn")]))
            .attr("ok_actions", tf::list([r("aws_sns_topic.alerts.arn")]))
            .build()
    }
}

/// Alarms on every failure signal, and the budget.
pub(super) fn monitoring(cx: &mut Ctx) {
    let flags = cx.flags;
    if flags.alarms {
        let mut alarms = vec![Alarm {
            label: "rule_errors".to_owned(),
            name: "rule-errors".to_owned(),
            description: "An IoT rule action failed: the message is in the rule error log group."
                .to_owned(),
            namespace: tpl([t("fleetform/"), rf("local.name_prefix")]),
            metric: "RuleActionErrors",
            dimensions: Vec::new(),
            statistic: "Sum",
            threshold: 0,
            period: 300,
        }];
        if flags.firehose {
            let freshness = (3 * cx.aws.stream.firehose_buffer_seconds).max(900);
            alarms.push(Alarm {
                label: "firehose_freshness".to_owned(),
                name: "firehose-freshness".to_owned(),
                description: format!("Telemetry older than {freshness} s is waiting in Firehose: delivery to the archive is failing or slow."),
                namespace: lit("AWS/Firehose"),
                metric: "DeliveryToS3.DataFreshness",
                dimensions: vec![(
                    "DeliveryStreamName",
                    r("aws_kinesis_firehose_delivery_stream.archive.name"),
                )],
                statistic: "Maximum",
                threshold: freshness,
                period: 300,
            });
        }
        if flags.firehose && !flags.firehose_reads_kinesis {
            // Rules put into Firehose directly: past its Direct PUT quota, records are
            // throttled (the rule's error action logs each, and the rule errors alarm fires too).
            alarms.push(Alarm {
                label: "firehose_throttled".to_owned(),
                name: "firehose-throttled".to_owned(),
                description: "Firehose throttled records put by the IoT rules: the stream's Direct PUT quota is reached. Request a quota increase, or put Kinesis in front (clouds.aws.stream.service: kinesis_and_firehose).".to_owned(),
                namespace: lit("AWS/Firehose"),
                metric: "ThrottledRecords",
                dimensions: vec![(
                    "DeliveryStreamName",
                    r("aws_kinesis_firehose_delivery_stream.archive.name"),
                )],
                statistic: "Sum",
                threshold: 0,
                period: 300,
            });
        }
        if flags.kinesis {
            alarms.push(Alarm {
                label: "kinesis_throttled".to_owned(),
                name: "kinesis-throttled".to_owned(),
                description: "Writes to the telemetry stream are throttled: add shards (or switch to on-demand).".to_owned(),
                namespace: lit("AWS/Kinesis"),
                metric: "WriteProvisionedThroughputExceeded",
                dimensions: vec![("StreamName", r("aws_kinesis_stream.telemetry.name"))],
                statistic: "Sum",
                threshold: 0,
                period: 300,
            });
        }
        let lambdas = cx.lambdas.clone();
        for (l, name) in &lambdas {
            alarms.push(Alarm {
                label: format!("{l}_errors"),
                name: format!("{name}-errors"),
                description: format!("The {l} function failed."),
                namespace: lit("AWS/Lambda"),
                metric: "Errors",
                dimensions: vec![(
                    "FunctionName",
                    r(&format!("aws_lambda_function.{l}.function_name")),
                )],
                statistic: "Sum",
                threshold: 0,
                period: 300,
            });
        }
        if !lambdas.is_empty() {
            alarms.push(Alarm {
                label: "function_dead_letters".to_owned(),
                name: "function-dead-letters".to_owned(),
                description:
                    "A function invocation failed after retries and is in the dead-letter queue."
                        .to_owned(),
                namespace: lit("AWS/SQS"),
                metric: "ApproximateNumberOfMessagesVisible",
                dimensions: vec![("QueueName", r("aws_sqs_queue.function_dlq.name"))],
                statistic: "Maximum",
                threshold: 0,
                period: 300,
            });
        }
        let mut pending = Vec::new();
        let hook = lambdas.iter().any(|(l, _)| l == "pre_provisioning_hook");
        if hook {
            alarms.push(Alarm {
                label: "provisioning_refusals".to_owned(),
                name: "provisioning-refusals".to_owned(),
                description: "The pre-provisioning hook refused a device: a serial number not on the allow list, or one whose thing already has a certificate (a takeover attempt, or a device to reprovision). Its log group says which.".to_owned(),
                namespace: tpl([t("fleetform/"), rf("local.name_prefix")]),
                metric: "ProvisioningRefusals",
                dimensions: Vec::new(),
                statistic: "Sum",
                threshold: 0,
                period: 300,
            });
        }
        let f = cx.tf(MONITORING_FILE, MONITORING_PURPOSE);
        if hook {
            f.push(log_metric(&LogMetric {
                label: "provisioning_refusals",
                name: "provisioning-refusals",
                note: "The hook logs each refusal as JSON with event = provisioning_refused.",
                log_group: "aws_cloudwatch_log_group.pre_provisioning_hook.name",
                pattern: "{ $.event = \"provisioning_refused\" }",
                metric: "ProvisioningRefusals",
            }));
        }
        f.push(log_metric(&LogMetric {
            label: "rule_errors",
            name: "rule-action-errors",
            note: "Every event in the rule error log group is a message a rule could not deliver.",
            log_group: "aws_cloudwatch_log_group.rule_errors.name",
            pattern: "",
            metric: "RuleActionErrors",
        }));
        for a in alarms {
            let alarm = |attr: &str| r(&format!("aws_cloudwatch_metric_alarm.{}.{attr}", a.label));
            let condition = eq_all([
                (alarm("metric_name"), lit(a.metric)),
                (alarm("statistic"), lit(a.statistic)),
                (alarm("comparison_operator"), lit("GreaterThanThreshold")),
                (alarm("threshold"), tf::num(a.threshold)),
                (alarm("period"), tf::num(a.period)),
            ]);
            let wants = format!(
                "an alarm when {} ({} over {} s) is above {}",
                a.metric, a.statistic, a.period, a.threshold
            );
            f.push(a.block());
            pending.push((wants, condition));
        }
        for (wants, condition) in pending {
            cx.intent.assert("monitoring.alarms", wants, condition);
        }
    }
    budget(cx);
}

/// A metric filter that counts the events of `log_group` matching `pattern` as `metric`
/// in the stack's `fleetform/<prefix>` namespace.
struct LogMetric<'a> {
    label: &'a str,
    name: &'a str,
    note: &'a str,
    log_group: &'a str,
    pattern: &'a str,
    metric: &'a str,
}

fn log_metric(m: &LogMetric) -> Block {
    tf::resource("aws_cloudwatch_log_metric_filter", m.label)
        .note(m.note)
        .attr("name", named(m.name))
        .attr("log_group_name", r(m.log_group))
        .attr("pattern", lit(m.pattern))
        .child(
            tf::block("metric_transformation")
                .attr("name", lit(m.metric))
                .attr("namespace", tpl([t("fleetform/"), rf("local.name_prefix")]))
                .attr("value", lit("1"))
                .build(),
        )
        .build()
}

/// Tag whose value is `<stack>-<environment>` on every resource: what the budget filters on.
pub(super) const STACK_TAG: &str = "fleetform-stack";

fn budget(cx: &mut Ctx) {
    let Some(usd) = cx.m.cost.monthly_budget_usd else {
        return;
    };
    let flags = cx.flags;
    let has_emails = !cx.m.monitoring.emails.is_empty();
    let stack = cx.m.stack.prefix.clone();
    let notification = |kind: &str, percent: u32| {
        tf::block("notification")
            .attr("comparison_operator", lit("GREATER_THAN"))
            .attr("threshold", tf::num(percent))
            .attr("threshold_type", lit("PERCENTAGE"))
            .attr("notification_type", lit(kind))
            // One path: the alerts topic when it exists (the addresses are subscribed to it),
            // else the addresses themselves; both would mail everyone twice.
            .when(has_emails && !flags.sns, |b| {
                b.attr("subscriber_email_addresses", r("var.alert_emails"))
            })
            .when(flags.sns, |b| {
                b.attr(
                    "subscriber_sns_topic_arns",
                    tf::list([r("aws_sns_topic.alerts.arn")]),
                )
            })
            .build()
    };
    let f = cx.tf(MONITORING_FILE, MONITORING_PURPOSE);
    f.comment(&format!("The budget counts costs tagged {STACK_TAG} = this stack and environment (a budget's tag values are"));
    f.comment(&format!("OR'ed, so `stack` AND `environment` cannot be one filter): activate the `{STACK_TAG}` cost allocation tag"));
    f.comment("in Billing (Cost allocation tags) once, or the budget sees nothing.");
    f.push(
        tf::resource("aws_budgets_budget", "monthly")
            .attr("name", named("monthly"))
            .attr("budget_type", lit("COST"))
            .attr("limit_amount", lit(format!("{usd:.2}")))
            .attr("limit_unit", lit("USD"))
            .attr("time_unit", lit("MONTHLY"))
            .child(
                tf::block("cost_filter")
                    .attr("name", lit("TagKeyValue"))
                    .attr(
                        "values",
                        tf::list([lit(format!("user:{STACK_TAG}${stack}"))]),
                    )
                    .build(),
            )
            .when(has_emails || flags.sns, |b| {
                b.child(notification("FORECASTED", 100))
                    .child(notification("ACTUAL", 80))
                    .child(notification("ACTUAL", 100))
            })
            .build(),
    );
    cx.intent.assert(
        "cost.monthly_budget_usd",
        format!("a monthly cost budget of {usd:.2} USD"),
        eq_all([
            (
                r("aws_budgets_budget.monthly.limit_amount"),
                lit(format!("{usd:.2}")),
            ),
            (r("aws_budgets_budget.monthly.limit_unit"), lit("USD")),
        ]),
    );
    cx.fact("budget_usd", format!("{usd:.2}"));
}
