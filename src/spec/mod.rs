//! The fleet spec: the YAML document a DevOps engineer writes and reviews.
//!
//! These types are the *raw* input, shaped for people: IoT vocabulary, units in key names,
//! documented defaults, unknown keys rejected. They derive `JsonSchema` so that
//! `schemas/fleet.schema.json` (and the help an editor shows) comes from the same source as
//! the parser. Nothing here is validated beyond its shape: semantic checks live in
//! `validate`, and the checked, defaulted, cloud-neutral form lives in `model`.
//!
//! Cloud-neutral intent sits at the top level (`fleet`, `messaging`, `pipeline`, `storage`);
//! what only one cloud has a word for sits under `clouds.aws` or `clouds.azure`.
//!
//! Long (about 1,500 lines) on purpose: it is the spec's reference, each type's doc comment
//! being the description `schemas/fleet.schema.json` and editors show, in the document's
//! order. The per-cloud sections (`clouds.aws`, `clouds.azure`) are the first to move out,
//! into the cloud folders (`docs/adding-a-cloud.md`, step 2).

pub mod load;
pub mod node;
pub mod schema;

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// A fleet spec: what an IoT fleet needs, compiled by fleetform into Terraform.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "fleetform fleet spec")]
pub struct FleetSpec {
    /// Version of the spec format. Only `1` exists today.
    #[schemars(range(min = 1, max = 1), example = 1)]
    pub version: u32,
    /// Name, environment and ownership of the stack.
    pub stack: Stack,
    /// Which clouds to build for. Give `aws`, `azure`, or both.
    pub clouds: Clouds,
    /// The devices: how many, of which types, in which groups.
    pub fleet: Fleet,
    /// How devices prove who they are.
    #[serde(default)]
    pub identity: Identity,
    /// What devices and back-end services may do.
    #[serde(default)]
    pub authorization: Authorization,
    /// How devices talk to the cloud, and how much.
    #[serde(default)]
    pub messaging: Messaging,
    /// Where device messages go once they reach the cloud.
    #[serde(default)]
    pub pipeline: Pipeline,
    /// The raw telemetry archive and its storage tiers.
    #[serde(default)]
    pub storage: Storage,
    /// Logs, alarms and who hears about them.
    #[serde(default)]
    pub monitoring: Monitoring,
    /// Budget and capacity headroom.
    #[serde(default)]
    pub cost: CostControls,
    /// Split the output into several Terraform root modules with remote state, for pipelines
    /// that apply many small stacks in parallel.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stacks: Option<Stacks>,
    /// Per-environment overlays (dev, staging, prod, ...): any part of this spec except
    /// `version` and `environments`, changed for that environment. Mappings merge key by key;
    /// lists and values replace. Each environment builds its own stacks, and
    /// `stack.environment` is the environment's name.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(schema_with = "schema::environments_schema")]
    pub environments: BTreeMap<String, serde_json::Value>,
}

// ---------------------------------------------------------------------------------------------
// stack

/// Identity of the stack. The name and environment prefix every cloud resource name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stack {
    /// Short name of the fleet: lowercase letters, digits and hyphens, 3 to 24 characters,
    /// starting with a letter. Resource names are derived from it.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{1,22}[a-z0-9]$"), example = &"home-security")]
    pub name: String,
    /// Deployment environment: lowercase letters and digits, up to 10 characters.
    #[serde(default = "default_environment")]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9]{0,9}$"), example = &"prod")]
    pub environment: String,
    /// Team or person that owns the stack; becomes the `owner` tag.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128), example = &"platform-team")]
    pub owner: Option<String>,
    /// One sentence on what the fleet is for; goes into the generated README.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 512))]
    pub description: Option<String>,
    /// Extra tags put on every resource that supports them.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    #[schemars(example = tags_example())]
    pub tags: BTreeMap<String, String>,
    /// Mark what holds data or device identities (buckets, streams, tables, hubs, DPS, CAs,
    /// key vaults) `prevent_destroy`, so Terraform refuses a plan that would replace or
    /// destroy one. Defaults to on for `prod`, `production` and `prd` environments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prevent_destroy: Option<bool>,
}

fn default_environment() -> String {
    "dev".to_owned()
}

fn tags_example() -> BTreeMap<String, String> {
    BTreeMap::from([("cost-center".to_owned(), "cc-1234".to_owned())])
}

// ---------------------------------------------------------------------------------------------
// clouds

/// Target clouds. The presence of a key selects the cloud.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Clouds {
    /// Build for AWS IoT Core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<AwsCloud>,
    /// Build for Azure IoT Hub and the Device Provisioning Service.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub azure: Option<AzureCloud>,
}

/// AWS-specific settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsCloud {
    /// AWS region, for example `us-east-1`.
    #[schemars(regex(pattern = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"), example = &"us-east-1")]
    pub region: String,
    /// The AWS account (12 digits) this stack deploys into. Environments that deploy into
    /// the same account and region share its account-wide AWS IoT settings (one of them
    /// manages them) and may not both register the same CA or the same registry devices;
    /// environments without an account are taken to share one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[0-9]{12}$"), example = &"123456789012")]
    pub account_id: Option<String>,
    /// How devices get their identity into AWS IoT.
    #[serde(default)]
    pub provisioning: AwsProvisioning,
    /// IoT Core options.
    #[serde(default)]
    pub iot: AwsIot,
    /// How telemetry is streamed.
    #[serde(default)]
    pub stream: AwsStream,
    /// Explicit names for globally unique resources, when the derived ones are taken.
    #[serde(default)]
    pub names: AwsNames,
}

