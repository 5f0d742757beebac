//! The Azure planner: the model becomes a Terraform root module for hashicorp/azurerm 4.x.
//!
//! Same conventions as the AWS planner: `versions.tf`, `providers.tf` (with `features {}`
//! and the subscription as an input), `variables.tf`, `main.tf`, one file per concern,
//! `outputs.tf` and a stack README. Every decision more than one file depends on (is capture
//! on, does a route need the storage endpoint, who reads the stream) is made once, in
//! `Design`, so the files cannot disagree about it.
//!
//! Three rules hold everywhere, because they are where hand-written azurerm goes wrong:
//! IoT Hub routing lives only in the separate `azurerm_iothub_*` resources (mixing them with
//! inline blocks gives perpetual diffs); services reach each other with managed identities
//! and role assignments, not keys; and nothing secret is written into a `.tf` file.

mod alerts;
mod analytics;
mod bootstrap;
mod dps;
mod eventhubs;
mod functions;
mod hub;
pub mod import;
pub mod lifecycle;
mod monitoring;
mod ota;
mod outputs;
mod parity;
mod routing;
mod saql;
mod state;
mod storage;
mod vars;

use hcl::expr::{BinaryOp, BinaryOperator, Operation};
use hcl::{Block, BlockBuilder, Expression};

use crate::blueprint;
use crate::model::{
    Alert, Archive, Azure, AzureAlertEngine, Destination, EventHubsTier, HubSite, HubSku, Model,
    Route, Service, ServicePermission,
};
use crate::plan::tf::{self, Part, TfFile, lit, obj, r};
use crate::plan::{Cloud, Module, PlanError, Planner};

/// Version constraint on hashicorp/azurerm. The module uses arguments that arrived during
/// 4.x (identity-based Event Hubs Capture, `rbac_authorization_enabled` on key vaults), so
/// it asks for the release its output was checked against, and stays below 5.0.
pub use bootstrap::plan_bootstrap;

pub const AZURERM_PROVIDER_VERSION: &str = "~> 4.79";

/// Plans Azure.
pub struct AzurePlanner;

impl Planner for AzurePlanner {
    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }

    fn plan(&self, model: &Model) -> Result<Module, PlanError> {
        let mut module = Module::new(Cloud::Azure);
        let Some(az) = &model.azure else {
            return Ok(module);
        };
        let d = Design::new(model, az);
        let variables = vars::variables(&d);
        module.hcl("versions.tf", versions());
        module.hcl("providers.tf", providers());
        module.hcl("variables.tf", vars::file(&variables));
        module.hcl("main.tf", main(&d));
        module.hcl("iothub.tf", hub::file(&d));
        module.hcl("routing.tf", routing::file(&d));
        if d.az.dps.is_some() {
            module.hcl("dps.tf", dps::file(&d));
        }
        module.hcl("eventhubs.tf", eventhubs::file(&d));
        if d.archive.is_some() {
            module.hcl("storage.tf", storage::file(&d));
        }
        if d.functions() {
            module.hcl("functions.tf", functions::file(&d));
            functions::artifacts(&d, &mut module)?;
        }
        if !d.m.alerts.is_empty() {
            module.hcl("alerts.tf", alerts::file(&d));
        }
        if d.stream_analytics {
            module.text(
                "stream-analytics/alerts.asaql",
                alerts::stream_analytics_query(&d)?,
            );
        }
        if d.m.features.state_store {
            module.hcl("state.tf", state::file(&d));
        }
        if d.ota {
            module.hcl("ota.tf", ota::file(&d));
        }
        if d.m.features.analytics {
            module.hcl("analytics.tf", analytics::file(&d));
            module.text("analytics/schema.kql", analytics::schema());
        }
        module.hcl("monitoring.tf", monitoring::file(&d));
        import::artifacts(&d, &mut module)?;
        let mut outputs = outputs::outputs(&d);
        outputs.extend(import::outputs(&d));
        module.hcl("outputs.tf", outputs::file(&outputs));
        if let Some(script) = dps::enrollment_script(&d)? {
            module.text("scripts/create-enrollment-groups.sh", script);
        }
        parity::map(&d, &mut module);
        import::parity(&d, &mut module);
        let readme = readme_context(&d, &module, &variables, &outputs);
        module.text(
            "README.md",
            blueprint::render("azure/README.md.j2", readme)?,
        );
        Ok(module)
    }
}

