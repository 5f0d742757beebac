//! The Azure planner across the choices a spec can make: hub tiers (auto, basic, standard,
//! free, a pinned SKU), all four DPS allocation policies, Event Hubs tiers with Capture on
//! and off, lifecycle shapes, both alert engines, the optional features on and off, one and
//! several linked hubs, and no DPS at all.
//!
//! Every case is a spec written here as YAML. Each must build twice to the same bytes, pass
//! `terraform fmt -check`, real azurerm `validate`, a mocked plan with the shipped tests,
//! and checkov, and contain the resources its choices call for; an inventory of every
//! case's resources is pinned by a snapshot, so a change in what any combination creates
//! shows up in review.
//!
//! Long (about 800 lines): one matrix, its case list and the properties every case must keep;
//! the cases share the build, the real-provider checks and the inventory snapshot.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use fleetform::emit::Rendered;

/// One combination of choices.
struct Case {
    name: &'static str,
    yaml: String,
    /// `(file, text)`: the file exists and contains the text.
    expect: Vec<(&'static str, &'static str)>,
    /// `(file, text)`: the file is absent (empty text) or does not contain the text.
    absent: Vec<(&'static str, &'static str)>,
}

/// A spec with an Azure cloud. `azure` is indented under `clouds.azure`, `rest` is top-level.
fn spec(name: &str, devices: u64, azure: &str, rest: &str) -> String {
    let mut indented = String::new();
    for line in azure.lines().filter(|l| !l.trim().is_empty()) {
        let _ = writeln!(indented, "    {line}");
    }
    let azure = indented;
    format!(
        "version: 1\nstack:\n  name: {name}\n  environment: test\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-{name}\n{azure}fleet:\n  devices: {devices}\n  device_types:\n    - name: sensor\n    - name: gateway\n{rest}"
    )
}

/// Spec values that look like HCL, shell or Python must come out as literal strings.
const INJECTION: &str = r#"version: 1
stack:
  name: mx-inject
  environment: test
  description: "${jsondecode(\"x\")} and %{ if true }x%{ endif }"
  tags:
    cost-center: "${var.secret}"
clouds:
  azure:
    location: westeurope
    resource_group: rg-mx-inject
    dps:
      enrollment_groups:
        - name: sensors
fleet:
  devices: 500
pipeline:
  routes:
    - name: telemetry
      condition: 'note = ''${file("/etc/passwd")}'' or tag = ''%{ for x in y }'''
      to: [stream]
  alerts:
    - name: weird
      condition: 'label = ''a"b\c'''
