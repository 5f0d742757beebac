//! S3: the raw telemetry archive and the hardening every bucket of the stack shares.
//!
//! [`bucket`] is the one place a bucket is made, so the archive, the firmware bucket, the
//! Athena results bucket and the access-log bucket all get the same baseline: public access
//! blocked (all four switches), ACLs disabled (BucketOwnerEnforced), SSE-KMS with the stack
//! key and bucket keys (or SSE-S3 where the spec asks for platform keys), versioning, a
//! TLS-only bucket policy, server access logging, EventBridge notifications and a lifecycle
//! that at least aborts incomplete multipart uploads. The archive's lifecycle comes from the
//! spec's tiers: hot (Standard) to cool (Standard-IA), cold (Glacier Instant Retrieval),
//! archive (Glacier Flexible Retrieval) and deep_archive (Deep Archive).

use hcl::{Block, Expression};

use super::Ctx;
use super::hcl::{BlockExt, rf, t, tpl, under};
use super::iam::{self, Stmt};
use super::intent::eq_all;
use crate::model::StorageTier;
use crate::plan::intent::{any_in, eq, length, spec_word};
use crate::plan::tf::{self, lit, r};

const FILE: &str = "storage.tf";
const PURPOSE: &str =
    "S3: the raw telemetry archive with its lifecycle, and the access-log bucket.";

/// Days after which incomplete multipart uploads are aborted.
const ABORT_MULTIPART_DAYS: u32 = 7;

/// A bucket to create.
pub(super) struct Bucket<'a> {
    pub label: &'a str,
    pub name: Expression,
    pub file: &'static str,
    pub purpose: &'static str,
    /// SSE-KMS with the stack key (else SSE-S3, with the reason as a checkov skip).
    pub cmk: Result<(), &'a str>,
    /// Versioning (else the reason, as a checkov skip).
    pub versioning: Result<(), &'a str>,
    /// Server access logs go to the access-log bucket (false for that bucket itself, which
    /// checkov recognises as a log target).
    pub access_logs: bool,
    /// Lifecycle rules; an abort-incomplete-uploads rule is added when no rule aborts.
    pub lifecycle: Vec<Block>,
    /// Bucket policy statements beyond TLS-only.
    pub policy: Vec<Stmt>,
    /// Note on the lifecycle configuration.
    pub lifecycle_note: Option<&'a str>,
}

