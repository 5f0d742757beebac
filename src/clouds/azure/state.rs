//! `state.tf`: the latest-state store, a serverless Cosmos DB (SQL API) container
//! partitioned by `/deviceId`.
//!
//! IoT Hub writes every routed message as one document through its Cosmos DB endpoint
//! (`routing.tf`), with the device id as the partition key, so a device's latest state is
//! the newest document of its partition: a single-partition query, cheap on serverless.
//! Documents expire after `var.state_store_ttl_days`, which bounds the container.

use super::{Design, Hcl};
use crate::plan::tf::{self, TfFile, lit, r};

pub(super) fn file(d: &Design) -> TfFile {
    let mut f = TfFile::new();
    let mut b = tf::resource("azurerm_cosmosdb_account", "state")
            .skip(
                "CKV_AZURE_101",
                "IoT Hub routing reaches Cosmos DB over its public endpoint; access is Entra ID only and limited to Azure datacenters",
            )
            .skip(
                "CKV_AZURE_100",
                "storage.archive.encryption covers the raw archive; latest-state documents use service-managed keys",
            )
            .skip(
                "CKV_AZURE_140",
                "local_authentication_enabled = false is the azurerm 4.x form; checkov reads only the deprecated local_authentication_disabled",
            )
            .attr("name", super::global(&d.az.names.cosmos_account))
            .placed()
            .attr("offer_type", lit("Standard"))
            .attr("kind", lit("GlobalDocumentDB"))
            .note("Keys are off: IoT Hub and readers use Entra ID and Cosmos DB data roles.")
            .attr("local_authentication_enabled", tf::boolean(false))
            .attr("access_key_metadata_writes_enabled", tf::boolean(false))
            .attr("public_network_access_enabled", tf::boolean(true))
            .attr("is_virtual_network_filter_enabled", tf::boolean(true));
    b = if d.state_endpoint {
        b.note("0.0.0.0 admits Azure datacenters, which is where IoT Hub routing writes from: its egress")
            .note("to Cosmos DB uses the public endpoint, with no trusted-services exception or private link.")
            .note("Keys are off, so only principals with a Cosmos DB data role get past it (README).")
            .attr(
                "ip_range_filter",
                tf::call(
                    "concat",
                    [tf::strings(["0.0.0.0"]), r("var.state_store_allowed_ip_ranges")],
                ),
            )
    } else {
        b.note("No route writes here, so only the listed readers may connect.")
            .attr("ip_range_filter", r("var.state_store_allowed_ip_ranges"))
    };
    f.push(
        b.attr("minimal_tls_version", lit("Tls12"))
            .block(
                tf::block("capabilities")
                    .attr("name", lit("EnableServerless"))
                    .build(),
            )
            .block(
                tf::block("consistency_policy")
                    .attr("consistency_level", lit("Session"))
                    .build(),
            )
            .block(
                tf::block("geo_location")
                    .attr("location", r("local.location"))
                    .attr("failover_priority", tf::num(0))
                    .build(),
            )
            .tagged()
            .build(),
    );
    f.push(
        tf::resource("azurerm_cosmosdb_sql_database", "state")
            .attr("name", lit("fleet"))
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr("account_name", r("azurerm_cosmosdb_account.state.name"))
            .build(),
    );
    f.push(
        tf::resource("azurerm_cosmosdb_sql_container", "devices")
            .attr("name", lit("devices"))
            .attr("resource_group_name", r("local.resource_group_name"))
            .attr("account_name", r("azurerm_cosmosdb_account.state.name"))
            .attr(
                "database_name",
                r("azurerm_cosmosdb_sql_database.state.name"),
            )
            .attr("partition_key_paths", tf::strings(["/deviceId"]))
            .attr("partition_key_version", tf::num(2))
            .attr(
                "default_ttl",
                super::bin(
                    r("var.state_store_ttl_days"),
                    hcl::expr::BinaryOperator::Mul,
                    tf::num(86_400),
                ),
            )
            .build(),
    );
    if !d.state_endpoint {
        f.comment("No route of the spec delivers to the state store yet (pipeline.routes[].to: state_store).");
    }
    f
}
