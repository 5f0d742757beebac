//! The facts `fleetform explain` states about one cloud, with the reason for each decision.
//!
//! A cloud's planner fills a [`Story`] from its decisions: how devices get identities, what
//! each may do, where every route delivers, how the stream is sized (with the arithmetic),
//! how long data stays in each tier, alerts, features, and what to do around `terraform
//! apply`. The `explain` blueprint words it; this module holds the neutral types and the
//! phrases every cloud builds the same way (identity, back-end services, the archive's
//! lifecycle steps, optional features, monitoring).

use std::fmt::Write as _;

use serde::Serialize;

use super::words::{and_list, auth_words, key_words};
use crate::clouds::Cloud;
use crate::cost::format::{bytes, int, num};
use crate::model::condition::{Dialect, Expr, Literal, Op};
use crate::model::{
    AuthMethod, CaSource, CloudCredentials, CredentialGrant, Encryption, Model, Route,
    ServicePermission, StorageTier,
};

/// One cloud's part of the explanation.
#[derive(Debug, Clone, Serialize)]
pub struct Story {
    /// The cloud's id: its wording partials live under `blueprints/<cloud>/explain/`.
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

/// How devices get registered. `method` picks the cloud's paragraph
/// (`blueprints/<cloud>/explain/provisioning.md.j2`); the other fields are its facts.
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

impl RouteText {
    /// `route` as a cloud delivers it: its source in the cloud's words, the topic `filter`
    /// its rule listens on (if any), and its condition compiled to `dialect` (named
    /// `dialect_name`).
    pub fn new(
        route: &Route,
        source: &'static str,
        filter: Option<String>,
        (dialect, dialect_name): (Dialect, &'static str),
        destinations: String,
    ) -> Self {
        Self {
            name: route.name.clone(),
            source,
            filter,
            condition: route.condition.as_ref().map(condition_words),
            dialect: dialect_name,
            compiled: route.condition.as_ref().map(|c| c.render(dialect)),
            destinations,
        }
    }
}

/// The archive lifecycle.
#[derive(Debug, Clone, Serialize)]
pub struct Archive {
    pub store: String,
    pub steps: Vec<String>,
    pub expiry: String,
    pub notes: Vec<String>,
}

/// A byte rate or volume, whole bytes below 10 KB: `683 B`, `57.29 KB`.
pub fn volume(v: f64) -> String {
    if v < 10_240.0 {
        bytes(v.round())
    } else {
        bytes(v)
    }
}

/// A number rounded to two decimals, grouped: `176`, `68.75`.
pub fn dec(v: f64) -> String {
    num((v * 100.0).round() / 100.0)
}

/// How devices authenticate, on every cloud.
pub fn identity(m: &Model) -> Identity {
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

/// The spec's back-end services and what each may do.
pub fn services(m: &Model) -> Vec<String> {
    m.access
        .services
        .iter()
        .map(|s| {
            let can: Vec<String> = s
                .access
                .iter()
                .map(|p| {
                    match p {
                        ServicePermission::RegistryRead => "read device identities and state",
                        ServicePermission::RegistryWrite => "create, update and delete devices",
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
        .collect()
}

/// What cloud credentials let devices do, each starting with a verb.
pub fn credential_grants(c: &CloudCredentials) -> Vec<String> {
    c.grants
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
        .collect()
}

/// A cloud's storage tiers, as the archive's lifecycle names and bills them.
pub struct Tiers {
    /// The tier's name on the cloud (`S3 Standard-IA`).
    pub name: fn(StorageTier) -> &'static str,
    /// Days an object is billed for in the tier, at least.
    pub minimum_days: fn(StorageTier) -> u32,
    /// How an object in the tier is read.
    pub retrieval: fn(StorageTier) -> &'static str,
}

/// The archive's lifecycle in steps, on a cloud's `tiers`, kept in `store`. `cloud_notes`
/// are what the cloud does differently from the spec; `own_key` says how a customer-managed
/// key is kept.
pub fn archive(
    m: &Model,
    tiers: &Tiers,
    store: String,
    cloud_notes: Vec<String>,
    own_key: &str,
) -> Option<Archive> {
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
        let min = (tiers.minimum_days)(tier);
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
                (tiers.name)(tier),
                to - from
            ));
        }
        // A transition at the day objects are written skips the tier.
        if end.is_none_or(|to| to > from) {
            steps.push(format!(
                "{span}: **{}** ({}{min_text})",
                (tiers.name)(tier),
                (tiers.retrieval)(tier)
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
    notes.extend(cloud_notes);
    if a.versioning {
        notes.push(format!(
            "Versioning is on: an overwritten or deleted object stays recoverable for {} days.",
            int(a.noncurrent_versions_expire_after_days.into())
        ));
    }
    notes.push(match a.encryption {
        Encryption::CustomerManaged => own_key.to_owned(),
        Encryption::PlatformManaged => "Data is encrypted with a key the cloud manages.".to_owned(),
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
pub struct Optional {
    pub name: &'static str,
    /// The spec turns it on.
    pub asked: bool,
    /// What is built, or why nothing is (when asked for, but not built on this cloud).
    pub built: Result<&'static str, &'static str>,
}

/// The features that are on (built, or asked for but not built, with the reason) and the
/// names of those the spec leaves off.
pub fn features(items: &[Optional]) -> (Vec<String>, Vec<&'static str>) {
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

/// Where logs go (`logs` names the service), who alarms notify, and the budget.
pub fn monitoring(m: &Model, logs: &str) -> String {
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

/// Who alerts notify.
pub fn who(m: &Model) -> String {
    if m.monitoring.emails.is_empty() {
        "nobody yet (add `monitoring.notify.email`)".to_owned()
    } else {
        and_list(&m.monitoring.emails)
    }
}

/// How often an alert is expected to fire.
pub fn alert_volume(m: &Model, fraction: f64) -> String {
    format!(
        "expected to match {} of messages, about {} a day",
        crate::cost::format::pct(fraction),
        int((m.traffic.messages_per_day * fraction).round() as u64)
    )
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
}