/// Writes a hardened bucket.
pub(super) fn bucket(cx: &mut Ctx, b: Bucket) {
    let label = b.label;
    let id = r(&format!("aws_s3_bucket.{label}.id"));
    let arn = format!("aws_s3_bucket.{label}.arn");
    let f = cx.tf(b.file, b.purpose);
    let mut res = tf::resource("aws_s3_bucket", label).skip(
        "CKV_AWS_144",
        "single-region stack: S3 stores objects across availability zones and versioning guards deletes; cross-region replication would double storage cost",
    );
    if let Err(why) = b.cmk {
        res = res.skip("CKV_AWS_145", why);
    }
    if let Err(why) = b.versioning {
        res = res.skip("CKV_AWS_21", why);
    }
    f.push(res.attr("bucket", b.name).build());
    f.push(
        tf::resource("aws_s3_bucket_public_access_block", label)
            .attr("bucket", id.clone())
            .attr("block_public_acls", tf::boolean(true))
            .attr("block_public_policy", tf::boolean(true))
            .attr("ignore_public_acls", tf::boolean(true))
            .attr("restrict_public_buckets", tf::boolean(true))
            .build(),
    );
    f.push(
        tf::resource("aws_s3_bucket_ownership_controls", label)
            .attr("bucket", id.clone())
            .child(
                tf::block("rule")
                    .attr("object_ownership", lit("BucketOwnerEnforced"))
                    .build(),
            )
            .build(),
    );
    let sse = if b.cmk.is_ok() {
        tf::block("apply_server_side_encryption_by_default")
            .attr("sse_algorithm", lit("aws:kms"))
            .attr("kms_master_key_id", r("aws_kms_key.fleet.arn"))
            .build()
    } else {
        tf::block("apply_server_side_encryption_by_default")
            .attr("sse_algorithm", lit("AES256"))
            .build()
    };
    f.push(
        tf::resource("aws_s3_bucket_server_side_encryption_configuration", label)
            .attr("bucket", id.clone())
            .child(
                tf::block("rule")
                    .child(sse)
                    .when(b.cmk.is_ok(), |x| {
                        x.note(
                            "Bucket keys cut KMS requests (and their cost) by orders of magnitude.",
                        )
                        .attr("bucket_key_enabled", tf::boolean(true))
                    })
                    .build(),
            )
            .build(),
    );
    if b.versioning.is_ok() {
        f.push(
            tf::resource("aws_s3_bucket_versioning", label)
                .attr("bucket", id.clone())
                .child(
                    tf::block("versioning_configuration")
                        .attr("status", lit("Enabled"))
                        .build(),
                )
                .build(),
        );
    }
    if b.access_logs {
        f.push(
            tf::resource("aws_s3_bucket_logging", label)
                .attr("bucket", id.clone())
                .attr("target_bucket", r("aws_s3_bucket.access_logs.id"))
                .attr("target_prefix", lit(format!("{label}/")))
                .build(),
        );
    }
    f.push(
        tf::resource("aws_s3_bucket_notification", label)
            .note("Object events go to EventBridge, where consumers can subscribe without changing this stack.")
            .attr("bucket", id.clone())
            .attr("eventbridge", tf::boolean(true))
            .build(),
    );
    let key = if label == "archive" {
        "storage.archive".to_owned()
    } else {
        format!("fleetform's baseline for the {label} bucket")
    };
    let block = |attr: &str| r(&format!("aws_s3_bucket_public_access_block.{label}.{attr}"));
    cx.intent.assert(
        &key,
        "no public access (all four public access block switches on)",
        eq_all(
            [
                "block_public_acls",
                "block_public_policy",
                "ignore_public_acls",
                "restrict_public_buckets",
            ]
            .map(|a| (block(a), tf::boolean(true))),
        ),
    );
    let (algorithm, encryption_key) = if b.cmk.is_ok() {
        ("aws:kms", "customer_managed: SSE-KMS with the stack's key")
    } else {
        ("AES256", "platform_managed: SSE-S3")
    };
    cx.intent.assert(
        &if label == "archive" {
            "storage.archive.encryption".to_owned()
        } else {
            key.clone()
        },
        encryption_key,
        any_in(
            "rule",
            r(&format!(
                "aws_s3_bucket_server_side_encryption_configuration.{label}.rule"
            )),
            eq(
                r("rule.apply_server_side_encryption_by_default.0.sse_algorithm"),
                lit(algorithm),
            ),
        ),
    );
    if b.versioning.is_ok() {
        cx.intent.assert(
            &if label == "archive" {
                "storage.archive.versioning".to_owned()
            } else {
                key.clone()
            },
            "versioning on",
            eq(
                r(&format!(
                    "aws_s3_bucket_versioning.{label}.versioning_configuration.0.status"
                )),
                lit("Enabled"),
            ),
        );
    }
    let f = cx.tf(b.file, b.purpose);
    let mut rules = b.lifecycle;
    rules.push(
        tf::block("rule")
            .attr("id", lit("abort-incomplete-uploads"))
            .attr("status", lit("Enabled"))
            .child(super::hcl::all_objects())
            .child(
                tf::block("abort_incomplete_multipart_upload")
                    .attr("days_after_initiation", tf::num(ABORT_MULTIPART_DAYS))
                    .build(),
            )
            .build(),
    );
    f.push(
        tf::resource("aws_s3_bucket_lifecycle_configuration", label)
            .when(b.lifecycle_note.is_some(), |x| {
                x.note(b.lifecycle_note.unwrap_or_default())
            })
            .attr("bucket", id.clone())
            .attr(
                "transition_default_minimum_object_size",
                lit("all_storage_classes_128K"),
            )
            .each(rules, BlockExt::child)
            .when(b.versioning.is_ok(), |x| {
                x.attr(
                    "depends_on",
                    tf::list([r(&format!("aws_s3_bucket_versioning.{label}"))]),
                )
            })
            .build(),
    );
    let mut stmts = vec![
        Stmt::deny(
            "DenyInsecureTransport",
            &["s3:*"],
            vec![r(&arn), under(&arn, "/*")],
        )
        .principal("AWS", vec![lit("*")])
        .cond("Bool", "aws:SecureTransport", vec![lit("false")]),
    ];
    stmts.extend(b.policy);
    let doc = format!("{label}_bucket");
    f.push(iam::document(&doc, stmts));
    f.push(
        tf::resource("aws_s3_bucket_policy", label)
            .attr("bucket", id)
            .attr(
                "policy",
                r(&format!("data.aws_iam_policy_document.{doc}.json")),
            )
            .attr(
                "depends_on",
                tf::list([r(&format!("aws_s3_bucket_public_access_block.{label}"))]),
            )
            .build(),
    );
}