/// AWS IoT provisioning.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[derive(Default)]
pub struct AwsProvisioning {
    /// Provisioning method.
    #[serde(default)]
    pub method: AwsProvisioningMethod,
    /// How the CA is registered with AWS IoT: `default` proves possession of the CA key with a
    /// verification certificate (one account per region may register the CA); `sni_only`
    /// needs no verification but devices must send SNI.
    #[serde(default)]
    pub certificate_mode: CertificateMode,
    /// Fleet provisioning (by claim or by trusted user) always runs a pre-provisioning hook:
    /// it refuses serial numbers that are not on the allow list and serial numbers whose
    /// thing already has a certificate, so a claim cannot take over a device. `true` is the
    /// default there and `false` is an error; other methods have no hook.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pre_provisioning_hook: Option<bool>,
    /// Fleet provisioning: name (after the stack prefix) of the DynamoDB table the stack creates
    /// for the serial numbers allowed to provision, key `serial_number`. Default
    /// `provisioning-allow-list` (with the longest stack prefix, within DynamoDB's 255). The
    /// factory adds each device's serial number before it ships.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9_.-]{3,200}$"), example = &"provisioning-allow-list")]
    pub allow_list_table: Option<String>,
    /// Fleet provisioning by claim: the MQTT client id prefix a device connects with while it
    /// uses the claim certificate (`<prefix><serial number>`); the claim may use no other
    /// client id, and no serial number may start with it. Default `provisioning-`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Za-z0-9:_-]{1,64}$"), example = &"provisioning-")]
    pub claim_client_id_prefix: Option<String>,
}

/// Default of `clouds.aws.provisioning.allow_list_table`.
pub const DEFAULT_ALLOW_LIST_TABLE: &str = "provisioning-allow-list";
/// Default of `clouds.aws.provisioning.claim_client_id_prefix`.
pub const DEFAULT_CLAIM_CLIENT_ID_PREFIX: &str = "provisioning-";

/// How devices are provisioned on AWS IoT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AwsProvisioningMethod {
    /// Things and certificates are registered by Terraform from the device registry.
    Manual,
    /// Just-in-time provisioning: a registered CA carries a provisioning template; a device's
    /// first connection creates its thing and activates its certificate.
    Jitp,
    /// Just-in-time registration: a registered CA with auto-registration; a Lambda function
    /// validates and activates each new certificate.
    Jitr,
    /// Fleet provisioning by claim: devices ship with a shared claim certificate and exchange
    /// it for a unique certificate on first boot.
    #[default]
    FleetByClaim,
    /// Fleet provisioning by trusted user: an installer's app asks for a temporary claim.
    TrustedUser,
}

/// Registration mode of the CA certificate on AWS IoT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CertificateMode {
    /// Prove possession of the CA key with a verification certificate.
    #[default]
    Default,
    /// No verification certificate; devices must send Server Name Indication.
    SniOnly,
}

/// AWS IoT Core options.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsIot {
    /// Turn on fleet indexing of the registry and shadows (searchable fleet).
    #[serde(default)]
    pub fleet_indexing: bool,
    /// Let devices publish telemetry to Basic Ingest topics (`$aws/rules/...`), which skips
    /// the messaging charge.
    #[serde(default)]
    pub basic_ingest: bool,
    /// AWS IoT log level.
    #[serde(default)]
    pub log_level: AwsLogLevel,
}

/// AWS IoT logging level.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AwsLogLevel {
    Debug,
    Info,
    #[default]
    Warn,
    Error,
    Disabled,
}

/// Streaming on AWS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsStream {
    /// `firehose` lands telemetry in the archive cheaply; `kinesis` keeps a replayable stream
    /// for several consumers; `kinesis_and_firehose` does both (Firehose reads the stream).
    #[serde(default)]
    pub service: AwsStreamService,
    /// Kinesis capacity mode.
    #[serde(default)]
    pub kinesis_capacity: KinesisCapacity,
    /// Kinesis retention, 24 to 8760 hours.
    #[serde(default = "default_kinesis_retention_hours")]
    #[schemars(range(min = 24, max = 8760))]
    pub kinesis_retention_hours: u32,
    /// Firehose buffer interval, 60 to 900 seconds.
    #[serde(default = "default_firehose_buffer_seconds")]
    #[schemars(range(min = 60, max = 900))]
    pub firehose_buffer_seconds: u32,
    /// Firehose buffer size, 64 to 128 MiB (dynamic partitioning needs at least 64).
    #[serde(default = "default_firehose_buffer_mib")]
    #[schemars(range(min = 64, max = 128))]
    pub firehose_buffer_mib: u32,
}

impl Default for AwsStream {
    fn default() -> Self {
        Self {
            service: AwsStreamService::default(),
            kinesis_capacity: KinesisCapacity::default(),
            kinesis_retention_hours: default_kinesis_retention_hours(),
            firehose_buffer_seconds: default_firehose_buffer_seconds(),
            firehose_buffer_mib: default_firehose_buffer_mib(),
        }
    }
}

fn default_kinesis_retention_hours() -> u32 {
    24
}
fn default_firehose_buffer_seconds() -> u32 {
    300
}
fn default_firehose_buffer_mib() -> u32 {
    64
}

/// Which AWS streaming service carries telemetry.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AwsStreamService {
    /// Amazon Data Firehose straight to the archive bucket.
    #[default]
    Firehose,
    /// Kinesis Data Streams (replayable, several consumers).
    Kinesis,
    /// Kinesis Data Streams, with Firehose reading the stream into the archive.
    KinesisAndFirehose,
}

