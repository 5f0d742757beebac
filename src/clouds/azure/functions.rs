//! `functions.tf` and the function packages: a consumption (Y1) plan running the alert
//! functions and, with custom DPS allocation, the allocation webhook.
//!
//! Code comes from blueprints and is zipped deterministically ([`crate::plan::package`]),
//! so a rebuild gives the same bytes and Terraform only redeploys real changes. On Linux
//! consumption plans a function app can only run from a package URL, so each package is
//! uploaded as a blob whose name carries its MD5: new code, new URL, and the app restarts
//! on it. The apps run as one user-assigned identity that holds its roles before the apps
//! exist, so they never start without access to their storage or their event hubs.
//!
//! The host's storage is named with `storage_account_name` and
//! `storage_uses_managed_identity = true`: azurerm requires exactly one of
//! `storage_account_name` and `storage_key_vault_secret_id` (`ExactlyOneOf`, v4.81.0
//! `internal/services/appservice/linux_function_app_resource.go`), writes
//! `AzureWebJobsStorage__accountName` itself, and filters that setting out of
//! `app_settings` when it reads the app back, so setting it there too would show a change
//! on every plan. `AzureWebJobsStorage__credential` and `__clientId` stay in `app_settings`:
//! they pick the user-assigned identity.

use serde_json::json;

use super::{Design, Hcl, bounded, depends_on, eventhubs_fqdn, named, role_assignment, tf_label};
use crate::blueprint;
use crate::plan::tf::{self, Part, TfFile, lit, r};
use crate::plan::{Module, PlanError, package};

/// Python version of the function apps.
const PYTHON: &str = "3.11";

/// The packages this design needs: (package name, label).
fn packages(d: &Design) -> Vec<&'static str> {
    let mut out = Vec::new();
    if !d.alert_functions.is_empty() {
        out.push("alerts");
    }
    if d.custom_allocation {
        out.push("allocation");
    }
    out
}

/// Name of the functions' storage account: the archive account's name with `fn`.
pub(crate) fn storage_name(d: &Design) -> String {
    format!("{}fn", bounded(&d.az.names.storage_account, 22))
}

