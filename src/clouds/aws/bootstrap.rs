//! The AWS bootstrap stack: the S3 bucket every other stack keeps its Terraform state in.
//!
//! Remote state needs somewhere to live before any stack can use it, so this one small root
//! module keeps its own state locally (commit it, or move it into the bucket after the first
//! apply with `terraform init -migrate-state`). The bucket gets the same hardening as the
//! fleet's buckets (KMS, versioning for state history, public access blocked, TLS only,
//! access logs); locking uses S3's native lock files (`use_lockfile`), so no DynamoDB table.

use super::hcl::BlockExt;
use super::storage::{Bucket, access_log_bucket, bucket};
use super::{Ctx, core, kms};
use crate::blueprint;
use crate::model::{AwsState, Model};
use crate::plan::tf::{self, lit, r};
use crate::plan::{Module, PlanError};

/// Days Terraform keeps previous versions of a state file.
const STATE_HISTORY_DAYS: u32 = 90;

/// Plans the bootstrap module that creates `state`.
pub fn plan_bootstrap(model: &Model, state: &AwsState) -> Result<Module, PlanError> {
    let Some(aws) = &model.aws else {
        return Ok(Module::new(crate::clouds::Cloud::Aws));
    };
    // State storage is shared by every environment, so its names carry no environment.
    let mut m = model.clone();
    m.stack.prefix = format!("{}-tfstate", m.stack.name);
    m.stack
        .tags
        .insert("environment".to_owned(), "shared".to_owned());
    let mut aws = aws.clone();
    aws.region.clone_from(&state.region);
    let mut cx = Ctx::new(&m, &aws);
    core(&mut cx, false);
    kms(&mut cx);
    access_log_bucket(&mut cx);
    bucket(
        &mut cx,
        Bucket {
            label: "state",
            name: lit(&state.bucket),
            file: "state.tf",
            purpose: "The Terraform state bucket of every stack of the fleet.",
            cmk: Ok(()),
            versioning: Ok(()),
            access_logs: true,
            lifecycle: vec![
                tf::block("rule")
                    .attr("id", lit("expire-old-state-versions"))
                    .attr("status", lit("Enabled"))
                    .child(super::hcl::all_objects())
                    .child(
                        tf::block("noncurrent_version_expiration")
                            .attr("noncurrent_days", tf::num(STATE_HISTORY_DAYS))
                            .build(),
                    )
                    .build(),
            ],
            policy: Vec::new(),
            lifecycle_note: Some(
                "Previous state versions are kept 90 days, to roll back a bad apply.",
            ),
        },
    );
    cx.intent.assert(
        "stacks.state.aws",
        format!(
            "the state bucket `{}` keeping previous state versions {STATE_HISTORY_DAYS} days",
            state.bucket
        ),
        crate::plan::intent::all([
            crate::plan::intent::eq(r("aws_s3_bucket.state.bucket"), lit(&state.bucket)),
            crate::plan::intent::eq(
                ::hcl::Traversal::builder(crate::plan::intent::the_one(
                    "rule",
                    r("aws_s3_bucket_lifecycle_configuration.state.rule"),
                    crate::plan::intent::eq(r("rule.id"), lit("expire-old-state-versions")),
                ))
                .attr("noncurrent_version_expiration")
                .index(tf::num(0))
                .attr("noncurrent_days")
                .build()
                .into(),
                tf::num(STATE_HISTORY_DAYS),
            ),
        ]),
    );
    cx.out(
        "state_bucket",
        "Bucket every stack's S3 backend uses.",
        r("aws_s3_bucket.state.bucket"),
    );
    cx.out(
        "state_region",
        "Region of the state bucket.",
        r("var.region"),
    );
    cx.out(
        "state_kms_key_arn",
        "KMS key that encrypts the state.",
        r("aws_kms_key.fleet.arn"),
    );
    cx.write_tests();
    let readme = blueprint::render(
        "aws/README-bootstrap.md.j2",
        serde_json::json!({
            "stack": model.stack.name,
            "bucket": state.bucket,
            "region": state.region,
        }),
    )?;
    cx.module.text("README.md", readme);
    let mut module = cx.module;
    module.hcl("variables.tf", cx.vars);
    for (name, file) in cx.files {
        module.hcl(name, file);
    }
    module.hcl("outputs.tf", cx.outs);
    Ok(module)
}
