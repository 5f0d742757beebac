//! Lowering: a validated spec becomes the cloud-neutral [`Model`].
//!
//! Defaults are resolved here, names derived, conditions and topics parsed, and capacity
//! sized with the shared capacity math. Validation runs lowering as its last step, on a spec
//! that passed every other check: conditions and topics are parsed only here, so this is
//! where `bad-condition` and `bad-topic` are reported, along with the diagnostics that need
//! computed figures (a fleet no hub tier can carry). Lowering reports; it never panics.
//!
//! Long (about 1,200 lines, 130 of them tests): one pass over the spec in its order, one
//! function per section. The per-cloud sections (`aws`, `azure`, the hub shares and sizing, about
//! 450 lines) are the part to move into the cloud folders, with the spec's (see
//! `src/spec/mod.rs`).

use std::sync::Arc;

use crate::capacity;
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::registry::Registry;
use crate::model::{self as m, Model, condition, names, topic};
use crate::spec::node::SpecPath;
use crate::spec::{self, FleetSpec, HubSku, HubTier};

/// Converts a validated spec (and the devices read from its registry file) into the model.
pub fn lower(spec: &FleetSpec, file_devices: Arc<Registry>) -> (Model, Diagnostics) {
    let mut diags = Diagnostics::new();
    let stack = stack(&spec.stack);
    let traffic = traffic(spec);
    let messaging = messaging(&spec.messaging, &mut diags);
    let aws = spec
        .clouds
        .aws
        .as_ref()
        .map(|a| aws(a, &stack, &traffic, &mut diags));
    let azure = spec
        .clouds
        .azure
        .as_ref()
        .map(|a| azure(a, spec, &traffic, &messaging, &mut diags));
    let model = Model {
        fleet: fleet(&spec.fleet, file_devices),
        identity: identity(&spec.identity),
        access: access(&spec.authorization, &messaging, &mut diags),
        routes: routes(spec, &mut diags),
        alerts: alerts(spec, &mut diags),
        features: m::Features {
            state_store: spec.pipeline.state_store.enabled,
            ota: spec.pipeline.ota.enabled,
            analytics: spec.pipeline.analytics.enabled,
            web_api: spec.pipeline.web_api.enabled,
        },
        archive: spec
            .storage
            .archive
            .enabled
            .then(|| archive(&spec.storage.archive)),
        monitoring: m::Monitoring {
            log_retention_days: spec.monitoring.log_retention_days,
            alarms: spec.monitoring.alarms,
            emails: spec.monitoring.notify.email.clone(),
        },
        cost: m::CostControls {
            monthly_budget_usd: spec.cost.monthly_budget_usd,
            headroom_percent: spec.cost.headroom_percent,
        },
        stacks: spec.stacks.as_ref().map(|s| stacks(s, spec)),
        module_depth: 1,
        registry_shards: 0,
        stack,
        aws,
        azure,
        messaging,
        traffic,
    };
    let mut model = model;
    firehose_sizing(&mut model, &mut diags);
    (model, diags)
}

/// Rules put telemetry into Firehose one message per request. When the planned peak would
/// pass the stream's Direct PUT quota in its region, records past it would be throttled and
/// lost, so a Kinesis stream goes in front (`kinesis_and_firehose`: Firehose reads the
/// stream, and that quota does not apply; the shards are sized for the peak), and the
/// warning says so. Cost, explain and the diagram all read the decided service.
fn firehose_sizing(model: &mut Model, diags: &mut Diagnostics) {
    let Some(aws) = model.aws.as_mut() else {
        return;
    };
    let to = |d: m::Destination| model.routes.iter().any(|r| r.to.contains(&d));
    let direct_put = match aws.stream.service {
        spec::AwsStreamService::Firehose => {
            to(m::Destination::Archive) || to(m::Destination::Stream)
        }
        spec::AwsStreamService::Kinesis => to(m::Destination::Archive),
        spec::AwsStreamService::KinesisAndFirehose => false,
    };
    let quota = capacity::firehose_direct_put_quota(&aws.region);
    let t = &model.traffic;
    if !direct_put
        || capacity::firehose_direct_put_fits(
            quota,
            t.peak_messages_per_second,
            t.peak_bytes_per_second,
        )
    {
        return;
    }
    diags.push(
        Diagnostic::warning(
            "firehose-quota",
            format!(
                "at the planned peak of {:.0} messages/s ({:.2} MiB/s), direct puts into Firehose would pass {}% of its quota in `{}` ({} requests/s, {} MiB/s per stream) and records past it are lost; a Kinesis stream goes in front of Firehose (`kinesis_and_firehose`), which that quota does not limit",
                t.peak_messages_per_second,
                t.peak_bytes_per_second / capacity::MIB as f64,
                (capacity::QUOTA_HEADROOM_SHARE * 100.0) as u32,
                aws.region,
                quota.requests_per_s,
                quota.bytes_per_s / capacity::MIB,
            ),
        )
        .at(SpecPath::parse("clouds.aws.stream.service"))
        .hint("set `clouds.aws.stream.service: kinesis_and_firehose` to choose it yourself and silence this"),
    );
    aws.stream.service = spec::AwsStreamService::KinesisAndFirehose;
}

fn stack(s: &spec::Stack) -> m::Stack {
    let mut tags = s.tags.clone();
    tags.insert("stack".to_owned(), s.name.clone());
    tags.insert("environment".to_owned(), s.environment.clone());
    tags.insert("managed-by".to_owned(), "fleetform".to_owned());
    if let Some(owner) = &s.owner {
        tags.insert("owner".to_owned(), owner.clone());
    }
    m::Stack {
        name: s.name.clone(),
        environment: s.environment.clone(),
        owner: s.owner.clone(),
        description: s.description.clone(),
        prefix: names::prefix(&s.name, &s.environment),
        tags,
        prevent_destroy: s.prevent_destroy.unwrap_or(matches!(
            s.environment.as_str(),
            "prod" | "production" | "prd"
        )),
    }
}

