//! The Azure planner: the model becomes a Terraform root module for hashicorp/azurerm 4.x.
//!
//! Same conventions as the AWS planner: `versions.tf`, `providers.tf` (with `features {}`
//! and the subscription as an input), `variables.tf`, `main.tf`, one file per concern,
//! `outputs.tf` and a stack README. Every decision more than one file depends on (is capture
//! on, does a route need the storage endpoint, who reads the stream) is made once, in
//! `Design`, so the files cannot disagree about it; the neutral design the other commands
//! render ([`crate::design::Design`]: dataflow, explanation, parity rows, bill) is filled
//! from the same `Design` (`dataflow.rs`, `story.rs`, `parity.rs`, `bill.rs`), and so is
//! the README (`readme.rs`). The HCL vocabulary the files share is in `vocab.rs`.
//!
//! Three rules hold everywhere, because they are where hand-written azurerm goes wrong:
//! IoT Hub routing lives only in the separate `azurerm_iothub_*` resources (mixing them with
//! inline blocks gives perpetual diffs); services reach each other with managed identities
//! and role assignments, not keys; and nothing secret is written into a `.tf` file.

mod alerts;
mod analytics;
mod bill;
mod bootstrap;
pub mod capacity;
mod catalog;
pub mod cost;
mod dataflow;
mod device;
mod dps;
mod eventhubs;
mod functions;
mod hub;
pub mod import;
mod intent;
pub mod lifecycle;
mod limits;
mod monitoring;
mod ota;
mod outputs;
mod parity;
mod readme;
pub mod regions;
mod routing;
pub(crate) mod saql;
mod state;
mod storage;
mod story;
mod vars;
mod vocab;
pub mod words;

use hcl::Expression;

use crate::blueprint;
use crate::clouds::{Backend, Cloud, CloudPlanner};
use crate::design;
use crate::model::Stacks;
use crate::model::{
    Alert, Archive, Azure, AzureAlertEngine, Destination, EventHubsTier, HubSite, HubSku, Model,
    Route, Service, ServicePermission,
};
use crate::plan::tf::{self, Part, TfFile, lit, obj, r};
use crate::plan::{Module, PlanError};

/// Storage replication as Azure spells it.
pub fn replication_words(r: crate::model::Replication) -> &'static str {
    storage::replication(r)
}

/// Version constraint on hashicorp/azurerm. The module uses arguments that arrived during
/// 4.x (identity-based Event Hubs Capture, `rbac_authorization_enabled` on key vaults), so
/// it asks for the release its output was checked against, and stays below 5.0.
pub use bootstrap::plan_bootstrap;
pub(crate) use vocab::{
    Hcl, addr, bin, bounded, depends_on, eventhubs_fqdn, eventhubs_uri, global, named, paren,
    role_assignment, system_identity, tf_label,
};

pub const AZURERM_PROVIDER_VERSION: &str = "~> 4.79";

/// Azure, as [`crate::clouds::CLOUDS`] lists it.
pub struct AzurePlanner;

impl CloudPlanner for AzurePlanner {
    fn cloud(&self) -> Cloud {
        Cloud::Azure
    }

