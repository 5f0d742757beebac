//! Advice that comes with a price: each candidate change is applied to a copy of the workload,
//! the cloud is re-estimated, and the difference is the saving.
//!
//! Nothing here guesses a number. A candidate is reported only when the re-run succeeds and is
//! cheaper by at least a cent; the detail says what the change gives up.

use crate::capacity::{
    self, AWS_IOT_MESSAGE_BLOCK_BYTES, AZURE_HUB_QUOTA_BLOCK_BYTES, KIB, MIB,
    S3_TRANSITION_MIN_OBJECT_BYTES, StorageClass,
};

use super::{
    CloudRun, Traffic, format,
    model::{Advice, Cloud},
    pricebook::PriceBook,
    storage::{self, Objects},
    workload::{AwsStream, AwsWorkload, AzureWorkload, Batching, Kinesis, KinesisMode, Workload},
};

/// Savings below this are noise (they would print as $0.00).
const MIN_SAVING_USD: f64 = 0.005;
/// Largest MQTT message AWS IoT Core accepts.
const AWS_MAX_MESSAGE_BYTES: u64 = 128 * KIB;
/// Largest device-to-cloud message IoT Hub accepts.
const AZURE_MAX_MESSAGE_BYTES: u64 = 256 * KIB;

/// Re-estimates one cloud with `change` applied; `None` when the alternative is invalid.
fn rerun(
    cloud: Cloud,
    w: &Workload,
    book: &PriceBook,
    change: impl FnOnce(&mut Workload),
) -> Option<f64> {
    let mut alt = w.clone();
    change(&mut alt);
    alt.validate().ok()?;
    let run = match cloud {
        Cloud::Aws => super::aws::estimate(&alt, alt.aws.as_ref()?, book),
        Cloud::Azure => super::azure::estimate(&alt, alt.azure.as_ref()?, book),
    };
    run.ok().map(|run| run.estimate.total_usd)
}

/// Collects advice for one cloud against its base total.
struct Collector<'a> {
    cloud: Cloud,
    w: &'a Workload,
    book: &'a PriceBook,
    base: f64,
    advice: Vec<Advice>,
}

