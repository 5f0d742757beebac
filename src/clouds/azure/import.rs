//! `import.tf` and `scripts/import-devices.sh`: the registry registered in the IoT hub by the
//! hub's own bulk import job.
//!
//! azurerm has no device identity resource (devices live in the hub's data plane), so without
//! DPS enrollment groups a registry can only reach the hub through its identity registry API or
//! an import job. The import job is the one that scales: it reads `devices.txt` from a blob
//! container, one JSON-serialized `ExportImportDevice` per line (`id`, `importMode`, `status`,
//! `authentication`, twin `tags`), and writes the failures to a log in the same container.
//! Terraform uploads the blob (written by fleetform as a stream) into a private container
//! that only the hub's system-assigned identity and the deployer may use: the job reads it
//! with `authenticationType: identityBased`, so no SAS token or account key exists anywhere.
//! The job itself is an ARM action (`POST .../IotHubs/{hub}/importDevices`) that Terraform
//! has no resource for, so `scripts/import-devices.sh` starts it with `az rest` and follows it.
//!
//! With DPS enrollment groups, devices are created in a hub when they first provision; the
//! registry is not imported then (the parity table says so).
//!
//! Sources: learn.microsoft.com/azure/iot-hub/iot-hub-bulk-identity-mgmt (devices.txt, import
//! modes, one active import or export job per hub); the ARM REST reference "Iot Hub Resource -
//! Import Devices" and "Get Job" (2023-06-30: `inputBlobContainerUri`, `outputBlobContainerUri`,
//! `inputBlobName`, `outputBlobName`, `authenticationType` keyBased|identityBased; job status
//! unknown|enqueued|running|completed|failed|cancelled); the ExportImportDevice model of the
//! Azure IoT service SDKs (`id` and `status` required, authentication type
//! sas|selfSigned|certificateAuthority|none, keys generated when none are given).

use std::sync::Arc;

use serde_json::json;

use super::{Design, Hcl, bounded};
use crate::emit::jsonl;
use crate::model::registry::Registry;
use crate::model::{AuthMethod, Model};
use crate::plan::tf::{self, Part, TfFile, lit, r};
use crate::plan::{Mapping, Module, PlanError, Streamed};

/// ARM API version of the import job calls.
pub const API_VERSION: &str = "2023-06-30";
/// Container of the import input and its error log.
pub const CONTAINER: &str = "device-import";
/// Name of the input blob (the job's default name, given explicitly).
pub const INPUT_BLOB: &str = "devices.txt";
/// Name of the blob the job writes its errors to.
pub const OUTPUT_BLOB: &str = "import-errors.log";

/// How the Azure stack registers the spec's devices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Registration {
    /// Nothing to register.
    Empty,
    /// DPS enrollment groups create devices when they first provision.
    OnFirstProvisioning,
    /// TPM devices attest to DPS individually; a hub cannot hold them without it.
    NeedsDps,
    /// An IoT Hub import job.
    Import,
}

/// How `m`'s Azure stack registers its devices.
pub fn registration(m: &Model) -> Registration {
    let Some(az) = &m.azure else {
        return Registration::Empty;
    };
    if m.fleet.registry.is_empty() {
        return Registration::Empty;
    }
    if az
        .dps
        .as_ref()
        .is_some_and(|d| !d.enrollment_groups.is_empty())
    {
        return Registration::OnFirstProvisioning;
    }
    if m.identity.method == AuthMethod::Tpm {
        return Registration::NeedsDps;
    }
    Registration::Import
}

/// The parity row for the registry.
pub(super) fn parity(m: &Model) -> Option<Mapping> {
    let n = m.fleet.registry.len();
    Some(match registration(m) {
        Registration::Empty => return None,
        Registration::Import => Mapping::Mapped(format!(
            "{n} device(s) imported into the primary hub by an IoT Hub import job (scripts/import-devices.sh)"
        )),
        Registration::OnFirstProvisioning => Mapping::NotMapped(format!(
            "DPS enrollment groups create each device when it first provisions, so the {n} registry device(s) are not imported"
        )),
        Registration::NeedsDps => Mapping::NotMapped(format!(
            "TPM devices register through DPS individual enrollments, so the {n} registry device(s) are not imported"
        )),
    })
}

