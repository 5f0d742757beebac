//! What AWS resources hold, and what replacing them costs.
//!
//! `fleetform diff` lists a replacement or destroy of anything that holds data or device
//! identities first, saying what is lost; `prevent_destroy` protects the same resources in
//! production. The provider's replacement rules sit next to this file in `forcenew.json`
//! (derived from hashicorp/aws 5.100.0's source; see [`crate::plan::forcenew`]).

use std::sync::OnceLock;

use crate::plan::forcenew::{self, Table};
use crate::plan::lifecycle::Holds;

/// hashicorp/aws's replacement rules for the resource types fleetform emits.
pub fn replacement_rules() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| forcenew::parse(include_str!("forcenew.json")))
}

/// What a resource of type `ty` holds, if anything a replacement or destroy loses.
pub fn holds(ty: &str) -> Option<Holds> {
    let (what, per_device) = match ty {
        "aws_s3_bucket" => (
            "every object in the bucket (archived telemetry, firmware, logs)",
            false,
        ),
        "aws_kinesis_stream" => (
            "records not yet read by every consumer (up to the retention period)",
            false,
        ),
        "aws_kinesis_firehose_delivery_stream" => ("records buffered but not yet delivered", false),
        "aws_dynamodb_table" => (
            "every item in the table (device state, alert history)",
            false,
        ),
        "aws_sqs_queue" => (
            "messages in the queue (failed deliveries kept for replay)",
            false,
        ),
        "aws_sns_topic" => (
            "every subscription (e-mail subscribers must confirm again)",
            false,
        ),
        "aws_cloudwatch_log_group" => ("the log events stored in the group", false),
        "aws_kms_key" => (
            "the key: data encrypted with it becomes unreadable once the key is deleted",
            false,
        ),
        "aws_iot_ca_certificate" => (
            "the registered CA: devices signed by it can no longer register or connect until it is registered again",
            false,
        ),
        "aws_iot_certificate" => (
            "the certificate registration: devices presenting it can no longer connect",
            true,
        ),
        "aws_iot_thing" => (
            "the device's registry entry (attributes, shadows, group memberships)",
            true,
        ),
        "aws_iot_thing_group" => ("the group and every membership in it", false),
        "aws_iot_role_alias" => (
            "the alias devices use for credentials: they cannot get AWS credentials until it is back",
            false,
        ),
        "aws_cognito_identity_pool" => ("every identity id issued to users of the web API", false),
        "aws_cognito_user_pool" => (
            "every user account of the web API (users must sign up and verify again)",
            false,
        ),
        _ => return None,
    };
    Some(Holds { what, per_device })
}
