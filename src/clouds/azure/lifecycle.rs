//! What Azure resources hold, and what replacing them costs.
//!
//! `fleetform diff` lists a replacement or destroy of anything that holds data or device
//! identities first, saying what is lost; `prevent_destroy` protects the same resources in
//! production. The provider's replacement rules sit next to this file in `forcenew.json`
//! (derived from hashicorp/azurerm 4.81.0's source; see [`crate::plan::forcenew`]).

use std::sync::OnceLock;

use crate::plan::forcenew::{self, Table};
use crate::plan::lifecycle::Holds;

/// hashicorp/azurerm's replacement rules for the resource types fleetform emits.
pub fn replacement_rules() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| forcenew::parse(include_str!("forcenew.json")))
}

/// What a resource of type `ty` holds, if anything a replacement or destroy loses.
pub fn holds(ty: &str) -> Option<Holds> {
    let what = match ty {
        "azurerm_storage_account" => {
            "every blob, queue and table in the account (archived telemetry, function packages)"
        }
        "azurerm_storage_container" => "every blob in the container",
        "azurerm_eventhub_namespace" => "every event hub in it and the events not yet consumed",
        "azurerm_eventhub" => {
            "events not yet consumed (up to the retention period) and consumer checkpoints"
        }
        "azurerm_iothub" => {
            "every device identity in the hub's registry (keys, twins) and messages not yet routed"
        }
        "azurerm_iothub_dps" => {
            "every enrollment and registration record: devices must be enrolled again"
        }
        "azurerm_iothub_dps_certificate" => {
            "the verified CA: enrollment groups using it stop provisioning devices"
        }
        "azurerm_cosmosdb_account" => "every database and document in the account",
        "azurerm_cosmosdb_sql_database" => "every container and document in the database",
        "azurerm_cosmosdb_sql_container" => "every document in the container (device state)",
        "azurerm_kusto_cluster" => "every database and the telemetry ingested into it",
        "azurerm_kusto_database" => "the telemetry ingested into the database",
        "azurerm_key_vault" => "every key and secret in the vault",
        "azurerm_key_vault_key" => {
            "the key: data encrypted with it (the archive's customer-managed key) becomes unreadable"
        }
        "azurerm_log_analytics_workspace" => "the logs and metrics collected in the workspace",
        "azurerm_application_insights" => "the telemetry collected for the functions",
        "azurerm_iothub_device_update_account" | "azurerm_iothub_device_update_instance" => {
            "imported updates and deployment history"
        }
        _ => return None,
    };
    Some(Holds {
        what,
        per_device: false,
    })
}