/// Kinesis Data Streams capacity mode.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KinesisCapacity {
    /// Shard count computed from the fleet's throughput.
    #[default]
    Provisioned,
    /// Kinesis scales by itself, billed per GB and stream-hour.
    OnDemand,
}

/// Explicit AWS names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsNames {
    /// Name of the raw telemetry bucket (S3 names are global across all AWS accounts).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub archive_bucket: Option<String>,
}

/// Azure-specific settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureCloud {
    /// Azure region of the resource group and the primary IoT hub, for example `westeurope`.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9]{2,30}$"), example = &"westeurope")]
    pub location: String,
    /// Resource group that holds the stack.
    #[schemars(regex(pattern = r"^[-\w._()]{1,89}[-\w_()]$"), example = &"rg-cranes-prod")]
    pub resource_group: String,
    /// Create the resource group (true) or use an existing one (false).
    #[serde(default = "yes")]
    pub create_resource_group: bool,
    /// IoT Hub sizing and access.
    #[serde(default)]
    pub iot_hub: AzureIotHub,
    /// Device Provisioning Service. Without it, devices are registered in the hub directly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dps: Option<AzureDps>,
    /// Event Hubs, the stream behind the IoT hub routes.
    #[serde(default)]
    pub event_hubs: AzureEventHubs,
    /// Storage account options.
    #[serde(default)]
    pub storage: AzureStorage,
    /// What evaluates alert conditions.
    #[serde(default)]
    pub alert_engine: AzureAlertEngine,
    /// Explicit names for globally unique resources, when the derived ones are taken.
    #[serde(default)]
    pub names: AzureNames,
}

fn yes() -> bool {
    true
}

/// IoT Hub settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureIotHub {
    /// `auto` picks the cheapest tier that fits the traffic and the features; `basic` and
    /// `standard` restrict the choice; `free` is one F1 unit (8,000 messages a day).
    #[serde(default)]
    pub tier: HubTier,
    /// Pin the SKU instead of computing it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sku: Option<HubSku>,
    /// Pin the unit count instead of computing it (1 to 200; 10 for B3/S3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 200))]
    pub units: Option<u32>,
    /// Partitions of the built-in Event Hub-compatible endpoint, 2 to 128.
    #[serde(default = "default_hub_partitions")]
    #[schemars(range(min = 2, max = 128))]
    pub partitions: u32,
    /// Retention of the built-in endpoint, 1 to 7 days.
    #[serde(default = "default_one")]
    #[schemars(range(min = 1, max = 7))]
    pub retention_days: u32,
    /// Allow shared-access-key (SAS) authentication for service clients. The DPS links to
    /// hubs with a connection string, so leave it on when a DPS is used.
    #[serde(default = "yes")]
    pub local_authentication: bool,
    /// Accept device connections from the public internet (restrict with `ip_filter`).
    #[serde(default = "yes")]
    pub public_network_access: bool,
    /// IP filter rules, evaluated in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_filter: Vec<IpRule>,
}

impl Default for AzureIotHub {
    fn default() -> Self {
        Self {
            tier: HubTier::default(),
            sku: None,
            units: None,
            partitions: default_hub_partitions(),
            retention_days: 1,
            local_authentication: true,
            public_network_access: true,
            ip_filter: Vec::new(),
        }
    }
}

fn default_hub_partitions() -> u32 {
    4
}
fn default_one() -> u32 {
    1
}

/// IoT Hub tier preference.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum HubTier {
    /// Cheapest tier that fits; Basic only when nothing talks back to devices.
    #[default]
    Auto,
    Free,
    Basic,
    Standard,
}

/// IoT Hub SKU.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
pub enum HubSku {
    F1,
    B1,
    B2,
    B3,
    S1,
    S2,
    S3,
}

/// An IP filter rule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IpRule {
    /// Rule name.
    #[schemars(regex(pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"))]
    pub name: String,
    /// IPv4 address or CIDR range, for example `203.0.113.0/24`.
    #[schemars(example = &"203.0.113.0/24")]
    pub ip_mask: String,
    /// Accept or reject matching addresses.
    #[serde(default)]
    pub action: IpAction,
}

/// What an IP filter rule does.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum IpAction {
    #[default]
    Accept,
    Reject,
}

/// Device Provisioning Service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureDps {
    /// IoT hubs the DPS assigns devices to, one per location. Without any, one hub in
    /// `clouds.azure.location` is linked.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub linked_hubs: Vec<LinkedHub>,
    /// How devices are spread over the linked hubs.
    #[serde(default)]
    pub allocation: Allocation,
    /// Enrollment groups (created after `terraform apply` by the generated script, because
    /// neither azurerm nor ARM can create them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enrollment_groups: Vec<EnrollmentGroup>,
    /// What happens to a device's data when it is provisioned again.
    #[serde(default)]
    pub reprovisioning: Reprovisioning,
    /// Keep device data in the DPS's own region (data residency).
    #[serde(default)]
    pub data_residency: bool,
    /// IP filter rules for the DPS.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub ip_filter: Vec<IpRule>,
}