/// Fleet-wide traffic. Capacity is sized for the devices expected a year from now, at peak,
/// with the spec's headroom.
pub fn traffic(spec: &FleetSpec) -> m::Traffic {
    let msg = &spec.messaging;
    let devices = spec.fleet.devices;
    let growth = 1.0 + f64::from(spec.fleet.growth_percent_per_year) / 100.0;
    let planned_devices = (devices as f64 * growth).ceil() as u64;
    let headroom = 1.0 + f64::from(spec.cost.headroom_percent) / 100.0;
    let per_device_per_second = msg.messages_per_device_per_hour / 3600.0;
    let peak_messages_per_second =
        planned_devices as f64 * per_device_per_second * msg.peak_factor * headroom;
    m::Traffic {
        devices,
        planned_devices,
        messages_per_day: devices as f64
            * msg.messages_per_device_per_hour
            * msg.connected_hours_per_day,
        peak_messages_per_second,
        peak_bytes_per_second: peak_messages_per_second * msg.message_bytes as f64,
        headroom,
    }
}

fn aws(
    a: &spec::AwsCloud,
    stack: &m::Stack,
    traffic: &m::Traffic,
    diags: &mut Diagnostics,
) -> m::Aws {
    let kinesis_shards = match capacity::kinesis_shards(
        traffic.peak_bytes_per_second,
        traffic.peak_messages_per_second,
        None,
    ) {
        Ok(n) => n,
        Err(capacity::CapacityError::ShardQuotaExceeded { needed, limit }) => {
            if a.stream.service != spec::AwsStreamService::Firehose
                && a.stream.kinesis_capacity == spec::KinesisCapacity::Provisioned
            {
                diags.push(
                    Diagnostic::warning(
                        "shard-quota",
                        format!("the stream needs {needed} shards, above the default account quota of {limit}"),
                    )
                    .at(SpecPath::parse("clouds.aws.stream.kinesis_capacity"))
                    .hint("request a shard quota increase before applying, or use `kinesis_capacity: on_demand`"),
                );
            }
            u32::try_from(needed).unwrap_or(u32::MAX)
        }
        Err(_) => 1,
    };
    m::Aws {
        region: a.region.clone(),
        account_id: a.account_id.clone(),
        account_settings: true,
        provisioning: m::AwsProvisioning {
            method: a.provisioning.method,
            certificate_mode: a.provisioning.certificate_mode,
            pre_provisioning_hook: matches!(
                a.provisioning.method,
                spec::AwsProvisioningMethod::FleetByClaim
                    | spec::AwsProvisioningMethod::TrustedUser
            ),
            allow_list_table: a
                .provisioning
                .allow_list_table
                .clone()
                .unwrap_or_else(|| crate::spec::DEFAULT_ALLOW_LIST_TABLE.to_owned()),
            claim_client_id_prefix: a
                .provisioning
                .claim_client_id_prefix
                .clone()
                .unwrap_or_else(|| crate::spec::DEFAULT_CLAIM_CLIENT_ID_PREFIX.to_owned()),
        },
        fleet_indexing: a.iot.fleet_indexing,
        basic_ingest: a.iot.basic_ingest,
        log_level: a.iot.log_level,
        stream: m::AwsStream {
            service: a.stream.service,
            kinesis_capacity: a.stream.kinesis_capacity,
            kinesis_shards,
            kinesis_retention_hours: a.stream.kinesis_retention_hours,
            firehose_buffer_seconds: a.stream.firehose_buffer_seconds,
            firehose_buffer_mib: a.stream.firehose_buffer_mib,
        },
        archive_bucket: a.names.archive_bucket.clone(),
        archive_bucket_stem: names::archive_bucket_stem(&stack.name, &stack.environment),
    }
}

/// The globally unique Azure names: the spec's explicit ones as written, the others derived
/// from the stack and completed by Terraform with the subscription's suffix.
pub fn azure_names(a: &spec::AzureCloud, s: &spec::Stack) -> m::AzureNames {
    use names::{GlobalName, NameKind};
    let prefix = names::prefix(&s.name, &s.environment);
    let compact = names::compact(&s.name, &s.environment);
    let pick = |explicit: &Option<String>, kind: NameKind, stem: String| {
        explicit
            .as_deref()
            .map_or_else(|| GlobalName::derived(kind, &stem), GlobalName::explicit)
    };
    let storage_account = pick(
        &a.names.storage_account,
        NameKind::StorageAccount,
        format!("st{compact}"),
    );
    m::AzureNames {
        dps: pick(&a.names.dps, NameKind::Dps, format!("dps-{prefix}")),
        // The functions' account leads with its own letters, so cutting a long stem for the
        // suffix never makes it the archive account's.
        functions_storage: match &a.names.storage_account {
            Some(explicit) => {
                let cut: String = explicit.chars().take(22).collect();
                GlobalName::explicit(&format!("{cut}fn"))
            }
            None => GlobalName::derived(NameKind::StorageAccount, &format!("fn{compact}")),
        },
        storage_account,
        eventhub_namespace: pick(
            &a.names.eventhub_namespace,
            NameKind::EventHubsNamespace,
            format!("evhns-{prefix}"),
        ),
        key_vault: pick(
            &a.names.key_vault,
            NameKind::KeyVault,
            format!("kv-{prefix}"),
        ),
        alerts_app: GlobalName::derived(NameKind::FunctionApp, &format!("func-alerts-{prefix}")),
        allocation_app: GlobalName::derived(
            NameKind::FunctionApp,
            &format!("func-allocation-{prefix}"),
        ),
        cosmos_account: GlobalName::derived(NameKind::CosmosAccount, &format!("cosmos-{prefix}")),
        kusto_cluster: GlobalName::derived(NameKind::KustoCluster, &format!("adx{compact}")),
    }
}

