//! `fleetform simulate`: devices that use the kit's certificates, the spec's topics and its
//! message shape, so a deployed stack (or a local broker) sees the traffic the spec planned.
//!
//! The steps stay apart like the rest of the pipeline: [`plan`] turns the model, the chosen
//! cloud, the Terraform outputs and the flags into a [`Plan`] (pure: every device's flow,
//! client id, user name, topic and identity); [`payload`] makes the deterministic messages;
//! [`aws`] and [`azure`] hold the device side of each cloud's provisioning exchange; [`net`]
//! is the only part that touches the network (rumqttc over rustls, set up in `tls`). The CLI
//! reads the files.
//!
//! What each provisioning method does on the wire:
//! - AWS manual: connect with the device certificate (client id = thing name), publish.
//! - AWS JITP/JITR: the same, but AWS drops the first connection while it registers the
//!   certificate; reconnect with backoff ([`aws::backoff`]).
//! - AWS fleet provisioning by claim or trusted user: connect with the claim, run
//!   CreateKeysAndCertificate and RegisterThing, reconnect with the new certificate.
//! - Azure DPS: register through DPS, then connect to the assigned hub.
//! - Azure without DPS: connect to the hub with the device certificate.

pub mod net;
pub mod payload;
mod tls;

use std::time::Duration;

// The device side of each cloud moved into its folder; the next step asks for it through
// the registration instead of by path.
use crate::clouds::aws::device as aws;
use crate::clouds::azure::device as azure;
use crate::model::{AuthMethod, AwsProvisioningMethod, Model};
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
    /// Connect with the device certificate (AWS manual, IoT Hub without DPS).
    Direct,
    /// AWS JITP/JITR: the first connection may be dropped while AWS registers it.
    JustInTime,
    /// AWS fleet provisioning: trade the claim for a certificate, then reconnect.
    Claim { template: String, claim: Identity },
    /// Azure DPS: register, then connect to the assigned hub.
    Dps { id_scope: String },
}

/// One simulated device.
#[derive(Debug, Clone)]
pub struct Device {
    pub id: String,
    /// AWS: the telemetry topic for this device; Azure: filled in after assignment.
    pub topic: String,
    /// The device's own certificate; `None` until fleet provisioning issues one.
    pub identity: Option<Identity>,
}

