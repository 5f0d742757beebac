//! fleetform compiles a declarative IoT fleet spec into Terraform for AWS and Azure.
//!
//! The crate is a pipeline of pure steps: load the YAML spec ([`spec`]), validate it
//! ([`validate`]), lower it to a cloud-neutral model ([`model`]), plan each targeted cloud
//! ([`plan`]), and emit files ([`emit`]). Only the `cli` module does I/O, and only
//! [`diagnostics`] decides how problems look.

pub mod blueprint;
pub mod capacity;
pub mod certs;
pub mod cli;
pub mod cost;
pub mod diagnostics;
pub mod diagram;
pub mod emit;
pub mod explain;
pub mod infradiff;
pub mod model;
pub mod plan;
pub mod spec;
pub mod validate;

/// Plans every environment of a validated spec: one set of modules per environment overlay
/// (named after it), or a single unnamed set when the spec has no overlays.
pub fn plan_sets(
    outcome: &validate::Outcome,
) -> Result<Vec<(String, Vec<plan::Module>)>, plan::PlanError> {
    if outcome.environments.is_empty() {
        return match &outcome.validated {
            Some(v) => Ok(vec![(String::new(), plan_modules(&v.model)?)]),
            None => Ok(Vec::new()),
        };
    }
    outcome
        .environments
        .iter()
        .map(|(name, v)| Ok((name.clone(), plan_modules(&v.model)?)))
        .collect()
}

/// Plans every cloud the model targets.
pub fn plan_modules(model: &model::Model) -> Result<Vec<plan::Module>, plan::PlanError> {
    plan::plan_all(model, &[&plan::aws::AwsPlanner, &plan::azure::AzurePlanner])
}