/// Hubs to create: one per linked hub location, or one in the main location. With several,
/// each derived name keeps its location whole, so cutting a long stem never merges two.
pub fn hub_sites(a: &spec::AzureCloud, s: &spec::Stack) -> Vec<m::HubSite> {
    use names::{AZURE_SUFFIX_LEN, GlobalName, NameKind};
    let base = format!("iot-{}", names::prefix(&s.name, &s.environment));
    let name = |location: Option<&str>| match (&a.names.iot_hub, location) {
        (Some(explicit), None) => GlobalName::explicit(explicit),
        (Some(explicit), Some(loc)) => GlobalName::explicit(&format!("{explicit}-{loc}")),
        (None, None) => GlobalName::derived(NameKind::IotHub, &base),
        (None, Some(loc)) => {
            let room = NameKind::IotHub
                .max_len()
                .saturating_sub(AZURE_SUFFIX_LEN + 2 + loc.len());
            let cut: String = base.chars().take(room).collect();
            GlobalName::derived(
                NameKind::IotHub,
                &format!("{}-{loc}", cut.trim_end_matches('-')),
            )
        }
    };
    let linked = a
        .dps
        .as_ref()
        .map(|d| d.linked_hubs.as_slice())
        .unwrap_or_default();
    if linked.len() <= 1 {
        let (location, weight) = linked.first().map_or((a.location.clone(), 1), |l| {
            (l.location.clone(), l.allocation_weight)
        });
        return vec![m::HubSite::new(name(None), location, weight)];
    }
    linked
        .iter()
        .map(|l| {
            m::HubSite::new(
                name(Some(&l.location)),
                l.location.clone(),
                l.allocation_weight,
            )
        })
        .collect()
}

/// Daily IoT Hub quota messages (4 KB blocks) the whole fleet sends, planned, with headroom.
pub fn daily_quota_messages(spec: &FleetSpec, traffic: &m::Traffic) -> u64 {
    metered_daily_messages(spec, traffic, capacity::azure_hub_quota_messages)
}

/// Like [`daily_quota_messages`], metered in the Free tier's 0.5 KB blocks.
fn daily_free_quota_messages(spec: &FleetSpec, traffic: &m::Traffic) -> u64 {
    metered_daily_messages(spec, traffic, capacity::azure_hub_free_quota_messages)
}

/// Daily quota messages of telemetry, twin updates, C2D commands and direct methods, with
/// `blocks` giving how many quota messages one message of so many bytes counts as.
fn metered_daily_messages(spec: &FleetSpec, traffic: &m::Traffic, blocks: fn(u64) -> u64) -> u64 {
    let msg = &spec.messaging;
    let per_device = msg.messages_per_device_per_hour
        * msg.connected_hours_per_day
        * blocks(msg.message_bytes) as f64
        + if msg.state.enabled {
            msg.state.updates_per_device_per_day * blocks(msg.state.document_bytes) as f64
        } else {
            0.0
        }
        + if msg.cloud_to_device.commands { msg.cloud_to_device.commands_per_device_per_day } else { 0.0 }
        // A direct method counts its request and its response.
        + if msg.cloud_to_device.direct_methods {
            2.0 * msg.cloud_to_device.method_calls_per_device_per_day
        } else {
            0.0
        };
    (per_device * traffic.planned_devices as f64 * traffic.headroom).ceil() as u64
}

/// How the DPS spreads the fleet over one linked hub: its share of the devices (0 to 1), and
/// whether the spec says so. Evenly weighted allocation hashes devices in proportion to the
/// weights; static sends them all to the first hub; lowest-latency and custom allocation
/// follow where devices are and what the webhook picks, which only the linked hubs'
/// `devices` can tell. Without them any one hub may receive the whole fleet, so each is
/// given all of it (`predicted: false`, which the validation warns about).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct HubShare {
    pub share: f64,
    pub predicted: bool,
}

/// The share of each hub [`hub_sites`] creates, in the same order.
pub fn hub_shares(a: &spec::AzureCloud, fleet_devices: u64) -> Vec<HubShare> {
    let whole = HubShare {
        share: 1.0,
        predicted: true,
    };
    let Some(dps) = a.dps.as_ref().filter(|d| d.linked_hubs.len() > 1) else {
        return vec![whole];
    };
    let hubs = &dps.linked_hubs;
    match dps.allocation {
        spec::Allocation::EvenlyWeighted => {
            let total: u32 = hubs.iter().map(|l| l.allocation_weight).sum();
            hubs.iter()
                .map(|l| HubShare {
                    share: if total == 0 {
                        1.0
                    } else {
                        f64::from(l.allocation_weight) / f64::from(total)
                    },
                    predicted: total > 0,
                })
                .collect()
        }
        spec::Allocation::Static => (0..hubs.len())
            .map(|i| HubShare {
                share: if i == 0 { 1.0 } else { 0.0 },
                predicted: true,
            })
            .collect(),
        spec::Allocation::LowestLatency | spec::Allocation::Custom => {
            let counts: Option<Vec<u64>> = hubs.iter().map(|l| l.devices).collect();
            match counts {
                Some(counts) if fleet_devices > 0 => counts
                    .iter()
                    .map(|n| HubShare {
                        share: *n as f64 / fleet_devices as f64,
                        predicted: true,
                    })
                    .collect(),
                _ => hubs
                    .iter()
                    .map(|_| HubShare {
                        share: 1.0,
                        predicted: false,
                    })
                    .collect(),
            }
        }
    }
}

