//! Over-the-air updates: the firmware bucket, code signing, and the role IoT jobs use.
//!
//! The AWS provider has no resource for IoT jobs or job templates (open request
//! hashicorp/terraform-provider-aws#38095), and a job is an event rather than
//! infrastructure anyway. So Terraform creates what jobs need (a hardened firmware bucket,
//! an AWS Signer profile, a role that lets AWS IoT presign firmware URLs) and fleetform
//! writes the job document and `scripts/create-ota-job.sh`, which uploads, signs and starts
//! a job with the AWS CLI from `terraform output`.
//!
//! A job targets thing groups, so with OTA on every device joins one fleet-wide group, the
//! script's default target: the provisioning templates, the JITR activator and the registry
//! put each thing in it ([`fleet_group`]). With code signing, the job document carries the
//! signature AWS Signer made over the image, beside its size and SHA-256.

use super::Ctx;
use super::hcl::{BlockExt, under};
use super::iam::{Role, Stmt};
use super::storage::{self, Bucket};
use crate::blueprint;
use crate::plan::PlanError;
use crate::plan::tf::{self, lit, r};

const FILE: &str = "ota.tf";

/// Spec name of the fleet-wide thing group (refused as a spec group name while OTA is on).
pub(super) const FLEET_GROUP: &str = "fleet";

/// AWS IoT name of the thing group every device joins, when OTA needs one.
pub(super) fn fleet_group(cx: &Ctx) -> Option<String> {
    cx.flags.ota.then(|| cx.thing_group_name(FLEET_GROUP))
}

/// A spec group that would take the fleet group's name, as a located error.
pub(super) fn check(model: &crate::model::Model) -> crate::diagnostics::Diagnostics {
    use crate::diagnostics::{Diagnostic, Diagnostics};
    let mut out = Diagnostics::new();
    if model.aws.is_none() || !model.features.ota {
        return out;
    }
    for (i, g) in model.fleet.groups.iter().enumerate() {
        if g.name == FLEET_GROUP {
            out.push(
                Diagnostic::error(
                    "reserved-name",
                    format!("the group name `{FLEET_GROUP}` is taken on AWS: over-the-air updates put every device in a thing group of that name"),
                )
                .at(crate::spec::node::SpecPath::parse("fleet.groups").index(i).key("name"))
                .hint("rename the group"),
            );
        }
    }
    out
}
const PURPOSE: &str =
    "Over-the-air updates: firmware bucket, AWS Signer profile and the IoT jobs role.";