impl Collector<'_> {
    /// The saving of `change`, if it saves anything.
    fn saving(&self, change: impl FnOnce(&mut Workload)) -> Option<f64> {
        let total = rerun(self.cloud, self.w, self.book, change)?;
        let saving = self.base - total;
        (saving >= MIN_SAVING_USD).then_some(saving)
    }

    /// Adds advice for `change` when it saves money; `detail` receives the saving.
    fn offer(
        &mut self,
        title: String,
        change: impl FnOnce(&mut Workload),
        detail: impl FnOnce(f64) -> String,
    ) {
        if let Some(saving) = self.saving(change) {
            self.advice.push(Advice {
                cloud: self.cloud,
                title,
                detail: detail(saving),
                monthly_saving_usd: saving,
            });
        }
    }

    /// A message just over a metering boundary: trim it to the boundary below.
    fn metering_boundary(&mut self, block: u64, meter: &str) {
        let bytes = self.w.message_bytes;
        let blocks = bytes.div_ceil(block);
        if blocks < 2 {
            return;
        }
        let target = (blocks - 1) * block;
        let trim = bytes - target;
        if trim > block / 4 {
            return;
        }
        let block_kb = block / KIB;
        self.offer(
            format!(
                "Trim telemetry messages by {} B to {} B",
                format::int(trim),
                format::int(target)
            ),
            |alt| {
                alt.message_bytes = target;
                alt.message_overhead_bytes = alt.message_overhead_bytes.min(target);
            },
            |saving| {
                format!(
                    "{} B messages are metered as {blocks} × {block_kb} KB = {} KB {meter}; \
                     {} B would take {}. Shorter topic or property names, or a tighter payload \
                     encoding, save {} a month.",
                    format::int(bytes),
                    blocks * block_kb,
                    format::int(target),
                    blocks - 1,
                    format::usd(saving)
                )
            },
        );
    }

    /// Batching k readings into one message.
    fn batching(&mut self, max_bytes: u64) {
        let w = self.w;
        if w.messages_per_device_per_day < 2.0 {
            return;
        }
        let payload = w.message_bytes - w.message_overhead_bytes;
        let mut found: Vec<(u32, u64, f64)> = Vec::new();
        for k in [2u32, 4] {
            let batched = u64::from(k) * payload + w.message_overhead_bytes;
            if batched > max_bytes {
                continue;
            }
            let batch = |alt: &mut Workload| {
                let k = f64::from(k);
                alt.messages_per_device_per_day /= k;
                alt.message_bytes = batched;
                // Functions still handle every matching reading: keep their invocation count.
                if let Some(lambda) = alt.aws.as_mut().and_then(|a| a.lambda.as_mut()) {
                    lambda.function.invocation_fraction =
                        (lambda.function.invocation_fraction * k).min(1.0);
                }
                if let Some(f) = alt.azure.as_mut().and_then(|a| a.functions.as_mut()) {
                    f.invocation_fraction = (f.invocation_fraction * k).min(1.0);
                }
            };
            if let Some(saving) = self.saving(batch) {
                found.push((k, batched, saving));
            }
        }
        // The largest saving; on a tie the smaller batch, which delays readings less.
        let Some(&(k, batched, saving)) = found.iter().reduce(|best, next| {
            if next.2 > best.2 + MIN_SAVING_USD {
                next
            } else {
                best
            }
        }) else {
            return;
        };
        let others: Vec<String> = found
            .iter()
            .filter(|o| o.0 != k)
            .map(|o| format!("batching {} saves {}", o.0, format::usd(o.2)))
            .collect();
        self.advice.push(Advice {
            cloud: self.cloud,
            title: format!("Batch {k} readings per telemetry message"),
            detail: format!(
                "Sending {k} readings in one message of about {} B instead of {k} messages of {} B \
                 cuts per-message charges; readings arrive up to {} later. Saves {} a month{}.",
                format::int(batched),
                format::int(w.message_bytes),
                if k == 2 {
                    "one reporting interval".to_owned()
                } else {
                    format!("{} reporting intervals", k - 1)
                },
                format::usd(saving),
                if others.is_empty() {
                    String::new()
                } else {
                    format!(" ({})", others.join(", "))
                }
            ),
            monthly_saving_usd: saving,
        });
    }
}

pub(crate) fn aws(
    w: &Workload,
    aws: &AwsWorkload,
    book: &PriceBook,
    run: &CloudRun,
) -> Vec<Advice> {
    let mut c = Collector {
        cloud: Cloud::Aws,
        w,
        book,
        base: run.estimate.total_usd,
        advice: Vec::new(),
    };
    c.metering_boundary(
        AWS_IOT_MESSAGE_BLOCK_BYTES,
        "by IoT Core messaging and rules",
    );
    c.batching(AWS_MAX_MESSAGE_BYTES);

    if !aws.basic_ingest
        && w.subscriber_deliveries_per_message == 0.0
        && aws.rules_per_message > 0.0
        && aws.rules_per_message <= 1.0
    {
        c.offer(
            "Publish telemetry to Basic Ingest topics".to_owned(),
            |alt| set_aws(alt, |a| a.basic_ingest = true),
            |saving| {
                format!(
                    "Nothing subscribes to telemetry, so devices can publish to \
                     `$aws/rules/<rule>/…` and skip the messaging charge; rules and actions are \
                     still billed. The device policy must allow iot:Publish on `$aws/rules/*`, and \
                     the message reaches only that rule. Saves {} a month.",
                    format::usd(saving)
                )
            },
        );
    }

    stream_alternatives(&mut c, aws);
    s3_lifecycle(&mut c, aws);
    c.advice
}

fn set_aws(alt: &mut Workload, f: impl FnOnce(&mut AwsWorkload)) {
    if let Some(aws) = alt.aws.as_mut() {
        f(aws);
    }
}

fn set_azure(alt: &mut Workload, f: impl FnOnce(&mut AzureWorkload)) {
    if let Some(azure) = alt.azure.as_mut() {
        f(azure);
    }
}

fn other_mode(kinesis: &Kinesis) -> (Kinesis, &'static str) {
    let mode = match kinesis.mode {
        KinesisMode::Provisioned { .. } => KinesisMode::OnDemand,
        KinesisMode::OnDemand => KinesisMode::Provisioned {
            shards: None,
            shard_limit: None,
        },
    };
    let name = match mode {
        KinesisMode::OnDemand => "on-demand",
        KinesisMode::Provisioned { .. } => "provisioned",
    };
    (
        Kinesis {
            mode,
            ..kinesis.clone()
        },
        name,
    )
}