"#;

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "auto-tier-no-dps",
            yaml: spec("mx-auto", 500, "", ""),
            expect: vec![
                ("iothub.tf", "azurerm_iothub"),
                ("iothub.tf", "fallback_route {"),
                ("storage.tf", "azurerm_key_vault_key"),
                ("eventhubs.tf", "capture_description"),
                // Global names end in the subscription's suffix (issue 13.16).
                ("main.tf", "substr(sha256(\"${var.subscription_id}/${local.name_prefix}\"), 0, 8)"),
                ("main.tf", "\"iot-mx-auto-test-${local.name_suffix}\""),
                ("eventhubs.tf", "\"evhns-mx-auto-test-${local.name_suffix}\""),
                ("storage.tf", "\"stmxautotest${local.name_suffix}\""),
            ],
            absent: vec![
                ("routing.tf", "azurerm_iothub_fallback_route"),
                ("dps.tf", ""),
                ("scripts/create-enrollment-groups.sh", ""),
                ("functions.tf", ""),
                ("routing.tf", "azurerm_iothub_endpoint_storage_container"),
            ],
        },
        Case {
            name: "basic-tier-hashed-single-hub",
            yaml: spec(
                "mx-basic",
                2000,
                "iot_hub:\n  tier: basic\ndps:\n  allocation: evenly_weighted\n  enrollment_groups:\n    - name: sensors\n      device_type: sensor\n      attestation: symmetric_key",
                "identity:\n  method: symmetric_key\n",
            ),
            expect: vec![
                ("main.tf", "sku = \"B"),
                ("dps.tf", "allocation_policy             = \"Hashed\""),
                (
                    "scripts/create-enrollment-groups.sh",
                    "--allocation-policy hashed",
                ),
                ("scripts/create-enrollment-groups.sh", "compute-device-key"),
            ],
            absent: vec![
                // Basic hubs have no twins: no device-type enrichment, no CA.
                ("routing.tf", "$twin.tags.deviceType"),
                ("dps.tf", "azurerm_iothub_dps_certificate"),
                ("iothub.tf", "cloud_to_device"),
                ("scripts/create-enrollment-groups.sh", "--initial-twin-tags"),
            ],
        },
        Case {
            name: "standard-static-two-hubs",
            yaml: spec(
                "mx-static",
                3000,
                "iot_hub:\n  tier: standard\ndps:\n  allocation: static\n  linked_hubs:\n    - location: westeurope\n    - location: northeurope\n  reprovisioning: never\n  enrollment_groups:\n    - name: edge-gateways\n      device_type: gateway\n      iot_edge: true",
                "messaging:\n  cloud_to_device:\n    commands: true\n    commands_per_device_per_day: 2\n",
            ),
            expect: vec![
                ("main.tf", "sku = \"S"),
                ("iothub.tf", "cloud_to_device"),
                ("dps.tf", "allocation_policy             = \"Static\""),
                ("dps.tf", "apply_allocation_policy = false"),
                ("dps.tf", "azurerm_iothub_dps_certificate"),
                ("routing.tf", "$iothubname"),
                ("routing.tf", "$twin.tags.deviceType"),
                (
                    "scripts/create-enrollment-groups.sh",
                    "--iot-hubs \"$PRIMARY_HUB\"",
                ),
                ("scripts/create-enrollment-groups.sh", "--edge-enabled true"),
                (
                    "scripts/create-enrollment-groups.sh",
                    "--reprovision-policy never",
                ),
            ],
            absent: vec![],
        },
        Case {
            name: "free-tier-archive-off",
            yaml: spec(
                "mx-free",
                5,
                "iot_hub:\n  tier: free\nevent_hubs:\n  capture: false",
                "messaging:\n  messages_per_device_per_hour: 1\n  message_bytes: 200\nstorage:\n  archive:\n    enabled: false\n",
            ),
            expect: vec![
                ("main.tf", "sku = \"F1\""),
                ("iothub.tf", "event_hub_partition_count     = 2"),
            ],
            absent: vec![
                ("storage.tf", ""),
                ("eventhubs.tf", "capture_description"),
                ("variables.tf", "storage_allowed_ip_ranges"),
            ],
        },
        Case {
            name: "pinned-sku-lowest-latency-three-hubs",
            yaml: spec(
                "mx-pinned",
                1000,
                "iot_hub:\n  sku: S2\n  units: 2\ndps:\n  allocation: lowest_latency\n  linked_hubs:\n    - location: westeurope\n      allocation_weight: 2\n    - location: northeurope\n    - location: eastus\n  enrollment_groups:\n    - name: sensors\n      device_type: sensor",
                "",
            ),
            expect: vec![
                ("iothub.tf", "The SKU or unit count is pinned"),
                ("main.tf", "units = 2"),
                ("dps.tf", "allocation_policy             = \"GeoLatency\""),
                ("dps.tf", "allocation_weight       = 2"),
                ("main.tf", "eastus = {"),
                (
                    "scripts/create-enrollment-groups.sh",
                    "--allocation-policy geolatency",
                ),
            ],
            absent: vec![],
        },
        Case {
            name: "custom-allocation",
            yaml: spec(
                "mx-custom",
                1000,
                "dps:\n  allocation: custom\n  linked_hubs:\n    - location: westeurope\n    - location: northeurope\n  reprovisioning: reprovision_and_reset\n  enrollment_groups:\n    - name: sensors\n      device_type: sensor\n    - name: gateways\n      device_type: gateway\n      attestation: symmetric_key",
                "",
            ),
            expect: vec![
                ("dps.tf", "allocation_policy             = \"Hashed\""),
                (
                    "functions.tf",
                    "azurerm_linux_function_app\" \"allocation\"",
                ),
                ("functions.tf", "checkov:skip=CKV_AZURE_221"),
                (
                    "functions.tf",
                    "name = \"func-allocation-mx-custom-test-${local.name_suffix}\"",
                ),
                ("functions/allocation/function_app.py", "iotHubHostName"),
                ("functions/allocation.zip", ""),
                (
                    "scripts/create-enrollment-groups.sh",
                    "--webhook-url \"$WEBHOOK_URL\"",
                ),
                (
                    "scripts/create-enrollment-groups.sh",
                    "reprovisionandresetdata",
                ),
                ("outputs.tf", "allocation_function_hostname"),
            ],
            absent: vec![("functions.tf", "azurerm_linux_function_app\" \"alerts\"")],
        },
        Case {
            name: "eventhubs-basic-with-readers",
            yaml: spec(
                "mx-ehbasic",
                500,
                "event_hubs:\n  tier: basic\n  capture: false\n  retention_days: 1",
                "authorization:\n  services:\n    - name: dashboard\n      access: [registry_read, service_connect]\n    - name: provisioner\n      access: [registry_write]\npipeline:\n  alerts:\n    - name: overheat\n      condition: temperature > 90\n",
            ),
            expect: vec![
                ("eventhubs.tf", "sku                      = \"Basic\""),
                ("eventhubs.tf", "azurerm_eventhub_authorization_rule"),
                ("eventhubs.tf", "local_authentication_enabled  = true"),
                ("eventhubs.tf", "$Default consumer group"),
                (
                    "functions/alerts/function_app.py",
                    "consumer_group=\"$Default\"",
                ),
                ("iothub.tf", "registry_write  = true"),
                ("iothub.tf", "azurerm_iothub_consumer_group"),
                ("outputs.tf", "sensitive   = true"),
                ("routing.tf", "azurerm_iothub_endpoint_storage_container"),
            ],
            absent: vec![("eventhubs.tf", "azurerm_eventhub_consumer_group")],
        },
        Case {
            name: "eventhubs-premium-state-analytics",
            yaml: spec(
                "mx-premium",
                5000,
                "event_hubs:\n  tier: premium",
                "pipeline:\n  routes:\n    - name: telemetry\n      to: [stream, archive, state_store]\n  state_store:\n    enabled: true\n  analytics:\n    enabled: true\n",
            ),
            expect: vec![
                ("eventhubs.tf", "sku                      = \"Premium\""),
                ("eventhubs.tf", "network_rulesets"),
                ("state.tf", "azurerm_cosmosdb_sql_container"),
                ("state.tf", "/deviceId"),
                ("routing.tf", "azurerm_iothub_endpoint_cosmosdb_account"),
                ("routing.tf", "azurerm_cosmosdb_sql_role_assignment"),
                ("analytics.tf", "azurerm_kusto_eventhub_data_connection"),
                ("analytics/schema.kql", ".create-merge table Telemetry"),
                ("eventhubs.tf", "\"adx\""),
                (
                    "tests/fleetform.tftest.hcl",
                    "contains(azurerm_cosmosdb_account.state.ip_range_filter, \"0.0.0.0\") == true",
                ),
            ],
            absent: vec![],
        },
        // Weights 3:1: each hub is sized for its share of the fleet, and the shipped tests
        // assert each hub's units (issue 13.13).
        Case {
            name: "weighted-hubs-sized-by-share",
            yaml: spec(
                "mx-shares",
                1000,
                "iot_hub:\n  tier: standard\ndps:\n  allocation: evenly_weighted\n  linked_hubs:\n    - location: westeurope\n      allocation_weight: 3\n    - location: northeurope\n      allocation_weight: 1\n  enrollment_groups:\n    - name: sensors",
                "messaging:\n  messages_per_device_per_hour: 60\n  message_bytes: 1000\n",
            ),
            expect: vec![
                ("iothub.tf", "capacity = each.value.units"),
                ("main.tf", "units = 3"),
                ("main.tf", "units = 1"),
                (
                    "tests/fleetform.tftest.hcl",
                    "azurerm_iothub.hub[\"westeurope\"].sku[0].capacity == 3",
                ),
                (
                    "tests/fleetform.tftest.hcl",
                    "azurerm_iothub.hub[\"northeurope\"].sku[0].capacity == 1",
                ),
                (
                    "monitoring.tf",
                    "threshold = local.iot_hubs[each.key].daily_quota_alarm",
                ),
            ],
            absent: vec![],
        },
        // A state store no route writes to: its firewall keeps 0.0.0.0 out, and the shipped
        // tests hold that (issue 13.14); the premium case above holds the other way.
        Case {
            name: "state-store-without-a-route",
            yaml: spec(
                "mx-stateonly",
                500,
                "",
                "pipeline:\n  routes:\n    - name: telemetry\n      to: [stream, archive]\n  state_store:\n    enabled: true\n",
            ),
            expect: vec![
                ("state.tf", "ip_range_filter = var.state_store_allowed_ip_ranges"),
                (
                    "tests/fleetform.tftest.hcl",
                    "contains(azurerm_cosmosdb_account.state.ip_range_filter, \"0.0.0.0\") == false",
                ),
                (
                    "tests/fleetform.tftest.hcl",
                    "run \"allowed_readers_reach_the_state_store_firewall\"",
                ),
            ],
            absent: vec![
                ("state.tf", "\"0.0.0.0\""),
                ("routing.tf", "azurerm_iothub_endpoint_cosmosdb_account"),
            ],
        },
        Case {
            name: "capture-off-storage-endpoint",
            yaml: spec(
                "mx-nocapture",
                500,
                "event_hubs:\n  capture: false",
                "storage:\n  archive:\n    encryption: platform_managed\n",
            ),
            expect: vec![
                ("routing.tf", "azurerm_iothub_endpoint_storage_container"),
                ("routing.tf", "hub_archive_writer"),
                ("storage.tf", "checkov:skip=CKV2_AZURE_1"),
            ],
            absent: vec![
                ("eventhubs.tf", "capture_description"),
                ("storage.tf", "azurerm_key_vault"),
            ],
        },
        Case {
            name: "stream-analytics-alerts",
            yaml: spec(
                "mx-asa",
                2000,
                "alert_engine: stream_analytics",
                "pipeline:\n  alerts:\n    - name: overheat\n      condition: temperature > 90 and not door.open\n    - name: low_battery\n      condition: battery < 10\n      function: false\n    - name: tamper\n      condition: tamper = true\n      notify: false\n",
            ),
            expect: vec![
                ("alerts.tf", "azurerm_stream_analytics_job"),
                ("alerts.tf", "azurerm_stream_analytics_job_schedule"),
                ("alerts.tf", "name = \"asa-${local.name_prefix}-alerts\""),
                ("alerts.tf", "authentication_mode = \"Msi\""),
                (
                    "stream-analytics/alerts.asaql",
                    "[temperature] > 90 AND NOT [door].[open] = 1",
                ),
                ("functions/alerts/function_app.py", "def alert_overheat"),
                (
                    "alerts.tf",
                    "azurerm_monitor_metric_alert\" \"alert_low_battery\"",
                ),
                ("variables.tf", "stream_analytics_streaming_units"),
            ],
            absent: vec![
                // Stream Analytics evaluates conditions, so no IoT Hub alert routes.
                ("routing.tf", "alert-overheat"),
                ("functions/alerts/function_app.py", "def alert_low_battery"),
                (
                    "alerts.tf",
                    "azurerm_monitor_metric_alert\" \"alert_tamper\"",
                ),
            ],
        },
        Case {
            name: "ota-standard",
            yaml: spec(
                "mx-ota",
                500,
                "iot_hub:\n  tier: standard",
                "pipeline:\n  ota:\n    enabled: true\n",
            ),
            expect: vec![
                ("ota.tf", "azurerm_iothub_device_update_account"),
                ("ota.tf", "azurerm_iothub_device_update_instance"),
                ("storage.tf", "\"firmware\""),
            ],
            absent: vec![],
        },
        Case {
            // Nothing talks back to devices, so auto sizing alone would pick Basic; Device
            // Update needs twins and cloud-to-device messages, so OTA makes it Standard.
            name: "ota-auto-tier-gets-standard",
            yaml: spec(
                "mx-otaauto",
                500,
                "",
                "pipeline:\n  ota:\n    enabled: true\n",
            ),
            expect: vec![
                ("main.tf", "sku = \"S1\""),
                ("ota.tf", "azurerm_iothub_device_update_instance"),
            ],
            absent: vec![("README.md", "Device Update needs Standard-tier hubs")],
        },
        Case {
            name: "lifecycle-full-grs-hns",
            yaml: spec(
                "mx-lifecycle",
                500,
                "storage:\n  replication: GRS\n  infrastructure_encryption: true\n  hierarchical_namespace: true",
                "storage:\n  archive:\n    versioning: true\n    encryption: platform_managed\n    lifecycle:\n      - tier: cool\n        after_days: 30\n      - tier: cold\n        after_days: 90\n      - tier: archive\n        after_days: 180\n      - tier: deep_archive\n        after_days: 365\n    expire_after_days: 2555\n    noncurrent_versions_expire_after_days: 14\n    prefixes: [raw/]\n",
            ),
            expect: vec![
                (
                    "storage.tf",
                    "tier_to_archive_after_days_since_modification_greater_than = 180",
                ),
                (
                    "storage.tf",
                    "delete_after_days_since_modification_greater_than",
                ),
                ("storage.tf", "\"archive/raw/\""),
                ("storage.tf", "is_hns_enabled                    = true"),
                ("storage.tf", "infrastructure_encryption_enabled = true"),
                ("storage.tf", "versioning_enabled = false"),
                ("storage.tf", "deep_archive lands in Archive"),
            ],
            absent: vec![
                ("storage.tf", "checkov:skip=CKV_AZURE_206"),
                // No versions with a hierarchical namespace, so no version cleanup.
                ("storage.tf", "delete_after_days_since_creation "),
            ],
        },
        Case {
            name: "lifecycle-zrs-has-no-archive-tier",
            yaml: spec(
                "mx-zrs",
                500,
                "storage:\n  replication: ZRS",
                "storage:\n  archive:\n    lifecycle:\n      - tier: cool\n        after_days: 30\n      - tier: archive\n        after_days: 200\n",
            ),
            expect: vec![
                ("storage.tf", "ZRS accounts have no Archive tier"),
                ("README.md", "no Archive tier on ZRS accounts"),
            ],
            absent: vec![("storage.tf", "tier_to_archive")],
        },
        Case {
            name: "private-hub-existing-group",
            yaml: spec(
                "mx-private",
                500,
                "create_resource_group: false\niot_hub:\n  public_network_access: false\n  local_authentication: false\n  ip_filter:\n    - name: plant\n      ip_mask: 203.0.113.0/24\n    - name: blocked\n      ip_mask: 198.51.100.7\n      action: reject",
                "authorization:\n  services:\n    - name: dashboard\n      access: [registry_read]\nmonitoring:\n  log_retention_days: 7\n  alarms: false\n",
            ),
            expect: vec![
                ("main.tf", "data \"azurerm_resource_group\" \"this\""),
                ("iothub.tf", "public_network_access_enabled = false"),
                ("iothub.tf", "default_action = \"Deny\""),
                ("iothub.tf", "Reject rules of the spec are left out"),
                ("iothub.tf", "need the IoT Hub Data Reader"),
                ("monitoring.tf", "retention_in_days   = 30"),
            ],
            absent: vec![
                ("iothub.tf", "checkov:skip=CKV_AZURE_108"),
                ("iothub.tf", "azurerm_iothub_shared_access_policy"),
                ("monitoring.tf", "azurerm_monitor_metric_alert"),
                ("monitoring.tf", "azurerm_monitor_action_group"),
                ("monitoring.tf", "azurerm_consumption_budget_resource_group"),
            ],
        },
        Case {
            // DPS accepts what no rule matches, so an allow list must end with a reject.
            name: "dps-ip-allow-list",
            yaml: spec(
                "mx-dpsip",
                500,
                "dps:\n  ip_filter:\n    - name: plant\n      ip_mask: 203.0.113.0/24\n    - name: blocked\n      ip_mask: 198.51.100.7\n      action: reject\n  enrollment_groups:\n    - name: sensors",
                "",
            ),
            expect: vec![
                (
                    "dps.tf",
                    "name = \"blocked\"\n ip_mask = \"198.51.100.7\"\n action = \"Reject\"",
                ),
                (
                    "dps.tf",
                    "name = \"reject-rest\"\n ip_mask = \"0.0.0.0/0\"\n action = \"Reject\"",
                ),
            ],
            absent: vec![],
        },
        Case {
            name: "routes-of-every-source",
            yaml: spec(
                "mx-routes",
                500,
                "iot_hub:\n  tier: standard",
                "messaging:\n  state:\n    enabled: true\n    updates_per_device_per_day: 4\nauthorization:\n  cloud_credentials:\n    role_alias: fleet-device\n    grants: [archive_upload]\npipeline:\n  routes:\n    - name: hot\n      condition: temperature > 80 and status = 'ok'\n      to: [stream, state_store]\n    - name: twins\n      source: state_changes\n      to: [archive]\n    - name: lifecycle\n      source: lifecycle\n      to: [stream]\n    - name: connections\n      source: connection_state\n      to: [stream, archive]\n  state_store:\n    enabled: true\n  web_api:\n    enabled: true\nmonitoring:\n  notify:\n    email: [ops@example.com, oncall@example.com]\ncost:\n  monthly_budget_usd: 750\n",
            ),
            expect: vec![
                (
                    "routing.tf",
                    "$body.temperature > 80 AND $body.status = 'ok'",
                ),
                ("routing.tf", "source              = \"TwinChangeEvents\""),
                (
                    "routing.tf",
                    "source              = \"DeviceLifecycleEvents\"",
                ),
                (
                    "routing.tf",
                    "source              = \"DeviceConnectionStateEvents\"",
                ),
                ("routing.tf", "azurerm_iothub_endpoint_storage_container"),
                ("monitoring.tf", "email-2"),
                ("monitoring.tf", "amount            = 750"),
                ("README.md", "contentType=application/json"),
                ("README.md", "not mapped: IoT Hub has no role aliases"),
                ("README.md", "not mapped: no API layer"),
            ],
            absent: vec![],
        },
        Case {
            // TPM has no enrollment groups: every registry device is enrolled on its own
            // (issue 13.4).
            name: "tpm-individual-enrollments",
            yaml: spec(
                "mx-tpm",
                100,
                "iot_hub:\n  tier: standard\ndps: {}",
                "identity:\n  method: tpm\n",
            )
            .replace(
                "    - name: gateway\n",
                "    - name: gateway\n  registry:\n    devices:\n      - {id: tpm-0001, type: sensor}\n      - {id: tpm-0002}\n",
            ),
            expect: vec![
                ("scripts/create-tpm-enrollments.sh", "--attestation-type tpm"),
                ("scripts/create-tpm-enrollments.sh", "--endorsement-key \"$ek\""),
                ("scripts/tpm-devices.txt", "tpm-0001 sensor\ntpm-0002\n"),
                ("dps.tf", "\"deployer_enrollments\""),
                ("outputs.tf", "dps_enrollment_connection_string"),
            ],
            absent: vec![
                ("scripts/create-enrollment-groups.sh", ""),
                ("dps.tf", "azurerm_iothub_dps_certificate"),
            ],
        },
        Case {
            // DPS takes a certificate in one enrollment entry only: the second X.509 group
            // brings its own CA (issue 13.4).
            name: "x509-groups-with-their-own-cas",
            yaml: spec(
                "mx-cas",
                500,
                "dps:\n  enrollment_groups:\n    - name: sensors\n      device_type: sensor\n    - name: gateways\n      device_type: gateway\n      ca_certificate_file: certs/gateways-ca.pem",
                "",
            ),
            expect: vec![
                ("dps.tf", "resource \"azurerm_iothub_dps_certificate\" \"group_ca\""),
                ("variables.tf", "ca-gateways = \"certs/gateways-ca.pem\""),
                ("scripts/create-enrollment-groups.sh", "--root-ca-name 'ca-gateways'"),
                ("scripts/create-enrollment-groups.sh", "--root-ca-name \"$CA_NAME\""),
                ("scripts/create-enrollment-groups.sh", "ca='ca-gateways'"),
                ("scripts/create-enrollment-groups.sh", "--code \"$CODE\" # in the fleet spec folder\\n' 'certs' 'gateways-ca'"),
            ],
            absent: vec![],
        },
        Case {
            name: "hcl-looking-spec-values-stay-strings",
            yaml: INJECTION.to_owned(),
            expect: vec![
                ("routing.tf", "$body.note = '$${file(\\\"/etc/passwd\\\")}'"),
                ("routing.tf", "$body.tag = '%%{ for x in y }'"),
                ("main.tf", "cost-center = \"$${var.secret}\""),
                // IoT Hub reads `\\` as one backslash (its query language escapes with `\`),
                // and HCL escapes each of the two again.
                ("routing.tf", "$body.label = 'a\\\"b\\\\\\\\c'"),
                (
                    "functions/alerts/function_app.py",
                    "\"label = 'a\\\"b\\\\c'\"",
                ),
            ],
            absent: vec![("main.tf", " ${var.secret}")],
        },
    ]
}

