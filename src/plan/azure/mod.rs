//! The Azure planner: the model becomes a Terraform root module for hashicorp/azurerm 4.x.
//!
//! Same conventions as the AWS planner: `versions.tf`, `providers.tf` (with `features {}`
//! and the subscription as an input), `variables.tf`, `main.tf`, one file per concern,
//! `outputs.tf` and a stack README.

use crate::blueprint;
use crate::model::Model;
use crate::plan::tf::{self, TfFile, lit, obj, r};
use crate::plan::{Cloud, Module, PlanError, Planner};

/// Version constraint on hashicorp/azurerm.
pub const AZURERM_PROVIDER_VERSION: &str = "~> 4.0";

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
        module.hcl("versions.tf", versions());
        module.hcl("providers.tf", providers());
        module.hcl("variables.tf", variables(&az.location));
        module.hcl("main.tf", main(model));
        module.text(
            "README.md",
            blueprint::render(
                "azure/README.md.j2",
                serde_json::json!({
                    "stack": model.stack.prefix,
                    "location": az.location,
                }),
            )?,
        );
        Ok(module)
    }
}

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
            .add_attribute(("subscription_id", r("var.subscription_id")))
            .add_block(tf::block("features").build())
            .build(),
    );
    f
}

fn variables(location: &str) -> TfFile {
    let mut f = TfFile::new();
    f.push(
        tf::variable("subscription_id")
            .add_attribute((
                "description",
                lit("Azure subscription to deploy the fleet into."),
            ))
            .add_attribute(("type", tf::type_expr("string")))
            .add_block(tf::validation(
                tf::call(
                    "can",
                    [tf::call(
                        "regex",
                        [lit("^[0-9a-fA-F-]{36}$"), r("var.subscription_id")],
                    )],
                ),
                "The subscription id is a GUID.",
            ))
            .build(),
    );
    f.push(
        tf::variable("location")
            .add_attribute((
                "description",
                lit("Azure region of the resource group and the primary IoT hub."),
            ))
            .add_attribute(("type", tf::type_expr("string")))
            .add_attribute(("default", lit(location)))
            .build(),
    );
    f
}

fn main(model: &Model) -> TfFile {
    let mut f = TfFile::new();
    let tags = obj(model.stack.tags.iter().map(|(k, v)| (k.as_str(), lit(v))));
    f.push(
        tf::block("locals")
            .add_attribute(("name_prefix", lit(&model.stack.prefix)))
            .add_attribute(("tags", tags))
            .build(),
    );
    f
}
