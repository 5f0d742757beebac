//! AWS's prices in the price book: the items the AWS bill multiplies by, each with the unit
//! and metering increment its rules compute in (`aws:` in `pricebook.yaml`).

use crate::capacity;
use crate::cost::Error;
use crate::cost::pricebook::price_group;

price_group! {
    /// AWS IoT Core.
    IotCorePrices {
        /// Per million connection-minutes.
        connectivity: "1M connection-minutes", None;
        /// Per million 5 KB messages, tiered by monthly volume.
        messaging: "1M messages", Some(capacity::AWS_IOT_MESSAGE_BLOCK_BYTES);
        /// Per million 1 KB shadow or registry operations.
        device_shadow_and_registry: "1M operations", Some(capacity::AWS_SHADOW_OP_BLOCK_BYTES);
        /// Per million 5 KB rule evaluations.
        rules_triggered: "1M rules triggered", Some(capacity::AWS_RULES_BLOCK_BYTES);
        /// Per million actions applied.
        actions_applied: "1M actions applied", Some(capacity::AWS_RULES_BLOCK_BYTES);
    }
}

price_group! {
    /// Amazon Kinesis Data Streams.
    KinesisPrices {
        /// Provisioned mode, per shard-hour.
        shard_hour: "shard-hour", None;
        /// Provisioned mode, per million 25 KB PUT payload units.
        put_payload_units: "1M PUT payload units", Some(capacity::KINESIS_PUT_UNIT_BYTES);
        /// Provisioned mode, retention beyond 24 h up to 7 days, per shard-hour.
        extended_retention: "shard-hour", None;
        /// Retention beyond 7 days, per GB-month.
        long_term_retention: "GB-month", None;
        /// On-demand mode, per stream-hour.
        on_demand_stream_hour: "stream-hour", None;
        /// On-demand mode, per GB written (records rounded up to 1 KB).
        on_demand_data_in: "GB", Some(capacity::KINESIS_ON_DEMAND_ROUNDING_BYTES);
        /// On-demand mode, per GB read.
        on_demand_data_out: "GB", None;
        /// On-demand mode, retention beyond 24 h up to 7 days, per GB-month.
        on_demand_extended_retention: "GB-month", None;
    }
}

price_group! {
    /// Amazon Data Firehose.
    FirehosePrices {
        /// Per GB ingested (records rounded up to 5 KB).
        ingestion: "GB", Some(capacity::FIREHOSE_ROUNDING_BYTES);
    }
}

price_group! {
    /// Amazon S3.
    S3Prices {
        standard_storage: "GB-month", None;
        standard_ia_storage: "GB-month", None;
        one_zone_ia_storage: "GB-month", None;
        glacier_instant_retrieval_storage: "GB-month", None;
        glacier_flexible_retrieval_storage: "GB-month", None;
        glacier_deep_archive_storage: "GB-month", None;
        put_requests: "1k requests", None;
        transition_to_standard_ia: "1k requests", None;
        transition_to_one_zone_ia: "1k requests", None;
        transition_to_glacier_instant_retrieval: "1k requests", None;
        transition_to_glacier_flexible_retrieval: "1k requests", None;
        transition_to_glacier_deep_archive: "1k requests", None;
    }
}

price_group! {
    /// AWS Lambda.
    LambdaPrices {
        requests: "1M requests", None;
        duration_x86: "GB-second", None;
        duration_arm64: "GB-second", None;
    }
}

price_group! {
    /// Amazon DynamoDB, on-demand capacity.
    DynamoDbPrices {
        on_demand_writes: "1M write request units", Some(capacity::DYNAMODB_WRITE_UNIT_BYTES);
        on_demand_reads: "1M read request units", Some(capacity::DYNAMODB_READ_UNIT_BYTES);
        storage: "GB-month", None;
    }
}

/// AWS prices.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsPrices {
    pub iot_core: IotCorePrices,
    pub kinesis_data_streams: KinesisPrices,
    pub data_firehose: FirehosePrices,
    pub s3: S3Prices,
    pub lambda: LambdaPrices,
    pub dynamodb: DynamoDbPrices,
}

impl AwsPrices {
    /// Checks every price; errors name `origin` and the key path under `prefix`.
    pub(crate) fn check(&self, origin: &str, prefix: &str) -> Result<(), Error> {
        self.iot_core.check(origin, &format!("{prefix}.iot_core"))?;
        self.kinesis_data_streams
            .check(origin, &format!("{prefix}.kinesis_data_streams"))?;
        self.data_firehose
            .check(origin, &format!("{prefix}.data_firehose"))?;
        self.s3.check(origin, &format!("{prefix}.s3"))?;
        self.lambda.check(origin, &format!("{prefix}.lambda"))?;
        self.dynamodb.check(origin, &format!("{prefix}.dynamodb"))?;
        Ok(())
    }
}
