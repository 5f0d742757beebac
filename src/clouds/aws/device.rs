//! The device side of AWS IoT: how a device connects (client id = thing name, ALPN
//! `x-amzn-mqtt-ca` on port 443), the spec's telemetry topic, the provisioning exchange
//! `fleetform simulate` runs, and the registration code `fleetform certs verify-aws` signs.
//!
//! Fleet provisioning by claim (and by trusted user, whose installer app hands the device a
//! temporary claim) is an MQTT request/response exchange on reserved topics, documented in
//! "Device provisioning MQTT API"
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/fleet-provision-api.html>):
//! subscribe to `.../accepted` and `.../rejected` first, publish `{}` to
//! `$aws/certificates/create/json` (CreateKeysAndCertificate), then publish the ownership
//! token and the template's parameters to `$aws/provisioning-templates/<name>/provision/json`
//! (RegisterThing). JITP and JITR need no exchange; AWS registers the certificate on the first
//! connection and closes it, and the device reconnects with backoff
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html>); the
//! simulator's engine does that part ([`Flow::JustInTime`]).
//!
//! What each provisioning method does on the wire:
//! - manual: connect with the device certificate (client id = thing name), publish.
//! - JITP/JITR: the same, but AWS drops the first connection while it registers the
//!   certificate; reconnect with backoff.
//! - fleet provisioning by claim or trusted user: connect with the claim, run
//!   CreateKeysAndCertificate and RegisterThing, reconnect with the new certificate.

use std::path::Path;

use serde::Deserialize;
use serde_json::json;

use crate::clouds::{CaCode, Contact, DeviceSide, Exchange, Registered, Registration};
use crate::model::{AwsProvisioningMethod, Model};
use crate::simulate::net::{Conn, Failure, Log};
use crate::simulate::{Device, Flags, Flow, Identity, Outputs, Plan, PlanError};

/// AWS's device side, as [`super::AwsPlanner`] hands it out.
pub struct AwsDevices;

/// Whether devices provisioned by `method` trade a claim for their certificate on first
/// connection.
fn fleet_provisioning(method: AwsProvisioningMethod) -> bool {
    matches!(
        method,
        AwsProvisioningMethod::FleetByClaim | AwsProvisioningMethod::TrustedUser
    )
}

impl DeviceSide for AwsDevices {
    fn contact(
        &self,
        model: &Model,
        outputs: &Outputs,
        flags: &Flags,
        claim: Option<Identity>,
    ) -> Result<Contact, PlanError> {
        let aws = model.aws.as_ref().ok_or_else(|| {
            PlanError::new("the spec does not target AWS", "pass `--cloud azure`")
        })?;
        let endpoint = flags
            .endpoint
            .clone()
            .or_else(|| outputs.get("iot_data_endpoint"))
            .ok_or_else(|| {
                PlanError::missing("AWS IoT endpoint", "iot_data_endpoint", "--endpoint HOST")
            })?;
        let flow = match aws.provisioning.method {
            AwsProvisioningMethod::Manual => Flow::Direct,
            AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr => Flow::JustInTime,
            AwsProvisioningMethod::FleetByClaim | AwsProvisioningMethod::TrustedUser => {
                let template = flags
                    .template
                    .clone()
                    .or_else(|| outputs.get("provisioning_template_name"))
                    .ok_or_else(|| {
                        PlanError::missing(
                            "provisioning template name",
                            "provisioning_template_name",
                            "--template NAME",
                        )
                    })?;
                let claim = claim.ok_or_else(|| {
                    PlanError::new(
                        "fleet provisioning needs a claim certificate: pass `--claim DIR`",
                        "DIR holds claim.pem and claim.key, as `fleetform certs claim --name NAME` writes to claims/NAME/",
                    )
                })?;
                Flow::Register(std::sync::Arc::new(FleetProvisioning {
                    template,
                    claim,
                    client_id_prefix: aws.provisioning.claim_client_id_prefix.clone(),
                }))
            }
        };
        Ok(Contact { flow, endpoint })
    }

    fn issues_certificates(&self, model: &Model) -> bool {
        model
            .aws
            .as_ref()
            .is_some_and(|a| fleet_provisioning(a.provisioning.method))
    }

    /// The spec's topic, with the registry's device type of `id`, else the first type.
    fn telemetry_topic(&self, model: &Model, id: &str) -> String {
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

    /// AWS IoT on 443 picks MQTT by this protocol name.
    fn alpn(&self, port: u16) -> Option<&'static str> {
        (port == 443).then_some("x-amzn-mqtt-ca")
    }

    fn ca_code(&self) -> CaCode {
        CaCode {
            name: "registration code",
            hint: "copy it from `aws iot get-registration-code --query registrationCode --output text`",
        }
    }

    fn ca_code_problem(&self, code: &str) -> Option<&'static str> {
        (!(code.len() == 64 && code.chars().all(|c| c.is_ascii_hexdigit())))
            .then_some("AWS registration codes are 64 hexadecimal digits")
    }

    fn ca_next_step(&self, ca_certificate: &Path, verification_certificate: &Path) -> String {
        format!(
            "next: aws iot register-ca-certificate --ca-certificate file://{} --verification-cert file://{} --set-as-active --allow-auto-registration",
            ca_certificate.display(),
            verification_certificate.display()
        )
    }
}