fn stream_alternatives(c: &mut Collector<'_>, aws: &AwsWorkload) {
    let (kinesis, with_firehose) = match &aws.stream {
        AwsStream::Kinesis(k) => (k, false),
        AwsStream::KinesisToFirehose(k) => (k, true),
        AwsStream::None | AwsStream::Firehose => return,
    };
    let (switched, mode) = other_mode(kinesis);
    c.offer(
        format!("Run the Kinesis stream in {mode} mode"),
        |alt| {
            set_aws(alt, |a| {
                a.stream = if with_firehose {
                    AwsStream::KinesisToFirehose(switched)
                } else {
                    AwsStream::Kinesis(switched)
                };
            });
        },
        |saving| {
            format!(
                "At this volume {mode} capacity is cheaper for the same records. Saves {} a month.",
                format::usd(saving)
            )
        },
    );
    if kinesis.consumers <= 1 && (with_firehose || aws.archive.is_some()) {
        c.offer(
            "Let the topic rule write to Firehose directly".to_owned(),
            |alt| set_aws(alt, |a| a.stream = AwsStream::Firehose),
            |saving| {
                format!(
                    "The Kinesis stream only carries telemetry to S3. A Firehose action on the \
                     rule delivers it without the stream (Firehose bills records rounded up to \
                     5 KB). Keep the stream if you need replay, several consumers or sub-second \
                     processing. Saves {} a month.",
                    format::usd(saving)
                )
            },
        );
    }
}

fn s3_lifecycle(c: &mut Collector<'_>, aws: &AwsWorkload) {
    let Some(archive) = &aws.archive else {
        return;
    };
    let traffic = Traffic::of(c.w);
    let objects = Objects::of(archive.batching, &traffic, c.w.message_bytes);
    let effective = super::aws::effective_s3_transitions(archive, objects.avg_bytes);
    let small = objects.avg_bytes < S3_TRANSITION_MIN_OBJECT_BYTES as f64;

    if small && effective.len() < archive.transitions.len() {
        // Try the lifecycle minimum and two common buffer sizes (Firehose defaults to 5 MB).
        let best = [S3_TRANSITION_MIN_OBJECT_BYTES, MIB, 5 * MIB]
            .into_iter()
            .filter(|size| traffic.bytes_per_day >= *size as f64)
            .filter_map(|size| {
                c.saving(|alt| {
                    set_aws(alt, |a| {
                        if let Some(archive) = a.archive.as_mut() {
                            archive.batching = Batching::ObjectBytes(size);
                        }
                    });
                })
                .map(|saving| (size, saving))
            })
            .reduce(|best, next| {
                if next.1 > best.1 + MIN_SAVING_USD {
                    next
                } else {
                    best
                }
            });
        if let Some((size, saving)) = best {
            c.advice.push(Advice {
                cloud: Cloud::Aws,
                title: format!(
                    "Batch archive objects to {} or more",
                    format::bytes(size as f64)
                ),
                detail: format!(
                    "Archive objects average {}. S3 lifecycle rules skip objects under 128 KB, so \
                     they never leave S3 Standard, and every object costs a PUT. Objects of {} \
                     (e.g. a larger Firehose buffer) let the lifecycle work. Saves {} a month.",
                    format::bytes(objects.avg_bytes),
                    format::bytes(size as f64),
                    format::usd(saving)
                ),
                monthly_saving_usd: saving,
            });
        }
        if !archive.small_object_transitions
            && archive
                .transitions
                .iter()
                .any(|t| t.class.accepts_small_objects_when_allowed())
        {
            c.offer(
                "Let the lifecycle move small objects to Glacier".to_owned(),
                |alt| {
                    set_aws(alt, |a| {
                        if let Some(archive) = a.archive.as_mut() {
                            archive.small_object_transitions = true;
                        }
                    });
                },
                |saving| {
                    format!(
                        "Set `transition_default_minimum_object_size = varies_by_storage_class` so \
                         objects under 128 KB still move to the Glacier classes (each then carries \
                         40 KB of overhead, priced in). Saves {} a month.",
                        format::usd(saving)
                    )
                },
            );
        }
    }

    let end = archive.expire_after_days;
    let Ok(plan) = storage::lifecycle(capacity::S3StorageClass::Standard, &effective, end) else {
        return;
    };
    for (index, &(class, day)) in effective.iter().enumerate() {
        let span = plan
            .spans
            .iter()
            .find(|s| s.class == class && s.from_day == day);
        let title = match span {
            Some(span) if span.early_days > 0 => format!(
                "Drop the move to {}: its {}-day minimum is longer than the {} days objects stay",
                super::aws::class_label(class),
                class.minimum_storage_days(),
                span.days
            ),
            _ => format!(
                "Drop the move to {}: it costs more than it saves",
                super::aws::class_label(class)
            ),
        };
        let kept: Vec<_> = effective
            .iter()
            .enumerate()
            .filter(|(i, _)| *i != index)
            .map(|(_, t)| *t)
            .collect();
        c.offer(
            title,
            |alt| {
                set_aws(alt, |a| {
                    if let Some(archive) = a.archive.as_mut() {
                        archive
                            .transitions
                            .retain(|t| kept.contains(&(t.class, t.after_days)));
                    }
                });
            },
            |saving| {
                format!(
                    "Transition requests ({} objects a month), early-deletion fees and per-object \
                     overhead outweigh the cheaper storage at day {day}. Keeping objects in the \
                     previous class saves {} a month.",
                    format::num(objects.per_month()),
                    format::usd(saving)
                )
            },
        );
    }
}

