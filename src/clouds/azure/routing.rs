//! `routing.tf`: IoT Hub endpoints, routes and enrichments, each as its own resource (the
//! fallback route to the built-in endpoint is on the hub, see `hub.rs`), plus the role
//! assignments that let the hub's identity deliver.
//!
//! Endpoints authenticate with the hub's system-assigned identity (`identityBased`), so no
//! connection string of Event Hubs, Blob or Cosmos DB is ever stored in the hub or in state.
//! Route conditions are rendered from the parsed condition into the IoT Hub routing query
//! dialect; `$body` queries only see JSON bodies that devices mark with
//! `contentType=application/json` and `contentEncoding=utf-8`.

use super::{Design, Endpoint, Hcl, addr, depends_on, eventhubs_uri, role_assignment, tf_label};
use crate::model::RouteSource;
use crate::model::condition::{Dialect, Expr};
use crate::plan::intent::{Intent, all, all_in, eq, list};
use crate::plan::tf::{self, Part, TfFile, lit, r};

/// The routing query for a condition (`true` without one).
pub(crate) fn condition(expr: Option<&Expr>) -> String {
    expr.map_or_else(|| "true".to_owned(), |e| e.render(Dialect::IotHubRouting))
}

/// IoT Hub routing source of a spec route.
pub(crate) fn source(s: RouteSource) -> &'static str {
    match s {
        RouteSource::Telemetry => "DeviceMessages",
        RouteSource::StateChanges => "TwinChangeEvents",
        RouteSource::Lifecycle => "DeviceLifecycleEvents",
        RouteSource::ConnectionState => "DeviceConnectionStateEvents",
    }
}

/// Longest IoT Hub route name (`^[-_.a-zA-Z0-9]{1,64}$` in azurerm's route resource).
const ROUTE_NAME_MAX: usize = 64;