/// Fleet provisioning by claim (or trusted user): the template to register with, the claim
/// certificate and the client id prefix its policy allows.
#[derive(Debug)]
struct FleetProvisioning {
    template: String,
    claim: Identity,
    client_id_prefix: String,
}

impl Registration for FleetProvisioning {
    fn register<'a>(
        &'a self,
        plan: &'a Plan,
        device: &'a Device,
        log: &'a Log,
    ) -> Exchange<'a, Result<Registered, Failure>> {
        Box::pin(async move {
            let (thing, identity) = claim_exchange(
                plan,
                &device.id,
                &self.template,
                &self.claim,
                &self.client_id_prefix,
                log,
            )
            .await?;
            Ok(Registered {
                id: thing,
                identity: Some(identity),
                hub: None,
                topic: None,
            })
        })
    }
}

/// CreateKeysAndCertificate request topic.
pub const CREATE_TOPIC: &str = "$aws/certificates/create/json";

/// CreateKeysAndCertificate, then RegisterThing, on the claim's connection.
async fn claim_exchange(
    plan: &Plan,
    serial: &str,
    template: &str,
    claim: &Identity,
    client_id_prefix: &str,
    log: &Log,
) -> Result<(String, Identity), Failure> {
    let client_id = format!("{client_id_prefix}{serial}");
    let mut c = Conn::open(
        plan,
        &client_id,
        None,
        claim,
        &plan.endpoint,
        plan.run.timeout,
    )
    .await?;
    log(format!(
        "{serial}: connected with the claim certificate as `{client_id}`"
    ));
    let provision = provision_topic(template);
    // Subscribe before publishing: replies are not retained.
    for topic in replies(CREATE_TOPIC).into_iter().chain(replies(&provision)) {
        c.subscribe(&topic).await?;
    }
    c.publish(CREATE_TOPIC, b"{}".to_vec()).await?;
    let (topic, body) = c.reply(&replies(CREATE_TOPIC)).await?;
    if topic.ends_with("/rejected") {
        let why = rejection(&body);
        return Err(Failure::new(
            "simulate-provisioning",
            format!("CreateKeysAndCertificate was rejected: {why}"),
        )
        .hint("the claim certificate's policy must allow iot:Publish and iot:Receive on $aws/certificates/create/*"));
    }
    let created: NewCertificate = serde_json::from_slice(&body).map_err(|e| {
        Failure::new(
            "simulate-provisioning",
            format!("CreateKeysAndCertificate replied with something else than the documented shape: {e}"),
        )
    })?;
    c.publish(
        &provision,
        register_request(&created.certificate_ownership_token, serial),
    )
    .await?;
    let (topic, body) = c.reply(&replies(&provision)).await?;
    if topic.ends_with("/rejected") {
        let why = rejection(&body);
        return Err(Failure::new(
            "simulate-provisioning",
            format!("RegisterThing with template `{template}` was rejected: {why}"),
        )
        .hint(format!("the pre-provisioning hook accepts only serial numbers on its allow list: add `{serial}`")));
    }
    let registered: ThingRegistered = serde_json::from_slice(&body).map_err(|e| {
        Failure::new(
            "simulate-provisioning",
            format!("RegisterThing replied with something else than the documented shape: {e}"),
        )
    })?;
    c.close().await;
    log(format!(
        "{serial}: provisioned as thing `{}` with certificate {}",
        registered.thing_name, created.certificate_id
    ));
    let identity = Identity {
        chain_pem: created.certificate_pem.into_bytes(),
        key_pem: zeroize::Zeroizing::new(created.private_key.into_bytes()),
        chain_file: format!(
            "certificate {} from CreateKeysAndCertificate",
            created.certificate_id
        ),
        key_file: "its private key (kept in memory)".to_owned(),
    };
    Ok((registered.thing_name, identity))
}

/// `<topic>/accepted` and `<topic>/rejected`.
pub fn replies(topic: &str) -> [String; 2] {
    [format!("{topic}/accepted"), format!("{topic}/rejected")]
}

/// RegisterThing request topic of a template.
pub fn provision_topic(template: &str) -> String {
    format!("$aws/provisioning-templates/{template}/provision/json")
}

/// The RegisterThing request: the fleet template (`fleet-template.json`) names the thing by
/// `SerialNumber`, which the pre-provisioning hook checks against its allow list.
pub fn register_request(ownership_token: &str, serial: &str) -> Vec<u8> {
    json!({
        "certificateOwnershipToken": ownership_token,
        "parameters": { "SerialNumber": serial },
    })
    .to_string()
    .into_bytes()
}

/// CreateKeysAndCertificate accepted.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewCertificate {
    pub certificate_id: String,
    pub certificate_pem: String,
    pub private_key: String,
    pub certificate_ownership_token: String,
}

/// RegisterThing accepted.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ThingRegistered {
    pub thing_name: String,
}

