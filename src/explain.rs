//! `fleetform explain`: what a spec will build and why, in plain language.
//!
//! Workshops and design reviews need the architecture told as a story an IoT architect
//! would tell it: the fleet and its traffic, how devices get identities, what each may do,
//! where messages go, how the stream is sized (with the arithmetic), how long data lives in
//! which tier, who gets alerted, and what to do around `terraform apply`. The facts come
//! from the validated [`Model`], the shared capacity math, and the planners' own decisions
//! (which streams and features are built, where each route delivers), exactly as the
//! diagrams read them; the words live in the `explain/explain.md.j2` blueprint,
//! so wording changes never touch code. This module only computes a serializable
//! [`Explanation`] and wraps the rendered text for a terminal.

use std::fmt::Write as _;

use serde::Serialize;

use crate::capacity::{self, StorageClass};
use crate::clouds::aws::{self as aws_plan, Action};
use crate::clouds::azure::{Design, Endpoint};
use crate::cost::format::{bytes, int, num};
use crate::diagram::{
    self, and_list, auth_words, eh_tier_name, key_words, replication_name, sku_name, source_words,
    tier_name,
};
use crate::model::condition::{Dialect, Expr, Literal, Op};
use crate::model::{
    Allocation, AuthMethod, Aws, AwsProvisioningMethod, Azure, AzureAlertEngine, CaSource,
    CertificateMode, CredentialGrant, Destination, Encryption, EventHubsTier, HubSku,
    KinesisCapacity, Model, Reprovisioning, Route, RouteSource, ServicePermission, StorageTier,
};
use crate::plan::{Cloud, PlanError};

/// Lines are wrapped to this width (Markdown keeps soft-wrapped paragraphs intact).
pub const WIDTH: usize = 96;

/// Everything the explanation says, as facts and short phrases for the blueprint.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub stack: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// `AWS (us-west-2) and Azure (westeurope)`.
    pub targets: String,
    pub fleet: Fleet,
    pub clouds: Vec<CloudPart>,
}

/// The fleet and its traffic, cloud-neutral.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub devices: String,
    pub planned: String,
    pub growth_percent: u32,
    pub types: Vec<String>,
    pub groups: Vec<String>,
    pub registry: Option<String>,
    pub messages_per_hour: String,
    pub message_bytes: String,
    pub connected_hours: String,
    pub messages_per_day: String,
    pub bytes_per_day: String,
    /// The peak arithmetic, ending in the peak message rate.
    pub peak: String,
    pub peak_bytes: String,
    pub state: Option<String>,
    pub commands: Option<String>,
    pub methods: Option<String>,
}

/// One cloud's part of the story.
#[derive(Debug, Clone, Serialize)]
pub struct CloudPart {
    /// `aws` or `azure`: the blueprint picks its wording by this.
    pub cloud: Cloud,
    pub title: &'static str,
    pub place: String,
    pub identity: Identity,
    pub provisioning: Provisioning,
    pub access: Access,
    pub routes: Vec<RouteText>,
    /// Sizing paragraphs, each with its arithmetic.
    pub sizing: Vec<String>,
    pub archive: Option<Archive>,
    pub alerts: Vec<String>,
    pub monitoring: String,
    pub features: Vec<String>,
    pub features_off: Vec<&'static str>,
    pub before_apply: Vec<String>,
    pub after_apply: Vec<String>,
    pub verify: Vec<String>,
}

/// How devices prove who they are.
#[derive(Debug, Clone, Serialize)]
pub struct Identity {
    /// `x509`, `symmetric_key` or `tpm`.
    pub method: &'static str,
    pub summary: String,
    pub ca_generated: bool,
    pub ca_file: String,
    pub subject: Option<String>,
    pub validity: String,
}

/// How devices get registered, by method.
#[derive(Debug, Clone, Serialize)]
pub struct Provisioning {
    /// AWS: `manual`, `jitp`, `jitr`, `fleet_by_claim`, `trusted_user`; Azure: `dps`, `none`.
    pub method: &'static str,
    pub name: &'static str,
    pub ca_mode: Option<&'static str>,
    pub hook: bool,
    pub registry: Option<String>,
    pub dps_name: Option<String>,
    pub allocation: Option<String>,
    pub hubs: Vec<String>,
    pub groups: Vec<String>,
    pub reprovisioning: Option<&'static str>,
}

/// What devices and services may do.
#[derive(Debug, Clone, Serialize)]
pub struct Access {
    /// What a device may do, each starting with a verb.
    pub may: Vec<String>,
    pub unscoped: Vec<String>,
    pub services: Vec<String>,
    pub credentials: Option<String>,
}

/// A route in words.
#[derive(Debug, Clone, Serialize)]
pub struct RouteText {
    pub name: String,
    pub source: &'static str,
    pub filter: Option<String>,
    pub condition: Option<String>,
    pub dialect: &'static str,
    pub compiled: Option<String>,
    pub destinations: String,
}

/// The archive lifecycle.
#[derive(Debug, Clone, Serialize)]
pub struct Archive {
    pub store: String,
    pub steps: Vec<String>,
    pub expiry: String,
    pub notes: Vec<String>,
}

