//! The cloud-neutral model: a validated spec with every default resolved and every derived
//! quantity computed.
//!
//! Planners read only this. Everything here has already passed validation, so planners never
//! re-check input and never fail on it; they translate. Numbers that both the Terraform and
//! the bill depend on (shards, throughput units, hub units) are computed once, in
//! [`lower`], with the shared capacity math, so the generated Terraform and `fleetform cost`
//! cannot disagree.

pub mod condition;
pub mod lower;
pub mod names;
pub mod registry;
pub mod topic;

use std::collections::BTreeMap;

pub use crate::spec::{
    Allocation, AuthMethod, AwsLogLevel, AwsProvisioningMethod, AwsStreamService, AzureAlertEngine,
    CaSource, CertificateMode, CredentialGrant, Destination, Encryption, EventHubsTier, HubSku,
    IpAction, KeyAlgorithm, KinesisCapacity, Replication, Reprovisioning, RouteSource,
    ServicePermission, StorageTier, Subject, Validity,
};

use condition::Expr;
pub use names::GlobalName;
use topic::Topic;

/// The whole fleet, ready to plan.
#[derive(Debug, Clone)]
pub struct Model {
    pub stack: Stack,
    pub aws: Option<Aws>,
    pub azure: Option<Azure>,
    pub fleet: Fleet,
    pub identity: Identity,
    pub access: Access,
    pub messaging: Messaging,
    pub traffic: Traffic,
    pub routes: Vec<Route>,
    pub alerts: Vec<Alert>,
    pub features: Features,
    pub archive: Option<Archive>,
    pub monitoring: Monitoring,
    pub cost: CostControls,
    /// Present when the output is split into stacks with remote state.
    pub stacks: Option<Stacks>,
    /// Folders between the output root and this cloud's module: 1 for `<out>/aws`, 2 for
    /// `<out>/<environment>/aws`. Modules find the spec's folder (for certificate paths)
    /// from it, assuming the output root sits next to the spec, as in `--out terraform`.
    pub module_depth: usize,
    /// Pre-registered devices live in this many separate shard stacks instead of the cloud's
    /// main module (0: in the main module).
    pub registry_shards: usize,
}

impl Model {
    /// Relative path from a module to the spec's folder: `../..` at depth 1.
    pub fn spec_dir_from_module(&self) -> String {
        vec![".."; self.module_depth + 1].join("/")
    }
}

/// Stack layout and remote state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Stacks {
    /// Most pre-registered devices per AWS registry shard stack.
    pub registry_shard_size: usize,
    /// S3 state bucket, when AWS is targeted.
    pub aws: Option<AwsState>,
    /// Azure state storage, when Azure is targeted.
    pub azure: Option<AzureState>,
}

/// S3 state bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AwsState {
    pub bucket: String,
    pub region: String,
}

/// Azure state storage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AzureState {
    pub resource_group: String,
    pub storage_account: String,
    pub container: String,
    pub location: String,
}

/// Stack identity.
#[derive(Debug, Clone)]
pub struct Stack {
    pub name: String,
    pub environment: String,
    pub owner: Option<String>,
    pub description: Option<String>,
    /// `stack-environment`.
    pub prefix: String,
    /// Tags for every resource: the spec's, plus `stack`, `environment`, `owner` and
    /// `managed-by`.
    pub tags: BTreeMap<String, String>,
    /// Resources that hold data or device identities get `prevent_destroy`.
    pub prevent_destroy: bool,
}

/// AWS target.
#[derive(Debug, Clone)]
pub struct Aws {
    pub region: String,
    /// The account the stack deploys into, when the spec names it.
    pub account_id: Option<String>,
    /// This stack manages the account-wide AWS IoT settings of its account and region (the
    /// default of `manage_account_iot_settings`): true for exactly one environment of each
    /// account and region.
    pub account_settings: bool,
    pub provisioning: AwsProvisioning,
    pub fleet_indexing: bool,
    pub basic_ingest: bool,
    pub log_level: AwsLogLevel,
    pub stream: AwsStream,
    /// Explicit archive bucket name; `None` means `<archive_bucket_stem>-<account id>`.
    pub archive_bucket: Option<String>,
    pub archive_bucket_stem: String,
}

/// AWS provisioning.
#[derive(Debug, Clone)]
pub struct AwsProvisioning {
    pub method: AwsProvisioningMethod,
    pub certificate_mode: CertificateMode,
    /// Fleet provisioning (claim or trusted user): the template calls the hook.
    pub pre_provisioning_hook: bool,
    /// Name suffix of the hook's allow-list table (`provisioning-allow-list`).
    pub allow_list_table: String,
    /// Client id prefix the claim certificate may connect with (`provisioning-`).
    pub claim_client_id_prefix: String,
}