pub(super) fn plan(cx: &mut Ctx) -> Result<(), PlanError> {
    if !cx.flags.ota {
        return Ok(());
    }
    storage::bucket(
        cx,
        Bucket {
            label: "firmware",
            name: cx.bucket_name("firmware"),
            file: FILE,
            purpose: PURPOSE,
            cmk: Ok(()),
            versioning: Ok(()),
            access_logs: true,
            lifecycle: vec![
                tf::block("rule")
                    .attr("id", lit("expire-replaced-images"))
                    .attr("status", lit("Enabled"))
                    .child(super::hcl::all_objects())
                    .child(
                        tf::block("noncurrent_version_expiration")
                            .attr("noncurrent_days", tf::num(90))
                            .build(),
                    )
                    .build(),
            ],
            policy: Vec::new(),
            lifecycle_note: Some(
                "Firmware images stay until removed; replaced versions are kept 90 days.",
            ),
        },
    );
    cx.var(
        "code_signing_certificate_arn",
        "string",
        "ACM ARN of the code-signing certificate for firmware (import it with aws acm import-certificate). Leave unset to skip signing until you have one.",
        Some(tf::null()),
        vec![tf::validation(
            tf::call(
                "can",
                [tf::call(
                    "regex",
                    [
                        lit("^arn:aws[a-z-]*:acm:[a-z0-9-]+:[0-9]{12}:certificate/.+$"),
                        tf::call("coalesce", [r("var.code_signing_certificate_arn"), lit("arn:aws:acm:none:000000000000:certificate/unset")]),
                    ],
                )],
            ),
            "Give the ARN of an ACM certificate.",
            lit("arn:aws:iam::123456789012:role/not-a-certificate"),
        )],
    );
    let signer_name = format!("{}_firmware", cx.prefix_underscored());
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_signer_signing_profile", "firmware")
            .attr(
                "count",
                tf::cond(
                    hcl::Expression::from(hcl::expr::BinaryOp::new(
                        r("var.code_signing_certificate_arn"),
                        hcl::expr::BinaryOperator::Eq,
                        tf::null(),
                    )),
                    tf::num(0),
                    tf::num(1),
                ),
            )
            .attr("name", lit(&signer_name))
            .attr("platform_id", lit("AWSIoTDeviceManagement-SHA256-ECDSA"))
            .child(
                tf::block("signing_material")
                    .attr("certificate_arn", r("var.code_signing_certificate_arn"))
                    .build(),
            )
            .child(
                tf::block("signature_validity_period")
                    .attr("value", tf::num(5))
                    .attr("type", lit("YEARS"))
                    .build(),
            )
            .build(),
    );
    f.comment("AWS IoT assumes this role to presign firmware URLs in job documents (${aws:iot:s3-presigned-url-v2:...}).");
    Role {
        label: "ota_jobs",
        name: super::hcl::named("iot-jobs"),
        description: "Lets AWS IoT jobs presign firmware download URLs.",
        service: "iot.amazonaws.com",
        source_account: true,
        statements: vec![
            Stmt::allow(
                "ReadFirmware",
                &["s3:GetObject", "s3:GetObjectVersion"],
                vec![under("aws_s3_bucket.firmware.arn", "/*")],
            ),
            Stmt::allow(
                "DecryptFirmware",
                &["kms:Decrypt"],
                vec![r("aws_kms_key.fleet.arn")],
            ),
        ],
        max_session_seconds: None,
        managed: Vec::new(),
    }
    .write(f);
    let target = fleet_group(cx);
    let f = cx.tf(FILE, PURPOSE);
    f.comment("Every device joins this group (provisioning templates, JITR, registry): the default target of firmware jobs.");
    f.push(
        tf::resource("aws_iot_thing_group", "fleet")
            .attr("name", lit(target.clone().unwrap_or_default()))
            .child(
                tf::block("properties")
                    .attr(
                        "description",
                        lit("Every device of the fleet: the default target of firmware updates."),
                    )
                    .build(),
            )
            .build(),
    );
    cx.out(
        "fleet_thing_group_name",
        "Thing group every device joins: the default target of firmware jobs.",
        r("aws_iot_thing_group.fleet.name"),
    );
    let doc = blueprint::render("aws/jobs/ota-job-document.json.j2", serde_json::json!({}))?;
    cx.text(
        "jobs/ota-job-document.json",
        "IoT job document for a firmware update (placeholders filled in by the script).",
        doc,
    );
    let script = blueprint::render(
        "aws/scripts/create-ota-job.sh.j2",
        serde_json::json!({ "default_group": target }),
    )?;
    cx.text(
        "scripts/create-ota-job.sh",
        "Uploads, signs and rolls out a firmware image as an IoT job (AWS CLI).",
        script,
    );
    cx.fact(
        "ota",
        serde_json::json!({ "default_group": target, "signing_profile": signer_name }),
    );
    cx.out(
        "firmware_bucket_name",
        "S3 bucket of firmware images.",
        r("aws_s3_bucket.firmware.id"),
    );
    cx.out(
        "ota_jobs_role_arn",
        "Role AWS IoT jobs assume to presign firmware URLs (--presigned-url-config roleArn=...).",
        r("aws_iam_role.ota_jobs.arn"),
    );
    cx.out(
        "firmware_signing_profile_name",
        "AWS Signer profile for firmware (null until code_signing_certificate_arn is set).",
        tf::call(
            "one",
            [super::hcl::splat(
                "aws_signer_signing_profile.firmware",
                "name",
            )],
        ),
    );
    Ok(())
}