/// S3 storage class of a tier; `None` for hot (objects start in Standard).
fn storage_class(tier: StorageTier) -> Option<&'static str> {
    match tier {
        StorageTier::Hot => None,
        StorageTier::Cool => Some("STANDARD_IA"),
        StorageTier::Cold => Some("GLACIER_IR"),
        StorageTier::Archive => Some("GLACIER"),
        StorageTier::DeepArchive => Some("DEEP_ARCHIVE"),
    }
}

/// Minimum billed storage duration of an S3 storage class, in days.
fn minimum_days(class: &str) -> u32 {
    match class {
        "STANDARD_IA" | "ONEZONE_IA" => 30,
        "GLACIER_IR" | "GLACIER" => 90,
        "DEEP_ARCHIVE" => 180,
        _ => 0,
    }
}

fn archive_rules(cx: &mut Ctx) -> Vec<Block> {
    let Some(a) = &cx.m.archive else {
        return Vec::new();
    };
    let transitions: Vec<(u32, &str)> = a
        .lifecycle
        .iter()
        .filter_map(|t| storage_class(t.tier).map(|c| (t.after_days, c)))
        .collect();
    let noncurrent_days = a.noncurrent_versions_expire_after_days;
    let rule = |id: String, prefix: Option<&str>| {
        tf::block("rule")
            .attr("id", lit(id))
            .attr("status", lit("Enabled"))
            .child(
                tf::block("filter")
                    .attr("prefix", lit(prefix.unwrap_or_default()))
                    .build(),
            )
            .each(&transitions, |b, (days, class)| {
                b.child(
                    tf::block("transition")
                        .attr("days", tf::num(*days))
                        .attr("storage_class", lit(*class))
                        .build(),
                )
            })
            .when(a.expire_after_days.is_some(), |b| {
                b.child(
                    tf::block("expiration")
                        .attr("days", tf::num(a.expire_after_days.unwrap_or_default()))
                        .build(),
                )
            })
            .when(a.versioning, |b| {
                // Old versions follow the same tiers, but only into a tier they stay in for its
                // minimum billed duration before they expire (no early-deletion fees).
                b.each(
                    transitions
                        .iter()
                        .filter(|(d, c)| *d >= 30 && d + minimum_days(c) <= noncurrent_days),
                    |b, (days, class)| {
                        b.child(
                            tf::block("noncurrent_version_transition")
                                .attr("noncurrent_days", tf::num(*days))
                                .attr("storage_class", lit(*class))
                                .build(),
                        )
                    },
                )
                .child(
                    tf::block("noncurrent_version_expiration")
                        .attr("noncurrent_days", tf::num(noncurrent_days))
                        .build(),
                )
            })
            .build()
    };
    let ids: Vec<(String, Option<&str>)> = if a.prefixes.is_empty() {
        vec![("archive-tiers".to_owned(), None)]
    } else {
        a.prefixes
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("archive-tiers-{}", i + 1), Some(p.as_str())))
            .collect()
    };
    for (id, _) in &ids {
        lifecycle_intent(cx, a, id);
    }
    ids.into_iter().map(|(id, p)| rule(id, p)).collect()
}

