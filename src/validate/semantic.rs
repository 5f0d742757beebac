//! Semantic checks: what a well-formed spec may still get wrong.
//!
//! The schema knows shapes; these checks know clouds. Each one reports with the spec path of
//! the value to change and a hint on how, and none stops the others: a spec with five
//! problems gets five diagnostics in one run.
//!
//! Long (about 1,300 lines): one function per spec section in the document's order, so a
//! reviewer finds a check where the key lives. The per-cloud checks (`aws_provisioning`,
//! `azure`, `cloud_names`) are the next to move into the cloud folders.

use std::collections::{BTreeMap, BTreeSet};

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::lower;
use crate::model::names::{self, NameKind};
use crate::spec::node::SpecPath;
use crate::spec::{
    Allocation, AuthMethod, AwsProvisioningMethod, CaSource, CredentialGrant, Destination,
    EventHubsTier, FleetSpec, HubSku, HubTier, StorageTier,
};

fn p(dotted: &str) -> SpecPath {
    SpecPath::parse(dotted)
}

/// Runs every semantic check.
pub fn check(spec: &FleetSpec) -> Diagnostics {
    let mut d = Diagnostics::new();
    clouds(spec, &mut d);
    identity(spec, &mut d);
    aws_provisioning(spec, &mut d);
    azure(spec, &mut d);
    cloud_names(spec, &mut d);
    fleet(spec, &mut d);
    pipeline(spec, &mut d);
    lifecycle(spec, &mut d);
    messaging(spec, &mut d);
    authorization(spec, &mut d);
    monitoring(spec, &mut d);
    tags(spec, &mut d);
    d
}

fn clouds(spec: &FleetSpec, d: &mut Diagnostics) {
    if spec.clouds.aws.is_none() && spec.clouds.azure.is_none() {
        d.push(
            Diagnostic::error("no-cloud", "no cloud selected: `clouds` needs `aws`, `azure`, or both")
                .at_key(p("clouds"))
                .hint("add `aws: {region: us-east-1}` or `azure: {location: westeurope, resource_group: rg-NAME}` under `clouds`"),
        );
    }
}

fn identity(spec: &FleetSpec, d: &mut Diagnostics) {
    let method = spec.identity.method;
    let has_aws = spec.clouds.aws.is_some();
    let azure = spec.clouds.azure.as_ref();
    match method {
        AuthMethod::SymmetricKey if has_aws => d.push(
            Diagnostic::error("unsupported-on-cloud", "AWS IoT Core does not authenticate devices with symmetric keys")
                .at(p("identity.method"))
                .hint("use `x509` (both clouds), or build this fleet for Azure only"),
        ),
        AuthMethod::Tpm if has_aws => d.push(
            Diagnostic::error("unsupported-on-cloud", "AWS IoT Core has no TPM attestation; it is an Azure DPS feature")
                .at(p("identity.method"))
                .hint("use `x509` with keys kept in the TPM or a secure element, or build this fleet for Azure only"),
        ),
        AuthMethod::Tpm if azure.is_some_and(|a| a.dps.is_none()) => d.push(
            Diagnostic::error("tpm-needs-dps", "TPM attestation goes through the Device Provisioning Service, and no DPS is configured")
                .at(p("identity.method"))
                .hint("add `clouds.azure.dps: {}`"),
        ),
        _ => {}
    }
    let x = &spec.identity.x509;
    if x.ca == CaSource::Provided && x.ca_certificate_file.is_none() {
        d.push(
            Diagnostic::error("missing-ca-file", "`ca: provided` needs the CA certificate's path")
                .at_key(p("identity.x509.ca"))
                .hint("add `ca_certificate_file: certs/ca.pem` (a PEM file, relative to the spec), or use `ca: generated` and run `fleetform certs init`"),
        );
    }
    if let Some(file) = &x.ca_certificate_file
        && (file.chars().any(char::is_control) || file.trim().is_empty())
    {
        d.push(
            Diagnostic::error(
                "bad-path",
                "the CA certificate path is empty or contains control characters",
            )
            .at(p("identity.x509.ca_certificate_file")),
        );
    }
    if x.validity.device_days > x.validity.signing_ca_days {
        d.push(
            Diagnostic::error(
                "validity-order",
                "device certificates would outlive the signing CA that issues them",
            )
            .at(p("identity.x509.validity.device_days"))
            .hint(format!(
                "use at most {} days, or lengthen `signing_ca_days`",
                x.validity.signing_ca_days
            )),
        );
    }
    if x.validity.signing_ca_days > x.validity.root_ca_days {
        d.push(
            Diagnostic::error("validity-order", "the signing CA would outlive the root CA")
                .at(p("identity.x509.validity.signing_ca_days"))
                .hint(format!(
                    "use at most {} days, or lengthen `root_ca_days`",
                    x.validity.root_ca_days
                )),
        );
    }
}

fn aws_provisioning(spec: &FleetSpec, d: &mut Diagnostics) {
    let Some(aws) = &spec.clouds.aws else { return };
    let prov = &aws.provisioning;
    let method_path = p("clouds.aws.provisioning.method");
    let fleet = matches!(
        prov.method,
        AwsProvisioningMethod::FleetByClaim | AwsProvisioningMethod::TrustedUser
    );
    match prov.pre_provisioning_hook {
        Some(true) if !fleet => d.push(
            Diagnostic::error(
                "hook-needs-fleet-provisioning",
                "a pre-provisioning hook only runs for fleet provisioning templates",
            )
            .at(p("clouds.aws.provisioning.pre_provisioning_hook"))
            .hint(
                "use `method: fleet_by_claim` or `trusted_user`, or remove `pre_provisioning_hook`",
            ),
        ),
        Some(false) if fleet => d.push(
            Diagnostic::error(
                "hook-required",
                "fleet provisioning cannot run without its pre-provisioning hook: without it, whoever holds a claim can provision any serial number, an existing device's included, and take the device over",
            )
            .at(p("clouds.aws.provisioning.pre_provisioning_hook"))
            .hint("remove `pre_provisioning_hook: false`; the hook admits serial numbers on the allow list (`allow_list_table`) whose thing has no certificate yet"),
        ),
        _ => {}
    }
    if prov.allow_list_table.is_some() && !fleet {
        d.push(
            Diagnostic::warning(
                "unused-setting",
                "`allow_list_table` only matters for fleet provisioning (fleet_by_claim or trusted_user)",
            )
            .at(p("clouds.aws.provisioning.allow_list_table"))
            .hint("remove `allow_list_table`, or use `method: fleet_by_claim` or `trusted_user`"),
        );
    }
    if prov.claim_client_id_prefix.is_some() && prov.method != AwsProvisioningMethod::FleetByClaim {
        d.push(
            Diagnostic::warning(
                "unused-setting",
                "`claim_client_id_prefix` only matters for fleet provisioning by claim",
            )
            .at(p("clouds.aws.provisioning.claim_client_id_prefix"))
            .hint("remove `claim_client_id_prefix`: only the claim certificate of `fleet_by_claim` connects with it"),
        );
    }
    if matches!(
        prov.method,
        AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr
    ) && spec.identity.method != AuthMethod::X509
    {
        d.push(
            Diagnostic::error(
                "provisioning-needs-ca",
                format!(
                    "{} registers devices by the CA that signed their certificates, so it needs `identity.method: x509`",
                    if prov.method == AwsProvisioningMethod::Jitp { "JITP" } else { "JITR" }
                ),
            )
            .at(method_path.clone())
            .hint("use `identity.method: x509` with a CA (`fleetform certs init`), or `method: fleet_by_claim`"),
        );
    }
    if prov.method == AwsProvisioningMethod::Manual
        && spec
            .fleet
            .registry
            .as_ref()
            .is_none_or(|r| r.file.is_none() && r.devices.is_empty())
    {
        d.push(
            Diagnostic::warning("manual-without-registry", "manual provisioning, but no devices are registered in the spec")
                .at(method_path.clone())
                .hint("list devices in `fleet.registry` so Terraform registers them, or register them out of band with `aws iot create-thing`"),
        );
    }
    if prov.certificate_mode == crate::spec::CertificateMode::SniOnly
        && !matches!(
            prov.method,
            AwsProvisioningMethod::Jitp
                | AwsProvisioningMethod::Jitr
                | AwsProvisioningMethod::Manual
        )
    {
        d.push(
            Diagnostic::warning(
                "unused-setting",
                "`certificate_mode` only matters when a CA is registered (jitp, jitr or manual)",
            )
            .at(p("clouds.aws.provisioning.certificate_mode")),
        );
    }
}

