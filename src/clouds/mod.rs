//! The clouds fleetform targets, one folder each, behind one interface.
//!
//! Everything fleetform knows about a cloud lives in its folder: how the model becomes that
//! cloud's Terraform, and the words, limits and prices that describe what it builds. Each
//! cloud implements [`CloudPlanner`] and is listed once in [`CLOUDS`]; code outside these
//! folders iterates that list or picks a planner by its [`Cloud`] id, and never describes a
//! cloud itself. What the device-side tools (the simulator, the certificate kit) ask of a
//! cloud is its [`DeviceSide`], reached through its planner. Adding a cloud is a folder beside `aws/` and `azure/` plus one line in
//! [`CLOUDS`] (see `docs/adding-a-cloud.md`).

pub mod aws;
pub mod azure;

use std::future::Future;
use std::path::Path;
use std::pin::Pin;

use crate::design::Design;
use crate::diagnostics::Diagnostics;
use crate::model::registry::DeviceRange;
use crate::model::{Model, Stacks};
use crate::plan::forcenew::Rules;
use crate::plan::lifecycle::Holds;
use crate::plan::{Module, PlanError};
use crate::simulate::net::{Failure, Log};
use crate::simulate::{self, Device, Flags, Flow, Identity, Outputs};

/// Every cloud fleetform plans for, in output order (AWS, then Azure). The one registration
/// list: a cloud not listed here is never planned, explained, drawn or priced.
pub static CLOUDS: &[&dyn CloudPlanner] = &[&aws::AwsPlanner, &azure::AzurePlanner];

/// A cloud's id: what the CLI, the JSON outputs and the folder names call it.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Cloud {
    Aws,
    Azure,
}

impl Cloud {
    /// Folder name of the cloud's module in the output (`aws`), also its id in JSON.
    pub const fn dir(self) -> &'static str {
        match self {
            Cloud::Aws => "aws",
            Cloud::Azure => "azure",
        }
    }

    /// Display name (`AWS`).
    pub const fn title(self) -> &'static str {
        match self {
            Cloud::Aws => "AWS",
            Cloud::Azure => "Azure",
        }
    }

    /// The planner of this cloud.
    pub fn planner(self) -> &'static dyn CloudPlanner {
        planner(self)
    }

    /// The device side of this cloud.
    pub fn device_side(self) -> &'static dyn DeviceSide {
        planner(self).device_side()
    }
}

impl std::fmt::Display for Cloud {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.title())
    }
}

/// The planner of `cloud`.
pub fn planner(cloud: Cloud) -> &'static dyn CloudPlanner {
    CLOUDS
        .iter()
        .copied()
        .find(|p| p.cloud() == cloud)
        .expect("every cloud is registered in CLOUDS")
}

/// The planners of the clouds `model` targets, in [`CLOUDS`] order.
pub fn targeted_planners(model: &Model) -> impl Iterator<Item = &'static dyn CloudPlanner> + '_ {
    CLOUDS.iter().copied().filter(|p| p.targets(model))
}

/// The designs of `model` on `clouds`, in that order; clouds it does not target are left out.
pub fn designs(model: &Model, clouds: &[Cloud]) -> Vec<Design> {
    clouds
        .iter()
        .filter_map(|c| c.planner().design(model))
        .collect()
}

/// The clouds `model` targets, in [`CLOUDS`] order.
pub fn targeted(model: &Model) -> Vec<Cloud> {
    targeted_planners(model).map(CloudPlanner::cloud).collect()
}

/// Remote state settings of a stack: the backend type (`s3`) and its configuration, in the
/// order `backend.tf` and `stacks.json` list them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Backend {
    pub kind: String,
    pub settings: Vec<(String, String)>,
}

/// One slice of a large device registry, planned as its own stack.
#[derive(Debug, Clone)]
pub struct Shard {
    /// 1-based shard number and the shard count.
    pub number: usize,
    pub count: usize,
    pub devices: DeviceRange,
}

/// What every cloud folder implements. Methods take the validated [`Model`]; each planner
/// makes its decisions from the model once, and every method reads the same decisions.
pub trait CloudPlanner: Sync {
    /// The cloud's id.
    fn cloud(&self) -> Cloud;

    /// Whether `model` targets this cloud.
    fn targets(&self, model: &Model) -> bool;

    /// How this cloud's devices connect and register, and how it checks a CA's proof of
    /// possession: what `fleetform simulate` and `fleetform certs` ask of it.
    fn device_side(&self) -> &'static dyn DeviceSide;

    /// The prefix of every resource type this cloud's Terraform provider defines (`aws_`).
    fn resource_prefix(&self) -> &'static str;

    /// What forces replacement of resource type `ty` (from the provider's source).
    fn replacement_rules(&self, ty: &str) -> Option<&'static Rules>;

