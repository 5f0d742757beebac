//! `monitoring.tf`: logs, alarms and the budget.
//!
//! Diagnostic settings send the resource logs and metrics of the hubs, the DPS, Event Hubs,
//! the archive's blob service, the key vault, Cosmos DB and Stream Analytics to one Log
//! Analytics workspace. Metric alerts watch what breaks a fleet quietly: throttled devices,
//! a daily quota running out, and routed messages that never reach their endpoint. The
//! budget watches the resource group's spend against `cost.monthly_budget_usd`.

use super::{Design, Hcl, bounded, named};
use crate::model::Encryption;
use crate::plan::intent::{Intent, all, all_in, any_in, eq};
use crate::plan::tf::{self, Part, TfFile, lit, r};

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
    let spec = d.m;
    let mut f = TfFile::new();
    let retention = spec.monitoring.log_retention_days.clamp(30, 730);
    let mut law = tf::resource("azurerm_log_analytics_workspace", "this")
        .attr("name", named("log", ""))
        .placed()
        .attr("sku", lit("PerGB2018"));
    if retention != spec.monitoring.log_retention_days {
        law = law.note(&format!(
            "Log Analytics keeps logs 30 to 730 days; the spec's {} days become {retention}.",
            spec.monitoring.log_retention_days
        ));
    }
    f.push(
        law.attr("retention_in_days", tf::num(retention))
            .tagged()
            .build(),
    );
    t.assert(
        "monitoring.log_retention_days",
        format!("{retention} days of logs (Log Analytics keeps 30 to 730)"),
        eq(
            r("azurerm_log_analytics_workspace.this.retention_in_days"),
            tf::num(retention),
        ),
    );

    f.push(diagnostic(
        "iothub",
        Some(r("azurerm_iothub.hub")),
        r("each.value.id"),
        true,
    ));
    if d.az.dps.is_some() {
        f.push(diagnostic(
            "dps",
            None,
            r("azurerm_iothub_dps.this.id"),
            true,
        ));
    }
    f.push(diagnostic(
        "eventhubs",
        None,
        r("azurerm_eventhub_namespace.this.id"),
        true,
    ));
    if let Some(archive) = d.archive {
        f.push(diagnostic(
            "archive_blobs",
            None,
            tf::interp([
                Part::Ref(r("azurerm_storage_account.archive.id")),
                Part::Lit("/blobServices/default"),
            ]),
            false,
        ));
        if archive.encryption == Encryption::CustomerManaged {
            f.push(diagnostic(
                "key_vault",
                None,
                r("azurerm_key_vault.archive.id"),
                true,
            ));
        }
    }
    if spec.features.state_store {
        f.push(diagnostic(
            "state",
            None,
            r("azurerm_cosmosdb_account.state.id"),
            true,
        ));
    }
    if d.stream_analytics {
        f.push(diagnostic(
            "stream_analytics",
            None,
            r("azurerm_stream_analytics_job.alerts.id"),
            true,
        ));
    }

    if d.action_group {
        let short: String = bounded(d.prefix(), 12);
        let mut ag = tf::resource("azurerm_monitor_action_group", "this")
            .attr("name", named("ag", ""))
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr("short_name", lit(short));
        for (i, email) in spec.monitoring.emails.iter().enumerate() {
            ag = ag.block(
                tf::block("email_receiver")
                    .attr("name", lit(format!("email-{}", i + 1)))
                    .attr("email_address", lit(email))
                    .attr("use_common_alert_schema", tf::boolean(true))
                    .build(),
            );
        }
        f.push(ag.tagged().build());
    }

    if spec.monitoring.alarms {
        let alarms = [
            Alarm {
                label: "hub_throttling",
                suffix: "-throttling",
                description: "Devices are being throttled: they send faster than the hub's units allow.",
                metric: "d2c.telemetry.ingress.sendThrottle",
                threshold: Threshold::Fixed(0),
                aggregation: "Total",
                dimension: None,
            },
            Alarm {
                label: "hub_daily_quota",
                suffix: "-daily-quota",
                description: "More than 80% of the daily message quota is used; at 100% devices are refused until midnight UTC.",
                metric: "dailyMessageQuotaUsed",
                // Each hub's own: 80% of its daily quota (local.iot_hubs).
                threshold: Threshold::PerHub,
                aggregation: "Maximum",
                dimension: None,
            },
            Alarm {
                label: "hub_routing_dropped",
                suffix: "-routing-dropped",
                description: "Routed messages were dropped (the endpoint was unreachable, or no route and no fallback matched).",
                metric: "d2c.telemetry.egress.dropped",
                threshold: Threshold::Fixed(0),
                aggregation: "Total",
                dimension: None,
            },
            Alarm {
                label: "hub_routing_orphaned",
                suffix: "-routing-orphaned",
                description: "Messages matched no route and the fallback route did not take them.",
                metric: "d2c.telemetry.egress.orphaned",
                threshold: Threshold::Fixed(0),
                aggregation: "Total",
                dimension: None,
            },
            Alarm {
                label: "hub_routing_failed",
                suffix: "-routing-failed",
                description: "Deliveries to custom endpoints failed; IoT Hub has no dead-letter queue, so failed messages are lost after retries.",
                metric: "RoutingDeliveries",
                threshold: Threshold::Fixed(0),
                aggregation: "Total",
                dimension: Some(("Result", "failure")),
            },
        ];
        for alarm in alarms {
            let criteria = |threshold: u64| {
                any_in(
                    "c",
                    r("a.criteria"),
                    all([
                        eq(r("c.metric_name"), lit(alarm.metric)),
                        eq(r("c.aggregation"), lit(alarm.aggregation)),
                        eq(r("c.operator"), lit("GreaterThan")),
                        eq(r("c.threshold"), tf::num(threshold)),
                    ]),
                )
            };
            let address = format!("azurerm_monitor_metric_alert.{}", alarm.label);
            match alarm.threshold {
                Threshold::Fixed(threshold) => t.assert(
                    "monitoring.alarms",
                    format!(
                        "an alarm on every hub when {} ({}) is above {threshold}",
                        alarm.metric, alarm.aggregation
                    ),
                    all_in("a", r(&address), criteria(threshold)),
                ),
                // Each hub's threshold is its own quota's: one assertion per hub.
                Threshold::PerHub => {
                    for h in &d.hubs {
                        let threshold = daily_quota_alarm(h);
                        t.assert(
                            "monitoring.alarms",
                            format!(
                                "an alarm on the hub in {} when {} ({}) is above {threshold}, 80% of its daily quota",
                                h.location, alarm.metric, alarm.aggregation
                            ),
                            tf::call(
                                "alltrue",
                                [tf::for_list(
                                    "a",
                                    tf::list([tf::r_index(&address, lit(&h.location), &[])]),
                                    criteria(threshold),
                                )],
                            ),
                        );
                    }
                }
            }
            f.push(hub_alarm(&alarm, d.action_group));
        }
        let mut throttling = tf::resource("azurerm_monitor_metric_alert", "eventhubs_throttling")
            .attr(
                "name",
                tf::interp([
                    Part::Ref(r("azurerm_eventhub_namespace.this.name")),
                    Part::Lit("-throttling"),
                ]),
            )
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr(
                "scopes",
                tf::list([r("azurerm_eventhub_namespace.this.id")]),
            )
            .attr(
                "description",
                lit("Event Hubs throttled requests: the stream needs more throughput units."),
            )
            .attr("severity", tf::num(2))
            .attr("frequency", lit("PT5M"))
            .attr("window_size", lit("PT15M"))
            .block(
                tf::block("criteria")
                    .attr("metric_namespace", lit("Microsoft.EventHub/namespaces"))
                    .attr("metric_name", lit("ThrottledRequests"))
                    .attr("aggregation", lit("Total"))
                    .attr("operator", lit("GreaterThan"))
                    .attr("threshold", tf::num(0))
                    .build(),
            );
        if d.action_group {
            throttling = throttling.block(action());
        }
        f.push(throttling.tagged().build());
    }

    if let Some(budget) = spec.cost.monthly_budget_usd {
        let mut budget_block = tf::resource("azurerm_consumption_budget_resource_group", "this")
            .note("The spec's monthly budget for this cloud, watched on the resource group.")
            .note("The start month is taken once at creation and then left alone.")
            .attr("name", named("budget", ""))
            .attr("resource_group_id", r("local.resource_group_id"))
            .attr("amount", tf::num(budget.ceil() as u64))
            .attr("time_grain", lit("Monthly"))
            .block(
                tf::block("time_period")
                    .attr(
                        "start_date",
                        tf::call(
                            "formatdate",
                            [
                                lit("YYYY-MM-01'T'00:00:00'Z'"),
                                tf::call("plantimestamp", []),
                            ],
                        ),
                    )
                    .build(),
            );
        t.assert(
            "cost.monthly_budget_usd",
            format!("a monthly budget of {} USD", budget.ceil() as u64),
            eq(
                r("azurerm_consumption_budget_resource_group.this.amount"),
                tf::num(budget.ceil() as u64),
            ),
        );
        for (threshold, kind) in [(80, "Actual"), (100, "Forecasted")] {
            let mut notification = tf::block("notification")
                .attr("enabled", tf::boolean(true))
                .attr("threshold", tf::num(threshold))
                .attr("threshold_type", lit(kind))
                .attr("operator", lit("GreaterThanOrEqualTo"));
            if d.action_group {
                notification = notification.attr(
                    "contact_groups",
                    tf::list([r("azurerm_monitor_action_group.this.id")]),
                );
            } else {
                notification = notification.attr("contact_roles", tf::strings(["Owner"]));
            }
            budget_block = budget_block.block(notification.build());
        }
        budget_block = budget_block.block(
            tf::block("lifecycle")
                .attr("ignore_changes", tf::list([r("time_period")]))
                .build(),
        );
        f.push(budget_block.build());
    }
    f
}

