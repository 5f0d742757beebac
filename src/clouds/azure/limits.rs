//! Limits Azure enforces only when the resources are created: `terraform validate` and a plan
//! accept them, and the first `terraform apply` fails halfway. They are counted here on the
//! planner's own decisions ([`Design`]), so the check and the output cannot disagree about
//! how many endpoints, routes or event hubs the module creates.
//!
//! - IoT Hub: at most 10 custom endpoints across all endpoint types on a paid hub, 1 on a
//!   Free hub; at most 100 routes on a paid hub, 5 on a Free hub (ARM `RoutingProperties`,
//!   `endpoints` and `routes`; learn.microsoft.com `@azure/arm-iothub` RoutingProperties).
//! - Event Hubs: at most 10 event hubs in a Basic or Standard namespace, 100 in Premium
//!   (learn.microsoft.com `event-hubs/event-hubs-quotas`, "Number of event hubs per
//!   namespace"); ARM answers more with `Conflict 40300`.
//! - Auto-inflate: `maximum_throughput_units` below the namespace's `capacity` is rejected by
//!   Azure; the capacity is sized for the planned peak, so the ceiling must be at least that.

use super::{Design, Endpoint};
use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::{EventHubsTier, HubSku, Model};
use crate::spec::node::SpecPath;

/// Custom endpoints one paid IoT hub may have, across all endpoint types.
pub(crate) const HUB_MAX_CUSTOM_ENDPOINTS: usize = 10;
/// Custom endpoints one Free (F1) IoT hub may have.
pub(crate) const FREE_HUB_MAX_CUSTOM_ENDPOINTS: usize = 1;
/// Routes one paid IoT hub may have.
pub(crate) const HUB_MAX_ROUTES: usize = 100;
/// Routes one Free (F1) IoT hub may have.
pub(crate) const FREE_HUB_MAX_ROUTES: usize = 5;
/// Longest IoT Hub route or endpoint name.
const ROUTE_NAME_MAX: usize = 64;

/// Event hubs one namespace of `tier` may hold.
pub(crate) const fn max_event_hubs(tier: EventHubsTier) -> usize {
    match tier {
        EventHubsTier::Basic | EventHubsTier::Standard => 10,
        EventHubsTier::Premium => 100,
    }
}

fn p(dotted: &str) -> SpecPath {
    SpecPath::parse(dotted)
}

