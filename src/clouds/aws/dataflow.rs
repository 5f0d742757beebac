//! The AWS stack as a dataflow, drawn from the planner's own decisions (its `Flags`, and the
//! actions each route's topic rule carries), so the picture shows what `build` writes:
//! devices → provisioning → IoT Core → topic rules → Kinesis / Firehose → S3 classes, with
//! alerts, state, OTA, analytics and the web API where the stack has them.

use super::{Action, Flags, route_actions, words};
use crate::clouds::Cloud;
use crate::cost::format::int;
use crate::design::words::{condition_line, emails, plural};
use crate::design::{Dataflow, End, Kind};
use crate::model::condition::Dialect;
use crate::model::{
    Aws, AwsProvisioningMethod, CaSource, CertificateMode, CredentialGrant, KinesisCapacity, Model,
    RouteSource,
};

/// The provisioning node, and the labels of its edges from the devices and to IoT Core.
fn provisioning(df: &mut Dataflow, m: &Model, aws: &Aws) -> (End, &'static str, &'static str) {
    let p = &aws.provisioning;
    let ca = match m.identity.ca {
        CaSource::Generated => "fleet CA (generated)",
        CaSource::Provided => "fleet CA (provided)",
    };
    let (title, mut details, to_prov, to_core) = match p.method {
        AwsProvisioningMethod::Manual => (
            "Manual registration",
            vec![
                if m.fleet.registry.is_empty() {
                    "things + certificates in Terraform".to_owned()
                } else if super::bulk::registration(m) == super::bulk::Registration::Bulk {
                    format!(
                        "{} things + certificates by bulk registration tasks",
                        int(m.fleet.registry.len() as u64)
                    )
                } else {
                    format!(
                        "{} things + certificates in Terraform",
                        int(m.fleet.registry.len() as u64)
                    )
                },
                ca.to_owned(),
            ],
            "registered ahead",
            "things, certificates",
        ),
        AwsProvisioningMethod::Jitp => (
            "Just-in-time provisioning",
            vec![format!("{ca} + provisioning template")],
            "first connect, CA-signed cert",
            "thing, cert, policy",
        ),
        AwsProvisioningMethod::Jitr => (
            "Just-in-time registration",
            vec![
                format!("{ca}, auto-registration"),
                "activator Lambda".to_owned(),
            ],
            "first connect, CA-signed cert",
            "activated cert, thing",
        ),
        AwsProvisioningMethod::FleetByClaim => (
            "Fleet provisioning by claim",
            vec!["swaps a claim certificate for its own".to_owned()],
            "claim certificate",
            "thing, cert, policy",
        ),
        AwsProvisioningMethod::TrustedUser => (
            "Fleet provisioning by trusted user",
            vec!["installer app requests a temporary claim".to_owned()],
            "temporary claim",
            "thing, cert, policy",
        ),
    };
    if p.pre_provisioning_hook {
        details.push("pre-provisioning hook Lambda".to_owned());
    }
    if matches!(
        p.method,
        AwsProvisioningMethod::Manual | AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr
    ) && p.certificate_mode == CertificateMode::SniOnly
    {
        details.push("CA in SNI-only mode".to_owned());
    }
    (
        df.node(Kind::Provisioning, title, &details),
        to_prov,
        to_core,
    )
}