/// Features whose Azure side signs in to the hub with a shared access key, which
/// `local_authentication: false` turns off: each one is a contradiction in the spec, so it
/// is an error at validate time rather than a failed apply.
fn local_auth_users(spec: &FleetSpec, d: &mut Diagnostics) {
    let Some(az) = &spec.clouds.azure else { return };
    if az.iot_hub.local_authentication {
        return;
    }
    // (what needs it, how to do without it)
    let mut users: Vec<(&str, &str)> = Vec::new();
    if az.dps.is_some() {
        // azurerm's `linked_hub` takes only a `connection_string` (a shared access policy's key).
        users.push((
            "`clouds.azure.dps` links the DPS to its hubs with a shared-access-key connection string (it registers devices through it)",
            "remove `clouds.azure.dps` and register devices with the Azure CLI or the registry",
        ));
    }
    if spec.pipeline.ota.enabled {
        // "Do not disable local authentication on the IoT Hub. Device Update requires local
        // authentication to be enabled." (learn.microsoft.com iot-hub-device-update
        // `device-update-resources`, MicrosoftDocs/azure-docs#128399).
        users.push((
            "`pipeline.ota.enabled: true` needs Device Update, which requires local (shared-key) authentication on its hubs",
            "set `pipeline.ota.enabled: false`",
        ));
    }
    for (what, other_fix) in users {
        d.push(
            Diagnostic::error(
                "feature-needs-local-auth",
                format!("{what}, and `clouds.azure.iot_hub.local_authentication: false` turns it off"),
            )
            .at(p("clouds.azure.iot_hub.local_authentication"))
            .hint(format!("keep `local_authentication: true` (service clients can still use Entra ID), or {other_fix}")),
        );
    }
}