pub(super) fn file(d: &Design) -> TfFile {
    let mut f = TfFile::new();
    let packages = packages(d);
    let mut locals = tf::block("locals");
    for p in &packages {
        locals = locals
            .attr(
                &format!("{p}_package"),
                tf::interp([
                    Part::Ref(r("path.module")),
                    Part::Lit("/functions/"),
                    Part::Lit(package_file(p)),
                ]),
            )
            .attr(
                &format!("{p}_package_md5"),
                tf::call("filemd5", [r(&format!("local.{p}_package"))]),
            );
    }
    f.push(locals.build());

    f.push(
        tf::resource("azurerm_storage_account", "functions")
            .skip(
                "CKV_AZURE_35",
                "consumption-plan functions have no VNet integration or fixed outbound addresses to allow; access is Entra ID only",
            )
            .skip(
                "CKV_AZURE_59",
                "consumption-plan functions reach their storage over its public endpoint; shared keys are off",
            )
            .skip(
                "CKV_AZURE_206",
                "runtime state (leases, checkpoints, packages) is rebuilt on redeploy; LRS is enough",
            )
            .skip(
                "CKV2_AZURE_1",
                "holds only function runtime state and code packages, no fleet data",
            )
            .skip(
                "CKV_AZURE_33",
                "the functions use no storage queues",
            )
            .skip(
                "CKV2_AZURE_33",
                "consumption plans cannot reach private endpoints",
            )
            .note("Runtime storage of the function apps (leases, keys, checkpoints, packages).")
            .attr("name", lit(storage_name(d)))
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
        tf::resource("azurerm_storage_container", "function_releases")
            .skip("CKV2_AZURE_21", super::storage::LOGGED_BY_DIAGNOSTICS)
            .attr("name", lit("function-releases"))
            .attr(
                "storage_account_id",
                r("azurerm_storage_account.functions.id"),
            )
            .attr("container_access_type", lit("private"))
            .build(),
    );
    f.push(
        tf::resource("azurerm_role_assignment", "deployer_function_releases")
            .note("Whoever applies this module uploads the packages (Entra ID, no account key).")
            .attr("scope", r("azurerm_storage_container.function_releases.id"))
            .attr("role_definition_name", lit("Storage Blob Data Contributor"))
            .attr(
                "principal_id",
                r("data.azurerm_client_config.current.object_id"),
            )
            .build(),
    );
    for p in &packages {
        f.push(
            tf::resource("azurerm_storage_blob", &format!("{p}_package"))
                .attr(
                    "name",
                    tf::interp([
                        Part::Lit(blob_stem(p)),
                        Part::Ref(r(&format!("local.{p}_package_md5"))),
                        Part::Lit(".zip"),
                    ]),
                )
                .attr(
                    "storage_container_id",
                    r("azurerm_storage_container.function_releases.id"),
                )
                .attr("type", lit("Block"))
                .attr("source", r(&format!("local.{p}_package")))
                .attr("content_md5", r(&format!("local.{p}_package_md5")))
                .attr(
                    "depends_on",
                    depends_on(&["azurerm_role_assignment.deployer_function_releases"]),
                )
                .build(),
        );
    }

    f.push(
        tf::resource("azurerm_user_assigned_identity", "functions")
            .attr("name", named("id", "functions"))
            .placed()
            .tagged()
            .build(),
    );
    f.push(role_assignment(
        "functions_storage",
        None,
        r("azurerm_storage_account.functions.id"),
        "Storage Blob Data Owner",
        r("azurerm_user_assigned_identity.functions.principal_id"),
    ));
    for a in &d.alert_functions {
        let label = format!("alert_{}", tf_label(&a.name));
        f.push(role_assignment(
            &format!("functions_{label}_receiver"),
            None,
            r(&format!("azurerm_eventhub.{label}.id")),
            "Azure Event Hubs Data Receiver",
            r("azurerm_user_assigned_identity.functions.principal_id"),
        ));
    }

    f.push(
        tf::resource("azurerm_application_insights", "functions")
            .attr("name", named("appi", ""))
            .placed()
            .attr("application_type", lit("other"))
            .attr("workspace_id", r("azurerm_log_analytics_workspace.this.id"))
            .tagged()
            .build(),
    );
    f.push(
        tf::resource("azurerm_service_plan", "functions")
            .skip(
                "CKV_AZURE_211",
                "a consumption (Y1) plan: functions run per event and cost nothing when idle",
            )
            .skip(
                "CKV_AZURE_212",
                "consumption plans scale out per event; there are no instances to pin",
            )
            .skip(
                "CKV_AZURE_225",
                "zone redundancy needs an Elastic Premium plan; alerts tolerate a zone outage's retry",
            )
            .attr(
                "name",
                named("asp", "functions"),
            )
            .placed()
            .attr("os_type", lit("Linux"))
            .attr("sku_name", lit("Y1"))
            .tagged()
            .build(),
    );

    if !d.alert_functions.is_empty() {
        let mut settings = base_settings("alerts");
        settings.extend([
            (
                "ALERTS__fullyQualifiedNamespace".to_owned(),
                eventhubs_fqdn(),
            ),
            ("ALERTS__credential".to_owned(), lit("managedidentity")),
            (
                "ALERTS__clientId".to_owned(),
                r("azurerm_user_assigned_identity.functions.client_id"),
            ),
        ]);
        let mut deps = vec!["azurerm_role_assignment.functions_storage".to_owned()];
        deps.extend(d.alert_functions.iter().map(|a| {
            format!(
                "azurerm_role_assignment.functions_alert_{}_receiver",
                tf_label(&a.name)
            )
        }));
        f.push(function_app(
            "alerts",
            &[
                "Runs one function per alert that has `function: true`; triggered by Event Hubs, so",
                "it needs no inbound network access at all.",
            ],
            &[(
                "CKV_AZURE_56",
                "no HTTP endpoints: the functions are triggered by Event Hubs",
            )],
            false,
            settings,
            &deps,
        ));
    }
    if d.custom_allocation {
        f.push(function_app(
            "allocation",
            &["The DPS custom allocation webhook: DPS calls it with the function key."],
            &[
                (
                    "CKV_AZURE_56",
                    "DPS authenticates to the webhook with a function key; App Service authentication would reject it",
                ),
                (
                    "CKV_AZURE_221",
                    "the Device Provisioning Service calls this webhook over the internet",
                ),
            ],
            true,
            base_settings("allocation"),
            &["azurerm_role_assignment.functions_storage".to_owned()],
        ));
    }
    f
}

fn package_file(p: &str) -> &'static str {
    match p {
        "alerts" => "alerts.zip",
        _ => "allocation.zip",
    }
}

fn blob_stem(p: &str) -> &'static str {
    match p {
        "alerts" => "alerts-",
        _ => "allocation-",
    }
}

