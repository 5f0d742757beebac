//! `alerts.tf`: what evaluates alert conditions and who hears about matches.
//!
//! Every alert has its own small event hub (`eventhubs.tf`). With the default engine an
//! IoT Hub route carries the alert's condition and fills that hub (`routing.tf`); with
//! `alert_engine: stream_analytics` a Stream Analytics job reads the telemetry stream and
//! writes matches there instead. Either way the generated function (`functions.tf`) records
//! each match, and a metric alert on the hub's incoming messages notifies people, so
//! notification does not depend on the function's code running.

use serde_json::json;

use super::{Design, Hcl, addr, depends_on, named, role_assignment, saql, tf_label};
use crate::blueprint;
use crate::plan::PlanError;
use crate::plan::tf::{self, Part, TfFile, lit, r};

pub(super) fn file(d: &Design) -> TfFile {
    let mut f = TfFile::new();
    if d.stream_analytics {
        stream_analytics(d, &mut f);
    }
    for a in d.m.alerts.iter().filter(|a| a.notify) {
        let label = format!("alert_{}", tf_label(&a.name));
        let hub = format!("alert-{}", a.cloud_name);
        let mut b = tf::resource("azurerm_monitor_metric_alert", &label)
            .note(&format!(
                "Notify when alert `{}` matched in the last five minutes.",
                a.name
            ))
            .attr(
                "name",
                tf::interp([
                    Part::Ref(r("local.name_prefix")),
                    Part::Lit("-"),
                    Part::Ref(addr("azurerm_eventhub", &label, "name")),
                ]),
            )
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr(
                "scopes",
                tf::list([r("azurerm_eventhub_namespace.this.id")]),
            )
            .attr(
                "description",
                lit(format!("Fleet alert `{}`: {}", a.name, a.condition_text)),
            )
            .attr("severity", tf::num(2))
            .attr("frequency", lit("PT1M"))
            .attr("window_size", lit("PT5M"))
            .block(
                tf::block("criteria")
                    .attr("metric_namespace", lit("Microsoft.EventHub/namespaces"))
                    .attr("metric_name", lit("IncomingMessages"))
                    .attr("aggregation", lit("Total"))
                    .attr("operator", lit("GreaterThan"))
                    .attr("threshold", tf::num(0))
                    .block(
                        tf::block("dimension")
                            .attr("name", lit("EntityName"))
                            .attr("operator", lit("Include"))
                            .attr("values", tf::strings([hub.as_str()]))
                            .build(),
                    )
                    .build(),
            );
        if d.action_group {
            b = b.block(
                tf::block("action")
                    .attr("action_group_id", r("azurerm_monitor_action_group.this.id"))
                    .build(),
            );
        } else {
            b = b.note("monitoring.notify.email is empty: the alert shows in Azure Monitor only.");
        }
        f.push(b.tagged().build());
    }
    f
}