fn azure(spec: &FleetSpec, d: &mut Diagnostics) {
    let Some(az) = &spec.clouds.azure else { return };
    let hub = &az.iot_hub;
    let msg = &spec.messaging;
    let talks_back =
        msg.cloud_to_device.commands || msg.cloud_to_device.direct_methods || msg.state.enabled;
    let basic_pinned = hub.tier == HubTier::Basic
        || hub
            .sku
            .is_some_and(|s| matches!(s, HubSku::B1 | HubSku::B2 | HubSku::B3));
    if basic_pinned && talks_back {
        let mut features = Vec::new();
        if msg.cloud_to_device.commands {
            features.push("cloud-to-device commands");
        }
        if msg.cloud_to_device.direct_methods {
            features.push("direct methods");
        }
        if msg.state.enabled {
            features.push("device twins");
        }
        let path = if hub.sku.is_some() {
            p("clouds.azure.iot_hub.sku")
        } else {
            p("clouds.azure.iot_hub.tier")
        };
        d.push(
            Diagnostic::error("feature-needs-standard-tier", format!("the Basic IoT Hub tier has no {}", features.join(", ")))
                .at(path)
                .hint("use `tier: standard` (or `auto`), or turn off `messaging.cloud_to_device` and `messaging.state`"),
        );
    }
    // Device Update needs an S1 or larger hub: Basic has no twins or cloud-to-device
    // messages, and Free is refused (Azure/iot-hub-device-update#550).
    let free_pinned = hub.tier == HubTier::Free || hub.sku == Some(HubSku::F1);
    if spec.pipeline.ota.enabled && (basic_pinned || free_pinned) {
        let (key, word) = match (hub.sku, basic_pinned) {
            (Some(sku), _) => ("clouds.azure.iot_hub.sku", format!("`sku: {sku:?}`")),
            (None, true) => ("clouds.azure.iot_hub.tier", "`tier: basic`".to_owned()),
            (None, false) => ("clouds.azure.iot_hub.tier", "`tier: free`".to_owned()),
        };
        d.push(
            Diagnostic::error(
                "feature-needs-standard-tier",
                format!(
                    "`pipeline.ota.enabled` needs Device Update, which works only with Standard (S1 to S3) IoT hubs, and `{key}` pins {word}"
                ),
            )
            .at(p(key))
            .hint("use `tier: standard` (or `auto`, which picks Standard when OTA is on), or set `pipeline.ota.enabled: false`"),
        );
    }
    if let Some(sku) = hub.sku {
        let tier_of = match sku {
            HubSku::F1 => HubTier::Free,
            HubSku::B1 | HubSku::B2 | HubSku::B3 => HubTier::Basic,
            _ => HubTier::Standard,
        };
        if hub.tier != HubTier::Auto && hub.tier != tier_of {
            d.push(
                Diagnostic::error(
                    "tier-mismatch",
                    format!(
                        "`sku: {sku:?}` is not in the `{}` tier",
                        format!("{:?}", hub.tier).to_lowercase()
                    ),
                )
                .at(p("clouds.azure.iot_hub.sku"))
                .hint("remove `tier` when pinning a `sku`"),
            );
        }
        if let Some(units) = hub.units {
            let max = match sku {
                HubSku::F1 => 1,
                HubSku::B3 | HubSku::S3 => 10,
                _ => 200,
            };
            if units > max {
                d.push(
                    Diagnostic::error(
                        "capacity-exceeded",
                        format!("{sku:?} allows at most {max} unit(s) per hub"),
                    )
                    .at(p("clouds.azure.iot_hub.units"))
                    .hint("use a larger SKU with fewer units, or link more hubs through the DPS"),
                );
            }
        }
    }
    let free = hub.tier == HubTier::Free || hub.sku == Some(HubSku::F1);
    if let Some(dps) = &az.dps {
        let mut seen = BTreeSet::new();
        for (i, l) in dps.linked_hubs.iter().enumerate() {
            if !seen.insert(&l.location) {
                d.push(
                    Diagnostic::error(
                        "duplicate-name",
                        format!("two linked hubs in `{}`", l.location),
                    )
                    .at(p("clouds.azure.dps.linked_hubs").index(i).key("location"))
                    .hint("link one hub per location; size it with `clouds.azure.iot_hub`"),
                );
            }
        }
        // A DPS provisions a device only through an enrollment: a group, or (TPM) an
        // individual enrollment per registered device.
        if dps.enrollment_groups.is_empty() && spec.identity.method != AuthMethod::Tpm {
            d.push(
                Diagnostic::error(
                    "dps-without-enrollment",
                    "the DPS has no enrollment group, so no device can provision through it",
                )
                .at_key(p("clouds.azure.dps"))
                .hint("add one under `clouds.azure.dps.enrollment_groups`, e.g. `enrollment_groups: [{name: devices}]`: its devices attest as `identity.method` says"),
            );
        }
        if free && dps.linked_hubs.len() > 1 {
            d.push(
                Diagnostic::error(
                    "capacity-exceeded",
                    "a subscription may have only one Free (F1) IoT hub",
                )
                .at(p("clouds.azure.dps.linked_hubs"))
                .hint("use `tier: auto`, or link a single hub"),
            );
        }
        let hubs = dps.linked_hubs.len().max(1);
        match dps.allocation {
            Allocation::Custom if dps.enrollment_groups.is_empty() => d.push(
                Diagnostic::error("custom-allocation-needs-group", "custom allocation is set per enrollment group, and there are none")
                    .at(p("clouds.azure.dps.allocation"))
                    .hint("add an enrollment group under `clouds.azure.dps.enrollment_groups`, or pick another allocation"),
            ),
            Allocation::LowestLatency | Allocation::EvenlyWeighted if hubs == 1 && !dps.linked_hubs.is_empty() => d.push(
                Diagnostic::warning("allocation-without-choice", "only one hub is linked, so the allocation policy has nothing to choose from")
                    .at(p("clouds.azure.dps.allocation"))
                    .hint("link hubs in more locations under `clouds.azure.dps.linked_hubs`"),
            ),
            Allocation::Static if hubs > 1 => d.push(
                Diagnostic::warning("static-allocation", "static allocation sends every device to the first linked hub; the others stay empty")
                    .at(p("clouds.azure.dps.allocation"))
                    .hint("use `lowest_latency` or `evenly_weighted` to use every hub"),
            ),
            _ => {}
        }
        if dps.allocation == Allocation::EvenlyWeighted
            && !dps.linked_hubs.is_empty()
            && dps.linked_hubs.iter().all(|l| l.allocation_weight == 0)
        {
            d.push(
                Diagnostic::error(
                    "zero-weights",
                    "every linked hub has `allocation_weight: 0`, so no hub can take devices",
                )
                .at(p("clouds.azure.dps.linked_hubs"))
                .hint("give at least one hub a weight above 0"),
            );
        }
        // Evenly weighted allocation hashes devices over the hubs in proportion to their
        // weights: a hub of weight 0 is created, billed and never receives a device.
        let some_weighted = dps.linked_hubs.iter().any(|l| l.allocation_weight > 0);
        if dps.allocation == Allocation::EvenlyWeighted && some_weighted {
            for (i, l) in dps.linked_hubs.iter().enumerate() {
                if l.allocation_weight == 0 {
                    d.push(
                        Diagnostic::error(
                            "zero-weight",
                            format!("the hub in `{}` has `allocation_weight: 0`, so evenly weighted allocation never sends it a device", l.location),
                        )
                        .at(p("clouds.azure.dps.linked_hubs").index(i).key("allocation_weight"))
                        .hint("give the hub a weight above 0, or remove it from `linked_hubs`"),
                    );
                }
            }
        }
        hub_devices(spec, dps, d);
        let mut names_seen = BTreeSet::new();
        // "A certificate can be specified in only one enrollment entry in your DPS
        // instance" (learn.microsoft.com, iot-dps/concepts-x509-attestation): each X.509
        // group needs a CA of its own.
        let fleet_ca = lower::fleet_ca_file(&spec.identity);
        let mut group_cas: BTreeMap<String, &str> = BTreeMap::new();
        for (i, g) in dps.enrollment_groups.iter().enumerate() {
            let gp = p("clouds.azure.dps.enrollment_groups").index(i);
            let x509 = g.attestation.unwrap_or(spec.identity.method) == AuthMethod::X509;
            if !x509 && g.ca_certificate_file.is_some() {
                d.push(
                    Diagnostic::error("ca-without-x509", format!("enrollment group `{}` does not attest with X.509 certificates, so it has no CA", g.name))
                        .at(gp.key("ca_certificate_file"))
                        .hint("remove `ca_certificate_file`, or set `attestation: x509`"),
                );
            }
            if x509 {
                let ca = g
                    .ca_certificate_file
                    .clone()
                    .unwrap_or_else(|| fleet_ca.clone());
                if let Some(first) = group_cas.get(&ca) {
                    d.push(
                        Diagnostic::error(
                            "shared-group-ca",
                            format!("enrollment groups `{first}` and `{}` would both use the CA `{ca}`; DPS takes a certificate in one enrollment entry only", g.name),
                        )
                        .at(if g.ca_certificate_file.is_some() { gp.key("ca_certificate_file") } else { gp.key("name") })
                        .hint(format!("give `{}` a CA of its own with `ca_certificate_file` (`fleetform certs rotate --name {}-ca` makes one under the same root), or merge it into `{first}`", g.name, g.name)),
                    );
                } else {
                    group_cas.insert(ca, &g.name);
                }
            }
            if !names_seen.insert(&g.name) {
                d.push(
                    Diagnostic::error(
                        "duplicate-name",
                        format!("enrollment group `{}` is listed twice", g.name),
                    )
                    .at(gp.key("name"))
                    .hint("enrollment group names are unique; rename or remove one"),
                );
            }
            let attestation = g.attestation.unwrap_or(spec.identity.method);
            if attestation == AuthMethod::Tpm {
                d.push(
                    Diagnostic::error("tpm-group", "TPM attestation works with individual enrollments only, not enrollment groups")
                        .at(if g.attestation.is_some() { gp.key("attestation") } else { gp.key("name") })
                        .hint("use `attestation: x509` or `symmetric_key` for the group, or enroll TPM devices individually"),
                );
            }
            if let Some(t) = &g.device_type
                && !spec.fleet.device_types.iter().any(|dt| &dt.name == t)
            {
                d.push(unknown_ref(
                    "device type",
                    t,
                    gp.key("device_type"),
                    spec.fleet.device_types.iter().map(|t| t.name.as_str()),
                ));
            }
        }
    }
    local_auth_users(spec, d);
    let eh = &az.event_hubs;
    if eh.tier == EventHubsTier::Basic {
        if eh.capture {
            d.push(
                Diagnostic::error(
                    "feature-needs-tier",
                    "Event Hubs Capture needs the Standard or Premium tier",
                )
                .at(p("clouds.azure.event_hubs.tier"))
                .hint("use `tier: standard`, or set `capture: false`"),
            );
        }
        if eh.retention_days > 1 {
            d.push(
                Diagnostic::error(
                    "feature-needs-tier",
                    "the Basic Event Hubs tier keeps events for 1 day only",
                )
                .at(p("clouds.azure.event_hubs.retention_days"))
                .hint("use `tier: standard` for up to 7 days"),
            );
        }
    }
    if eh.max_throughput_units.is_some() && eh.tier != EventHubsTier::Standard {
        d.push(
            Diagnostic::error(
                "feature-needs-tier",
                "auto-inflate of throughput units exists on the Standard tier only",
            )
            .at(p("clouds.azure.event_hubs.max_throughput_units"))
            .hint("use `tier: standard`, or remove `max_throughput_units`"),
        );
    }
    if eh.capture && !spec.storage.archive.enabled {
        d.push(
            Diagnostic::warning(
                "capture-without-archive",
                "Event Hubs Capture writes to the archive, which is turned off; capture is skipped",
            )
            .at(p("clouds.azure.event_hubs.capture"))
            .hint("set `capture: false`, or turn on `storage.archive`"),
        );
    }
}