/// Alerts are routed by IoT Hub itself unless Stream Analytics evaluates them.
fn routed_alerts<'a>(d: &'a Design) -> impl Iterator<Item = &'a crate::model::Alert> + 'a {
    d.m.alerts.iter().filter(|_| !d.stream_analytics)
}

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
    let mut f = TfFile::new();
    let principal = || r("each.value.identity.0.principal_id");

    // --- who the hub may write to -----------------------------------------------------------
    if d.stream_endpoint {
        f.push(role_assignment(
            "hub_telemetry_sender",
            Some(r("azurerm_iothub.hub")),
            r("azurerm_eventhub.telemetry.id"),
            "Azure Event Hubs Data Sender",
            principal(),
        ));
    }
    for a in routed_alerts(d) {
        f.push(role_assignment(
            &format!("hub_alert_{}_sender", tf_label(&a.name)),
            Some(r("azurerm_iothub.hub")),
            addr("azurerm_eventhub", &format!("alert_{}", a.name), "id"),
            "Azure Event Hubs Data Sender",
            principal(),
        ));
    }
    if d.storage_endpoint {
        f.push(role_assignment(
            "hub_archive_writer",
            Some(r("azurerm_iothub.hub")),
            r("azurerm_storage_container.archive.id"),
            "Storage Blob Data Contributor",
            principal(),
        ));
    }
    if d.state_endpoint {
        f.push(
            tf::resource("azurerm_cosmosdb_sql_role_assignment", "hub_state_writer")
                .note("Cosmos DB data access is its own SQL role (Built-in Data Contributor).")
                .attr("for_each", r("azurerm_iothub.hub"))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("account_name", r("azurerm_cosmosdb_account.state.name"))
                .attr(
                    "role_definition_id",
                    tf::interp([
                        Part::Ref(r("azurerm_cosmosdb_account.state.id")),
                        Part::Lit("/sqlRoleDefinitions/00000000-0000-0000-0000-000000000002"),
                    ]),
                )
                .attr("principal_id", principal())
                .attr("scope", r("azurerm_cosmosdb_account.state.id"))
                .build(),
        );
    }

    // --- endpoints ----------------------------------------------------------------------------
    if d.stream_endpoint {
        f.push(eventhub_endpoint(
            "stream",
            "stream",
            r("azurerm_eventhub.telemetry.name"),
            "azurerm_role_assignment.hub_telemetry_sender",
        ));
    }
    for a in routed_alerts(d) {
        let label = format!("alert_{}", tf_label(&a.name));
        f.push(eventhub_endpoint(
            &label,
            &format!("alert-{}", a.cloud_name),
            addr("azurerm_eventhub", &label, "name"),
            &format!("azurerm_role_assignment.hub_{label}_sender"),
        ));
    }
    if d.storage_endpoint {
        let eh = &d.az.event_hubs;
        let batch = eh.capture_interval_seconds.clamp(60, 720);
        let chunk = (u64::from(eh.capture_size_mib) * 1024 * 1024).clamp(10_485_760, 524_288_000);
        f.push(
            tf::resource("azurerm_iothub_endpoint_storage_container", "archive")
                .attr("for_each", r("azurerm_iothub.hub"))
                .attr("name", lit("archive"))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iothub_id", r("each.value.id"))
                .attr("authentication_type", lit("identityBased"))
                .attr(
                    "endpoint_uri",
                    r("azurerm_storage_account.archive.primary_blob_endpoint"),
                )
                .attr("container_name", r("azurerm_storage_container.archive.name"))
                .attr("encoding", lit("Avro"))
                .note("Same window as Event Hubs Capture: a file at least this often, or at this size.")
                .attr("batch_frequency_in_seconds", tf::num(batch))
                .attr("max_chunk_size_in_bytes", tf::num(chunk))
                .attr(
                    "file_name_format",
                    lit("{iothub}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm}"),
                )
                .attr(
                    "depends_on",
                    depends_on(&["azurerm_role_assignment.hub_archive_writer"]),
                )
                .build(),
        );
    }
    if d.state_endpoint {
        f.push(
            tf::resource("azurerm_iothub_endpoint_cosmosdb_account", "state")
                .attr("for_each", r("azurerm_iothub.hub"))
                .attr("name", lit("state"))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iothub_id", r("each.value.id"))
                .attr("authentication_type", lit("identityBased"))
                .attr("endpoint_uri", r("azurerm_cosmosdb_account.state.endpoint"))
                .attr(
                    "database_name",
                    r("azurerm_cosmosdb_sql_database.state.name"),
                )
                .attr(
                    "container_name",
                    r("azurerm_cosmosdb_sql_container.devices.name"),
                )
                .note("Every document carries deviceId, the container's partition key.")
                .attr("partition_key_name", lit("deviceId"))
                .attr("partition_key_template", lit("{deviceid}"))
                .attr(
                    "depends_on",
                    depends_on(&["azurerm_cosmosdb_sql_role_assignment.hub_state_writer"]),
                )
                .build(),
        );
    }

    // --- routes -------------------------------------------------------------------------------
    for (i, route) in d.m.routes.iter().enumerate() {
        let endpoints = d.endpoints_for(route);
        let label = tf_label(&route.name);
        if endpoints.is_empty() {
            f.comment(&format!(
                "Route `{}` has no destination on Azure (its destinations are off), so it is not created.",
                route.name
            ));
            continue;
        }
        // A route delivers to one endpoint (`endpoint_names` has `MaxItems: 1` in azurerm
        // v4.81.0 `iothub_route_resource.go`, as IoT Hub allows): a spec route to several
        // destinations becomes one hub route per endpoint, `<route>.<endpoint>`.
        let split = endpoints.len() > 1;
        for endpoint in &endpoints {
            let (label, name) = if split {
                let suffix = endpoint.route_suffix();
                // `-` never appears in a spec route's label, so the split labels are unique.
                (
                    format!("{label}-{suffix}"),
                    format!(
                        "{}.{suffix}",
                        super::bounded(&route.name, ROUTE_NAME_MAX - 1 - suffix.len())
                    ),
                )
            } else {
                (label.clone(), route.name.clone())
            };
            let mut b = tf::resource("azurerm_iothub_route", &label);
            if let Some(text) = &route.condition_text {
                b = b.note(&format!("Route `{}`: {text}", route.name));
            }
            if split {
                b = b.note(&format!(
                    "Route `{}`, to its {} endpoint: a hub route has one endpoint.",
                    route.name,
                    endpoint.route_suffix()
                ));
            }
            if *endpoint == Endpoint::Stream
                && d.capture
                && route.to.contains(&crate::model::Destination::Archive)
            {
                b = b.note(
                    "Archived by Event Hubs Capture (eventhubs.tf), not by a second endpoint.",
                );
            }
            let query = condition(route.condition.as_ref());
            t.assert(
                &format!("pipeline.routes[{i}] (`{}`)", route.name),
                format!(
                    "{} messages where `{query}` routed to the `{}` endpoint",
                    source(route.source),
                    endpoint.name()
                ),
                route_matches(&label, source(route.source), &query, endpoint.name()),
            );
            f.push(
                b.attr("for_each", r("azurerm_iothub.hub"))
                    .attr("name", lit(name))
                    .attr("resource_group_name", r("local.resource_group_name"))
                    .attr("iothub_name", r("each.value.name"))
                    .attr("source", lit(source(route.source)))
                    .attr("condition", lit(condition(route.condition.as_ref())))
                    .attr("endpoint_names", tf::list([endpoint.name_ref()]))
                    .attr("enabled", tf::boolean(true))
                    .build(),
            );
        }
    }
    for (i, a) in
        d.m.alerts
            .iter()
            .enumerate()
            .filter(|_| !d.stream_analytics)
    {
        let label = format!("alert_{}", tf_label(&a.name));
        let query = condition(Some(&a.condition));
        t.assert(
            &format!("pipeline.alerts[{i}].condition (`{}`)", a.name),
            format!("messages where `{query}` routed to the alert's event hub"),
            route_matches(
                &label,
                "DeviceMessages",
                &query,
                &format!("alert-{}", a.name),
            ),
        );
        f.push(
            tf::resource("azurerm_iothub_route", &label)
                .note(&format!("Alert `{}`: {}", a.name, a.condition_text))
                .attr("for_each", r("azurerm_iothub.hub"))
                .attr("name", lit(format!("alert-{}", a.cloud_name)))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iothub_name", r("each.value.name"))
                .attr("source", lit("DeviceMessages"))
                .attr("condition", lit(condition(Some(&a.condition))))
                .attr(
                    "endpoint_names",
                    tf::list([tf::r_index(
                        &format!("azurerm_iothub_endpoint_eventhub.{label}"),
                        r("each.key"),
                        &["name"],
                    )]),
                )
                .attr("enabled", tf::boolean(true))
                .build(),
        );
    }

    // --- enrichments ----------------------------------------------------------------------------
    let mut enriched = Vec::new();
    if d.stream_endpoint {
        enriched.push(Endpoint::Stream);
    }
    if d.storage_endpoint {
        enriched.push(Endpoint::Archive);
    }
    let device_types = d.az.dps.as_ref().is_some_and(|dps| {
        dps.enrollment_groups
            .iter()
            .any(|g| g.device_type.is_some())
    });
    if !enriched.is_empty() && d.standard && device_types {
        f.push(enrichment(
            "device_type",
            "The enrollment groups tag each twin with its device type; stamp it on every message.",
            "deviceType",
            "$twin.tags.deviceType",
            &enriched,
        ));
    }
    if !enriched.is_empty() && d.hubs.len() > 1 {
        f.push(enrichment(
            "iothub",
            "Several hubs feed one stream: say which hub a message came through.",
            "iothub",
            "$iothubname",
            &enriched,
        ));
    }

    // The fallback route to the built-in endpoint is part of the hub (iothub.tf).
    f
}