fn stream_analytics(d: &Design, f: &mut TfFile) {
    f.push(
        tf::resource("azurerm_stream_analytics_job", "alerts")
            .note("Evaluates the alert conditions on the telemetry stream")
            .note(
                "(clouds.azure.alert_engine: stream_analytics); the query is in stream-analytics/.",
            )
            .attr("name", named("asa", "alerts"))
            .placed()
            .attr("compatibility_level", lit("1.2"))
            .attr("streaming_units", r("var.stream_analytics_streaming_units"))
            .attr("events_out_of_order_policy", lit("Adjust"))
            .attr("output_error_policy", lit("Drop"))
            .attr(
                "transformation_query",
                tf::call(
                    "file",
                    [tf::interp([
                        Part::Ref(r("path.module")),
                        Part::Lit("/stream-analytics/alerts.asaql"),
                    ])],
                ),
            )
            .block(super::system_identity())
            .tagged()
            .build(),
    );
    let principal = || r("azurerm_stream_analytics_job.alerts.identity.0.principal_id");
    f.push(role_assignment(
        "asa_telemetry_receiver",
        None,
        r("azurerm_eventhub.telemetry.id"),
        "Azure Event Hubs Data Receiver",
        principal(),
    ));
    f.push(
        tf::resource(
            "azurerm_stream_analytics_stream_input_eventhub_v2",
            "telemetry",
        )
        .attr("name", lit("telemetry"))
        .attr(
            "stream_analytics_job_id",
            r("azurerm_stream_analytics_job.alerts.id"),
        )
        .attr("eventhub_name", r("azurerm_eventhub.telemetry.name"))
        .attr(
            "servicebus_namespace",
            r("azurerm_eventhub_namespace.this.name"),
        )
        .attr(
            "eventhub_consumer_group_name",
            d.consumer_group("stream_analytics"),
        )
        .attr("authentication_mode", lit("Msi"))
        .block(
            tf::block("serialization")
                .attr("type", lit("Json"))
                .attr("encoding", lit("UTF8"))
                .build(),
        )
        .attr(
            "depends_on",
            depends_on(&["azurerm_role_assignment.asa_telemetry_receiver"]),
        )
        .build(),
    );
    let mut starts_after =
        vec!["azurerm_stream_analytics_stream_input_eventhub_v2.telemetry".to_owned()];
    for a in &d.m.alerts {
        let label = format!("alert_{}", tf_label(&a.name));
        let role = format!("asa_{label}_sender");
        f.push(role_assignment(
            &role,
            None,
            addr("azurerm_eventhub", &label, "id"),
            "Azure Event Hubs Data Sender",
            principal(),
        ));
        f.push(
            tf::resource("azurerm_stream_analytics_output_eventhub", &label)
                .attr("name", lit(format!("alert-{}", a.cloud_name)))
                .attr(
                    "stream_analytics_job_name",
                    r("azurerm_stream_analytics_job.alerts.name"),
                )
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("eventhub_name", addr("azurerm_eventhub", &label, "name"))
                .attr(
                    "servicebus_namespace",
                    r("azurerm_eventhub_namespace.this.name"),
                )
                .attr("authentication_mode", lit("Msi"))
                .block(
                    tf::block("serialization")
                        .attr("type", lit("Json"))
                        .attr("encoding", lit("UTF8"))
                        .attr("format", lit("LineSeparated"))
                        .build(),
                )
                .attr(
                    "depends_on",
                    depends_on(&[&format!("azurerm_role_assignment.{role}")]),
                )
                .build(),
        );
        starts_after.push(format!("azurerm_stream_analytics_output_eventhub.{label}"));
    }
    let deps: Vec<&str> = starts_after.iter().map(String::as_str).collect();
    f.push(
        tf::resource("azurerm_stream_analytics_job_schedule", "alerts")
            .note("Jobs are created stopped; start it once its input and outputs exist.")
            .attr(
                "stream_analytics_job_id",
                r("azurerm_stream_analytics_job.alerts.id"),
            )
            .attr("start_mode", lit("JobStartTime"))
            .attr("depends_on", depends_on(&deps))
            .build(),
    );
}

/// The Stream Analytics query: one `SELECT ... INTO` per alert, under a `--` comment holding
/// its condition in fleetform's syntax, on one line (strings cannot hold a line break).
pub(super) fn stream_analytics_query(d: &Design) -> Result<String, PlanError> {
    blueprint::render(
        "azure/stream-analytics/alerts.asaql.j2",
        json!({
            "stack": d.prefix(),
            "alerts": d.m.alerts.iter().map(|a| json!({
                "name": a.name,
                "literal": format!("'{}'", a.name.replace('\'', "''")),
                "output": format!("alert-{}", a.cloud_name),
                // The spec's text may span lines; a `--` comment may not.
                "condition": a.condition.canonical(),
                "where": saql::render(&a.condition),
            })).collect::<Vec<_>>(),
        }),
    )
}
