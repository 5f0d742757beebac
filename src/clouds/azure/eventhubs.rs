//! `eventhubs.tf`: the stream behind the IoT Hub routes, Capture into the archive, one small
//! event hub per alert, consumer groups and listen-only keys for the services that read.
//!
//! Throughput units come from the model (the shared capacity math), so the namespace and
//! `fleetform cost` agree. Shared-key authentication stays off unless a service of the spec
//! reads the stream with a key; everything fleetform creates signs in with Entra ID.

use super::{Design, Hcl, depends_on, role_assignment, tf_label};
use crate::model::EventHubsTier;
use crate::plan::intent::{Intent, all, eq};
use crate::plan::tf::{self, TfFile, lit, r};

/// Whether the namespace must accept connections from the public internet: consumption-plan
/// functions and the spec's own services are not trusted Microsoft services, and Basic
/// namespaces have no network rules at all.
pub(crate) fn public_access(d: &Design) -> bool {
    d.az.event_hubs.tier == EventHubsTier::Basic
        || !d.alert_functions.is_empty()
        || !d.stream_readers.is_empty()
}

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
    let eh = &d.az.event_hubs;
    let mut f = TfFile::new();
    let tier = match eh.tier {
        EventHubsTier::Basic => "Basic",
        EventHubsTier::Standard => "Standard",
        EventHubsTier::Premium => "Premium",
    };
    let local_auth = !d.stream_readers.is_empty();
    let public = public_access(d);
    let sizing = if eh.tier == EventHubsTier::Premium {
        "Premium is sized in processing units; one carries the planned peak with room to spare."
            .to_owned()
    } else {
        format!(
            "{} throughput unit(s) carry the planned peak ({:.0} messages/s, {:.0} bytes/s, with headroom).",
            eh.throughput_units,
            d.m.traffic.peak_messages_per_second,
            d.m.traffic.peak_bytes_per_second
        )
    };
    let mut ns = tf::resource("azurerm_eventhub_namespace", "this")
        .skip(
            "CKV_AZURE_228",
            "azurerm 4.x removed zone_redundant; namespaces are zone redundant wherever the region has zones",
        )
        .note(&sizing)
        .attr("name", lit(&d.az.names.eventhub_namespace))
        .placed()
        .attr("sku", lit(tier))
        .attr("capacity", tf::num(eh.throughput_units));
    if let (Some(max), EventHubsTier::Standard) = (eh.max_throughput_units, eh.tier) {
        ns = ns
            .attr("auto_inflate_enabled", tf::boolean(true))
            .attr("maximum_throughput_units", tf::num(max));
    }
    ns = ns
        .attr("minimum_tls_version", lit("1.2"))
        .note(if local_auth {
            "Shared keys stay on for the listen-only rules of the services that read the stream."
        } else {
            "Everything that sends or reads uses Entra ID; shared keys are off."
        })
        .attr("local_authentication_enabled", tf::boolean(local_auth))
        .attr("public_network_access_enabled", tf::boolean(public));
    if !public {
        ns = ns.block(
            tf::block("network_rulesets")
                .note("IoT Hub, Stream Analytics and Data Explorer reach the namespace as trusted services.")
                .attr("default_action", lit("Deny"))
                .attr("public_network_access_enabled", tf::boolean(false))
                .attr("trusted_service_access_enabled", tf::boolean(true))
                .build(),
        );
    }
    if d.capture {
        ns = ns.block(
            tf::block("identity")
                .note("Capture writes to the archive with the namespace's identity.")
                .attr("type", lit("SystemAssigned"))
                .build(),
        );
    }
    f.push(ns.tagged().build());
    let ns_attr = |a: &str| r(&format!("azurerm_eventhub_namespace.this.{a}"));
    t.assert(
        "clouds.azure.event_hubs.tier",
        format!(
            "an Event Hubs {tier} namespace with {} unit(s) (fleetform sized them for the planned peak), TLS 1.2",
            eh.throughput_units
        ),
        all([
            eq(ns_attr("sku"), lit(tier)),
            eq(ns_attr("capacity"), tf::num(eh.throughput_units)),
            eq(ns_attr("minimum_tls_version"), lit("1.2")),
        ]),
    );
    t.assert(
        "authorization.services",
        format!(
            "shared-key authentication {} and public network access {}",
            if local_auth {
                "on (listen-only keys for the services that read the stream)"
            } else {
                "off"
            },
            if public { "on" } else { "off" }
        ),
        all([
            eq(
                ns_attr("local_authentication_enabled"),
                tf::boolean(local_auth),
            ),
            eq(
                ns_attr("public_network_access_enabled"),
                tf::boolean(public),
            ),
        ]),
    );

    let mut telemetry = tf::resource("azurerm_eventhub", "telemetry")
        .attr("name", lit("telemetry"))
        .attr("namespace_id", r("azurerm_eventhub_namespace.this.id"))
        .attr("partition_count", tf::num(eh.partitions))
        .attr("message_retention", tf::num(eh.retention_days));
    if !d.stream_endpoint {
        telemetry = telemetry.note(
            "No route of the spec delivers to the stream; this hub stays empty until one does.",
        );
    }
    if d.capture {
        let size = (u64::from(eh.capture_size_mib) * 1024 * 1024).clamp(10_485_760, 524_288_000);
        telemetry = telemetry
            .block(
                tf::block("capture_description")
                    .attr("enabled", tf::boolean(true))
                    .attr("encoding", lit("Avro"))
                    .attr("interval_in_seconds", tf::num(eh.capture_interval_seconds))
                    .attr("size_limit_in_bytes", tf::num(size))
                    .attr("skip_empty_archives", tf::boolean(true))
                    .block(
                        tf::block("destination")
                            .attr("name", lit("EventHubArchive.AzureBlockBlob"))
                            .attr(
                                "archive_name_format",
                                lit("{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}"),
                            )
                            .attr(
                                "blob_container_name",
                                r("azurerm_storage_container.archive.name"),
                            )
                            .attr(
                                "storage_account_id",
                                r("azurerm_storage_account.archive.id"),
                            )
                            .attr("storage_authentication_type", lit("SystemAssigned"))
                            .build(),
                    )
                    .build(),
            )
            .attr(
                "depends_on",
                depends_on(&["azurerm_role_assignment.capture_writer"]),
            );
    }
    f.push(telemetry.build());
    t.assert(
        "clouds.azure.event_hubs.partitions / retention_days",
        format!(
            "{} partitions and {} day(s) of retention on the telemetry event hub",
            eh.partitions, eh.retention_days
        ),
        all([
            eq(
                r("azurerm_eventhub.telemetry.partition_count"),
                tf::num(eh.partitions),
            ),
            eq(
                r("azurerm_eventhub.telemetry.message_retention"),
                tf::num(eh.retention_days),
            ),
        ]),
    );
    t.assert(
        "clouds.azure.event_hubs.capture",
        if d.capture {
            format!(
                "Event Hubs Capture into the archive every {} s",
                eh.capture_interval_seconds
            )
        } else {
            "no Event Hubs Capture".to_owned()
        },
        if d.capture {
            all([
                eq(
                    r("azurerm_eventhub.telemetry.capture_description.0.enabled"),
                    tf::boolean(true),
                ),
                eq(
                    r("azurerm_eventhub.telemetry.capture_description.0.interval_in_seconds"),
                    tf::num(eh.capture_interval_seconds),
                ),
            ])
        } else {
            eq(
                crate::plan::intent::length(r("azurerm_eventhub.telemetry.capture_description")),
                tf::num(0),
            )
        },
    );
    if d.capture {
        f.push(role_assignment(
            "capture_writer",
            None,
            r("azurerm_storage_container.archive.id"),
            "Storage Blob Data Contributor",
            r("azurerm_eventhub_namespace.this.identity.0.principal_id"),
        ));
    }

    for a in &d.m.alerts {
        let label = format!("alert_{}", tf_label(&a.name));
        f.push(
            tf::resource("azurerm_eventhub", &label)
                .note(&format!(
                    "Messages matching alert `{}`; low volume, so two partitions and a day of retention.",
                    a.name
                ))
                .attr("name", lit(format!("alert-{}", a.cloud_name)))
                .attr("namespace_id", r("azurerm_eventhub_namespace.this.id"))
                .attr("partition_count", tf::num(2))
                .attr("message_retention", tf::num(1))
                .build(),
        );
    }

    if d.consumer_groups() {
        let mut groups: Vec<(String, String, &str)> = Vec::new();
        if d.m.features.analytics {
            groups.push((
                "adx".into(),
                "adx".into(),
                "azurerm_eventhub.telemetry.name",
            ));
        }
        if d.stream_analytics {
            groups.push((
                "stream_analytics".into(),
                "stream-analytics".into(),
                "azurerm_eventhub.telemetry.name",
            ));
        }
        for s in &d.stream_readers {
            groups.push((
                format!("service_{}", tf_label(&s.name)),
                s.name.clone(),
                "azurerm_eventhub.telemetry.name",
            ));
        }
        for (label, name, hub) in groups {
            f.push(consumer_group(&label, &name, r(hub)));
        }
        for a in &d.alert_functions {
            let label = format!("alert_{}", tf_label(&a.name));
            f.push(consumer_group(
                &format!("{label}_function"),
                "function",
                r(&format!("azurerm_eventhub.{label}.name")),
            ));
        }
    } else {
        f.comment(
            "Basic namespaces have only the $Default consumer group, which every reader shares.",
        );
    }

    for s in &d.stream_readers {
        f.push(
            tf::resource(
                "azurerm_eventhub_authorization_rule",
                &format!("service_{}", tf_label(&s.name)),
            )
            .note(&format!(
                "Service `{}` reads the stream with a listen-only key (outputs.tf, sensitive).",
                s.name
            ))
            .attr("name", lit(&s.name))
            .attr("namespace_name", r("azurerm_eventhub_namespace.this.name"))
            .attr("eventhub_name", r("azurerm_eventhub.telemetry.name"))
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr("listen", tf::boolean(true))
            .attr("send", tf::boolean(false))
            .attr("manage", tf::boolean(false))
            .build(),
        );
    }
    f
}

fn consumer_group(label: &str, name: &str, eventhub: hcl::Expression) -> hcl::Block {
    tf::resource("azurerm_eventhub_consumer_group", label)
        .attr("name", lit(name))
        .attr("namespace_name", r("azurerm_eventhub_namespace.this.name"))
        .attr("eventhub_name", eventhub)
        .attr("resource_group_name", r("local.resource_group_name"))
        .build()
}