/// Builds the explanation of `model` for `clouds` (clouds it does not target are skipped).
pub fn explanation(model: &Model, clouds: &[Cloud]) -> Explanation {
    let parts: Vec<CloudPart> = clouds
        .iter()
        .filter_map(|c| match c {
            Cloud::Aws => model.aws.as_ref().map(|aws| aws_part(model, aws)),
            Cloud::Azure => model.azure.as_ref().map(|az| azure_part(model, az)),
        })
        .collect();
    let targets: Vec<String> = parts
        .iter()
        .map(|p| format!("{} ({})", p.title, p.place))
        .collect();
    Explanation {
        stack: model.stack.prefix.clone(),
        description: model.stack.description.clone(),
        owner: model.stack.owner.clone(),
        targets: and_list(&targets),
        fleet: fleet(model),
        clouds: parts,
    }
}

/// Renders the explanation of `model` on `clouds` as Markdown text wrapped to [`WIDTH`].
pub fn render(model: &Model, clouds: &[Cloud]) -> Result<String, PlanError> {
    let text = crate::blueprint::render("explain/explain.md.j2", explanation(model, clouds))?;
    Ok(wrap_markdown(&text, WIDTH))
}

/// Renders every cloud the model targets.
pub fn render_all(model: &Model) -> Result<String, PlanError> {
    render(model, &diagram::targeted(model))
}

/// A byte rate or volume, whole bytes below 10 KB: `683 B`, `57.29 KB`.
fn volume(v: f64) -> String {
    if v < 10_240.0 {
        bytes(v.round())
    } else {
        bytes(v)
    }
}

/// A number rounded to two decimals, grouped: `176`, `68.75`.
fn dec(v: f64) -> String {
    num((v * 100.0).round() / 100.0)
}

fn fleet(m: &Model) -> Fleet {
    let t = &m.traffic;
    let msg = &m.messaging;
    let per_second = t.planned_devices as f64 * msg.messages_per_device_per_hour / 3600.0;
    let mut peak = format!(
        "{} planned devices × {} messages/h ÷ 3,600 s = {} messages/s on average",
        int(t.planned_devices),
        num(msg.messages_per_device_per_hour),
        dec(per_second)
    );
    let _ = write!(peak, ", × peak factor {}", num(msg.peak_factor));
    if (t.headroom - 1.0).abs() > f64::EPSILON {
        let _ = write!(
            peak,
            " × {} headroom ({} %)",
            num(t.headroom),
            m.cost.headroom_percent
        );
    }
    let _ = write!(peak, " = {} messages/s", dec(t.peak_messages_per_second));
    Fleet {
        devices: int(t.devices),
        planned: int(t.planned_devices),
        growth_percent: m.fleet.growth_percent_per_year,
        types: m
            .fleet
            .device_types
            .iter()
            .map(|d| {
                let mut s = format!("`{}`", d.name);
                if let Some(desc) = &d.description {
                    let _ = write!(s, " ({})", desc.trim_end_matches('.'));
                }
                if !d.searchable_attributes.is_empty() {
                    let _ = write!(s, ", searchable by {}", and_list(&d.searchable_attributes));
                }
                s
            })
            .collect(),
        groups: m
            .fleet
            .groups
            .iter()
            .map(|g| match &g.parent {
                Some(p) => format!("`{}` (in `{p}`)", g.name),
                None => format!("`{}`", g.name),
            })
            .collect(),
        registry: (!m.fleet.registry.is_empty()).then(|| int(m.fleet.registry.len() as u64)),
        messages_per_hour: num(msg.messages_per_device_per_hour),
        message_bytes: bytes(msg.message_bytes as f64),
        connected_hours: num(msg.connected_hours_per_day),
        messages_per_day: int(t.messages_per_day.round() as u64),
        bytes_per_day: bytes(t.messages_per_day * msg.message_bytes as f64),
        peak,
        peak_bytes: format!(
            "{} messages/s × {} = {}/s",
            dec(t.peak_messages_per_second),
            bytes(msg.message_bytes as f64),
            volume(t.peak_bytes_per_second)
        ),
        state: msg.state.then(|| {
            format!(
                "{} state updates a day of {}",
                num(msg.state_updates_per_device_per_day),
                bytes(msg.state_document_bytes as f64)
            )
        }),
        commands: msg
            .commands
            .then(|| format!("{} commands a day", num(msg.commands_per_device_per_day))),
        methods: msg.direct_methods.then(|| {
            format!(
                "{} direct-method calls a day",
                num(msg.method_calls_per_device_per_day)
            )
        }),
    }
}