/// Every hub's route `label` takes `source` messages matching `query` to `endpoint`.
fn route_matches(label: &str, source: &str, query: &str, endpoint: &str) -> hcl::Expression {
    all_in(
        "rt",
        r(&format!("azurerm_iothub_route.{label}")),
        all([
            eq(r("rt.enabled"), tf::boolean(true)),
            eq(r("rt.source"), lit(source)),
            eq(r("rt.condition"), lit(query)),
            eq(r("rt.endpoint_names"), list([lit(endpoint)])),
        ]),
    )
}

fn eventhub_endpoint(
    label: &str,
    name: &str,
    entity_path: hcl::Expression,
    role: &str,
) -> hcl::Block {
    tf::resource("azurerm_iothub_endpoint_eventhub", label)
        .attr("for_each", r("azurerm_iothub.hub"))
        .attr("name", lit(name))
        .attr("resource_group_name", r("local.resource_group_name"))
        .attr("iothub_id", r("each.value.id"))
        .attr("authentication_type", lit("identityBased"))
        .attr("endpoint_uri", eventhubs_uri())
        .attr("entity_path", entity_path)
        .note("The hub's identity must hold its role before the endpoint is validated.")
        .attr("depends_on", depends_on(&[role]))
        .build()
}

fn enrichment(
    label: &str,
    why: &str,
    key: &str,
    value: &str,
    endpoints: &[Endpoint],
) -> hcl::Block {
    tf::resource("azurerm_iothub_enrichment", label)
        .note(why)
        .attr("for_each", r("azurerm_iothub.hub"))
        .attr("resource_group_name", r("local.resource_group_name"))
        .attr("iothub_name", r("each.value.name"))
        .attr("key", lit(key))
        .attr("value", lit(value))
        .attr(
            "endpoint_names",
            tf::list(endpoints.iter().map(|e| e.name_ref())),
        )
        .build()
}