/// The archive lifecycle rule `id`, asserted entry by entry against the spec.
fn lifecycle_intent(cx: &mut Ctx, a: &crate::model::Archive, id: &str) {
    let rule = || {
        crate::plan::intent::the_one(
            "rule",
            r("aws_s3_bucket_lifecycle_configuration.archive.rule"),
            eq(r("rule.id"), lit(id)),
        )
    };
    let of_rule = |attr: &str| -> Expression {
        ::hcl::Traversal::builder(rule())
            .attr(tf::ident(attr))
            .build()
            .into()
    };
    let mut classes = 0;
    for (i, tier) in a.lifecycle.iter().enumerate() {
        let Some(class) = storage_class(tier.tier) else {
            continue;
        };
        classes += 1;
        cx.intent.assert(
            &format!("storage.archive.lifecycle[{i}].after_days"),
            format!(
                "archived objects to move to `{}` (S3 {class}) after {} days (rule {id})",
                spec_word(tier.tier),
                tier.after_days
            ),
            any_in(
                "move",
                of_rule("transition"),
                eq_all([
                    (r("move.days"), tf::num(tier.after_days)),
                    (r("move.storage_class"), lit(class)),
                ]),
            ),
        );
    }
    cx.intent.assert(
        "storage.archive.lifecycle",
        format!("{classes} storage-class transition(s) (rule {id})"),
        eq(length(of_rule("transition")), tf::num(classes)),
    );
    match a.expire_after_days {
        Some(days) => cx.intent.assert(
            "storage.archive.expire_after_days",
            format!("archived objects to be deleted after {days} days (rule {id})"),
            eq(
                ::hcl::Traversal::builder(of_rule("expiration"))
                    .index(tf::num(0))
                    .attr(tf::ident("days"))
                    .build()
                    .into(),
                tf::num(days),
            ),
        ),
        None => cx.intent.assert(
            "storage.archive.expire_after_days",
            format!("archived objects never to expire (rule {id})"),
            eq(length(of_rule("expiration")), tf::num(0)),
        ),
    }
    if a.versioning {
        cx.intent.assert(
            "storage.archive.noncurrent_versions_expire_after_days",
            format!(
                "old object versions to be deleted after {} days (rule {id})",
                a.noncurrent_versions_expire_after_days
            ),
            eq(
                ::hcl::Traversal::builder(of_rule("noncurrent_version_expiration"))
                    .index(tf::num(0))
                    .attr(tf::ident("noncurrent_days"))
                    .build()
                    .into(),
                tf::num(a.noncurrent_versions_expire_after_days),
            ),
        );
    }
}

/// What S3's 128 KiB minimum for lifecycle transitions means for the objects Firehose
/// writes: one object per partition per buffer interval, so the expected size is the
/// partition's average rate over the buffer interval, capped by the buffer size.
fn object_size_note(cx: &Ctx) -> String {
    use crate::capacity::{KIB, MIB, S3_TRANSITION_MIN_OBJECT_BYTES, SECONDS_PER_DAY};
    let m = cx.m;
    let s = &cx.aws.stream;
    let fleet_bytes_per_s =
        m.traffic.messages_per_day * m.messaging.message_bytes as f64 / SECONDS_PER_DAY;
    let partition_bytes_per_s = if cx.flags.partition_by_device {
        fleet_bytes_per_s / m.traffic.devices.max(1) as f64
    } else {
        fleet_bytes_per_s
    };
    let object = (partition_bytes_per_s * f64::from(s.firehose_buffer_seconds))
        .min((u64::from(s.firehose_buffer_mib) * MIB) as f64);
    let kib = object / KIB as f64;
    if object < S3_TRANSITION_MIN_OBJECT_BYTES as f64 {
        format!(
            "S3 does not transition objects under 128 KiB, and Firehose writes objects of about {kib:.0} KiB here ({}, {} s buffer): they stay in Standard until they expire, and the transitions below apply to none of them.",
            if cx.flags.partition_by_device {
                "one folder per device"
            } else {
                "one folder per hour"
            },
            s.firehose_buffer_seconds
        )
    } else {
        format!(
            "S3 does not transition objects under 128 KiB; Firehose writes objects of about {kib:.0} KiB here, so the transitions below apply."
        )
    }
}

