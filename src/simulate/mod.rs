//! `fleetform simulate`: devices that use the kit's certificates, the spec's topics and its
//! message shape, so a deployed stack (or a local broker) sees the traffic the spec planned.
//!
//! The steps stay apart like the rest of the pipeline: [`plan`] turns the model, the chosen
//! cloud, the Terraform outputs and the flags into a [`Plan`] (pure: every device's flow,
//! client id, user name, topic and identity); [`payload`] makes the deterministic messages;
//! [`net`] is the only part that touches the network (rumqttc over rustls, set up in `tls`).
//! The CLI reads the files.
//!
//! This engine is cloud-neutral. What a cloud's devices do on the wire is the cloud's
//! knowledge, asked through [`crate::clouds::DeviceSide`] and implemented in
//! `src/clouds/<cloud>/device.rs`: where a device connects and with which user name and ALPN
//! protocol, its telemetry topic, and the first-connection exchange that registers it (AWS
//! fleet provisioning over MQTT, Azure DPS registration) as a [`Registration`]. A device runs
//! one [`Flow`]:
//! - [`Flow::Direct`]: connect with the device certificate, publish.
//! - [`Flow::JustInTime`]: the same, but the cloud drops the first connection while it
//!   registers the certificate; reconnect with [`backoff`].
//! - [`Flow::Register`]: run the cloud's exchange, then connect as it says (with the id, the
//!   certificate and the host it assigned).

pub mod net;
pub mod payload;
mod tls;

use std::sync::Arc;
use std::time::Duration;

use crate::clouds::{Contact, DeviceSide, Registration};
use crate::model::{AuthMethod, Model};
use crate::plan::Cloud;

pub use payload::{Shape, ShapeError};

/// A certificate chain and its key, with the files they came from (for error messages).
#[derive(Clone)]
pub struct Identity {
    /// PEM: the leaf first, then any intermediates the device presents.
    pub chain_pem: Vec<u8>,
    /// PEM PKCS#8, SEC1 or PKCS#1 private key.
    pub key_pem: zeroize::Zeroizing<Vec<u8>>,
    /// Where the chain came from.
    pub chain_file: String,
    /// Where the key came from.
    pub key_file: String,
}

impl std::fmt::Debug for Identity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Identity")
            .field("chain_file", &self.chain_file)
            .field("key_file", &self.key_file)
            .finish_non_exhaustive()
    }
}

/// Host and port of an MQTT endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub host: String,
    pub port: u16,
}

impl std::fmt::Display for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.host, self.port)
    }
}

/// How one device gets connected.
#[derive(Debug, Clone)]
pub enum Flow {
    /// Connect with the device certificate.
    Direct,
    /// The first connection may be dropped while the cloud registers the certificate.
    JustInTime,
    /// Run the cloud's first-connection exchange, then connect as it assigned.
    Register(Arc<dyn Registration>),
}

/// One simulated device.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    /// The telemetry topic the cloud gives the device's id; a registration may assign another.
    pub topic: String,
    /// The device's own certificate; `None` when the cloud's exchange issues one.
    pub identity: Option<Identity>,
}

/// Everything a run does, decided before the first packet.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cloud: Cloud,
    pub flow: Flow,
    /// Where devices connect first: the broker, or the cloud's registration service.
    pub endpoint: Endpoint,
    /// Trust anchors for the server certificate (PEM); `None`: the system's roots.
    pub server_ca: Option<(String, Vec<u8>)>,
    /// The ALPN protocol the cloud asks for on this port, if any.
    pub alpn: Option<&'static str>,
    pub devices: Vec<Device>,
    pub shape: Shape,
    pub run: Run,
}

impl Plan {
    /// The device side of the plan's cloud.
    pub fn side(&self) -> &'static dyn DeviceSide {
        self.cloud.planner().device_side()
    }
}

/// How much to send.
#[derive(Debug, Clone)]
pub struct Run {
    /// Messages per device; `None`: until `duration` ends.
    pub messages: Option<u64>,
    pub duration: Option<Duration>,
    /// Gap between two messages of one device.
    pub interval: Duration,
    pub seed: u64,
    /// Alerts the tripping messages trip.
    pub trip: Vec<String>,
    /// Every n-th message of each device trips them (1: every message).
    pub trip_every: u64,
    /// Connection and reply timeout.
    pub timeout: Duration,
}