/// `registry/devices.txt`: one `ExportImportDevice` per line.
#[derive(Debug)]
pub struct DevicesTxt {
    pub registry: Arc<Registry>,
    pub authentication: &'static str,
    /// Twin tags (Standard-tier hubs have twins; Basic and Free do not).
    pub tags: bool,
}

impl Streamed for DevicesTxt {
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        let mut buf = Vec::with_capacity(64 * 1024);
        for d in self.registry.iter() {
            buf.extend_from_slice(b"{\"id\":");
            jsonl::push_str(&mut buf, d.id());
            // createOrUpdate: running the job again makes existing devices match the registry.
            buf.extend_from_slice(b",\"importMode\":\"createOrUpdate\",\"status\":\"enabled\",\"authentication\":{\"type\":\"");
            buf.extend_from_slice(self.authentication.as_bytes());
            buf.extend_from_slice(b"\"}");
            if self.tags {
                buf.extend_from_slice(b",\"tags\":{");
                let mut first = true;
                let mut sep = |buf: &mut Vec<u8>| {
                    if !std::mem::take(&mut first) {
                        buf.push(b',');
                    }
                };
                if let Some(t) = d.device_type() {
                    sep(&mut buf);
                    jsonl::push_key(&mut buf, "deviceType");
                    jsonl::push_str(&mut buf, t);
                }
                if d.has_groups() {
                    sep(&mut buf);
                    jsonl::push_key(&mut buf, "groups");
                    jsonl::push_array(&mut buf, d.groups());
                }
                if d.attributes().len() > 0 {
                    sep(&mut buf);
                    jsonl::push_key(&mut buf, "attributes");
                    jsonl::push_object(&mut buf, d.attributes());
                }
                buf.push(b'}');
            }
            buf.extend_from_slice(b"}\n");
            if buf.len() > 60 * 1024 {
                out.write_all(&buf)?;
                buf.clear();
            }
        }
        out.write_all(&buf)
    }
}

/// The device authentication the import gives every device.
fn authentication(m: &Model) -> &'static str {
    match m.identity.method {
        // Devices present certificates chained to the fleet CA, which the hub trusts.
        AuthMethod::X509 => "certificateAuthority",
        // The hub generates each device's keys.
        AuthMethod::SymmetricKey | AuthMethod::Tpm => "sas",
    }
}

/// Name of the import storage account (3 to 24 lowercase letters and digits): the archive
/// account's stem with `imp`, then the same subscription suffix when the archive's is derived.
fn account_name(d: &Design) -> hcl::Expression {
    let base = &d.az.names.storage_account;
    let room = if base.suffixed {
        24 - crate::model::names::AZURE_SUFFIX_LEN - 3
    } else {
        21
    };
    super::global(&crate::model::GlobalName {
        literal: format!("{}imp", bounded(&base.literal, room)),
        suffixed: base.suffixed,
    })
}

/// Adds the import job's files to the module, when the registry is imported.
pub(super) fn artifacts(d: &Design, module: &mut Module) -> Result<(), PlanError> {
    if registration(d.m) != Registration::Import {
        return Ok(());
    }
    module.stream(
        "registry/devices.txt",
        Arc::new(DevicesTxt {
            registry: Arc::clone(&d.m.fleet.registry),
            authentication: authentication(d.m),
            tags: d.standard,
        }),
    );
    module.hcl("import.tf", file(d));
    let script = crate::blueprint::render(
        "azure/import-devices.sh.j2",
        json!({
            "stack": d.prefix(),
            "devices": d.m.fleet.registry.len(),
            "api_version": API_VERSION,
            "container": CONTAINER,
            "output_blob": OUTPUT_BLOB,
        }),
    )?;
    module.text("scripts/import-devices.sh", script);
    Ok(())
}

