//! `storage.tf`: the raw telemetry archive in Blob storage, its tiering lifecycle, and the
//! customer-managed key that encrypts it when the spec asks for one.
//!
//! The account takes no shared keys and no anonymous access; writers (IoT Hub routing,
//! Event Hubs Capture) are trusted Microsoft services with role assignments, and the firewall
//! denies everyone else. The lifecycle counts days since an object was written, like the S3
//! rules on AWS, and is scoped to the archive container so other containers never tier.
//!
//! A little over 600 lines, 60 of them tests: the archive account, its firewall, the
//! lifecycle and the writers it must match live together, so the prefix checks read the same
//! decisions as the policy.

use super::{Design, Hcl, depends_on, named, role_assignment};
use crate::model::{Encryption, Replication, StorageTier};
use crate::plan::intent::{Intent, all, eq, length, spec_word};
use crate::plan::tf::{self, Part, TfFile, lit, r};
use hcl::Expression;

/// Why blob read logging is not Log Analytics storage insights.
pub(crate) const LOGGED_BY_DIAGNOSTICS: &str = "blob reads are logged by the diagnostic setting on the account's blob service (monitoring.tf); storage insights would need account keys, which are off";

pub(crate) fn replication(r: Replication) -> &'static str {
    match r {
        Replication::Lrs => "LRS",
        Replication::Zrs => "ZRS",
        Replication::Grs => "GRS",
        Replication::Gzrs => "GZRS",
    }
}

/// Where telemetry lands in the archive container. Both writers put it under `raw/`, the
/// prefix Firehose uses on AWS, so `storage.archive.prefixes` mean the same on both clouds.
pub(super) const ARCHIVE_RAW: &str = "raw/";

/// Event Hubs Capture's blob names: the tokens Capture requires (`{Namespace}` ...
/// `{Second}`, in any order), after the fixed `raw/`.
pub(super) const CAPTURE_NAME_FORMAT: &str =
    "raw/{Namespace}/{EventHub}/{PartitionId}/{Year}/{Month}/{Day}/{Hour}/{Minute}/{Second}";

/// An IoT Hub storage endpoint's blob names: the tokens routing requires (`{iothub}` ...
/// `{mm}`), after the fixed `raw/`.
pub(super) const ROUTING_FILE_NAME_FORMAT: &str =
    "raw/{iothub}/{partition}/{YYYY}/{MM}/{DD}/{HH}/{mm}";

/// What writes into the archive container, by the fixed start of its blob names.
pub(super) fn archive_writers(d: &Design) -> Vec<(&'static str, &'static str)> {
    let mut out = Vec::new();
    if d.capture {
        out.push((ARCHIVE_RAW, "Event Hubs Capture"));
    }
    if d.storage_endpoint {
        out.push((ARCHIVE_RAW, "IoT Hub routing"));
    }
    out
}