impl Run {
    /// Which alerts message `seq` (0-based) trips.
    pub fn trips_at(&self, seq: u64) -> &[String] {
        if !self.trip.is_empty() && (seq + 1).is_multiple_of(self.trip_every.max(1)) {
            &self.trip
        } else {
            &[]
        }
    }
}

/// Why a plan cannot be made: a usage problem, with a hint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanError {
    pub message: String,
    pub hint: String,
}

impl PlanError {
    /// A usage problem and what to do about it.
    pub fn new(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            hint: hint.into(),
        }
    }

    /// A setting neither a flag nor the root's outputs gave: `what` is missing, `flag` sets
    /// it, and the root's output `output` holds it after `terraform apply`.
    pub fn missing(what: &str, output: &str, flag: &str) -> Self {
        Self::new(
            format!(
                "no {what}: pass `{flag}`, or `--root DIR` / `--outputs FILE` of a deployed root"
            ),
            format!("fleetform reads the `{output}` output of `terraform output -json`"),
        )
    }
}

fn err(message: impl Into<String>, hint: impl Into<String>) -> PlanError {
    PlanError::new(message, hint)
}

/// The string outputs a deployed Terraform root exports (`terraform output -json`), by name;
/// each cloud's device side reads the ones its devices need.
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    values: std::collections::BTreeMap<String, String>,
}

impl Outputs {
    /// Reads the JSON of `terraform output -json`: `{"name": {"value": ...}, ...}`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Some(map) = v.as_object() else {
            return Err("expected the object `terraform output -json` prints".to_owned());
        };
        let values = map
            .iter()
            .filter_map(|(name, o)| {
                let value = o.get("value").and_then(serde_json::Value::as_str)?;
                Some((name.clone(), value.to_owned()))
            })
            .collect();
        Ok(Self { values })
    }

    /// The output `name`, when the root exports it as a string.
    pub fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).cloned()
    }
}

/// What the flags say, before the model is consulted.
#[derive(Debug, Clone, Default)]
pub struct Flags {
    pub endpoint: Option<String>,
    pub port: u16,
    pub template: Option<String>,
    pub id_scope: Option<String>,
}

/// The message shape of a model: fields of routes and alerts, alerts by name.
pub fn shape(model: &Model) -> Shape {
    Shape::new(
        model.routes.iter().filter_map(|r| r.condition.as_ref()),
        model
            .alerts
            .iter()
            .map(|a| payload::Condition {
                name: a.name.clone(),
                expr: a.condition.clone(),
            })
            .collect(),
    )
}