/// `linked_hubs[].devices`, the expected devices per hub: only where the allocation policy
/// cannot split the fleet itself (lowest latency, custom), on every linked hub, adding up to
/// `fleet.devices`. Without them those hubs are each sized for the whole fleet, which the
/// warning says (the sizing is in `model::lower::hub_shares`).
fn hub_devices(spec: &FleetSpec, dps: &crate::spec::AzureDps, d: &mut Diagnostics) {
    let hubs = p("clouds.azure.dps.linked_hubs");
    let given: Vec<(usize, u64)> = dps
        .linked_hubs
        .iter()
        .enumerate()
        .filter_map(|(i, l)| l.devices.map(|n| (i, n)))
        .collect();
    let unpredictable = matches!(
        dps.allocation,
        Allocation::LowestLatency | Allocation::Custom
    );
    if !unpredictable {
        let why = if dps.allocation == Allocation::Static {
            "static allocation sends every device to the first linked hub"
        } else {
            "evenly weighted allocation splits the fleet by `allocation_weight`"
        };
        for (i, _) in &given {
            d.push(
                Diagnostic::error(
                    "hub-devices-unused",
                    format!("`devices` on a linked hub is for lowest-latency and custom allocation; {why}"),
                )
                .at(hubs.index(*i).key("devices"))
                .hint("remove `devices`, and set `allocation_weight` to change the split"),
            );
        }
        return;
    }
    if dps.linked_hubs.len() < 2 {
        return;
    }
    if given.is_empty() {
        d.push(
            Diagnostic::warning(
                "hub-sized-for-fleet",
                format!(
                    "with `{}` allocation fleetform cannot tell how many devices each linked hub gets, so every hub is sized and priced for the whole fleet",
                    if dps.allocation == Allocation::Custom { "custom" } else { "lowest_latency" }
                ),
            )
            .at(p("clouds.azure.dps.allocation"))
            .hint("give each linked hub the devices you expect on it (`devices`), adding up to `fleet.devices`"),
        );
        return;
    }
    if let Some((i, l)) = dps
        .linked_hubs
        .iter()
        .enumerate()
        .find(|(_, l)| l.devices.is_none())
    {
        d.push(
            Diagnostic::error(
                "hub-devices-incomplete",
                format!(
                    "the hub in `{}` has no `devices`, and other linked hubs do",
                    l.location
                ),
            )
            .at(hubs.index(i))
            .hint("give `devices` on every linked hub, or on none"),
        );
        return;
    }
    let sum: u64 = given.iter().map(|(_, n)| n).sum();
    if sum != spec.fleet.devices {
        d.push(
            Diagnostic::error(
                "hub-devices-sum",
                format!(
                    "the linked hubs' `devices` add up to {sum}, and `fleet.devices` is {}",
                    spec.fleet.devices
                ),
            )
            .at(hubs.index(given[given.len() - 1].0).key("devices"))
            .hint("make the hubs' `devices` add up to `fleet.devices`"),
        );
    }
}

fn cloud_names(spec: &FleetSpec, d: &mut Diagnostics) {
    let s = &spec.stack;
    let check = |d: &mut Diagnostics,
                 kind: NameKind,
                 name: &str,
                 explicit: Option<SpecPath>,
                 override_key: &str| {
        if let Err(why) = names::check(kind, name) {
            let derived = explicit.is_none();
            let path = explicit.unwrap_or_else(|| p("stack.name"));
            let mut diag = Diagnostic::error(
                "bad-name",
                if derived {
                    format!(
                        "the {} name derived from the stack, `{name}`, {why}",
                        kind.noun()
                    )
                } else {
                    format!("{} name `{name}` {why}", kind.noun())
                },
            )
            .at(path)
            .hint(format!("{} names: {}", kind.noun(), kind.rule()));
            if derived {
                diag = diag.hint(format!(
                    "shorten `stack.name` or `stack.environment`, or set `{override_key}`"
                ));
            }
            if kind.globally_unique() {
                diag = diag.hint(format!("{} names are unique across every customer of the cloud: pick one that is yours", kind.noun()));
            }
            d.push(diag);
        }
    };
    if let Some(aws) = &spec.clouds.aws {
        match &aws.names.archive_bucket {
            Some(b) => check(
                d,
                NameKind::S3Bucket,
                b,
                Some(p("clouds.aws.names.archive_bucket")),
                "",
            ),
            None if spec.storage.archive.enabled => {
                // The account id is appended by Terraform; check with a stand-in of its length.
                let stem = names::archive_bucket_stem(&s.name, &s.environment);
                check(
                    d,
                    NameKind::S3Bucket,
                    &format!("{stem}-123456789012"),
                    None,
                    "clouds.aws.names.archive_bucket",
                );
            }
            None => {}
        }
    }
    if let Some(stacks) = &spec.stacks {
        let st = lower::stacks(stacks, spec);
        if let Some(aws) = &st.aws {
            let explicit = stacks
                .state
                .aws
                .bucket
                .is_some()
                .then(|| p("stacks.state.aws.bucket"));
            check(
                d,
                NameKind::S3Bucket,
                &aws.bucket,
                explicit,
                "stacks.state.aws.bucket",
            );
        }
        if let Some(az) = &st.azure {
            let explicit = stacks
                .state
                .azure
                .storage_account
                .is_some()
                .then(|| p("stacks.state.azure.storage_account"));
            check(
                d,
                NameKind::StorageAccount,
                &az.storage_account,
                explicit,
                "stacks.state.azure.storage_account",
            );
        }
    }
    if let Some(az) = &spec.clouds.azure {
        // Derived names are checked with a stand-in of the suffix Terraform appends, so the
        // rules hold for the name the apply creates.
        let n = lower::azure_names(az, s);
        let explicit = |set: bool, key: &str| set.then(|| p(&format!("clouds.azure.names.{key}")));
        for site in lower::hub_sites(az, s) {
            check(
                d,
                NameKind::IotHub,
                &site.name.checked(),
                explicit(az.names.iot_hub.is_some(), "iot_hub"),
                "clouds.azure.names.iot_hub",
            );
        }
        if az.dps.is_some() {
            check(
                d,
                NameKind::Dps,
                &n.dps.checked(),
                explicit(az.names.dps.is_some(), "dps"),
                "clouds.azure.names.dps",
            );
        }
        if spec.storage.archive.enabled {
            check(
                d,
                NameKind::StorageAccount,
                &n.storage_account.checked(),
                explicit(az.names.storage_account.is_some(), "storage_account"),
                "clouds.azure.names.storage_account",
            );
            if spec.storage.archive.encryption == crate::spec::Encryption::CustomerManaged {
                check(
                    d,
                    NameKind::KeyVault,
                    &n.key_vault.checked(),
                    explicit(az.names.key_vault.is_some(), "key_vault"),
                    "clouds.azure.names.key_vault",
                );
            }
        }
        check(
            d,
            NameKind::EventHubsNamespace,
            &n.eventhub_namespace.checked(),
            explicit(az.names.eventhub_namespace.is_some(), "eventhub_namespace"),
            "clouds.azure.names.eventhub_namespace",
        );
        // Names with no override: derived from the stack, always cut to fit; the stack's
        // characters still have to suit each service.
        let functions = spec.pipeline.alerts.iter().any(|a| a.function)
            || az
                .dps
                .as_ref()
                .is_some_and(|dps| dps.allocation == crate::spec::Allocation::Custom);
        if functions {
            check(
                d,
                NameKind::StorageAccount,
                &n.functions_storage.checked(),
                explicit(az.names.storage_account.is_some(), "storage_account"),
                "clouds.azure.names.storage_account",
            );
            for app in [&n.alerts_app, &n.allocation_app] {
                check(d, NameKind::FunctionApp, &app.checked(), None, "stack.name");
            }
        }
        if spec.pipeline.state_store.enabled {
            check(
                d,
                NameKind::CosmosAccount,
                &n.cosmos_account.checked(),
                None,
                "stack.name",
            );
        }
        if spec.pipeline.analytics.enabled {
            check(
                d,
                NameKind::KustoCluster,
                &n.kusto_cluster.checked(),
                None,
                "stack.name",
            );
        }
    }
}