/// Decisions shared by the files of the module.
pub(crate) struct Design<'a> {
    pub m: &'a Model,
    pub az: &'a Azure,
    /// Hub sites, keyed by location (the keys of `local.iot_hubs`).
    pub hubs: Vec<&'a HubSite>,
    pub archive: Option<&'a Archive>,
    /// Standard-tier hubs (twins, cloud-to-device, Device Update).
    pub standard: bool,
    pub free: bool,
    /// Event Hubs Capture writes the telemetry hub into the archive container.
    pub capture: bool,
    /// Some route delivers to the archive through an IoT Hub storage endpoint.
    pub storage_endpoint: bool,
    /// Some route delivers to the state store through an IoT Hub Cosmos DB endpoint.
    pub state_endpoint: bool,
    /// Some route delivers to the stream.
    pub stream_endpoint: bool,
    /// Alerts evaluated by Stream Analytics instead of IoT Hub routes.
    pub stream_analytics: bool,
    /// Alerts that run the generated function.
    pub alert_functions: Vec<&'a Alert>,
    /// Device Update can be built (requested, and the hubs are Standard tier).
    pub ota: bool,
    /// Services that read the stream with a listen-only key.
    pub stream_readers: Vec<&'a Service>,
    /// The DPS needs the fleet CA (some enrollment group attests with X.509).
    pub dps_ca: bool,
    /// DPS custom allocation (an Azure Function webhook).
    pub custom_allocation: bool,
    /// Emails to notify, so an action group exists.
    pub action_group: bool,
}

impl<'a> Design<'a> {
    /// The decisions for `m` on `az`. The diagram and `fleetform explain` read them too, so
    /// they describe what the build writes.
    pub(crate) fn new(m: &'a Model, az: &'a Azure) -> Self {
        let archive = m.archive.as_ref();
        let capture = az.event_hubs.capture
            && archive.is_some()
            && az.event_hubs.tier != EventHubsTier::Basic;
        let routes_to = |dest: Destination| m.routes.iter().any(|r| r.to.contains(&dest));
        let standard = matches!(az.hub.sku, HubSku::S1 | HubSku::S2 | HubSku::S3);
        let dps_ca = az.dps.as_ref().is_some_and(|dps| {
            if dps.enrollment_groups.is_empty() {
                m.identity.method == crate::model::AuthMethod::X509
            } else {
                dps.enrollment_groups
                    .iter()
                    .any(|g| g.attestation == crate::model::AuthMethod::X509)
            }
        });
        let mut d = Design {
            m,
            az,
            hubs: az.hubs.iter().collect(),
            archive,
            standard,
            free: az.hub.sku == HubSku::F1,
            capture,
            storage_endpoint: false,
            state_endpoint: m.features.state_store && routes_to(Destination::StateStore),
            stream_endpoint: routes_to(Destination::Stream),
            stream_analytics: az.alert_engine == AzureAlertEngine::StreamAnalytics
                && !m.alerts.is_empty(),
            alert_functions: m.alerts.iter().filter(|a| a.function).collect(),
            ota: m.features.ota && standard,
            stream_readers: m
                .access
                .services
                .iter()
                .filter(|s| s.access.contains(&ServicePermission::ServiceConnect))
                .collect(),
            dps_ca,
            custom_allocation: az
                .dps
                .as_ref()
                .is_some_and(|d| d.allocation == crate::model::Allocation::Custom),
            action_group: !m.monitoring.emails.is_empty(),
        };
        d.storage_endpoint = archive.is_some()
            && m.routes
                .iter()
                .any(|r| d.endpoints_for(r).contains(&Endpoint::Archive));
        d
    }

    /// The IoT Hub endpoints a route delivers to. A route to the stream and the archive
    /// reaches the archive through Capture when Capture is on, so nothing is archived twice.
    pub fn endpoints_for(&self, route: &Route) -> Vec<Endpoint> {
        let mut out = Vec::new();
        for dest in &route.to {
            match dest {
                Destination::Stream => out.push(Endpoint::Stream),
                Destination::Archive => {
                    let via_capture = self.capture && route.to.contains(&Destination::Stream);
                    if self.archive.is_some() && !via_capture {
                        out.push(Endpoint::Archive);
                    }
                }
                Destination::StateStore => {
                    if self.m.features.state_store {
                        out.push(Endpoint::State);
                    }
                }
            }
        }
        out
    }

    /// Whether a function app is generated at all.
    pub fn functions(&self) -> bool {
        !self.alert_functions.is_empty() || self.custom_allocation
    }

