//! The S3 archive's bill: storage per class under the lifecycle at steady state, the
//! Glacier classes' per-object overhead, early-deletion fees, PUT and transition requests,
//! and which transitions S3 really performs (none for objects under 128 KB unless allowed).

use super::prices::S3Prices;
use super::{S3Archive, Versioning};
use crate::capacity::{
    self, S3_ARCHIVE_OVERHEAD_ARCHIVE_BYTES, S3_ARCHIVE_OVERHEAD_STANDARD_BYTES,
    S3_TRANSITION_MIN_OBJECT_BYTES, S3StorageClass,
};
use crate::cost::pricebook::Price;
use crate::cost::storage::{self, Objects};
use crate::cost::{Error, Lines, Traffic, Workload, format, gib};

const S3: &str = "S3";

pub(crate) fn class_label(class: S3StorageClass) -> &'static str {
    match class {
        S3StorageClass::Standard => "Standard",
        S3StorageClass::StandardIa => "Standard-IA",
        S3StorageClass::OneZoneIa => "One Zone-IA",
        S3StorageClass::GlacierInstantRetrieval => "Glacier Instant Retrieval",
        S3StorageClass::GlacierFlexibleRetrieval => "Glacier Flexible Retrieval",
        S3StorageClass::GlacierDeepArchive => "Glacier Deep Archive",
    }
}

fn storage_price(prices: &S3Prices, class: S3StorageClass) -> &Price {
    match class {
        S3StorageClass::Standard => &prices.standard_storage,
        S3StorageClass::StandardIa => &prices.standard_ia_storage,
        S3StorageClass::OneZoneIa => &prices.one_zone_ia_storage,
        S3StorageClass::GlacierInstantRetrieval => &prices.glacier_instant_retrieval_storage,
        S3StorageClass::GlacierFlexibleRetrieval => &prices.glacier_flexible_retrieval_storage,
        S3StorageClass::GlacierDeepArchive => &prices.glacier_deep_archive_storage,
    }
}

fn transition_price(prices: &S3Prices, class: S3StorageClass) -> &Price {
    match class {
        // Nothing transitions into Standard; the request price is the closest stand-in.
        S3StorageClass::Standard => &prices.put_requests,
        S3StorageClass::StandardIa => &prices.transition_to_standard_ia,
        S3StorageClass::OneZoneIa => &prices.transition_to_one_zone_ia,
        S3StorageClass::GlacierInstantRetrieval => &prices.transition_to_glacier_instant_retrieval,
        S3StorageClass::GlacierFlexibleRetrieval => {
            &prices.transition_to_glacier_flexible_retrieval
        }
        S3StorageClass::GlacierDeepArchive => &prices.transition_to_glacier_deep_archive,
    }
}

/// The lifecycle transitions S3 actually performs for objects of `object_bytes`.
pub(crate) fn effective_s3_transitions(
    archive: &S3Archive,
    object_bytes: f64,
) -> Vec<(S3StorageClass, u32)> {
    let small = object_bytes < S3_TRANSITION_MIN_OBJECT_BYTES as f64;
    archive
        .transitions
        .iter()
        .filter(|t| {
            !small
                || (archive.small_object_transitions
                    && t.class.accepts_small_objects_when_allowed())
        })
        .map(|t| (t.class, t.after_days))
        .collect()
}

pub(super) fn s3_archive(
    w: &Workload,
    archive: &S3Archive,
    t: &Traffic,
    prices: &S3Prices,
    lines: &mut Lines,
    notes: &mut Vec<String>,
) -> Result<(), Error> {
    let objects = Objects::of(archive.batching, t, w.message_bytes);
    let transitions = effective_s3_transitions(archive, objects.avg_bytes);
    let skipped = archive.transitions.len() - transitions.len();
    if skipped > 0 {
        notes.push(format!(
            "Archive objects average {}, under S3's 128 KB lifecycle minimum: {skipped} of \
             {} transitions never happen and the objects stay where they are.",
            format::bytes(objects.avg_bytes),
            archive.transitions.len()
        ));
    }
    let end_day = match archive.versioning {
        Versioning::Disabled => archive.expire_after_days,
        Versioning::Enabled {
            noncurrent_expire_after_days,
        } => {
            let end = archive
                .expire_after_days
                .zip(noncurrent_expire_after_days)
                .map(|(expire, extra)| expire + extra);
            if let Some(expire) = archive.expire_after_days {
                notes.push(match noncurrent_expire_after_days {
                    Some(extra) => format!(
                        "Versioning keeps expired objects as noncurrent versions for {extra} more \
                         days (deleted at day {}).",
                        expire + extra
                    ),
                    None => format!(
                        "Versioning is on and noncurrent versions never expire: objects expired at \
                         day {expire} are kept as noncurrent versions and the bucket keeps growing."
                    ),
                });
            }
            end
        }
    };
    let plan = storage::lifecycle(S3StorageClass::Standard, &transitions, end_day)?;
    if let Some(horizon) = plan.horizon {
        notes.push(format!(
            "The archive never expires, so it has no steady state: it grows by {} GB a month, and \
             storage is shown after {horizon} days.",
            format::num(gib(t.bytes_per_day) * capacity::DAYS_PER_MONTH)
        ));
    }
    let daily_gb = gib(t.bytes_per_day);
    for span in &plan.spans {
        let label = class_label(span.class);
        let price = storage_price(prices, span.class);
        lines.add(
            S3,
            &format!("{label} storage"),
            daily_gb * f64::from(span.days),
            price,
            &format!(
                "{} GB/day × {} days (day {} to {})",
                format::num(daily_gb),
                span.days,
                span.from_day,
                span.from_day + span.days
            ),
        );
        if span.class.has_archive_overhead() {
            let stock = objects.per_day * f64::from(span.days);
            lines.add(
                S3,
                &format!("{label} per-object index (Standard rate)"),
                gib(stock * S3_ARCHIVE_OVERHEAD_STANDARD_BYTES as f64),
                &prices.standard_storage,
                &format!("{} objects stored × 8 KB", format::num(stock)),
            );
            lines.add(
                S3,
                &format!("{label} per-object metadata"),
                gib(stock * S3_ARCHIVE_OVERHEAD_ARCHIVE_BYTES as f64),
                price,
                &format!("{} objects stored × 32 KB", format::num(stock)),
            );
        }
        if span.early_days > 0 {
            lines.add(
                S3,
                &format!("{label} early deletion"),
                daily_gb * f64::from(span.early_days),
                price,
                &format!(
                    "objects leave after {} of the {}-day minimum: {} GB/day × {} days billed",
                    span.days,
                    capacity::StorageClass::minimum_storage_days(span.class),
                    format::num(daily_gb),
                    span.early_days
                ),
            );
        }
    }
    let per_month = objects.per_month();
    lines.add(
        S3,
        "PUT requests",
        per_month / 1000.0,
        &prices.put_requests,
        &format!(
            "{} = {} objects/month",
            objects.describe(),
            format::num(per_month)
        ),
    );
    for span in plan.spans.iter().filter(|s| s.by_transition) {
        lines.add(
            S3,
            &format!("transitions to {}", class_label(span.class)),
            per_month / 1000.0,
            transition_price(prices, span.class),
            &format!("{} objects/month, one request each", format::num(per_month)),
        );
    }
    Ok(())
}
