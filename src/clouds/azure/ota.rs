//! `ota.tf`: Device Update for IoT Hub, one account and one instance per hub.
//!
//! Creating an instance configures its hub by itself: Device Update adds its message routes
//! (`DeviceUpdate.*`, to the built-in endpoint) and the `adum` consumer group. fleetform
//! therefore does not declare them; the hub's `route` list is provider-computed when unset,
//! so they cause no drift. Device Update needs Standard-tier hubs with local authentication.

use super::{Design, Hcl, bounded, system_identity};
use crate::plan::tf::{self, TfFile, lit, r};

pub(super) fn file(d: &Design) -> TfFile {
    let mut f = TfFile::new();
    if !d.az.hub.local_authentication {
        f.comment(
            "Device Update needs local authentication on the hubs, which the spec turns off:",
        );
        f.comment("instances will fail to configure their hubs until it is back on.");
    }
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
    if d.archive.is_some() {
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