fn unknown_ref<'a>(
    what: &str,
    name: &str,
    path: SpecPath,
    known: impl Iterator<Item = &'a str>,
) -> Diagnostic {
    let known: Vec<&str> = known.collect();
    let mut diag =
        Diagnostic::error("unknown-reference", format!("no {what} named `{name}`")).at(path);
    if let Some(best) = known
        .iter()
        .map(|k| (strsim::jaro_winkler(name, k), *k))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
    {
        diag = diag.hint(format!("did you mean `{}`?", best.1));
    }
    if known.is_empty() {
        diag.hint(format!("declare it first (no {what}s are declared)"))
    } else {
        diag.hint(format!(
            "declared: {}",
            known
                .iter()
                .map(|k| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ))
    }
}

/// Flags names listed twice in a list of named items.
fn unique_names<'a>(items: impl Iterator<Item = &'a str>, list: &str, d: &mut Diagnostics) {
    let mut seen = BTreeMap::new();
    for (i, name) in items.enumerate() {
        if let Some(first) = seen.insert(name, i) {
            d.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!("`{name}` is listed twice (also at index {first})"),
                )
                .at(p(list).index(i).key("name"))
                .hint("names must be unique; rename or remove one"),
            );
        }
    }
}

/// A renamed alert's cloud resources keep its previous name: that name must differ from the
/// new one and from every other alert's cloud name.
fn renamed_alerts(alerts: &[crate::spec::Alert], d: &mut Diagnostics) {
    let cloud_name =
        |a: &crate::spec::Alert| a.renamed_from.clone().unwrap_or_else(|| a.name.clone());
    for (i, a) in alerts.iter().enumerate() {
        let Some(old) = &a.renamed_from else { continue };
        let at = p("pipeline.alerts").index(i).key("renamed_from");
        if *old == a.name {
            d.push(
                Diagnostic::error(
                    "renamed-to-itself",
                    format!("alert `{old}` is renamed from its own name"),
                )
                .at(at)
                .hint("remove `renamed_from`, or set it to the name the alert had before"),
            );
        } else if let Some(other) = alerts
            .iter()
            .find(|b| !std::ptr::eq(*b, a) && cloud_name(b) == *old)
        {
            d.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!("`{old}` still names the cloud resources of alert `{}`", other.name),
                )
                .at(at)
                .hint("each alert's cloud resources need their own name: a renamed alert cannot take over another's"),
            );
        }
    }
}

fn fleet(spec: &FleetSpec, d: &mut Diagnostics) {
    let f = &spec.fleet;
    unique_names(
        f.device_types.iter().map(|t| t.name.as_str()),
        "fleet.device_types",
        d,
    );
    unique_names(f.groups.iter().map(|g| g.name.as_str()), "fleet.groups", d);
    if spec.clouds.aws.is_some() {
        for (i, t) in f.device_types.iter().enumerate() {
            if t.searchable_attributes.len() > 3 {
                d.push(
                    Diagnostic::error("too-many-items", format!("AWS thing types allow 3 searchable attributes; `{}` lists {}", t.name, t.searchable_attributes.len()))
                        .at(p("fleet.device_types").index(i).key("searchable_attributes"))
                        .hint("keep the 3 you search by; devices can still carry any number of attributes, and fleet indexing searches them all"),
                );
            }
        }
    }
    let group_index: BTreeMap<&str, usize> = f
        .groups
        .iter()
        .enumerate()
        .map(|(i, g)| (g.name.as_str(), i))
        .collect();
    for (i, g) in f.groups.iter().enumerate() {
        let Some(parent) = &g.parent else { continue };
        if !group_index.contains_key(parent.as_str()) {
            d.push(unknown_ref(
                "group",
                parent,
                p("fleet.groups").index(i).key("parent"),
                f.groups.iter().map(|g| g.name.as_str()),
            ));
        }
    }
    let parent_of = |i: usize| {
        f.groups[i]
            .parent
            .as_deref()
            .and_then(|p| group_index.get(p).copied())
    };
    for i in groups_on_cycles(f.groups.len(), parent_of) {
        d.push(
            Diagnostic::error(
                "group-cycle",
                format!("group `{}` is its own ancestor", f.groups[i].name),
            )
            .at(p("fleet.groups").index(i).key("parent"))
            .hint("groups nest as a tree; remove one `parent` in the loop"),
        );
    }
    if let Some(reg) = &f.registry {
        if let Some(why) = reg.file.as_deref().and_then(read_path_problem) {
            d.push(
                Diagnostic::error("bad-path", format!("the registry path {why}"))
                    .at(p("fleet.registry.file"))
                    .hint("put the registry next to the spec, e.g. `devices.csv`, or in a folder below it, e.g. `registry/devices.csv`"),
            );
        }
        check_devices(
            spec,
            reg.devices.iter().map(|dev| {
                (
                    dev.id.as_str(),
                    dev.device_type.as_deref(),
                    dev.groups.as_slice(),
                )
            }),
            |i| p("fleet.registry.devices").index(i),
            d,
        );
    }
}

