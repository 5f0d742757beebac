//! The Azure bootstrap stack: the storage account every other stack keeps its state in.
//!
//! Like the AWS bootstrap, it keeps its own state locally because the container it creates
//! does not exist yet. The account takes no shared keys (the `azurerm` backend signs in with
//! Entra ID, `use_azuread_auth`), keeps blob versions and soft-deleted blobs so a broken state
//! can be rolled back, and blocks anonymous access; blob leases give state locking.

use super::{providers, versions};
use crate::blueprint;
use crate::clouds::Cloud;
use crate::model::{AzureState, Model};
use crate::plan::intent::{Intent, all, eq};
use crate::plan::tf::{self, TfFile, lit, obj, r};
use crate::plan::{Module, PlanError};

/// Days deleted or overwritten state stays recoverable.
const STATE_RETENTION_DAYS: u32 = 30;

fn skip(check: &str, reason: &str) -> hcl::Attribute {
    tf::comment(&format!("checkov:skip={check}: {reason}"))
}

/// Plans the bootstrap module that creates `state`.
pub fn plan_bootstrap(model: &Model, state: &AzureState) -> Result<Module, PlanError> {
    let mut module = Module::new(Cloud::Azure);
    module.hcl("versions.tf", versions());
    module.hcl("providers.tf", providers());
    let mut vars = TfFile::new();
    let subscription = tf::validation(
        tf::call(
            "can",
            [tf::call(
                "regex",
                [lit("^[0-9a-fA-F-]{36}$"), r("var.subscription_id")],
            )],
        ),
        "The subscription id is a GUID.",
        lit("my-subscription"),
    );
    let mut t = Intent::default();
    t.variable("subscription_id", lit(super::intent::SUBSCRIPTION));
    t.rejects("subscription_id", subscription.rejects.clone());
    vars.push(
        tf::variable("subscription_id")
            .add_attribute((
                "description",
                lit("Azure subscription of the state storage."),
            ))
            .add_attribute(("type", tf::type_expr("string")))
            .add_block(subscription.block())
            .build(),
    );
    module.hcl("variables.tf", vars);

    let mut tags = model.stack.tags.clone();
    tags.insert("environment".to_owned(), "shared".to_owned());
    let tags = obj(tags.iter().map(|(k, v)| (k.as_str(), lit(v))));
    let mut f = TfFile::new();
    f.push(
        tf::resource("azurerm_resource_group", "state")
            .add_attribute(("name", lit(&state.resource_group)))
            .add_attribute(("location", lit(&state.location)))
            .add_attribute(("tags", tags.clone()))
            .build(),
    );
    f.push(
        tf::resource("azurerm_storage_account", "state")
            .add_attribute(skip("CKV_AZURE_33", "the state account has no queues"))
            .add_attribute(skip("CKV_AZURE_35", "CI runners reach the state from addresses that change; every call signs in with Entra ID (shared keys are off)"))
            .add_attribute(skip("CKV_AZURE_59", "CI runners reach the state over the public endpoint; anonymous access and shared keys are off"))
            .add_attribute(skip("CKV2_AZURE_33", "the bootstrap has no virtual network for a private endpoint; access is Entra ID only"))
            .add_attribute(skip("CKV2_AZURE_1", "state is encrypted with platform keys; a customer-managed key would need a key vault whose own state lives here"))
            .add_attribute(("name", lit(&state.storage_account)))
            .add_attribute(("resource_group_name", r("azurerm_resource_group.state.name")))
            .add_attribute(("location", r("azurerm_resource_group.state.location")))
            .add_attribute(("account_tier", lit("Standard")))
            .add_attribute(("account_kind", lit("StorageV2")))
            .add_attribute(tf::comment("Geo-redundant: losing the state is worse than losing a region."))
            .add_attribute(("account_replication_type", lit("GRS")))
            .add_attribute(("min_tls_version", lit("TLS1_2")))
            .add_attribute(("https_traffic_only_enabled", tf::boolean(true)))
            .add_attribute(("allow_nested_items_to_be_public", tf::boolean(false)))
            .add_attribute(tf::comment("The azurerm backend signs in with Entra ID (use_azuread_auth); no account keys."))
            .add_attribute(("shared_access_key_enabled", tf::boolean(false)))
            .add_attribute(("default_to_oauth_authentication", tf::boolean(true)))
            .add_attribute(("local_user_enabled", tf::boolean(false)))
            .add_attribute(("cross_tenant_replication_enabled", tf::boolean(false)))
            .add_attribute(("public_network_access_enabled", tf::boolean(true)))
            .add_attribute(("infrastructure_encryption_enabled", tf::boolean(true)))
            .add_attribute(("tags", tags))
            .add_block(
                tf::block("blob_properties")
                    .add_attribute(("versioning_enabled", tf::boolean(true)))
                    .add_block(
                        tf::block("delete_retention_policy")
                            .add_attribute(("days", tf::num(STATE_RETENTION_DAYS)))
                            .build(),
                    )
                    .add_block(
                        tf::block("container_delete_retention_policy")
                            .add_attribute(("days", tf::num(STATE_RETENTION_DAYS)))
                            .build(),
                    )
                    .build(),
            )
            .add_block(
                tf::block("sas_policy")
                    .add_attribute(("expiration_period", lit("00.01:00:00")))
                    .add_attribute(("expiration_action", lit("Log")))
                    .build(),
            )
            .build(),
    );
    f.push(
        tf::resource("azurerm_storage_container", "state")
            .add_attribute(skip("CKV2_AZURE_21", "blob reads are audited in the Azure activity and resource logs; storage insights need shared keys, which are off"))
            .add_attribute(("name", lit(&state.container)))
            .add_attribute(("storage_account_id", r("azurerm_storage_account.state.id")))
            .add_attribute(("container_access_type", lit("private")))
            .build(),
    );
    let account = |a: &str| r(&format!("azurerm_storage_account.state.{a}"));
    t.assert(
        "stacks.state.azure",
        format!(
            "state storage `{}` with no anonymous access, no shared keys, TLS 1.2, GRS replication, blob versions and {STATE_RETENTION_DAYS} days of soft delete",
            state.storage_account
        ),
        all([
            eq(account("name"), lit(&state.storage_account)),
            eq(account("allow_nested_items_to_be_public"), tf::boolean(false)),
            eq(account("shared_access_key_enabled"), tf::boolean(false)),
            eq(account("min_tls_version"), lit("TLS1_2")),
            eq(account("account_replication_type"), lit("GRS")),
            eq(account("blob_properties.0.versioning_enabled"), tf::boolean(true)),
            eq(
                account("blob_properties.0.delete_retention_policy.0.days"),
                tf::num(STATE_RETENTION_DAYS),
            ),
            eq(
                r("azurerm_storage_container.state.container_access_type"),
                lit("private"),
            ),
        ]),
    );
    module.hcl("state.tf", f);
    let mut outs = TfFile::new();
    outs.push(tf::output(
        "resource_group_name",
        "Resource group of the state storage.",
        r("azurerm_resource_group.state.name"),
    ));
    outs.push(tf::output(
        "storage_account_name",
        "Storage account every stack's azurerm backend uses.",
        r("azurerm_storage_account.state.name"),
    ));
    outs.push(tf::output(
        "container_name",
        "Container of the state files.",
        r("azurerm_storage_container.state.name"),
    ));
    module.hcl("outputs.tf", outs);
    super::intent::write_tests(&mut module, &t, &state.resource_group, &state.location);
    module.text(
        "README.md",
        blueprint::render(
            "azure/README-bootstrap.md.j2",
            serde_json::json!({
                "stack": model.stack.name,
                "resource_group": state.resource_group,
                "storage_account": state.storage_account,
                "container": state.container,
                "location": state.location,
            }),
        )?,
    );
    Ok(module)
}
