//! Every resource type the AWS modules create, with how `fleetform cost` treats it: priced
//! (which service's lines), free, or billed but not estimated yet and on what basis. The
//! estimate leaves CloudWatch, KMS and data transfer out on purpose (its conventions say so);
//! the rest of the "not estimated" entries are what a fuller price book would add.

use crate::design::bill::{Billing, free, not_estimated, partly, priced};

const IAM: &str = "IAM has no charge";
const IOT_FREE: &str = "no charge of its own: IoT Core bills device usage (connectivity, messages, shadow and registry operations), priced as IoT Core lines";
const S3_PART: &str =
    "configuration of a bucket; its storage and requests are billed by the bucket";
const BY_FUNCTION: &str = "no charge of its own: billed through the function";

/// The AWS catalog, sorted by resource type.
pub(super) const CATALOG: &[Billing] = &[
    not_estimated(
        "aws_apigatewayv2_api",
        "HTTP API requests, billed per million; the web API's read traffic is not estimated",
    ),
    free(
        "aws_apigatewayv2_integration",
        "configuration of the HTTP API",
    ),
    free("aws_apigatewayv2_route", "configuration of the HTTP API"),
    free("aws_apigatewayv2_stage", "configuration of the HTTP API"),
    not_estimated(
        "aws_athena_workgroup",
        "Athena bills the data each query scans; queries are yours to run",
    ),
    not_estimated(
        "aws_budgets_budget",
        "AWS Budgets bills budgets per day beyond the account's free ones",
    ),
    not_estimated(
        "aws_cloudwatch_log_group",
        "log ingestion and storage per GB; CloudWatch is left out of every estimate",
    ),
    free(
        "aws_cloudwatch_log_metric_filter",
        "a filter of a log group; the metric it emits is CloudWatch's, left out",
    ),
    free("aws_cloudwatch_log_stream", "part of a log group"),
    not_estimated(
        "aws_cloudwatch_metric_alarm",
        "alarms bill per alarm-month; CloudWatch is left out of every estimate",
    ),
    free(
        "aws_cognito_identity_pool",
        "identity pools have no charge; the credentials they hand out call other services",
    ),
    free("aws_cognito_identity_pool_roles_attachment", IAM),
    not_estimated(
        "aws_cognito_user_pool",
        "monthly active users who sign in to the web app",
    ),
    free("aws_cognito_user_pool_client", "part of the user pool"),
    partly(
        "aws_dynamodb_table",
        "DynamoDB",
        "the device-state table is priced; the alert, provisioning allow-list and device-owner tables are written per alert, device or user and are not estimated",
    ),
    not_estimated(
        "aws_glue_catalog_database",
        "Data Catalog objects and requests, free up to a monthly allowance",
    ),
    not_estimated(
        "aws_glue_catalog_table",
        "Data Catalog objects and requests, free up to a monthly allowance",
    ),
    free("aws_iam_policy", IAM),
    free("aws_iam_role", IAM),
    free("aws_iam_role_policy", IAM),
    free("aws_iam_role_policy_attachment", IAM),
    free("aws_iot_ca_certificate", IOT_FREE),
    free("aws_iot_certificate", IOT_FREE),
    free("aws_iot_event_configurations", IOT_FREE),
    not_estimated(
        "aws_iot_indexing_configuration",
        "fleet indexing bills index updates and queries",
    ),
    free(
        "aws_iot_logging_options",
        "no charge of its own: the logs go to CloudWatch Logs, left out of every estimate",
    ),
    free("aws_iot_policy", IOT_FREE),
    free("aws_iot_policy_attachment", IOT_FREE),
    free("aws_iot_provisioning_template", IOT_FREE),
    free("aws_iot_role_alias", IOT_FREE),
    free("aws_iot_thing", IOT_FREE),
    free("aws_iot_thing_group", IOT_FREE),
    free("aws_iot_thing_group_membership", IOT_FREE),
    free("aws_iot_thing_principal_attachment", IOT_FREE),
    free("aws_iot_thing_type", IOT_FREE),
    partly(
        "aws_iot_topic_rule",
        "IoT Core",
        "the telemetry and alert rules are priced; rules on shadow, lifecycle and connection events and the JITR rule are not (they follow device events, not telemetry)",
    ),
    priced("aws_kinesis_firehose_delivery_stream", "Data Firehose"),
    priced("aws_kinesis_stream", "Kinesis Data Streams"),
    free("aws_kms_alias", "an alias of a key"),
    not_estimated(
        "aws_kms_key",
        "a key-month plus requests; KMS is left out of every estimate",
    ),
    partly(
        "aws_lambda_function",
        "Lambda",
        "the alert functions are priced; the JITR activator, the pre-provisioning hook and the web API reader run per device registration or API call, not estimated",
    ),
    free("aws_lambda_permission", BY_FUNCTION),
    partly(
        "aws_s3_bucket",
        "S3",
        "the telemetry archive is priced; the access-log, firmware, Athena results and state buckets hold little data and are not estimated",
    ),
    free("aws_s3_bucket_lifecycle_configuration", S3_PART),
    free("aws_s3_bucket_logging", S3_PART),
    free("aws_s3_bucket_notification", S3_PART),
    free("aws_s3_bucket_ownership_controls", S3_PART),
    free("aws_s3_bucket_policy", S3_PART),
    free("aws_s3_bucket_public_access_block", S3_PART),
    free(
        "aws_s3_bucket_server_side_encryption_configuration",
        S3_PART,
    ),
    free("aws_s3_bucket_versioning", S3_PART),
    free(
        "aws_s3_object",
        "an object in a bucket (the bulk registration input); its storage and requests are billed by the bucket",
    ),
    not_estimated(
        "aws_signer_signing_profile",
        "signing jobs for firmware images; not in the price book",
    ),
    not_estimated(
        "aws_sns_topic",
        "publishes and deliveries (e-mail per notification); alerts are rare",
    ),
    free("aws_sns_topic_policy", "configuration of the topic"),
    free(
        "aws_sns_topic_subscription",
        "a subscription; its deliveries are billed by the topic",
    ),
    not_estimated(
        "aws_sqs_queue",
        "requests to the dead-letter queue, which receives only failed invocations",
    ),
];

#[cfg(test)]
mod tests {
    #[test]
    fn the_catalog_is_sorted_and_unique() {
        let types: Vec<&str> = super::CATALOG.iter().map(|b| b.resource_type).collect();
        let mut sorted = types.clone();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(types, sorted);
    }
}