/// A metric alert on every hub.
/// The daily-quota alarm's threshold on hub `h`: 80% of its own daily quota.
pub(super) fn daily_quota_alarm(h: &crate::model::HubSite) -> u64 {
    (h.daily_quota as f64 * 0.8).floor() as u64
}

/// Where an alarm's threshold comes from.
#[derive(Clone, Copy)]
enum Threshold {
    Fixed(u64),
    /// The hub's own, from `local.iot_hubs` (its daily quota follows its size).
    PerHub,
}

struct Alarm {
    label: &'static str,
    suffix: &'static str,
    description: &'static str,
    metric: &'static str,
    threshold: Threshold,
    aggregation: &'static str,
    dimension: Option<(&'static str, &'static str)>,
}

fn hub_alarm(alarm: &Alarm, action_group: bool) -> hcl::Block {
    let mut criteria = tf::block("criteria")
        .attr("metric_namespace", lit("Microsoft.Devices/IotHubs"))
        .attr("metric_name", lit(alarm.metric))
        .attr("aggregation", lit(alarm.aggregation))
        .attr("operator", lit("GreaterThan"))
        .attr(
            "threshold",
            match alarm.threshold {
                Threshold::Fixed(n) => tf::num(n),
                Threshold::PerHub => {
                    tf::r_index("local.iot_hubs", r("each.key"), &["daily_quota_alarm"])
                }
            },
        );
    if let Some((name, value)) = alarm.dimension {
        criteria = criteria.block(
            tf::block("dimension")
                .attr("name", lit(name))
                .attr("operator", lit("Include"))
                .attr("values", tf::strings([value]))
                .build(),
        );
    }
    let window = if alarm.metric == "dailyMessageQuotaUsed" {
        "PT1H"
    } else {
        "PT15M"
    };
    let mut block = tf::resource("azurerm_monitor_metric_alert", alarm.label)
        .attr("for_each", r("azurerm_iothub.hub"))
        .attr(
            "name",
            tf::interp([Part::Ref(r("each.value.name")), Part::Lit(alarm.suffix)]),
        )
        .attr("resource_group_name", r("local.resource_group_name"))
        .attr("scopes", tf::list([r("each.value.id")]))
        .attr("description", lit(alarm.description))
        .attr("severity", tf::num(2))
        .attr("frequency", lit("PT5M"))
        .attr("window_size", lit(window))
        .block(criteria.build());
    if action_group {
        block = block.block(action());
    }
    block.tagged().build()
}

fn action() -> hcl::Block {
    tf::block("action")
        .attr("action_group_id", r("azurerm_monitor_action_group.this.id"))
        .build()
}

/// A diagnostic setting sending all logs (and metrics) to the workspace.
fn diagnostic(
    label: &str,
    for_each: Option<hcl::Expression>,
    target: hcl::Expression,
    metrics: bool,
) -> hcl::Block {
    let mut b = tf::resource("azurerm_monitor_diagnostic_setting", label);
    if let Some(fe) = for_each {
        b = b.attr("for_each", fe);
    }
    b = b
        .attr("name", lit("to-log-analytics"))
        .attr("target_resource_id", target)
        .attr(
            "log_analytics_workspace_id",
            r("azurerm_log_analytics_workspace.this.id"),
        )
        .block(
            tf::block("enabled_log")
                .attr("category_group", lit("allLogs"))
                .build(),
        );
    if metrics {
        b = b.block(
            tf::block("enabled_metric")
                .attr("category", lit("AllMetrics"))
                .build(),
        );
    }
    b.build()
}