/// The items (of `count`, each with at most one parent) that are their own ancestors, in
/// index order. Items that merely hang below a loop are not on it. One walk up from each item,
/// marking items white (unseen), grey (on the current walk) or black (done): linear time.
fn groups_on_cycles(count: usize, parent_of: impl Fn(usize) -> Option<usize>) -> Vec<usize> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        White,
        Grey,
        Black,
    }
    let mut mark = vec![Mark::White; count];
    let mut on_cycle = vec![false; count];
    let mut walk = Vec::new();
    for start in 0..count {
        let mut cur = Some(start);
        while let Some(i) = cur {
            match mark[i] {
                Mark::Black => break,
                Mark::Grey => {
                    // Back on this walk: the loop is the walk from `i` on.
                    let from = walk.iter().position(|&j| j == i).unwrap_or(0);
                    for &j in &walk[from..] {
                        on_cycle[j] = true;
                    }
                    break;
                }
                Mark::White => {
                    mark[i] = Mark::Grey;
                    walk.push(i);
                    cur = parent_of(i);
                }
            }
        }
        for j in walk.drain(..) {
            mark[j] = Mark::Black;
        }
    }
    (0..count).filter(|&i| on_cycle[i]).collect()
}

/// Why validation refuses to read a file the spec names (the registry), if it does. The path
/// must stay inside the spec's folder: a spec must not make fleetform read, and quote in
/// diagnostics that CI uploads, files such as `/proc/self/environ` or `../../.env`.
pub fn read_path_problem(file: &str) -> Option<&'static str> {
    if file.trim().is_empty() || file.chars().any(char::is_control) {
        return Some("is empty or contains control characters");
    }
    let drive = file.as_bytes().get(1) == Some(&b':') && file.as_bytes()[0].is_ascii_alphabetic();
    if file.starts_with(['/', '\\']) || drive {
        return Some("is absolute; it must be relative to the spec's folder");
    }
    let mut depth = 0_usize;
    for part in file.split(['/', '\\']) {
        match part {
            "" | "." => {}
            ".." if depth == 0 => {
                return Some("leads out of the spec's folder with `..`");
            }
            ".." => depth -= 1,
            _ => depth += 1,
        }
    }
    None
}

/// Checks registered devices: unique ids, known types and groups. Used for inline devices
/// here and for registry files in `registry`.
pub fn check_devices<'a>(
    spec: &FleetSpec,
    devices: impl Iterator<Item = (&'a str, Option<&'a str>, &'a [String])>,
    path_of: impl Fn(usize) -> SpecPath,
    d: &mut Diagnostics,
) {
    let types: BTreeSet<&str> = spec
        .fleet
        .device_types
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let groups: BTreeSet<&str> = spec.fleet.groups.iter().map(|g| g.name.as_str()).collect();
    let mut ids = BTreeMap::new();
    for (i, (id, ty, gs)) in devices.enumerate() {
        if let Some(first) = ids.insert(id, i) {
            d.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!("device `{id}` is registered twice (also at index {first})"),
                )
                .at(path_of(i).key("id"))
                .hint("device ids are unique; remove or rename one of the entries"),
            );
        }
        if let Some(t) = ty
            && !types.contains(t)
        {
            d.push(unknown_ref(
                "device type",
                t,
                path_of(i).key("type"),
                types.iter().copied(),
            ));
        }
        for (j, g) in gs.iter().enumerate() {
            if !groups.contains(g.as_str()) {
                d.push(unknown_ref(
                    "group",
                    g,
                    path_of(i).key("groups").index(j),
                    groups.iter().copied(),
                ));
            }
        }
    }
}

fn pipeline(spec: &FleetSpec, d: &mut Diagnostics) {
    let pl = &spec.pipeline;
    unique_names(
        pl.routes.iter().map(|r| r.name.as_str()),
        "pipeline.routes",
        d,
    );
    unique_names(
        pl.alerts.iter().map(|a| a.name.as_str()),
        "pipeline.alerts",
        d,
    );
    renamed_alerts(&pl.alerts, d);
    for (i, r) in pl.routes.iter().enumerate() {
        let rp = p("pipeline.routes").index(i);
        if r.to.is_empty() {
            d.push(
                Diagnostic::error(
                    "route-without-destination",
                    format!("route `{}` goes nowhere", r.name),
                )
                .at(rp.key("to"))
                .hint("add `stream`, `archive` or `state_store` to `to`"),
            );
        }
        for (j, dest) in r.to.iter().enumerate() {
            let dp = rp.key("to").index(j);
            match dest {
                Destination::Archive if !spec.storage.archive.enabled => d.push(
                    Diagnostic::error("destination-off", "the route goes to the archive, which is turned off")
                        .at(dp)
                        .hint("turn on `storage.archive.enabled`, or remove `archive` from `to`"),
                ),
                Destination::StateStore if !pl.state_store.enabled => d.push(
                    Diagnostic::error("destination-off", "the route goes to the state store, which is turned off")
                        .at(dp)
                        .hint("set `pipeline.state_store.enabled: true`, or remove `state_store` from `to`"),
                ),
                _ => {}
            }
        }
    }
    for (i, a) in pl.alerts.iter().enumerate() {
        let ap = p("pipeline.alerts").index(i);
        if !a.function && !a.notify {
            d.push(
                Diagnostic::error(
                    "alert-does-nothing",
                    format!(
                        "alert `{}` neither runs a function nor notifies anyone",
                        a.name
                    ),
                )
                .at(ap.key("name"))
                .hint("set `function: true` or `notify: true`, or remove the alert"),
            );
        }
        if a.notify && spec.monitoring.notify.email.is_empty() {
            d.push(
                Diagnostic::warning("nobody-notified", format!("alert `{}` notifies, but `monitoring.notify.email` is empty", a.name))
                    .at(ap.key("notify"))
                    .hint("add an address under `monitoring.notify.email`; until then notifications go to a topic nobody reads"),
            );
        }
    }
    if pl.web_api.enabled && !pl.state_store.enabled {
        d.push(
            Diagnostic::error(
                "feature-needs-feature",
                "the web API reads device state from the state store, which is turned off",
            )
            .at(p("pipeline.web_api.enabled"))
            .hint("set `pipeline.state_store.enabled: true`"),
        );
    }
}

/// Minimum storage duration, in days, of a tier on a cloud.
fn minimum_days(tier: StorageTier, aws: bool) -> u32 {
    match (tier, aws) {
        (StorageTier::Hot, _) => 0,
        (StorageTier::Cool, _) => 30,
        (StorageTier::Cold | StorageTier::Archive, true) => 90,
        (StorageTier::Cold, false) => 90,
        (StorageTier::Archive | StorageTier::DeepArchive, false)
        | (StorageTier::DeepArchive, true) => 180,
    }
}