/// The dataflow of `m` on AWS, from the planner's `flags`.
pub(super) fn dataflow(m: &Model, aws: &Aws, flags: &Flags) -> Dataflow {
    let mut df = Dataflow::new(Cloud::Aws, format!("AWS ({})", aws.region));
    let b = &mut df;
    let devices = End::Devices;
    let (prov, to_prov, to_core) = provisioning(b, m, aws);
    b.edge(devices, prov, Some(to_prov));
    let mut core_details = vec!["policy scoped to each thing".to_owned()];
    if m.messaging.state {
        core_details.push("device shadows".to_owned());
    }
    if m.messaging.commands {
        core_details.push(format!(
            "commands on {}",
            m.messaging.command_topic.as_str()
        ));
    }
    if aws.fleet_indexing {
        core_details.push("fleet indexing".to_owned());
    }
    if aws.basic_ingest {
        core_details.push("Basic Ingest".to_owned());
    }
    let core = b.node(Kind::Hub, "AWS IoT Core", &core_details);
    b.edge(prov, core, Some(to_core));
    b.edge(
        devices,
        core,
        Some(&format!("MQTT {}", m.messaging.telemetry_topic.as_str())),
    );

    // Streams and storage exist once, whatever routes write to them.
    let kinesis = flags.kinesis.then(|| {
        let mut d = vec![match aws.stream.kinesis_capacity {
            KinesisCapacity::Provisioned => format!(
                "{} shard{}, provisioned",
                aws.stream.kinesis_shards,
                plural(aws.stream.kinesis_shards.into())
            ),
            KinesisCapacity::OnDemand => "on-demand capacity".to_owned(),
        }];
        d.push(format!(
            "retention {} h",
            aws.stream.kinesis_retention_hours
        ));
        b.node(Kind::Stream, "Kinesis Data Streams", &d)
    });
    let firehose = flags.firehose.then(|| {
        b.node(
            Kind::Stream,
            "Amazon Data Firehose",
            &[format!(
                "buffer {} s or {} MiB",
                aws.stream.firehose_buffer_seconds, aws.stream.firehose_buffer_mib
            )],
        )
    });
    if let (Some(k), Some(f), true) = (kinesis, firehose, flags.firehose_reads_kinesis) {
        b.edge(k, f, Some("reads the stream"));
    }
    let state = flags.state_table.then(|| {
        b.node(
            Kind::Database,
            "DynamoDB state table",
            &["latest state per device".to_owned()],
        )
    });

    for route in &m.routes {
        let mut d = Vec::new();
        if route.source == RouteSource::Telemetry {
            d.push(format!("FROM {}", m.messaging.telemetry_topic.filter()));
        }
        d.push(condition_line(
            route.condition.as_ref(),
            Dialect::AwsIotSql,
            "WHERE ",
        ));
        let rule = b.node(Kind::Rule, format!("IoT rule {}", route.name), &d);
        b.edge(core, rule, Some(words::source_words(route.source)));
        for action in route_actions(flags, route) {
            let target = match action {
                Action::Kinesis => kinesis,
                Action::Firehose => firehose,
                Action::State => state,
            };
            if let Some(t) = target {
                b.edge(rule, t, None);
            }
        }
    }

    let hot = flags.archive.then(|| {
        let first = vec![if flags.archive_cmk {
            "archive bucket, KMS key".to_owned()
        } else {
            "archive bucket, SSE-S3".to_owned()
        }];
        b.storage_chain(m.archive.as_ref(), words::tier_name, "Expire", &first)
    });
    if let (Some(f), Some(h)) = (firehose, hot) {
        b.edge(
            f,
            h,
            Some(if flags.partition_by_device {
                "objects by day and device"
            } else {
                "objects by day and hour"
            }),
        );
    }

    if !m.alerts.is_empty() {
        let function = m.alerts.iter().any(|a| a.function).then(|| {
            b.node(
                Kind::Function,
                "Lambda alert handler",
                &["records the alert".to_owned()],
            )
        });
        let sns = m
            .alerts
            .iter()
            .any(|a| a.notify)
            .then(|| b.node(Kind::Notification, "SNS alerts topic", &emails(m)));
        for alert in &m.alerts {
            let rule = b.node(
                Kind::Rule,
                format!("Alert rule {}", alert.name),
                &[condition_line(
                    Some(&alert.condition),
                    Dialect::AwsIotSql,
                    "WHERE ",
                )],
            );
            b.edge(core, rule, Some("telemetry"));
            match (alert.function, alert.notify, function, sns) {
                (true, notify, Some(f), sns) => {
                    b.edge(rule, f, None);
                    if let (true, Some(s)) = (notify, sns) {
                        b.edge(f, s, Some("notifies"));
                    }
                }
                (false, true, _, Some(s)) => b.edge(rule, s, None),
                _ => {}
            }
        }
    }

    if flags.ota {
        let ota = b.node(
            Kind::Feature,
            "OTA updates",
            &[
                "firmware bucket, AWS Signer".to_owned(),
                "IoT job documents".to_owned(),
            ],
        );
        b.edge(ota, core, Some("jobs"));
        let downloads = m
            .access
            .cloud_credentials
            .as_ref()
            .is_some_and(|cc| cc.grants.contains(&CredentialGrant::FirmwareRead));
        if downloads {
            b.edge(devices, ota, Some("firmware via role alias"));
        }
    }
    if flags.analytics
        && let Some(h) = hot
    {
        let a = b.node(
            Kind::Feature,
            "Glue + Athena",
            &[
                "table with partition projection".to_owned(),
                "Athena workgroup".to_owned(),
            ],
        );
        b.edge(h, a, Some("queries"));
    }
    if m.features.web_api {
        let api = b.node(
            Kind::Feature,
            "HTTP API",
            &[
                "API Gateway + Lambda, IAM auth".to_owned(),
                "Cognito identity pool".to_owned(),
            ],
        );
        match state {
            Some(s) => b.edge(s, api, Some("reads")),
            None => b.edge(core, api, Some("reads shadows")),
        }
    }
    df
}