/// An IoT hub linked to the DPS.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkedHub {
    /// Azure region of the hub.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9]{2,30}$"), example = &"northeurope")]
    pub location: String,
    /// Weight for evenly weighted allocation, 0 to 1000; with `evenly_weighted`, 0 is refused
    /// (the hub would never receive a device), and each hub is sized for its weight's share of
    /// the fleet. Lowest-latency and custom allocation ignore weights: see `devices`.
    #[serde(default = "default_one")]
    #[schemars(range(min = 0, max = 1000))]
    pub allocation_weight: u32,
    /// Devices expected on this hub, for the allocations whose split fleetform cannot work
    /// out (`lowest_latency`: where devices are; `custom`: what the webhook picks). The hub
    /// is sized and priced for them; give it on every linked hub, adding up to
    /// `fleet.devices`. Without it each such hub is sized for the whole fleet. Not used with
    /// `evenly_weighted` (the weights split the fleet) or `static` (the first hub takes all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0), example = &12000)]
    pub devices: Option<u64>,
}

/// DPS allocation policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// Spread devices over hubs by weight (Hashed).
    #[default]
    EvenlyWeighted,
    /// Assign each device to the hub with the lowest latency (GeoLatency).
    LowestLatency,
    /// Assign every device to the first linked hub (Static).
    Static,
    /// An Azure Function decides, per enrollment group.
    Custom,
}

/// A DPS enrollment group.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EnrollmentGroup {
    /// Enrollment group id.
    #[schemars(regex(pattern = r"^[a-z0-9][a-z0-9._:-]{0,127}$"))]
    pub name: String,
    /// Devices of this type enroll through this group (tags the twin).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// Attestation of the group; defaults to `identity.method`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<AuthMethod>,
    /// Whether the devices run IoT Edge.
    #[serde(default)]
    pub iot_edge: bool,
    /// PEM of the CA behind this X.509 group's device certificates, relative to the spec.
    /// Defaults to `identity.x509.ca_certificate_file`. DPS takes a certificate in one
    /// enrollment entry only, so each further X.509 group needs a CA of its own
    /// (`fleetform certs rotate --name <group>-ca` makes one under the same root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"certs/gantry-cranes-ca.pem")]
    pub ca_certificate_file: Option<String>,
}

/// DPS reprovisioning policy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reprovisioning {
    /// Move the device and its twin to the new hub.
    #[default]
    ReprovisionAndMigrate,
    /// Move the device and reset its twin to the initial state.
    ReprovisionAndReset,
    /// Never move a provisioned device.
    Never,
}

/// Event Hubs settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureEventHubs {
    /// Event Hubs tier. Capture needs `standard` or `premium`.
    #[serde(default)]
    pub tier: EventHubsTier,
    /// Partitions of the telemetry hub (1 to 32 on Standard).
    #[serde(default = "default_hub_partitions")]
    #[schemars(range(min = 1, max = 32))]
    pub partitions: u32,
    /// Message retention, 1 to 7 days.
    #[serde(default = "default_one")]
    #[schemars(range(min = 1, max = 7))]
    pub retention_days: u32,
    /// Capture the stream to the archive container in Avro.
    #[serde(default = "yes")]
    pub capture: bool,
    /// Capture window: write a file at least this often, 60 to 900 seconds.
    #[serde(default = "default_firehose_buffer_seconds")]
    #[schemars(range(min = 60, max = 900))]
    pub capture_interval_seconds: u32,
    /// Capture window: write a file when this much has arrived, 10 to 500 MiB.
    #[serde(default = "default_capture_mib")]
    #[schemars(range(min = 10, max = 500))]
    pub capture_size_mib: u32,
    /// Ceiling for auto-inflate of throughput units (Standard only); off when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 40))]
    pub max_throughput_units: Option<u32>,
}

impl Default for AzureEventHubs {
    fn default() -> Self {
        Self {
            tier: EventHubsTier::default(),
            partitions: default_hub_partitions(),
            retention_days: 1,
            capture: true,
            capture_interval_seconds: default_firehose_buffer_seconds(),
            capture_size_mib: default_capture_mib(),
            max_throughput_units: None,
        }
    }
}

fn default_capture_mib() -> u32 {
    300
}

/// Event Hubs tier.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum EventHubsTier {
    Basic,
    #[default]
    Standard,
    Premium,
}

/// Storage account options.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[derive(Default)]
pub struct AzureStorage {
    /// Replication of the storage account.
    #[serde(default)]
    pub replication: Replication,
    /// Encrypt a second time at the infrastructure layer.
    #[serde(default)]
    pub infrastructure_encryption: bool,
    /// Hierarchical namespace (Data Lake Storage Gen2).
    #[serde(default)]
    pub hierarchical_namespace: bool,
}

/// Storage replication.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum Replication {
    #[default]
    #[serde(rename = "LRS")]
    Lrs,
    #[serde(rename = "ZRS")]
    Zrs,
    #[serde(rename = "GRS")]
    Grs,
    #[serde(rename = "GZRS")]
    Gzrs,
}

/// What evaluates alert conditions on Azure.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AzureAlertEngine {
    /// An IoT Hub route with the alert's condition feeds a Function (consumption plan).
    #[default]
    Function,
    /// A Stream Analytics job reads the stream and evaluates the conditions.
    StreamAnalytics,
}

/// Explicit Azure names.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureNames {
    /// IoT hub name prefix (the location is appended when several hubs are linked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iot_hub: Option<String>,
    /// DPS name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dps: Option<String>,
    /// Storage account name: 3 to 24 lowercase letters and digits, unique across Azure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account: Option<String>,
    /// Event Hubs namespace name: 6 to 50 letters, digits and hyphens, unique across Azure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eventhub_namespace: Option<String>,
    /// Key vault name (for customer-managed keys): 3 to 24 letters, digits and hyphens,
    /// unique across Azure.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_vault: Option<String>,
}

