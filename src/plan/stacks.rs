//! Stacks: one estate, many small Terraform states.
//!
//! Large estates outgrow one state: plans get slow, a bad apply touches everything, and
//! teams cannot apply in parallel. With `stacks:` in the spec, the output becomes several
//! root modules, one per environment and cloud (each in its cloud's region), plus registry
//! shard stacks for very large AWS device registries. Every stack gets a remote state backend
//! (S3 with native lock files, or an Azure storage container), a bootstrap module creates
//! that state storage, and `stacks.json` lists every stack with its path, backend and
//! dependencies in an order pipelines can follow. Nothing here runs Terraform: Terraform and
//! the user's runner (Terraform Cloud, Atlantis, Spacelift, plain CI) apply the stacks.

use std::collections::BTreeMap;

use serde::Serialize;

use super::tf::{self, TfFile, lit};
use super::{Cloud, Module, PlanError};
use crate::clouds::{Backend, CLOUDS, CloudPlanner, Shard};
use crate::model::{Model, Stacks};

/// Terraform version that the backends need (`use_lockfile` arrived in 1.10).
const BACKEND_TERRAFORM_VERSION: &str = ">= 1.10.0";

/// A planned stack in the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StackEntry {
    /// Unique name: `prod-aws`, `prod-aws-registry-01`, `bootstrap-aws`.
    pub name: String,
    /// Folder relative to the output root.
    pub path: String,
    pub cloud: Cloud,
    /// `bootstrap`, `main` or `registry-shard`.
    pub kind: &'static str,
    pub environment: Option<String>,
    pub region: String,
    /// Backend settings (`type` plus its configuration); `local` for bootstrap modules.
    pub backend: BTreeMap<String, String>,
    /// Stacks that must be applied first.
    pub depends_on: Vec<String>,
}

/// The `stacks.json` document.
#[derive(Debug, Clone, Serialize)]
pub struct Manifest {
    pub format_version: u32,
    pub generator: &'static str,
    /// Every stack, in a valid apply order.
    pub stacks: Vec<StackEntry>,
    /// Waves of stacks that can be applied in parallel, in order.
    pub waves: Vec<Vec<String>>,
}

/// Everything a split build produces.
#[derive(Debug, Clone)]
pub struct Split {
    /// Modules by folder prefix (`bootstrap`, an environment, or empty).
    pub sets: Vec<(String, Vec<Module>)>,
    pub manifest: Manifest,
}

fn backend_key(env: &str, dir: &str) -> String {
    if env.is_empty() {
        format!("{dir}/terraform.tfstate")
    } else {
        format!("{env}/{dir}/terraform.tfstate")
    }
}

/// The state storage of every cloud, shared by all environments: each cloud's comes from
/// the first environment that targets it, with that environment's `stacks` settings, so a
/// cloud only an environment adds (the base spec targets AWS, `prod` adds Azure) still has
/// its storage, bootstrap module and backends.
struct SharedState<'a> {
    /// `(cloud, the environment's model, its stacks settings)`, in [`CLOUDS`] order.
    stores: Vec<(&'static dyn CloudPlanner, &'a Model, &'a Stacks)>,
}

impl<'a> SharedState<'a> {
    /// `base` are the base spec's settings, for an environment whose model has none.
    fn new(envs: &'a [(String, Model)], base: &'a Stacks) -> Self {
        let settings = |m: &'a Model| m.stacks.as_ref().unwrap_or(base);
        Self {
            stores: CLOUDS
                .iter()
                .filter_map(|p| {
                    envs.iter().find_map(|(_, m)| {
                        (p.targets(m) && p.state_region(settings(m)).is_some())
                            .then(|| (*p, m, settings(m)))
                    })
                })
                .collect(),
        }
    }
}

/// Backend configuration of a stack.
fn backend(
    state: &SharedState,
    module: &Module,
    env: &str,
    stack_name: &str,
) -> Result<Backend, PlanError> {
    let key = format!("{stack_name}/{}", backend_key(env, module.dir()));
    state
        .stores
        .iter()
        .find(|(p, _, _)| p.cloud() == module.cloud)
        .and_then(|(p, _, stacks)| p.backend(stacks, key))
        .ok_or(PlanError::NoStateStorage {
            cloud: module.cloud.title(),
        })
}

/// The backend as `stacks.json` lists it: its settings plus its `type`.
fn manifest_backend(backend: &Backend) -> BTreeMap<String, String> {
    let mut b: BTreeMap<String, String> = backend.settings.iter().cloned().collect();
    b.insert("type".to_owned(), backend.kind.clone());
    b
}

/// `backend.tf`: the remote state of a stack.
fn backend_file(backend: &Backend) -> TfFile {
    let mut block = tf::block("backend").add_label(backend.kind.as_str());
    for (k, v) in &backend.settings {
        let value = match v.as_str() {
            "true" => tf::boolean(true),
            "false" => tf::boolean(false),
            _ => lit(v),
        };
        block = block.add_attribute((k.as_str(), value));
    }
    let mut f = TfFile::new();
    f.comment("Remote state in the storage the bootstrap stack creates (see stacks.json).");
    f.push(
        tf::block("terraform")
            .add_attribute(("required_version", lit(BACKEND_TERRAFORM_VERSION)))
            .add_block(block.build())
            .build(),
    );
    f
}