/// The limits `model`'s Azure module would pass at apply, as located spec errors.
pub(crate) fn check(model: &Model) -> Diagnostics {
    let mut out = Diagnostics::new();
    let Some(az) = &model.azure else {
        return out;
    };
    let d = Design::new(model, az);
    let free = az.hub.sku == HubSku::F1;
    let tier_key = if az.hub.pinned {
        "clouds.azure.iot_hub.sku"
    } else {
        "clouds.azure.iot_hub.tier"
    };

    // Custom endpoints: the shared ones, then one per alert the hub routes itself.
    let routed_alerts = if d.stream_analytics {
        0
    } else {
        model.alerts.len()
    };
    let shared: Vec<&str> = [
        (d.stream_endpoint, Endpoint::Stream),
        (d.storage_endpoint, Endpoint::Archive),
        (d.state_endpoint, Endpoint::State),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, e)| e.name())
    .collect();
    let max = if free {
        FREE_HUB_MAX_CUSTOM_ENDPOINTS
    } else {
        HUB_MAX_CUSTOM_ENDPOINTS
    };
    let endpoints = shared.len() + routed_alerts;
    if endpoints > max {
        let mut parts: Vec<String> = shared.iter().map(|e| format!("`{e}`")).collect();
        if routed_alerts > 0 {
            parts.push(format!("one per alert: {routed_alerts}"));
        }
        let what = format!(
            "the IoT hub would need {endpoints} custom endpoints ({}); {} IoT hub takes at most {max}",
            parts.join(", "),
            if free { "a Free" } else { "a paid" },
        );
        let (at, hint) = if free && shared.len() > max {
            (
                p(tier_key),
                "a Free hub has one custom endpoint: use a paid tier, or send every route to one destination".to_owned(),
            )
        } else {
            let first_over = max.saturating_sub(shared.len());
            (
                p("pipeline.alerts").index(first_over),
                "set `clouds.azure.alert_engine: stream_analytics` (alerts then need no hub endpoint), or merge alerts into one condition with `or`".to_owned(),
            )
        };
        out.push(
            Diagnostic::error("service-limit", what)
                .at(at)
                .hint(hint)
                .hint("Azure rejects the extra endpoints only at `terraform apply`, after other resources exist"),
        );
    }

    // An alert's hub route and endpoint are `alert-<name>`: IoT Hub names take 64
    // characters (`^[-_.a-zA-Z0-9]{1,64}$` in azurerm's route resource), so 58 are left.
    if routed_alerts > 0 {
        for (i, a) in model.alerts.iter().enumerate() {
            let name = format!("alert-{}", a.cloud_name);
            if name.len() > ROUTE_NAME_MAX {
                let key = if a.renamed_from.is_some() {
                    "renamed_from"
                } else {
                    "name"
                };
                out.push(
                    Diagnostic::error(
                        "bad-name",
                        format!(
                            "the alert's IoT Hub route and endpoint would be named `{name}`, {} characters; IoT Hub takes at most {ROUTE_NAME_MAX}",
                            name.len()
                        ),
                    )
                    .at(p("pipeline.alerts").index(i).key(key))
                    .hint(format!(
                        "shorten the alert's name to at most {} characters",
                        ROUTE_NAME_MAX - "alert-".len()
                    )),
                );
            }
        }
    }

    // Routes: one per endpoint of each spec route, one per routed alert.
    let spec_routes: usize = model.routes.iter().map(|r| d.endpoints_for(r).len()).sum();
    let max = if free {
        FREE_HUB_MAX_ROUTES
    } else {
        HUB_MAX_ROUTES
    };
    let routes = spec_routes + routed_alerts;
    if routes > max {
        out.push(
            Diagnostic::error(
                "service-limit",
                format!(
                    "the IoT hub would need {routes} routes ({spec_routes} for `pipeline.routes`, one per endpoint, and {routed_alerts} for alerts); {} IoT hub takes at most {max}",
                    if free { "a Free" } else { "a paid" },
                ),
            )
            .at(p("pipeline.routes"))
            .hint("merge routes with the same destination into one condition with `or`, or evaluate alerts with `clouds.azure.alert_engine: stream_analytics`"),
        );
    }

    // Event hubs: the telemetry hub and one per alert.
    let tier = az.event_hubs.tier;
    let tier_name = match tier {
        EventHubsTier::Basic => "Basic",
        EventHubsTier::Standard => "Standard",
        EventHubsTier::Premium => "Premium",
    };
    let max = max_event_hubs(tier);
    let hubs = 1 + model.alerts.len();
    if hubs > max {
        let mut diag = Diagnostic::error(
            "service-limit",
            format!(
                "the Event Hubs namespace would hold {hubs} event hubs (`telemetry` and one per alert: {}); a {tier_name} namespace holds at most {max}",
                model.alerts.len()
            ),
        )
        .at(p("pipeline.alerts").index(max - 1))
        .hint("merge alerts into one condition with `or`");
        if tier != EventHubsTier::Premium {
            diag = diag.hint(format!(
                "or use `clouds.azure.event_hubs.tier: premium` (up to {} event hubs)",
                max_event_hubs(EventHubsTier::Premium)
            ));
        }
        out.push(diag);
    }

    // Function apps sharing a storage account need distinct host ids (the runtime's own
    // derivation cuts the app name to 32 characters, which a long stack name makes equal).
    if d.functions() {
        let ids = super::functions::host_ids(&d);
        let mut seen = std::collections::BTreeSet::new();
        for id in &ids {
            if id.len() > super::functions::HOST_ID_MAX || !seen.insert(id) {
                out.push(
                    Diagnostic::error(
                        "service-limit",
                        format!("two function apps of the stack would share the Functions host id `{id}` in one storage account, and one of them would stop triggering"),
                    )
                    .at(p("stack.name"))
                    .hint("shorten `stack.name` or `stack.environment`"),
                );
            }
        }
    }

    // TPM attestation has no enrollment groups: the enrollment script enrolls the
    // registry's devices one by one, so an empty registry provisions nothing.
    if d.tpm_enrollments() && model.fleet.registry.is_empty() {
        out.push(
            Diagnostic::error(
                "tpm-needs-registry",
                "TPM devices are enrolled in the DPS one by one, from `fleet.registry`, and the registry lists no device",
            )
            .at(p("identity.method"))
            .hint("list the devices in `fleet.registry` (`file:` or `devices:`); their endorsement keys are read when the enrollment script runs"),
        );
    }

    // Auto-inflate: its ceiling may not be below the capacity sized for the peak.
    let eh = &az.event_hubs;
    if let (Some(ceiling), EventHubsTier::Standard) = (eh.max_throughput_units, eh.tier)
        && ceiling < eh.throughput_units
    {
        out.push(
            Diagnostic::error(
                "service-limit",
                format!(
                    "auto-inflate's `max_throughput_units` is {ceiling}, below the {} throughput units the namespace starts with (sized for the planned peak of {:.0} messages/s, {:.0} bytes/s); Azure rejects a maximum below the capacity",
                    eh.throughput_units,
                    model.traffic.peak_messages_per_second,
                    model.traffic.peak_bytes_per_second,
                ),
            )
            .at(p("clouds.azure.event_hubs.max_throughput_units"))
            .hint(format!(
                "set `max_throughput_units` to at least {} (at most 40), or remove it to turn auto-inflate off",
                eh.throughput_units
            )),
        );
    }
    out
}

