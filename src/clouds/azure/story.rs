//! The Azure part of `fleetform explain`: the facts of the planner's decisions (its
//! `Design`: hub sizing, Event Hubs, Capture, each route's endpoints), each with its reason,
//! for the `explain` blueprint and `blueprints/azure/explain/` to word.

use std::fmt::Write as _;

use super::words::{eh_tier_name, sku_name, source_words};
use super::{Design, Endpoint, storage, words};
use crate::capacity;
use crate::clouds::Cloud;
use crate::cost::format::{int, num};
use crate::design::story::{
    Access, Optional, Provisioning, RouteText, Story, Tiers, alert_volume, archive,
    condition_words, dec, features, identity, monitoring, services, volume, who,
};
use crate::design::words::and_list;
use crate::model::condition::Dialect;
use crate::model::{
    Allocation, AuthMethod, AzureAlertEngine, CaSource, Destination, EventHubsTier, HubSku, Model,
    Reprovisioning, Route, StorageTier,
};

/// Blob access tiers, as the archive's lifecycle names and bills them.
const TIERS: Tiers = Tiers {
    name: words::tier_name,
    minimum_days: words::minimum_days,
    retrieval: words::retrieval,
};

/// A route as IoT Hub delivers it.
fn route_text(route: &Route, destinations: String) -> RouteText {
    RouteText::new(
        route,
        source_words(route.source),
        None,
        (Dialect::IotHubRouting, "IoT Hub routing query"),
        destinations,
    )
}

/// What a device may do on its hub (IoT Hub's MQTT topics are fixed and per device; the
/// spec's topics do not apply), and what services get.
fn access(m: &Model) -> Access {
    let mut may =
        vec!["send device-to-cloud messages (`devices/<its id>/messages/events/`)".to_owned()];
    if m.messaging.commands {
        may.push("receive its own cloud-to-device messages (commands)".to_owned());
    }
    if m.messaging.direct_methods {
        may.push("answer direct methods called on it".to_owned());
    }
    if m.messaging.state {
        may.push("read its twin's desired properties and update its reported ones".to_owned());
    }
    Access {
        may,
        unscoped: Vec::new(),
        services: services(m),
        credentials: m.access.cloud_credentials.as_ref().map(|_| {
            "Azure has no certificate-based credentials provider like AWS IoT's role alias; devices reach other services through the hub (file upload) or a back end.".to_owned()
        }),
    }
}

/// The optional features, as the planner decided them.
fn optional(d: &Design) -> Vec<Optional> {
    let f = &d.m.features;
    vec![
        Optional {
            name: "state store",
            asked: f.state_store,
            built: Ok(
                "a Cosmos DB container holds the latest message of every device, written by the routes that send to `state_store`.",
            ),
        },
        Optional {
            name: "OTA updates",
            asked: f.ota,
            built: if d.ota {
                Ok(
                    "Device Update for IoT Hub rolls images out to groups of devices through their twins.",
                )
            } else {
                Err("Device Update needs Standard-tier hubs; set `iot_hub.tier: standard`.")
            },
        },
        Optional {
            name: "analytics",
            asked: f.analytics,
            built: Ok(
                "Azure Data Explorer ingests the stream, so telemetry is queryable within minutes.",
            ),
        },
        Optional {
            name: "web API",
            asked: f.web_api,
            built: Err(
                "no API layer is generated on Azure; read device twins with the IoT Hub service SDK, or the state store with Cosmos DB data roles.",
            ),
        },
    ]
}

/// Quota messages one device adds per day on a paid IoT Hub tier, as terms and a total.
fn hub_quota_terms(m: &Model) -> (Vec<String>, f64) {
    let msg = &m.messaging;
    let blocks = |b: u64| capacity::azure_hub_quota_messages(b) as f64;
    let mut terms = vec![format!(
        "{} telemetry × {} block{}",
        num(msg.messages_per_device_per_hour * msg.connected_hours_per_day),
        num(blocks(msg.message_bytes)),
        if blocks(msg.message_bytes) > 1.0 {
            "s"
        } else {
            ""
        }
    )];
    let mut total =
        msg.messages_per_device_per_hour * msg.connected_hours_per_day * blocks(msg.message_bytes);
    if msg.state {
        terms.push(format!(
            "{} twin updates × {}",
            num(msg.state_updates_per_device_per_day),
            num(blocks(msg.state_document_bytes))
        ));
        total += msg.state_updates_per_device_per_day * blocks(msg.state_document_bytes);
    }
    if msg.commands {
        terms.push(format!("{} commands", num(msg.commands_per_device_per_day)));
        total += msg.commands_per_device_per_day;
    }
    if msg.direct_methods {
        terms.push(format!(
            "2 × {} method calls (request and response)",
            num(msg.method_calls_per_device_per_day)
        ));
        total += 2.0 * msg.method_calls_per_device_per_day;
    }
    (terms, total)
}

