//! `state.tf`: the latest-state store, a serverless Cosmos DB (SQL API) container
//! partitioned by `/deviceId`.
//!
//! IoT Hub writes every routed message as one document through its Cosmos DB endpoint
//! (`routing.tf`), with the device id as the partition key, so a device's latest state is
//! the newest document of its partition: a single-partition query, cheap on serverless.
//! Documents expire after `var.state_store_ttl_days`, which bounds the container.
//!
//! The firewall admits `0.0.0.0` (every Azure datacenter, any tenant's services) only when a
//! route writes here, and the shipped tests hold that both ways: no `0.0.0.0` without a
//! route to the state store, and with one it stays (routing fails without it), beside the
//! readers the operator lists. With no route and no reader listed, the public endpoint is
//! closed: an empty IP filter would not mean "nobody" but "no firewall".

use super::{Design, Hcl};
use crate::plan::intent::{Intent, eq};
use crate::plan::tf::{self, TfFile, lit, r};

/// The `ip_range_filter` entry Cosmos DB reads as "accept connections from within Azure
/// datacenters".
const AZURE_DATACENTERS: &str = "0.0.0.0";

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
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
            .attr("access_key_metadata_writes_enabled", tf::boolean(false));
    b = if d.state_endpoint {
        b.attr("public_network_access_enabled", tf::boolean(true))
            .attr("is_virtual_network_filter_enabled", tf::boolean(true))
            .note("0.0.0.0 admits Azure datacenters, which is where IoT Hub routing writes from: its egress")
            .note("to Cosmos DB uses the public endpoint, with no trusted-services exception or private link.")
            .note("Keys are off, so only principals with a Cosmos DB data role get past it (README).")
            .attr(
                "ip_range_filter",
                tf::call(
                    "concat",
                    [tf::strings([AZURE_DATACENTERS]), r("var.state_store_allowed_ip_ranges")],
                ),
            )
    } else {
        // An empty `ip_range_filter` turns the Cosmos DB firewall off (every network may try a
        // token), so with no reader listed the public endpoint is closed instead.
        b.skip(
            "CKV_AZURE_99",
            "public access is on only when state_store_allowed_ip_ranges lists readers, and then the firewall admits exactly them",
        )
        .note("No route writes here: the public endpoint is open only to the listed readers, and")
        .note("closed when there are none (an empty IP filter would admit every network).")
        .attr(
            "public_network_access_enabled",
            super::bin(
                crate::plan::intent::length(r("var.state_store_allowed_ip_ranges")),
                hcl::expr::BinaryOperator::Greater,
                tf::num(0),
            ),
        )
        .attr("is_virtual_network_filter_enabled", tf::boolean(true))
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
    firewall_intent(d, t);
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

/// The firewall as the tests check it: `0.0.0.0` exactly when a route writes to the state
/// store (with the defaults, and with readers listed), and the listed readers always.
fn firewall_intent(d: &Design, t: &mut Intent) {
    let filter = || r("azurerm_cosmosdb_account.state.ip_range_filter");
    let datacenters = || tf::call("contains", [filter(), lit(AZURE_DATACENTERS)]);
    let (key, wants) = if d.state_endpoint {
        (
            "pipeline.routes[].to: state_store",
            "Azure datacenters (0.0.0.0) in the Cosmos DB firewall, because IoT Hub routing writes to it from there",
        )
    } else {
        (
            "pipeline.state_store (no route writes to it)",
            "no 0.0.0.0 in the Cosmos DB firewall: no route writes to it, so only listed readers connect",
        )
    };
    t.assert(
        key,
        wants,
        crate::plan::intent::all([
            eq(datacenters(), tf::boolean(d.state_endpoint)),
            // Without a route and without readers, nothing may reach the public endpoint.
            eq(
                r("azurerm_cosmosdb_account.state.public_network_access_enabled"),
                tf::boolean(d.state_endpoint),
            ),
        ]),
    );
    let reader = "203.0.113.7";
    let mut expected = vec![lit(reader)];
    if d.state_endpoint {
        expected.push(lit(AZURE_DATACENTERS));
    }
    t.example(
        "allowed_readers_reach_the_state_store_firewall",
        vec![(
            "state_store_allowed_ip_ranges".to_owned(),
            tf::strings([reader]),
        )],
        "var.state_store_allowed_ip_ranges",
        if d.state_endpoint {
            "the listed reader beside 0.0.0.0 (IoT Hub routing) in the Cosmos DB firewall, and nothing else"
        } else {
            "the listed reader in the Cosmos DB firewall, and nothing else (no 0.0.0.0)"
        },
        crate::plan::intent::all([
            eq(filter(), crate::plan::intent::set(expected)),
            eq(
                r("azurerm_cosmosdb_account.state.public_network_access_enabled"),
                tf::boolean(true),
            ),
        ]),
    );
}