// ---------------------------------------------------------------------------------------------
// fleet

/// The devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Fleet {
    /// Devices expected in the field today.
    #[schemars(range(min = 1, max = 100_000_000), example = 10_000)]
    pub devices: u64,
    /// Expected growth per year, in percent. Capacity is sized for one year ahead.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000))]
    pub growth_percent_per_year: u32,
    /// Kinds of devices. Each becomes an AWS thing type and an Azure twin tag.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub device_types: Vec<DeviceType>,
    /// Groups of devices (AWS thing groups, Azure twin tags), optionally nested.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<DeviceGroup>,
    /// Devices registered up front, for small fleets registered by hand.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub registry: Option<Registry>,
}

/// A kind of device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceType {
    /// Type name: letters, digits, `_`, `-` and `:`, up to 128 characters.
    #[schemars(regex(pattern = r"^[A-Za-z0-9:_-]{1,128}$"), example = &"door-sensor")]
    pub name: String,
    /// What the device is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2028))]
    pub description: Option<String>,
    /// Attributes you search devices by (at most 3 on AWS).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub searchable_attributes: Vec<String>,
}

/// A group of devices.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceGroup {
    /// Group name: letters, digits, `_`, `-` and `:`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9:_-]{1,128}$"), example = &"emea")]
    pub name: String,
    /// Parent group, for nesting.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent: Option<String>,
    /// What the group is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2028))]
    pub description: Option<String>,
}

/// Pre-registered devices: a file, an inline list, or both.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Registry {
    /// CSV (`id,type,groups,attributes...`) or YAML list, relative to the spec file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"devices.csv")]
    pub file: Option<String>,
    /// Devices listed inline.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub devices: Vec<RegisteredDevice>,
    /// From this many registered devices on, the clouds' own bulk jobs register them (an AWS
    /// IoT bulk thing registration task, an Azure IoT Hub import job) instead of Terraform
    /// resources per device: a Terraform-managed device is four or five resources in state,
    /// refreshed on every plan, so large registries make plans slow and state huge. Below it,
    /// AWS things and certificates stay Terraform resources (in registry shard stacks when
    /// `stacks` is set).
    #[serde(default = "default_bulk_threshold")]
    #[schemars(range(min = 1), example = 5_000)]
    pub bulk_threshold: u64,
}

/// Registries this large are registered in bulk by default.
pub const DEFAULT_BULK_THRESHOLD: u64 = 5_000;

fn default_bulk_threshold() -> u64 {
    DEFAULT_BULK_THRESHOLD
}

impl Default for Registry {
    fn default() -> Self {
        Self {
            file: None,
            devices: Vec::new(),
            bulk_threshold: DEFAULT_BULK_THRESHOLD,
        }
    }
}

/// One pre-registered device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisteredDevice {
    /// Device id (AWS thing name, Azure device id): letters, digits, `_`, `-` and `:`.
    #[schemars(regex(pattern = r"^[A-Za-z0-9:_-]{1,128}$"), example = &"sensor-0001")]
    pub id: String,
    /// Device type name.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub device_type: Option<String>,
    /// Groups the device belongs to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// Attributes (AWS thing attributes, Azure twin tags).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub attributes: BTreeMap<String, String>,
}

// ---------------------------------------------------------------------------------------------
// identity

/// Device authentication.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Identity {
    /// How devices authenticate.
    #[serde(default)]
    pub method: AuthMethod,
    /// X.509 settings (when `method` is `x509`).
    #[serde(default)]
    pub x509: X509,
}

/// Device authentication method.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    /// X.509 certificates chained to a fleet CA (both clouds).
    #[default]
    X509,
    /// Symmetric keys derived per device (Azure only).
    SymmetricKey,
    /// TPM endorsement key attestation (Azure DPS only, individual enrollments).
    Tpm,
}

/// X.509 settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[derive(Default)]
pub struct X509 {
    /// `generated`: `fleetform certs init` creates the CA chain offline; `provided`: bring
    /// your own CA certificate in `ca_certificate_file`.
    #[serde(default)]
    pub ca: CaSource,
    /// PEM of the CA that signs device certificates, relative to the spec. Defaults to
    /// `certs/signing-ca.pem`, where `fleetform certs init` writes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"certs/signing-ca.pem")]
    pub ca_certificate_file: Option<String>,
    /// Key algorithm of generated keys.
    #[serde(default)]
    pub key_algorithm: KeyAlgorithm,
    /// Subject fields of generated certificates. JITP reads them from device certificates.
    #[serde(default)]
    pub subject: Subject,
    /// Validity of generated certificates.
    #[serde(default)]
    pub validity: Validity,
}

/// Where the fleet CA comes from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaSource {
    #[default]
    Generated,
    Provided,
}

/// Key algorithm.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum KeyAlgorithm {
    #[default]
    EcdsaP256,
    Rsa2048,
    Rsa3072,
}

/// Certificate subject fields.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subject {
    /// Organization (O).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub organization: Option<String>,
    /// Organizational unit (OU).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 64))]
    pub organizational_unit: Option<String>,
    /// Two-letter country code (C).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[A-Z]{2}$"))]
    pub country: Option<String>,
    /// State or province (ST).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub state: Option<String>,
    /// Locality (L).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1, max = 128))]
    pub locality: Option<String>,
}

