//! `iothub.tf`: one IoT hub per linked location, its access policies and consumer groups.
//!
//! The hub block carries only what belongs to the hub itself (SKU, built-in endpoint,
//! identity, network rules, and the fallback route to the built-in endpoint). Routes,
//! endpoints and enrichments are separate resources in `routing.tf`: azurerm treats the
//! inline and separate forms as two owners of the same list, and mixing them makes every
//! plan show changes.
//!
//! The fallback route is the exception, and is inline: it targets the built-in endpoint
//! (`events`), which `azurerm_iothub_fallback_route` rejects (its `endpoint_names` use
//! `validate.IoTHubEndpointName`, which refuses the reserved names `events`,
//! `operationsMonitoringEvents`, `fileNotifications` and `$default`; azurerm v4.81.0,
//! `internal/services/iothub/validate/iot_hub_endpoint_name.go`). The hub's own
//! `fallback_route` block only bounds the name's length, and is the form the provider
//! documents for the built-in endpoint; no `azurerm_iothub_fallback_route` is generated, so
//! the two never fight over it.

use super::{Design, Hcl, tf_label};
use crate::model::{IpAction, ServicePermission};
use crate::plan::intent::{Intent, all, all_in, eq, list, set};
use hcl::Expression;

use crate::plan::tf::{self, TfFile, lit, r};

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
    let hub = &d.az.hub;
    let mut f = TfFile::new();
    let sizing = sizing_notes(d);
    let origin = if hub.pinned {
        "The SKU or unit count is pinned in the fleet spec."
    } else {
        "fleetform sized the hub from the traffic a year ahead; change the spec, not this file."
    };
    // The Free tier has a fixed built-in endpoint: two partitions, one day.
    let (partitions, retention) = if d.free {
        (2, 1)
    } else {
        (hub.partitions, hub.retention_days)
    };
    let accept: Vec<_> = hub
        .ip_filter
        .iter()
        .filter(|rule| rule.action == IpAction::Accept)
        .collect();
    let rejects = hub.ip_filter.len() - accept.len();
    let mut b = tf::resource("azurerm_iothub", "hub");
    if hub.public_network_access {
        b = b.skip(
            "CKV_AZURE_108",
            "devices connect over the public internet; clouds.azure.iot_hub.ip_filter narrows who may",
        );
    }
    for line in &sizing {
        b = b.note(line);
    }
    b = b
        .note(origin)
        .attr("for_each", r("local.iot_hubs"))
        .attr("name", r("each.value.name"))
        .attr("resource_group_name", r("local.resource_group_name"))
        .attr("location", r("each.value.location"))
        .attr(
            "local_authentication_enabled",
            tf::boolean(hub.local_authentication),
        )
        .attr(
            "public_network_access_enabled",
            tf::boolean(hub.public_network_access),
        )
        .attr("min_tls_version", lit("1.2"))
        .attr("event_hub_partition_count", tf::num(partitions))
        .attr("event_hub_retention_in_days", tf::num(retention))
        .block(
            tf::block("sku")
                .note("Each hub's size is its own (local.iot_hubs): it follows the devices it receives.")
                .attr("name", r("each.value.sku"))
                .attr("capacity", r("each.value.units"))
                .build(),
        )
        .block(
            tf::block("identity")
                .note("The hub's own identity writes to its endpoints (see routing.tf).")
                .attr("type", lit("SystemAssigned"))
                .build(),
        )
        .block(
            tf::block("fallback_route")
                .note("Messages no route matches stay readable on the built-in endpoint (events).")
                .attr("source", lit("DeviceMessages"))
                .attr("condition", lit("true"))
                .attr("endpoint_names", tf::strings(["events"]))
                .attr("enabled", tf::boolean(true))
                .build(),
        );
    if !accept.is_empty() {
        let mut rules = tf::block("network_rule_set")
            .note("Only listed addresses may connect; everything else is denied.")
            .attr("default_action", lit("Deny"))
            .attr("apply_to_builtin_eventhub_endpoint", tf::boolean(false));
        for rule in &accept {
            rules = rules.block(
                tf::block("ip_rule")
                    .attr("name", lit(&rule.name))
                    .attr("ip_mask", lit(&rule.ip_mask))
                    .attr("action", lit("Allow"))
                    .build(),
            );
        }
        if rejects > 0 {
            rules = rules.note(
                "Reject rules of the spec are left out: IoT Hub network rules only allow listed ranges and deny the rest.",
            );
        }
        b = b.block(rules.build());
    } else if rejects > 0 {
        b = b.note("The spec's IP filter has only reject rules, which IoT Hub network rules cannot express (they allow listed ranges and deny the rest); list the ranges to accept instead.");
    }
    if d.standard && d.m.messaging.commands {
        b = b.block(
            tf::block("cloud_to_device")
                .attr("max_delivery_count", tf::num(10))
                .attr("default_ttl", lit("PT1H"))
                .block(
                    tf::block("feedback")
                        .attr("time_to_live", lit("PT1H"))
                        .attr("max_delivery_count", tf::num(10))
                        .attr("lock_duration", lit("PT60S"))
                        .build(),
                )
                .build(),
        );
    }
    f.push(b.tagged().build());
    intent(d, t, partitions, retention);
    if d.hub_ca {
        hub_ca(&mut f, t);
    }

    // Least-privilege shared access policies for the back-end services of the spec.
    if hub.local_authentication {
        for s in &d.m.access.services {
            let has = |p| s.access.contains(&p);
            let write = has(ServicePermission::RegistryWrite);
            f.push(
                tf::resource(
                    "azurerm_iothub_shared_access_policy",
                    &format!("service_{}", tf_label(&s.name)),
                )
                .note(&format!(
                    "Service `{}`: {}.",
                    s.name,
                    s.access
                        .iter()
                        .map(|p| permission_word(*p))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))
                .attr("for_each", r("azurerm_iothub.hub"))
                .attr("name", lit(&s.name))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iothub_name", r("each.value.name"))
                // Registry write implies read; azurerm rejects write without read.
                .attr(
                    "registry_read",
                    tf::boolean(has(ServicePermission::RegistryRead) || write),
                )
                .attr("registry_write", tf::boolean(write))
                .attr(
                    "service_connect",
                    tf::boolean(has(ServicePermission::ServiceConnect)),
                )
                .attr(
                    "device_connect",
                    tf::boolean(has(ServicePermission::DeviceConnect)),
                )
                .build(),
            );
        }
    } else if !d.m.access.services.is_empty() {
        f.comment("Local (shared key) authentication is off: services sign in with Entra ID and");
        f.comment(
            "need the IoT Hub Data Reader or Contributor role instead of a shared access policy.",
        );
    }

    // A consumer group on the built-in endpoint for each service that reads device messages,
    // so readers do not steal each other's checkpoints.
    for s in &d.m.access.services {
        if s.access.contains(&ServicePermission::ServiceConnect) {
            f.push(
                tf::resource(
                    "azurerm_iothub_consumer_group",
                    &format!("service_{}", tf_label(&s.name)),
                )
                .attr("for_each", r("azurerm_iothub.hub"))
                .attr("name", lit(&s.name))
                .attr("iothub_name", r("each.value.name"))
                .attr("eventhub_endpoint_name", lit("events"))
                .attr("resource_group_name", r("local.resource_group_name"))
                .build(),
            );
        }
    }
    f
}

