//! The AWS part of `fleetform explain`: the facts of the planner's decisions (its `Flags`,
//! each route's topic-rule actions, the stream sizes), each with its reason, for the
//! `explain` blueprint and `blueprints/aws/explain/` to word.

use super::{Action, Flags, route_actions, words};
use crate::capacity;
use crate::clouds::Cloud;
use crate::cost::format::{bytes, int};
use crate::design::story::{
    Access, Optional, Provisioning, RouteText, Story, Tiers, alert_volume, archive,
    condition_words, credential_grants, dec, features, identity, monitoring, services, volume, who,
};
use crate::design::words::and_list;
use crate::model::condition::Dialect;
use crate::model::{
    Aws, AwsProvisioningMethod, CaSource, CertificateMode, Destination, KinesisCapacity, Model,
    Route, RouteSource,
};

/// S3 storage classes, as the archive's lifecycle names and bills them.
const TIERS: Tiers = Tiers {
    name: words::tier_name,
    minimum_days: words::minimum_days,
    retrieval: words::retrieval,
};

/// A route as its topic rule delivers it.
fn route_text(m: &Model, route: &Route, destinations: String) -> RouteText {
    let filter = match route.source {
        RouteSource::Telemetry => m.messaging.telemetry_topic.filter(),
        RouteSource::StateChanges => "$aws/things/+/shadow/update/documents".to_owned(),
        RouteSource::Lifecycle => "$aws/events/thing/+/+".to_owned(),
        RouteSource::ConnectionState => "$aws/events/presence/+/+".to_owned(),
    };
    RouteText::new(
        route,
        words::source_words(route.source),
        Some(filter),
        (Dialect::AwsIotSql, "AWS IoT SQL"),
        destinations,
    )
}

/// What a device may do under the fleet's IoT policy, and what services and credentials get.
fn access(m: &Model) -> Access {
    let shown = |t: &crate::model::topic::Topic| {
        format!("`{}` (policy resource `{}`)", t.as_str(), t.aws_policy())
    };
    let unscoped: Vec<String> = m
        .access
        .publish
        .iter()
        .chain(&m.access.subscribe)
        .filter(|t| !t.is_device_scoped())
        .map(|t| format!("`{}`", t.as_str()))
        .collect();
    let mut may: Vec<String> = m
        .access
        .publish
        .iter()
        .map(|t| format!("publish to {}", shown(t)))
        .collect();
    may.extend(
        m.access
            .subscribe
            .iter()
            .map(|t| format!("subscribe to and receive {}", shown(t))),
    );
    if m.messaging.state {
        may.push("read and update its own shadow (`$aws/things/<its name>/shadow/...`)".to_owned());
    }
    Access {
        may,
        unscoped,
        services: services(m),
        credentials: m.access.cloud_credentials.as_ref().map(|c| {
            format!(
                "Devices exchange their certificate for temporary AWS credentials ({} s) through the role alias `{}` and may then {}.",
                int(c.duration_seconds.into()),
                super::names::fit(&format!("{}-{}", m.stack.prefix, c.role_alias), super::names::IOT_NAME, '-'),
                and_list(&credential_grants(c))
            )
        }),
    }
}

/// The optional features, as the planner decided them.
fn optional(m: &Model, flags: &Flags) -> Vec<Optional> {
    let f = &m.features;
    vec![
        Optional {
            name: "state store",
            asked: f.state_store,
            built: Ok(
                "a DynamoDB table (on-demand, point-in-time recovery) holds the latest message of every device, written by the routes that send to `state_store`.",
            ),
        },
        Optional {
            name: "OTA updates",
            asked: f.ota,
            built: Ok(
                "a firmware bucket, an AWS Signer profile and IoT job documents; a job tells each device where to fetch its signed image.",
            ),
        },
        Optional {
            name: "analytics",
            asked: f.analytics,
            built: if flags.analytics {
                Ok(
                    "a Glue table with partition projection over the archive and an Athena workgroup, so data is queryable the day it lands, without crawlers.",
                )
            } else {
                Err(
                    "Glue and Athena query what Firehose archives, and no route sends to `archive` (or to a Firehose `stream`).",
                )
            },
        },
        Optional {
            name: "web API",
            asked: f.web_api,
            built: Ok(
                "a read-only HTTP API (API Gateway with IAM auth and a Lambda function) over the state table, with a Cognito identity pool for the web app.",
            ),
        },
    ]
}