/// Asserts, in the shipped tests, that every globally unique name the plan creates ends in
/// the subscription's suffix and fits its service's length: the suffix is only known at plan
/// time, so this is where the whole name is first seen.
pub(super) fn name_intent(d: &Design, t: &mut crate::plan::intent::Intent) {
    use crate::model::GlobalName;
    use crate::model::names::NameKind;
    use crate::plan::intent::{all, all_in, length};
    use crate::plan::tf::{self, r};
    use hcl::expr::BinaryOperator;

    let names = &d.az.names;
    // The suffix as the module computes it, from the literal prefix.
    let suffix = super::name_suffix(tf::Part::Text(d.prefix().to_owned()));
    let mut checks: Vec<(&str, NameKind, &GlobalName)> = vec![(
        "azurerm_eventhub_namespace.this",
        NameKind::EventHubsNamespace,
        &names.eventhub_namespace,
    )];
    if d.az.dps.is_some() {
        checks.push(("azurerm_iothub_dps.this", NameKind::Dps, &names.dps));
    }
    if d.archive.is_some() {
        checks.push((
            "azurerm_storage_account.archive",
            NameKind::StorageAccount,
            &names.storage_account,
        ));
    }
    if d.archive
        .is_some_and(|a| a.encryption == crate::model::Encryption::CustomerManaged)
    {
        checks.push((
            "azurerm_key_vault.archive",
            NameKind::KeyVault,
            &names.key_vault,
        ));
    }
    if d.functions() {
        checks.push((
            "azurerm_storage_account.functions",
            NameKind::StorageAccount,
            &names.functions_storage,
        ));
        if !d.alert_functions.is_empty() {
            checks.push((
                "azurerm_linux_function_app.alerts",
                NameKind::FunctionApp,
                &names.alerts_app,
            ));
        }
        if d.custom_allocation {
            checks.push((
                "azurerm_linux_function_app.allocation",
                NameKind::FunctionApp,
                &names.allocation_app,
            ));
        }
    }
    if d.m.features.state_store {
        checks.push((
            "azurerm_cosmosdb_account.state",
            NameKind::CosmosAccount,
            &names.cosmos_account,
        ));
    }
    if d.m.features.analytics {
        checks.push((
            "azurerm_kusto_cluster.analytics",
            NameKind::KustoCluster,
            &names.kusto_cluster,
        ));
    }
    let fits = |name: hcl::Expression, kind: NameKind, global: &GlobalName| {
        let mut conds = vec![super::bin(
            length(name.clone()),
            BinaryOperator::LessEq,
            tf::num(kind.max_len() as u64),
        )];
        if global.suffixed {
            conds.push(crate::plan::intent::eq(
                tf::call(
                    "startswith",
                    [name.clone(), tf::lit(global.literal.as_str())],
                ),
                tf::boolean(true),
            ));
            conds.push(crate::plan::intent::eq(
                tf::call("endswith", [name, suffix.clone()]),
                tf::boolean(true),
            ));
        }
        all(conds)
    };
    let mut conds: Vec<hcl::Expression> = checks
        .iter()
        .map(|(addr, kind, global)| fits(r(&format!("{addr}.name")), *kind, global))
        .collect();
    let hub = &d.hubs[0].name;
    conds.push(all_in(
        "h",
        r("azurerm_iothub.hub"),
        super::bin(
            length(r("h.name")),
            BinaryOperator::LessEq,
            tf::num(NameKind::IotHub.max_len() as u64),
        ),
    ));
    t.assert(
        "clouds.azure.names",
        format!(
            "globally unique names within each service's length, derived ones ending in the subscription's {}-character suffix (IoT hub `{hub}`)",
            crate::model::names::AZURE_SUFFIX_LEN
        ),
        all(conds),
    );
}
