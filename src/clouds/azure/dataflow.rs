//! The Azure stack as a dataflow: DPS in front of one hub per linked site, routes, Event Hubs,
//! Capture into tiered Blob storage, alerts and features, drawn from the planner's own
//! decisions (its `Design`: whether Capture is on, which endpoints each route delivers to,
//! what is built), so the picture shows what `build` writes.

use std::fmt::Write as _;

use super::words::{allocation_words, eh_tier_name, sku_name, source_words, tier_name};
use super::{Design, Endpoint, storage};
use crate::clouds::Cloud;
use crate::design::words::{condition_line, emails, first_few};
use crate::design::{Dataflow, End, Kind};
use crate::model::condition::Dialect;
use crate::model::{Allocation, AuthMethod, Encryption, EventHubsTier};

/// The dataflow of the model on Azure, from the planner's design `d`.
pub(super) fn dataflow(design: &Design) -> Dataflow {
    let m = design.m;
    let az = design.az;
    let mut df = Dataflow::new(Cloud::Azure, format!("Azure ({})", az.location));
    let b = &mut df;
    let devices = End::Devices;
    let attest = match m.identity.method {
        AuthMethod::X509 => "X.509 attestation",
        AuthMethod::SymmetricKey => "symmetric key attestation",
        AuthMethod::Tpm => "TPM attestation",
    };
    let front = if let Some(dps) = &az.dps {
        let mut details = vec![
            az.names.dps.to_string(),
            format!("allocation: {}", allocation_words(dps.allocation)),
        ];
        if !dps.enrollment_groups.is_empty() {
            let groups: Vec<String> = dps
                .enrollment_groups
                .iter()
                .map(|g| g.name.clone())
                .collect();
            details.push(format!("enrollment groups: {}", first_few(&groups, 3)));
        }
        let node = b.node(Kind::Provisioning, "Device Provisioning Service", &details);
        b.edge(devices, node, Some(attest));
        node
    } else {
        let node = b.node(
            Kind::Provisioning,
            "Hub identity registry",
            &["device identities created after apply".to_owned()],
        );
        b.edge(devices, node, Some("registered after apply"));
        node
    };
    let mut caps = Vec::new();
    if m.messaging.state {
        caps.push("twins");
    }
    if m.messaging.commands {
        caps.push("C2D commands");
    }
    if m.messaging.direct_methods {
        caps.push("direct methods");
    }
    let weighted = az
        .dps
        .as_ref()
        .is_some_and(|details| details.allocation == Allocation::EvenlyWeighted)
        && az.hubs.len() > 1;
    let mut hubs = Vec::new();
    for site in &az.hubs {
        let mut details = vec![format!(
            "{}, {} x {}",
            site.location,
            sku_name(site.sku),
            site.units
        )];
        if !caps.is_empty() {
            details.push(caps.join(", "));
        }
        let hub = b.node(Kind::Hub, format!("IoT Hub {}", site.name), &details);
        let assign = if az.dps.is_none() {
            "identities".to_owned()
        } else if weighted {
            format!("assigns, weight {}", site.allocation_weight)
        } else {
            "assigns".to_owned()
        };
        b.edge(front, hub, Some(&assign));
        b.edge(devices, hub, Some("MQTT telemetry"));
        hubs.push(hub);
    }

    let eh = &az.event_hubs;
    // The telemetry event hub is drawn when something writes to it (routes to the stream)
    // or reads it (Capture, the Stream Analytics job, Data Explorer).
    let event_hubs = (design.stream_endpoint
        || design.capture
        || design.stream_analytics
        || m.features.analytics)
        .then(|| {
            let mut details = vec![match eh.tier {
                EventHubsTier::Premium => "Premium, 1 processing unit".to_owned(),
                tier => {
                    let mut s = format!("{}, {} TU", eh_tier_name(tier), eh.throughput_units);
                    if let Some(max) = eh.max_throughput_units {
                        let _ = write!(s, " (auto-inflate to {max})");
                    }
                    s
                }
            }];
            details.push(format!(
                "{} partitions, retention {} d",
                eh.partitions, eh.retention_days
            ));
            b.node(Kind::Stream, "Event Hubs", &details)
        });
    let state = m.features.state_store.then(|| {
        b.node(
            Kind::Database,
            "Cosmos DB state container",
            &["latest state per device".to_owned()],
        )
    });
    // The archive is encrypted with the stack's own key unless the spec says otherwise.
    let customer_key = m
        .archive
        .as_ref()
        .is_none_or(|a| a.encryption == Encryption::CustomerManaged);
    let blob_first = vec![
        format!("account {}", az.names.storage_account),
        format!(
            "{}, {}",
            storage::replication(az.storage.replication),
            if customer_key {
                "Key Vault key"
            } else {
                "Microsoft-managed key"
            }
        ),
    ];
    let hot = design
        .archive
        .is_some()
        .then(|| b.storage_chain(m.archive.as_ref(), tier_name, "Delete", &blob_first));

    for route in &m.routes {
        let line = condition_line(route.condition.as_ref(), Dialect::IotHubRouting, "");
        let rule = b.node(Kind::Rule, format!("Route {}", route.name), &[line]);
        for hub in &hubs {
            b.edge(*hub, rule, Some(source_words(route.source)));
        }
        // The endpoints the planner gives the route: an archived route that also goes
        // to the stream is archived by Capture, any other through a storage endpoint.
        for endpoint in design.endpoints_for(route) {
            let (target, label) = match endpoint {
                Endpoint::Stream => (event_hubs, None),
                Endpoint::Archive => (hot, Some("storage endpoint")),
                Endpoint::State => (state, None),
            };
            if let Some(t) = target {
                b.edge(rule, t, label);
            }
        }
    }
    if let (Some(e), Some(h), true) = (event_hubs, hot, design.capture) {
        b.edge(
            e,
            h,
            Some(&format!(
                "Capture every {} s / {} MiB",
                eh.capture_interval_seconds, eh.capture_size_mib
            )),
        );
    }

    if !m.alerts.is_empty() {
        let function = (m.alerts.iter().any(|a| a.function)).then(|| {
            b.node(
                Kind::Function,
                "Function alert handler",
                &["consumption plan".to_owned()],
            )
        });
        let group = m
            .alerts
            .iter()
            .any(|a| a.notify)
            .then(|| b.node(Kind::Notification, "Monitor action group", &emails(m)));
        let job = design.stream_analytics.then(|| {
            let node = b.node(
                Kind::Function,
                "Stream Analytics job",
                &[format!(
                    "{} alert quer{}",
                    m.alerts.len(),
                    if m.alerts.len() == 1 { "y" } else { "ies" }
                )],
            );
            // The job's input is the telemetry event hub.
            if let Some(e) = event_hubs {
                b.edge(e, node, None);
            }
            node
        });
        for alert in &m.alerts {
            let node = if let Some(j) = job {
                // The Stream Analytics query speaks a SQL dialect: `WHERE` as in AWS IoT SQL.
                let node = b.node(
                    Kind::Rule,
                    format!("Alert {}", alert.name),
                    &[condition_line(
                        Some(&alert.condition),
                        Dialect::AwsIotSql,
                        "WHERE ",
                    )],
                );
                b.edge(j, node, None);
                node
            } else {
                let node = b.node(
                    Kind::Rule,
                    format!("Alert route {}", alert.name),
                    &[condition_line(
                        Some(&alert.condition),
                        Dialect::IotHubRouting,
                        "",
                    )],
                );
                for hub in &hubs {
                    b.edge(*hub, node, Some("telemetry"));
                }
                node
            };
            match (alert.function, alert.notify, function, group) {
                (true, notify, Some(f), group) => {
                    b.edge(node, f, None);
                    if let (true, Some(g)) = (notify, group) {
                        b.edge(f, g, Some("notifies"));
                    }
                }
                (false, true, _, Some(g)) => b.edge(node, g, None),
                _ => {}
            }
        }
    }

    if design.ota {
        let ota = b.node(
            Kind::Feature,
            "OTA updates",
            &["Device Update for IoT Hub".to_owned()],
        );
        for hub in &hubs {
            b.edge(ota, *hub, Some("deployments"));
        }
    }
    if m.features.analytics {
        let adx = b.node(
            Kind::Feature,
            "Azure Data Explorer",
            &["cluster and database".to_owned()],
        );
        // Data Explorer's data connection reads the telemetry event hub.
        if let Some(e) = event_hubs {
            b.edge(e, adx, Some("ingests"));
        }
    }
    // No web API is generated on Azure (the parity table says so), so none is drawn.
    df
}
