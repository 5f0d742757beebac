//! `dps.tf` and `scripts/create-enrollment-groups.sh`: the Device Provisioning Service, its
//! links to every hub, the fleet CA, and the enrollment groups Terraform cannot create.
//!
//! Each hub gets a `dps-link` shared access policy with exactly what DPS needs (registry
//! write and service connect), and the DPS links to it through that policy's connection
//! string. Enrollment groups are data-plane objects that neither azurerm nor ARM can manage
//! (hashicorp/terraform-provider-azurerm#11101), so a generated, idempotent script creates
//! or updates them with the Azure CLI after `terraform apply`, reading names from the
//! module's outputs.

use serde_json::json;

use super::{Design, Hcl, bounded};
use crate::blueprint;
use crate::model::{Allocation, AuthMethod, IpAction, Reprovisioning};
use crate::plan::PlanError;
use crate::plan::intent::{Intent, eq, list, set};
use crate::plan::tf::{self, Part, TfFile, lit, r};

/// Name of the rule that ends a DPS allow list by rejecting every other address.
const REJECT_REST: &str = "reject-rest";

/// The DPS IP filter as `(name, mask, action)`, in order. DPS applies the rules in order and
/// the first match decides; an address no rule matches is accepted ("IP filter rule
/// evaluation", learn.microsoft.com `iot-dps/iot-dps-ip-filtering`). Accept rules alone
/// would therefore filter nothing: when the spec lists any, a final rule rejects
/// `0.0.0.0/0`, unless the spec already ends with one.
pub(crate) fn ip_filter_rules(
    spec: &[crate::model::IpRule],
) -> Vec<(String, String, &'static str)> {
    let word = |a: IpAction| match a {
        IpAction::Accept => "Accept",
        IpAction::Reject => "Reject",
    };
    let mut out: Vec<_> = spec
        .iter()
        .map(|r| (r.name.clone(), r.ip_mask.clone(), word(r.action)))
        .collect();
    let allows = spec.iter().any(|r| r.action == IpAction::Accept);
    let closed = spec
        .last()
        .is_some_and(|r| r.action == IpAction::Reject && r.ip_mask == "0.0.0.0/0");
    if allows && !closed {
        // Rule names are unique (case-insensitively): step past one the spec already uses.
        let taken = |n: &str| spec.iter().any(|r| r.name.eq_ignore_ascii_case(n));
        let name = std::iter::once(REJECT_REST.to_owned())
            // The spec has `spec.len()` names, so one of these `spec.len() + 2` is free.
            .chain((2..=spec.len() + 2).map(|i| format!("{REJECT_REST}-{i}")))
            .find(|n| !taken(n))
            .unwrap_or_default();
        out.push((name, "0.0.0.0/0".to_owned(), "Reject"));
    }
    out
}

/// Name of the CA certificate in the DPS.
pub(crate) const CA_NAME: &str = "fleet-ca";

/// The X.509 groups with a CA of their own, as (DPS certificate name, group, CA file). DPS
/// takes a certificate in one enrollment entry only, so every X.509 group but the one on the
/// fleet CA brings its own (validation makes sure of it).
pub(crate) fn group_cas<'a>(d: &'a Design<'a>) -> Vec<(String, &'a str, &'a str)> {
    let Some(dps) = &d.az.dps else {
        return Vec::new();
    };
    dps.enrollment_groups
        .iter()
        .filter(|g| g.attestation == AuthMethod::X509)
        .filter_map(|g| {
            let file = g.ca_certificate_file.as_deref()?;
            let name: String = format!("ca-{}", g.name)
                .chars()
                .map(|c| {
                    if c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_' {
                        c
                    } else {
                        '-'
                    }
                })
                .collect();
            Some((bounded(&name, 64), g.name.as_str(), file))
        })
        .collect()
}

/// DPS allocation policy (the DPS-level default); custom allocation is set per group.
pub(crate) fn allocation_policy(a: Allocation) -> &'static str {
    match a {
        Allocation::EvenlyWeighted | Allocation::Custom => "Hashed",
        Allocation::LowestLatency => "GeoLatency",
        Allocation::Static => "Static",
    }
}

/// The Azure CLI's word for an allocation policy.
fn cli_allocation(a: Allocation) -> &'static str {
    match a {
        Allocation::EvenlyWeighted => "hashed",
        Allocation::LowestLatency => "geolatency",
        Allocation::Static => "static",
        Allocation::Custom => "custom",
    }
}

fn cli_reprovision(r: Reprovisioning) -> &'static str {
    match r {
        Reprovisioning::ReprovisionAndMigrate => "reprovisionandmigratedata",
        Reprovisioning::ReprovisionAndReset => "reprovisionandresetdata",
        Reprovisioning::Never => "never",
    }
}

