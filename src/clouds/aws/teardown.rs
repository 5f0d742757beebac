//! Teardown: what `terraform destroy` cannot undo by itself.
//!
//! With JITP, JITR, fleet provisioning and bulk registration, AWS IoT (or the JITR
//! activator) attaches the device policy to certificates Terraform never saw. AWS refuses to
//! delete an attached policy (`DeleteConflictException`), so destroy would stop at
//! `aws_iot_policy.device`. The planner writes `scripts/teardown-devices.sh`, which detaches
//! the policy from every target (and, asked to, deletes those certificates and their
//! things), and the README puts it before `terraform destroy`.

use super::Ctx;
use crate::blueprint;
use crate::model::AwsProvisioningMethod;
use crate::plan::PlanError;

/// Who attached the device policy outside Terraform, in the words of the script's header;
/// `None` when Terraform attaches every attachment itself.
fn attached_by(cx: &Ctx) -> Option<&'static str> {
    Some(match cx.aws.provisioning.method {
        AwsProvisioningMethod::Jitp => {
            "Just-in-time provisioning registers each device's certificate on its first connection."
        }
        AwsProvisioningMethod::Jitr => {
            "The JITR activator attaches the policy to each certificate the fleet CA registers."
        }
        AwsProvisioningMethod::FleetByClaim | AwsProvisioningMethod::TrustedUser => {
            "Fleet provisioning creates each device's certificate on its first connection."
        }
        AwsProvisioningMethod::Manual
            if cx.m.registry_shards == 0
                && super::bulk::registration(cx.m) == super::bulk::Registration::Bulk =>
        {
            "The bulk registration task registers the devices' certificates."
        }
        AwsProvisioningMethod::Manual => return None,
    })
}

pub(super) fn plan(cx: &mut Ctx) -> Result<(), PlanError> {
    let Some(how) = attached_by(cx) else {
        return Ok(());
    };
    let script = blueprint::render(
        "aws/scripts/teardown-devices.sh.j2",
        serde_json::json!({ "how": how }),
    )?;
    cx.text(
        "scripts/teardown-devices.sh",
        "Detaches the device policy from the certificates AWS IoT attached it to, before terraform destroy.",
        script,
    );
    cx.fact("teardown_script", "scripts/teardown-devices.sh");
    Ok(())
}