/// Certificate validity periods.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Validity {
    /// Root CA validity.
    #[serde(default = "default_root_days")]
    #[schemars(range(min = 365, max = 10_950))]
    pub root_ca_days: u32,
    /// Signing (intermediate) CA validity.
    #[serde(default = "default_signing_days")]
    #[schemars(range(min = 90, max = 7300))]
    pub signing_ca_days: u32,
    /// Device certificate validity.
    #[serde(default = "default_device_days")]
    #[schemars(range(min = 1, max = 7300))]
    pub device_days: u32,
}

impl Default for Validity {
    fn default() -> Self {
        Self {
            root_ca_days: default_root_days(),
            signing_ca_days: default_signing_days(),
            device_days: default_device_days(),
        }
    }
}

fn default_root_days() -> u32 {
    7300
}
fn default_signing_days() -> u32 {
    3650
}
fn default_device_days() -> u32 {
    1825
}

// ---------------------------------------------------------------------------------------------
// authorization

/// What devices and services may do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Authorization {
    /// Device permissions, scoped to each device's own identity.
    #[serde(default)]
    pub device: DeviceAccess,
    /// Back-end services and the access each needs.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub services: Vec<ServiceAccess>,
    /// Temporary cloud credentials for devices (AWS IoT role alias).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cloud_credentials: Option<CloudCredentials>,
}

/// Topics a device may use. `{device_id}` stands for the device's own id, so each device
/// can only touch its own topics; `{device_type}` for its type.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DeviceAccess {
    /// Extra topics devices may publish to (the telemetry topic is always allowed).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = vec!["events/{device_id}/alarm"])]
    pub publish: Vec<String>,
    /// Extra topic filters devices may subscribe to (the command topic is allowed when the
    /// cloud sends commands).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = vec!["config/{device_id}/#"])]
    pub subscribe: Vec<String>,
}

/// A back-end service and its access.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceAccess {
    /// Service name.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9-]{0,40}$"), example = &"dashboard")]
    pub name: String,
    /// Permissions: read or write the device registry, talk to devices, connect as a device.
    pub access: Vec<ServicePermission>,
}

/// A service-side permission.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum ServicePermission {
    /// Read device identities and twins/shadows.
    RegistryRead,
    /// Create, update and delete device identities.
    RegistryWrite,
    /// Send commands to devices and read their messages.
    ServiceConnect,
    /// Connect on behalf of devices (gateways).
    DeviceConnect,
}

/// Temporary credentials for devices calling other cloud services.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudCredentials {
    /// Role alias name.
    #[schemars(regex(pattern = r"^[A-Za-z0-9=,@-]{1,128}$"), example = &"fleet-device")]
    pub role_alias: String,
    /// Lifetime of the credentials, 900 to 43200 seconds.
    #[serde(default = "default_credential_seconds")]
    #[schemars(range(min = 900, max = 43_200))]
    pub duration_seconds: u32,
    /// What the credentials allow, each scoped to the calling device.
    pub grants: Vec<CredentialGrant>,
}

fn default_credential_seconds() -> u32 {
    3600
}

/// A grant for device credentials.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CredentialGrant {
    /// Download firmware images (needs `pipeline.ota`).
    FirmwareRead,
    /// Upload files under the device's own prefix of the archive.
    ArchiveUpload,
    /// Read the device's own item in the state store (needs `pipeline.state_store`).
    StateRead,
}

// ---------------------------------------------------------------------------------------------
// messaging

/// Device messaging, in the units the cloud bills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Messaging {
    /// Telemetry messages each device sends per hour (may be fractional).
    #[serde(default = "default_messages_per_hour")]
    #[schemars(range(min = 0.0, max = 360_000.0), example = 12.0)]
    pub messages_per_device_per_hour: f64,
    /// Metered size of one telemetry message in bytes: payload plus topic and properties.
    #[serde(default = "default_message_bytes")]
    #[schemars(range(min = 1, max = 262_144), example = 1500)]
    pub message_bytes: u64,
    /// Peak traffic over average, for sizing streams (devices that report in sync).
    #[serde(default = "default_peak_factor")]
    #[schemars(range(min = 1.0, max = 100.0))]
    pub peak_factor: f64,
    /// Hours a day each device is connected.
    #[serde(default = "default_connected_hours")]
    #[schemars(range(min = 0.0, max = 24.0))]
    pub connected_hours_per_day: f64,
    /// MQTT topics. `{device_id}` and `{device_type}` are filled in per device.
    #[serde(default)]
    pub topics: Topics,
    /// Whether and how the cloud talks back to devices.
    #[serde(default)]
    pub cloud_to_device: CloudToDevice,
    /// Device state documents: the shadow on AWS, the twin on Azure.
    #[serde(default)]
    pub state: StateSync,
}

impl Default for Messaging {
    fn default() -> Self {
        Self {
            messages_per_device_per_hour: default_messages_per_hour(),
            message_bytes: default_message_bytes(),
            peak_factor: default_peak_factor(),
            connected_hours_per_day: default_connected_hours(),
            topics: Topics::default(),
            cloud_to_device: CloudToDevice::default(),
            state: StateSync::default(),
        }
    }
}

fn default_messages_per_hour() -> f64 {
    12.0
}
fn default_message_bytes() -> u64 {
    1024
}
fn default_peak_factor() -> f64 {
    2.0
}
fn default_connected_hours() -> f64 {
    24.0
}

/// MQTT topic patterns (AWS; Azure IoT Hub's topics are fixed, so there they only name the
/// message route).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Topics {
    /// Topic devices publish telemetry to.
    #[serde(default = "default_telemetry_topic")]
    #[schemars(example = &"dt/{device_type}/{device_id}/telemetry")]
    pub telemetry: String,
    /// Topic devices receive commands on.
    #[serde(default = "default_command_topic")]
    #[schemars(example = &"cmd/{device_id}/req")]
    pub commands: String,
}