/// How an attestation is called in prose.
pub(crate) fn attestation_word(a: AuthMethod) -> &'static str {
    match a {
        AuthMethod::X509 => "x509",
        AuthMethod::SymmetricKey => "symmetric_key",
        AuthMethod::Tpm => "tpm",
    }
}

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
    let mut f = TfFile::new();
    let Some(dps) = &d.az.dps else { return f };
    let primary = &d.hubs[0].location;

    f.push(
        tf::resource("azurerm_iothub_shared_access_policy", "dps_link")
            .note("DPS links to each hub through a policy with only what it needs: registry write")
            .note("(which includes read) and service connect.")
            .attr("for_each", r("azurerm_iothub.hub"))
            .attr("name", lit("dps-link"))
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr("iothub_name", r("each.value.name"))
            .attr("registry_read", tf::boolean(true))
            .attr("registry_write", tf::boolean(true))
            .attr("service_connect", tf::boolean(true))
            .build(),
    );

    let mut b = tf::resource("azurerm_iothub_dps", "this")
        .attr("name", super::global(&d.az.names.dps))
        .placed()
        .note(&format!(
            "Spec allocation `{}`{}.",
            cli_allocation(dps.allocation),
            if dps.allocation == Allocation::Custom {
                ": the DPS default stays Hashed and each enrollment group calls the allocation function"
            } else {
                ""
            }
        ))
        .attr("allocation_policy", lit(allocation_policy(dps.allocation)))
        .attr("data_residency_enabled", tf::boolean(dps.data_residency))
        .attr(
            "public_network_access_enabled",
            tf::boolean(d.az.hub.public_network_access),
        )
        .block(
            tf::block("sku")
                .attr("name", lit("S1"))
                .attr("capacity", tf::num(1))
                .build(),
        );
    for hub in &d.hubs {
        let key = lit(&hub.location);
        // Static allocation sends every device to the primary hub: only it takes part.
        let applies = dps.allocation != Allocation::Static || &hub.location == primary;
        b = b.block(
            tf::block("linked_hub")
                .attr(
                    "connection_string",
                    tf::r_index(
                        "azurerm_iothub_shared_access_policy.dps_link",
                        key.clone(),
                        &["primary_connection_string"],
                    ),
                )
                .attr(
                    "location",
                    tf::r_index("azurerm_iothub.hub", key, &["location"]),
                )
                .attr("allocation_weight", tf::num(hub.allocation_weight))
                .attr("apply_allocation_policy", tf::boolean(applies))
                .build(),
        );
    }
    let rules = ip_filter_rules(&dps.ip_filter);
    let added = rules.len() > dps.ip_filter.len();
    for (i, (name, mask, action)) in rules.iter().enumerate() {
        let mut rule = tf::block("ip_filter_rule");
        if added && i + 1 == rules.len() {
            rule = rule
                .note("DPS accepts an address no rule matches (rules apply in order, first match wins),")
                .note("so the spec's allow list ends with a rule that rejects the rest. Enrollment groups")
                .note("are managed through the same filter: run the enrollment script from a listed address.");
        }
        b = b.block(
            rule.attr("name", lit(name))
                .attr("ip_mask", lit(mask))
                .attr("action", lit(*action))
                .attr("target", lit("all"))
                .build(),
        );
    }
    f.push(b.tagged().build());
    t.assert(
        "clouds.azure.dps.allocation",
        format!(
            "allocation `{}` (DPS policy {})",
            cli_allocation(dps.allocation),
            allocation_policy(dps.allocation)
        ),
        eq(
            r("azurerm_iothub_dps.this.allocation_policy"),
            lit(allocation_policy(dps.allocation)),
        ),
    );
    if !rules.is_empty() {
        let want: Vec<String> = rules
            .iter()
            .map(|(name, mask, action)| format!("{name} {mask} {action}"))
            .collect();
        t.assert(
            "clouds.azure.dps.ip_filter",
            format!("DPS IP filter, in order: {}", want.join(", ")),
            eq(
                tf::call(
                    "tolist",
                    [tf::for_list(
                        "f",
                        r("azurerm_iothub_dps.this.ip_filter_rule"),
                        tf::interp([
                            Part::Ref(r("f.name")),
                            Part::Lit(" "),
                            Part::Ref(r("f.ip_mask")),
                            Part::Lit(" "),
                            Part::Ref(r("f.action")),
                        ]),
                    )],
                ),
                list(want.iter().map(lit)),
            ),
        );
    }
    let linked: Vec<String> = d
        .hubs
        .iter()
        .map(|h| {
            let applies = dps.allocation != Allocation::Static || &h.location == primary;
            format!(
                "{} weight {} allocating {applies}",
                h.location, h.allocation_weight
            )
        })
        .collect();
    t.assert(
        "clouds.azure.dps.linked_hubs",
        format!("linked hubs {}", linked.join(", ")),
        eq(
            tf::call(
                "toset",
                [tf::for_list(
                    "l",
                    r("azurerm_iothub_dps.this.linked_hub"),
                    tf::interp([
                        Part::Ref(r("l.location")),
                        Part::Lit(" weight "),
                        Part::Ref(r("l.allocation_weight")),
                        Part::Lit(" allocating "),
                        Part::Ref(r("l.apply_allocation_policy")),
                    ]),
                )],
            ),
            set(linked.iter().map(lit)),
        ),
    );

    if d.dps_ca {
        // The CA is read while planning: the tests plan with a stand-in certificate, and
        // check that a missing file stops the plan with the precondition's message.
        t.fixture_ca(
            "ca_certificate_file",
            Some(r("azurerm_iothub_dps_certificate.fleet_ca")),
        );
        f.push(ca_locals());
        f.push(
            tf::resource("azurerm_iothub_dps_certificate", "fleet_ca")
                .note("The CA that signs device certificates (public certificate only). Until it is")
                .note("verified, X.509 enrollment groups cannot use it: prove possession of its key with")
                .note("`fleetform certs verify-azure` (see README), or set var.ca_certificate_verified.")
                .attr("name", lit(CA_NAME))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iot_dps_name", r("azurerm_iothub_dps.this.name"))
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
    }

    let group_cas = group_cas(d);
    if !group_cas.is_empty() {
        t.variable(
            "group_ca_certificate_files",
            tf::obj(group_cas.iter().map(|(name, _, _)| {
                (
                    name.as_str(),
                    tf::call("abspath", [lit(crate::plan::intent::FIXTURE_CA)]),
                )
            })),
        );
        f.push(
            tf::resource("azurerm_iothub_dps_certificate", "group_ca")
                .note("The CAs of the X.509 groups beyond the one on the fleet CA: DPS takes a")
                .note("certificate in one enrollment entry only. Verify each like the fleet CA.")
                .attr("for_each", r("var.group_ca_certificate_files"))
                .attr("name", r("each.key"))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iot_dps_name", r("azurerm_iothub_dps.this.name"))
                .attr(
                    "certificate_content",
                    tf::call(
                        "file",
                        [tf::cond(
                            tf::call("startswith", [r("each.value"), lit("/")]),
                            r("each.value"),
                            tf::interp([
                                Part::Ref(r("local.spec_dir")),
                                Part::Lit("/"),
                                Part::Ref(r("each.value")),
                            ]),
                        )],
                    ),
                )
                .attr("is_verified", r("var.ca_certificate_verified"))
                .build(),
        );
        let names: Vec<&str> = group_cas.iter().map(|(n, _, _)| n.as_str()).collect();
        t.assert(
            "clouds.azure.dps.enrollment_groups[*].ca_certificate_file",
            format!(
                "a DPS certificate of its own for each further X.509 group ({})",
                names.join(", ")
            ),
            eq(
                tf::call(
                    "toset",
                    [tf::for_list(
                        "c",
                        r("azurerm_iothub_dps_certificate.group_ca"),
                        r("c.name"),
                    )],
                ),
                set(names.iter().map(|n| lit(*n))),
            ),
        );
    }

    if d.enrollments() {
        f.push(
            tf::resource("azurerm_iothub_dps_shared_access_policy", "enrollment")
                .note("For the enrollment scripts (scripts/) with AUTH_TYPE=key: enrollments only.")
                .attr("name", lit("enrollment-manager"))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iothub_dps_name", r("azurerm_iothub_dps.this.name"))
                .attr("enrollment_read", tf::boolean(true))
                .attr("enrollment_write", tf::boolean(true))
                .build(),
        );
        f.push(
            tf::resource("azurerm_role_assignment", "deployer_enrollments")
                .note("Whoever applies this module can run the enrollment scripts with Entra ID (AUTH_TYPE=login).")
                .attr("scope", r("azurerm_iothub_dps.this.id"))
                .attr(
                    "role_definition_name",
                    lit("Device Provisioning Service Data Contributor"),
                )
                .attr(
                    "principal_id",
                    r("data.azurerm_client_config.current.object_id"),
                )
                .build(),
        );
    }
    f
}