pub(super) fn file(d: &Design, t: &mut Intent) -> TfFile {
    let mut f = TfFile::new();
    let Some(archive) = d.archive else { return f };
    let st = &d.az.storage;
    let cmk = archive.encryption == Encryption::CustomerManaged;
    let versioning = archive.versioning && !st.hierarchical_namespace;

    let mut b = tf::resource("azurerm_storage_account", "archive");
    if !cmk {
        b = b.skip(
            "CKV2_AZURE_1",
            "the spec chose platform-managed keys (storage.archive.encryption: platform_managed)",
        );
    }
    if matches!(st.replication, Replication::Lrs | Replication::Zrs) {
        b = b.skip(
            "CKV_AZURE_206",
            if st.replication == Replication::Lrs {
                "replication is the spec's choice (clouds.azure.storage.replication: LRS)"
            } else {
                "replication is the spec's choice (clouds.azure.storage.replication: ZRS)"
            },
        );
    }
    b = b
        .skip(
            "CKV_AZURE_33",
            "the archive has no queues; blob reads and writes are logged by the diagnostic setting in monitoring.tf",
        )
        .skip(
            "CKV_AZURE_59",
            "the public endpoint admits only the firewall allow list and trusted Microsoft services (default action Deny)",
        )
        .skip(
            "CKV2_AZURE_33",
            "the stack has no virtual network; IoT Hub and Capture come in as trusted services through a deny-by-default firewall",
        )
        .attr("name", super::global(&d.az.names.storage_account))
        .placed()
        .attr("account_tier", lit("Standard"))
        .attr("account_kind", lit("StorageV2"))
        .attr("account_replication_type", lit(replication(st.replication)))
        .attr("access_tier", lit("Hot"))
        .attr("min_tls_version", lit("TLS1_2"))
        .attr("https_traffic_only_enabled", tf::boolean(true))
        .attr("allow_nested_items_to_be_public", tf::boolean(false))
        .note("Writers and readers sign in with Entra ID; account keys and local users are off.")
        .attr("shared_access_key_enabled", tf::boolean(false))
        .attr("default_to_oauth_authentication", tf::boolean(true))
        .attr("local_user_enabled", tf::boolean(false))
        .attr("cross_tenant_replication_enabled", tf::boolean(false))
        .attr("public_network_access_enabled", tf::boolean(true))
        .attr(
            "infrastructure_encryption_enabled",
            tf::boolean(st.infrastructure_encryption),
        )
        .attr("is_hns_enabled", tf::boolean(st.hierarchical_namespace));
    let mut blob = tf::block("blob_properties");
    if archive.versioning && st.hierarchical_namespace {
        blob = blob.note("Blob versioning is not available with a hierarchical namespace; soft delete still protects deletes.");
    }
    blob = blob
        .attr("versioning_enabled", tf::boolean(versioning))
        .block(
            tf::block("delete_retention_policy")
                .attr("days", tf::num(7))
                .build(),
        )
        .block(
            tf::block("container_delete_retention_policy")
                .attr("days", tf::num(7))
                .build(),
        );
    b = b
        .block(blob.build())
        .block(
            tf::block("network_rules")
                .attr("default_action", lit("Deny"))
                .attr("bypass", tf::strings(["AzureServices", "Logging", "Metrics"]))
                .attr("ip_rules", r("var.storage_allowed_ip_ranges"))
                .build(),
        )
        .block(
            tf::block("sas_policy")
                .note("Shared keys are off, so no SAS can be signed; should they come back, SAS stay short.")
                .attr("expiration_period", lit("00.01:00:00"))
                .attr("expiration_action", lit("Log"))
                .build(),
        );
    if cmk {
        b = b
            .block(
                tf::block("identity")
                    .attr("type", lit("UserAssigned"))
                    .attr(
                        "identity_ids",
                        tf::list([r("azurerm_user_assigned_identity.archive_cmk.id")]),
                    )
                    .build(),
            )
            .block(
                tf::block("customer_managed_key")
                    .note("Versionless: the account follows the key's automatic rotation.")
                    .attr(
                        "key_vault_key_id",
                        r("azurerm_key_vault_key.archive.versionless_id"),
                    )
                    .attr(
                        "user_assigned_identity_id",
                        r("azurerm_user_assigned_identity.archive_cmk.id"),
                    )
                    .build(),
            );
    }
    b = b.tagged();
    if cmk {
        b = b.attr(
            "depends_on",
            depends_on(&["azurerm_role_assignment.archive_cmk_user"]),
        );
    }
    f.push(b.build());
    let account = |a: &str| r(&format!("azurerm_storage_account.archive.{a}"));
    t.assert(
        "storage.archive",
        "no public access: no anonymous blobs, no shared keys or local users, HTTPS with TLS 1.2, a deny-by-default firewall",
        all([
            eq(account("allow_nested_items_to_be_public"), tf::boolean(false)),
            eq(account("shared_access_key_enabled"), tf::boolean(false)),
            eq(account("local_user_enabled"), tf::boolean(false)),
            eq(account("https_traffic_only_enabled"), tf::boolean(true)),
            eq(account("min_tls_version"), lit("TLS1_2")),
            eq(account("network_rules.0.default_action"), lit("Deny")),
        ]),
    );
    t.example(
        "allowed_addresses_reach_the_archive_firewall",
        vec![(
            "storage_allowed_ip_ranges".to_owned(),
            tf::strings(["203.0.113.7", "198.51.100.0/24"]),
        )],
        "var.storage_allowed_ip_ranges",
        "the listed addresses in the archive firewall's allow list",
        eq(
            account("network_rules.0.ip_rules"),
            crate::plan::intent::set([lit("203.0.113.7"), lit("198.51.100.0/24")]),
        ),
    );
    t.assert(
        "storage.archive.encryption / clouds.azure.storage",
        format!(
            "{} keys{}, {} replication",
            spec_word(archive.encryption),
            if st.infrastructure_encryption {
                " and infrastructure encryption"
            } else {
                ""
            },
            replication(st.replication)
        ),
        all([
            eq(
                length(account("customer_managed_key")),
                tf::num(u32::from(cmk)),
            ),
            eq(
                account("infrastructure_encryption_enabled"),
                tf::boolean(st.infrastructure_encryption),
            ),
            eq(
                account("account_replication_type"),
                lit(replication(st.replication)),
            ),
        ]),
    );

    f.push(
        tf::resource("azurerm_storage_container", "archive")
            .skip("CKV2_AZURE_21", LOGGED_BY_DIAGNOSTICS)
            .attr("name", lit("archive"))
            .attr(
                "storage_account_id",
                r("azurerm_storage_account.archive.id"),
            )
            .attr("container_access_type", lit("private"))
            .build(),
    );
    if d.ota {
        f.push(
            tf::resource("azurerm_storage_container", "firmware")
                .skip("CKV2_AZURE_21", LOGGED_BY_DIAGNOSTICS)
                .note("Update files staged for import into Device Update; outside the archive lifecycle.")
                .attr("name", lit("firmware"))
                .attr("storage_account_id", r("azurerm_storage_account.archive.id"))
                .attr("container_access_type", lit("private"))
                .build(),
        );
    }

    if let Some(policy) = lifecycle(d, versioning, t) {
        f.push(policy);
    }

    if cmk {
        cmk_resources(d, &mut f, t);
    }
    f
}