pub(crate) fn azure(
    w: &Workload,
    azure: &AzureWorkload,
    book: &PriceBook,
    run: &CloudRun,
) -> Vec<Advice> {
    let mut c = Collector {
        cloud: Cloud::Azure,
        w,
        book,
        base: run.estimate.total_usd,
        advice: Vec::new(),
    };
    let traffic = Traffic::of(w);
    let current = super::azure::hub_sizing(w, azure, &traffic).ok();
    let hubs = azure.hubs.max(1);
    let per_hub = if hubs > 1 {
        format!(" per hub × {hubs} hubs")
    } else {
        String::new()
    };

    // The alternatives are sized without the pin, so for the planned volume when it is larger
    // than today's, as the planner sizes: advice never undercuts the capacity plan.
    if let (Some(pin), Some((sizing, _, _))) = (azure.hub_pin, current) {
        let auto = super::azure::hub_sizing(
            w,
            &AzureWorkload {
                hub_pin: None,
                ..azure.clone()
            },
            &traffic,
        )
        .ok();
        if let Some((best, _, _)) = auto {
            let title = if hubs > 1 {
                format!(
                    "Size each of the {hubs} hubs as {} × {} instead of {} × {}",
                    best.sku, best.units, pin.sku, sizing.units
                )
            } else {
                format!(
                    "Size the hub as {} × {} instead of {} × {}",
                    best.sku, best.units, pin.sku, sizing.units
                )
            };
            c.offer(
                title,
                |alt| set_azure(alt, |a| a.hub_pin = None),
                |saving| {
                    format!(
                        "{} fit {} × {}{per_hub} (capacity {}/day{}, headroom {}). Saves {} a \
                         month.",
                        hub_volume(azure, &best),
                        best.sku,
                        best.units,
                        format::int(best.daily_capacity),
                        if hubs > 1 { " per hub" } else { "" },
                        format::pct(best.headroom),
                        format::usd(saving)
                    )
                },
            );
        }
    }
    // Independent of a pin (the CLI always pins the planner's size): Basic only when the fleet
    // declares no twins, C2D or methods, which Basic lacks.
    if !azure.hub_allow_basic && !azure.needs_standard_hub && !w.uses_standard_hub_features() {
        let basic = super::azure::hub_sizing(
            w,
            &AzureWorkload {
                hub_allow_basic: true,
                hub_pin: None,
                ..azure.clone()
            },
            &traffic,
        )
        .ok()
        .filter(|(best, _, _)| best.sku.tier() == capacity::HubTier::Basic);
        if let Some((best, _, _)) = basic {
            c.offer(
                format!(
                    "Use a Basic IoT Hub ({} × {}{per_hub})",
                    best.sku, best.units
                ),
                |alt| {
                    set_azure(alt, |a| {
                        a.hub_allow_basic = true;
                        a.hub_pin = None;
                    });
                },
                |saving| {
                    format!(
                        "The fleet uses no twins, cloud-to-device messages or direct methods, so \
                         a Basic tier carries its {}. Basic also lacks jobs, IoT Edge and device \
                         streams; a hub can move up to Standard later, not down. Saves {} a \
                         month.",
                        hub_volume(azure, &best),
                        format::usd(saving)
                    )
                },
            );
        }
    }

    c.metering_boundary(
        AZURE_HUB_QUOTA_BLOCK_BYTES,
        "against the IoT Hub daily quota",
    );
    c.batching(AZURE_MAX_MESSAGE_BYTES);

    if let Some(hubs) = &azure.event_hubs {
        if hubs.capture && hubs.tier == capacity::EventHubsTier::Standard {
            c.offer(
                "Route telemetry to storage from IoT Hub instead of Event Hubs Capture".to_owned(),
                |alt| {
                    set_azure(alt, |a| {
                        if let Some(h) = a.event_hubs.as_mut() {
                            h.capture = false;
                        }
                    });
                },
                |saving| {
                    format!(
                        "Capture bills every throughput unit for every hour. An IoT Hub route to \
                         a storage endpoint is free and also writes batched blobs (every 60 to \
                         720 seconds). Saves {} a month.",
                        format::usd(saving)
                    )
                },
            );
        }
        if !hubs.capture && hubs.tier == capacity::EventHubsTier::Standard {
            c.offer(
                "Use Event Hubs Basic".to_owned(),
                |alt| {
                    set_azure(alt, |a| {
                        if let Some(h) = a.event_hubs.as_mut() {
                            h.tier = capacity::EventHubsTier::Basic;
                        }
                    });
                },
                |saving| {
                    format!(
                        "Without Capture, Basic carries the same throughput for half the TU \
                         price, with one consumer group and one-day retention (no Kafka \
                         endpoint). Saves {} a month.",
                        format::usd(saving)
                    )
                },
            );
        }
    }

    blob_lifecycle(&mut c, azure);
    c.advice
}