/// Sizes the hub from the tier preference: the cheapest SKU and unit count that carries
/// `daily` quota messages, Basic only when nothing talks back to devices (`talks_back` is
/// also true when OTA is on: Device Update needs twins and cloud-to-device messages).
pub fn size_hub(
    hub: &spec::AzureIotHub,
    daily: u64,
    talks_back: bool,
) -> Result<capacity::HubSizing, capacity::CapacityError> {
    let pin = |sku: HubSku, units| capacity::HubPin {
        sku: sku.into(),
        units,
    };
    if let Some(sku) = hub.sku {
        return capacity::iot_hub_sizing(daily, !talks_back, Some(pin(sku, hub.units)));
    }
    match hub.tier {
        HubTier::Free => capacity::iot_hub_sizing(daily, false, Some(pin(HubSku::F1, Some(1)))),
        HubTier::Basic => {
            // The cheapest Basic size that fits; when none does, say so rather than pin one.
            [HubSku::B1, HubSku::B2, HubSku::B3]
                .into_iter()
                .filter_map(|sku| {
                    capacity::iot_hub_sizing(daily, true, Some(pin(sku, hub.units))).ok()
                })
                .min_by(|a, b| a.default_monthly_usd.total_cmp(&b.default_monthly_usd))
                .ok_or(capacity::CapacityError::NoHubFits {
                    daily_messages: daily,
                    allow_basic: true,
                })
        }
        HubTier::Standard => capacity::iot_hub_sizing(daily, false, None),
        HubTier::Auto => capacity::iot_hub_sizing(daily, !talks_back, None),
    }
}

fn azure(
    a: &spec::AzureCloud,
    spec: &FleetSpec,
    traffic: &m::Traffic,
    messaging: &m::Messaging,
    diags: &mut Diagnostics,
) -> m::Azure {
    let names = azure_names(a, &spec.stack);
    let shares = hub_shares(a, spec.fleet.devices);
    let total_daily = daily_quota_messages(spec, traffic);
    let free = a.iot_hub.tier == HubTier::Free || a.iot_hub.sku == Some(HubSku::F1);
    // Device Update needs twins and cloud-to-device messages, so OTA rules Basic out too.
    let needs_standard = messaging.cloud_talks_back() || spec.pipeline.ota.enabled;
    // Each hub is sized for its own share of the traffic; a pin applies to every hub.
    let sized: Vec<(u64, Result<capacity::HubSizing, capacity::CapacityError>)> = shares
        .iter()
        .map(|s| {
            let daily = if free {
                daily_free_quota_messages(spec, traffic)
            } else {
                (total_daily as f64 * s.share).ceil() as u64
            };
            (daily, size_hub(&a.iot_hub, daily, needs_standard))
        })
        .collect();
    // One diagnostic, for the busiest hub that does not fit.
    if let Some((per_hub_daily, Err(e))) = sized
        .iter()
        .filter(|(_, r)| r.is_err())
        .max_by_key(|(daily, _)| *daily)
    {
        let per_hub_daily = *per_hub_daily;
        match e {
            capacity::CapacityError::HubPinnedTooSmall {
                sku,
                units,
                daily_capacity,
                daily_messages,
            } => diags.push(
                Diagnostic::warning(
                    "hub-undersized",
                    format!(
                        "{sku} x {units} carries {daily_capacity} messages a day per hub; the fleet is planned at {daily_messages}: devices will be throttled"
                    ),
                )
                .at(SpecPath::parse(if a.iot_hub.units.is_some() { "clouds.azure.iot_hub.units" } else { "clouds.azure.iot_hub" }))
                .hint("remove `sku` and `units` to let fleetform size the hub"),
            ),
            e => diags.push(
                Diagnostic::error(
                    "capacity-exceeded",
                    match e {
                        capacity::CapacityError::NoHubFits { .. } => format!(
                            "no IoT Hub size carries {per_hub_daily} quota messages (4 KB blocks) a day per hub; the largest, {} x 10, carries 3,000,000,000",
                            if a.iot_hub.tier == HubTier::Basic { "B3" } else { "S3" },
                        ),
                        other => format!("the IoT hub cannot carry the fleet: {other}"),
                    },
                )
                .at(SpecPath::parse("fleet.devices"))
                .hint("link more hubs through the DPS (`clouds.azure.dps.linked_hubs`), allow a higher tier, or send fewer, larger messages"),
            ),
        }
    }
    let sized: Vec<(u64, HubSku, u32, u64)> = sized
        .into_iter()
        .map(|(daily, r)| match r {
            Ok(s) => (daily, HubSku::from(s.sku), s.units, s.daily_capacity),
            // What the pin builds, too small (the warning above says so).
            Err(capacity::CapacityError::HubPinnedTooSmall {
                sku,
                units,
                daily_capacity,
                ..
            }) => (daily, HubSku::from(sku), units, daily_capacity),
            Err(_) => (
                daily,
                HubSku::S3,
                10,
                capacity::HubSku::S3.daily_quota_per_unit() * 10,
            ),
        })
        .collect();
    let mut hubs = hub_sites(a, &spec.stack);
    for ((site, share), (daily, sku, units, quota)) in hubs.iter_mut().zip(&shares).zip(&sized) {
        site.share = share.share;
        site.predicted = share.predicted;
        site.devices = (spec.fleet.devices as f64 * share.share).round() as u64;
        site.sku = *sku;
        site.units = *units;
        site.planned_daily_quota_messages = *daily;
        site.daily_quota = *quota;
    }
    // The busiest hub stands for all of them where one size is shown (the first on a tie).
    let busiest = hubs
        .iter()
        .enumerate()
        .max_by(|(i, x), (j, y)| {
            x.planned_daily_quota_messages
                .cmp(&y.planned_daily_quota_messages)
                .then(j.cmp(i))
        })
        .map_or(0, |(i, _)| i);
    let (per_hub_daily, sku, units, daily_quota) = hubs.get(busiest).map_or(
        (
            0,
            HubSku::S1,
            1,
            capacity::HubSku::S1.daily_quota_per_unit(),
        ),
        |h| {
            (
                h.planned_daily_quota_messages,
                h.sku,
                h.units,
                h.daily_quota,
            )
        },
    );
    let eh = &a.event_hubs;
    // Premium namespaces are sized in processing units; start at one.
    let throughput_units = match capacity::event_hubs_throughput_units(
        traffic.peak_bytes_per_second,
        traffic.peak_messages_per_second,
        eh.tier.into(),
    ) {
        Ok(tus) => tus,
        Err(capacity::CapacityError::NotThroughputUnitTier { .. }) => 1,
        Err(e) => {
            diags.push(
                Diagnostic::error("capacity-exceeded", format!("Event Hubs cannot carry the fleet's peak: {e}"))
                    .at(SpecPath::parse("clouds.azure.event_hubs.tier"))
                    .hint("use `tier: premium`, or lower `messaging.peak_factor` if peaks are over-estimated"),
            );
            capacity::EVENT_HUBS_MAX_THROUGHPUT_UNITS
        }
    };
    m::Azure {
        location: a.location.clone(),
        resource_group: a.resource_group.clone(),
        create_resource_group: a.create_resource_group,
        hub: m::IotHub {
            sku,
            units,
            pinned: a.iot_hub.sku.is_some() || a.iot_hub.units.is_some(),
            planned_daily_quota_messages: per_hub_daily,
            daily_quota,
            partitions: a.iot_hub.partitions,
            retention_days: a.iot_hub.retention_days,
            local_authentication: a.iot_hub.local_authentication,
            public_network_access: a.iot_hub.public_network_access,
            ip_filter: ip_rules(&a.iot_hub.ip_filter),
        },
        hubs,
        dps: a.dps.as_ref().map(|d| m::Dps {
            allocation: d.allocation,
            enrollment_groups: d
                .enrollment_groups
                .iter()
                .map(|g| m::EnrollmentGroup {
                    name: g.name.clone(),
                    device_type: g.device_type.clone(),
                    attestation: g.attestation.unwrap_or(spec.identity.method),
                    iot_edge: g.iot_edge,
                    // Naming the fleet CA again is the same as leaving it out.
                    ca_certificate_file: g
                        .ca_certificate_file
                        .clone()
                        .filter(|f| *f != fleet_ca_file(&spec.identity)),
                })
                .collect(),
            reprovisioning: d.reprovisioning,
            data_residency: d.data_residency,
            ip_filter: ip_rules(&d.ip_filter),
        }),
        event_hubs: m::EventHubs {
            tier: eh.tier,
            partitions: eh.partitions,
            retention_days: eh.retention_days,
            capture: eh.capture,
            capture_interval_seconds: eh.capture_interval_seconds,
            capture_size_mib: eh.capture_size_mib,
            throughput_units,
            max_throughput_units: eh.max_throughput_units,
        },
        storage: m::AzureStorage {
            replication: a.storage.replication,
            infrastructure_encryption: a.storage.infrastructure_encryption,
            hierarchical_namespace: a.storage.hierarchical_namespace,
        },
        alert_engine: a.alert_engine,
        names,
    }
}

