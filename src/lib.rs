//! fleetform compiles a declarative IoT fleet spec into Terraform for AWS and Azure.
//!
//! The crate is a pipeline of pure steps: load the YAML spec ([`spec`]), validate it
//! ([`validate`]), lower it to a cloud-neutral model ([`model`]), plan each targeted cloud
//! ([`plan`]), and emit files ([`emit`]). I/O happens only in [`cli`] and in the certificate
//! kit's reader and writer ([`certs::read`], [`certs::write`]) and the device simulator's
//! network code ([`simulate::net`]), and only [`diagnostics`]
//! decides how problems look.

pub mod blueprint;
pub mod capacity;
pub mod certs;
pub mod cli;
pub mod clouds;
pub mod cost;
pub mod design;
pub mod diagnostics;
pub mod diagram;
pub mod emit;
pub mod explain;
pub mod infradiff;
#[doc(hidden)]
pub mod invariants;
pub mod model;
pub mod plan;
pub mod safe_fs;
pub mod simulate;
pub mod spec;
pub mod validate;

/// What a build writes: module sets by folder prefix, and files at the top of the output.
#[derive(Debug, Clone, Default)]
pub struct Planned {
    /// Modules by folder prefix: an environment, `bootstrap`, or empty for `<out>/<cloud>`.
    pub sets: Vec<(String, Vec<plan::Module>)>,
    /// Top-level files (`stacks.json`).
    pub files: std::collections::BTreeMap<String, String>,
}

/// Plans every environment of a validated spec: one set of modules per environment overlay
/// (named after it), or a single unnamed set without overlays; split into stacks with
/// remote state when the spec asks for `stacks`.
pub fn plan_sets(outcome: &validate::Outcome) -> Result<Planned, plan::PlanError> {
    let Some(base) = &outcome.validated else {
        return Ok(Planned::default());
    };
    let envs: Vec<(String, model::Model)> = if outcome.environments.is_empty() {
        vec![(String::new(), base.model.clone())]
    } else {
        outcome
            .environments
            .iter()
            .map(|(n, v)| (n.clone(), v.model.clone()))
            .collect()
    };
    if let Some(stacks) = &base.model.stacks {
        let split = plan::stacks::plan(&envs, stacks)?;
        let mut files = std::collections::BTreeMap::new();
        files.insert(
            "stacks.json".to_owned(),
            plan::stacks::manifest_json(&split.manifest),
        );
        return Ok(Planned {
            sets: split.sets,
            files,
        });
    }
    let sets = envs
        .into_iter()
        .map(|(name, mut model)| {
            // Environment modules sit one folder deeper: `<out>/<environment>/<cloud>`.
            model.module_depth = if name.is_empty() { 1 } else { 2 };
            Ok((name, plan_modules(&model)?))
        })
        .collect::<Result<_, plan::PlanError>>()?;
    Ok(Planned {
        sets,
        files: std::collections::BTreeMap::new(),
    })
}

/// Plans every cloud the model targets.
pub fn plan_modules(model: &model::Model) -> Result<Vec<plan::Module>, plan::PlanError> {
    plan::plan_all(model)
}
