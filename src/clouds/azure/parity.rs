//! Parity rows: what each requested feature became on Azure, in the words of the build
//! summary. Keys are shared with the AWS planner so a both-cloud spec lines up side by side.

use super::Design;
use crate::model::{AuthMethod, Encryption};
use crate::plan::{Mapping, ParityRow};

pub(super) fn rows(d: &Design) -> Vec<ParityRow> {
    let mut rows = Vec::new();
    let mut map = |feature: &'static str, mapping: Mapping| {
        rows.push(ParityRow { feature, mapping });
    };
    let m = d.m;
    let mapped = |s: String| Mapping::Mapped(s);
    let hubs = d.hubs.len();
    // Each hub is sized for its own share of the fleet: one size when they agree, else each.
    let sizes = if d
        .hubs
        .iter()
        .all(|h| h.sku == d.az.hub.sku && h.units == d.az.hub.units)
    {
        format!("{:?} x {}", d.az.hub.sku, d.az.hub.units)
    } else {
        d.hubs
            .iter()
            .map(|h| format!("{} {:?} x {}", h.location, h.sku, h.units))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let hub_text = format!(
        "{} IoT hub{} ({sizes})",
        hubs,
        if hubs == 1 { "" } else { "s" },
    );

    map(
        "identity",
        mapped(match m.identity.method {
            AuthMethod::X509 if d.dps_ca => {
                "X.509 chained to the fleet CA, verified in the DPS".to_owned()
            }
            AuthMethod::X509 if d.hub_ca => {
                "X.509 chained to the fleet CA, verified on each hub".to_owned()
            }
            AuthMethod::X509 => {
                "X.509 chained to the fleet CA; no enrollment group attests with it yet".to_owned()
            }
            AuthMethod::SymmetricKey => {
                "symmetric keys derived per device from the enrollment group key".to_owned()
            }
            AuthMethod::Tpm => "TPM attestation through DPS individual enrollments".to_owned(),
        }),
    );
    map(
        "provisioning",
        match &d.az.dps {
            Some(dps) => mapped(format!(
                "DPS ({} allocation) linked to {hub_text}; {}",
                super::dps::allocation_policy(dps.allocation),
                if dps.enrollment_groups.is_empty() {
                    "no enrollment groups in the spec yet".to_owned()
                } else {
                    format!(
                        "{} enrollment group(s) by scripts/create-enrollment-groups.sh",
                        dps.enrollment_groups.len()
                    )
                }
            )),
            None if super::import::registration(d.m) == super::import::Registration::Import => {
                mapped(format!(
                    "no DPS: the registry's devices are imported into the {hub_text} directly (scripts/import-devices.sh)"
                ))
            }
            None => Mapping::NotMapped(format!(
                "no DPS in the spec: register devices in the {hub_text} directly (az iot hub device-identity create)"
            )),
        },
    );
    if let Some(registry) = super::import::parity(m) {
        map("registry", registry);
    }
    map(
        "authorization",
        mapped(match (d.az.hub.local_authentication, m.access.services.is_empty()) {
            (true, false) => "IoT Hub scopes each device to its own identity and topics; services get least-privilege shared access policies".to_owned(),
            (_, true) => "IoT Hub scopes each device to its own identity and topics".to_owned(),
            (false, false) => "IoT Hub scopes each device to its own identity; services use Entra ID roles (local auth off)".to_owned(),
        }),
    );
    if m.access.cloud_credentials.is_some() {
        map(
            "cloud_credentials",
            Mapping::NotMapped(
                "IoT Hub has no role aliases: devices upload files through IoT Hub file upload, or reach other services with their own Entra ID identity (IoT Edge modules, managed identities)".to_owned(),
            ),
        );
    }
    if m.messaging.state {
        map(
            "device_state",
            if d.standard {
                mapped("device twins (reported and desired properties)".to_owned())
            } else {
                Mapping::NotMapped(format!("{:?} hubs have no device twins", d.az.hub.sku))
            },
        );
    }
    if m.messaging.cloud_talks_back() {
        let mut parts = Vec::new();
        if m.messaging.commands {
            parts.push("cloud-to-device messages");
        }
        if m.messaging.direct_methods {
            parts.push("direct methods");
        }
        if m.messaging.state {
            parts.push("desired properties");
        }
        map(
            "cloud_to_device",
            if d.standard {
                mapped(format!("IoT Hub {}", parts.join(", ")))
            } else {
                Mapping::NotMapped(format!(
                    "{:?} hubs cannot talk back to devices",
                    d.az.hub.sku
                ))
            },
        );
    }
    map(
        "routes",
        mapped(format!(
            "{} IoT Hub route(s) per hub (separate azurerm_iothub_route resources, one per endpoint) with routing-query conditions",
            m.routes
                .iter()
                .map(|r| d.endpoints_for(r).len())
                .sum::<usize>()
        )),
    );
    map(
        "stream",
        mapped(format!(
            "Event Hubs {:?} ({} TU, {} partitions){}",
            d.az.event_hubs.tier,
            d.az.event_hubs.throughput_units,
            d.az.event_hubs.partitions,
            if d.stream_endpoint {
                ", identity-based IoT Hub endpoint"
            } else {
                "; no route streams to it yet"
            }
        )),
    );
    if let Some(archive) = d.archive {
        let how = match (d.capture, d.storage_endpoint) {
            (true, true) => "Event Hubs Capture (Avro) and an IoT Hub storage endpoint",
            (true, false) => "Event Hubs Capture (Avro)",
            (false, true) => "IoT Hub storage endpoint (Avro)",
            (false, false) => "no route writes to it yet",
        };
        let key = if archive.encryption == Encryption::CustomerManaged {
            "Key Vault HSM key"
        } else {
            "platform keys"
        };
        map(
            "archive",
            mapped(format!("Blob container in StorageV2 via {how}; {key}")),
        );
        if !archive.lifecycle.is_empty() || archive.expire_after_days.is_some() {
            map(
                "lifecycle",
                mapped(
                    "Blob lifecycle management policy (Hot to Cool, Cold, Archive; days since modification)"
                        .to_owned(),
                ),
            );
        }
    }
    if !m.alerts.is_empty() {
        let mut parts = vec![if d.stream_analytics {
            "Stream Analytics writes matches to an event hub per alert"
        } else {
            "an IoT Hub route per alert fills its own event hub"
        }];
        if !d.alert_functions.is_empty() {
            parts.push("a Function (Y1) records them");
        }
        if m.alerts.iter().any(|a| a.notify) {
            parts.push("a Monitor metric alert notifies");
        }
        map("alerts", mapped(parts.join("; ")));
    }
    if m.features.state_store {
        map(
            "state_store",
            mapped(if d.state_endpoint {
                "Cosmos DB serverless (SQL API, /deviceId) fed by an IoT Hub Cosmos DB endpoint"
                    .to_owned()
            } else {
                "Cosmos DB serverless (SQL API, /deviceId); no route writes to it yet".to_owned()
            }),
        );
    }
    if m.features.ota {
        map(
            "ota",
            if d.ota {
                mapped("Device Update for IoT Hub (account and one instance per hub; its service principal is IoT Hub Data Contributor on each hub)".to_owned())
            } else {
                Mapping::NotMapped(format!(
                    "Device Update needs Standard-tier hubs and these are {:?}: use iot_hub.tier: standard",
                    d.az.hub.sku
                ))
            },
        );
    }
    if m.features.analytics {
        map(
            "analytics",
            mapped("Azure Data Explorer cluster ingesting the telemetry event hub".to_owned()),
        );
    }
    if m.features.web_api {
        map(
            "web_api",
            Mapping::NotMapped(
                "no API layer is generated on Azure: read device twins with the IoT Hub service SDK, or the state store with Cosmos DB data roles".to_owned(),
            ),
        );
    }
    map(
        "monitoring",
        mapped(format!(
            "Log Analytics diagnostic settings{}{}",
            if m.monitoring.alarms {
                ", metric alerts on throttling, quota and routing"
            } else {
                ""
            },
            if d.action_group {
                ", email action group"
            } else {
                ""
            }
        )),
    );
    if m.cost.monthly_budget_usd.is_some() {
        map(
            "budget",
            mapped("resource-group consumption budget (80% actual, 100% forecast)".to_owned()),
        );
    }
    rows
}