/// The management policy, or `None` when there is nothing to manage.
fn lifecycle(d: &Design, versioning: bool, t: &mut Intent) -> Option<hcl::Block> {
    let archive = d.archive?;
    let st = &d.az.storage;
    let no_archive_tier = matches!(st.replication, Replication::Zrs | Replication::Gzrs);
    // The earliest move into each tier, with the spec entry it comes from.
    let first_at = |tier: StorageTier| {
        archive
            .lifecycle
            .iter()
            .enumerate()
            .filter(|(_, t)| match tier {
                StorageTier::Archive => {
                    matches!(t.tier, StorageTier::Archive | StorageTier::DeepArchive)
                }
                other => t.tier == other,
            })
            .min_by_key(|(_, t)| t.after_days)
            .map(|(i, t)| (i, t.after_days))
    };
    let (cool_at, cold_at, arch_at) = (
        first_at(StorageTier::Cool),
        first_at(StorageTier::Cold),
        first_at(StorageTier::Archive),
    );
    let (cool, cold, arch) = (
        cool_at.map(|(_, d)| d),
        cold_at.map(|(_, d)| d),
        arch_at.map(|(_, d)| d),
    );
    if cool.is_none()
        && cold.is_none()
        && arch.is_none()
        && archive.expire_after_days.is_none()
        && !versioning
    {
        return None;
    }
    let mut base = tf::block("base_blob");
    if let Some(days) = cool {
        base = base.attr(
            "tier_to_cool_after_days_since_modification_greater_than",
            tf::num(days),
        );
    }
    if let Some(days) = cold {
        base = base.attr(
            "tier_to_cold_after_days_since_modification_greater_than",
            tf::num(days),
        );
    }
    if let Some(days) = arch {
        if no_archive_tier {
            base = base.note(&format!(
                "The spec moves blobs to Archive after {days} days, but {} accounts have no Archive tier; they stay in the coldest tier above.",
                replication(st.replication)
            ));
        } else {
            if archive
                .lifecycle
                .iter()
                .any(|t| t.tier == StorageTier::DeepArchive)
            {
                base = base
                    .note("Azure has no tier colder than Archive: deep_archive lands in Archive.");
            }
            base = base.attr(
                "tier_to_archive_after_days_since_modification_greater_than",
                tf::num(days),
            );
        }
    }
    if let Some(days) = archive.expire_after_days {
        base = base.attr(
            "delete_after_days_since_modification_greater_than",
            tf::num(days),
        );
    }
    // An empty nested block is legal but says nothing; leave it out.
    let base_needed = cool.is_some()
        || cold.is_some()
        || (arch.is_some() && !no_archive_tier)
        || archive.expire_after_days.is_some();
    let mut actions = tf::block("actions");
    if base_needed {
        actions = actions.block(base.build());
    }
    if versioning {
        actions = actions.block(
            tf::block("version")
                .attr(
                    "delete_after_days_since_creation",
                    tf::num(archive.noncurrent_versions_expire_after_days),
                )
                .build(),
        );
    }
    actions = actions.block(
        tf::block("snapshot")
            .attr(
                "delete_after_days_since_creation_greater_than",
                tf::num(archive.noncurrent_versions_expire_after_days),
            )
            .build(),
    );
    // Prefix matches start with the container name; the spec's prefixes are relative to the
    // container, where the writers' names begin (`ARCHIVE_WRITERS`).
    let prefixes = if archive.prefixes.is_empty() {
        tf::strings(["archive/"])
    } else {
        tf::list(archive.prefixes.iter().map(|p| lit(format!("archive/{p}"))))
    };
    let rule = tf::block("rule")
        .attr("name", lit("archive-tiering"))
        .attr("enabled", tf::boolean(true))
        .block(
            tf::block("filters")
                .attr("blob_types", tf::strings(["blockBlob"]))
                .attr("prefix_match", prefixes)
                .build(),
        )
        .block(actions.build())
        .build();
    let blob = |a: &str| {
        r(&format!(
            "azurerm_storage_management_policy.archive.rule.0.actions.0.{a}"
        ))
    };
    let tiers = [
        (
            cool_at,
            "tier_to_cool_after_days_since_modification_greater_than",
        ),
        (
            cold_at,
            "tier_to_cold_after_days_since_modification_greater_than",
        ),
        (
            arch_at.filter(|_| !no_archive_tier),
            "tier_to_archive_after_days_since_modification_greater_than",
        ),
    ];
    for (at, attr) in tiers {
        if let Some((i, days)) = at {
            let tier = archive.lifecycle[i].tier;
            t.assert(
                &format!("storage.archive.lifecycle[{i}].after_days"),
                format!("blobs to move to `{}` after {days} days", spec_word(tier)),
                eq(blob(&format!("base_blob.0.{attr}")), tf::num(days)),
            );
        }
    }
    if let Some(days) = archive.expire_after_days {
        t.assert(
            "storage.archive.expire_after_days",
            format!("archived blobs to be deleted after {days} days"),
            eq(
                blob("base_blob.0.delete_after_days_since_modification_greater_than"),
                tf::num(days),
            ),
        );
    }
    if versioning {
        t.assert(
            "storage.archive.noncurrent_versions_expire_after_days",
            format!(
                "old blob versions to be deleted after {} days",
                archive.noncurrent_versions_expire_after_days
            ),
            eq(
                blob("version.0.delete_after_days_since_creation"),
                tf::num(archive.noncurrent_versions_expire_after_days),
            ),
        );
    }
    writers_match_the_filter(d, t);
    Some(
        tf::resource("azurerm_storage_management_policy", "archive")
            .note("Days count from the last modification, which for archived telemetry is when it was written.")
            .attr("storage_account_id", r("azurerm_storage_account.archive.id"))
            .block(rule)
            .build(),
    )
}

