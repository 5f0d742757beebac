//! Registry shard stacks: very large device registries split over several root modules.
//!
//! A registry of a million devices in one state makes every plan slow and every apply risky.
//! With stacks on, the main AWS stack keeps the fleet's shared resources (thing types and
//! groups, policies, the CA) and each shard stack registers a slice of the devices. Shards
//! read what they need from the main stack's outputs through `terraform_remote_state`, so
//! they apply after it and in parallel with each other.

use hcl::Expression;

use super::hcl::BlockExt;
use super::{Ctx, core, iot, provisioning};
use crate::blueprint;
use crate::clouds::Shard;
use crate::model::{AwsProvisioningMethod, Model};
use crate::plan::tf::{self, lit, r};
use crate::plan::{Module, PlanError};

/// How a shard reaches the main stack's state.
#[derive(Debug, Clone)]
pub struct RemoteState {
    /// Backend type (`s3`).
    pub backend: String,
    /// Backend configuration, in order (`bucket`, `key`, `region`).
    pub config: Vec<(String, String)>,
}

/// Plans the registry shard stack `shard` of `model`'s AWS fleet.
pub fn plan_registry_shard(
    model: &Model,
    shard: &Shard,
    main: &RemoteState,
) -> Result<Module, PlanError> {
    let Some(aws) = &model.aws else {
        return Ok(Module::new(crate::clouds::Cloud::Aws));
    };
    let mut cx = Ctx::new(model, aws);
    core(&mut cx, false);
    let config = tf::obj(main.config.iter().map(|(k, v)| (k.as_str(), lit(v))));
    cx.tf("main.tf", "Locals, account data, and the main stack's outputs.").push(
        tf::data("terraform_remote_state", "fleet")
            .note("The main AWS stack of this fleet: device policy, CA and thing groups come from its outputs.")
            .attr("backend", lit(&main.backend))
            .attr("config", config)
            .build(),
    );
    // The fleet group is the main stack's; its name is the same here (same prefix).
    let fleet_group = super::ota::fleet_group(&cx);
    iot::registry_resources(&mut cx, &shard.devices, Vec::new(), fleet_group.as_deref());
    if aws.provisioning.method == AwsProvisioningMethod::Manual {
        let outputs = |name: &str| r(&format!("data.terraform_remote_state.fleet.outputs.{name}"));
        let registered = Expression::from(hcl::expr::BinaryOp::new(
            outputs("ca_certificate_pem"),
            hcl::expr::BinaryOperator::NotEq,
            tf::null(),
        ));
        provisioning::manual_certificates(
            &mut cx,
            registered,
            outputs("ca_certificate_pem"),
            outputs("device_policy_name"),
        );
    }
    cx.out(
        "registered_devices",
        "Things this shard registers.",
        tf::call("length", [r("aws_iot_thing.registry")]),
    );
    // The main stack's outputs, as they are before its CA is registered.
    cx.intent.override_data(
        r("data.terraform_remote_state.fleet"),
        tf::obj([(
            "outputs",
            tf::obj([
                ("ca_certificate_pem", tf::null()),
                (
                    "device_policy_name",
                    lit(format!("{}-device", model.stack.prefix)),
                ),
            ]),
        )]),
    );
    let mut module = cx.finish_shard(shard)?;
    module.name = Some(shard_dir(shard.number));
    Ok(module)
}

/// Folder of shard `number` (1-based): `aws-registry-01`.
pub fn shard_dir(number: usize) -> String {
    format!("aws-registry-{number:02}")
}

impl Ctx<'_> {
    /// Like `finish`, with the shard's own README.
    fn finish_shard(mut self, shard: &Shard) -> Result<Module, PlanError> {
        self.write_tests();
        let readme = blueprint::render(
            "aws/README-shard.md.j2",
            serde_json::json!({
                "stack": self.m.stack.prefix,
                "region": self.aws.region,
                "number": shard.number,
                "count": shard.count,
                "devices": shard.devices.len(),
                "first": shard.devices.first().map(|d| d.id()),
                "last": shard.devices.last().map(|d| d.id()),
                "manual": self.aws.provisioning.method == AwsProvisioningMethod::Manual,
                "inputs": self.var_docs,
                "outputs": self.out_docs,
            }),
        )?;
        self.module.text("README.md", readme);
        let mut module = self.module;
        module.hcl("variables.tf", self.vars);
        for (name, file) in self.files {
            module.hcl(name, file);
        }
        module.hcl("outputs.tf", self.outs);
        Ok(module)
    }
}