fn lifecycle(spec: &FleetSpec, d: &mut Diagnostics) {
    let a = &spec.storage.archive;
    let rules = &a.lifecycle;
    let lp = p("storage.archive.lifecycle");
    if !a.enabled {
        if !rules.is_empty() || a.expire_after_days.is_some() {
            d.push(
                Diagnostic::warning(
                    "unused-setting",
                    "the archive is turned off, so its lifecycle does nothing",
                )
                .at(p("storage.archive.enabled")),
            );
        }
        return;
    }
    for (i, r) in rules.iter().enumerate() {
        let rp = lp.index(i);
        if r.tier == StorageTier::Hot {
            d.push(
                Diagnostic::error("lifecycle-order", "objects start in `hot`; the lifecycle lists where they go next")
                    .at(rp.key("tier"))
                    .hint("remove this step; write the first colder tier, e.g. `{tier: cool, after_days: 30}`"),
            );
            continue;
        }
        if i > 0 {
            let prev = &rules[i - 1];
            if r.tier <= prev.tier {
                d.push(
                    Diagnostic::error(
                        "lifecycle-order",
                        format!(
                            "`{}` is not colder than the step before it (`{}`)",
                            tier_name(r.tier),
                            tier_name(prev.tier)
                        ),
                    )
                    .at(rp.key("tier"))
                    .hint("list tiers from warm to cold: cool, cold, archive, deep_archive"),
                );
            }
            if r.after_days <= prev.after_days {
                d.push(
                    Diagnostic::error(
                        "lifecycle-order",
                        format!(
                            "day {} is not after the previous step's day {}",
                            r.after_days, prev.after_days
                        ),
                    )
                    .at(rp.key("after_days"))
                    .hint("each step must come later than the one before it"),
                );
            }
        }
        if spec.clouds.aws.is_some() && r.tier == StorageTier::Cool && r.after_days < 30 {
            d.push(
                Diagnostic::error("transition-too-early", format!("S3 moves objects to Standard-IA after 30 days at the earliest, not {}", r.after_days))
                    .at(rp.key("after_days"))
                    .hint("use `after_days: 30` or more, or go straight to `cold` (Glacier Instant Retrieval allows day 0)"),
            );
        }
        if spec.clouds.azure.is_some() && r.tier == StorageTier::DeepArchive {
            d.push(
                Diagnostic::warning(
                    "tier-mapped",
                    "Azure has no tier colder than Archive; `deep_archive` becomes Archive there",
                )
                .at(rp.key("tier"))
                .hint("nothing to do if that is what you want: AWS gets Glacier Deep Archive, Azure gets Archive"),
            );
        }
        // How long objects stay in this tier before the next step or expiry.
        let leaves = rules
            .get(i + 1)
            .map(|n| n.after_days)
            .or(a.expire_after_days);
        if let Some(leaves) = leaves {
            let dwell = leaves.saturating_sub(r.after_days);
            let clouds: Vec<(bool, &str)> = [
                spec.clouds.aws.as_ref().map(|_| (true, "S3")),
                spec.clouds.azure.as_ref().map(|_| (false, "Azure Blob")),
            ]
            .into_iter()
            .flatten()
            .collect();
            for (is_aws, cloud) in clouds {
                let min = minimum_days(r.tier, is_aws);
                if dwell < min && !r.allow_early_deletion && leaves > r.after_days {
                    d.push(
                        Diagnostic::error("early-deletion", format!("objects spend {dwell} days in `{}`, below {cloud}'s minimum of {min}: each one pays an early-deletion fee", tier_name(r.tier)))
                            .at(rp.key("after_days"))
                            .hint(format!("keep objects in `{}` for at least {min} days, skip the tier, or set `allow_early_deletion: true` to accept the fee", tier_name(r.tier))),
                    );
                }
            }
        }
    }
    if let (Some(expire), Some(last)) = (a.expire_after_days, rules.last())
        && expire <= last.after_days
    {
        d.push(
                Diagnostic::error("lifecycle-order", format!("objects expire on day {expire}, before or on the day of the last move (day {})", last.after_days))
                    .at(p("storage.archive.expire_after_days"))
                    .hint("expire after the last step, or drop the steps objects never reach"),
            );
    }
    for (i, prefix) in a.prefixes.iter().enumerate() {
        if prefix.is_empty()
            || prefix.starts_with('/')
            || prefix.chars().any(char::is_control)
            || prefix.len() > 1024
        {
            d.push(
                Diagnostic::error("bad-prefix", "a prefix must be non-empty, must not start with `/`, and has no control characters")
                    .at(p("storage.archive.prefixes").index(i)),
            );
        }
    }
}

fn tier_name(t: StorageTier) -> &'static str {
    match t {
        StorageTier::Hot => "hot",
        StorageTier::Cool => "cool",
        StorageTier::Cold => "cold",
        StorageTier::Archive => "archive",
        StorageTier::DeepArchive => "deep_archive",
    }
}

fn messaging(spec: &FleetSpec, d: &mut Diagnostics) {
    let m = &spec.messaging;
    if spec.clouds.aws.is_some() && m.message_bytes > 128 * 1024 {
        d.push(
            Diagnostic::error("capacity-exceeded", format!("{} bytes is over AWS IoT Core's 128 KiB message limit", m.message_bytes))
                .at(p("messaging.message_bytes"))
                .hint("split readings over several messages, or upload large payloads to the archive with `cloud_credentials`"),
        );
    }
    if m.state.enabled && m.state.updates_per_device_per_day == 0.0 {
        d.push(
            Diagnostic::warning("unused-setting", "device state is on, but `updates_per_device_per_day` is 0, so cost estimates leave it out")
                .at(p("messaging.state.updates_per_device_per_day")),
        );
    }
    if !m.cloud_to_device.commands && m.cloud_to_device.commands_per_device_per_day > 0.0 {
        d.push(
            Diagnostic::warning(
                "unused-setting",
                "`commands_per_device_per_day` is set but `commands` is off",
            )
            .at(p("messaging.cloud_to_device.commands_per_device_per_day")),
        );
    }
    if m.messages_per_device_per_hour / 3600.0 > 100.0 {
        d.push(
            Diagnostic::error(
                "capacity-exceeded",
                "a device may publish at most 100 messages per second on AWS IoT and IoT Hub",
            )
            .at(p("messaging.messages_per_device_per_hour"))
            .hint("batch readings into fewer, larger messages"),
        );
    }
}

