//! The device side of Azure DPS and IoT Hub over MQTT: client ids, user names, topics, the
//! DPS registration `fleetform simulate` runs, and the verification code `fleetform certs
//! verify-azure` signs. With DPS a device registers, then connects to the assigned hub;
//! without it, it connects to the hub with its certificate.
//!
//! DPS (<https://learn.microsoft.com/azure/iot/iot-mqtt-connect-to-iot-dps>): client id
//! = registration id (the certificate's CN), user name
//! `{idScope}/registrations/{registrationId}/api-version=2019-03-31`, subscribe to
//! `$dps/registrations/res/#`, publish to `$dps/registrations/PUT/iotdps-register/?$rid={rid}`,
//! and while the reply is `202` poll
//! `$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={id}` after
//! `retry-after` seconds, until `200` carries the assigned hub and device id.
//! IoT Hub (<https://learn.microsoft.com/azure/iot/iot-mqtt-connect-to-iot-hub>): client id
//! = device id, user name `{hub}/{deviceId}/?api-version=2021-04-12`, telemetry to
//! `devices/{deviceId}/messages/events/`, with the content type and encoding in the
//! property bag (`$.ct=application%2Fjson&$.ce=utf-8`): routing queries on `$body` match
//! only JSON messages declared as such.

use std::path::Path;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::clouds::{CaCode, Contact, DeviceSide, Exchange, Registered, Registration};
use crate::model::Model;
use crate::simulate::net::{Conn, Failure, Log};
use crate::simulate::{Device, Flags, Flow, Identity, Outputs, Plan, PlanError};

/// Azure's device side, as [`super::AzurePlanner`] hands it out.
pub struct AzureDevices;

impl DeviceSide for AzureDevices {
    fn contact(
        &self,
        model: &Model,
        outputs: &Outputs,
        flags: &Flags,
        claim: Option<Identity>,
    ) -> Result<Contact, PlanError> {
        let _ = claim;
        let Some(azure) = &model.azure else {
            return Err(PlanError::new(
                "the spec does not target Azure",
                "pass `--cloud aws`",
            ));
        };
        if azure.dps.is_some() {
            let endpoint = flags
                .endpoint
                .clone()
                .or_else(|| outputs.get("dps_global_endpoint"))
                .ok_or_else(|| {
                    PlanError::missing("DPS endpoint", "dps_global_endpoint", "--endpoint HOST")
                })?;
            let id_scope = flags
                .id_scope
                .clone()
                .or_else(|| outputs.get("dps_id_scope"))
                .ok_or_else(|| {
                    PlanError::missing("DPS ID scope", "dps_id_scope", "--id-scope SCOPE")
                })?;
            Ok(Contact {
                flow: Flow::Register(std::sync::Arc::new(Dps { id_scope })),
                endpoint,
            })
        } else {
            let endpoint = flags
                .endpoint
                .clone()
                .or_else(|| outputs.get("primary_iot_hub_hostname"))
                .ok_or_else(|| {
                    PlanError::missing(
                        "IoT Hub host name",
                        "primary_iot_hub_hostname",
                        "--endpoint HOST",
                    )
                })?;
            Ok(Contact {
                flow: Flow::Direct,
                endpoint,
            })
        }
    }

    /// The device-to-cloud topic of IoT Hub.
    fn telemetry_topic(&self, model: &Model, id: &str) -> String {
        let _ = model;
        telemetry_topic(id)
    }

    /// IoT Hub's user name (DPS registrations name theirs in [`Dps`]).
    fn username(&self, host: &str, id: &str) -> Option<String> {
        Some(hub_username(host, id))
    }

    fn ca_code(&self) -> CaCode {
        CaCode {
            name: "verification code",
            hint: "copy it from `az iot dps certificate generate-verification-code ... --query properties.verificationCode -o tsv`",
        }
    }

    fn ca_next_step(&self, ca_certificate: &Path, verification_certificate: &Path) -> String {
        let _ = ca_certificate;
        format!(
            "next: az iot dps certificate verify --dps-name <DPS> --resource-group <RG> --certificate-name <NAME> --path {} --etag <ETAG>",
            verification_certificate.display()
        )
    }
}

/// DPS registration in the ID scope of the deployed DPS.
#[derive(Debug)]
struct Dps {
    id_scope: String,
}

impl Registration for Dps {
    fn register<'a>(
        &'a self,
        plan: &'a Plan,
        device: &'a Device,
        log: &'a Log,
    ) -> Exchange<'a, Result<Registered, Failure>> {
        Box::pin(async move {
            let identity = device.identity.as_ref().expect("planned with an identity");
            let (hub, device_id) =
                dps_exchange(plan, &device.id, &self.id_scope, identity, log).await?;
            Ok(Registered {
                topic: Some(telemetry_topic(&device_id)),
                id: device_id,
                identity: None,
                hub: Some(hub),
            })
        })
    }
}