/// AWS streaming, sized.
#[derive(Debug, Clone)]
pub struct AwsStream {
    pub service: AwsStreamService,
    pub kinesis_capacity: KinesisCapacity,
    /// Shards for provisioned mode, from the planned peak throughput plus headroom.
    pub kinesis_shards: u32,
    pub kinesis_retention_hours: u32,
    pub firehose_buffer_seconds: u32,
    pub firehose_buffer_mib: u32,
}

impl AwsStream {
    pub fn uses_kinesis(&self) -> bool {
        matches!(
            self.service,
            AwsStreamService::Kinesis | AwsStreamService::KinesisAndFirehose
        )
    }
    pub fn uses_firehose(&self) -> bool {
        matches!(
            self.service,
            AwsStreamService::Firehose | AwsStreamService::KinesisAndFirehose
        )
    }
}

/// Azure target.
#[derive(Debug, Clone)]
pub struct Azure {
    pub location: String,
    pub resource_group: String,
    pub create_resource_group: bool,
    pub hub: IotHub,
    /// The hubs to create: one per linked location (the first is the primary).
    pub hubs: Vec<HubSite>,
    pub dps: Option<Dps>,
    pub event_hubs: EventHubs,
    pub storage: AzureStorage,
    pub alert_engine: AzureAlertEngine,
    pub names: AzureNames,
}

/// IoT Hub settings shared by every linked hub. Each hub is sized for its own share of the
/// fleet ([`HubSite`]); the size here is the busiest hub's, which stands for them all where
/// one size is shown (the SKU tier, the README's headline).
#[derive(Debug, Clone)]
pub struct IotHub {
    /// SKU of the busiest hub.
    pub sku: HubSku,
    /// Units of the busiest hub.
    pub units: u32,
    /// Whether the sku/units came from the spec rather than the sizing.
    pub pinned: bool,
    /// Daily quota messages (4 KB blocks) the busiest hub is planned for.
    pub planned_daily_quota_messages: u64,
    /// Daily quota the busiest hub's sku and units give.
    pub daily_quota: u64,
    pub partitions: u32,
    pub retention_days: u32,
    pub local_authentication: bool,
    pub public_network_access: bool,
    pub ip_filter: Vec<IpRule>,
}

/// One IoT hub in one location, sized for the devices the DPS allocation sends it.
#[derive(Debug, Clone)]
pub struct HubSite {
    pub name: GlobalName,
    pub location: String,
    pub allocation_weight: u32,
    /// Share of the fleet the hub is sized for, 0 to 1 (see
    /// [`crate::model::lower::hub_shares`]): the weight's share, all or nothing under static
    /// allocation, the spec's `devices` over `fleet.devices`, or the whole fleet.
    pub share: f64,
    /// Whether the allocation predicts the share; `false`: the spec does not say where
    /// devices go, and the hub is sized for the whole fleet.
    pub predicted: bool,
    /// Today's devices the share stands for (`fleet.devices` × share, rounded).
    pub devices: u64,
    pub sku: HubSku,
    pub units: u32,
    /// Daily quota messages (4 KB blocks) this hub is planned for (a year ahead, headroom).
    pub planned_daily_quota_messages: u64,
    /// Daily quota its sku and units give.
    pub daily_quota: u64,
}

impl HubSite {
    /// A hub not sized yet: the whole fleet, one S1 unit, until the lowering sizes it.
    pub fn new(name: GlobalName, location: String, allocation_weight: u32) -> Self {
        Self {
            name,
            location,
            allocation_weight,
            share: 1.0,
            predicted: true,
            devices: 0,
            sku: HubSku::S1,
            units: 1,
            planned_daily_quota_messages: 0,
            daily_quota: 0,
        }
    }
}

/// An IP filter rule.
#[derive(Debug, Clone)]
pub struct IpRule {
    pub name: String,
    pub ip_mask: String,
    pub action: IpAction,
}

/// Device Provisioning Service.
#[derive(Debug, Clone)]
pub struct Dps {
    pub allocation: Allocation,
    pub enrollment_groups: Vec<EnrollmentGroup>,
    pub reprovisioning: Reprovisioning,
    pub data_residency: bool,
    pub ip_filter: Vec<IpRule>,
}

/// A DPS enrollment group.
#[derive(Debug, Clone)]
pub struct EnrollmentGroup {
    pub name: String,
    pub device_type: Option<String>,
    pub attestation: AuthMethod,
    pub iot_edge: bool,
    /// The group's own CA certificate (relative to the spec), when it is not the fleet CA.
    pub ca_certificate_file: Option<String>,
}