fn authorization(spec: &FleetSpec, d: &mut Diagnostics) {
    let a = &spec.authorization;
    unique_names(
        a.services.iter().map(|s| s.name.as_str()),
        "authorization.services",
        d,
    );
    for (i, raw) in a
        .device
        .publish
        .iter()
        .chain(std::iter::once(&spec.messaging.topics.telemetry))
        .enumerate()
    {
        if !raw.contains("{device_id}") {
            let path = if i < a.device.publish.len() {
                p("authorization.device.publish").index(i)
            } else {
                p("messaging.topics.telemetry")
            };
            d.push(
                Diagnostic::warning("topic-not-scoped", format!("`{raw}` is the same topic for every device, so any device may publish as any other"))
                    .at(path)
                    .hint("put `{device_id}` in the topic, e.g. `dt/{device_id}/telemetry`"),
            );
        }
    }
    if let Some(c) = &a.cloud_credentials {
        let cp = p("authorization.cloud_credentials");
        if spec.clouds.aws.is_none() {
            d.push(
                Diagnostic::warning("unsupported-on-cloud", "role aliases are an AWS feature; on Azure, devices reach other services through IoT Hub file upload or their own identity")
                    .at_key(cp.clone()),
            );
        }
        for (i, g) in c.grants.iter().enumerate() {
            let needs = match g {
                CredentialGrant::FirmwareRead if !spec.pipeline.ota.enabled => {
                    Some("pipeline.ota.enabled")
                }
                CredentialGrant::StateRead if !spec.pipeline.state_store.enabled => {
                    Some("pipeline.state_store.enabled")
                }
                CredentialGrant::ArchiveUpload if !spec.storage.archive.enabled => {
                    Some("storage.archive.enabled")
                }
                _ => None,
            };
            if let Some(needs) = needs {
                d.push(
                    Diagnostic::error(
                        "feature-needs-feature",
                        format!("the grant needs `{needs}: true`"),
                    )
                    .at(cp.key("grants").index(i))
                    .hint(format!("turn on `{needs}`, or remove the grant")),
                );
            }
        }
        if c.grants.is_empty() {
            d.push(
                Diagnostic::error("too-few-items", "credentials without grants allow nothing")
                    .at(cp.key("grants"))
                    .hint("add `firmware_read`, `archive_upload` or `state_read`"),
            );
        }
    }
    for (i, s) in a.services.iter().enumerate() {
        if s.access.is_empty() {
            d.push(
                Diagnostic::error(
                    "too-few-items",
                    format!("service `{}` has no access", s.name),
                )
                .at(p("authorization.services").index(i).key("access"))
                .hint(
                    "add `registry_read`, `registry_write`, `service_connect` or `device_connect`",
                ),
            );
        }
    }
}

/// Retention periods CloudWatch Logs accepts.
pub const CLOUDWATCH_RETENTION_DAYS: [u32; 22] = [
    1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922,
    3288, 3653,
];

fn monitoring(spec: &FleetSpec, d: &mut Diagnostics) {
    let days = spec.monitoring.log_retention_days;
    if spec.clouds.aws.is_some() && !CLOUDWATCH_RETENTION_DAYS.contains(&days) {
        let nearest = CLOUDWATCH_RETENTION_DAYS
            .iter()
            .min_by_key(|v| v.abs_diff(days))
            .copied()
            .unwrap_or(30);
        d.push(
            Diagnostic::error(
                "invalid-value",
                format!("CloudWatch Logs cannot keep logs for {days} days"),
            )
            .at(p("monitoring.log_retention_days"))
            .hint(format!(
                "did you mean `{nearest}`? CloudWatch allows {}",
                CLOUDWATCH_RETENTION_DAYS.map(|v| v.to_string()).join(", ")
            )),
        );
    }
    if spec.clouds.azure.is_some() && !(30..=730).contains(&days) {
        d.push(
            Diagnostic::warning(
                "clamped",
                format!(
                    "Log Analytics keeps logs 30 to 730 days; {days} becomes {}",
                    days.clamp(30, 730)
                ),
            )
            .at(p("monitoring.log_retention_days")),
        );
    }
    for (i, email) in spec.monitoring.notify.email.iter().enumerate() {
        let valid = email.split_once('@').is_some_and(|(user, host)| {
            !user.is_empty()
                && host.contains('.')
                && !host.starts_with('.')
                && !host.ends_with('.')
                && email.chars().all(|c| {
                    c.is_ascii_graphic()
                        && !matches!(c, '"' | '\\' | '<' | '>' | ',' | ';' | '$' | '{' | '}')
                })
        });
        if !valid {
            d.push(
                Diagnostic::error(
                    "bad-email",
                    format!("`{}` is not an e-mail address", email.escape_default()),
                )
                .at(p("monitoring.notify.email").index(i))
                .hint("write it as `name@example.com`"),
            );
        }
    }
}

fn tags(spec: &FleetSpec, d: &mut Diagnostics) {
    for (k, v) in &spec.stack.tags {
        let path = p("stack.tags").key(k.clone());
        let bad_key = k.is_empty()
            || k.len() > 128
            || k.starts_with("aws:")
            || k.chars()
                .any(|c| c.is_control() || matches!(c, '<' | '>' | '%' | '&' | '\\' | '?' | '/'));
        if bad_key {
            d.push(
                Diagnostic::error(
                    "bad-tag",
                    format!(
                        "tag key `{}` is not accepted by both clouds",
                        k.escape_default()
                    ),
                )
                .at_key(path.clone())
                .hint("tag keys: 1 to 128 characters, no `< > % & \\ ? /`, no `aws:` prefix"),
            );
        }
        if v.len() > 256 || v.chars().any(char::is_control) {
            d.push(
                Diagnostic::error(
                    "bad-tag",
                    "tag values are at most 256 characters with no control characters",
                )
                .at(path),
            );
        }
    }
    if spec.stack.tags.len() > 40 {
        d.push(
            Diagnostic::error(
                "too-many-items",
                "at most 40 tags: fleetform adds up to 4 more, and AWS allows 50, Azure 50",
            )
            .at_key(p("stack.tags")),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_groups_on_the_loop_are_on_a_cycle() {
        // a -> b -> c -> b: `a` hangs below the loop.
        let parents = [Some(1), Some(2), Some(1)];
        assert_eq!(groups_on_cycles(3, |i| parents[i]), vec![1, 2]);
        // A chain listed children first, and a group that is its own parent.
        let parents = [Some(1), Some(2), None, Some(3)];
        assert_eq!(groups_on_cycles(4, |i| parents[i]), vec![3]);
    }

    #[test]
    fn read_paths_stay_in_the_spec_folder() {
        for ok in [
            "devices.csv",
            "./registry/devices.yaml",
            "a/../devices.csv",
            "a/b/../../d.csv",
        ] {
            assert_eq!(read_path_problem(ok), None, "{ok}");
        }
        for bad in [
            "/proc/self/environ",
            "../../.env",
            "a/../../x.csv",
            "..",
            "\\\\server\\share\\x.csv",
            "C:\\secrets.csv",
            "c:devices.csv",
            "registry\\..\\..\\x.csv",
            " ",
            "a\nb.csv",
        ] {
            assert!(read_path_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn a_long_chain_is_not_a_cycle() {
        let n = 100_000;
        assert!(groups_on_cycles(n, |i| (i + 1 < n).then_some(i + 1)).is_empty());
    }
}