fn base_settings(p: &str) -> Vec<(String, hcl::Expression)> {
    vec![
        // `AzureWebJobsStorage__accountName` is written by the provider from
        // `storage_account_name` (and kept out of `app_settings` when read back).
        (
            "AzureWebJobsStorage__credential".to_owned(),
            lit("managedidentity"),
        ),
        (
            "AzureWebJobsStorage__clientId".to_owned(),
            r("azurerm_user_assigned_identity.functions.client_id"),
        ),
        (
            "WEBSITE_RUN_FROM_PACKAGE".to_owned(),
            r(&format!("azurerm_storage_blob.{p}_package.url")),
        ),
        (
            "WEBSITE_RUN_FROM_PACKAGE_BLOB_MI_RESOURCE_ID".to_owned(),
            r("azurerm_user_assigned_identity.functions.id"),
        ),
    ]
}

fn function_app(
    name: &'static str,
    notes: &[&str],
    skips: &[(&str, &str)],
    public: bool,
    settings: Vec<(String, hcl::Expression)>,
    deps: &[String],
) -> hcl::Block {
    let mut b = tf::resource("azurerm_linux_function_app", name);
    for (check, reason) in skips {
        b = b.skip(check, reason);
    }
    for line in notes {
        b = b.note(line);
    }
    let deps: Vec<&str> = deps.iter().map(String::as_str).collect();
    b.attr(
        "name",
        named(
            "func",
            if name == "alerts" {
                "alerts"
            } else {
                "allocation"
            },
        ),
    )
    .placed()
    .attr("service_plan_id", r("azurerm_service_plan.functions.id"))
    .note(
        "The host reaches its storage as the identity below: no account key, no connection string.",
    )
    .attr(
        "storage_account_name",
        r("azurerm_storage_account.functions.name"),
    )
    .attr("storage_uses_managed_identity", tf::boolean(true))
    .attr("functions_extension_version", lit("~4"))
    .attr("https_only", tf::boolean(true))
    .attr("public_network_access_enabled", tf::boolean(public))
    .attr("builtin_logging_enabled", tf::boolean(false))
    .attr(
        "ftp_publish_basic_authentication_enabled",
        tf::boolean(false),
    )
    .attr(
        "webdeploy_publish_basic_authentication_enabled",
        tf::boolean(false),
    )
    .block(
        tf::block("identity")
            .attr("type", lit("UserAssigned"))
            .attr(
                "identity_ids",
                tf::list([r("azurerm_user_assigned_identity.functions.id")]),
            )
            .build(),
    )
    .block(
        tf::block("site_config")
            .attr("minimum_tls_version", lit("1.2"))
            .attr("ftps_state", lit("Disabled"))
            .attr("http2_enabled", tf::boolean(true))
            .attr(
                "application_insights_connection_string",
                r("azurerm_application_insights.functions.connection_string"),
            )
            .block(
                tf::block("application_stack")
                    .attr("python_version", lit(PYTHON))
                    .build(),
            )
            .build(),
    )
    .attr("app_settings", tf::obj(settings))
    .tagged()
    .attr("depends_on", depends_on(&deps))
    .build()
}

/// Function sources (also written next to the packages, for review) and their zips.
pub(super) fn artifacts(d: &Design, module: &mut Module) -> Result<(), PlanError> {
    let host = blueprint::render("azure/functions/host.json.j2", json!({}))?;
    let requirements = blueprint::render("azure/functions/requirements.txt.j2", json!({}))?;
    if !d.alert_functions.is_empty() {
        let consumer_group = if d.consumer_groups() {
            "function"
        } else {
            "$Default"
        };
        let app = blueprint::render(
            "azure/functions/alerts.py.j2",
            json!({
                "stack": d.prefix(),
                "alerts": d.alert_functions.iter().map(|a| json!({
                    "name": a.name,
                    "function": tf_label(&a.name),
                    "event_hub": format!("alert-{}", a.cloud_name),
                    "condition": a.condition_text,
                })).collect::<Vec<_>>(),
                "consumer_group": consumer_group,
            }),
        )?;
        add_package(module, "alerts", &app, &host, &requirements)?;
    }
    if d.custom_allocation {
        let app = blueprint::render(
            "azure/functions/allocation.py.j2",
            json!({ "stack": d.prefix() }),
        )?;
        add_package(module, "allocation", &app, &host, &requirements)?;
    }
    Ok(())
}

fn add_package(
    module: &mut Module,
    name: &str,
    app: &str,
    host: &str,
    requirements: &str,
) -> Result<(), PlanError> {
    let files = [
        ("function_app.py", app),
        ("host.json", host),
        ("requirements.txt", requirements),
    ];
    module.bytes(
        &format!("functions/{name}.zip"),
        package::zip(name, &files)?,
    );
    for (file, text) in files {
        module.text(&format!("functions/{name}/{file}"), text.to_owned());
    }
    Ok(())
}