/// Decides the flow, endpoint and topics for a cloud of the model.
///
/// `claim` is the claim identity for a cloud whose exchange trades a claim for a certificate
/// (AWS fleet provisioning); `devices` are `(id, identity)` pairs, identities absent only when
/// the cloud's exchange issues them ([`DeviceSide::issues_certificates`]).
#[allow(clippy::too_many_arguments)]
pub fn plan(
    model: &Model,
    cloud: Cloud,
    outputs: &Outputs,
    flags: &Flags,
    claim: Option<Identity>,
    devices: Vec<(String, Option<Identity>)>,
    server_ca: Option<(String, Vec<u8>)>,
    run: Run,
) -> Result<Plan, PlanError> {
    if model.identity.method != AuthMethod::X509 {
        return Err(err(
            format!(
                "the spec's devices authenticate with `{}`; the simulator speaks X.509 only",
                match model.identity.method {
                    AuthMethod::SymmetricKey => "symmetric_key",
                    AuthMethod::Tpm => "tpm",
                    AuthMethod::X509 => "x509",
                }
            ),
            "simulate an X.509 variant of the spec (`identity.method: x509`)",
        ));
    }
    let shape = shape(model);
    shape
        .check(&run.trip)
        .map_err(|e| err(e.to_string(), "check the spec's `pipeline.alerts`"))?;
    if devices.is_empty() {
        return Err(err(
            "no devices to simulate",
            "name them with `--device ID`, or make bundles with `fleetform certs device`",
        ));
    }
    let host_port = |raw: &str| -> Result<Endpoint, PlanError> {
        let raw = raw.trim();
        let raw = raw
            .strip_prefix("mqtts://")
            .or_else(|| raw.strip_prefix("ssl://"))
            .unwrap_or(raw);
        match raw.rsplit_once(':') {
            Some((h, p)) if !h.is_empty() && !h.contains(':') => Ok(Endpoint {
                host: h.to_owned(),
                port: p.parse().map_err(|_| {
                    err(
                        format!("`{raw}`: the port is not a number"),
                        "write HOST or HOST:PORT, e.g. `localhost:8883`",
                    )
                })?,
            }),
            _ if raw.is_empty() => Err(err("the endpoint is empty", "pass `--endpoint HOST`")),
            _ => Ok(Endpoint {
                host: raw.to_owned(),
                port: flags.port,
            }),
        }
    };
    let side = cloud.planner().device_side();
    let Contact { flow, endpoint } = side.contact(model, outputs, flags, claim)?;
    let endpoint = host_port(&endpoint)?;
    let claims = side.issues_certificates(model);
    let mut out = Vec::new();
    for (id, identity) in devices {
        if identity.is_none() && !claims {
            return Err(err(
                format!("device `{id}` has no certificate"),
                "make one with `fleetform certs device --id ID` (or `--spec`)",
            ));
        }
        let topic = topic_for(model, cloud, &id);
        out.push(Device {
            id,
            topic,
            identity: if claims { None } else { identity },
        });
    }
    let alpn = side.alpn(endpoint.port);
    Ok(Plan {
        cloud,
        flow,
        endpoint,
        server_ca,
        alpn,
        devices: out,
        shape,
        run,
    })
}

/// The telemetry topic of device `id` on `cloud`, as the cloud's device side gives it.
pub fn topic_for(model: &Model, cloud: Cloud, id: &str) -> String {
    cloud.planner().device_side().telemetry_topic(model, id)
}

/// Reconnect delays after the cloud drops the first connection ([`Flow::JustInTime`]):
/// exponential from one second, capped at 16, with up to 25% jitter from the run's generator
/// so a fleet started together does not reconnect in lockstep.
pub fn backoff(attempt: u32, jitter: f64) -> Duration {
    let base = 1u64 << attempt.min(4);
    Duration::from_millis((base as f64 * 1000.0 * (1.0 + 0.25 * jitter)) as u64)
}

/// The messages a plan would send, without a network: `(device, topic, payload)`.
pub fn dry_run(plan: &Plan) -> Result<Vec<(String, String, serde_json::Value)>, ShapeError> {
    let count = plan.run.messages.unwrap_or(1);
    let mut out = Vec::new();
    for d in &plan.devices {
        let mut rng = payload::SplitMix64::new(payload::device_seed(plan.run.seed, &d.id));
        for seq in 0..count {
            let m = plan
                .shape
                .message(&mut rng, &d.id, seq, plan.run.trips_at(seq))?;
            out.push((d.id.clone(), d.topic.clone(), m));
        }
    }
    Ok(out)
}

/// What the simulator's unit tests (here and in each cloud's `device.rs`) build devices from.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::{Identity, Run};

    /// An identity with no key material, named `name`.
    pub(crate) fn identity(name: &str) -> Identity {
        Identity {
            chain_pem: Vec::new(),
            key_pem: zeroize::Zeroizing::new(Vec::new()),
            chain_file: format!("{name}.pem"),
            key_file: format!("{name}.key"),
        }
    }

    /// One message, one second apart, no trips.
    pub(crate) fn run() -> Run {
        Run {
            messages: Some(1),
            duration: None,
            interval: std::time::Duration::from_secs(1),
            seed: 0,
            trip: Vec::new(),
            trip_every: 1,
            timeout: std::time::Duration::from_secs(1),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_to_sixteen_seconds_with_a_quarter_of_jitter() {
        assert_eq!(backoff(0, 0.0).as_millis(), 1000);
        assert_eq!(backoff(9, 1.0).as_millis(), 20000);
    }
}