/// The fleet CA on every hub. Without a DPS, devices with CA-signed certificates connect to
/// the hub directly, and IoT Hub authenticates them only against a CA uploaded to that hub and
/// verified (proof of possession, or `var.ca_certificate_verified`).
fn hub_ca(f: &mut TfFile, t: &mut Intent) {
    // The CA is read while planning: the tests plan with a stand-in certificate, and check
    // that a missing file stops the plan with the precondition's message.
    t.fixture_ca(
        "ca_certificate_file",
        Some(r("azurerm_iothub_certificate.fleet_ca")),
    );
    f.push(super::dps::ca_locals());
    f.push(
        tf::resource("azurerm_iothub_certificate", "fleet_ca")
            .note("The CA that signs device certificates (public certificate only), on each hub. Until it")
            .note("is verified, devices it signed cannot connect: prove possession of its key with")
            .note("`fleetform certs verify-azure` (see README), or set var.ca_certificate_verified.")
            .attr("for_each", r("azurerm_iothub.hub"))
            .attr("name", lit(super::dps::CA_NAME))
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr("iothub_name", r("each.value.name"))
            .attr(
                "certificate_content",
                tf::call("file", [r("local.ca_certificate_path")]),
            )
            .attr("is_verified", r("var.ca_certificate_verified"))
            .block(
                tf::block("lifecycle")
                    .block(
                        tf::block("precondition")
                            .attr(
                                "condition",
                                tf::call("fileexists", [r("local.ca_certificate_path")]),
                            )
                            .attr(
                                "error_message",
                                lit("No CA certificate at var.ca_certificate_file (relative to var.spec_dir). Create one with `fleetform certs init`, or point the variables at yours."),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build(),
    );
    t.assert(
        "identity.method",
        "x509 devices without a DPS: the fleet CA on every hub",
        all([
            eq(
                tf::call(
                    "toset",
                    [tf::call("keys", [r("azurerm_iothub_certificate.fleet_ca")])],
                ),
                tf::call("toset", [tf::call("keys", [r("azurerm_iothub.hub")])]),
            ),
            all_in(
                "c",
                r("azurerm_iothub_certificate.fleet_ca"),
                eq(r("c.name"), lit(super::dps::CA_NAME)),
            ),
        ]),
    );
}

/// The sizing, in words, for the note above the hubs: each hub's size and the share of the
/// fleet it is sized for.
fn sizing_notes(d: &Design) -> Vec<String> {
    let mut out = Vec::new();
    for h in &d.hubs {
        let what = if d.hubs.len() == 1 {
            "The hub".to_owned()
        } else {
            format!("{}:", h.location)
        };
        let share = if d.hubs.len() == 1 {
            String::new()
        } else {
            format!(" for {}", share_words(d, h))
        };
        out.push(format!(
            "{what} {:?} x {}{share}: {} quota messages (4 KB blocks) a day, planned at {}.",
            h.sku,
            h.units,
            thousands(h.daily_quota),
            thousands(h.planned_daily_quota_messages)
        ));
    }
    out
}

/// What share of the fleet hub `h` is sized for, and why: `750 devices (weight 3 of 4)`.
pub(crate) fn share_words(d: &Design, h: &crate::model::HubSite) -> String {
    use crate::model::Allocation;
    let devices = thousands(h.devices);
    match d.az.dps.as_ref().map(|dps| dps.allocation) {
        _ if d.hubs.len() == 1 => format!("all {devices} devices"),
        Some(Allocation::EvenlyWeighted) => {
            let total: u32 = d.hubs.iter().map(|h| h.allocation_weight).sum();
            format!(
                "{devices} devices (weight {} of {total})",
                h.allocation_weight
            )
        }
        Some(Allocation::Static) if h.share > 0.0 => {
            format!("all {devices} devices (static allocation)")
        }
        Some(Allocation::Static) => {
            "no devices (static allocation sends them to the first hub)".to_owned()
        }
        _ if !h.predicted => format!(
            "the whole fleet, {devices} devices (the allocation does not say where devices go)"
        ),
        _ => format!("{devices} devices (linked_hubs[].devices)"),
    }
}

/// What the hubs must plan as, from the same values the hub block was built with.
fn intent(d: &Design, t: &mut Intent, partitions: u32, retention: u32) {
    let hub = &d.az.hub;
    let each = |cond: Expression| all_in("h", r("azurerm_iothub.hub"), cond);
    let locations: Vec<&str> = d.hubs.iter().map(|h| h.location.as_str()).collect();
    t.assert(
        if d.hubs.len() > 1 {
            "clouds.azure.dps.linked_hubs"
        } else {
            "clouds.azure.location"
        },
        format!("one IoT hub in each of {}", locations.join(", ")),
        eq(
            tf::call("toset", [tf::call("keys", [r("azurerm_iothub.hub")])]),
            set(locations.iter().map(|l| lit(*l))),
        ),
    );
    // One assertion per hub: each is sized for its own share of the fleet.
    for h in &d.hubs {
        let planned =
            |a: &str| tf::r_index("azurerm_iothub.hub", lit(&h.location), &["sku", "0", a]);
        let key = if hub.pinned {
            "clouds.azure.iot_hub.sku / units"
        } else if d.hubs.len() > 1 {
            "clouds.azure.iot_hub.tier and clouds.azure.dps (fleetform sized each hub for the devices its allocation sends it)"
        } else {
            "clouds.azure.iot_hub.tier (fleetform sized the hubs from fleet and messaging)"
        };
        t.assert(
            key,
            format!(
                "{:?} x {} in {}, for {}",
                h.sku,
                h.units,
                h.location,
                share_words(d, h)
            ),
            all([
                eq(planned("name"), lit(format!("{:?}", h.sku))),
                eq(planned("capacity"), tf::num(h.units)),
            ]),
        );
    }
    t.assert(
        "clouds.azure.iot_hub.partitions / retention_days",
        format!("{partitions} partitions and {retention} day(s) on the built-in endpoint"),
        each(all([
            eq(r("h.event_hub_partition_count"), tf::num(partitions)),
            eq(r("h.event_hub_retention_in_days"), tf::num(retention)),
        ])),
    );
    t.assert(
        "clouds.azure.iot_hub.public_network_access / local_authentication",
        format!(
            "public network access {}, shared-key authentication {}, TLS 1.2",
            if hub.public_network_access {
                "on"
            } else {
                "off"
            },
            if hub.local_authentication {
                "on"
            } else {
                "off"
            }
        ),
        each(all([
            eq(
                r("h.public_network_access_enabled"),
                tf::boolean(hub.public_network_access),
            ),
            eq(
                r("h.local_authentication_enabled"),
                tf::boolean(hub.local_authentication),
            ),
            eq(r("h.min_tls_version"), lit("1.2")),
        ])),
    );
    t.assert(
        "pipeline.routes",
        "messages no route matches to stay on the built-in endpoint (fallback route to `events`)",
        each(all([
            eq(r("h.fallback_route.0.enabled"), tf::boolean(true)),
            eq(
                r("h.fallback_route.0.endpoint_names"),
                list([lit("events")]),
            ),
        ])),
    );
}

/// `6400000` as `6,400,000`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn permission_word(p: ServicePermission) -> &'static str {
    match p {
        ServicePermission::RegistryRead => "registry read",
        ServicePermission::RegistryWrite => "registry write",
        ServicePermission::ServiceConnect => "service connect",
        ServicePermission::DeviceConnect => "device connect",
    }
}
