//! The device side of AWS IoT's provisioning: topics, payloads and what a reply means.
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
//! (<https://docs.aws.amazon.com/iot/latest/developerguide/jit-provisioning.html>). Only the
//! pure parts live here; `net` runs them.

use serde::Deserialize;
use serde_json::json;

/// CreateKeysAndCertificate request topic.
pub const CREATE_TOPIC: &str = "$aws/certificates/create/json";

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
pub struct Registered {
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

/// Reconnect delays after JITP/JITR drops the first connection: exponential from one
/// second, capped at 16, with up to 25% jitter from the run's generator so a fleet
/// started together does not reconnect in lockstep.
pub fn backoff(attempt: u32, jitter: f64) -> std::time::Duration {
    let base = 1u64 << attempt.min(4);
    std::time::Duration::from_millis((base as f64 * 1000.0 * (1.0 + 0.25 * jitter)) as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        assert_eq!(backoff(0, 0.0).as_millis(), 1000);
        assert_eq!(backoff(9, 1.0).as_millis(), 20000);
    }
}