/// Folder and file stem of the CA certificate, as `fleetform certs --ca-dir DIR --ca STEM`
/// takes them (`certs/signing-ca.pem` is `certs` and `signing-ca`).
pub(crate) fn ca_location(path: &str) -> (String, String) {
    let (dir, file) = path.rsplit_once('/').unwrap_or((".", path));
    let stem = file
        .rsplit_once('.')
        .map_or(file, |(stem, _)| stem)
        .to_owned();
    (
        if dir.is_empty() {
            "/".to_owned()
        } else {
            dir.to_owned()
        },
        stem,
    )
}

/// The enrollment script, when the spec has enrollment groups.
pub(super) fn enrollment_script(d: &Design) -> Result<Option<String>, PlanError> {
    let Some(dps) = &d.az.dps else {
        return Ok(None);
    };
    if dps.enrollment_groups.is_empty() {
        return Ok(None);
    }
    let group_cas = group_cas(d);
    let groups: Vec<_> = dps
        .enrollment_groups
        .iter()
        .map(|g| {
            let own_ca = group_cas
                .iter()
                .find(|(_, group, _)| *group == g.name)
                .map(|(name, _, _)| name.clone());
            let tags = match &g.device_type {
                Some(t) => json!({ "deviceType": t, "enrollmentGroup": g.name }),
                None => json!({ "enrollmentGroup": g.name }),
            };
            json!({
                "name": g.name,
                "x509": g.attestation == AuthMethod::X509,
                "ca_name": own_ca,
                "iot_edge": g.iot_edge,
                "tags": tags.to_string(),
                "device_type": g.device_type,
            })
        })
        .collect();
    let (ca_dir, ca_stem) = ca_location(&d.m.identity.ca_certificate_file);
    let cas: Vec<_> = std::iter::once(json!({ "name": CA_NAME, "dir": ca_dir, "stem": ca_stem }))
        .chain(group_cas.iter().map(|(name, _, file)| {
            let (dir, stem) = ca_location(file);
            json!({ "name": name, "dir": dir, "stem": stem })
        }))
        .collect();
    let ctx = json!({
        "stack": d.prefix(),
        "dps": d.az.names.dps.to_string(),
        "groups": groups,
        "allocation": cli_allocation(dps.allocation),
        "static": dps.allocation == Allocation::Static,
        "custom": dps.allocation == Allocation::Custom,
        "reprovision": cli_reprovision(dps.reprovisioning),
        "ca": d.dps_ca,
        // Basic and Free hubs have no twins, so an initial twin would fail provisioning.
        "twins": d.standard,
        "ca_name": CA_NAME,
        "cas": cas,
        "any_x509": dps.enrollment_groups.iter().any(|g| g.attestation == AuthMethod::X509),
        "any_symmetric": dps.enrollment_groups.iter().any(|g| g.attestation == AuthMethod::SymmetricKey),
    });
    blueprint::render("azure/create-enrollment-groups.sh.j2", ctx).map(Some)
}

