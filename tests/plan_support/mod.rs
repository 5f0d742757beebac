//! What the tests that compare a plan with its design share: specs and examples as models,
//! and the resources of a planned module. Uses the test crate's `common` module.
#![allow(dead_code)]

use fleetform::model::Model;
use fleetform::plan::{FileContent, Module};
use hcl::Body;

use crate::common;

/// A resource block of a planned module.
pub struct Resource<'a> {
    pub ty: String,
    pub name: String,
    pub body: &'a Body,
}

/// Every resource block of `module`, file by file.
pub fn resources(module: &Module) -> Vec<Resource<'_>> {
    let mut out = Vec::new();
    for file in module.files.values() {
        let FileContent::Hcl(body) = file else {
            continue;
        };
        for block in body.blocks().filter(|b| b.identifier() == "resource") {
            let labels: Vec<&str> = block.labels().iter().map(hcl::BlockLabel::as_str).collect();
            out.push(Resource {
                ty: labels[0].to_owned(),
                name: labels[1].to_owned(),
                body: block.body(),
            });
        }
    }
    out
}

/// The model of the spec `yaml`; panics with the diagnostics when it is invalid.
pub fn model(name: &str, yaml: &str) -> Model {
    let outcome = fleetform::validate::validate(name, yaml, &common::Dir(common::root()));
    outcome
        .validated
        .unwrap_or_else(|| {
            panic!(
                "{name} is invalid:\n{}",
                fleetform::diagnostics::render_human(&outcome.diagnostics, &outcome.sources, false)
            )
        })
        .model
}

/// Every example's model, and each of its environments' (`example/environment`).
pub fn example_models() -> Vec<(String, Model)> {
    let mut out = Vec::new();
    for (name, path) in common::examples() {
        let text = std::fs::read_to_string(&path).unwrap();
        let outcome = fleetform::validate::validate(
            &name,
            &text,
            &common::Dir(path.parent().unwrap().to_path_buf()),
        );
        out.push((
            name.clone(),
            outcome.validated.expect("examples are valid").model,
        ));
        for (env, v) in outcome.environments {
            out.push((format!("{name}/{env}"), v.model));
        }
    }
    out
}
