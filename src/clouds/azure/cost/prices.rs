//! Azure's prices in the price book: the items the Azure bill multiplies by, each with the
//! unit and metering increment its rules compute in (`azure:` in `pricebook.yaml`).

use crate::capacity::{self, HubSku};
use crate::cost::Error;
use crate::cost::pricebook::{Price, price_group};

price_group! {
    /// Azure IoT Hub, per unit-month of each SKU.
    IotHubPrices {
        free_f1: "unit-month", Some(capacity::AZURE_HUB_FREE_QUOTA_BLOCK_BYTES);
        basic_b1: "unit-month", Some(capacity::AZURE_HUB_QUOTA_BLOCK_BYTES);
        basic_b2: "unit-month", Some(capacity::AZURE_HUB_QUOTA_BLOCK_BYTES);
        basic_b3: "unit-month", Some(capacity::AZURE_HUB_QUOTA_BLOCK_BYTES);
        standard_s1: "unit-month", Some(capacity::AZURE_HUB_QUOTA_BLOCK_BYTES);
        standard_s2: "unit-month", Some(capacity::AZURE_HUB_QUOTA_BLOCK_BYTES);
        standard_s3: "unit-month", Some(capacity::AZURE_HUB_QUOTA_BLOCK_BYTES);
    }
}

impl IotHubPrices {
    /// The unit price of `sku`.
    pub fn unit(&self, sku: HubSku) -> &Price {
        match sku {
            HubSku::F1 => &self.free_f1,
            HubSku::B1 => &self.basic_b1,
            HubSku::B2 => &self.basic_b2,
            HubSku::B3 => &self.basic_b3,
            HubSku::S1 => &self.standard_s1,
            HubSku::S2 => &self.standard_s2,
            HubSku::S3 => &self.standard_s3,
        }
    }
}

price_group! {
    /// Azure Event Hubs.
    EventHubsPrices {
        basic_throughput_unit_hour: "TU-hour", None;
        basic_ingress_events: "1M events", Some(capacity::EVENT_HUBS_EVENT_BYTES);
        standard_throughput_unit_hour: "TU-hour", None;
        standard_ingress_events: "1M events", Some(capacity::EVENT_HUBS_EVENT_BYTES);
        standard_capture: "TU-hour", None;
        premium_processing_unit_hour: "PU-hour", None;
    }
}

price_group! {
    /// Azure Blob Storage (GPv2, LRS).
    BlobPrices {
        hot_storage: "GB-month", None;
        cool_storage: "GB-month", None;
        cold_storage: "GB-month", None;
        archive_storage: "GB-month", None;
        hot_write_operations: "10k operations", None;
        cool_write_operations: "10k operations", None;
        cold_write_operations: "10k operations", None;
        archive_write_operations: "10k operations", None;
    }
}

price_group! {
    /// Azure Functions, Consumption plan.
    FunctionsPrices {
        executions: "1M executions", None;
        execution_time: "GB-second", None;
    }
}

price_group! {
    /// Azure Cosmos DB, serverless.
    CosmosDbPrices {
        serverless_request_units: "1M request units", None;
        storage: "GB-month", None;
    }
}

price_group! {
    /// Azure Stream Analytics.
    StreamAnalyticsPrices {
        streaming_unit_hour: "SU-hour", None;
    }
}

/// Azure prices.
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AzurePrices {
    pub iot_hub: IotHubPrices,
    pub event_hubs: EventHubsPrices,
    pub blob_storage: BlobPrices,
    pub functions: FunctionsPrices,
    pub cosmos_db: CosmosDbPrices,
    pub stream_analytics: StreamAnalyticsPrices,
}

impl AzurePrices {
    /// Checks every price; errors name `origin` and the key path under `prefix`.
    pub(crate) fn check(&self, origin: &str, prefix: &str) -> Result<(), Error> {
        self.iot_hub.check(origin, &format!("{prefix}.iot_hub"))?;
        self.event_hubs
            .check(origin, &format!("{prefix}.event_hubs"))?;
        self.blob_storage
            .check(origin, &format!("{prefix}.blob_storage"))?;
        self.functions
            .check(origin, &format!("{prefix}.functions"))?;
        self.cosmos_db
            .check(origin, &format!("{prefix}.cosmos_db"))?;
        self.stream_analytics
            .check(origin, &format!("{prefix}.stream_analytics"))?;
        Ok(())
    }
}