fn file(d: &Design) -> TfFile {
    let mut f = TfFile::new();
    f.push(
        tf::block("locals")
            .note("The import job registers the devices in the primary hub.")
            .attr(
                "import_hub",
                tf::r_index("azurerm_iothub.hub", r("local.primary_hub"), &[]),
            )
            .attr(
                "device_import_blob",
                tf::interp([
                    Part::Ref(r("path.module")),
                    Part::Lit("/registry/devices.txt"),
                ]),
            )
            .build(),
    );
    f.push(
        tf::resource("azurerm_storage_account", "device_import")
            .skip(
                "CKV_AZURE_35",
                "the deployer uploads the input from addresses that change (CI runners); access is Entra ID only, shared keys are off",
            )
            .skip(
                "CKV_AZURE_59",
                "the hub's import job and the deployer reach it over its public endpoint; anonymous access and shared keys are off",
            )
            .skip(
                "CKV_AZURE_206",
                "holds only the import input, rebuilt from the registry on every apply; LRS is enough",
            )
            .skip(
                "CKV2_AZURE_1",
                "holds only device ids, types, groups and attributes, also in the repository's registry",
            )
            .skip("CKV_AZURE_33", "the account has no queues")
            .skip(
                "CKV2_AZURE_33",
                "the hub's import job reads it with its managed identity; a private endpoint would need a virtual network this stack does not have",
            )
            .note("The import input and the job's error log; only the hub and the deployer may read it.")
            .attr("name", account_name(d))
            .placed()
            .attr("account_tier", lit("Standard"))
            .attr("account_kind", lit("StorageV2"))
            .attr("account_replication_type", lit("LRS"))
            .attr("min_tls_version", lit("TLS1_2"))
            .attr("https_traffic_only_enabled", tf::boolean(true))
            .attr("allow_nested_items_to_be_public", tf::boolean(false))
            .attr("shared_access_key_enabled", tf::boolean(false))
            .attr("default_to_oauth_authentication", tf::boolean(true))
            .attr("local_user_enabled", tf::boolean(false))
            .attr("cross_tenant_replication_enabled", tf::boolean(false))
            .block(
                tf::block("blob_properties")
                    .block(
                        tf::block("delete_retention_policy")
                            .attr("days", tf::num(7))
                            .build(),
                    )
                    .block(
                        tf::block("container_delete_retention_policy")
                            .attr("days", tf::num(7))
                            .build(),
                    )
                    .build(),
            )
            .block(
                tf::block("sas_policy")
                    .attr("expiration_period", lit("00.01:00:00"))
                    .attr("expiration_action", lit("Log"))
                    .build(),
            )
            .tagged()
            .build(),
    );
    f.push(
        tf::resource("azurerm_storage_container", "device_import")
            .skip("CKV2_AZURE_21", super::storage::LOGGED_BY_DIAGNOSTICS)
            .attr("name", lit(CONTAINER))
            .attr(
                "storage_account_id",
                r("azurerm_storage_account.device_import.id"),
            )
            .attr("container_access_type", lit("private"))
            .build(),
    );
    f.push(
        tf::resource("azurerm_role_assignment", "hub_device_import")
            .note("The hub's identity reads the input and writes the error log (identity-based import).")
            .attr("scope", r("azurerm_storage_container.device_import.id"))
            .attr("role_definition_name", lit("Storage Blob Data Contributor"))
            .attr("principal_id", r("local.import_hub.identity.0.principal_id"))
            .build(),
    );
    f.push(
        tf::resource("azurerm_role_assignment", "deployer_device_import")
            .note("Whoever applies this module uploads the input and reads the error log (Entra ID, no account key).")
            .attr("scope", r("azurerm_storage_container.device_import.id"))
            .attr("role_definition_name", lit("Storage Blob Data Contributor"))
            .attr(
                "principal_id",
                r("data.azurerm_client_config.current.object_id"),
            )
            .build(),
    );
    f.push(
        tf::resource("azurerm_storage_blob", "devices")
            .note("One ExportImportDevice per line; replaced when the registry changes (content_md5).")
            .attr("name", lit(INPUT_BLOB))
            .attr(
                "storage_container_id",
                r("azurerm_storage_container.device_import.id"),
            )
            .attr("type", lit("Block"))
            .attr("source", r("local.device_import_blob"))
            .attr(
                "content_md5",
                tf::call("filemd5", [r("local.device_import_blob")]),
            )
            .attr("content_type", lit("application/x-ndjson"))
            .attr(
                "depends_on",
                tf::list([r("azurerm_role_assignment.deployer_device_import")]),
            )
            .build(),
    );
    f
}

