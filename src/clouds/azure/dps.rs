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
use crate::plan::intent::{Intent, eq, set};
use crate::plan::tf::{self, Part, TfFile, lit, r};

/// Name of the CA certificate in the DPS.
pub(crate) const CA_NAME: &str = "fleet-ca";

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
        .attr("name", lit(&d.az.names.dps))
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
    for rule in &dps.ip_filter {
        b = b.block(
            tf::block("ip_filter_rule")
                .attr("name", lit(&rule.name))
                .attr("ip_mask", lit(&rule.ip_mask))
                .attr(
                    "action",
                    lit(match rule.action {
                        IpAction::Accept => "Accept",
                        IpAction::Reject => "Reject",
                    }),
                )
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
        f.push(
            tf::block("locals")
                .note("Relative CA paths are resolved from the fleet spec's folder (var.spec_dir), which is")
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
                .build(),
        );
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

    if !dps.enrollment_groups.is_empty() {
        f.push(
            tf::resource("azurerm_iothub_dps_shared_access_policy", "enrollment")
                .note(
                    "For scripts/create-enrollment-groups.sh with AUTH_TYPE=key: enrollments only.",
                )
                .attr("name", lit("enrollment-manager"))
                .attr("resource_group_name", r("local.resource_group_name"))
                .attr("iothub_dps_name", r("azurerm_iothub_dps.this.name"))
                .attr("enrollment_read", tf::boolean(true))
                .attr("enrollment_write", tf::boolean(true))
                .build(),
        );
        f.push(
            tf::resource("azurerm_role_assignment", "deployer_enrollments")
                .note("Whoever applies this module can run the enrollment script with Entra ID (AUTH_TYPE=login).")
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
    let groups: Vec<_> = dps
        .enrollment_groups
        .iter()
        .map(|g| {
            let tags = match &g.device_type {
                Some(t) => json!({ "deviceType": t, "enrollmentGroup": g.name }),
                None => json!({ "enrollmentGroup": g.name }),
            };
            json!({
                "name": g.name,
                "x509": g.attestation == AuthMethod::X509,
                "iot_edge": g.iot_edge,
                "tags": tags.to_string(),
                "device_type": g.device_type,
            })
        })
        .collect();
    let (ca_dir, ca_stem) = ca_location(&d.m.identity.ca_certificate_file);
    let ctx = json!({
        "stack": d.prefix(),
        "dps": bounded(&d.az.names.dps, 64),
        "groups": groups,
        "allocation": cli_allocation(dps.allocation),
        "static": dps.allocation == Allocation::Static,
        "custom": dps.allocation == Allocation::Custom,
        "reprovision": cli_reprovision(dps.reprovisioning),
        "ca": d.dps_ca,
        // Basic and Free hubs have no twins, so an initial twin would fail provisioning.
        "twins": d.standard,
        "ca_name": CA_NAME,
        "ca_dir": ca_dir,
        "ca_stem": ca_stem,
        "any_x509": dps.enrollment_groups.iter().any(|g| g.attestation == AuthMethod::X509),
        "any_symmetric": dps.enrollment_groups.iter().any(|g| g.attestation == AuthMethod::SymmetricKey),
    });
    blueprint::render("azure/create-enrollment-groups.sh.j2", ctx).map(Some)
}