fn ip_rules(rules: &[spec::IpRule]) -> Vec<m::IpRule> {
    rules
        .iter()
        .map(|r| m::IpRule {
            name: r.name.clone(),
            ip_mask: r.ip_mask.clone(),
            action: r.action,
        })
        .collect()
}

fn fleet(f: &spec::Fleet, file_devices: Arc<Registry>) -> m::Fleet {
    let inline = f
        .registry
        .as_ref()
        .map(|r| r.devices.as_slice())
        .unwrap_or_default();
    // Without inline devices, every model built from the same file shares its devices.
    let registry = if inline.is_empty() {
        file_devices
    } else {
        let mut all = (*file_devices).clone();
        for d in inline {
            // Validation has checked the ids, so nothing here is too long to index.
            let _ = all.push(
                &d.id,
                d.device_type.as_deref(),
                d.groups.iter().map(String::as_str),
                d.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            );
        }
        Arc::new(all)
    };
    m::Fleet {
        devices: f.devices,
        growth_percent_per_year: f.growth_percent_per_year,
        device_types: f
            .device_types
            .iter()
            .map(|t| m::DeviceType {
                name: t.name.clone(),
                description: t.description.clone(),
                searchable_attributes: t.searchable_attributes.clone(),
            })
            .collect(),
        groups: parents_first(&f.groups),
        registry,
        bulk_threshold: f
            .registry
            .as_ref()
            .map_or(spec::DEFAULT_BULK_THRESHOLD, |r| r.bulk_threshold),
    }
}

