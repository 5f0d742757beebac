//! `outputs.tf`: what devices, operators and the enrollment script need after apply.
//!
//! Defined once for `outputs.tf` and the README. Connection strings are outputs only where
//! a consumer of the spec needs a key (services with shared access policies, stream readers,
//! the enrollment script's key mode), and they are marked sensitive.

use hcl::Expression;

use super::{Design, Hcl, tf_label};
use crate::plan::tf::{self, TfFile, lit, r};

/// One output.
pub(crate) struct Output {
    pub name: &'static str,
    pub description: &'static str,
    pub value: Expression,
    pub sensitive: bool,
}

fn out(name: &'static str, description: &'static str, value: Expression) -> Output {
    Output {
        name,
        description,
        value,
        sensitive: false,
    }
}

fn secret(name: &'static str, description: &'static str, value: Expression) -> Output {
    Output {
        name,
        description,
        value,
        sensitive: true,
    }
}

/// `{ for k, v in COLLECTION : k => v.ATTR }`.
fn per_hub(collection: &str, attr: &str) -> Expression {
    tf::for_object("k", "v", r(collection), r("k"), r(&format!("v.{attr}")))
}

pub(crate) fn outputs(d: &Design) -> Vec<Output> {
    let mut o = vec![
        out(
            "resource_group_name",
            "Resource group of the stack.",
            r("local.resource_group_name"),
        ),
        out(
            "iot_hub_names",
            "IoT hub name per location.",
            per_hub("azurerm_iothub.hub", "name"),
        ),
        out(
            "iot_hub_hostnames",
            "IoT hub host name per location; devices connect here after provisioning.",
            per_hub("azurerm_iothub.hub", "hostname"),
        ),
        out(
            "primary_iot_hub_hostname",
            "Host name of the primary (first linked) hub.",
            tf::r_index("azurerm_iothub.hub", r("local.primary_hub"), &["hostname"]),
        ),
    ];
    if d.az.dps.is_some() {
        o.push(out(
            "dps_name",
            "Name of the Device Provisioning Service.",
            r("azurerm_iothub_dps.this.name"),
        ));
        o.push(out(
            "dps_id_scope",
            "ID scope devices present to the DPS global endpoint.",
            r("azurerm_iothub_dps.this.id_scope"),
        ));
        o.push(out(
            "dps_global_endpoint",
            "Host devices provision against (global.azure-devices-provisioning.net).",
            r("azurerm_iothub_dps.this.device_provisioning_host_name"),
        ));
        if d.dps_ca {
            o.push(out(
                "dps_ca_certificate_name",
                "Name of the fleet CA in the DPS (verify it, then enrollment groups reference it).",
                r("azurerm_iothub_dps_certificate.fleet_ca.name"),
            ));
        }
        if d.enrollments() {
            o.push(secret(
                "dps_enrollment_connection_string",
                "Connection string of the enrollment-manager policy (enrollment read/write only), for the enrollment script's AUTH_TYPE=key.",
                r("azurerm_iothub_dps_shared_access_policy.enrollment.primary_connection_string"),
            ));
        }
    }
    o.push(out(
        "eventhub_namespace_name",
        "Event Hubs namespace of the telemetry stream.",
        r("azurerm_eventhub_namespace.this.name"),
    ));
    o.push(out(
        "telemetry_eventhub_name",
        "Event hub that carries routed telemetry.",
        r("azurerm_eventhub.telemetry.name"),
    ));
    if d.archive.is_some() {
        o.push(out(
            "archive_storage_account_name",
            "Storage account of the raw telemetry archive.",
            r("azurerm_storage_account.archive.name"),
        ));
        o.push(out(
            "archive_container_name",
            "Blob container of the raw telemetry archive.",
            r("azurerm_storage_container.archive.name"),
        ));
    }
    o.push(out(
        "log_analytics_workspace_id",
        "Log Analytics workspace that receives the resource logs.",
        r("azurerm_log_analytics_workspace.this.id"),
    ));
    if d.az.hub.local_authentication && !d.m.access.services.is_empty() {
        let entries = d.m.access.services.iter().map(|s| {
            (
                s.name.as_str(),
                tf::for_object(
                    "k",
                    "v",
                    r(&format!(
                        "azurerm_iothub_shared_access_policy.service_{}",
                        tf_label(&s.name)
                    )),
                    r("k"),
                    r("v.primary_connection_string"),
                ),
            )
        });
        o.push(secret(
            "service_connection_strings",
            "IoT hub connection string per service and hub location, scoped to the service's permissions.",
            tf::obj(entries),
        ));
    }
    if !d.stream_readers.is_empty() {
        o.push(secret(
            "stream_listen_connection_strings",
            "Listen-only Event Hubs connection string per service that reads the stream.",
            tf::obj(d.stream_readers.iter().map(|s| {
                (
                    s.name.as_str(),
                    r(&format!(
                        "azurerm_eventhub_authorization_rule.service_{}.primary_connection_string",
                        tf_label(&s.name)
                    )),
                )
            })),
        ));
    }
    if d.m.features.state_store {
        o.push(out(
            "state_store_endpoint",
            "Cosmos DB endpoint of the latest-state store (database fleet, container devices).",
            r("azurerm_cosmosdb_account.state.endpoint"),
        ));
    }
    if d.m.features.analytics {
        o.push(out(
            "analytics_uri",
            "Azure Data Explorer cluster URI (database telemetry, table Telemetry).",
            r("azurerm_kusto_cluster.analytics.uri"),
        ));
    }
    if d.ota {
        o.push(out(
            "device_update_host_name",
            "Device Update account endpoint.",
            r("azurerm_iothub_device_update_account.this.host_name"),
        ));
    }
    if !d.alert_functions.is_empty() {
        o.push(out(
            "alert_function_app_name",
            "Function app that records alert matches.",
            r("azurerm_linux_function_app.alerts.name"),
        ));
    }
    if d.custom_allocation {
        o.push(out(
            "allocation_function_app_name",
            "Function app of the DPS custom allocation webhook.",
            r("azurerm_linux_function_app.allocation.name"),
        ));
        o.push(out(
            "allocation_function_hostname",
            "Host of the custom allocation webhook (https://HOST/api/allocate).",
            r("azurerm_linux_function_app.allocation.default_hostname"),
        ));
    }
    o
}

/// `outputs.tf`.
pub(crate) fn file(outputs: &[Output]) -> TfFile {
    let mut f = TfFile::new();
    for o in outputs {
        let mut b = tf::block("output")
            .add_label(o.name)
            .attr("description", lit(o.description))
            .attr("value", o.value.clone());
        if o.sensitive {
            b = b.attr("sensitive", tf::boolean(true));
        }
        f.push(b.build());
    }
    f
}
