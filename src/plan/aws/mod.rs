//! The AWS planner: the model becomes a Terraform root module for hashicorp/aws 5.x.
//!
//! One file per concern, as a DevOps engineer would lay it out: `versions.tf`,
//! `providers.tf`, `variables.tf`, `main.tf` (locals and account data), then the IoT,
//! provisioning, pipeline, storage and alert files, and `outputs.tf`. Only the hashicorp/aws
//! provider is used, so the output applies wherever Terraform and AWS credentials exist.

use crate::blueprint;
use crate::model::Model;
use crate::plan::tf::{self, Part, TfFile, lit, obj, r};
use crate::plan::{Cloud, Module, PlanError, Planner};

/// Version constraint on hashicorp/aws; 5.100.0 qualifies.
pub const AWS_PROVIDER_VERSION: &str = "~> 5.100";

/// Plans AWS.
pub struct AwsPlanner;

impl Planner for AwsPlanner {
    fn cloud(&self) -> Cloud {
        Cloud::Aws
    }

    fn plan(&self, model: &Model) -> Result<Module, PlanError> {
        let mut module = Module::new(Cloud::Aws);
        let Some(aws) = &model.aws else {
            return Ok(module);
        };
        module.hcl("versions.tf", versions());
        module.hcl("providers.tf", providers());
        module.hcl("variables.tf", variables(&aws.region));
        module.hcl("main.tf", main(model));
        module.hcl("outputs.tf", outputs());
        module.text(
            "README.md",
            blueprint::render(
                "aws/README.md.j2",
                serde_json::json!({
                    "stack": model.stack.prefix,
                    "region": aws.region,
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
                        "aws",
                        obj([
                            ("source", lit("hashicorp/aws")),
                            ("version", lit(AWS_PROVIDER_VERSION)),
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
            .add_label("aws")
            .add_attribute(("region", r("var.region")))
            .add_block(
                tf::block("default_tags")
                    .add_attribute(("tags", r("local.tags")))
                    .build(),
            )
            .build(),
    );
    f
}

fn variables(region: &str) -> TfFile {
    let mut f = TfFile::new();
    f.push(
        tf::variable("region")
            .add_attribute(("description", lit("AWS region to deploy the fleet into.")))
            .add_attribute(("type", tf::type_expr("string")))
            .add_attribute(("default", lit(region)))
            .add_block(tf::validation(
                tf::call(
                    "can",
                    [tf::call(
                        "regex",
                        [
                            lit("^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"),
                            r("var.region"),
                        ],
                    )],
                ),
                "The region must look like us-east-1.",
            ))
            .build(),
    );
    f.push(
        tf::variable("extra_tags")
            .add_attribute((
                "description",
                lit("Tags added to every resource, on top of the ones from the fleet spec."),
            ))
            .add_attribute(("type", tf::type_expr("map(string)")))
            .add_attribute(("default", obj::<&str>([])))
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
            .add_attribute(("tags", tf::call("merge", [tags, r("var.extra_tags")])))
            .add_attribute((
                "account_id",
                r("data.aws_caller_identity.current.account_id"),
            ))
            .add_attribute(("partition", r("data.aws_partition.current.partition")))
            .add_attribute((
                "arn_prefix",
                tf::interp([
                    Part::Lit("arn:"),
                    Part::Ref(r("local.partition")),
                    Part::Lit(":"),
                ]),
            ))
            .build(),
    );
    f.push(tf::data("aws_caller_identity", "current").build());
    f.push(tf::data("aws_partition", "current").build());
    f
}

fn outputs() -> TfFile {
    let mut f = TfFile::new();
    f.push(tf::output(
        "region",
        "Region the fleet is deployed in.",
        r("var.region"),
    ));
    f
}