fn identity(m: &Model) -> Identity {
    let id = &m.identity;
    let s = &id.subject;
    let subject: Vec<String> = [
        ("O", &s.organization),
        ("OU", &s.organizational_unit),
        ("C", &s.country),
        ("ST", &s.state),
        ("L", &s.locality),
    ]
    .into_iter()
    .filter_map(|(k, v)| v.as_ref().map(|v| format!("{k}={v}")))
    .collect();
    Identity {
        method: match id.method {
            AuthMethod::X509 => "x509",
            AuthMethod::SymmetricKey => "symmetric_key",
            AuthMethod::Tpm => "tpm",
        },
        summary: auth_words(m),
        ca_generated: id.ca == CaSource::Generated,
        ca_file: id.ca_certificate_file.clone(),
        subject: (!subject.is_empty()).then(|| subject.join(", ")),
        validity: format!(
            "device certificates {} days, signing CA {} days, root CA {} days, {} keys",
            int(id.validity.device_days.into()),
            int(id.validity.signing_ca_days.into()),
            int(id.validity.root_ca_days.into()),
            key_words(id.key_algorithm)
        ),
    }
}

/// A condition in words: `temperature is above 80 and status is 'ok'`.
pub fn condition_words(e: &Expr) -> String {
    fn go(e: &Expr, parent: u8) -> String {
        match e {
            Expr::Or(a, b) => {
                let text = format!("{} or {}", go(a, 1), go(b, 1));
                if parent > 1 {
                    format!("either {text}")
                } else {
                    text
                }
            }
            Expr::And(a, b) => {
                let text = format!("{} and {}", go(a, 2), go(b, 2));
                if parent > 2 {
                    format!("({text})")
                } else {
                    text
                }
            }
            Expr::Not(inner) => format!("not ({})", go(inner, 0)),
            Expr::Compare { field, op, value } => {
                let op = match op {
                    Op::Eq => "is",
                    Op::Ne => "is not",
                    Op::Lt => "is below",
                    Op::Le => "is at most",
                    Op::Gt => "is above",
                    Op::Ge => "is at least",
                };
                let value = match value {
                    Literal::Number(n) => format!("{n}"),
                    Literal::Bool(b) => format!("{b}"),
                    Literal::Text(t) => format!("'{t}'"),
                };
                format!("`{field}` {op} {value}")
            }
            Expr::Truthy(field) => format!("`{field}` is true"),
            Expr::Bool(true) => "always".to_owned(),
            Expr::Bool(false) => "never".to_owned(),
        }
    }
    go(e, 0)
}

fn route_text(m: &Model, cloud: Cloud, route: &Route, destinations: String) -> RouteText {
    let dialect = match cloud {
        Cloud::Aws => Dialect::AwsIotSql,
        Cloud::Azure => Dialect::IotHubRouting,
    };
    RouteText {
        name: route.name.clone(),
        source: source_words(cloud, route.source),
        filter: (cloud == Cloud::Aws).then(|| match route.source {
            RouteSource::Telemetry => m.messaging.telemetry_topic.filter(),
            RouteSource::StateChanges => "$aws/things/+/shadow/update/documents".to_owned(),
            RouteSource::Lifecycle => "$aws/events/thing/+/+".to_owned(),
            RouteSource::ConnectionState => "$aws/events/presence/+/+".to_owned(),
        }),
        condition: route.condition.as_ref().map(condition_words),
        dialect: match cloud {
            Cloud::Aws => "AWS IoT SQL",
            Cloud::Azure => "IoT Hub routing query",
        },
        compiled: route.condition.as_ref().map(|c| c.render(dialect)),
        destinations,
    }
}

fn access(m: &Model, cloud: Cloud) -> Access {
    let shown = |t: &crate::model::topic::Topic| match cloud {
        Cloud::Aws => format!("`{}` (policy resource `{}`)", t.as_str(), t.aws_policy()),
        Cloud::Azure => format!("`{}`", t.as_str()),
    };
    let unscoped: Vec<String> = m
        .access
        .publish
        .iter()
        .chain(&m.access.subscribe)
        .filter(|t| !t.is_device_scoped())
        .map(|t| format!("`{}`", t.as_str()))
        .collect();
    let (may, unscoped) = match cloud {
        Cloud::Aws => {
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
                may.push(
                    "read and update its own shadow (`$aws/things/<its name>/shadow/...`)"
                        .to_owned(),
                );
            }
            (may, unscoped)
        }
        // IoT Hub's MQTT topics are fixed and per device; the spec's topics do not apply.
        Cloud::Azure => {
            let mut may = vec![
                "send device-to-cloud messages (`devices/<its id>/messages/events/`)".to_owned(),
            ];
            if m.messaging.commands {
                may.push("receive its own cloud-to-device messages (commands)".to_owned());
            }
            if m.messaging.direct_methods {
                may.push("answer direct methods called on it".to_owned());
            }
            if m.messaging.state {
                may.push(
                    "read its twin's desired properties and update its reported ones".to_owned(),
                );
            }
            (may, Vec::new())
        }
    };
    Access {
        may,
        unscoped,
        services: m
            .access
            .services
            .iter()
            .map(|s| {
                let can: Vec<String> = s
                    .access
                    .iter()
                    .map(|p| {
                        match p {
                            ServicePermission::RegistryRead => "read device identities and state",
                            ServicePermission::RegistryWrite => {
                                "create, update and delete devices"
                            }
                            ServicePermission::ServiceConnect => {
                                "send commands and read device messages"
                            }
                            ServicePermission::DeviceConnect => "connect on behalf of devices",
                        }
                        .to_owned()
                    })
                    .collect();
                format!("`{}` may {}", s.name, and_list(&can))
            })
            .collect(),
        credentials: m.access.cloud_credentials.as_ref().map(|c| {
            let grants: Vec<String> = c
                .grants
                .iter()
                .map(|g| {
                    match g {
                        CredentialGrant::FirmwareRead => "download firmware images",
                        CredentialGrant::ArchiveUpload => {
                            "upload files under their own prefix of the archive"
                        }
                        CredentialGrant::StateRead => "read their own item in the state table",
                    }
                    .to_owned()
                })
                .collect();
            match cloud {
                Cloud::Aws => format!(
                    "Devices exchange their certificate for temporary AWS credentials ({} s) through the role alias `{}` and may then {}.",
                    int(c.duration_seconds.into()),
                    c.role_alias,
                    and_list(&grants)
                ),
                Cloud::Azure => "Azure has no certificate-based credentials provider like AWS IoT's role alias; devices reach other services through the hub (file upload) or a back end.".to_owned(),
            }
        }),
    }
}