    /// The stack prefix (`cranes-prod`).
    pub fn prefix(&self) -> &str {
        &self.m.stack.prefix
    }

    /// The consumer group an internal reader of the telemetry hub uses. Basic namespaces
    /// allow only `$Default`, so there every reader shares it.
    pub fn consumer_group(&self, name: &'static str) -> Expression {
        if self.az.event_hubs.tier == EventHubsTier::Basic {
            lit("$Default")
        } else {
            r(&format!(
                "azurerm_eventhub_consumer_group.{}.name",
                tf_label(name)
            ))
        }
    }

    /// Event Hubs namespaces in the Basic tier have no consumer groups of their own.
    pub fn consumer_groups(&self) -> bool {
        self.az.event_hubs.tier != EventHubsTier::Basic
    }
}

/// An IoT Hub custom endpoint fleetform creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    Stream,
    Archive,
    State,
}

impl Endpoint {
    /// `endpoint_names` entry for a route on the current hub (`each.key`).
    pub fn name_ref(self) -> Expression {
        let resource = match self {
            Endpoint::Stream => "azurerm_iothub_endpoint_eventhub.stream",
            Endpoint::Archive => "azurerm_iothub_endpoint_storage_container.archive",
            Endpoint::State => "azurerm_iothub_endpoint_cosmosdb_account.state",
        };
        tf::r_index(resource, r("each.key"), &["name"])
    }
}

// -------------------------------------------------------------------------------------------
// Small HCL vocabulary shared by the files.

/// Conveniences on block builders, so resource code reads top to bottom.
pub(crate) trait Hcl: Sized {
    fn attr(self, key: &str, value: Expression) -> Self;
    fn block(self, block: Block) -> Self;
    fn note(self, text: &str) -> Self;
    /// A checkov inline skip with the reason a reviewer reads.
    fn skip(self, check: &str, reason: &str) -> Self {
        self.note(&format!("checkov:skip={check}: {reason}"))
    }
    /// `resource_group_name`, `location` and `tags` in the conventional order.
    fn placed(self) -> Self {
        self.attr("resource_group_name", r("local.resource_group_name"))
            .attr("location", r("local.location"))
    }
    fn tagged(self) -> Self {
        self.attr("tags", r("local.tags"))
    }
}

impl Hcl for BlockBuilder {
    fn attr(self, key: &str, value: Expression) -> Self {
        self.add_attribute((tf::ident(key), value))
    }
    fn block(self, block: Block) -> Self {
        self.add_block(block)
    }
    fn note(self, text: &str) -> Self {
        self.add_attribute(tf::comment(text))
    }
}

/// A label safe to use in a resource address (`overload`, `store_dashboard`).
pub(crate) fn tf_label(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s
    } else {
        format!("x_{s}")
    }
}

/// `"<kind>-${local.name_prefix}"`, with `-<suffix>` unless `suffix` is empty: the name of
/// a stack resource, led by Azure's abbreviation for its type (`log`, `func`, `id`).
pub(crate) fn named(kind: &'static str, suffix: &'static str) -> Expression {
    let mut parts = vec![
        Part::Lit(kind),
        Part::Lit("-"),
        Part::Ref(r("local.name_prefix")),
    ];
    if !suffix.is_empty() {
        parts.extend([Part::Lit("-"), Part::Lit(suffix)]);
    }
    tf::interp(parts)
}

/// A resource address with a label derived from a name: `azurerm_eventhub.alert_overload`.
pub(crate) fn addr(ty: &str, label: &str, attr: &str) -> Expression {
    r(&format!("{ty}.{}.{attr}", tf_label(label)))
}

/// `identity { type = "SystemAssigned" }`.
pub(crate) fn system_identity() -> Block {
    tf::block("identity")
        .attr("type", lit("SystemAssigned"))
        .build()
}

/// `depends_on = [a, b]`.
pub(crate) fn depends_on(refs: &[&str]) -> Expression {
    tf::list(refs.iter().map(|x| r(x)))
}

/// An `azurerm_role_assignment` granting `role` on `scope` to a managed identity.
pub(crate) fn role_assignment(
    label: &str,
    for_each: Option<Expression>,
    scope: Expression,
    role: &str,
    principal: Expression,
) -> Block {
    let mut b = tf::resource("azurerm_role_assignment", label);
    if let Some(fe) = for_each {
        b = b.attr("for_each", fe);
    }
    b.attr("scope", scope)
        .attr("role_definition_name", lit(role))
        .attr("principal_id", principal)
        // Service principals of managed identities may not have replicated yet; saying what
        // they are skips the directory lookup that fails in that window.
        .attr("principal_type", lit("ServicePrincipal"))
        .build()
}