    fn device_side(&self) -> &'static dyn crate::clouds::DeviceSide {
        &device::AzureDevices
    }

    fn targets(&self, model: &Model) -> bool {
        model.azure.is_some()
    }

    fn resource_prefix(&self) -> &'static str {
        "azurerm_"
    }

    fn replacement_rules(&self, ty: &str) -> Option<&'static crate::plan::forcenew::Rules> {
        lifecycle::replacement_rules().resources.get(ty)
    }

    fn holds(&self, ty: &str) -> Option<crate::plan::lifecycle::Holds> {
        lifecycle::holds(ty)
    }

    fn region(&self, model: &Model) -> String {
        model
            .azure
            .as_ref()
            .map(|a| a.location.clone())
            .unwrap_or_default()
    }

    fn state_region(&self, stacks: &Stacks) -> Option<String> {
        stacks.azure.as_ref().map(|s| s.location.clone())
    }

    fn backend(&self, stacks: &Stacks, key: String) -> Option<Backend> {
        let s = stacks.azure.as_ref()?;
        Some(Backend {
            kind: "azurerm".to_owned(),
            settings: vec![
                ("resource_group_name".to_owned(), s.resource_group.clone()),
                ("storage_account_name".to_owned(), s.storage_account.clone()),
                ("container_name".to_owned(), s.container.clone()),
                ("key".to_owned(), key),
                ("use_azuread_auth".to_owned(), "true".to_owned()),
            ],
        })
    }

    fn plan_bootstrap(&self, model: &Model, stacks: &Stacks) -> Result<Module, PlanError> {
        let state = stacks
            .azure
            .as_ref()
            .ok_or(PlanError::NoStateStorage { cloud: "Azure" })?;
        plan_bootstrap(model, state)
    }

    fn archive_writers(&self, model: &Model) -> Vec<(&'static str, &'static str)> {
        model
            .azure
            .as_ref()
            .map(|az| storage::archive_writers(&Design::new(model, az)))
            .unwrap_or_default()
    }

    fn check(&self, model: &Model) -> crate::diagnostics::Diagnostics {
        let mut out = regions::check(model);
        out.extend(limits::check(model));
        out
    }

    fn bulk_commands(&self, model: &Model, module: &str) -> Option<String> {
        import::commands(model, module)
    }

    fn bulk_why_not(&self, model: &Model) -> Option<String> {
        import::why_not(model)
    }

    fn design(&self, model: &Model) -> Option<design::Design> {
        let az = model.azure.as_ref()?;
        Some(Design::new(model, az).design())
    }

    fn plan(&self, model: &Model) -> Result<Module, PlanError> {
        let mut module = Module::new(Cloud::Azure);
        let Some(az) = &model.azure else {
            return Ok(module);
        };
        let d = Design::new(model, az);
        let design = d.design();
        let variables = vars::variables(&d);
        // What the shipped tests assert, recorded by each file as it emits the resource.
        let mut t = intent::collector(&variables);
        module.hcl("versions.tf", versions());
        module.hcl("providers.tf", providers());
        module.hcl("variables.tf", vars::file(&variables));
        module.hcl("main.tf", main(&d));
        module.hcl("iothub.tf", hub::file(&d, &mut t));
        module.hcl("routing.tf", routing::file(&d, &mut t));
        if d.az.dps.is_some() {
            module.hcl("dps.tf", dps::file(&d, &mut t));
        }
        module.hcl("eventhubs.tf", eventhubs::file(&d, &mut t));
        if d.archive.is_some() {
            module.hcl("storage.tf", storage::file(&d, &mut t));
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
            module.hcl("state.tf", state::file(&d, &mut t));
        }
        if d.ota {
            module.hcl("ota.tf", ota::file(&d, &mut t));
        }
        if d.m.features.analytics {
            module.hcl("analytics.tf", analytics::file(&d));
            module.text("analytics/schema.kql", analytics::schema());
        }
        module.hcl("monitoring.tf", monitoring::file(&d, &mut t));
        limits::name_intent(&d, &mut t);
        import::artifacts(&d, &mut module)?;
        let mut outputs = outputs::outputs(&d);
        outputs.extend(import::outputs(&d));
        module.hcl("outputs.tf", outputs::file(&outputs));
        if let Some(script) = dps::enrollment_script(&d)? {
            module.text("scripts/create-enrollment-groups.sh", script);
        }
        if let Some((script, devices)) = dps::tpm_enrollment_script(&d)? {
            module.text("scripts/create-tpm-enrollments.sh", script);
            module.text("scripts/tpm-devices.txt", devices);
        }
        intent::write_tests(&mut module, &t, &az.resource_group, &az.location);
        module.parity.clone_from(&design.parity);
        let readme = readme::readme_context(&d, &design, &module, &variables, &outputs);
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
    /// The hubs need the fleet CA: devices authenticate with CA-signed X.509 certificates and
    /// register with the hub directly (no DPS), and IoT Hub accepts a CA-signed device only
    /// when the CA is uploaded and verified on the hub (`azurerm_iothub_certificate`).
    pub hub_ca: bool,
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
            hub_ca: az.dps.is_none() && m.identity.method == crate::model::AuthMethod::X509,
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

    /// The views of these decisions.
    pub fn design(&self) -> design::Design {
        design::Design {
            cloud: Cloud::Azure,
            dataflow: dataflow::dataflow(self),
            parity: parity::rows(self),
            story: story::story(self),
            bill: bill::bill(self),
        }
    }

    /// Whether the fleet CA certificate is uploaded anywhere (the DPS or the hubs), so the
    /// module reads it from `var.ca_certificate_file`.
    pub fn ca_upload(&self) -> bool {
        self.dps_ca || self.hub_ca
    }

    /// Whether the DPS has enrollments the enrollment scripts write: groups, or TPM devices,
    /// which DPS enrolls one by one (TPM attestation has no enrollment groups).
    pub fn enrollments(&self) -> bool {
        self.az
            .dps
            .as_ref()
            .is_some_and(|dps| !dps.enrollment_groups.is_empty() || self.tpm_enrollments())
    }

    /// Whether the registry's devices get individual TPM enrollments.
    pub fn tpm_enrollments(&self) -> bool {
        self.az.dps.is_some() && self.m.identity.method == crate::model::AuthMethod::Tpm
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
    /// What a hub route to this endpoint adds to the spec route's name when the spec route
    /// has several endpoints (`telemetry.stream`). Spec route and alert names have no `.`,
    /// so these names never meet theirs.
    pub fn route_suffix(self) -> &'static str {
        self.name()
    }

    /// The endpoint's name on the hub.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Stream => "stream",
            Endpoint::Archive => "archive",
            Endpoint::State => "state",
        }
    }

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
                    .block(
                        tf::block("storage")
                            .note("The archive's firewall denies by default, and the runner is outside it: the")
                            .note("storage account resource then skips its data-plane reads (queue properties,")
                            .note("static website), and containers are created through Resource Manager.")
                            .attr("data_plane_available", tf::boolean(false))
                            .build(),
                    )
                    .build(),
            )
            .build(),
    );
    f
}