/// The explanation of `m` on AWS, from the planner's `flags`.
pub(super) fn story(m: &Model, aws: &Aws, flags: &Flags) -> Story {
    let p = &aws.provisioning;
    let method = match p.method {
        AwsProvisioningMethod::Manual => ("manual", "Manual registration"),
        AwsProvisioningMethod::Jitp => ("jitp", "Just-in-time provisioning (JITP)"),
        AwsProvisioningMethod::Jitr => ("jitr", "Just-in-time registration (JITR)"),
        AwsProvisioningMethod::FleetByClaim => ("fleet_by_claim", "Fleet provisioning by claim"),
        AwsProvisioningMethod::TrustedUser => {
            ("trusted_user", "Fleet provisioning by trusted user")
        }
    };
    let uses_ca = matches!(
        p.method,
        AwsProvisioningMethod::Manual | AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr
    );
    let provisioning = Provisioning {
        method: method.0,
        name: method.1,
        ca_mode: uses_ca.then_some(match p.certificate_mode {
            CertificateMode::Default => "default",
            CertificateMode::SniOnly => "sni_only",
        }),
        hook: p.pre_provisioning_hook,
        registry: (!m.fleet.registry.is_empty()).then(|| int(m.fleet.registry.len() as u64)),
        dps_name: None,
        allocation: None,
        hubs: Vec::new(),
        groups: Vec::new(),
        reprovisioning: None,
    };

    // Where each route writes: the actions of its topic rule, as the planner builds them.
    let routes = m
        .routes
        .iter()
        .map(|r| {
            let dests: Vec<String> = route_actions(flags, r)
                .into_iter()
                .map(|a| {
                    match a {
                        Action::Kinesis => "the Kinesis data stream",
                        Action::Firehose => "Firehose (into the archive bucket)",
                        Action::State => "the DynamoDB state table",
                    }
                    .to_owned()
                })
                .collect();
            let mut words = and_list(&dests);
            if flags.firehose_reads_kinesis && r.to.contains(&Destination::Archive) {
                words.push_str(", which Firehose reads into the archive bucket");
            }
            route_text(m, r, words)
        })
        .collect();

    let t = &m.traffic;
    let mut sizing = Vec::new();
    if flags.kinesis {
        let s = &aws.stream;
        match s.kinesis_capacity {
            KinesisCapacity::Provisioned => sizing.push(format!(
                "**Kinesis Data Streams, provisioned: {} shard{}.** A shard takes 1 MiB/s or 1,000 records/s of writes and throttles above either, so the peak decides: max(1, ⌈{}/s ÷ 1 MiB/s⌉, ⌈{} records/s ÷ 1,000⌉) = max(1, {}, {}) = {}. Records are kept {} hours, so consumers can replay that far back.",
                s.kinesis_shards,
                if s.kinesis_shards == 1 { "" } else { "s" },
                volume(t.peak_bytes_per_second),
                dec(t.peak_messages_per_second),
                (t.peak_bytes_per_second / capacity::MIB as f64).ceil(),
                (t.peak_messages_per_second / 1000.0).ceil(),
                s.kinesis_shards,
                s.kinesis_retention_hours
            )),
            KinesisCapacity::OnDemand => sizing.push(format!(
                "**Kinesis Data Streams, on-demand.** No shards to size: the stream follows the traffic and is billed per GB and stream-hour. Provisioned, the peak of {} messages/s and {}/s would need {} shard{}. Records are kept {} hours.",
                dec(t.peak_messages_per_second),
                volume(t.peak_bytes_per_second),
                s.kinesis_shards,
                if s.kinesis_shards == 1 { "" } else { "s" },
                s.kinesis_retention_hours
            )),
        }
    }
    if flags.firehose {
        let s = &aws.stream;
        let per_day = t.messages_per_day * m.messaging.message_bytes as f64;
        let window = per_day * f64::from(s.firehose_buffer_seconds) / capacity::SECONDS_PER_DAY;
        let buffer = f64::from(s.firehose_buffer_mib) * capacity::MIB as f64;
        let by_device = flags.partition_by_device;
        let intervals = capacity::SECONDS_PER_DAY / f64::from(s.firehose_buffer_seconds);
        let objects = if by_device {
            intervals * t.devices as f64
        } else {
            intervals.max(per_day / buffer)
        }
        .max(1.0);
        let layout = if by_device {
            format!(
                " Objects are filed by day and device (a fleet planned at {} devices stays within Firehose's 500 active partitions), one per device per interval.",
                int(m.traffic.planned_devices)
            )
        } else {
            format!(
                " Objects are filed by day and hour: a folder per device would make each of the {} planned devices an active partition, past Firehose's 500, and write objects too small to tier.",
                int(m.traffic.planned_devices)
            )
        };
        sizing.push(format!(
            "**Amazon Data Firehose** needs no sizing: it scales by itself. It writes an object when {} s pass or {} MiB arrive, whichever comes first. Today's {} a day is {} per {} s, {}, so Firehose writes about {} objects a day{}.{layout}",
            s.firehose_buffer_seconds,
            s.firehose_buffer_mib,
            bytes(per_day),
            volume(window),
            s.firehose_buffer_seconds,
            if window < buffer { "below the size limit: time decides" } else { "above the size limit: size decides" },
            int(objects.round() as u64),
            if flags.firehose_reads_kinesis { ", reading the Kinesis stream" } else { "" }
        ));
    }
    sizing.push(
        "**AWS IoT Core** needs no capacity planning; it meters each message in 5 KB blocks."
            .to_owned()
            + &format!(
                " A {} message counts as {}.",
                bytes(m.messaging.message_bytes as f64),
                int(capacity::aws_iot_message_units(m.messaging.message_bytes))
            ),
    );

    let store = if flags.archive {
        match &aws.archive_bucket {
            Some(name) => format!("the S3 bucket `{name}`"),
            None => format!("the S3 bucket `{}-<account id>`", aws.archive_bucket_stem),
        }
    } else {
        String::new()
    };
    let archive = if flags.archive {
        archive(
            m,
            &TIERS,
            store,
            Vec::new(),
            "Data is encrypted with the stack's own KMS key (rotated yearly).",
        )
    } else {
        None
    };

    let alerts = m
        .alerts
        .iter()
        .map(|a| {
            let action = match (a.function, a.notify) {
                (true, true) => format!("invokes the alert Lambda, which records the alert and notifies {} through the SNS topic", who(m)),
                (true, false) => "invokes the alert Lambda, which records the alert".to_owned(),
                (false, true) => format!("publishes to the SNS topic, which e-mails {}", who(m)),
                (false, false) => "is counted (neither a function nor a notification is asked for)".to_owned(),
            };
            format!(
                "**{}**: when {} (AWS IoT SQL `{}`), a topic rule {action}; {}.",
                a.name,
                condition_words(&a.condition),
                a.condition.render(Dialect::AwsIotSql),
                alert_volume(m, a.expected_match_fraction)
            )
        })
        .collect();

    let (mut features, features_off) = features(&optional(m, flags));
    if aws.fleet_indexing {
        features.push("**fleet indexing**: things, shadows and connectivity are indexed, so you can search the fleet (for example `connectivity.connected:false`).".to_owned());
    }
    if aws.basic_ingest {
        features.push("**Basic Ingest**: devices may publish straight to `$aws/rules/<rule>/…`, which skips the messaging charge.".to_owned());
    }

    let mut before = Vec::new();
    let mut after = Vec::new();
    let id = &m.identity;
    if uses_ca || p.method == AwsProvisioningMethod::FleetByClaim {
        if id.ca == CaSource::Generated {
            before.push(format!("Make the fleet CA offline, outside Terraform state: `fleetform certs init --out certs` writes the root and signing CA; the spec reads `{}`. Keep `root-ca.key` offline.", id.ca_certificate_file));
        } else {
            before.push(format!(
                "Put your CA certificate at `{}` (relative to the spec).",
                id.ca_certificate_file
            ));
        }
    }
    if uses_ca && p.certificate_mode == CertificateMode::Default {
        before.push("Prove to AWS IoT that you hold the CA key: `aws iot get-registration-code`, then `fleetform certs verify-aws --registration-code <code>` makes the verification certificate the CA registration needs (DEFAULT mode).".to_owned());
    }
    match p.method {
        AwsProvisioningMethod::Manual => {
            before.push("Issue each registered device's certificate, e.g. `fleetform certs device --registry <registry file>`; Terraform registers the certificates with their things.".to_owned());
            after.push("Install each device's `device.pem`, `device.key` and the Amazon root CA; a device connects with its thing name as client id.".to_owned());
        }
        AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr => {
            after.push("Issue device certificates from the signing CA (`fleetform certs device --id <id>` or `--csr <file>` for keys made on the device) with the subject fields the template reads; the common name becomes the thing name.".to_owned());
            after.push(
                "Devices present `chain.pem` (device + signing CA) on their first TLS connection."
                    .to_owned(),
            );
            if p.method == AwsProvisioningMethod::Jitr {
                after.push("JITR refuses the very first connection while the activator Lambda activates the certificate: make sure device firmware retries with back-off.".to_owned());
            }
        }
        AwsProvisioningMethod::FleetByClaim => {
            after.push("Make a claim certificate (`fleetform certs claim --name <batch>`), register it (`aws iot register-certificate --set-as-active`) and attach the claim policy the stack outputs; it may only use the provisioning topics.".to_owned());
            after.push("Flash the claim certificate into devices at manufacture. On first boot a device connects with the claim as client id `<claim_client_id_prefix><serial number>`, calls `CreateKeysAndCertificate` (or `CreateCertificateFromCsr`) and `RegisterThing` with the provisioning template, then reconnects with its own certificate.".to_owned());
            after.push("Put every device's serial number on the allow list (`terraform output -raw provisioning_allow_list_table`) before it ships: the pre-provisioning hook refuses any other.".to_owned());
        }
        AwsProvisioningMethod::TrustedUser => {
            after.push("Give your installer app permission to call `CreateProvisioningClaim` for the template; the claim it returns is valid for 5 minutes and is handed to the device during setup.".to_owned());
            after.push("Put every device's serial number on the allow list (`terraform output -raw provisioning_allow_list_table`) before it ships: the pre-provisioning hook refuses any other.".to_owned());
        }
    }
    if m.features.ota {
        after.push("Upload firmware images to the firmware bucket and sign them with the Signer profile before creating IoT jobs.".to_owned());
    }
    let verify = vec![
        "`aws iot describe-endpoint --endpoint-type iot:Data-ATS` gives the endpoint devices connect to.".to_owned(),
        format!(
            "Publish a test message as a device to `{}` (for example with `mosquitto_pub --cert device.pem --key device.key`) and watch it in the MQTT test client.",
            m.messaging.telemetry_topic.for_device("test-device-1", "test")
        ),
        if flags.archive {
            format!(
                "After about {} s the first object lands in the archive bucket.",
                aws.stream.firehose_buffer_seconds
            )
        } else {
            "Read the stream with a consumer to see the message arrive.".to_owned()
        },
    ];

    Story {
        cloud: Cloud::Aws,
        title: "AWS",
        place: aws.region.clone(),
        identity: identity(m),
        provisioning,
        access: access(m),
        routes,
        sizing,
        archive,
        alerts,
        monitoring: monitoring(m, "CloudWatch"),
        features,
        features_off,
        before_apply: before,
        after_apply: after,
        verify,
    }
}