/// `lhs OP rhs`.
pub(crate) fn bin(lhs: Expression, op: BinaryOperator, rhs: Expression) -> Expression {
    Expression::Operation(Box::new(Operation::Binary(BinaryOp::new(lhs, op, rhs))))
}

/// `(expr)`.
pub(crate) fn paren(e: Expression) -> Expression {
    Expression::Parenthesis(Box::new(e))
}

/// A name derived from the stack, cut to a service's length limit without a trailing `-`.
pub(crate) fn bounded(name: &str, max: usize) -> String {
    let cut: String = name.chars().take(max).collect();
    cut.trim_end_matches('-').to_owned()
}

/// `"sb://${azurerm_eventhub_namespace.this.name}.servicebus.windows.net"`.
pub(crate) fn eventhubs_uri() -> Expression {
    tf::interp([
        Part::Lit("sb://"),
        Part::Ref(r("azurerm_eventhub_namespace.this.name")),
        Part::Lit(".servicebus.windows.net"),
    ])
}

/// `"${azurerm_eventhub_namespace.this.name}.servicebus.windows.net"`.
pub(crate) fn eventhubs_fqdn() -> Expression {
    tf::interp([
        Part::Ref(r("azurerm_eventhub_namespace.this.name")),
        Part::Lit(".servicebus.windows.net"),
    ])
}

// -------------------------------------------------------------------------------------------
// Root files.

fn versions() -> TfFile {
    let mut f = TfFile::new();
    f.push(
        tf::block("terraform")
            .add_attribute(("required_version", lit(">= 1.6.0")))
            .add_block(
                tf::block("required_providers")
                    .add_attribute((
                        "azurerm",
                        obj([
                            ("source", lit("hashicorp/azurerm")),
                            ("version", lit(AZURERM_PROVIDER_VERSION)),
                        ]),
                    ))
                    .build(),
            )
            .build(),
    );
    f
}

fn providers() -> TfFile {
    let mut f = TfFile::new();
    f.push(
        tf::block("provider")
            .add_label("azurerm")
            .note("Storage data-plane calls (reading service properties, uploading function")
            .note("packages) use Entra ID, so storage accounts can keep shared keys off.")
            .attr("subscription_id", r("var.subscription_id"))
            .attr("storage_use_azuread", tf::boolean(true))
            .add_block(
                tf::block("features")
                    .block(
                        tf::block("key_vault")
                            .note(
                                "Keys that encrypt the archive must survive a destroy by mistake.",
                            )
                            .attr("purge_soft_delete_on_destroy", tf::boolean(false))
                            .build(),
                    )
                    .block(
                        tf::block("resource_group")
                            .attr("prevent_deletion_if_contains_resources", tf::boolean(true))
                            .build(),
                    )
                    .build(),
            )
            .build(),
    );
    f
}

fn main(d: &Design) -> TfFile {
    let m = d.m;
    let az = d.az;
    let mut f = TfFile::new();
    let tags = obj(m.stack.tags.iter().map(|(k, v)| (k.as_str(), lit(v))));
    let hubs = obj(d.hubs.iter().map(|h| {
        (
            h.location.as_str(),
            obj([
                ("name", lit(&h.name)),
                ("location", lit(&h.location)),
                ("allocation_weight", tf::num(h.allocation_weight)),
            ]),
        )
    }));
    let (rg_name, rg_id) = if az.create_resource_group {
        (
            "azurerm_resource_group.this.name",
            "azurerm_resource_group.this.id",
        )
    } else {
        (
            "data.azurerm_resource_group.this.name",
            "data.azurerm_resource_group.this.id",
        )
    };
    f.push(
        tf::block("locals")
            .attr("name_prefix", lit(&m.stack.prefix))
            .attr("location", r("var.location"))
            .attr("resource_group_name", r(rg_name))
            .attr("resource_group_id", r(rg_id))
            .attr(
                "tags",
                tf::call("merge", [r("local.spec_tags"), r("var.extra_tags")]),
            )
            .attr("spec_tags", tags)
            .note("One IoT hub per linked location, keyed by location; the first is the primary.")
            .attr("iot_hubs", hubs)
            .attr("primary_hub", lit(&d.hubs[0].location))
            .build(),
    );
    // Who runs Terraform: granted the data-plane roles the module's own steps need.
    let enrollments = az
        .dps
        .as_ref()
        .is_some_and(|dps| !dps.enrollment_groups.is_empty());
    let cmk = d
        .archive
        .is_some_and(|a| a.encryption == crate::model::Encryption::CustomerManaged);
    if enrollments || cmk || d.functions() {
        f.push(tf::data("azurerm_client_config", "current").build());
    }
    if az.create_resource_group {
        f.push(
            tf::resource("azurerm_resource_group", "this")
                .attr("name", lit(&az.resource_group))
                .attr("location", r("var.location"))
                .tagged()
                .build(),
        );
    } else {
        f.push(
            tf::data("azurerm_resource_group", "this")
                .note("The resource group exists already (clouds.azure.create_resource_group: false).")
                .attr("name", lit(&az.resource_group))
                .build(),
        );
    }
    f
}