pub(super) fn plan(cx: &mut Ctx) {
    access_log_bucket(cx);
    if !cx.flags.archive {
        return;
    }
    let m = cx.m;
    let name = match &cx.aws.archive_bucket {
        Some(n) => lit(n),
        None => tpl([
            t(format!("{}-", cx.aws.archive_bucket_stem)),
            rf("local.account_id"),
        ]),
    };
    let versioning = m.archive.as_ref().is_none_or(|a| a.versioning);
    let policy = Vec::new();
    let rules = archive_rules(cx);
    cx.fact(
        "lifecycle",
        m.archive.as_ref().map(|a| {
            serde_json::json!({
                "transitions": a.lifecycle.iter().filter_map(|t| storage_class(t.tier).map(|c| serde_json::json!({"days": t.after_days, "class": c}))).collect::<Vec<_>>(),
                "expire_after_days": a.expire_after_days,
                "noncurrent_days": a.noncurrent_versions_expire_after_days,
                "prefixes": a.prefixes,
            })
        }),
    );
    bucket(
        cx,
        Bucket {
            label: "archive",
            name,
            file: FILE,
            purpose: PURPOSE,
            cmk: if cx.flags.archive_cmk {
                Ok(())
            } else {
                Err(
                    "the spec asks for platform-managed keys (storage.archive.encryption: platform_managed): SSE-S3",
                )
            },
            versioning: if versioning {
                Ok(())
            } else {
                Err("the spec turns versioning off (storage.archive.versioning: false)")
            },
            access_logs: true,
            lifecycle: rules,
            policy,
            lifecycle_note: Some(&object_size_note(cx)),
        },
    );
    cx.out(
        "archive_bucket_name",
        "S3 bucket of the raw telemetry archive (raw/yyyy/MM/dd/<device_id>/).",
        r("aws_s3_bucket.archive.id"),
    );
    cx.out(
        "archive_bucket_arn",
        "ARN of the archive bucket.",
        r("aws_s3_bucket.archive.arn"),
    );
}

pub(super) fn access_log_bucket(cx: &mut Ctx) {
    bucket(
        cx,
        Bucket {
            label: "access_logs",
            name: cx.bucket_name("access-logs"),
            file: FILE,
            purpose: PURPOSE,
            cmk: Ok(()),
            versioning: Ok(()),
            access_logs: false,
            lifecycle: vec![
                tf::block("rule")
                    .attr("id", lit("expire-access-logs"))
                    .attr("status", lit("Enabled"))
                    .child(super::hcl::all_objects())
                    .child(tf::block("expiration").attr("days", tf::num(365)).build())
                    .child(
                        tf::block("noncurrent_version_expiration")
                            .attr("noncurrent_days", tf::num(30))
                            .build(),
                    )
                    .build(),
            ],
            policy: vec![iam::same_account(
                Stmt::allow(
                    "ServerAccessLogDelivery",
                    &["s3:PutObject"],
                    vec![under("aws_s3_bucket.access_logs.arn", "/*")],
                )
                .principal("Service", iam::service("logging.s3.amazonaws.com")),
            )],
            lifecycle_note: Some("Server access logs of the stack's buckets, kept a year."),
        },
    );
}