/// Runs of spaces as one space.
fn squash(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut space = false;
    for c in s.chars() {
        if c == ' ' {
            if !space {
                out.push(c);
            }
            space = true;
        } else {
            out.push(c);
            space = false;
        }
    }
    out
}

fn write(rendered: &Rendered, dir: &Path) {
    for (path, file) in &rendered.files {
        let p = dir.join(path);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, &file.bytes).unwrap();
    }
}

/// Every resource, data source and variable per file: what a case creates, at a glance.
fn inventory(rendered: &Rendered) -> String {
    let mut out = String::new();
    let mut by_file: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (path, file) in &rendered.files {
        let Some(rel) = path.strip_prefix("azure/") else {
            continue;
        };
        let entry = by_file.entry(rel).or_default();
        if !rel.ends_with(".tf") {
            continue;
        }
        let text = String::from_utf8_lossy(&file.bytes);
        for line in text.lines() {
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                ["resource" | "data", ty, name, "{" | "{}"] => entry.push(format!(
                    "{} {}.{}",
                    words[0],
                    ty.trim_matches('"'),
                    name.trim_matches('"')
                )),
                ["variable" | "output", name, "{"] => {
                    entry.push(format!("{} {}", words[0], name.trim_matches('"')));
                }
                _ => {}
            }
        }
    }
    for (file, items) in by_file {
        let _ = writeln!(out, "{file}");
        for i in items {
            let _ = writeln!(out, "  {i}");
        }
    }
    out
}