// -------------------------------------------------------------------------------------------
// README.

fn readme_context(
    d: &Design,
    module: &Module,
    variables: &[vars::Var],
    outputs: &[outputs::Output],
) -> serde_json::Value {
    let m = d.m;
    let az = d.az;
    let files: Vec<&String> = module.files.keys().collect();
    let ca_file = &m.identity.ca_certificate_file;
    let (ca_dir, ca_stem) = dps::ca_location(ca_file);
    let device_import = (import::registration(m) == import::Registration::Import).then(|| {
        serde_json::json!({
            "devices": m.fleet.registry.len(),
            "authentication": match m.identity.method {
                crate::model::AuthMethod::X509 => "certificateAuthority (certificates chained to the fleet CA)",
                _ => "sas (the hub generates each device's keys)",
            },
        })
    });
    let mut ctx = serde_json::json!({
        "stack": m.stack.prefix,
        "description": m.stack.description,
        "location": az.location,
        "resource_group": az.resource_group,
        "create_resource_group": az.create_resource_group,
        "provider_version": AZURERM_PROVIDER_VERSION,
        "hub": {
            "sku": format!("{:?}", az.hub.sku),
            "units": az.hub.units,
            "pinned": az.hub.pinned,
            "daily_quota": hub::thousands(az.hub.daily_quota),
            "planned_daily": hub::thousands(az.hub.planned_daily_quota_messages),
            "partitions": az.hub.partitions,
            "standard": d.standard,
            "local_authentication": az.hub.local_authentication,
        },
        "hubs": d.hubs.iter().map(|h| serde_json::json!({
            "name": h.name, "location": h.location, "weight": h.allocation_weight,
        })).collect::<Vec<_>>(),
        "dps": az.dps.as_ref().map(|dps| serde_json::json!({
            "name": az.names.dps,
            "allocation": dps::allocation_policy(dps.allocation),
            "custom": d.custom_allocation,
            "groups": dps.enrollment_groups.iter().map(|g| serde_json::json!({
                "name": g.name,
                "device_type": g.device_type,
                "attestation": dps::attestation_word(g.attestation),
                "iot_edge": g.iot_edge,
            })).collect::<Vec<_>>(),
            "ca": d.dps_ca,
        })),
        "ca_file": ca_file,
        "spec_dir": m.spec_dir_from_module(),
        "diagram": crate::diagram::mermaid(m, Cloud::Azure),
        "ca_dir": ca_dir,
        "ca_stem": ca_stem,
        "identity": dps::attestation_word(m.identity.method),
        "routes": m.routes.iter().map(|r| serde_json::json!({
            "name": r.name,
            "condition": r.condition_text,
            "query": routing::condition(r.condition.as_ref()),
            "to": d.endpoints_for(r).iter().map(|e| format!("{e:?}").to_lowercase()).collect::<Vec<_>>(),
        })).collect::<Vec<_>>(),
        "body_queries": m.routes.iter().any(|r| r.condition.is_some())
            || (!m.alerts.is_empty() && !d.stream_analytics),
        "capture": d.capture,
        "storage_endpoint": d.storage_endpoint,
        "alerts": m.alerts.iter().map(|a| serde_json::json!({
            "name": a.name, "condition": a.condition_text, "function": a.function, "notify": a.notify,
        })).collect::<Vec<_>>(),
        "alert_engine": if d.stream_analytics { "Stream Analytics" } else { "IoT Hub routes" },
        "functions": d.functions(),
        "state_store": m.features.state_store,
        "ota": d.ota,
        "ota_requested": m.features.ota,
        "analytics": m.features.analytics,
        "archive": d.archive.is_some(),
        "cmk": d.archive.is_some_and(|a| a.encryption == crate::model::Encryption::CustomerManaged),
        "budget": m.cost.monthly_budget_usd.map(|b| hub::thousands(b.ceil() as u64)),
        "notes": notes(d),
        "emails": m.monitoring.emails,
        "alarms": m.monitoring.alarms,
        "stream_readers": d.stream_readers.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "services": m.access.services.iter().map(|s| &s.name).collect::<Vec<_>>(),
        "files": files,
        "variables": variables.iter().map(|v| serde_json::json!({
            "name": v.name, "type": v.ty, "description": v.description,
            "default": v.default.as_ref().map(|e| hcl::format::to_string(e).unwrap_or_default()),
        })).collect::<Vec<_>>(),
        "outputs": outputs.iter().map(|o| serde_json::json!({
            "name": o.name, "description": o.description, "sensitive": o.sensitive,
        })).collect::<Vec<_>>(),
        "parity": module.parity,
    });
    ctx["device_import"] = serde_json::json!(device_import);
    ctx
}

