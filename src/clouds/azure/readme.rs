//! The context of the Azure stack README: what was built, with which SKUs and names, where
//! each route delivers, the inputs and outputs, and the notes on what the spec asked for that
//! Azure does differently.

use super::{AZURERM_PROVIDER_VERSION, Design, dps, hub, import, outputs, routing, storage, vars};
use crate::design;
use crate::plan::Module;

pub(super) fn readme_context(
    d: &Design,
    design: &design::Design,
    module: &Module,
    variables: &[vars::Var],
    outputs: &[outputs::Output],
) -> serde_json::Value {
    let m = d.m;
    let az = d.az;
    let files: Vec<&String> = module.files.keys().collect();
    let ca_file = &m.identity.ca_certificate_file;
    let (ca_dir, ca_stem) = dps::ca_location(ca_file);
    let device_import = (import::registration(m) == import::Registration::Import).then(|| {
        serde_json::json!({
            "devices": m.fleet.registry.len(),
            "authentication": match m.identity.method {
                crate::model::AuthMethod::X509 => "certificateAuthority (certificates chained to the fleet CA)",
                _ => "sas (the hub generates each device's keys)",
            },
        })
    });
    // Each hub's own size and the share of the fleet it is sized for.
    let hubs: Vec<serde_json::Value> = d
        .hubs
        .iter()
        .map(|h| {
            serde_json::json!({
                "name": h.name.to_string(), "location": h.location, "weight": h.allocation_weight,
                "sku": format!("{:?}", h.sku), "units": h.units,
                "daily_quota": hub::thousands(h.daily_quota),
                "planned_daily": hub::thousands(h.planned_daily_quota_messages),
                "share": hub::share_words(d, h),
            })
        })
        .collect();
    let mut context = serde_json::json!({
        "stack": m.stack.prefix,
        "description": m.stack.description,
        "location": az.location,
        "resource_group": az.resource_group,
        "create_resource_group": az.create_resource_group,
        "provider_version": AZURERM_PROVIDER_VERSION,
        "hub": {
            "sku": format!("{:?}", az.hub.sku),
            "units": az.hub.units,
            "pinned": az.hub.pinned,
            "daily_quota": hub::thousands(az.hub.daily_quota),
            "planned_daily": hub::thousands(az.hub.planned_daily_quota_messages),
            "partitions": az.hub.partitions,
            "standard": d.standard,
            "local_authentication": az.hub.local_authentication,
        },
        "hubs": hubs,
        "dps": az.dps.as_ref().map(|dps| serde_json::json!({
            "name": az.names.dps.to_string(),
            "allocation": dps::allocation_policy(dps.allocation),
            "custom": d.custom_allocation,
            "groups": dps.enrollment_groups.iter().map(|g| serde_json::json!({
                "name": g.name,
                "device_type": g.device_type,
                "attestation": dps::attestation_word(g.attestation),
                "iot_edge": g.iot_edge,
            })).collect::<Vec<_>>(),
            "ca": d.dps_ca,
            "tpm": d.tpm_enrollments(),
            "group_cas": dps::group_cas(d).iter().map(|(name, group, file)| serde_json::json!({
                "name": name, "group": group, "file": file,
            })).collect::<Vec<_>>(),
        })),
        "ca_file": ca_file,
        "spec_dir": m.spec_dir_from_module(),
        "diagram": crate::diagram::mermaid_of(m, &design.dataflow),
        "ca_dir": ca_dir,
        "ca_stem": ca_stem,
        "identity": dps::attestation_word(m.identity.method),
        "routes": m.routes.iter().map(|r| serde_json::json!({
            "name": r.name,
            "condition": r.condition_text,
            "query": routing::condition(r.condition.as_ref()),
            "to": d.endpoints_for(r).iter().map(|e| format!("{e:?}").to_lowercase()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "body_queries": m.routes.iter().any(|r| r.condition.is_some())
            || (!m.alerts.is_empty() && !d.stream_analytics),
        "capture": d.capture,
        "storage_endpoint": d.storage_endpoint,
        "alerts": m.alerts.iter().map(|a| serde_json::json!({
            "name": a.name, "condition": a.condition_text, "function": a.function, "notify": a.notify,
        })).collect::<Vec<_>>(),
        "alert_engine": if d.stream_analytics { "Stream Analytics" } else { "IoT Hub routes" },
        "functions": d.functions(),
        "state_store": m.features.state_store,
        "ota": d.ota,
        "ota_requested": m.features.ota,
        "analytics": m.features.analytics,
        "archive": d.archive.is_some(),
        "cmk": d.archive.is_some_and(|a| a.encryption == crate::model::Encryption::CustomerManaged),
        "budget": m.cost.monthly_budget_usd.map(|b| hub::thousands(b.ceil() as u64)),
        "notes": notes(d),
        "emails": m.monitoring.emails,
        "alarms": m.monitoring.alarms,
        "stream_readers": d.stream_readers.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "services": m.access.services.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "files": files,
        "variables": variables.iter().map(|v| serde_json::json!({
            "name": v.name, "type": v.ty, "description": v.description,
            "default": v.default.as_ref().map(|e| hcl::format::to_string(e).unwrap_or_default()),
        })).collect::<Vec<_>>(),
        "outputs": outputs.iter().map(|o| serde_json::json!({
            "name": o.name, "description": o.description, "sensitive": o.sensitive,
        })).collect::<Vec<_>>(),
        "parity": module.parity,
    });
    // Past what one `json!` expands within the recursion limit.
    context["hub_ca"] = d.hub_ca.into();
    context["hubs_differ"] = d
        .hubs
        .iter()
        .any(|h| h.sku != az.hub.sku || h.units != az.hub.units)
        .into();
    context["hubs_for_whole_fleet"] =
        (d.hubs.len() > 1 && d.hubs.iter().any(|h| !h.predicted)).into();
    context["ca_upload"] = d.ca_upload().into();
    context["state_endpoint"] = d.state_endpoint.into();
    context["device_import"] = device_import.unwrap_or_default();
    context
}

/// What the README must say because the spec asked for something Azure does differently.
fn notes(d: &Design) -> Vec<String> {
    use crate::model::{IpAction, Replication, StorageTier};
    let mut out = Vec::new();
    let az = d.az;
    if let Some(archive) = d.archive
        && matches!(az.storage.replication, Replication::Zrs | Replication::Gzrs)
        && archive
            .lifecycle
            .iter()
            .any(|t| matches!(t.tier, StorageTier::Archive | StorageTier::DeepArchive))
    {
        out.push(format!(
            "Blob storage has no Archive tier on {} accounts, so the lifecycle stops at the coldest tier before it. Use LRS or GRS replication to archive.",
            storage::replication(az.storage.replication)
        ));
    }
    if d.archive.is_some_and(|a| {
        a.lifecycle
            .iter()
            .any(|t| t.tier == StorageTier::DeepArchive)
    }) {
        out.push(
            "Azure has no tier colder than Archive: `deep_archive` becomes Archive.".to_owned(),
        );
    }
    if !az.hub.public_network_access {
        out.push(format!(
            "Public network access is off on the hubs{}: devices reach them only through private endpoints in your virtual network, which this module does not create.",
            if az.dps.is_some() { " and the DPS" } else { "" }
        ));
    }
    if az
        .hub
        .ip_filter
        .iter()
        .any(|r| r.action == IpAction::Reject)
    {
        out.push("IoT Hub network rules allow listed ranges and deny the rest; the spec's reject rules are not expressible and are left out.".to_owned());
    }
    if d.m.features.ota && !d.ota {
        out.push(format!(
            "Over-the-air updates were requested, but Device Update needs Standard-tier hubs and these are {:?}.",
            az.hub.sku
        ));
    }
    if d.m.access.cloud_credentials.is_some() {
        out.push("Role aliases (authorization.cloud_credentials) are an AWS IoT feature; on Azure, devices upload through IoT Hub file upload or use their own Entra ID identity.".to_owned());
    }
    if d.m.features.web_api {
        out.push("No web API is generated on Azure: read twins with the IoT Hub service SDK, or the state store with Cosmos DB data roles.".to_owned());
    }
    if az.dps.is_some() {
        out.push("If a hub's dps-link key is regenerated, apply again: DPS keeps the old key (Azure masks it, so the provider cannot see the difference) until the link is rewritten.".to_owned());
    }
    out
}
