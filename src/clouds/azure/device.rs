//! The device side of Azure DPS and IoT Hub over MQTT: client ids, user names, topics.
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

use serde::Deserialize;

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