/// A blob name as a writer produces it: its planned name format with every `{token}`
/// replaced by a sample value, under the container.
fn sample_blob(format: Expression) -> Expression {
    tf::interp([
        Part::Lit("archive/"),
        Part::Ref(tf::call(
            "replace",
            [format, lit("/\\{[A-Za-z]+\\}/"), lit("x")],
        )),
    ])
}

/// The plan-level check that the lifecycle reaches what is written: a blob name each writer
/// produces starts with one of the policy's prefix matches. Only when every spec prefix
/// stops within the writers' fixed `raw/` (a deeper prefix filters on dates or names the
/// sample cannot stand for; validation has checked it starts with `raw/`).
fn writers_match_the_filter(d: &Design, t: &mut Intent) {
    let Some(archive) = d.archive else { return };
    if !archive
        .prefixes
        .iter()
        .all(|p| ARCHIVE_RAW.starts_with(p.as_str()))
    {
        return;
    }
    let matched = |blob: Expression| {
        tf::call(
            "anytrue",
            [tf::for_list(
                "p",
                r("azurerm_storage_management_policy.archive.rule.0.filters.0.prefix_match"),
                tf::call("startswith", [blob, r("p")]),
            )],
        )
    };
    if d.capture {
        t.assert(
            "storage.archive.prefixes",
            "blobs Event Hubs Capture writes to follow the archive lifecycle",
            matched(sample_blob(r(
                "azurerm_eventhub.telemetry.capture_description.0.destination.0.archive_name_format",
            ))),
        );
    }
    if d.storage_endpoint {
        t.assert(
            "storage.archive.prefixes",
            "blobs IoT Hub routing writes to follow the archive lifecycle",
            tf::call(
                "alltrue",
                [tf::for_list(
                    "e",
                    tf::call(
                        "values",
                        [r("azurerm_iothub_endpoint_storage_container.archive")],
                    ),
                    matched(sample_blob(r("e.file_name_format"))),
                )],
            ),
        );
    }
}