/// The suffix of derived global names: the first hex digits of
/// `sha256("<subscription>/<stack prefix>")`. No spec text goes into the expression itself
/// (in `--format tf-json` it would sit inside an interpolation).
pub(crate) fn name_suffix(prefix: Part) -> Expression {
    tf::call(
        "substr",
        [
            tf::call(
                "sha256",
                [tf::interp([
                    Part::Ref(r("var.subscription_id")),
                    Part::Lit("/"),
                    prefix,
                ])],
            ),
            tf::num(0),
            tf::num(crate::model::names::AZURE_SUFFIX_LEN as u64),
        ],
    )
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
                ("name", global(&h.name)),
                ("location", lit(&h.location)),
                ("allocation_weight", tf::num(h.allocation_weight)),
                ("sku", lit(format!("{:?}", h.sku))),
                ("units", tf::num(h.units)),
                (
                    "daily_quota_alarm",
                    tf::num(monitoring::daily_quota_alarm(h)),
                ),
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
            .note("Globally unique names end in this: the same in every plan of one subscription,")
            .note("different in another, so two deployments of one spec never take each other's names.")
            .attr("name_suffix", name_suffix(Part::Ref(r("local.name_prefix"))))
            .attr("location", r("var.location"))
            .attr("resource_group_name", r(rg_name))
            .attr("resource_group_id", r(rg_id))
            .attr(
                "tags",
                tf::call("merge", [r("local.spec_tags"), r("var.extra_tags")]),
            )
            .attr("spec_tags", tags)
            .note("One IoT hub per linked location, keyed by location; the first is the primary. Each is")
            .note("sized for the devices the DPS allocation sends it (see iothub.tf).")
            .attr("iot_hubs", hubs)
            .attr("primary_hub", lit(&d.hubs[0].location))
            .build(),
    );
    // Who runs Terraform: granted the data-plane roles the module's own steps need.
    let enrollments = d.enrollments();
    let cmk = d
        .archive
        .is_some_and(|a| a.encryption == crate::model::Encryption::CustomerManaged);
    if enrollments || cmk || d.functions() || d.ota {
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