/// Registers with DPS and waits for the assignment: `(hub, device id)`.
async fn dps_exchange(
    plan: &Plan,
    registration_id: &str,
    id_scope: &str,
    identity: &Identity,
    log: &Log,
) -> Result<(String, String), Failure> {
    let user = dps_username(id_scope, registration_id);
    let mut c = Conn::open(
        plan,
        registration_id,
        Some(user),
        identity,
        &plan.endpoint,
        plan.run.timeout,
    )
    .await?;
    c.subscribe(DPS_REPLIES).await?;
    let mut rid = 1;
    c.publish(&register_topic(rid), register_body(registration_id))
        .await?;
    let deadline = Instant::now() + plan.run.timeout.max(Duration::from_secs(60));
    loop {
        let (topic, body) = c.reply_where(|t| parse_reply(t).is_some()).await?;
        let Some(reply) = parse_reply(&topic) else {
            continue;
        };
        if reply.rid.is_some_and(|r| r != rid) {
            continue;
        }
        let op: Operation = serde_json::from_slice(&body).map_err(|e| {
            Failure::new(
                "simulate-provisioning",
                format!("DPS replied with something else than the documented shape: {e}"),
            )
        })?;
        match reply.status {
            200 => {
                let state = op.registration_state.unwrap_or(RegistrationState {
                    assigned_hub: None,
                    device_id: None,
                    error_message: None,
                });
                match (op.status.as_deref(), state.assigned_hub, state.device_id) {
                    (Some("assigned"), Some(hub), Some(device_id)) => {
                        c.close().await;
                        log(format!(
                            "{registration_id}: DPS assigned `{device_id}` to {hub}"
                        ));
                        return Ok((hub, device_id));
                    }
                    (status, _, _) => {
                        return Err(Failure::new(
                            "simulate-provisioning",
                            format!(
                                "DPS finished the registration as `{}`: {}",
                                status.unwrap_or("unknown"),
                                state.error_message.unwrap_or_else(|| "no message".to_owned())
                            ),
                        )
                        .hint("check the enrollment group: enabled, its CA verified, a linked hub that accepts the allocation"));
                    }
                }
            }
            202 => {
                let Some(operation) = op.operation_id else {
                    return Err(Failure::new(
                        "simulate-provisioning",
                        "DPS accepted the registration without an operationId",
                    ));
                };
                if Instant::now() > deadline {
                    return Err(Failure::new(
                        "simulate-timeout",
                        format!("DPS still assigns `{registration_id}` after a minute"),
                    ));
                }
                let wait = reply.retry_after_seconds.unwrap_or(3).min(30);
                tokio::time::sleep(Duration::from_secs(wait)).await;
                rid += 1;
                c.publish(&status_topic(rid, &operation), Vec::new())
                    .await?;
            }
            status => {
                return Err(Failure::new(
                    "simulate-provisioning",
                    format!(
                        "DPS rejected the registration of `{registration_id}` with {status}: {}",
                        op.message.unwrap_or_else(|| "no message".to_owned())
                    ),
                )
                .hint("the registration id must be the device certificate's CN, and an enabled enrollment group must hold its CA")
                .hint(format!("errorCode: {}", op.error_code.map_or_else(|| "none".to_owned(), |c| c.to_string()))));
            }
        }
    }
}

/// DPS device API version the MQTT article documents.
pub const DPS_API_VERSION: &str = "2019-03-31";
/// IoT Hub device API version.
pub const HUB_API_VERSION: &str = "2021-04-12";
/// The DPS reply filter.
pub const DPS_REPLIES: &str = "$dps/registrations/res/#";

pub fn dps_username(id_scope: &str, registration_id: &str) -> String {
    format!("{id_scope}/registrations/{registration_id}/api-version={DPS_API_VERSION}")
}

pub fn register_topic(rid: u32) -> String {
    format!("$dps/registrations/PUT/iotdps-register/?$rid={rid}")
}

pub fn register_body(registration_id: &str) -> Vec<u8> {
    serde_json::json!({ "registrationId": registration_id })
        .to_string()
        .into_bytes()
}

pub fn status_topic(rid: u32, operation_id: &str) -> String {
    format!(
        "$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={operation_id}"
    )
}

pub fn hub_username(hub: &str, device_id: &str) -> String {
    format!("{hub}/{device_id}/?api-version={HUB_API_VERSION}")
}

pub fn telemetry_topic(device_id: &str) -> String {
    format!("devices/{device_id}/messages/events/$.ct=application%2Fjson&$.ce=utf-8")
}

/// A reply on `$dps/registrations/res/{status}/?$rid={rid}&retry-after={s}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub status: u16,
    pub rid: Option<u32>,
    pub retry_after_seconds: Option<u64>,
}