/// Orders groups so every parent comes before its children (validation rules out cycles).
///
/// Groups already listed parents first keep spec order. Otherwise the order is that of
/// sweeping the list in spec order, again and again, each sweep taking every group whose
/// parent is taken: a group is in its parent's sweep when it comes after its parent, else in
/// the next. That sweep number is computed here in one pass from the roots down.
fn parents_first(groups: &[spec::DeviceGroup]) -> Vec<m::DeviceGroup> {
    let mut children: std::collections::HashMap<&str, Vec<usize>> =
        std::collections::HashMap::new();
    let mut sweep: Vec<Option<usize>> = vec![None; groups.len()];
    let mut todo = Vec::new();
    for (i, g) in groups.iter().enumerate() {
        if let Some(p) = &g.parent {
            children.entry(p.as_str()).or_default().push(i);
        } else {
            sweep[i] = Some(0);
            todo.push(i);
        }
    }
    while let Some(i) = todo.pop() {
        let Some(kids) = children.remove(groups[i].name.as_str()) else {
            continue;
        };
        let parent_sweep = sweep[i].unwrap_or(0);
        for k in kids {
            if sweep[k].is_none() {
                sweep[k] = Some(parent_sweep + usize::from(k < i));
                todo.push(k);
            }
        }
    }
    let mut order: Vec<usize> = (0..groups.len()).collect();
    // Groups no root reaches (a cycle or a missing parent, which validation reports) go last.
    order.sort_by_key(|&i| (sweep[i].unwrap_or(usize::MAX), i));
    order
        .into_iter()
        .map(|i| {
            let g = &groups[i];
            m::DeviceGroup {
                name: g.name.clone(),
                parent: sweep[i].and(g.parent.clone()),
                description: g.description.clone(),
            }
        })
        .collect()
}

/// The fleet CA's file, relative to the spec.
pub fn fleet_ca_file(i: &spec::Identity) -> String {
    i.x509
        .ca_certificate_file
        .clone()
        .unwrap_or_else(|| "certs/signing-ca.pem".to_owned())
}

fn identity(i: &spec::Identity) -> m::Identity {
    m::Identity {
        method: i.method,
        ca: i.x509.ca,
        ca_certificate_file: fleet_ca_file(i),
        key_algorithm: i.x509.key_algorithm,
        subject: i.x509.subject.clone(),
        validity: i.x509.validity.clone(),
    }
}

fn parse_topic(
    raw: &str,
    usage: topic::Use,
    path: SpecPath,
    diags: &mut Diagnostics,
) -> Option<topic::Topic> {
    match topic::parse(raw, usage) {
        Ok(t) => {
            if t.max_bytes() > topic::MAX_BYTES {
                diags.push(
                    Diagnostic::warning(
                        "long-topic",
                        format!(
                            "with 128-character ids this topic reaches {} bytes, over AWS IoT's {}",
                            t.max_bytes(),
                            topic::MAX_BYTES
                        ),
                    )
                    .at(path)
                    .hint("keep device ids and type names short, or use fewer placeholders"),
                );
            }
            Some(t)
        }
        Err(e) => {
            diags.push(
                Diagnostic::error("bad-topic", format!("invalid topic: {}", e.message))
                    .at(path)
                    .inside(e.offset, 1)
                    .hint("topics are levels of letters, digits and `-_.:=@` separated by `/`, with `{device_id}` for the device's own id"),
            );
            None
        }
    }
}

fn messaging(msg: &spec::Messaging, diags: &mut Diagnostics) -> m::Messaging {
    let fallback = |raw: &str| topic::parse(raw, topic::Use::Publish).ok();
    let telemetry = parse_topic(
        &msg.topics.telemetry,
        topic::Use::Publish,
        SpecPath::parse("messaging.topics.telemetry"),
        diags,
    )
    .or_else(|| fallback("dt/{device_id}/telemetry"));
    let commands = parse_topic(
        &msg.topics.commands,
        topic::Use::Publish,
        SpecPath::parse("messaging.topics.commands"),
        diags,
    )
    .or_else(|| fallback("cmd/{device_id}/req"));
    let (Some(telemetry_topic), Some(command_topic)) = (telemetry, commands) else {
        unreachable!("the fallback topics are valid")
    };
    let c2d = &msg.cloud_to_device;
    m::Messaging {
        telemetry_topic,
        command_topic,
        messages_per_device_per_hour: msg.messages_per_device_per_hour,
        message_bytes: msg.message_bytes,
        peak_factor: msg.peak_factor,
        connected_hours_per_day: msg.connected_hours_per_day,
        commands: c2d.commands,
        commands_per_device_per_day: c2d.commands_per_device_per_day,
        direct_methods: c2d.direct_methods,
        method_calls_per_device_per_day: c2d.method_calls_per_device_per_day,
        state: msg.state.enabled,
        state_updates_per_device_per_day: msg.state.updates_per_device_per_day,
        state_document_bytes: msg.state.document_bytes,
    }
}

fn access(a: &spec::Authorization, msg: &m::Messaging, diags: &mut Diagnostics) -> m::Access {
    let mut publish = vec![msg.telemetry_topic.clone()];
    for (i, raw) in a.device.publish.iter().enumerate() {
        let path = SpecPath::parse("authorization.device.publish").index(i);
        publish.extend(parse_topic(raw, topic::Use::Publish, path, diags));
    }
    let mut subscribe = Vec::new();
    if msg.commands {
        subscribe.push(msg.command_topic.clone());
    }
    for (i, raw) in a.device.subscribe.iter().enumerate() {
        let path = SpecPath::parse("authorization.device.subscribe").index(i);
        subscribe.extend(parse_topic(raw, topic::Use::Subscribe, path, diags));
    }
    publish.dedup();
    subscribe.dedup();
    m::Access {
        publish,
        subscribe,
        services: a
            .services
            .iter()
            .map(|s| {
                let mut access = s.access.clone();
                access.sort();
                access.dedup();
                m::Service {
                    name: s.name.clone(),
                    access,
                }
            })
            .collect(),
        cloud_credentials: a.cloud_credentials.as_ref().map(|c| {
            let mut grants = c.grants.clone();
            grants.sort();
            grants.dedup();
            m::CloudCredentials {
                role_alias: c.role_alias.clone(),
                duration_seconds: c.duration_seconds,
                grants,
            }
        }),
    }
}