/// The outputs the import script needs.
pub(super) fn outputs(d: &Design) -> Vec<super::outputs::Output> {
    if registration(d.m) != Registration::Import {
        return Vec::new();
    }
    let container_url = tf::interp([
        Part::Ref(r(
            "azurerm_storage_account.device_import.primary_blob_endpoint",
        )),
        Part::Lit(CONTAINER),
    ]);
    vec![
        super::outputs::Output {
            name: "device_import_hub_id",
            description: "Resource id of the hub the import job registers the devices in.",
            value: r("local.import_hub.id"),
            sensitive: false,
        },
        super::outputs::Output {
            name: "device_import_request",
            description: "Body of the importDevices call (scripts/import-devices.sh): identity-based, input devices.txt, errors to import-errors.log.",
            value: tf::call(
                "jsonencode",
                [tf::obj([
                    ("inputBlobContainerUri", container_url.clone()),
                    ("outputBlobContainerUri", container_url),
                    ("inputBlobName", lit(INPUT_BLOB)),
                    ("outputBlobName", lit(OUTPUT_BLOB)),
                    ("authenticationType", lit("identityBased")),
                ])],
            ),
            sensitive: false,
        },
        super::outputs::Output {
            name: "device_import_storage_account",
            description: "Storage account of the import input and its error log.",
            value: r("azurerm_storage_account.device_import.name"),
            sensitive: false,
        },
    ]
}

/// The Azure CLI commands that run the import of `m`, from the Azure module's folder
/// `module` (what `fleetform bulk` prints); `None` unless the registry is imported.
pub fn commands(m: &Model, module: &str) -> Option<String> {
    if registration(m) != Registration::Import {
        return None;
    }
    let dir = crate::blueprint::shell_quote(module);
    Some(format!(
        "# Azure: {} devices imported into the primary hub, after `terraform apply`.\n# One import or export job runs per hub at a time.\nhub=$(terraform -chdir={dir} output -raw device_import_hub_id)\nterraform -chdir={dir} output -raw device_import_request > import-request.json\njob=$(az rest --method post --url \"https://management.azure.com${{hub}}/importDevices?api-version={API_VERSION}\" --body @import-request.json --query jobId --output tsv)\naz rest --method get --url \"https://management.azure.com${{hub}}/jobs/${{job}}?api-version={API_VERSION}\" --query '{{status: status, failureReason: failureReason}}'\naz storage blob download --auth-mode login --account-name \"$(terraform -chdir={dir} output -raw device_import_storage_account)\" --container-name {CONTAINER} --name {OUTPUT_BLOB} --file {OUTPUT_BLOB}\n",
        m.fleet.registry.len(),
    ))
}

/// Why the Azure stack imports none of `m`'s registry, for `fleetform bulk`.
pub fn why_not(m: &Model) -> Option<String> {
    match registration(m) {
        Registration::OnFirstProvisioning => Some(
            "on Azure, DPS enrollment groups create each device when it first provisions"
                .to_owned(),
        ),
        Registration::NeedsDps => {
            Some("on Azure, TPM devices register through DPS individual enrollments".to_owned())
        }
        Registration::Empty | Registration::Import => None,
    }
}