fn cmk_resources(d: &Design, f: &mut TfFile, t: &mut Intent) {
    f.push(
        tf::resource("azurerm_key_vault", "archive")
            .skip(
                "CKV_AZURE_189",
                "Terraform creates the key over the vault's data plane and Storage reaches it as a trusted service; the firewall denies everything else",
            )
            .skip(
                "CKV2_AZURE_32",
                "the stack has no virtual network; the vault firewall denies all but its allow list and trusted services",
            )
            .note("Holds the customer-managed key of the archive (storage.archive.encryption: customer_managed).")
            .attr("name", super::global(&d.az.names.key_vault))
            .placed()
            .attr(
                "tenant_id",
                r("data.azurerm_client_config.current.tenant_id"),
            )
            .note("Premium: the key lives in an HSM.")
            .attr("sku_name", lit("premium"))
            .attr("rbac_authorization_enabled", tf::boolean(true))
            .attr("purge_protection_enabled", tf::boolean(true))
            .attr("soft_delete_retention_days", tf::num(90))
            .attr("public_network_access_enabled", tf::boolean(true))
            .block(
                tf::block("network_acls")
                    .attr("default_action", lit("Deny"))
                    .attr("bypass", lit("AzureServices"))
                    .attr("ip_rules", r("var.key_vault_allowed_ip_ranges"))
                    .build(),
            )
            .tagged()
            .build(),
    );
    // The documented way through for the runner, which creates the key over the vault's
    // data plane: its address in `key_vault_allowed_ip_ranges`.
    t.example(
        "the_runner_address_reaches_the_key_vault",
        vec![(
            "key_vault_allowed_ip_ranges".to_owned(),
            tf::strings(["203.0.113.7"]),
        )],
        "var.key_vault_allowed_ip_ranges",
        "the runner's address in the key vault firewall's allow list",
        eq(
            r("azurerm_key_vault.archive.network_acls.0.ip_rules"),
            crate::plan::intent::set([lit("203.0.113.7")]),
        ),
    );
    f.push(
        tf::resource("azurerm_role_assignment", "deployer_key_officer")
            .note("Whoever applies this module creates and rotates the key.")
            .attr("scope", r("azurerm_key_vault.archive.id"))
            .attr("role_definition_name", lit("Key Vault Crypto Officer"))
            .attr(
                "principal_id",
                r("data.azurerm_client_config.current.object_id"),
            )
            .build(),
    );
    f.push(
        tf::resource("azurerm_key_vault_key", "archive")
            .skip(
                "CKV_AZURE_40",
                "the rotation policy renews the key 30 days before its one-year expiry; a fixed expiration_date would go stale",
            )
            .attr("name", lit("archive-cmk"))
            .attr("key_vault_id", r("azurerm_key_vault.archive.id"))
            .attr("key_type", lit("RSA-HSM"))
            .attr("key_size", tf::num(3072))
            .attr("key_opts", tf::strings(["unwrapKey", "wrapKey"]))
            .block(
                tf::block("rotation_policy")
                    .attr("expire_after", lit("P1Y"))
                    .attr("notify_before_expiry", lit("P29D"))
                    .block(
                        tf::block("automatic")
                            .attr("time_before_expiry", lit("P30D"))
                            .build(),
                    )
                    .build(),
            )
            .attr(
                "depends_on",
                depends_on(&["azurerm_role_assignment.deployer_key_officer"]),
            )
            .build(),
    );
    f.push(
        tf::resource("azurerm_user_assigned_identity", "archive_cmk")
            .attr("name", named("id", "archive-cmk"))
            .placed()
            .tagged()
            .build(),
    );
    f.push(role_assignment(
        "archive_cmk_user",
        None,
        r("azurerm_key_vault_key.archive.resource_versionless_id"),
        "Key Vault Crypto Service Encryption User",
        r("azurerm_user_assigned_identity.archive_cmk.principal_id"),
    ));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A name as the writer would produce it, every `{token}` replaced by a sample.
    fn sample(format: &str) -> String {
        let mut out = String::new();
        let mut token = false;
        for c in format.chars() {
            match c {
                '{' => token = true,
                '}' => {
                    token = false;
                    out.push('x');
                }
                _ if !token => out.push(c),
                _ => {}
            }
        }
        out
    }

    #[test]
    fn what_the_writers_write_starts_with_the_raw_prefix() {
        for format in [CAPTURE_NAME_FORMAT, ROUTING_FILE_NAME_FORMAT] {
            let blob = sample(format);
            assert!(blob.starts_with(ARCHIVE_RAW), "{blob}");
            // The lifecycle filter is `archive/<spec prefix>`, and names sit in `archive`.
            assert!(format!("archive/{blob}").starts_with(&format!("archive/{ARCHIVE_RAW}")));
        }
        // Every token each writer requires is still there after the fixed prefix.
        for token in [
            "{Namespace}",
            "{EventHub}",
            "{PartitionId}",
            "{Year}",
            "{Month}",
            "{Day}",
            "{Hour}",
            "{Minute}",
            "{Second}",
        ] {
            assert!(CAPTURE_NAME_FORMAT.contains(token), "{token}");
        }
        for token in [
            "{iothub}",
            "{partition}",
            "{YYYY}",
            "{MM}",
            "{DD}",
            "{HH}",
            "{mm}",
        ] {
            assert!(ROUTING_FILE_NAME_FORMAT.contains(token), "{token}");
        }
    }
}
