//! The Azure bill of materials: what the planner builds, from its decisions, as the
//! estimator prices it ([`super::cost::AzureWorkload`]).

use std::sync::Arc;

use super::cost::{
    AzureWorkload, BlobArchive, BlobTransition, CosmosDbWorkload, EventHubs, HubLoad,
};
use super::words::sku_name;
use super::{Design, storage, tf_label};
use crate::capacity::StorageClass;
use crate::capacity::{self, HubPin};
use crate::clouds::Cloud;
use crate::cost::from_model::{
    alert_functions, bytes_per_day, state_reads_per_month, state_writes_per_month, telemetry_routes,
};
use crate::cost::{Batching, Workload};
use crate::design::{Bill, BillItem};
use crate::model::{self, Destination, Encryption};

/// Memory the estimate assumes for the generated functions (the Consumption plan bills the
/// memory used, in 128 MB steps), MB.
const FUNCTION_MEMORY_MB: u32 = 256;
/// Default lifetime of an Azure state document (`state_store_ttl_days`).
const AZURE_STATE_TTL_DAYS: f64 = 30.0;
/// Request units of one Cosmos DB upsert of a small (≤ 1 KB) state item.
const COSMOS_RU_PER_WRITE: f64 = 6.0;

/// The bill of the model on Azure, from the planner's design `d`.
pub(super) fn bill(d: &Design) -> Bill {
    let w = crate::cost::from_model::workload(d.m);
    let meter = workload(d, &w);
    Bill {
        cloud: Cloud::Azure,
        region: d.az.location.clone(),
        items: {
            let mut items = items(d, &meter);
            items.extend(not_priced(d));
            items
        },
        catalog: super::catalog::CATALOG,
        meter: Arc::new(meter),
    }
}

/// The priced resources, with the addresses the planner gives them.
fn items(d: &Design, meter: &AzureWorkload) -> Vec<BillItem> {
    let az = d.az;
    let uniform = d
        .hubs
        .iter()
        .all(|h| h.sku == d.hubs[0].sku && h.units == d.hubs[0].units);
    let mut out = vec![BillItem {
        resource_type: "azurerm_iothub",
        addresses: vec!["azurerm_iothub.hub".to_owned()],
        size: if uniform {
            format!(
                "{} × {} per hub × {} hub(s)",
                sku_name(az.hub.sku),
                az.hub.units,
                d.hubs.len()
            )
        } else {
            d.hubs
                .iter()
                .map(|h| format!("{} {} × {}", h.location, sku_name(h.sku), h.units))
                .collect::<Vec<_>>()
                .join(", ")
        },
        drivers: vec!["unit-months (daily quota in 4 KB blocks)"],
        priced: true,
    }];
    // The namespace always exists (it carries the alert hubs); Capture is billed on it, per
    // throughput unit hour.
    let namespace = vec!["azurerm_eventhub_namespace.this".to_owned()];
    match &meter.event_hubs {
        Some(eh) => {
            let units = eh.units.unwrap_or(1);
            let tier = if eh.tier == capacity::EventHubsTier::Premium {
                format!("Premium, {units} PU")
            } else {
                format!("{}, {units} TU", eh.tier)
            };
            let mut drivers = vec!["throughput unit hours", "ingress events (64 KB)"];
            let size = if eh.capture {
                drivers.push("Capture throughput unit hours");
                format!(
                    "{tier}, Capture every {} s or {} MiB",
                    az.event_hubs.capture_interval_seconds, az.event_hubs.capture_size_mib
                )
            } else {
                tier
            };
            out.push(BillItem {
                resource_type: "azurerm_eventhub_namespace",
                addresses: namespace,
                size,
                drivers,
                priced: true,
            });
        }
        None => out.push(BillItem::not_priced(
            "azurerm_eventhub_namespace",
            namespace,
        )),
    }
    if let Some(archive) = &meter.archive {
        let mut tiers = vec!["Hot".to_owned()];
        tiers.extend(
            archive
                .transitions
                .iter()
                .map(|t| format!("{} after {} d", t.tier.name(), t.after_days)),
        );
        out.push(BillItem {
            resource_type: "azurerm_storage_account",
            addresses: vec!["azurerm_storage_account.archive".to_owned()],
            size: format!(
                "{}, {}",
                storage::replication(az.storage.replication),
                tiers.join(", ")
            ),
            drivers: vec!["GB-months per tier", "write operations", "tier changes"],
            priced: true,
        });
    }
    if let Some(f) = &meter.functions {
        out.push(BillItem {
            resource_type: "azurerm_linux_function_app",
            addresses: vec!["azurerm_linux_function_app.alerts".to_owned()],
            size: format!("Consumption (Y1), {} MB assumed", f.memory_mb),
            drivers: vec!["executions", "GB-seconds"],
            priced: true,
        });
    }
    if meter.cosmos_db.is_some() {
        out.push(BillItem {
            resource_type: "azurerm_cosmosdb_account",
            addresses: vec!["azurerm_cosmosdb_account.state".to_owned()],
            size: "serverless".to_owned(),
            drivers: vec!["request units", "GB-months"],
            priced: true,
        });
    }
    if meter.stream_analytics_units > 0 {
        out.push(BillItem {
            resource_type: "azurerm_stream_analytics_job",
            addresses: vec!["azurerm_stream_analytics_job.alerts".to_owned()],
            size: format!("{} streaming unit(s)", meter.stream_analytics_units),
            drivers: vec!["streaming unit hours"],
            priced: true,
        });
    }
    out
}

