//! `ota.tf`: Device Update for IoT Hub, one account and one instance per hub.
//!
//! Creating an instance configures its hub by itself: Device Update adds its message routes
//! (`DeviceUpdate.*`, to the built-in endpoint) and the `adum` consumer group. fleetform
//! therefore does not declare them; the hub's `route` list is provider-computed when unset,
//! so they cause no drift.
//!
//! What creating them does not do is grant access ("Azure RBAC and Device Update",
//! learn.microsoft.com `iot-hub-device-update/device-update-control-access`): the tenant's
//! "Azure Device Update" service principal needs IoT Hub Data Contributor on each hub to
//! create deployments and read devices (its object id differs per tenant and azurerm cannot
//! look it up, hence `var.device_update_principal_id`), and the people who import and
//! deploy need a Device Update role on the account; here the deployer gets Device Update
//! Administrator, and the firmware container's write and SAS-delegation roles. Device Update needs Standard-tier hubs with local authentication;
//! validation rejects a spec that asks for OTA without either, so this file never meets one.

use super::{Design, Hcl, bounded, role_assignment, system_identity};
use crate::plan::intent::{Intent, all, all_in, eq};
use crate::plan::tf::{self, TfFile, lit, r};

/// The stand-in object id the shipped tests plan with.
const TEST_PRINCIPAL: &str = "00000000-0000-0000-0000-00000000ad00";

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
    let mut f = TfFile::new();
    f.push(
        tf::resource("azurerm_iothub_device_update_account", "this")
            .attr("name", lit(bounded(&format!("adu-{}", d.prefix()), 24)))
            .placed()
            .attr("sku", lit("Standard"))
            .attr("public_network_access_enabled", tf::boolean(true))
            .block(system_identity())
            .tagged()
            .build(),
    );
    f.push(
        tf::resource("azurerm_iothub_device_update_instance", "hub")
            .attr("for_each", r("azurerm_iothub.hub"))
            .attr("name", r("each.key"))
            .attr(
                "device_update_account_id",
                r("azurerm_iothub_device_update_account.this.id"),
            )
            .attr("iothub_id", r("each.value.id"))
            .attr("diagnostic_enabled", tf::boolean(false))
            .tagged()
            .build(),
    );
    f.push(role_assignment(
        "device_update_hub",
        Some(r("azurerm_iothub.hub")),
        r("each.value.id"),
        "IoT Hub Data Contributor",
        r("var.device_update_principal_id"),
    ));
    f.push(
        tf::resource("azurerm_role_assignment", "deployer_device_update_admin")
            .note("Whoever applies this module imports updates and creates deployments.")
            .attr("scope", r("azurerm_iothub_device_update_account.this.id"))
            .attr("role_definition_name", lit("Device Update Administrator"))
            .attr(
                "principal_id",
                r("data.azurerm_client_config.current.object_id"),
            )
            .build(),
    );
    t.assert(
        "pipeline.ota.enabled",
        "Device Update's service principal to be an IoT Hub Data Contributor on every hub",
        all([
            eq(
                tf::call(
                    "toset",
                    [tf::call(
                        "keys",
                        [r("azurerm_role_assignment.device_update_hub")],
                    )],
                ),
                tf::call("toset", [tf::call("keys", [r("azurerm_iothub.hub")])]),
            ),
            all_in(
                "a",
                r("azurerm_role_assignment.device_update_hub"),
                all([
                    eq(r("a.role_definition_name"), lit("IoT Hub Data Contributor")),
                    eq(r("a.principal_id"), r("var.device_update_principal_id")),
                ]),
            ),
        ]),
    );
    t.variable("device_update_principal_id", lit(TEST_PRINCIPAL));
    if d.archive.is_some() {
        // Storage keeps shared keys off, so the import URL is a user-delegation SAS: whoever
        // stages files needs to write the container and to delegate.
        f.push(
            tf::resource("azurerm_role_assignment", "deployer_firmware_writer")
                .note("Whoever applies this module stages update files and signs their import URLs")
                .note("(user-delegation SAS: the account takes no shared keys).")
                .attr("scope", r("azurerm_storage_container.firmware.id"))
                .attr("role_definition_name", lit("Storage Blob Data Contributor"))
                .attr(
                    "principal_id",
                    r("data.azurerm_client_config.current.object_id"),
                )
                .build(),
        );
        f.push(
            tf::resource("azurerm_role_assignment", "deployer_firmware_delegator")
                .attr("scope", r("azurerm_storage_account.archive.id"))
                .attr("role_definition_name", lit("Storage Blob Delegator"))
                .attr(
                    "principal_id",
                    r("data.azurerm_client_config.current.object_id"),
                )
                .build(),
        );
        f.comment("Stage update files in the firmware container (storage.tf) and import them with");
        f.comment("`az iot du update import`; deployments target Device Update groups (twin tag ADUGroup).");
    } else {
        f.comment(
            "Import update files with `az iot du update import`; deployments target Device Update",
        );
        f.comment("groups (twin tag ADUGroup).");
    }
    f
}