/// checkov over the whole matrix at once, reporting the case (folder) of each failure.
fn checkov_failures(root: &Path) -> Vec<String> {
    let Some(tool) = common::checkov() else {
        return Vec::new();
    };
    let out = Command::new(tool)
        .arg("--directory")
        .arg(root)
        .args([
            "--framework",
            "terraform",
            "--output",
            "json",
            "--quiet",
            "--skip-download",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let value: serde_json::Value = serde_json::from_str(&text)
        .unwrap_or_else(|e| panic!("checkov output is not JSON ({e}):\n{text}"));
    let reports = match value {
        serde_json::Value::Array(a) => a,
        other => vec![other],
    };
    let mut failed = Vec::new();
    for report in reports {
        for c in report
            .pointer("/results/failed_checks")
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
        {
            failed.push(format!(
                "{} {} {} ({})",
                c["file_path"].as_str().unwrap_or("?"),
                c["check_id"].as_str().unwrap_or("?"),
                c["resource"].as_str().unwrap_or("?"),
                c["check_name"].as_str().unwrap_or("?"),
            ));
        }
    }
    failed
}

#[test]
fn every_combination_builds_a_valid_module() {
    let root = tempfile::tempdir().unwrap();
    let mut problems = Vec::new();
    let cases = cases();
    for case in &cases {
        let first = common::build_text(case.name, &case.yaml, Path::new("."));
        let second = common::build_text(case.name, &case.yaml, Path::new("."));
        assert_eq!(first, second, "{}: builds differ", case.name);
        for gap in common::uncovered_arguments(&first) {
            problems.push(format!("{}: no replacement rule for {gap}", case.name));
        }
        // Compared with runs of spaces squashed, so alignment does not matter.
        let file = |rel: &str| {
            first
                .files
                .get(&format!("azure/{rel}"))
                .map(|f| squash(&String::from_utf8_lossy(&f.bytes)))
        };
        for (rel, text) in &case.expect {
            match file(rel) {
                None => problems.push(format!("{}: {rel} is missing", case.name)),
                Some(body) if !body.contains(&squash(text)) => {
                    problems.push(format!("{}: {rel} lacks `{text}`", case.name));
                }
                Some(_) => {}
            }
        }
        for (rel, text) in &case.absent {
            match file(rel) {
                Some(_) if text.is_empty() => {
                    problems.push(format!("{}: {rel} should not exist", case.name));
                }
                Some(body) if body.contains(&squash(text)) => {
                    problems.push(format!("{}: {rel} should not contain `{text}`", case.name));
                }
                _ => {}
            }
        }
        for (path, f) in &first.files {
            if path.ends_with(".tf") {
                let text = String::from_utf8(f.bytes.clone()).unwrap();
                if let Err(e) = hcl::parse(&text) {
                    problems.push(format!("{}: {path} does not parse: {e}", case.name));
                }
            }
        }
        insta::assert_snapshot!(format!("inventory-{}", case.name), inventory(&first));
        write(&first, &root.path().join(case.name));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    if let Some(tf) = common::terraform_or_skip("terraform fmt / validate / test") {
        if let Err(diff) = tf.fmt_check(root.path()) {
            panic!("terraform fmt would change the matrix output:\n{diff}");
        }
        // Real azurerm 4.81.0: init + validate, then the README's `terraform test` (the
        // shipped intent tests on the mocked provider).
        let started = std::time::Instant::now();
        let (checks, failures) = common::check_all(tf, root.path());
        common::announce(&format!(
            "azure matrix: {} of {} modules pass real validate, plan and their shipped tests ({:.0?})",
            checks
                .iter()
                .filter(|c| matches!(c.test, Some(Ok(()))))
                .count(),
            checks.len(),
            started.elapsed()
        ));
        if tf.azurerm.is_some() {
            assert_eq!(checks.len(), cases.len(), "one root per case");
        }
        assert!(failures.is_empty(), "{}", failures.join("\n\n"));
    }

    if common::checkov().is_none() {
        common::skip("checkov", "checkov is not on PATH (pip install checkov)");
    } else {
        let failed = checkov_failures(root.path());
        assert!(
            failed.is_empty(),
            "checkov failed checks:\n{}",
            failed.join("\n")
        );
    }
}

#[test]
fn shell_script_is_valid_bash() {
    let Ok(status) = Command::new("bash").arg("--version").output() else {
        return common::skip("bash -n", "bash is not installed");
    };
    assert!(status.status.success());
    for case in cases() {
        let rendered = common::build_text(case.name, &case.yaml, Path::new("."));
        for script in ["create-enrollment-groups.sh", "create-tpm-enrollments.sh"]
            .iter()
            .filter_map(|s| rendered.files.get(&format!("azure/scripts/{s}")))
        {
            assert!(script.executable, "{}: script is not executable", case.name);
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("script.sh");
            std::fs::write(&path, &script.bytes).unwrap();
            let out = Command::new("bash").arg("-n").arg(&path).output().unwrap();
            assert!(
                out.status.success(),
                "{}: bash -n rejects the script:\n{}",
                case.name,
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

/// The diagram and `fleetform explain` describe what the build writes, case by case: the
/// Capture arrow exactly when the telemetry hub has `capture_description`, from each route
/// arrows to exactly the endpoints its `azurerm_iothub_route` delivers to (an archived route
/// that does not also stream goes through a storage endpoint, not Capture), the same
/// destinations in `explain`, and boxes for Device Update, Data Explorer and Stream Analytics
/// exactly when they are built.
#[test]
fn diagram_and_explain_match_the_planned_module() {
    use fleetform::diagram::{Graph, Kind};
    use fleetform::plan::Cloud;
    for case in cases() {
        let name = case.name;
        let outcome = fleetform::validate::validate(name, &case.yaml, &common::Dir(".".into()));
        let model = outcome.validated.expect("valid").model;
        let rendered = common::build_text(name, &case.yaml, Path::new("."));
        let text = |rel: &str| {
            rendered
                .files
                .get(&format!("azure/{rel}"))
                .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
                .unwrap_or_default()
        };
        let graph = Graph::new(&model, &[Cloud::Azure]);
        let node = |title: &str| graph.nodes.iter().position(|n| n.title == title);
        let edge = |from: usize, to: Option<usize>| {
            graph
                .edges
                .iter()
                .find(|e| e.from.0 == from && Some(e.to.0) == to)
        };
        let explained = fleetform::explain::explanation(&model, &[Cloud::Azure]);
        let part = &explained.clouds[0];

        let capture = text("eventhubs.tf").contains("capture_description");
        let drawn_capture = graph.edges.iter().any(|e| {
            e.label
                .as_deref()
                .is_some_and(|l| l.starts_with("Capture every"))
        });
        assert_eq!(drawn_capture, capture, "{name}: the Capture arrow");
        for (built, title) in [
            (!text("ota.tf").is_empty(), "OTA updates"),
            (!text("analytics.tf").is_empty(), "Azure Data Explorer"),
            (
                text("alerts.tf").contains("\"azurerm_stream_analytics_job\""),
                "Stream Analytics job",
            ),
        ] {
            assert_eq!(node(title).is_some(), built, "{name}: the {title} box");
            if built && title != "OTA updates" {
                assert!(
                    edge(node("Event Hubs").unwrap(), node(title)).is_some(),
                    "{name}: {title} reads the telemetry event hub"
                );
            }
        }
        assert!(node("HTTP API").is_none(), "{name}: no web API on Azure");
        let ota_said = part
            .features
            .iter()
            .any(|f| f.starts_with("**OTA updates**: Device"));
        assert_eq!(ota_said, !text("ota.tf").is_empty(), "{name}: explain, OTA");

        let routing = hcl::parse(&text("routing.tf")).unwrap();
        for route in &model.routes {
            // A spec route to several endpoints is one hub route per endpoint,
            // `<route>.<endpoint>`.
            let endpoints: String = routing
                .blocks()
                .filter(|b| b.identifier.as_str() == "resource")
                .filter(|b| b.labels[0].as_str() == "azurerm_iothub_route")
                .filter(|b| {
                    b.body.attributes().any(|a| {
                        a.key.as_str() == "name"
                            && matches!(&a.expr, hcl::Expression::String(n)
                                if *n == route.name
                                    || n.strip_prefix(&route.name)
                                        .is_some_and(|rest| rest.starts_with('.')))
                    })
                })
                .filter_map(|b| {
                    b.body
                        .attributes()
                        .find(|a| a.key.as_str() == "endpoint_names")
                })
                .map(|a| hcl::format::to_string(&a.expr).unwrap())
                .collect();
            let rule = node(&format!("Route {}", route.name)).unwrap();
            let words = &part
                .routes
                .iter()
                .find(|r| r.name == route.name)
                .unwrap()
                .destinations;
            for (endpoint, title, label, said) in [
                (
                    "azurerm_iothub_endpoint_eventhub.stream",
                    "Event Hubs",
                    None,
                    "the Event Hub in",
                ),
                (
                    "azurerm_iothub_endpoint_storage_container.archive",
                    "Blob Hot",
                    Some("storage endpoint"),
                    "the Blob storage endpoint",
                ),
                (
                    "azurerm_iothub_endpoint_cosmosdb_account.state",
                    "Cosmos DB state container",
                    None,
                    "the Cosmos DB state container",
                ),
            ] {
                let delivers = endpoints.contains(endpoint);
                let drawn = edge(rule, node(title));
                assert_eq!(
                    drawn.is_some(),
                    delivers,
                    "{name}: route {} -> {title} in the diagram, {endpoint} in routing.tf",
                    route.name
                );
                if let Some(e) = drawn {
                    assert_eq!(e.label.as_deref(), label, "{name}: route {}", route.name);
                }
                assert_eq!(
                    words.contains(said),
                    delivers,
                    "{name}: route {} is explained as {words:?}",
                    route.name
                );
            }
        }
        assert!(
            graph.nodes.iter().any(|n| n.kind == Kind::Hub),
            "{name}: the hubs are drawn"
        );
    }
}

/// The parity table is rendered from the planner's decisions, so every claim it makes about
/// what was built is in the module: for each case, a row that says so has the resource.
#[test]
fn parity_rows_describe_what_the_module_builds() {
    // (row, words in its text, file, what the file must then contain)
    const CLAIMS: &[(&str, &str, &str, &str)] = &[
        (
            "identity",
            "verified in the DPS",
            "dps.tf",
            "azurerm_iothub_dps_certificate",
        ),
        (
            "identity",
            "verified on each hub",
            "iothub.tf",
            "azurerm_iothub_certificate",
        ),
        (
            "provisioning",
            "scripts/create-enrollment-groups.sh",
            "scripts/create-enrollment-groups.sh",
            "",
        ),
        (
            "authorization",
            "shared access policies",
            "iothub.tf",
            "azurerm_iothub_shared_access_policy",
        ),
        (
            "stream",
            "identity-based IoT Hub endpoint",
            "routing.tf",
            "azurerm_iothub_endpoint_eventhub",
        ),
        (
            "archive",
            "Event Hubs Capture",
            "eventhubs.tf",
            "capture_description",
        ),
        (
            "archive",
            "IoT Hub storage endpoint",
            "routing.tf",
            "azurerm_iothub_endpoint_storage_container",
        ),
        (
            "lifecycle",
            "lifecycle management policy",
            "storage.tf",
            "azurerm_storage_management_policy",
        ),
        (
            "state_store",
            "IoT Hub Cosmos DB endpoint",
            "routing.tf",
            "azurerm_iothub_endpoint_cosmosdb_account",
        ),
        (
            "ota",
            "Device Update for IoT Hub",
            "ota.tf",
            "azurerm_iothub_device_update_instance",
        ),
        (
            "ota",
            "IoT Hub Data Contributor",
            "ota.tf",
            "\"IoT Hub Data Contributor\"",
        ),
        (
            "monitoring",
            "metric alerts",
            "monitoring.tf",
            "azurerm_monitor_metric_alert",
        ),
        (
            "monitoring",
            "email action group",
            "monitoring.tf",
            "azurerm_monitor_action_group",
        ),
        (
            "budget",
            "consumption budget",
            "monitoring.tf",
            "azurerm_consumption_budget_resource_group",
        ),
    ];
    let mut problems = Vec::new();
    let mut checked = 0;
    for case in cases() {
        let rendered = common::build_text(case.name, &case.yaml, Path::new("."));
        let text = |rel: &str| {
            rendered
                .files
                .get(&format!("azure/{rel}"))
                .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        };
        let readme = text("README.md").expect("every root has a README");
        for line in readme.lines() {
            for (row, words, file, wants) in CLAIMS {
                if !line.starts_with(&format!("| {row} | ")) || !line.contains(words) {
                    continue;
                }
                checked += 1;
                match text(file) {
                    None => problems.push(format!(
                        "{}: parity `{row}` says `{words}`, but {file} is missing",
                        case.name
                    )),
                    Some(body) if !body.contains(wants) => problems.push(format!(
                        "{}: parity `{row}` says `{words}`, but {file} has no `{wants}`",
                        case.name
                    )),
                    Some(_) => {}
                }
            }
        }
    }
    assert!(checked > 20, "the claims were looked for: {checked}");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