/// Event Hubs, sized.
#[derive(Debug, Clone)]
pub struct EventHubs {
    pub tier: EventHubsTier,
    pub partitions: u32,
    pub retention_days: u32,
    pub capture: bool,
    pub capture_interval_seconds: u32,
    pub capture_size_mib: u32,
    /// Throughput units from the planned peak plus headroom.
    pub throughput_units: u32,
    /// Auto-inflate ceiling.
    pub max_throughput_units: Option<u32>,
}

/// Azure storage account options.
#[derive(Debug, Clone)]
pub struct AzureStorage {
    pub replication: Replication,
    pub infrastructure_encryption: bool,
    pub hierarchical_namespace: bool,
}

/// Resolved Azure names.
#[derive(Debug, Clone)]
pub struct AzureNames {
    pub dps: GlobalName,
    pub storage_account: GlobalName,
    pub eventhub_namespace: GlobalName,
    pub key_vault: GlobalName,
    /// The function apps' runtime storage account.
    pub functions_storage: GlobalName,
    pub alerts_app: GlobalName,
    pub allocation_app: GlobalName,
    pub cosmos_account: GlobalName,
    pub kusto_cluster: GlobalName,
}

/// The devices.
#[derive(Debug, Clone)]
pub struct Fleet {
    pub devices: u64,
    pub growth_percent_per_year: u32,
    pub device_types: Vec<DeviceType>,
    /// Parents before children.
    pub groups: Vec<DeviceGroup>,
    /// Pre-registered devices, in registry order (the file's, then the inline ones).
    /// Shared, because models are cloned per environment and stack, and a registry can hold a
    /// million devices.
    pub registry: std::sync::Arc<registry::Registry>,
    /// From this many registered devices on, the clouds' bulk jobs register them.
    pub bulk_threshold: u64,
}

/// A device type.
#[derive(Debug, Clone)]
pub struct DeviceType {
    pub name: String,
    pub description: Option<String>,
    pub searchable_attributes: Vec<String>,
}

/// A device group.
#[derive(Debug, Clone)]
pub struct DeviceGroup {
    pub name: String,
    pub parent: Option<String>,
    pub description: Option<String>,
}

/// Device identity.
#[derive(Debug, Clone)]
pub struct Identity {
    pub method: AuthMethod,
    pub ca: CaSource,
    /// Path of the signing CA certificate, relative to the spec file.
    pub ca_certificate_file: String,
    pub key_algorithm: KeyAlgorithm,
    pub subject: Subject,
    pub validity: Validity,
}

/// Authorization.
#[derive(Debug, Clone)]
pub struct Access {
    /// Topics devices may publish to (telemetry first).
    pub publish: Vec<Topic>,
    /// Topic filters devices may subscribe to (commands first, when on).
    pub subscribe: Vec<Topic>,
    pub services: Vec<Service>,
    pub cloud_credentials: Option<CloudCredentials>,
}

/// A back-end service.
#[derive(Debug, Clone)]
pub struct Service {
    pub name: String,
    pub access: Vec<ServicePermission>,
}

/// Device credentials for other cloud services.
#[derive(Debug, Clone)]
pub struct CloudCredentials {
    pub role_alias: String,
    pub duration_seconds: u32,
    pub grants: Vec<CredentialGrant>,
}

/// Messaging behaviour per device.
#[derive(Debug, Clone)]
pub struct Messaging {
    pub telemetry_topic: Topic,
    pub command_topic: Topic,
    pub messages_per_device_per_hour: f64,
    pub message_bytes: u64,
    /// Peak traffic over average.
    pub peak_factor: f64,
    pub connected_hours_per_day: f64,
    pub commands: bool,
    pub commands_per_device_per_day: f64,
    pub direct_methods: bool,
    pub method_calls_per_device_per_day: f64,
    pub state: bool,
    pub state_updates_per_device_per_day: f64,
    pub state_document_bytes: u64,
}

impl Messaging {
    /// Whether anything talks back to devices (rules out IoT Hub Basic).
    pub fn cloud_talks_back(&self) -> bool {
        self.commands || self.direct_methods || self.state
    }
}