/// Plans every environment (`(name, model)`, a single unnamed one without overlays) as
/// stacks. Each environment's model carries its own `stacks` settings (`stacks` are the base
/// spec's, for a model without); the state storage of each cloud is the one of the first
/// environment that targets it, and every stack of that cloud keeps its state there.
pub fn plan(envs: &[(String, Model)], stacks: &Stacks) -> Result<Split, PlanError> {
    let mut sets = Vec::new();
    let mut entries = Vec::new();
    let stack_name = envs
        .first()
        .map(|(_, m)| m.stack.name.clone())
        .unwrap_or_default();

    // Bootstrap: one state store per cloud, shared by every environment.
    let state = SharedState::new(envs, stacks);
    let mut bootstrap = Vec::new();
    for (planner, model, settings) in &state.stores {
        let cloud = planner.cloud();
        bootstrap.push(planner.plan_bootstrap(model, settings)?);
        entries.push(StackEntry {
            name: format!("bootstrap-{}", cloud.dir()),
            path: format!("bootstrap/{}", cloud.dir()),
            cloud,
            kind: "bootstrap",
            environment: None,
            region: planner.state_region(settings).unwrap_or_default(),
            backend: BTreeMap::from([("type".to_owned(), "local".to_owned())]),
            depends_on: Vec::new(),
        });
    }
    // The state of every environment lives there: protected if any environment is.
    if envs.iter().any(|(_, m)| m.stack.prevent_destroy) {
        bootstrap.iter_mut().for_each(super::lifecycle::protect);
    }
    if !bootstrap.is_empty() {
        sets.push(("bootstrap".to_owned(), bootstrap));
    }

    for (env, model) in envs {
        let mut main_model = model.clone();
        main_model.module_depth = if env.is_empty() { 1 } else { 2 };
        let registry = std::mem::take(&mut main_model.fleet.registry);
        let shard_size = model
            .stacks
            .as_ref()
            .unwrap_or(stacks)
            .registry_shard_size
            .max(1);
        // Clouds that create resources per device split a large registry into shard
        // stacks: their main stack leaves the registry to the shards. The others keep it.
        let too_large = registry.len() > shard_size;
        let sharded = |p: &dyn CloudPlanner| too_large && p.shards_registry(model);
        let mut modules = Vec::new();
        for planner in crate::clouds::targeted_planners(&main_model) {
            let mut cloud_model = main_model.clone();
            if sharded(planner) {
                cloud_model.registry_shards = registry.len().div_ceil(shard_size);
            } else {
                cloud_model.fleet.registry.clone_from(&registry);
            }
            modules.push(planner.plan(&cloud_model)?);
        }
        let named = |dir: &str| {
            if env.is_empty() {
                dir.to_owned()
            } else {
                format!("{env}-{dir}")
            }
        };
        let path = |dir: &str| {
            if env.is_empty() {
                dir.to_owned()
            } else {
                format!("{env}/{dir}")
            }
        };
        let mut shards = Vec::new();
        for module in &mut modules {
            let planner = module.cloud.planner();
            let main_backend = backend(&state, module, env, &stack_name)?;
            module.hcl("backend.tf", backend_file(&main_backend));
            entries.push(StackEntry {
                name: named(module.dir()),
                path: path(module.dir()),
                cloud: module.cloud,
                kind: "main",
                environment: (!env.is_empty()).then(|| env.clone()),
                region: planner.region(model),
                backend: manifest_backend(&main_backend),
                depends_on: vec![format!("bootstrap-{}", module.cloud.dir())],
            });
            if sharded(planner) {
                let count = registry.len().div_ceil(shard_size);
                let chunks = crate::model::registry::DeviceRange::chunks(&registry, shard_size);
                for (i, chunk) in chunks.into_iter().enumerate() {
                    let shard = Shard {
                        number: i + 1,
                        count,
                        devices: chunk,
                    };
                    let mut shard_model = main_model.clone();
                    shard_model.registry_shards = count;
                    shard_model.fleet.registry = std::sync::Arc::default();
                    let mut sm =
                        planner.plan_registry_shard(&shard_model, &shard, &main_backend)?;
                    if shard_model.stack.prevent_destroy {
                        super::lifecycle::protect(&mut sm);
                    }
                    let shard_backend = backend(&state, &sm, env, &stack_name)?;
                    sm.hcl("backend.tf", backend_file(&shard_backend));
                    entries.push(StackEntry {
                        name: named(sm.dir()),
                        path: path(sm.dir()),
                        cloud: sm.cloud,
                        kind: "registry-shard",
                        environment: (!env.is_empty()).then(|| env.clone()),
                        region: planner.region(model),
                        backend: manifest_backend(&shard_backend),
                        depends_on: vec![named(module.dir())],
                    });
                    shards.push(sm);
                }
            }
        }
        modules.extend(shards);
        sets.push((env.clone(), modules));
    }
    let waves = waves(&entries);
    Ok(Split {
        sets,
        manifest: Manifest {
            format_version: 1,
            generator: "fleetform",
            stacks: entries,
            waves,
        },
    })
}

/// Groups stacks into waves: each wave depends only on earlier ones.
fn waves(entries: &[StackEntry]) -> Vec<Vec<String>> {
    let mut done: Vec<String> = Vec::new();
    let mut out = Vec::new();
    let mut left: Vec<&StackEntry> = entries.iter().collect();
    while !left.is_empty() {
        let (ready, rest): (Vec<&StackEntry>, Vec<&StackEntry>) = left
            .into_iter()
            .partition(|e| e.depends_on.iter().all(|d| done.contains(d)));
        if ready.is_empty() {
            // Unreachable with the dependencies built above; keep what is left as one wave
            // rather than loop.
            out.push(rest.iter().map(|e| e.name.clone()).collect());
            break;
        }
        let names: Vec<String> = ready.iter().map(|e| e.name.clone()).collect();
        done.extend(names.iter().cloned());
        out.push(names);
        left = rest;
    }
    out
}

/// The manifest as the committed `stacks.json`.
pub fn manifest_json(m: &Manifest) -> String {
    let mut s = serde_json::to_string_pretty(m).unwrap_or_default();
    s.push('\n');
    s
}
