//! Parity rows: what each requested feature became on AWS, in the words of the build summary
//! and the README. Keys are shared with the Azure planner so a both-cloud spec lines up side by
//! side.

use super::Flags;
use crate::model::{Aws, AwsProvisioningMethod, Model};
use crate::plan::{Mapping, ParityRow};

/// The parity rows: every requested feature and what it became.
pub(super) fn rows(m: &Model, aws: &Aws, flags: &Flags) -> Vec<ParityRow> {
    let mut rows = Vec::new();
    let mut map = |feature: &'static str, mapping: Mapping| {
        rows.push(ParityRow { feature, mapping });
    };
    let method = match aws.provisioning.method {
        AwsProvisioningMethod::Manual => {
            "manual registration: things and certificates from the registry"
        }
        AwsProvisioningMethod::Jitp => "just-in-time provisioning: CA with a provisioning template",
        AwsProvisioningMethod::Jitr => {
            "just-in-time registration: CA with auto-registration and an activator Lambda"
        }
        AwsProvisioningMethod::FleetByClaim => "fleet provisioning by claim certificate",
        AwsProvisioningMethod::TrustedUser => "fleet provisioning by trusted user",
    };
    map(
        "identity",
        Mapping::Mapped(if flags.ca {
            "X.509 certificates chained to the fleet CA registered with AWS IoT".to_owned()
        } else {
            "X.509 certificates issued by AWS IoT at provisioning".to_owned()
        }),
    );
    map("provisioning", Mapping::Mapped(method.to_owned()));
    if let Some(registry) = super::bulk::parity(m) {
        map("registry", registry);
    }
    map(
        "authorization",
        Mapping::Mapped("IoT policy scoped to ${iot:Connection.Thing.ThingName}".to_owned()),
    );
    if let Some(c) = &m.access.cloud_credentials {
        map(
            "cloud_credentials",
            Mapping::Mapped(format!(
                "IoT role alias `{}` (credentials provider)",
                super::names::fit(
                    &format!("{}-{}", m.stack.prefix, c.role_alias),
                    super::names::IOT_NAME,
                    '-'
                )
            )),
        );
    }
    if m.messaging.state {
        map("device_state", Mapping::Mapped("device shadows".to_owned()));
    }
    if m.messaging.commands {
        map(
            "cloud_to_device",
            Mapping::Mapped(format!(
                "MQTT command topic `{}`",
                m.messaging.command_topic
            )),
        );
    } else if m.messaging.direct_methods {
        map(
            "cloud_to_device",
            Mapping::NotMapped(
                "no direct methods on AWS IoT; use request/response topics".to_owned(),
            ),
        );
    }
    map(
        "routes",
        Mapping::Mapped(format!(
            "{} IoT topic rule(s), SQL 2016-03-23",
            m.routes.len()
        )),
    );
    let stream = match (flags.kinesis, flags.firehose, flags.firehose_reads_kinesis) {
        (true, true, true) => "Kinesis Data Streams read by Firehose".to_owned(),
        (true, true, false) => "Kinesis Data Streams, plus Firehose for the archive".to_owned(),
        (true, false, _) => "Kinesis Data Streams".to_owned(),
        _ => "Amazon Data Firehose".to_owned(),
    };
    let stream = if !flags.kinesis && !flags.firehose {
        "no route sends to `stream` or `archive`, so no stream is created".to_owned()
    } else if flags.kinesis {
        match aws.stream.kinesis_capacity {
            crate::model::KinesisCapacity::Provisioned => {
                format!("{stream} ({} shard(s))", aws.stream.kinesis_shards)
            }
            crate::model::KinesisCapacity::OnDemand => format!("{stream} (on-demand)"),
        }
    } else {
        stream
    };
    map("stream", Mapping::Mapped(stream));
    if let Some(a) = &m.archive {
        map(
            "archive",
            Mapping::Mapped(if flags.partition_by_device {
                "S3 bucket, partitioned by day and device".to_owned()
            } else {
                "S3 bucket, partitioned by day and hour".to_owned()
            }),
        );
        if !a.lifecycle.is_empty() || a.expire_after_days.is_some() {
            map(
                "lifecycle",
                Mapping::Mapped("S3 lifecycle configuration".to_owned()),
            );
        }
    }
    if !m.alerts.is_empty() {
        map(
            "alerts",
            Mapping::Mapped("IoT topic rules to Lambda and/or SNS".to_owned()),
        );
    }
    if m.features.state_store {
        map(
            "state_store",
            Mapping::Mapped("DynamoDB table (on-demand, PITR)".to_owned()),
        );
    }
    if m.features.ota {
        map(
            "ota",
            Mapping::Mapped(
                "firmware bucket, AWS Signer profile, IoT job document and script".to_owned(),
            ),
        );
    }
    if m.features.analytics {
        map(
            "analytics",
            if flags.analytics {
                Mapping::Mapped(
                    "Glue table with partition projection and an Athena workgroup".to_owned(),
                )
            } else {
                Mapping::NotMapped(
                    "Glue and Athena query what Firehose archives, and no route sends to `archive` (or to a Firehose `stream`), so they are not created".to_owned(),
                )
            },
        );
    }
    if m.features.web_api {
        map(
            "web_api",
            Mapping::Mapped(
                "API Gateway HTTP API (IAM auth) + Lambda, Cognito identity pool".to_owned(),
            ),
        );
    }
    map(
        "monitoring",
        Mapping::Mapped(if m.monitoring.alarms {
            "CloudWatch logs and alarms to SNS".to_owned()
        } else {
            "CloudWatch logs".to_owned()
        }),
    );
    if m.cost.monthly_budget_usd.is_some() {
        map(
            "budget",
            Mapping::Mapped("AWS Budgets monthly cost budget".to_owned()),
        );
    }
    rows
}