    /// What resource type `ty` holds that a replacement or destroy loses, if anything.
    fn holds(&self, ty: &str) -> Option<Holds>;

    /// The region (or location) `model` deploys this cloud into; empty when not targeted.
    fn region(&self, model: &Model) -> String;

    /// The design of `model` on this cloud: every view of the planner's decisions. `None`
    /// when `model` does not target this cloud.
    fn design(&self, model: &Model) -> Option<Design>;

    /// The main Terraform root module of this cloud for `model`, rendered from the same
    /// decisions as [`CloudPlanner::design`] (its README shows the design's dataflow and
    /// parity rows).
    fn plan(&self, model: &Model) -> Result<Module, PlanError>;

    /// Limits of this cloud that `terraform validate` and a plan cannot see (the cloud
    /// rejects them at apply), checked on the validated model. The diagnostics carry spec
    /// paths; validation locates them.
    fn check(&self, model: &Model) -> Diagnostics {
        let _ = model;
        Diagnostics::new()
    }

    /// The region of the state storage `stacks` gives this cloud, when it gives one.
    fn state_region(&self, stacks: &Stacks) -> Option<String>;

    /// The backend a stack of this cloud keeps its state in, under `key`, in the storage
    /// `stacks` gives this cloud.
    fn backend(&self, stacks: &Stacks, key: String) -> Option<Backend>;

    /// The bootstrap module that creates the state storage `stacks` gives this cloud.
    fn plan_bootstrap(&self, model: &Model, stacks: &Stacks) -> Result<Module, PlanError>;

    /// What writes into the archive of `model` on this cloud: the fixed start of the object
    /// names each writer produces (relative to the archive's root, before any placeholder),
    /// with who writes there. `storage.archive.prefixes` filter the lifecycle by name, so
    /// validation refuses a prefix no writer's objects can start with.
    fn archive_writers(&self, model: &Model) -> Vec<(&'static str, &'static str)> {
        let _ = model;
        Vec::new()
    }

    /// Whether a large registry of `model` is split into shard stacks: true for clouds that
    /// create resources per device (and only while they do: a registry registered by the
    /// cloud's bulk job, or by devices on first connection, has no per-device resources).
    fn shards_registry(&self, model: &Model) -> bool {
        let _ = model;
        false
    }

    /// The commands that register `model`'s registry with this cloud's own bulk job, after
    /// `terraform apply` in the module folder `module` (what the generated script runs);
    /// `None` when this cloud registers nothing of it in bulk.
    fn bulk_commands(&self, model: &Model, module: &str) -> Option<String> {
        let _ = (model, module);
        None
    }

    /// Why this cloud registers none of `model`'s registry in bulk, as a phrase for `fleetform
    /// bulk` ("on AWS, ..."); `None` when it does, or has nothing to say.
    fn bulk_why_not(&self, model: &Model) -> Option<String> {
        let _ = model;
        None
    }

    /// The registry shard stack `shard`, reading the main stack's state from `main`.
    fn plan_registry_shard(
        &self,
        model: &Model,
        shard: &Shard,
        main: &Backend,
    ) -> Result<Module, PlanError> {
        let _ = (model, shard, main);
        Err(PlanError::NoRegistryShards {
            cloud: self.cloud().title(),
        })
    }
}

/// What the device-side tools ask of a cloud: how a simulated device reaches it and what it
/// sends (`fleetform simulate`, whose engine in [`crate::simulate`] stays cloud-neutral), and
/// the code the cloud asks a CA to sign to prove possession of its key (`fleetform certs
/// verify-<cloud>`). Each cloud implements it in its `device.rs`.
pub trait DeviceSide: Sync {
    /// How devices of `model` first reach this cloud: the [`Flow`] each runs (with the
    /// cloud's first-connection exchange, a [`Registration`], when it has one) and the
    /// endpoint they dial, from `flags`, else from the deployed root's `outputs`. `claim` is
    /// the claim certificate the CLI read (`--claim`), for an exchange that trades one.
    ///
    /// # Errors
    ///
    /// When `model` does not target this cloud, or a setting the flow needs is missing.
    fn contact(
        &self,
        model: &Model,
        outputs: &Outputs,
        flags: &Flags,
        claim: Option<Identity>,
    ) -> Result<Contact, simulate::PlanError>;

    /// Whether the first-connection exchange issues each device its certificate, so devices
    /// start without one and their ids come from the registry (AWS fleet provisioning).
    fn issues_certificates(&self, model: &Model) -> bool {
        let _ = model;
        false
    }

    /// The topic device `id` publishes telemetry to.
    fn telemetry_topic(&self, model: &Model, id: &str) -> String;