/// Either `rejected` reply.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rejected {
    #[serde(default)]
    pub status_code: Option<u16>,
    #[serde(default)]
    pub error_code: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
}

impl std::fmt::Display for Rejected {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} ({}): {}",
            self.error_code.as_deref().unwrap_or("no error code"),
            self.status_code
                .map_or_else(|| "no status".to_owned(), |s| s.to_string()),
            self.error_message.as_deref().unwrap_or("no message")
        )
    }
}

/// What a `rejected` reply says, or its raw text when it is not the documented shape.
pub fn rejection(body: &[u8]) -> String {
    serde_json::from_slice::<Rejected>(body).map_or_else(
        |_| String::from_utf8_lossy(body).into_owned(),
        |r| r.to_string(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clouds::Cloud;
    use crate::simulate;
    use crate::simulate::fixtures::{identity, run};
    use crate::validate::{NoFiles, validate};

    fn model(provisioning: &str) -> Model {
        let spec = format!(
            "version: 1\nstack:\n  name: sim\n  environment: test\nclouds:\n  aws:\n    region: eu-west-1\n{provisioning}fleet:\n  devices: 10\n"
        );
        validate("sim.yaml", &spec, &NoFiles)
            .validated
            .expect("valid")
            .model
    }

    /// The simulator's plan follows the spec's provisioning method through this device side.
    #[test]
    fn the_provisioning_method_picks_the_flow() {
        let outputs = Outputs::from_json(
            r#"{"iot_data_endpoint": {"value": "abc-ats.iot.eu-west-1.amazonaws.com"},
                "provisioning_template_name": {"value": "sim-test-fleet"}}"#,
        )
        .unwrap();
        let on_443 = Flags {
            port: 443,
            ..Flags::default()
        };
        // The default, fleet provisioning by claim: devices start without a certificate.
        let claim = model("");
        assert!(AwsDevices.issues_certificates(&claim));
        let plan = simulate::plan(
            &claim,
            Cloud::Aws,
            &outputs,
            &on_443,
            Some(identity("claim")),
            vec![("sn-1".to_owned(), None)],
            None,
            run(),
        )
        .unwrap();
        assert!(
            matches!(&plan.flow, Flow::Register(r) if format!("{r:?}").contains("sim-test-fleet")),
            "{:?}",
            plan.flow
        );
        assert_eq!(
            plan.endpoint.to_string(),
            "abc-ats.iot.eu-west-1.amazonaws.com:443"
        );
        assert_eq!(plan.alpn, Some("x-amzn-mqtt-ca"));
        assert!(plan.devices[0].identity.is_none());
        let no_claim = simulate::plan(
            &claim,
            Cloud::Aws,
            &outputs,
            &on_443,
            None,
            vec![("sn-1".to_owned(), None)],
            None,
            run(),
        )
        .unwrap_err();
        assert!(no_claim.message.contains("`--claim DIR`"), "{no_claim:?}");

        // JITP: the device's own certificate, and a reconnect when AWS drops the first try.
        let jitp = model("    provisioning:\n      method: jitp\n");
        assert!(!AwsDevices.issues_certificates(&jitp));
        let plan = simulate::plan(
            &jitp,
            Cloud::Aws,
            &outputs,
            &Flags {
                endpoint: Some("localhost:8883".to_owned()),
                ..Flags::default()
            },
            None,
            vec![("sn-1".to_owned(), Some(identity("sn-1")))],
            None,
            run(),
        )
        .unwrap();
        assert!(matches!(plan.flow, Flow::JustInTime));
        assert_eq!(plan.endpoint.to_string(), "localhost:8883");
        assert_eq!(plan.alpn, None);
        assert!(plan.devices[0].identity.is_some());
    }

    #[test]
    fn topics_and_payloads_follow_the_documented_api() {
        assert_eq!(
            replies(CREATE_TOPIC),
            [
                "$aws/certificates/create/json/accepted",
                "$aws/certificates/create/json/rejected"
            ]
        );
        assert_eq!(
            provision_topic("home-prod-fleet"),
            "$aws/provisioning-templates/home-prod-fleet/provision/json"
        );
        let body: serde_json::Value =
            serde_json::from_slice(&register_request("tok", "sn-1")).unwrap();
        assert_eq!(body["parameters"]["SerialNumber"], "sn-1");
        let r: Rejected = serde_json::from_str(
            r#"{"statusCode":403,"errorCode":"AccessDenied","errorMessage":"no"}"#,
        )
        .unwrap();
        assert_eq!(r.to_string(), "AccessDenied (403): no");
    }

    #[test]
    fn port_443_asks_for_mqtt_by_alpn() {
        assert_eq!(AwsDevices.alpn(443), Some("x-amzn-mqtt-ca"));
        assert_eq!(AwsDevices.alpn(8883), None);
        assert_eq!(AwsDevices.username("h", "d"), None);
    }

    #[test]
    fn registration_codes_are_64_hex_digits() {
        assert_eq!(AwsDevices.ca_code_problem(&"a".repeat(64)), None);
        assert!(AwsDevices.ca_code_problem("abc").is_some());
        assert!(AwsDevices.ca_code_problem(&"g".repeat(64)).is_some());
    }
}