fn parse_condition(
    spec: &FleetSpec,
    text: &str,
    path: SpecPath,
    diags: &mut Diagnostics,
) -> Option<condition::Expr> {
    match condition::parse(text) {
        // A backslash can only be inside a string. AWS IoT SQL documents no escapes in string
        // literals, so whether it reads `\'` as the end of the string is unknown: refused
        // rather than guessed at (the IoT Hub and Stream Analytics dialects escape it).
        Ok(_) if spec.clouds.aws.is_some() && text.contains('\\') => {
            let offset = text.find('\\').unwrap_or(0);
            diags.push(
                Diagnostic::error(
                    "bad-condition",
                    "invalid condition: AWS IoT SQL documents no escapes in strings, so a string may not contain a backslash",
                )
                .at(path)
                .inside(offset, 1)
                .hint("compare without the backslash (for example with a prefix or suffix of the value), or build this fleet for Azure only"),
            );
            None
        }
        Ok(e) => Some(e),
        Err(e) => {
            diags.push(
                Diagnostic::error("bad-condition", format!("invalid condition: {}", e.message))
                    .at(path)
                    .inside(e.offset, 1)
                    .hint("example: `temperature > 80 and status = 'ok'` (fields of the JSON body, = != < <= > >=, and/or/not)"),
            );
            None
        }
    }
}

fn routes(spec: &FleetSpec, diags: &mut Diagnostics) -> Vec<m::Route> {
    if spec.pipeline.routes.is_empty() {
        let mut to = vec![spec::Destination::Stream];
        if spec.storage.archive.enabled {
            to.push(spec::Destination::Archive);
        }
        if spec.pipeline.state_store.enabled {
            to.push(spec::Destination::StateStore);
        }
        return vec![m::Route {
            name: "telemetry".to_owned(),
            source: spec::RouteSource::Telemetry,
            condition: None,
            condition_text: None,
            to,
        }];
    }
    spec.pipeline
        .routes
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let path = SpecPath::parse("pipeline.routes").index(i).key("condition");
            let condition = r
                .condition
                .as_deref()
                .and_then(|c| parse_condition(spec, c, path, diags));
            let mut to = r.to.clone();
            to.sort();
            to.dedup();
            m::Route {
                name: r.name.clone(),
                source: r.source,
                condition,
                condition_text: r.condition.clone(),
                to,
            }
        })
        .collect()
}

fn alerts(spec: &FleetSpec, diags: &mut Diagnostics) -> Vec<m::Alert> {
    spec.pipeline
        .alerts
        .iter()
        .enumerate()
        .filter_map(|(i, a)| {
            let path = SpecPath::parse("pipeline.alerts").index(i).key("condition");
            Some(m::Alert {
                name: a.name.clone(),
                cloud_name: a.renamed_from.clone().unwrap_or_else(|| a.name.clone()),
                renamed_from: a.renamed_from.clone(),
                condition: parse_condition(spec, &a.condition, path, diags)?,
                condition_text: a.condition.clone(),
                function: a.function,
                notify: a.notify,
                expected_match_fraction: a.expected_match_fraction,
            })
        })
        .collect()
}

fn archive(a: &spec::Archive) -> m::Archive {
    m::Archive {
        versioning: a.versioning,
        encryption: a.encryption,
        lifecycle: a
            .lifecycle
            .iter()
            .map(|r| m::Transition {
                tier: r.tier,
                after_days: r.after_days,
            })
            .collect(),
        expire_after_days: a.expire_after_days,
        noncurrent_versions_expire_after_days: a.noncurrent_versions_expire_after_days,
        prefixes: a.prefixes.clone(),
    }
}