/// The billed resources the estimate does not price yet, by address; their catalog entries
/// say what each bills for.
fn not_priced(d: &Design) -> Vec<BillItem> {
    let m = d.m;
    let mut out = Vec::new();
    let mut line = |ty: &'static str, labels: &[String]| {
        if !labels.is_empty() {
            let addresses = labels.iter().map(|l| format!("{ty}.{l}")).collect();
            out.push(BillItem::not_priced(ty, addresses));
        }
    };
    let one = |label: &str| vec![label.to_owned()];
    line("azurerm_log_analytics_workspace", &one("this"));
    if d.az.dps.is_some() {
        line("azurerm_iothub_dps", &one("this"));
    }
    if d.archive
        .is_some_and(|a| a.encryption == Encryption::CustomerManaged)
    {
        line("azurerm_key_vault", &one("archive"));
        line("azurerm_key_vault_key", &one("archive"));
    }
    if d.functions() {
        line("azurerm_storage_account", &one("functions"));
        line("azurerm_application_insights", &one("functions"));
    }
    if d.custom_allocation {
        line("azurerm_linux_function_app", &one("allocation"));
    }
    if d.ota {
        line("azurerm_iothub_device_update_account", &one("this"));
        line("azurerm_iothub_device_update_instance", &one("hub"));
    }
    if m.features.analytics {
        line("azurerm_kusto_cluster", &one("analytics"));
    }
    if d.action_group {
        line("azurerm_monitor_action_group", &one("this"));
    }
    let mut alerts: Vec<String> = m
        .alerts
        .iter()
        .filter(|a| a.notify)
        .map(|a| format!("alert_{}", tf_label(&a.name)))
        .collect();
    if m.monitoring.alarms {
        alerts.extend(
            [
                "hub_throttling",
                "hub_daily_quota",
                "hub_routing_dropped",
                "hub_routing_orphaned",
                "hub_routing_failed",
                "eventhubs_throttling",
            ]
            .map(str::to_owned),
        );
    }
    line("azurerm_monitor_metric_alert", &alerts);
    out
}

/// What the Azure stack bills, from the planner's design `d`, for today's fleet `w`.
fn workload(d: &Design, w: &Workload) -> AzureWorkload {
    let model = d.m;
    let az = d.az;
    let eh = &az.event_hubs;
    let capture = d.capture;
    let streams = telemetry_routes(model).any(|r| r.to.contains(&Destination::Stream));
    let archive = model.archive.as_ref().map(|a| {
        // Capture writes one blob per partition per window, or sooner when the size window fills.
        let window_bytes = f64::from(eh.capture_size_mib) * capacity::MIB as f64;
        let per_partition_bytes = bytes_per_day(w) / f64::from(eh.partitions.max(1));
        let per_partition = (capacity::SECONDS_PER_DAY / f64::from(eh.capture_interval_seconds))
            .max(per_partition_bytes / window_bytes);
        BlobArchive {
            batching: Batching::ObjectsPerDay(
                (per_partition * f64::from(eh.partitions.max(1))).max(1.0),
            ),
            transitions: a
                .lifecycle
                .iter()
                .map(|t| BlobTransition {
                    tier: t.tier.blob_tier(),
                    after_days: t.after_days,
                })
                .collect(),
            expire_after_days: a.expire_after_days,
        }
    });
    AzureWorkload {
        hub_allow_basic: matches!(
            az.hub.sku,
            model::HubSku::B1 | model::HubSku::B2 | model::HubSku::B3
        ),
        // Device Update (OTA) needs a Standard hub as much as twins and C2D do.
        needs_standard_hub: model.messaging.cloud_talks_back() || model.features.ota,
        // Each hub as the planner sized it, for the share of the fleet its allocation sends it.
        hubs: az
            .hubs
            .iter()
            .map(|h| HubLoad {
                name: h.location.clone(),
                share: h.share,
                pin: Some(HubPin {
                    sku: h.sku.into(),
                    units: Some(h.units),
                }),
                // The Free tier's plan is in 0.5 KB blocks; the other tiers' in 4 KB blocks.
                planned_daily_quota_messages: (h.sku != model::HubSku::F1)
                    .then_some(h.planned_daily_quota_messages),
            })
            .collect(),
        event_hubs: (streams || capture).then(|| EventHubs {
            tier: eh.tier.into(),
            units: Some(eh.throughput_units),
            capture,
        }),
        archive,
        // The alert functions run whichever engine finds the matches: IoT Hub routes or the
        // Stream Analytics job both fill the alert event hubs that trigger them.
        functions: alert_functions(model, FUNCTION_MEMORY_MB),
        cosmos_db: model.features.state_store.then(|| CosmosDbWorkload {
            writes_per_month: state_writes_per_month(model, w),
            reads_per_month: state_reads_per_month(model, w),
            ru_per_write: COSMOS_RU_PER_WRITE,
            ru_per_read: 1.0,
            // Every routed message is a document that lives `state_store_ttl_days` (30 by
            // default) in the Azure module, so the container holds a month of messages.
            items: (state_writes_per_month(model, w) / capacity::DAYS_PER_MONTH
                * AZURE_STATE_TTL_DAYS)
                .ceil() as u64,
            item_bytes: w.message_bytes.max(w.shadow_document_bytes),
        }),
        stream_analytics_units: u32::from(d.stream_analytics),
    }
}
