//! AWS regions, and where AWS IoT Core is offered: a region the spec misspells fails only at
//! `terraform apply` (or plans against an endpoint that does not exist), so validation
//! checks it here, with the nearest real name.
//!
//! Both lists are botocore 1.43.11's `data/endpoints.json` (the AWS CLI's endpoint data): the
//! regions of the `aws`, `aws-cn` and `aws-us-gov` partitions, and the regions of the `iot`
//! service. `tests/regions.rs` compares them with the botocore the machine has, so a newer
//! one that opens a region shows here as a failing test, not as a refused spec.

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::Model;
use crate::spec::node::SpecPath;

/// Every region of the standard, China and GovCloud partitions.
pub const REGIONS: &[&str] = &[
    "af-south-1",
    "ap-east-1",
    "ap-east-2",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-northeast-3",
    "ap-south-1",
    "ap-south-2",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-3",
    "ap-southeast-4",
    "ap-southeast-5",
    "ap-southeast-6",
    "ap-southeast-7",
    "ca-central-1",
    "ca-west-1",
    "eu-central-1",
    "eu-central-2",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "mx-central-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
];

/// The regions where AWS IoT Core (the `iot` service) has an endpoint.
pub const IOT_CORE: &[&str] = &[
    "ap-east-1",
    "ap-northeast-1",
    "ap-northeast-2",
    "ap-south-1",
    "ap-southeast-1",
    "ap-southeast-2",
    "ap-southeast-5",
    "ca-central-1",
    "eu-central-1",
    "eu-north-1",
    "eu-south-1",
    "eu-south-2",
    "eu-west-1",
    "eu-west-2",
    "eu-west-3",
    "il-central-1",
    "me-central-1",
    "me-south-1",
    "sa-east-1",
    "us-east-1",
    "us-east-2",
    "us-west-1",
    "us-west-2",
    "cn-north-1",
    "cn-northwest-1",
    "us-gov-east-1",
    "us-gov-west-1",
];

/// The region of `model`'s AWS stack, checked: an error for a name that is no AWS region
/// (with the nearest one), a warning for a region without AWS IoT Core.
pub(super) fn check(model: &Model) -> Diagnostics {
    let mut out = Diagnostics::new();
    let Some(aws) = &model.aws else {
        return out;
    };
    let region = aws.region.as_str();
    let at = SpecPath::parse("clouds.aws.region");
    if !REGIONS.contains(&region) {
        let mut d =
            Diagnostic::error("unknown-region", format!("`{region}` is not an AWS region")).at(at);
        d = match crate::clouds::closest(region, REGIONS) {
            Some(near) => d.hint(format!("did you mean `{near}`?")),
            None => d.hint(
                "use a region id such as `us-east-1` or `eu-west-1` (`aws ec2 describe-regions`)",
            ),
        };
        out.push(d);
    } else if !IOT_CORE.contains(&region) {
        out.push(
            Diagnostic::warning(
                "service-not-in-region",
                format!("AWS IoT Core has no endpoint in `{region}` (botocore 1.43.11): the apply fails there unless AWS has opened it since"),
            )
            .at(at)
            .hint(format!("pick a region with AWS IoT Core, e.g. {}", IOT_CORE.iter().take(4).map(|r| format!("`{r}`")).collect::<Vec<_>>().join(", "))),
        );
    }
    out
}