/// The locals that turn `var.ca_certificate_file` into a path: relative paths are resolved
/// from the fleet spec's folder (`var.spec_dir`). `dps.tf` or `iothub.tf` carries it, whichever
/// uploads the CA.
pub(super) fn ca_locals() -> hcl::Block {
    tf::block("locals")
        .note(
            "Relative CA paths are resolved from the fleet spec's folder (var.spec_dir), which is",
        )
        .note("itself relative to this module, so the result is the same wherever terraform runs.")
        .attr(
            "spec_dir",
            tf::cond(
                tf::call("startswith", [r("var.spec_dir"), lit("/")]),
                r("var.spec_dir"),
                tf::interp([
                    Part::Ref(r("path.module")),
                    Part::Lit("/"),
                    Part::Ref(r("var.spec_dir")),
                ]),
            ),
        )
        .attr(
            "ca_certificate_path",
            tf::cond(
                tf::call("startswith", [r("var.ca_certificate_file"), lit("/")]),
                r("var.ca_certificate_file"),
                tf::interp([
                    Part::Ref(r("local.spec_dir")),
                    Part::Lit("/"),
                    Part::Ref(r("var.ca_certificate_file")),
                ]),
            ),
        )
        .build()
}

/// The TPM enrollment script and its device list, when the fleet attests with TPM through
/// the DPS: TPM has no enrollment groups, so every device of the registry gets an individual
/// enrollment with its endorsement key (read at run time from `EK_DIR/<id>.ek`).
pub(super) fn tpm_enrollment_script(d: &Design) -> Result<Option<(String, String)>, PlanError> {
    let Some(dps) = &d.az.dps else {
        return Ok(None);
    };
    if !d.tpm_enrollments() {
        return Ok(None);
    }
    let mut devices = String::new();
    for device in d.m.fleet.registry.iter() {
        devices.push_str(device.id());
        if let Some(t) = device.device_type() {
            devices.push(' ');
            devices.push_str(t);
        }
        devices.push('\n');
    }
    let ctx = json!({
        "stack": d.prefix(),
        "allocation": cli_allocation(dps.allocation),
        "static": dps.allocation == Allocation::Static,
        "custom": dps.allocation == Allocation::Custom,
        "reprovision": cli_reprovision(dps.reprovisioning),
        "twins": d.standard,
        "count": d.m.fleet.registry.len(),
    });
    let script = blueprint::render("azure/create-tpm-enrollments.sh.j2", ctx)?;
    Ok(Some((script, devices)))
}