fn minimum_days(cloud: Cloud, tier: StorageTier) -> u32 {
    match cloud {
        Cloud::Aws => tier.s3_class().minimum_storage_days(),
        Cloud::Azure => tier.blob_tier().minimum_storage_days(),
    }
}

fn retrieval(cloud: Cloud, tier: StorageTier) -> &'static str {
    match (cloud, tier) {
        (_, StorageTier::Hot) => "read at once",
        (Cloud::Aws, StorageTier::Cool) => "read at once, paying per GB read",
        (Cloud::Aws, StorageTier::Cold) => "read in milliseconds, paying more per GB read",
        (Cloud::Aws, StorageTier::Archive) => "restored in minutes to hours before reading",
        (Cloud::Aws, StorageTier::DeepArchive) => "restored within 12 to 48 hours before reading",
        (Cloud::Azure, StorageTier::Cool | StorageTier::Cold) => "read at once, paying per GB read",
        (Cloud::Azure, StorageTier::Archive | StorageTier::DeepArchive) => {
            "offline: rehydrated in hours before reading"
        }
    }
}

fn archive(m: &Model, cloud: Cloud, store: String) -> Option<Archive> {
    let a = m.archive.as_ref()?;
    let mut steps = Vec::new();
    let mut notes = Vec::new();
    let mut from = 0u32;
    let mut tier = StorageTier::Hot;
    let ends: Vec<Option<u32>> = a
        .lifecycle
        .iter()
        .map(|t| Some(t.after_days))
        .chain(std::iter::once(a.expire_after_days))
        .collect();
    for (i, end) in ends.iter().enumerate() {
        let span = match end {
            Some(to) => format!("days {}–{}", int(from.into()), int((*to).into())),
            None => format!("from day {} on", int(from.into())),
        };
        let min = minimum_days(cloud, tier);
        let min_text = if min > 0 {
            format!(", billed for at least {min} days")
        } else {
            String::new()
        };
        if let Some(to) = end
            && *to > from
            && to - from < min
        {
            notes.push(format!(
                "Objects leave {} after {} days, before its {min}-day minimum: the remaining days are billed as an early-deletion fee, which the spec accepts.",
                tier_name(cloud, tier),
                to - from
            ));
        }
        // A transition at the day objects are written skips the tier.
        if end.is_none_or(|to| to > from) {
            steps.push(format!(
                "{span}: **{}** ({}{min_text})",
                tier_name(cloud, tier),
                retrieval(cloud, tier)
            ));
        }
        if let Some(t) = a.lifecycle.get(i) {
            from = t.after_days;
            tier = t.tier;
        }
    }
    let expiry = match a.expire_after_days {
        Some(d) => format!(
            "Objects are deleted {} days after they were written.",
            int(d.into())
        ),
        None => "Objects are kept until someone deletes them: no expiry is set.".to_owned(),
    };
    if cloud == Cloud::Azure
        && a.lifecycle
            .iter()
            .any(|t| t.tier == StorageTier::DeepArchive)
    {
        notes.push(
            "Azure has no tier colder than Archive, so `deep_archive` becomes Blob Archive."
                .to_owned(),
        );
    }
    if a.versioning {
        notes.push(format!(
            "Versioning is on: an overwritten or deleted object stays recoverable for {} days.",
            int(a.noncurrent_versions_expire_after_days.into())
        ));
    }
    notes.push(match (a.encryption, cloud) {
        (Encryption::CustomerManaged, Cloud::Aws) => {
            "Data is encrypted with the stack's own KMS key (rotated yearly).".to_owned()
        }
        (Encryption::CustomerManaged, Cloud::Azure) => {
            "Data is encrypted with the stack's own Key Vault key.".to_owned()
        }
        (Encryption::PlatformManaged, _) => {
            "Data is encrypted with a key the cloud manages.".to_owned()
        }
    });
    if !a.prefixes.is_empty() {
        let p: Vec<String> = a.prefixes.iter().map(|p| format!("`{p}`")).collect();
        notes.push(format!(
            "Only objects under {} follow this lifecycle.",
            and_list(&p)
        ));
    }
    Some(Archive {
        store,
        steps,
        expiry,
        notes,
    })
}