/// What the README must say because the spec asked for something Azure does differently.
fn notes(d: &Design) -> Vec<String> {
    use crate::model::{IpAction, Replication, StorageTier};
    let mut out = Vec::new();
    let az = d.az;
    if let Some(archive) = d.archive
        && matches!(az.storage.replication, Replication::Zrs | Replication::Gzrs)
        && archive
            .lifecycle
            .iter()
            .any(|t| matches!(t.tier, StorageTier::Archive | StorageTier::DeepArchive))
    {
        out.push(format!(
            "Blob storage has no Archive tier on {} accounts, so the lifecycle stops at the coldest tier before it. Use LRS or GRS replication to archive.",
            storage::replication(az.storage.replication)
        ));
    }
    if d.archive.is_some_and(|a| {
        a.lifecycle
            .iter()
            .any(|t| t.tier == StorageTier::DeepArchive)
    }) {
        out.push(
            "Azure has no tier colder than Archive: `deep_archive` becomes Archive.".to_owned(),
        );
    }
    if !az.hub.public_network_access {
        out.push(format!(
            "Public network access is off on the hubs{}: devices reach them only through private endpoints in your virtual network, which this module does not create.",
            if az.dps.is_some() { " and the DPS" } else { "" }
        ));
    }
    if az
        .hub
        .ip_filter
        .iter()
        .any(|r| r.action == IpAction::Reject)
    {
        out.push("IoT Hub network rules allow listed ranges and deny the rest; the spec's reject rules are not expressible and are left out.".to_owned());
    }
    if d.m.features.ota && !d.ota {
        out.push(format!(
            "Over-the-air updates were requested, but Device Update needs Standard-tier hubs and these are {:?}.",
            az.hub.sku
        ));
    }
    if d.m.access.cloud_credentials.is_some() {
        out.push("Role aliases (authorization.cloud_credentials) are an AWS IoT feature; on Azure, devices upload through IoT Hub file upload or use their own Entra ID identity.".to_owned());
    }
    if d.m.features.web_api {
        out.push("No web API is generated on Azure: read twins with the IoT Hub service SDK, or the state store with Cosmos DB data roles.".to_owned());
    }
    if az.dps.is_some() {
        out.push("If a hub's dps-link key is regenerated, apply again: DPS keeps the old key (Azure masks it, so the provider cannot see the difference) until the link is rewritten.".to_owned());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_identifiers() {
        assert_eq!(tf_label("store-dashboard"), "store_dashboard");
        assert_eq!(tf_label("9lives"), "x_9lives");
        assert_eq!(tf_label("a\"b${c}"), "a_b__c_");
    }

    #[test]
    fn named_resources_lead_with_their_kind() {
        let src = |e: &Expression| hcl::format::to_string(e).unwrap();
        assert_eq!(src(&named("log", "")), "\"log-${local.name_prefix}\"");
        assert_eq!(
            src(&named("id", "archive-cmk")),
            "\"id-${local.name_prefix}-archive-cmk\""
        );
    }

    #[test]
    fn bounded_names_do_not_end_in_a_hyphen() {
        assert_eq!(bounded("adu-cranes-prod", 11), "adu-cranes");
        assert_eq!(bounded("adu", 24), "adu");
    }
}