impl Default for Topics {
    fn default() -> Self {
        Self {
            telemetry: default_telemetry_topic(),
            commands: default_command_topic(),
        }
    }
}

fn default_telemetry_topic() -> String {
    "dt/{device_id}/telemetry".to_owned()
}
fn default_command_topic() -> String {
    "cmd/{device_id}/req".to_owned()
}

/// Cloud-to-device features.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CloudToDevice {
    /// The cloud sends commands to devices (AWS: command topic; Azure: C2D messages).
    #[serde(default)]
    pub commands: bool,
    /// Commands per device per day.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 100_000.0))]
    pub commands_per_device_per_day: f64,
    /// Request/response calls into devices (Azure direct methods; AWS request and reply topics).
    #[serde(default)]
    pub direct_methods: bool,
    /// Direct method calls per device per day.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 100_000.0))]
    pub method_calls_per_device_per_day: f64,
}

/// Shadow (AWS) / twin (Azure) usage.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateSync {
    /// Devices keep a shadow/twin.
    #[serde(default)]
    pub enabled: bool,
    /// Reported-state updates per device per day.
    #[serde(default)]
    #[schemars(range(min = 0.0, max = 100_000.0))]
    pub updates_per_device_per_day: f64,
    /// Size of one update in bytes.
    #[serde(default = "default_message_bytes")]
    #[schemars(range(min = 1, max = 32_768))]
    pub document_bytes: u64,
}

impl Default for StateSync {
    fn default() -> Self {
        Self {
            enabled: false,
            updates_per_device_per_day: 0.0,
            document_bytes: 1024,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// pipeline

/// What happens to messages once they reach the cloud.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[derive(Default)]
pub struct Pipeline {
    /// Routes from device messages to destinations. Without any, all telemetry goes to the
    /// stream and the archive.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub routes: Vec<Route>,
    /// Alerts: a condition on telemetry that runs a function and/or notifies people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub alerts: Vec<Alert>,
    /// Keep the latest state of every device in a table (DynamoDB / Cosmos DB).
    #[serde(default)]
    pub state_store: Toggle,
    /// Over-the-air updates: firmware storage, signing and job documents.
    #[serde(default)]
    pub ota: Toggle,
    /// Make the archive queryable (Glue + Athena / Azure Data Explorer).
    #[serde(default)]
    pub analytics: Toggle,
    /// A read-only HTTP API over device state for a web front end.
    #[serde(default)]
    pub web_api: Toggle,
}

/// A feature switch.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Toggle {
    /// Turn the feature on.
    #[serde(default)]
    pub enabled: bool,
}

/// A message route.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// Route name: lowercase letters, digits and underscores.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"), example = &"telemetry")]
    pub name: String,
    /// Which messages the route sees.
    #[serde(default)]
    pub source: RouteSource,
    /// Condition on the message body, for example `temperature > 80 and status = 'ok'`.
    /// Fields are JSON body fields; operators `= != < <= > >=`, `and`, `or`, `not`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(example = &"temperature > 80")]
    pub condition: Option<String>,
    /// Destinations.
    pub to: Vec<Destination>,
}

/// Messages a route sees.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RouteSource {
    /// Device telemetry.
    #[default]
    Telemetry,
    /// Shadow/twin changes.
    StateChanges,
    /// Device created and deleted events.
    Lifecycle,
    /// Connected and disconnected events.
    ConnectionState,
}

/// Route destination.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Destination {
    /// The stream (Kinesis / Firehose, Event Hubs).
    Stream,
    /// The raw archive (S3 / Blob).
    Archive,
    /// The latest-state table.
    StateStore,
}

/// An alert.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alert {
    /// Alert name: lowercase letters, digits and underscores.
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"), example = &"overload")]
    pub name: String,
    /// The alert's previous name, after a rename. Its cloud resources (rule, function, event
    /// hub) keep the names built from the old name, and `moved` blocks carry them to the new
    /// addresses, so the rename replaces nothing. Keep it while those resources exist.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9_]{0,63}$"), example = &"overweight")]
    pub renamed_from: Option<String>,
    /// Condition on telemetry, same syntax as route conditions.
    #[schemars(example = &"load_kg > 5000")]
    pub condition: String,
    /// Run a generated function for each matching message (records it and notifies).
    #[serde(default = "yes")]
    pub function: bool,
    /// Notify the people in `monitoring.notify`.
    #[serde(default = "yes")]
    pub notify: bool,
    /// Fraction of messages expected to match, for cost estimates.
    #[serde(default = "default_match_fraction")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub expected_match_fraction: f64,
}

fn default_match_fraction() -> f64 {
    0.001
}

// ---------------------------------------------------------------------------------------------
// storage

/// Storage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Storage {
    /// The raw telemetry archive.
    #[serde(default)]
    pub archive: Archive,
}

/// The raw telemetry archive (S3 bucket / Blob container).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Archive {
    /// Keep an archive of raw telemetry.
    #[serde(default = "yes")]
    pub enabled: bool,
    /// Keep previous versions of overwritten or deleted objects.
    #[serde(default = "yes")]
    pub versioning: bool,
    /// Who holds the encryption key. Data is always encrypted at rest.
    #[serde(default)]
    pub encryption: Encryption,
    /// Storage tiers in order, each after a number of days since the object was written.
    /// Objects start in `hot`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycle: Vec<LifecycleRule>,
    /// Delete objects this many days after they were written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 36_500), example = 365)]
    pub expire_after_days: Option<u32>,
    /// Delete previous versions this many days after they were replaced.
    #[serde(default = "default_noncurrent_days")]
    #[schemars(range(min = 1, max = 36_500))]
    pub noncurrent_versions_expire_after_days: u32,
    /// Only objects whose name starts with one of these prefixes follow the lifecycle.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prefixes: Vec<String>,
}

