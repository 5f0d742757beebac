//! DynamoDB tables the stack owns, all built the same hardened way.
//!
//! The latest device state, the alert records, the provisioning allow list and the web API's
//! device owners are each a table: on demand (no capacity to size or throttle), point-in-time
//! recovery on, encrypted with the stack's key, and protected from deletion by one input,
//! `deletion_protection`, declared with the first table.

use super::Ctx;
use super::hcl::{BlockExt, named};
use crate::plan::tf::{self, lit, r};

/// A table to write.
#[derive(Clone, Copy)]
pub(super) struct Table<'a> {
    /// Terraform label (`state`).
    pub label: &'a str,
    /// Name after the stack prefix (`device-state`).
    pub name: &'a str,
    /// What one item is, for the reviewer.
    pub note: &'a str,
    /// Partition key (a string attribute).
    pub hash: &'a str,
    /// Sort key (a string attribute), if any.
    pub range: Option<&'a str>,
}

/// Writes `t` into `file`, and the `deletion_protection` input once per stack.
pub(super) fn table(cx: &mut Ctx, file: &'static str, purpose: &str, t: Table) {
    if !cx.facts_has("deletion_protection") {
        cx.fact("deletion_protection", true);
        cx.var(
            "deletion_protection",
            "bool",
            "Protect the stack's DynamoDB tables from deletion (turn off before terraform destroy).",
            Some(tf::boolean(true)),
            Vec::new(),
        );
    }
    let f = cx.tf(file, purpose);
    f.push(
        tf::resource("aws_dynamodb_table", t.label)
            .note(t.note)
            .attr("name", named(t.name))
            .attr("billing_mode", lit("PAY_PER_REQUEST"))
            .attr("hash_key", lit(t.hash))
            .when(t.range.is_some(), |b| {
                b.attr("range_key", lit(t.range.unwrap_or_default()))
            })
            .attr("deletion_protection_enabled", r("var.deletion_protection"))
            .each(std::iter::once(t.hash).chain(t.range), |b, key| {
                b.child(
                    tf::block("attribute")
                        .attr("name", lit(key))
                        .attr("type", lit("S"))
                        .build(),
                )
            })
            .child(
                tf::block("point_in_time_recovery")
                    .attr("enabled", tf::boolean(true))
                    .build(),
            )
            .child(
                tf::block("server_side_encryption")
                    .attr("enabled", tf::boolean(true))
                    .attr("kms_key_arn", r("aws_kms_key.fleet.arn"))
                    .build(),
            )
            .build(),
    );
}