/// The daily volume a hub alternative was sized for, in words: `2,880,000 quota messages a
/// day`, per hub when there are several, and `(planned a year ahead)` when it is the planned
/// volume.
fn hub_volume(azure: &AzureWorkload, sizing: &capacity::HubSizing) -> String {
    let planned = azure
        .planned_daily_quota_messages
        .is_some_and(|p| p >= sizing.daily_messages);
    format!(
        "{} quota messages a day{}{}",
        format::int(sizing.daily_messages),
        if azure.hubs > 1 { " per hub" } else { "" },
        if planned {
            " (planned a year ahead)"
        } else {
            ""
        }
    )
}

fn blob_lifecycle(c: &mut Collector<'_>, azure: &AzureWorkload) {
    let Some(archive) = &azure.archive else {
        return;
    };
    let transitions: Vec<_> = archive
        .transitions
        .iter()
        .map(|t| (t.tier, t.after_days))
        .collect();
    let Ok(plan) = storage::lifecycle(
        capacity::BlobTier::Hot,
        &transitions,
        archive.expire_after_days,
    ) else {
        return;
    };
    for (index, &(tier, day)) in transitions.iter().enumerate() {
        let span = plan
            .spans
            .iter()
            .find(|s| s.class == tier && s.from_day == day);
        let title = match span {
            Some(span) if span.early_days > 0 => format!(
                "Drop the move to {}: its {}-day minimum is longer than the {} days blobs stay",
                tier.name(),
                tier.minimum_storage_days(),
                span.days
            ),
            _ => format!(
                "Drop the move to {}: it costs more than it saves",
                tier.name()
            ),
        };
        c.offer(
            title,
            |alt| {
                set_azure(alt, |a| {
                    if let Some(archive) = a.archive.as_mut() {
                        archive.transitions.remove(index);
                    }
                });
            },
            |saving| {
                format!(
                    "Tier-change writes, early-deletion fees and the tier's prices outweigh the \
                     cheaper storage from day {day}. Keeping blobs in the previous tier saves {} \
                     a month.",
                    format::usd(saving)
                )
            },
        );
    }
}