/// The explanation of the model on Azure, from the planner's design `d`.
pub(super) fn story(d: &Design) -> Story {
    let m = d.m;
    let az = d.az;
    let provisioning = match &az.dps {
        Some(dps) => Provisioning {
            method: "dps",
            name: "Device Provisioning Service",
            ca_mode: None,
            hook: false,
            registry: (!m.fleet.registry.is_empty())
                .then(|| int(m.fleet.registry.len() as u64)),
            dps_name: Some(az.names.dps.to_string()),
            allocation: Some(
                match dps.allocation {
                    Allocation::EvenlyWeighted => "evenly weighted (Hashed): devices are spread over the linked hubs by weight",
                    Allocation::LowestLatency => "lowest latency (GeoLatency): each device goes to the hub nearest to it",
                    Allocation::Static => "static: every device goes to the first linked hub",
                    Allocation::Custom => "custom: an Azure Function picks the hub, per enrollment group",
                }
                .to_owned(),
            ),
            hubs: az
                .hubs
                .iter()
                .map(|h| {
                    if dps.allocation == Allocation::EvenlyWeighted && az.hubs.len() > 1 {
                        format!("`{}` in {} (weight {})", h.name, h.location, h.allocation_weight)
                    } else {
                        format!("`{}` in {}", h.name, h.location)
                    }
                })
                .collect(),
            groups: dps
                .enrollment_groups
                .iter()
                .map(|g| {
                    let attest = match g.attestation {
                        AuthMethod::X509 => "X.509, signing CA",
                        AuthMethod::SymmetricKey => "symmetric key",
                        AuthMethod::Tpm => "TPM",
                    };
                    let mut s = format!("`{}` ({attest}", g.name);
                    if let Some(t) = &g.device_type {
                        let _ = write!(s, ", device type `{t}`");
                    }
                    if g.iot_edge {
                        s.push_str(", IoT Edge");
                    }
                    s.push(')');
                    s
                })
                .collect(),
            reprovisioning: Some(match dps.reprovisioning {
                Reprovisioning::ReprovisionAndMigrate => {
                    "a device that is assigned to another hub takes its twin with it"
                }
                Reprovisioning::ReprovisionAndReset => {
                    "a device that is assigned to another hub starts there with the initial twin"
                }
                Reprovisioning::Never => "a provisioned device never moves to another hub",
            }),
        },
        None => Provisioning {
            method: "none",
            name: "Hub identity registry",
            ca_mode: None,
            hook: false,
            registry: (!m.fleet.registry.is_empty())
                .then(|| int(m.fleet.registry.len() as u64)),
            dps_name: None,
            allocation: None,
            hubs: az
                .hubs
                .iter()
                .map(|h| format!("`{}` in {}", h.name, h.location))
                .collect(),
            groups: Vec::new(),
            reprovisioning: None,
        },
    };

    let eh = &az.event_hubs;
    let captures = d.capture;
    // Where each route delivers: the IoT Hub endpoints the planner gives it. An archived
    // route that also goes to the stream is archived by Capture.
    let routes = m
        .routes
        .iter()
        .map(|r| {
            let hub_name = format!("the Event Hub in `{}`", az.names.eventhub_namespace);
            let dests: Vec<String> = d
                .endpoints_for(r)
                .into_iter()
                .map(|e| match e {
                    Endpoint::Stream if captures && r.to.contains(&Destination::Archive) => {
                        format!("{hub_name} (Capture also writes it to Blob storage)")
                    }
                    Endpoint::Stream => hub_name.clone(),
                    Endpoint::Archive => "the Blob storage endpoint".to_owned(),
                    Endpoint::State => "the Cosmos DB state container".to_owned(),
                })
                .collect();
            route_text(r, and_list(&dests))
        })
        .collect();

    let t = &m.traffic;
    let hub = &az.hub;
    let mut sizing = Vec::new();
    let (terms, per_device) = hub_quota_terms(m);
    let total = (per_device * t.planned_devices as f64 * t.headroom).ceil();
    let tier_reason = if hub.pinned {
        "The spec pins this size.".to_owned()
    } else if matches!(hub.sku, HubSku::S1 | HubSku::S2 | HubSku::S3)
        && m.messaging.cloud_talks_back()
    {
        let mut needs = Vec::new();
        if m.messaging.state {
            needs.push("twins".to_owned());
        }
        if m.messaging.commands {
            needs.push("cloud-to-device commands".to_owned());
        }
        if m.messaging.direct_methods {
            needs.push("direct methods".to_owned());
        }
        format!(
            "Standard, because {} need a Standard hub; fleetform picks the cheapest size that carries the planned fleet.",
            and_list(&needs)
        )
    } else {
        "fleetform picks the cheapest size that carries the planned fleet.".to_owned()
    };
    let per_unit = hub.daily_quota / u64::from(hub.units.max(1));
    if hub.sku == HubSku::F1 {
        sizing.push(format!(
            "**IoT Hub F1 (free).** It carries {} messages a day, metered in 0.5 KB blocks; the planned fleet needs {}. Use it for trials only.",
            int(hub.daily_quota),
            int(hub.planned_daily_quota_messages)
        ));
    } else {
        let share = if total > 0.0 {
            hub.planned_daily_quota_messages as f64 / total
        } else {
            1.0
        };
        let hubs_text = if az.hubs.len() > 1 {
            // Each hub is sized for the share its allocation sends it, and says which.
            let each: Vec<String> = d
                .hubs
                .iter()
                .map(|h| {
                    format!(
                        "{} {} × {} for {}, {} a day",
                        h.location,
                        sku_name(h.sku),
                        h.units,
                        super::hub::share_words(d, h),
                        int(h.planned_daily_quota_messages)
                    )
                })
                .collect();
            let unpredicted = if d.hubs.iter().any(|h| !h.predicted) {
                " The allocation does not say where devices go, so every hub is sized for the whole fleet; give each linked hub its expected `devices` to size them for their share."
            } else {
                ""
            };
            format!(
                " With {} hubs, the busiest carries {} of it: {} a day. Each hub is sized for its own share: {}.{unpredicted}",
                az.hubs.len(),
                crate::cost::format::pct(share.min(1.0)),
                int(hub.planned_daily_quota_messages),
                each.join("; ")
            )
        } else {
            String::new()
        };
        sizing.push(format!(
            "**IoT Hub {} × {}{}.** IoT Hub throttles by a daily quota of messages counted in 4 KB blocks. Per device and day: {} = {}. Planned: {} devices × {}{} = {} a day.{hubs_text} {} × {} units = {} × {} = {} a day ({} used). {tier_reason}",
            sku_name(hub.sku),
            hub.units,
            if d.hubs.iter().all(|h| h.sku == hub.sku && h.units == hub.units) {
                " per hub"
            } else {
                " on the busiest hub"
            },
            terms.join(" + "),
            num(per_device),
            int(t.planned_devices),
            num(per_device),
            if (t.headroom - 1.0).abs() > f64::EPSILON {
                format!(" × {} headroom", num(t.headroom))
            } else {
                String::new()
            },
            int(total as u64),
            sku_name(hub.sku),
            hub.units,
            hub.units,
            int(per_unit),
            int(hub.daily_quota),
            crate::cost::format::pct(
                hub.planned_daily_quota_messages as f64 / hub.daily_quota.max(1) as f64
            ),
        ));
    }
    if eh.tier == EventHubsTier::Premium {
        sizing.push(format!(
            "**Event Hubs Premium: 1 processing unit** to start; Premium is sized in processing units, not throughput units. {} partitions, {} days retention.",
            eh.partitions, eh.retention_days
        ));
    } else {
        sizing.push(format!(
            "**Event Hubs {}: {} throughput unit{}.** A TU takes 1 MiB/s or 1,000 events/s of ingress: max(1, ⌈{}/s ÷ 1 MiB/s⌉, ⌈{} events/s ÷ 1,000⌉) = {}.{} {} partitions, {} day{} retention.",
            eh_tier_name(eh.tier),
            eh.throughput_units,
            if eh.throughput_units == 1 { "" } else { "s" },
            volume(t.peak_bytes_per_second),
            dec(t.peak_messages_per_second),
            eh.throughput_units,
            match eh.max_throughput_units {
                Some(max) => format!(" Auto-inflate may raise it to {max} TUs under load (and keeps them until lowered)."),
                None => String::new(),
            },
            eh.partitions,
            eh.retention_days,
            if eh.retention_days == 1 { "" } else { "s" }
        ));
    }
    if captures {
        let per_day = t.messages_per_day * m.messaging.message_bytes as f64;
        let per_partition = per_day / f64::from(eh.partitions.max(1));
        let window = f64::from(eh.capture_size_mib) * capacity::MIB as f64;
        let blobs = (capacity::SECONDS_PER_DAY / f64::from(eh.capture_interval_seconds))
            .max(per_partition / window)
            * f64::from(eh.partitions.max(1));
        sizing.push(format!(
            "**Capture** writes one Avro blob per partition every {} s or {} MiB, whichever comes first: about {} blobs a day across {} partitions.",
            eh.capture_interval_seconds,
            eh.capture_size_mib,
            int(blobs.round() as u64),
            eh.partitions
        ));
    }

    let store = format!(
        "the storage account `{}` ({})",
        az.names.storage_account,
        storage::replication(az.storage.replication)
    );
    let deep = m.archive.as_ref().is_some_and(|a| {
        a.lifecycle
            .iter()
            .any(|t| t.tier == StorageTier::DeepArchive)
    });
    let cloud_notes = if deep {
        vec![
            "Azure has no tier colder than Archive, so `deep_archive` becomes Blob Archive."
                .to_owned(),
        ]
    } else {
        Vec::new()
    };
    let archive = archive(
        m,
        &TIERS,
        store,
        cloud_notes,
        "Data is encrypted with the stack's own Key Vault key.",
    );

    let asa = az.alert_engine == AzureAlertEngine::StreamAnalytics;
    let alerts = m
        .alerts
        .iter()
        .map(|a| {
            let action = match (a.function, a.notify) {
                (true, true) => format!("the alert Function records it and notifies {} through the action group", who(m)),
                (true, false) => "the alert Function records it".to_owned(),
                (false, true) => format!("the action group notifies {}", who(m)),
                (false, false) => "nothing else happens (neither a function nor a notification is asked for)".to_owned(),
            };
            if asa {
                format!(
                    "**{}**: when {}, the Stream Analytics job (`WHERE {}`) passes the message on and {action}; {}.",
                    a.name,
                    condition_words(&a.condition),
                    a.condition.render(Dialect::AwsIotSql),
                    alert_volume(m, a.expected_match_fraction)
                )
            } else {
                format!(
                    "**{}**: when {}, an IoT Hub route (`{}`) sends the message on and {action}; {}.",
                    a.name,
                    condition_words(&a.condition),
                    a.condition.render(Dialect::IotHubRouting),
                    alert_volume(m, a.expected_match_fraction)
                )
            }
        })
        .collect();

    let (features, features_off) = features(&optional(d));

    let id = &m.identity;
    let mut before = Vec::new();
    let mut after = Vec::new();
    if id.method == AuthMethod::X509 {
        if id.ca == CaSource::Generated {
            before.push(format!("Make the fleet CA offline, outside Terraform state: `fleetform certs init --out certs`; the spec reads `{}`.", id.ca_certificate_file));
        } else {
            before.push(format!(
                "Put your CA certificate at `{}` (relative to the spec).",
                id.ca_certificate_file
            ));
        }
    }
    if az.dps.is_some() {
        if id.method == AuthMethod::X509 {
            after.push(format!("Verify the CA in the DPS: upload the root CA, `az iot dps certificate generate-verification-code`, then `fleetform certs verify-azure --code <code>` and `az iot dps certificate verify` (proof of possession) on `{}`.", az.names.dps));
        }
        after.push("Create the enrollment groups: neither azurerm nor ARM can, so run the script the stack README names, or `az iot dps enrollment-group create` for each group.".to_owned());
        match id.method {
            AuthMethod::X509 => after.push("Issue device certificates from the signing CA (`fleetform certs device --id <id>`); the common name becomes the device id.".to_owned()),
            AuthMethod::SymmetricKey => after.push("Derive each device's key from its group key (`az iot dps enrollment-group compute-device-key`) and install it on the device.".to_owned()),
            AuthMethod::Tpm => after.push("Create an individual enrollment per device with its TPM endorsement key.".to_owned()),
        }
        after.push("Give devices the DPS global endpoint `global.azure-devices-provisioning.net` and the ID scope the stack outputs; they find their hub on first boot.".to_owned());
    } else {
        if d.hub_ca {
            after.push(format!("Verify the fleet CA on each hub: `az iot hub certificate generate-verification-code` on `{}`, then `fleetform certs verify-azure --code <code>` and `az iot hub certificate verify` (proof of possession).", super::dps::CA_NAME));
        }
        after.push("Create device identities in the hub (`az iot hub device-identity create`) and install their credentials.".to_owned());
    }
    if m.features.ota {
        after.push(
            "Import signed firmware into Device Update and create a deployment for a device group."
                .to_owned(),
        );
    }
    let hub_name = az
        .hubs
        .first()
        .map_or_else(String::new, |h| h.name.to_string());
    let verify = vec![
        format!("`az iot hub monitor-events --hub-name {hub_name}` shows messages as they arrive."),
        if captures {
            format!(
                "After about {} s Capture writes the first blob to `{}`.",
                eh.capture_interval_seconds, az.names.storage_account
            )
        } else {
            "Read the Event Hub with a consumer to see messages arrive.".to_owned()
        },
    ];

    Story {
        cloud: Cloud::Azure,
        title: "Azure",
        place: az.location.clone(),
        identity: identity(m),
        provisioning,
        access: access(m),
        routes,
        sizing,
        archive,
        alerts,
        monitoring: monitoring(m, "Log Analytics"),
        features,
        features_off,
        before_apply: before,
        after_apply: after,
        verify,
    }
}