impl Default for Archive {
    fn default() -> Self {
        Self {
            enabled: true,
            versioning: true,
            encryption: Encryption::default(),
            lifecycle: Vec::new(),
            expire_after_days: None,
            noncurrent_versions_expire_after_days: default_noncurrent_days(),
            prefixes: Vec::new(),
        }
    }
}

fn default_noncurrent_days() -> u32 {
    30
}

/// Encryption keys.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Encryption {
    /// A key you own (AWS KMS key with rotation / Azure Key Vault key).
    #[default]
    CustomerManaged,
    /// A key the cloud manages for you.
    PlatformManaged,
}

/// A lifecycle step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LifecycleRule {
    /// Tier to move objects to.
    pub tier: StorageTier,
    /// Days after the object was written.
    #[schemars(range(min = 0, max = 36_500), example = 30)]
    pub after_days: u32,
    /// Accept paying early-deletion fees when objects leave this tier before its minimum
    /// storage duration.
    #[serde(default)]
    pub allow_early_deletion: bool,
}

/// Cloud-neutral storage tiers, coldest last.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StorageTier {
    /// S3 Standard / Blob Hot.
    Hot,
    /// S3 Standard-IA / Blob Cool.
    Cool,
    /// S3 Glacier Instant Retrieval / Blob Cold.
    Cold,
    /// S3 Glacier Flexible Retrieval / Blob Archive.
    Archive,
    /// S3 Glacier Deep Archive / Blob Archive (Azure has no colder tier).
    DeepArchive,
}

// ---------------------------------------------------------------------------------------------
// monitoring and cost

/// Monitoring.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Monitoring {
    /// Log retention in days (CloudWatch allows 1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180,
    /// 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653).
    #[serde(default = "default_log_days")]
    #[schemars(range(min = 1, max = 3653))]
    pub log_retention_days: u32,
    /// Create alarms on rule errors, throttling and quota use.
    #[serde(default = "yes")]
    pub alarms: bool,
    /// Who is told about alerts and alarms.
    #[serde(default)]
    pub notify: Notify,
}

impl Default for Monitoring {
    fn default() -> Self {
        Self {
            log_retention_days: default_log_days(),
            alarms: true,
            notify: Notify::default(),
        }
    }
}

fn default_log_days() -> u32 {
    30
}

/// Notification targets.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Notify {
    /// E-mail addresses (each must confirm the subscription).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(example = vec!["oncall@example.com"])]
    pub email: Vec<String>,
}

/// Cost controls.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CostControls {
    /// Monthly budget in USD per cloud; `fleetform cost` fails above it and a budget alarm
    /// is created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1.0), example = 500.0)]
    pub monthly_budget_usd: Option<f64>,
    /// Extra capacity, in percent, on top of the computed hub units, shards and throughput
    /// units.
    #[serde(default)]
    #[schemars(range(min = 0, max = 1000))]
    pub headroom_percent: u32,
}

// ---------------------------------------------------------------------------------------------
// stacks

/// Output split into stacks: one root module per environment and cloud (and per registry
/// shard), each with a remote state backend, a bootstrap module that creates the state
/// storage, and a `stacks.json` manifest of paths and dependencies for pipelines.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Stacks {
    /// Split pre-registered AWS devices into shard stacks of at most this many devices each,
    /// so no single plan handles a huge registry. The default, 10,000, keeps a shard near
    /// 30 MB of state (about 3 KB a device: thing, certificate, principal attachment, group
    /// memberships) and its refresh near 45,000 read calls, minutes at Terraform's default
    /// parallelism of 10, and a failed apply retries at most one shard. Applies only to
    /// registries below `fleet.registry.bulk_threshold` (see docs/scale.md).
    #[serde(default = "default_shard_size")]
    #[schemars(range(min = 100, max = 100_000))]
    pub registry_shard_size: u32,
    /// Where Terraform state lives. Names are derived from the stack when left out.
    #[serde(default)]
    pub state: StateStorage,
}

fn default_shard_size() -> u32 {
    10_000
}

/// Remote state storage per cloud.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateStorage {
    /// S3 state bucket (with native S3 locking, `use_lockfile`).
    #[serde(default)]
    pub aws: AwsStateStorage,
    /// Azure storage container for state.
    #[serde(default)]
    pub azure: AzureStateStorage,
}

/// S3 state bucket.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AwsStateStorage {
    /// Bucket name (unique across AWS). Defaults to `tfstate-<stack>-<hash>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Region of the bucket. Defaults to `clouds.aws.region`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z]{2}(-gov|-iso[a-z]*)?-[a-z]+-[0-9]$"))]
    pub region: Option<String>,
}

/// Azure state storage.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AzureStateStorage {
    /// Resource group of the state storage account. Defaults to `rg-<stack>-tfstate`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[-\w._()]{1,89}[-\w_()]$"))]
    pub resource_group: Option<String>,
    /// Storage account name (unique across Azure). Defaults to `sttfstate<hash>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_account: Option<String>,
    /// Azure region of the account. Defaults to `clouds.azure.location`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^[a-z][a-z0-9]{2,30}$"))]
    pub location: Option<String>,
}