/// Stack layout with state storage names resolved. Derived names carry a short hash of the
/// stack name, so two teams using the same stack name rarely collide on global names.
pub fn stacks(s: &spec::Stacks, spec: &FleetSpec) -> m::Stacks {
    let hash = &crate::emit::sha256_hex(spec.stack.name.as_bytes())[..8];
    m::Stacks {
        registry_shard_size: s.registry_shard_size as usize,
        aws: spec.clouds.aws.as_ref().map(|a| m::AwsState {
            bucket: s
                .state
                .aws
                .bucket
                .clone()
                .unwrap_or_else(|| format!("tfstate-{}-{hash}", spec.stack.name)),
            region: s
                .state
                .aws
                .region
                .clone()
                .unwrap_or_else(|| a.region.clone()),
        }),
        azure: spec.clouds.azure.as_ref().map(|a| m::AzureState {
            resource_group: s
                .state
                .azure
                .resource_group
                .clone()
                .unwrap_or_else(|| format!("rg-{}-tfstate", spec.stack.name)),
            storage_account: s
                .state
                .azure
                .storage_account
                .clone()
                .unwrap_or_else(|| format!("sttfstate{hash}")),
            container: "tfstate".to_owned(),
            location: s
                .state
                .azure
                .location
                .clone()
                .unwrap_or_else(|| a.location.clone()),
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn linked(allocation: &str, weights: &[u32]) -> spec::AzureCloud {
        let hubs: Vec<_> = ["westeurope", "northeurope", "eastus"]
            .iter()
            .zip(weights)
            .map(|(l, w)| serde_json::json!({"location": l, "allocation_weight": w}))
            .collect();
        serde_json::from_value(serde_json::json!({
            "location": "westeurope",
            "resource_group": "rg",
            "dps": {"allocation": allocation, "linked_hubs": hubs},
        }))
        .expect("a valid azure cloud")
    }

    #[test]
    fn hub_shares_follow_the_allocation_policy() {
        let shares = |a: &spec::AzureCloud| -> Vec<(f64, bool)> {
            hub_shares(a, 1000)
                .into_iter()
                .map(|s| (s.share, s.predicted))
                .collect()
        };
        // Weights decide the split: 3 of 4 devices hash to the first hub.
        assert_eq!(
            shares(&linked("evenly_weighted", &[3, 1])),
            [(0.75, true), (0.25, true)]
        );
        // Static sends every device to the first hub.
        assert_eq!(
            shares(&linked("static", &[1, 1, 1])),
            [(1.0, true), (0.0, true), (0.0, true)]
        );
        // Lowest latency and custom allocation may send the whole fleet to any one hub.
        assert_eq!(
            shares(&linked("lowest_latency", &[1, 1, 1])),
            [(1.0, false); 3]
        );
        assert_eq!(shares(&linked("custom", &[1, 1])), [(1.0, false); 2]);
        // ... unless the spec says how many devices each hub gets.
        let mut a = linked("lowest_latency", &[1, 1]);
        let dps = a.dps.as_mut().unwrap();
        dps.linked_hubs[0].devices = Some(600);
        dps.linked_hubs[1].devices = Some(400);
        assert_eq!(shares(&a), [(0.6, true), (0.4, true)]);
    }

    fn groups(list: &[(&str, Option<&str>)]) -> Vec<spec::DeviceGroup> {
        list.iter()
            .map(|(name, parent)| spec::DeviceGroup {
                name: (*name).to_owned(),
                parent: parent.map(str::to_owned),
                description: None,
            })
            .collect()
    }

    fn names(ordered: &[m::DeviceGroup]) -> Vec<&str> {
        ordered.iter().map(|g| g.name.as_str()).collect()
    }

    #[test]
    fn parents_first_keeps_spec_order_when_parents_come_first() {
        let g = groups(&[("a", None), ("b", Some("a")), ("z", None), ("c", Some("b"))]);
        assert_eq!(names(&parents_first(&g)), ["a", "b", "z", "c"]);
    }

    #[test]
    fn parents_first_moves_children_after_their_parents() {
        // Sweep one takes `c`, `a` and `d` (its parent `a` is taken just before); sweep two `b`.
        let g = groups(&[("b", Some("a")), ("c", None), ("a", None), ("d", Some("a"))]);
        let ordered = parents_first(&g);
        assert_eq!(names(&ordered), ["c", "a", "d", "b"]);
        assert_eq!(ordered[3].parent.as_deref(), Some("a"));
    }

    #[test]
    fn parents_first_is_fast_on_a_chain_listed_children_first() {
        let n = 20_000;
        let list: Vec<(String, Option<String>)> = (0..n)
            .map(|i| (format!("g{i}"), (i + 1 < n).then(|| format!("g{}", i + 1))))
            .collect();
        let g: Vec<spec::DeviceGroup> = list
            .iter()
            .map(|(name, parent)| spec::DeviceGroup {
                name: name.clone(),
                parent: parent.clone(),
                description: None,
            })
            .collect();
        let ordered = parents_first(&g);
        assert_eq!(ordered.len(), n);
        assert_eq!(ordered[0].name, format!("g{}", n - 1));
        assert_eq!(ordered[n - 1].name, "g0");
    }

    #[test]
    fn parents_first_keeps_unreachable_groups_last_and_unparented() {
        let g = groups(&[("x", Some("y")), ("y", Some("x")), ("a", None)]);
        let ordered = parents_first(&g);
        assert_eq!(names(&ordered), ["a", "x", "y"]);
        assert!(ordered[1].parent.is_none() && ordered[2].parent.is_none());
    }

    #[test]
    fn free_tier_counts_twin_c2d_and_method_messages_too() {
        let spec = "version: 1\nstack: {name: free}\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-free\n    iot_hub: {tier: free}\nfleet:\n  devices: 10\nmessaging:\n  messages_per_device_per_hour: 1\n  connected_hours_per_day: 24\n  message_bytes: 256\n  state: {enabled: true, updates_per_device_per_day: 10, document_bytes: 256}\n  cloud_to_device:\n    commands: true\n    commands_per_device_per_day: 5\n    direct_methods: true\n    method_calls_per_device_per_day: 2\n";
        let outcome = crate::validate::validate("free.yaml", spec, &crate::validate::NoFiles);
        let v = outcome
            .validated
            .unwrap_or_else(|| panic!("{:?}", outcome.diagnostics));
        let planned = v.model.azure.unwrap().hub.planned_daily_quota_messages;
        let t = traffic(&v.spec);
        // Telemetry 24, twin 10, C2D 5, methods 2 x 2 per device a day; every message fits
        // in one 0.5 KB block, so both meters agree.
        let per_device = 24.0 + 10.0 + 5.0 + 4.0;
        let expected = (per_device * t.planned_devices as f64 * t.headroom).ceil() as u64;
        assert_eq!(planned, expected);
        assert_eq!(planned, daily_quota_messages(&v.spec, &t));
    }

    #[test]
    fn conditions_written_as_block_scalars_are_accepted() {
        let spec = "version: 1\nstack: {name: folded}\nclouds:\n  aws: {region: us-east-1}\nfleet:\n  devices: 10\npipeline:\n  alerts:\n    - name: dry_run\n      condition: >\n        flow_lpm < 1 and\n        motor_on = true\n";
        let outcome = crate::validate::validate("folded.yaml", spec, &crate::validate::NoFiles);
        let v = outcome
            .validated
            .unwrap_or_else(|| panic!("{:?}", outcome.diagnostics));
        assert_eq!(
            v.model.alerts[0]
                .condition
                .render(condition::Dialect::AwsIotSql),
            "flow_lpm < 1 AND motor_on = true"
        );
    }
}