/// Fleet-wide traffic, derived from the per-device figures.
#[derive(Debug, Clone, Copy)]
pub struct Traffic {
    /// Devices today.
    pub devices: u64,
    /// Devices one year ahead (growth applied): what capacity is sized for.
    pub planned_devices: u64,
    /// Telemetry messages per day, today.
    pub messages_per_day: f64,
    /// Telemetry messages per second at peak, planned, with headroom.
    pub peak_messages_per_second: f64,
    /// Telemetry bytes per second at peak, planned, with headroom.
    pub peak_bytes_per_second: f64,
    /// Multiplier from headroom (1.0 = none).
    pub headroom: f64,
}

/// A route.
#[derive(Debug, Clone)]
pub struct Route {
    pub name: String,
    pub source: RouteSource,
    pub condition: Option<Expr>,
    /// The condition as written, for comments and READMEs.
    pub condition_text: Option<String>,
    pub to: Vec<Destination>,
}

/// An alert.
#[derive(Debug, Clone)]
pub struct Alert {
    /// The spec's name: Terraform addresses and descriptions use it.
    pub name: String,
    /// What cloud resources are named after: the previous name of a renamed alert
    /// (`renamed_from`), so renaming it replaces nothing, else `name`.
    pub cloud_name: String,
    pub renamed_from: Option<String>,
    pub condition: Expr,
    pub condition_text: String,
    pub function: bool,
    pub notify: bool,
    pub expected_match_fraction: f64,
}

/// Optional features.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    pub state_store: bool,
    pub ota: bool,
    pub analytics: bool,
    pub web_api: bool,
}

/// The raw archive.
#[derive(Debug, Clone)]
pub struct Archive {
    pub versioning: bool,
    pub encryption: Encryption,
    /// Transitions in order (tier, day).
    pub lifecycle: Vec<Transition>,
    pub expire_after_days: Option<u32>,
    pub noncurrent_versions_expire_after_days: u32,
    pub prefixes: Vec<String>,
}

/// A lifecycle transition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub tier: StorageTier,
    pub after_days: u32,
}

/// Monitoring.
#[derive(Debug, Clone)]
pub struct Monitoring {
    pub log_retention_days: u32,
    pub alarms: bool,
    pub emails: Vec<String>,
}

/// Cost controls.
#[derive(Debug, Clone, Copy)]
pub struct CostControls {
    pub monthly_budget_usd: Option<f64>,
    pub headroom_percent: u32,
}

/// Where a cloud-neutral tier lands on each cloud: one mapping for the planners, the
/// estimator and the explanations.
impl StorageTier {
    /// S3 storage class: hot → Standard, cool → Standard-IA, cold → Glacier Instant
    /// Retrieval, archive → Glacier Flexible Retrieval, deep archive → Deep Archive.
    pub fn s3_class(self) -> crate::capacity::S3StorageClass {
        use crate::capacity::S3StorageClass as C;
        match self {
            StorageTier::Hot => C::Standard,
            StorageTier::Cool => C::StandardIa,
            StorageTier::Cold => C::GlacierInstantRetrieval,
            StorageTier::Archive => C::GlacierFlexibleRetrieval,
            StorageTier::DeepArchive => C::GlacierDeepArchive,
        }
    }

    /// Blob access tier: Azure has no tier colder than Archive.
    pub fn blob_tier(self) -> crate::capacity::BlobTier {
        use crate::capacity::BlobTier as B;
        match self {
            StorageTier::Hot => B::Hot,
            StorageTier::Cool => B::Cool,
            StorageTier::Cold => B::Cold,
            StorageTier::Archive | StorageTier::DeepArchive => B::Archive,
        }
    }
}

impl From<HubSku> for crate::capacity::HubSku {
    fn from(sku: HubSku) -> Self {
        match sku {
            HubSku::F1 => Self::F1,
            HubSku::B1 => Self::B1,
            HubSku::B2 => Self::B2,
            HubSku::B3 => Self::B3,
            HubSku::S1 => Self::S1,
            HubSku::S2 => Self::S2,
            HubSku::S3 => Self::S3,
        }
    }
}

impl From<crate::capacity::HubSku> for HubSku {
    fn from(sku: crate::capacity::HubSku) -> Self {
        use crate::capacity::HubSku as C;
        match sku {
            C::F1 => Self::F1,
            C::B1 => Self::B1,
            C::B2 => Self::B2,
            C::B3 => Self::B3,
            C::S1 => Self::S1,
            C::S2 => Self::S2,
            C::S3 => Self::S3,
        }
    }
}

impl From<EventHubsTier> for crate::capacity::EventHubsTier {
    fn from(tier: EventHubsTier) -> Self {
        match tier {
            EventHubsTier::Basic => Self::Basic,
            EventHubsTier::Standard => Self::Standard,
            EventHubsTier::Premium => Self::Premium,
        }
    }
}