/// An optional feature as one cloud's planner decided it.
struct Optional {
    name: &'static str,
    /// The spec turns it on.
    asked: bool,
    /// What is built, or why nothing is (when asked for, but not built on this cloud).
    built: Result<&'static str, &'static str>,
}

/// The features that are on (built, or asked for but not built, with the reason) and the
/// names of those the spec leaves off.
fn features(items: &[Optional]) -> (Vec<String>, Vec<&'static str>) {
    let mut on = Vec::new();
    let mut off = Vec::new();
    for f in items {
        match (f.asked, f.built) {
            (false, _) => off.push(f.name),
            (true, Ok(what)) => on.push(format!("**{}**: {what}", f.name)),
            (true, Err(why)) => on.push(format!("**{}**: asked for, but not built: {why}", f.name)),
        }
    }
    (on, off)
}

/// The optional features on AWS, from the AWS planner's decisions.
fn aws_features(m: &Model, flags: &aws_plan::Flags) -> Vec<Optional> {
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

/// The optional features on Azure, from the Azure planner's decisions.
fn azure_features(d: &Design) -> Vec<Optional> {
    let f = &d.m.features;
    vec![
        Optional {
            name: "state store",
            asked: f.state_store,
            built: Ok(
                "a Cosmos DB container holds the latest message of every device, written by the routes that send to `state_store`.",
            ),
        },
        Optional {
            name: "OTA updates",
            asked: f.ota,
            built: if d.ota {
                Ok(
                    "Device Update for IoT Hub rolls images out to groups of devices through their twins.",
                )
            } else {
                Err("Device Update needs Standard-tier hubs; set `iot_hub.tier: standard`.")
            },
        },
        Optional {
            name: "analytics",
            asked: f.analytics,
            built: Ok(
                "Azure Data Explorer ingests the stream, so telemetry is queryable within minutes.",
            ),
        },
        Optional {
            name: "web API",
            asked: f.web_api,
            built: Err(
                "no API layer is generated on Azure; read device twins with the IoT Hub service SDK, or the state store with Cosmos DB data roles.",
            ),
        },
    ]
}

fn monitoring(m: &Model, cloud: Cloud) -> String {
    let logs = match cloud {
        Cloud::Aws => "CloudWatch",
        Cloud::Azure => "Log Analytics",
    };
    let mut s = format!(
        "Logs go to {logs} and are kept {} days.",
        int(m.monitoring.log_retention_days.into())
    );
    if m.monitoring.alarms {
        s.push_str(" Alarms notify ");
        if m.monitoring.emails.is_empty() {
            s.push_str("nobody yet (add `monitoring.notify.email`).");
        } else {
            let _ = write!(s, "{}.", and_list(&m.monitoring.emails));
        }
    }
    if let Some(budget) = m.cost.monthly_budget_usd {
        let _ = write!(
            s,
            " A monthly budget of {} warns before the bill runs over.",
            crate::cost::format::usd(budget)
        );
    }
    s
}

fn who(m: &Model) -> String {
    if m.monitoring.emails.is_empty() {
        "nobody yet (add `monitoring.notify.email`)".to_owned()
    } else {
        and_list(&m.monitoring.emails)
    }
}

fn alert_volume(m: &Model, fraction: f64) -> String {
    format!(
        "expected to match {} of messages, about {} a day",
        crate::cost::format::pct(fraction),
        int((m.traffic.messages_per_day * fraction).round() as u64)
    )
}

fn aws_part(m: &Model, aws: &Aws) -> CloudPart {
    let flags = aws_plan::Flags::new(m, aws);
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
            let dests: Vec<String> = aws_plan::route_actions(&flags, r)
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
            route_text(m, Cloud::Aws, r, words)
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
        archive(m, Cloud::Aws, store)
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

    let (mut features, features_off) = features(&aws_features(m, &flags));
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

    CloudPart {
        cloud: Cloud::Aws,
        title: "AWS",
        place: aws.region.clone(),
        identity: identity(m),
        provisioning,
        access: access(m, Cloud::Aws),
        routes,
        sizing,
        archive,
        alerts,
        monitoring: monitoring(m, Cloud::Aws),
        features,
        features_off,
        before_apply: before,
        after_apply: after,
        verify,
    }
}

/// Quota messages one device adds per day on a paid IoT Hub tier, as terms and a total.
fn hub_quota_terms(m: &Model) -> (Vec<String>, f64) {
    let msg = &m.messaging;
    let blocks = |b: u64| capacity::azure_hub_quota_messages(b) as f64;
    let mut terms = vec![format!(
        "{} telemetry × {} block{}",
        num(msg.messages_per_device_per_hour * msg.connected_hours_per_day),
        num(blocks(msg.message_bytes)),
        if blocks(msg.message_bytes) > 1.0 {
            "s"
        } else {
            ""
        }
    )];
    let mut total =
        msg.messages_per_device_per_hour * msg.connected_hours_per_day * blocks(msg.message_bytes);
    if msg.state {
        terms.push(format!(
            "{} twin updates × {}",
            num(msg.state_updates_per_device_per_day),
            num(blocks(msg.state_document_bytes))
        ));
        total += msg.state_updates_per_device_per_day * blocks(msg.state_document_bytes);
    }
    if msg.commands {
        terms.push(format!("{} commands", num(msg.commands_per_device_per_day)));
        total += msg.commands_per_device_per_day;
    }
    if msg.direct_methods {
        terms.push(format!(
            "2 × {} method calls (request and response)",
            num(msg.method_calls_per_device_per_day)
        ));
        total += 2.0 * msg.method_calls_per_device_per_day;
    }
    (terms, total)
}

fn azure_part(m: &Model, az: &Azure) -> CloudPart {
    let provisioning = match &az.dps {
        Some(dps) => Provisioning {
            method: "dps",
            name: "Device Provisioning Service",
            ca_mode: None,
            hook: false,
            registry: (!m.fleet.registry.is_empty())
                .then(|| int(m.fleet.registry.len() as u64)),
            dps_name: Some(az.names.dps.clone()),
            allocation: Some(
                match dps.allocation {
                    Allocation::EvenlyWeighted => "evenly weighted (Hashed): devices are spread over the linked hubs by weight",
                    Allocation::LowestLatency => "lowest latency (GeoLatency): each device goes to the hub nearest to it",
                    Allocation::Static => "static: every device goes to the first linked hub",
                    Allocation::Custom => "custom: an Azure Function picks the hub, per enrollment group",
                }
                .to_owned(),
            ),
            hubs: az
                .hubs
                .iter()
                .map(|h| {
                    if dps.allocation == Allocation::EvenlyWeighted && az.hubs.len() > 1 {
                        format!("`{}` in {} (weight {})", h.name, h.location, h.allocation_weight)
                    } else {
                        format!("`{}` in {}", h.name, h.location)
                    }
                })
                .collect(),
            groups: dps
                .enrollment_groups
                .iter()
                .map(|g| {
                    let attest = match g.attestation {
                        AuthMethod::X509 => "X.509, signing CA",
                        AuthMethod::SymmetricKey => "symmetric key",
                        AuthMethod::Tpm => "TPM",
                    };
                    let mut s = format!("`{}` ({attest}", g.name);
                    if let Some(t) = &g.device_type {
                        let _ = write!(s, ", device type `{t}`");
                    }
                    if g.iot_edge {
                        s.push_str(", IoT Edge");
                    }
                    s.push(')');
                    s
                })
                .collect(),
            reprovisioning: Some(match dps.reprovisioning {
                Reprovisioning::ReprovisionAndMigrate => {
                    "a device that is assigned to another hub takes its twin with it"
                }
                Reprovisioning::ReprovisionAndReset => {
                    "a device that is assigned to another hub starts there with the initial twin"
                }
                Reprovisioning::Never => "a provisioned device never moves to another hub",
            }),
        },
        None => Provisioning {
            method: "none",
            name: "Hub identity registry",
            ca_mode: None,
            hook: false,
            registry: (!m.fleet.registry.is_empty())
                .then(|| int(m.fleet.registry.len() as u64)),
            dps_name: None,
            allocation: None,
            hubs: az
                .hubs
                .iter()
                .map(|h| format!("`{}` in {}", h.name, h.location))
                .collect(),
            groups: Vec::new(),
            reprovisioning: None,
        },
    };

    let d = Design::new(m, az);
    let eh = &az.event_hubs;
    let captures = d.capture;
    // Where each route delivers: the IoT Hub endpoints the planner gives it. An archived
    // route that also goes to the stream is archived by Capture.
    let routes = m
        .routes
        .iter()
        .map(|r| {
            let hub_name = format!("the Event Hub in `{}`", az.names.eventhub_namespace);
            let dests: Vec<String> = d
                .endpoints_for(r)
                .into_iter()
                .map(|e| match e {
                    Endpoint::Stream if captures && r.to.contains(&Destination::Archive) => {
                        format!("{hub_name} (Capture also writes it to Blob storage)")
                    }
                    Endpoint::Stream => hub_name.clone(),
                    Endpoint::Archive => "the Blob storage endpoint".to_owned(),
                    Endpoint::State => "the Cosmos DB state container".to_owned(),
                })
                .collect();
            route_text(m, Cloud::Azure, r, and_list(&dests))
        })
        .collect();

    let t = &m.traffic;
    let hub = &az.hub;
    let mut sizing = Vec::new();
    let (terms, per_device) = hub_quota_terms(m);
    let total = (per_device * t.planned_devices as f64 * t.headroom).ceil();
    let tier_reason = if hub.pinned {
        "The spec pins this size.".to_owned()
    } else if matches!(hub.sku, HubSku::S1 | HubSku::S2 | HubSku::S3)
        && m.messaging.cloud_talks_back()
    {
        let mut needs = Vec::new();
        if m.messaging.state {
            needs.push("twins".to_owned());
        }
        if m.messaging.commands {
            needs.push("cloud-to-device commands".to_owned());
        }
        if m.messaging.direct_methods {
            needs.push("direct methods".to_owned());
        }
        format!(
            "Standard, because {} need a Standard hub; fleetform picks the cheapest size that carries the planned fleet.",
            and_list(&needs)
        )
    } else {
        "fleetform picks the cheapest size that carries the planned fleet.".to_owned()
    };
    let per_unit = hub.daily_quota / u64::from(hub.units.max(1));
    if hub.sku == HubSku::F1 {
        sizing.push(format!(
            "**IoT Hub F1 (free).** It carries {} messages a day, metered in 0.5 KB blocks; the planned fleet needs {}. Use it for trials only.",
            int(hub.daily_quota),
            int(hub.planned_daily_quota_messages)
        ));
    } else {
        let share = if total > 0.0 {
            hub.planned_daily_quota_messages as f64 / total
        } else {
            1.0
        };
        let hubs_text = if az.hubs.len() > 1 {
            format!(
                " With {} hubs, the busiest carries {} of it: {} a day.",
                az.hubs.len(),
                crate::cost::format::pct(share.min(1.0)),
                int(hub.planned_daily_quota_messages)
            )
        } else {
            String::new()
        };
        sizing.push(format!(
            "**IoT Hub {} × {} per hub.** IoT Hub throttles by a daily quota of messages counted in 4 KB blocks. Per device and day: {} = {}. Planned: {} devices × {}{} = {} a day.{hubs_text} {} × {} units = {} × {} = {} a day ({} used). {tier_reason}",
            sku_name(hub.sku),
            hub.units,
            terms.join(" + "),
            num(per_device),
            int(t.planned_devices),
            num(per_device),
            if (t.headroom - 1.0).abs() > f64::EPSILON {
                format!(" × {} headroom", num(t.headroom))
            } else {
                String::new()
            },
            int(total as u64),
            sku_name(hub.sku),
            hub.units,
            hub.units,
            int(per_unit),
            int(hub.daily_quota),
            crate::cost::format::pct(
                hub.planned_daily_quota_messages as f64 / hub.daily_quota.max(1) as f64
            ),
        ));
    }
    if eh.tier == EventHubsTier::Premium {
        sizing.push(format!(
            "**Event Hubs Premium: 1 processing unit** to start; Premium is sized in processing units, not throughput units. {} partitions, {} days retention.",
            eh.partitions, eh.retention_days
        ));
    } else {
        sizing.push(format!(
            "**Event Hubs {}: {} throughput unit{}.** A TU takes 1 MiB/s or 1,000 events/s of ingress: max(1, ⌈{}/s ÷ 1 MiB/s⌉, ⌈{} events/s ÷ 1,000⌉) = {}.{} {} partitions, {} day{} retention.",
            eh_tier_name(eh.tier),
            eh.throughput_units,
            if eh.throughput_units == 1 { "" } else { "s" },
            volume(t.peak_bytes_per_second),
            dec(t.peak_messages_per_second),
            eh.throughput_units,
            match eh.max_throughput_units {
                Some(max) => format!(" Auto-inflate may raise it to {max} TUs under load (and keeps them until lowered)."),
                None => String::new(),
            },
            eh.partitions,
            eh.retention_days,
            if eh.retention_days == 1 { "" } else { "s" }
        ));
    }
    if captures {
        let per_day = t.messages_per_day * m.messaging.message_bytes as f64;
        let per_partition = per_day / f64::from(eh.partitions.max(1));
        let window = f64::from(eh.capture_size_mib) * capacity::MIB as f64;
        let blobs = (capacity::SECONDS_PER_DAY / f64::from(eh.capture_interval_seconds))
            .max(per_partition / window)
            * f64::from(eh.partitions.max(1));
        sizing.push(format!(
            "**Capture** writes one Avro blob per partition every {} s or {} MiB, whichever comes first: about {} blobs a day across {} partitions.",
            eh.capture_interval_seconds,
            eh.capture_size_mib,
            int(blobs.round() as u64),
            eh.partitions
        ));
    }

    let store = format!(
        "the storage account `{}` ({})",
        az.names.storage_account,
        replication_name(az.storage.replication)
    );
    let archive = archive(m, Cloud::Azure, store);

    let asa = az.alert_engine == AzureAlertEngine::StreamAnalytics;
    let alerts = m
        .alerts
        .iter()
        .map(|a| {
            let action = match (a.function, a.notify) {
                (true, true) => format!("the alert Function records it and notifies {} through the action group", who(m)),
                (true, false) => "the alert Function records it".to_owned(),
                (false, true) => format!("the action group notifies {}", who(m)),
                (false, false) => "nothing else happens (neither a function nor a notification is asked for)".to_owned(),
            };
            if asa {
                format!(
                    "**{}**: when {}, the Stream Analytics job (`WHERE {}`) passes the message on and {action}; {}.",
                    a.name,
                    condition_words(&a.condition),
                    a.condition.render(Dialect::AwsIotSql),
                    alert_volume(m, a.expected_match_fraction)
                )
            } else {
                format!(
                    "**{}**: when {}, an IoT Hub route (`{}`) sends the message on and {action}; {}.",
                    a.name,
                    condition_words(&a.condition),
                    a.condition.render(Dialect::IotHubRouting),
                    alert_volume(m, a.expected_match_fraction)
                )
            }
        })
        .collect();

    let (features, features_off) = features(&azure_features(&d));

    let id = &m.identity;
    let mut before = Vec::new();
    let mut after = Vec::new();
    if id.method == AuthMethod::X509 {
        if id.ca == CaSource::Generated {
            before.push(format!("Make the fleet CA offline, outside Terraform state: `fleetform certs init --out certs`; the spec reads `{}`.", id.ca_certificate_file));
        } else {
            before.push(format!(
                "Put your CA certificate at `{}` (relative to the spec).",
                id.ca_certificate_file
            ));
        }
    }
    if az.dps.is_some() {
        if id.method == AuthMethod::X509 {
            after.push(format!("Verify the CA in the DPS: upload the root CA, `az iot dps certificate generate-verification-code`, then `fleetform certs verify-azure --code <code>` and `az iot dps certificate verify` (proof of possession) on `{}`.", az.names.dps));
        }
        after.push("Create the enrollment groups: neither azurerm nor ARM can, so run the script the stack README names, or `az iot dps enrollment-group create` for each group.".to_owned());
        match id.method {
            AuthMethod::X509 => after.push("Issue device certificates from the signing CA (`fleetform certs device --id <id>`); the common name becomes the device id.".to_owned()),
            AuthMethod::SymmetricKey => after.push("Derive each device's key from its group key (`az iot dps enrollment-group compute-device-key`) and install it on the device.".to_owned()),
            AuthMethod::Tpm => after.push("Create an individual enrollment per device with its TPM endorsement key.".to_owned()),
        }
        after.push("Give devices the DPS global endpoint `global.azure-devices-provisioning.net` and the ID scope the stack outputs; they find their hub on first boot.".to_owned());
    } else {
        after.push("Create device identities in the hub (`az iot hub device-identity create`) and install their credentials.".to_owned());
    }
    if m.features.ota {
        after.push(
            "Import signed firmware into Device Update and create a deployment for a device group."
                .to_owned(),
        );
    }
    let hub_name = az.hubs.first().map_or_else(String::new, |h| h.name.clone());
    let verify = vec![
        format!("`az iot hub monitor-events --hub-name {hub_name}` shows messages as they arrive."),
        if captures {
            format!(
                "After about {} s Capture writes the first blob to `{}`.",
                eh.capture_interval_seconds, az.names.storage_account
            )
        } else {
            "Read the Event Hub with a consumer to see messages arrive.".to_owned()
        },
    ];

    CloudPart {
        cloud: Cloud::Azure,
        title: "Azure",
        place: az.location.clone(),
        identity: identity(m),
        provisioning,
        access: access(m, Cloud::Azure),
        routes,
        sizing,
        archive,
        alerts,
        monitoring: monitoring(m, Cloud::Azure),
        features,
        features_off,
        before_apply: before,
        after_apply: after,
        verify,
    }
}

/// Wraps long lines at spaces for a terminal, keeping Markdown intact: list items continue
/// under their text, headings, tables and code blocks are left alone.
pub fn wrap_markdown(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let keep = fenced
            || line.starts_with('#')
            || line.starts_with('|')
            || line.chars().count() <= width;
        if keep {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        let marker = list_marker(body);
        let first_prefix = &line[..indent];
        let rest_prefix = " ".repeat(indent + marker);
        let mut current = String::from(first_prefix);
        let mut current_len = indent;
        let mut at_start = true;
        for word in body.split(' ') {
            let wlen = word.chars().count();
            if !at_start && current_len + 1 + wlen > width {
                out.push_str(current.trim_end());
                out.push('\n');
                current.clone_from(&rest_prefix);
                current_len = rest_prefix.len();
                at_start = true;
            }
            if !at_start {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(word);
            current_len += wlen;
            at_start = false;
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

/// Width of a list marker (`- `, `1. `, `12. `) at the start of `line`, or 0.
fn list_marker(line: &str) -> usize {
    if line.starts_with("- ") || line.starts_with("* ") {
        return 2;
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(". ") {
        digits + 2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::condition::parse;

    #[test]
    fn conditions_read_as_words() {
        let e = parse("temperature > 80 and (status != 'ok' or not door.open)").unwrap();
        assert_eq!(
            condition_words(&e),
            "`temperature` is above 80 and either `status` is not 'ok' or not (`door.open` is true)"
        );
    }

    #[test]
    fn wraps_lists_under_their_text() {
        let text =
            "- one two three four five six\nshort\n```\nlong code line stays as it is\n```\n";
        assert_eq!(
            wrap_markdown(text, 12),
            "- one two\n  three four\n  five six\nshort\n```\nlong code line stays as it is\n```\n"
        );
        assert_eq!(wrap_markdown("10. aa bb cc\n", 9), "10. aa bb\n    cc\n");
    }
}