/// Everything a run does, decided before the first packet.
#[derive(Debug, Clone)]
pub struct Plan {
    pub cloud: Cloud,
    pub flow: Flow,
    /// AWS: the IoT data endpoint; Azure: the DPS endpoint with DPS, else the hub.
    pub endpoint: Endpoint,
    /// Trust anchors for the server certificate (PEM); `None`: the system's roots.
    pub server_ca: Option<(String, Vec<u8>)>,
    /// AWS on port 443: ALPN `x-amzn-mqtt-ca`.
    pub alpn: bool,
    /// Client id prefix the claim certificate may connect with (AWS).
    pub claim_client_id_prefix: String,
    pub devices: Vec<Device>,
    pub shape: Shape,
    pub run: Run,
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

fn err(message: impl Into<String>, hint: impl Into<String>) -> PlanError {
    PlanError {
        message: message.into(),
        hint: hint.into(),
    }
}

/// What the Terraform root exports that the simulator needs (`terraform output -json`).
#[derive(Debug, Clone, Default)]
pub struct Outputs {
    /// AWS `iot_data_endpoint`.
    pub iot_data_endpoint: Option<String>,
    /// AWS `provisioning_template_name`.
    pub provisioning_template_name: Option<String>,
    /// Azure `dps_global_endpoint`.
    pub dps_global_endpoint: Option<String>,
    /// Azure `dps_id_scope`.
    pub dps_id_scope: Option<String>,
    /// Azure `primary_iot_hub_hostname`.
    pub primary_iot_hub_hostname: Option<String>,
}

impl Outputs {
    /// Reads the JSON of `terraform output -json`: `{"name": {"value": ...}, ...}`.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        let Some(map) = v.as_object() else {
            return Err("expected the object `terraform output -json` prints".to_owned());
        };
        let get = |name: &str| {
            map.get(name)
                .and_then(|o| o.get("value"))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
        };
        Ok(Self {
            iot_data_endpoint: get("iot_data_endpoint"),
            provisioning_template_name: get("provisioning_template_name"),
            dps_global_endpoint: get("dps_global_endpoint"),
            dps_id_scope: get("dps_id_scope"),
            primary_iot_hub_hostname: get("primary_iot_hub_hostname"),
        })
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
/// `claim` is the claim identity for AWS fleet provisioning; `devices` are `(id, identity)`
/// pairs, identities absent only for fleet provisioning.
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
    let missing = |what: &str, output: &str, flag: &str| {
        err(
            format!(
                "no {what}: pass `{flag}`, or `--root DIR` / `--outputs FILE` of a deployed root"
            ),
            format!("fleetform reads the `{output}` output of `terraform output -json`"),
        )
    };
    let (flow, endpoint, claim_prefix) = match cloud {
        Cloud::Aws => {
            let aws = model
                .aws
                .as_ref()
                .ok_or_else(|| err("the spec does not target AWS", "pass `--cloud azure`"))?;
            let endpoint = flags
                .endpoint
                .clone()
                .or_else(|| outputs.iot_data_endpoint.clone())
                .ok_or_else(|| {
                    missing("AWS IoT endpoint", "iot_data_endpoint", "--endpoint HOST")
                })?;
            let flow = match aws.provisioning.method {
                AwsProvisioningMethod::Manual => Flow::Direct,
                AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr => Flow::JustInTime,
                AwsProvisioningMethod::FleetByClaim | AwsProvisioningMethod::TrustedUser => {
                    let template = flags
                        .template
                        .clone()
                        .or_else(|| outputs.provisioning_template_name.clone())
                        .ok_or_else(|| {
                            missing(
                                "provisioning template name",
                                "provisioning_template_name",
                                "--template NAME",
                            )
                        })?;
                    let claim = claim.ok_or_else(|| {
                        err(
                            "fleet provisioning needs a claim certificate: pass `--claim DIR`",
                            "DIR holds claim.pem and claim.key, as `fleetform certs claim --name NAME` writes to claims/NAME/",
                        )
                    })?;
                    Flow::Claim { template, claim }
                }
            };
            (
                flow,
                host_port(&endpoint)?,
                aws.provisioning.claim_client_id_prefix.clone(),
            )
        }
        Cloud::Azure => {
            if model.azure.is_none() {
                return Err(err("the spec does not target Azure", "pass `--cloud aws`"));
            }
            let dps = model.azure.as_ref().and_then(|a| a.dps.as_ref());
            if dps.is_some() {
                let endpoint = flags
                    .endpoint
                    .clone()
                    .or_else(|| outputs.dps_global_endpoint.clone())
                    .ok_or_else(|| {
                        missing("DPS endpoint", "dps_global_endpoint", "--endpoint HOST")
                    })?;
                let id_scope = flags
                    .id_scope
                    .clone()
                    .or_else(|| outputs.dps_id_scope.clone())
                    .ok_or_else(|| missing("DPS ID scope", "dps_id_scope", "--id-scope SCOPE"))?;
                (Flow::Dps { id_scope }, host_port(&endpoint)?, String::new())
            } else {
                let endpoint = flags
                    .endpoint
                    .clone()
                    .or_else(|| outputs.primary_iot_hub_hostname.clone())
                    .ok_or_else(|| {
                        missing(
                            "IoT Hub host name",
                            "primary_iot_hub_hostname",
                            "--endpoint HOST",
                        )
                    })?;
                (Flow::Direct, host_port(&endpoint)?, String::new())
            }
        }
    };
    let claims = matches!(flow, Flow::Claim { .. });
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
    let alpn = cloud == Cloud::Aws && endpoint.port == 443;
    Ok(Plan {
        cloud,
        flow,
        endpoint,
        server_ca,
        alpn,
        claim_client_id_prefix: claim_prefix,
        devices: out,
        shape,
        run,
    })
}

/// The telemetry topic of a device: the spec's on AWS (with the registry's device type,
/// else the first type), the device-to-cloud topic on IoT Hub.
pub fn topic_for(model: &Model, cloud: Cloud, id: &str) -> String {
    match cloud {
        Cloud::Aws => {
            let device_type = model
                .fleet
                .registry
                .iter()
                .find(|d| d.id() == id)
                .and_then(|d| d.device_type().map(str::to_owned))
                .or_else(|| model.fleet.device_types.first().map(|t| t.name.clone()))
                .unwrap_or_default();
            model.messaging.telemetry_topic.for_device(id, &device_type)
        }
        Cloud::Azure => azure::telemetry_topic(id),
    }
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
