//! Environments that share an AWS account and region.
//!
//! Each environment builds its own stack, but some AWS IoT resources are one per account and
//! region whoever creates them: the logging options and their `AWSIoTLogsV2` log group, fleet
//! indexing, event configurations, and a CA certificate or a device certificate (AWS IoT
//! registers each once per account and region). Two environments that both manage them
//! fight over them: the second apply fails, and destroying one environment deletes what the
//! other uses. So, per account and region (environments without `clouds.aws.account_id` are
//! taken to share one), the first environment in spec order manages the account-wide
//! settings and the others leave them alone, and two environments there that would register
//! the same CA or the same registry device are an error here, at validate time.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceId};
use crate::model::{AwsProvisioningMethod, Model};
use crate::spec::node::Key;

/// Sets which environment manages each account and region's settings, and reports the
/// environments that would register the same CA or device there. `environments` and `keys`
/// are in spec order; `keys` locates each environment's name in the spec.
pub(super) fn check(
    spec_source: SourceId,
    keys: &[Key],
    environments: &mut [(String, super::Validated)],
    diags: &mut Diagnostics,
) {
    let mut groups: BTreeMap<(Option<String>, String), Vec<usize>> = BTreeMap::new();
    for (i, (_, v)) in environments.iter().enumerate() {
        if let Some(aws) = &v.model.aws {
            groups
                .entry((aws.account_id.clone(), aws.region.clone()))
                .or_default()
                .push(i);
        }
    }
    for ((account, region), members) in &groups {
        for (n, &i) in members.iter().enumerate() {
            if let Some(aws) = environments[i].1.model.aws.as_mut() {
                aws.account_settings = n == 0;
            }
            for &j in &members[..n] {
                let (first, second) = (&environments[j], &environments[i]);
                let Some(clash) = clash(&first.1.model, &second.1.model) else {
                    continue;
                };
                let account = account
                    .as_ref()
                    .map_or_else(|| "one account".to_owned(), |a| format!("account `{a}`"));
                let mut d = Diagnostic::error(
                    "shared-aws-account",
                    format!(
                        "environments `{}` and `{}` deploy AWS into {account}, region `{region}`, and both register {clash}: AWS IoT registers it once per account and region, so the second apply fails and destroying one environment deletes what the other uses",
                        first.0, second.0
                    ),
                )
                .hint("set `clouds.aws.account_id` in each environment to the account it deploys into, or give one of them another `clouds.aws.region`, its own CA (`identity.ca_certificate_file`) or its own registry");
                if let Some(key) = keys.iter().find(|k| k.name == second.0) {
                    d = d.in_source(spec_source, key.span);
                }
                diags.push(d);
            }
        }
    }
}

/// What two stacks in one account and region would both register, if anything.
fn clash(a: &Model, b: &Model) -> Option<String> {
    let registers_ca = |m: &Model| {
        m.aws.as_ref().is_some_and(|aws| {
            matches!(
                aws.provisioning.method,
                AwsProvisioningMethod::Jitp
                    | AwsProvisioningMethod::Jitr
                    | AwsProvisioningMethod::Manual
            )
        })
    };
    if registers_ca(a)
        && registers_ca(b)
        && a.identity.ca_certificate_file == b.identity.ca_certificate_file
    {
        return Some(format!(
            "the CA certificate `{}`",
            a.identity.ca_certificate_file
        ));
    }
    let ids: std::collections::HashSet<&str> = a.fleet.registry.iter().map(|d| d.id()).collect();
    b.fleet
        .registry
        .iter()
        .find(|d| ids.contains(d.id()))
        .map(|d| format!("the registry device `{}` (a thing of that name)", d.id()))
}