/// Parses a DPS reply topic; `None` for any other topic.
pub fn parse_reply(topic: &str) -> Option<Reply> {
    let rest = topic.strip_prefix("$dps/registrations/res/")?;
    let (status, query) = rest.split_once('/').unwrap_or((rest, ""));
    let status = status.parse().ok()?;
    let mut reply = Reply {
        status,
        rid: None,
        retry_after_seconds: None,
    };
    for pair in query.trim_start_matches('?').split('&') {
        match pair.split_once('=') {
            Some(("$rid", v)) => reply.rid = v.parse().ok(),
            Some(("retry-after", v)) => reply.retry_after_seconds = v.parse().ok(),
            _ => {}
        }
    }
    Some(reply)
}

/// The body of a registration reply.
#[derive(Debug, Deserialize)]
#[allow(clippy::struct_field_names)] // DPS's JSON names (`operationId`)
#[serde(rename_all = "camelCase")]
pub struct Operation {
    #[serde(default)]
    pub operation_id: Option<String>,
    #[serde(default)]
    pub status: Option<String>,
    #[serde(default)]
    pub registration_state: Option<RegistrationState>,
    /// Error replies (4xx) carry these instead.
    #[serde(default)]
    pub error_code: Option<u64>,
    #[serde(default)]
    pub message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RegistrationState {
    #[serde(default)]
    pub assigned_hub: Option<String>,
    #[serde(default)]
    pub device_id: Option<String>,
    #[serde(default)]
    pub error_message: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clouds::Cloud;
    use crate::simulate;
    use crate::simulate::fixtures::{identity, run};
    use crate::validate::{NoFiles, validate};

    fn model(dps: &str) -> Model {
        let spec = format!(
            "version: 1\nstack:\n  name: sim\n  environment: test\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-sim\n{dps}fleet:\n  devices: 10\n"
        );
        validate("sim.yaml", &spec, &NoFiles)
            .validated
            .expect("valid")
            .model
    }

    /// With DPS the simulator registers first; without it, it connects to the hub with IoT
    /// Hub's user name.
    #[test]
    fn dps_decides_whether_devices_register_first() {
        let outputs = Outputs::from_json(
            r#"{"dps_global_endpoint": {"value": "global.azure-devices-provisioning.net"},
                "dps_id_scope": {"value": "0ne00ABC123"},
                "primary_iot_hub_hostname": {"value": "hub-sim.azure-devices.net"}}"#,
        )
        .unwrap();
        let flags = Flags {
            port: 8883,
            ..Flags::default()
        };
        let devices = || vec![("sensor-1".to_owned(), Some(identity("sensor-1")))];
        let with_dps = model(
            "    dps:\n      allocation: evenly_weighted\n      enrollment_groups:\n        - name: sensors\n",
        );
        assert!(!AzureDevices.issues_certificates(&with_dps));
        let plan = simulate::plan(
            &with_dps,
            Cloud::Azure,
            &outputs,
            &flags,
            None,
            devices(),
            None,
            run(),
        )
        .unwrap();
        assert!(
            matches!(&plan.flow, Flow::Register(r) if format!("{r:?}").contains("0ne00ABC123")),
            "{:?}",
            plan.flow
        );
        assert_eq!(
            plan.endpoint.to_string(),
            "global.azure-devices-provisioning.net:8883"
        );
        assert_eq!(plan.alpn, None);
        assert_eq!(
            plan.devices[0].topic,
            "devices/sensor-1/messages/events/$.ct=application%2Fjson&$.ce=utf-8"
        );

        let plan = simulate::plan(
            &model(""),
            Cloud::Azure,
            &outputs,
            &flags,
            None,
            devices(),
            None,
            run(),
        )
        .unwrap();
        assert!(matches!(plan.flow, Flow::Direct));
        assert_eq!(plan.endpoint.to_string(), "hub-sim.azure-devices.net:8883");
        assert_eq!(
            plan.side()
                .username(&plan.endpoint.host, "sensor-1")
                .as_deref(),
            Some("hub-sim.azure-devices.net/sensor-1/?api-version=2021-04-12")
        );
    }

    #[test]
    fn topics_match_the_documented_exchange() {
        assert_eq!(
            dps_username("0ne00ABC123", "sensor-1"),
            "0ne00ABC123/registrations/sensor-1/api-version=2019-03-31"
        );
        assert_eq!(
            status_topic(2, "4.abc"),
            "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=4.abc"
        );
        assert_eq!(
            parse_reply("$dps/registrations/res/202/?$rid=1&retry-after=3"),
            Some(Reply {
                status: 202,
                rid: Some(1),
                retry_after_seconds: Some(3)
            })
        );
        assert_eq!(parse_reply("devices/x/messages/events/"), None);
        assert_eq!(
            hub_username("h.azure-devices.net", "d1"),
            "h.azure-devices.net/d1/?api-version=2021-04-12"
        );
    }
}