    /// The MQTT user name device (or registration) `id` connects to `host` with; `None`: none.
    fn username(&self, host: &str, id: &str) -> Option<String> {
        let _ = (host, id);
        None
    }

    /// The ALPN protocol a connection on `port` asks for; `None`: none.
    fn alpn(&self, port: u16) -> Option<&'static str> {
        let _ = port;
        None
    }

    /// What the cloud calls the code a CA's verification certificate carries, and where a
    /// person copies it from.
    fn ca_code(&self) -> CaCode;

    /// Why `code` is not in this cloud's format, beyond the rules every code keeps (letters,
    /// digits and `-`, at most the 64 characters of a common name); `None` when it is.
    fn ca_code_problem(&self, code: &str) -> Option<&'static str> {
        let _ = code;
        None
    }

    /// The command that hands the verification certificate (and, where the cloud registers
    /// it at the same time, the CA certificate) to the cloud, as a `next:` line.
    fn ca_next_step(&self, ca_certificate: &Path, verification_certificate: &Path) -> String;
}

/// Where a cloud's devices connect first and what they do there.
#[derive(Debug, Clone)]
pub struct Contact {
    pub flow: Flow,
    /// `HOST` or `HOST:PORT`, as a flag or an output gave it.
    pub endpoint: String,
}

/// The code a cloud asks a CA to sign into a verification certificate's common name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaCode {
    /// What the cloud calls it, as errors name it (`registration code`).
    pub name: &'static str,
    /// Where to copy it from, as the error's hint.
    pub hint: &'static str,
}

/// The future of a first-connection exchange: boxed so [`Registration`] is object safe, and
/// `Send` because every simulated device runs as its own task.
pub type Exchange<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// A cloud's first-connection exchange (AWS fleet provisioning over MQTT, Azure DPS
/// registration), holding what it needs (template, claim, ID scope). The simulator runs it
/// once per device, then connects for telemetry as the [`Registered`] answer says.
pub trait Registration: std::fmt::Debug + Send + Sync {
    /// Registers `device` with the cloud over connections of `plan` (see
    /// [`crate::simulate::net::Conn`]), logging each step a person would want to see.
    fn register<'a>(
        &'a self,
        plan: &'a simulate::Plan,
        device: &'a Device,
        log: &'a Log,
    ) -> Exchange<'a, Result<Registered, Failure>>;
}

/// What a registration assigned a device.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The id the cloud gave the device (thing name, device id): its client id from now on,
    /// and the sender its messages name.
    pub id: String,
    /// A certificate the exchange issued; `None`: the device keeps its own.
    pub identity: Option<Identity>,
    /// The host the device was assigned to (DPS: its IoT hub), on the plan's port; `None`:
    /// the plan's endpoint.
    pub hub: Option<String>,
    /// The telemetry topic of the assigned id, when it differs from the planned one.
    pub topic: Option<String>,
}

/// The provider's replacement rules for a resource type, from the cloud it belongs to.
pub fn rules(ty: &str) -> Option<&'static Rules> {
    provider_of(ty)?.replacement_rules(ty)
}

/// What a resource type holds that a replacement or destroy loses, if anything.
pub fn holds(ty: &str) -> Option<Holds> {
    provider_of(ty)?.holds(ty)
}

/// The name in `known` nearest to `name` (a misspelling: at most two edits, or a quarter of
/// its length), for a did-you-mean hint.
pub(crate) fn closest<'a>(name: &str, known: &[&'a str]) -> Option<&'a str> {
    let most = (name.chars().count() / 4).max(2);
    known
        .iter()
        .map(|k| (strsim::levenshtein(name, k), *k))
        .filter(|(d, _)| *d <= most)
        .min()
        .map(|(_, k)| k)
}

/// The cloud whose provider defines resource type `ty`.
fn provider_of(ty: &str) -> Option<&'static dyn CloudPlanner> {
    CLOUDS
        .iter()
        .copied()
        .find(|p| ty.starts_with(p.resource_prefix()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_cloud_is_registered_once_in_order() {
        let ids: Vec<Cloud> = CLOUDS.iter().map(|p| p.cloud()).collect();
        assert_eq!(ids, [Cloud::Aws, Cloud::Azure]);
        for id in ids {
            assert_eq!(planner(id).cloud(), id);
        }
    }

    #[test]
    fn every_cloud_names_its_ca_code_and_the_next_step() {
        for p in CLOUDS {
            let side = p.device_side();
            let code = side.ca_code();
            assert!(!code.name.is_empty() && !code.hint.is_empty());
            let next = side.ca_next_step(Path::new("ca.pem"), Path::new("v.pem"));
            assert!(
                next.starts_with("next: ") && next.contains("v.pem"),
                "{next}"
            );
        }
    }
}
