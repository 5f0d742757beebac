//! Every resource type the Azure modules create, with how `fleetform cost` treats it: priced
//! (which service's lines), free, or billed but not estimated yet and on what basis. The
//! estimate leaves Azure Monitor, Key Vault and data transfer out on purpose (its conventions
//! say so); the rest of the "not estimated" entries are what a fuller price book would add.

use crate::design::bill::{Billing, free, not_estimated, partly, priced};

const RBAC: &str = "access control has no charge";
const HUB_PART: &str =
    "no charge of its own: routing, endpoints and policies come with the hub's units";
const ACCOUNT_PART: &str = "no charge of its own: storage and operations are billed by the account";
const COSMOS_PART: &str =
    "no charge of its own: serverless request units and storage are billed by the account";
const KUSTO_PART: &str = "no charge of its own: the cluster bills compute";

/// The Azure catalog, sorted by resource type.
pub(super) const CATALOG: &[Billing] = &[
    not_estimated(
        "azurerm_application_insights",
        "telemetry ingestion per GB; Azure Monitor is left out of every estimate",
    ),
    free(
        "azurerm_consumption_budget_resource_group",
        "cost budgets have no charge",
    ),
    priced("azurerm_cosmosdb_account", "Cosmos DB"),
    free("azurerm_cosmosdb_sql_container", COSMOS_PART),
    free("azurerm_cosmosdb_sql_database", COSMOS_PART),
    free("azurerm_cosmosdb_sql_role_assignment", RBAC),
    free(
        "azurerm_eventhub",
        "no charge of its own: the namespace bills throughput units, ingress events and Capture (per throughput unit hour of the namespace)",
    ),
    free(
        "azurerm_eventhub_authorization_rule",
        "no charge of its own: a key of the namespace",
    ),
    free(
        "azurerm_eventhub_consumer_group",
        "no charge of its own: included in the namespace's tier",
    ),
    partly(
        "azurerm_eventhub_namespace",
        "Event Hubs",
        "priced when a route streams telemetry or Capture archives it; a namespace that carries only the alert hubs bills its throughput units too, not estimated",
    ),
    priced("azurerm_iothub", "IoT Hub"),
    free("azurerm_iothub_consumer_group", HUB_PART),
    not_estimated(
        "azurerm_iothub_device_update_account",
        "Device Update bills per managed device per month",
    ),
    not_estimated(
        "azurerm_iothub_device_update_instance",
        "Device Update bills per managed device per month",
    ),
    not_estimated(
        "azurerm_iothub_dps",
        "DPS bills per 1,000 operations (registrations and device queries)",
    ),
    free("azurerm_iothub_dps_certificate", "part of the DPS"),
    free("azurerm_iothub_dps_shared_access_policy", "part of the DPS"),
    free("azurerm_iothub_endpoint_cosmosdb_account", HUB_PART),
    free("azurerm_iothub_endpoint_eventhub", HUB_PART),
    free("azurerm_iothub_endpoint_storage_container", HUB_PART),
    free("azurerm_iothub_enrichment", HUB_PART),
    free("azurerm_iothub_route", HUB_PART),
    free("azurerm_iothub_shared_access_policy", HUB_PART),
    not_estimated(
        "azurerm_key_vault",
        "Key Vault operations; Key Vault is left out of every estimate",
    ),
    not_estimated(
        "azurerm_key_vault_key",
        "HSM-protected keys bill per key-month; Key Vault is left out of every estimate",
    ),
    not_estimated(
        "azurerm_kusto_cluster",
        "a Data Explorer cluster bills compute every hour it runs, usually the largest line when analytics is on; not in the price book yet",
    ),
    free("azurerm_kusto_database", KUSTO_PART),
    free("azurerm_kusto_eventhub_data_connection", KUSTO_PART),
    free("azurerm_kusto_script", KUSTO_PART),
    partly(
        "azurerm_linux_function_app",
        "Functions",
        "the alert functions are priced; the DPS custom allocation webhook runs per device registration, not estimated",
    ),
    not_estimated(
        "azurerm_log_analytics_workspace",
        "log ingestion and retention per GB; Azure Monitor is left out of every estimate",
    ),
    not_estimated(
        "azurerm_monitor_action_group",
        "notifications bill per message beyond a free monthly allowance; Azure Monitor is left out",
    ),
    free(
        "azurerm_monitor_diagnostic_setting",
        "no charge of its own: the logs it sends are billed by the workspace",
    ),
    not_estimated(
        "azurerm_monitor_metric_alert",
        "alert rules bill per monitored time series; Azure Monitor is left out of every estimate",
    ),
    free("azurerm_resource_group", "resource groups have no charge"),
    free("azurerm_role_assignment", RBAC),
    free(
        "azurerm_service_plan",
        "a Consumption (Y1) plan bills the executions of its function apps",
    ),
    partly(
        "azurerm_storage_account",
        "Blob Storage",
        "the telemetry archive is priced; the function apps' and the state storage accounts hold little data and are not estimated",
    ),
    free("azurerm_storage_blob", ACCOUNT_PART),
    free("azurerm_storage_container", ACCOUNT_PART),
    free("azurerm_storage_management_policy", ACCOUNT_PART),
    priced("azurerm_stream_analytics_job", "Stream Analytics"),
    free(
        "azurerm_stream_analytics_job_schedule",
        "no charge of its own: the job bills streaming units",
    ),
    free(
        "azurerm_stream_analytics_output_eventhub",
        "no charge of its own: the job bills streaming units",
    ),
    free(
        "azurerm_stream_analytics_stream_input_eventhub_v2",
        "no charge of its own: the job bills streaming units",
    ),
    free(
        "azurerm_user_assigned_identity",
        "managed identities have no charge",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_is_sorted_and_unique() {
        let types: Vec<&str> = super::CATALOG.iter().map(|b| b.resource_type).collect();
        let mut sorted = types.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(types, sorted);
    }
}
