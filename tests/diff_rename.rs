//! Renaming a stack (`stack.name`) renames almost everything: every cloud name is built from
//! it. The diff must list every resource Terraform would replace, which these tests pin for
//! one AWS and one Azure example. Each list was checked against the providers' rules
//! (`src/clouds/*/forcenew.json`): a resource is replaced when its own name changes, or when
//! it forces new on the name or id of one that is replaced (a bucket's policy, a hub's
//! routes, a storage account's containers).

mod common;

use fleetform::infradiff::{self, Action, InfraDiff};

/// The diff of an example and the same example with `stack.name` changed from `from` to `to`.
fn renamed(example: &str, from: &str, to: &str) -> InfraDiff {
    let dir = common::root().join("examples").join(example);
    let text = std::fs::read_to_string(dir.join("fleet.yaml")).unwrap();
    let old_name = format!("\n  name: {from}\n");
    assert!(
        text.contains(&old_name),
        "{example} names its stack `{from}`"
    );
    let new = text.replacen(&old_name, &format!("\n  name: {to}\n"), 1);
    let plan = |name: &str, text: &str| {
        let outcome = fleetform::validate::validate(name, text, &common::Dir(dir.clone()));
        assert!(outcome.validated.is_some(), "{name} is valid");
        fleetform::plan_sets(&outcome).unwrap().sets
    };
    infradiff::diff_sets(&plan("old.yaml", &text), &plan("new.yaml", &new))
}

fn addresses(d: &InfraDiff, action: Action) -> Vec<String> {
    let mut out: Vec<String> = d
        .addresses
        .iter()
        .filter(|a| a.action == action)
        .map(|a| format!("{}/{}", a.module, a.address))
        .collect();
    out.sort();
    out
}

#[test]
fn renaming_an_aws_stack_lists_every_replacement() {
    let d = renamed("greenhouse", "greenhouse", "glasshouse");
    let replaced = addresses(&d, Action::Replace);
    let expected: Vec<String> = [
        "aws/aws_cloudwatch_log_group.firehose",
        "aws/aws_cloudwatch_log_group.rule_errors",
        "aws/aws_cloudwatch_log_metric_filter.rule_errors",
        "aws/aws_cloudwatch_log_stream.firehose",
        "aws/aws_cloudwatch_metric_alarm.firehose_freshness",
        "aws/aws_cloudwatch_metric_alarm.firehose_throttled",
        "aws/aws_cloudwatch_metric_alarm.rule_errors",
        "aws/aws_iam_role.firehose",
        "aws/aws_iam_role.iot_logging",
        "aws/aws_iam_role.iot_rules",
        "aws/aws_iam_role_policy.firehose",
        "aws/aws_iam_role_policy.iot_logging",
        "aws/aws_iam_role_policy.iot_rules",
        "aws/aws_iot_policy.device",
        // Thing groups and types carry the stack's name (they are one namespace per account
        // and region), so a rename replaces them too.
        "aws/aws_iot_thing_group.group_site_a",
        "aws/aws_iot_thing_group.group_site_a_bay_1",
        "aws/aws_iot_thing_group.group_site_a_bay_2",
        "aws/aws_iot_thing_type.type_climate_node",
        "aws/aws_iot_thing_type.type_irrigation_valve",
        "aws/aws_iot_topic_rule.route_telemetry",
        "aws/aws_kinesis_firehose_delivery_stream.archive",
        "aws/aws_kms_alias.fleet",
        "aws/aws_s3_bucket.access_logs",
        "aws/aws_s3_bucket.archive",
        "aws/aws_s3_bucket_lifecycle_configuration.access_logs",
        "aws/aws_s3_bucket_lifecycle_configuration.archive",
        "aws/aws_s3_bucket_logging.archive",
        "aws/aws_s3_bucket_notification.access_logs",
        "aws/aws_s3_bucket_notification.archive",
        "aws/aws_s3_bucket_ownership_controls.access_logs",
        "aws/aws_s3_bucket_ownership_controls.archive",
        "aws/aws_s3_bucket_policy.access_logs",
        "aws/aws_s3_bucket_policy.archive",
        "aws/aws_s3_bucket_public_access_block.access_logs",
        "aws/aws_s3_bucket_public_access_block.archive",
        "aws/aws_s3_bucket_server_side_encryption_configuration.access_logs",
        "aws/aws_s3_bucket_server_side_encryption_configuration.archive",
        "aws/aws_s3_bucket_versioning.access_logs",
        "aws/aws_s3_bucket_versioning.archive",
        "aws/aws_sns_topic.alerts",
        "aws/aws_sns_topic_policy.alerts",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(replaced, expected);
    // The registry's things are keyed by device id, not by stack; their group memberships
    // are keyed by the deployed (prefixed) group name, so each is destroyed and created again.
    let created = addresses(&d, Action::Create);
    assert_eq!(created.len(), 12, "{created:?}");
    assert!(
        created
            .iter()
            .all(|a| a.starts_with("aws/aws_iot_thing_group_membership.registry[")),
        "{created:?}"
    );
    assert_eq!(addresses(&d, Action::Destroy).len(), 12);
    // Both buckets lose their objects; the stream's records are still in Firehose's buffer.
    let lost: Vec<&str> = d.losses().map(|a| a.address.as_str()).collect();
    assert!(lost.contains(&"aws_s3_bucket.archive"), "{lost:?}");
    assert!(lost.contains(&"aws_s3_bucket.access_logs"), "{lost:?}");
    // Things, thing types and groups keep their names (the device ids and the spec's type
    // and group names); the KMS key's description changes in place.
    let kms = d
        .addresses
        .iter()
        .find(|a| a.address == "aws_kms_key.fleet")
        .expect("the key changes");
    assert_eq!(kms.action, Action::Update);
}

#[test]
fn renaming_an_azure_stack_lists_every_replacement() {
    let d = renamed("industrial-cranes", "cranes", "hoists");
    let replaced = addresses(&d, Action::Replace);
    let expected: Vec<String> = [
        "azure/azurerm_application_insights.functions",
        "azure/azurerm_consumption_budget_resource_group.this",
        "azure/azurerm_eventhub_consumer_group.alert_overload_function",
        "azure/azurerm_eventhub_namespace.this",
        "azure/azurerm_iothub.hub[\"northeurope\"]",
        "azure/azurerm_iothub.hub[\"westeurope\"]",
        "azure/azurerm_iothub_dps.this",
        "azure/azurerm_iothub_dps_certificate.fleet_ca",
        "azure/azurerm_iothub_dps_shared_access_policy.enrollment",
        "azure/azurerm_iothub_endpoint_eventhub.alert_overload[\"northeurope\"]",
        "azure/azurerm_iothub_endpoint_eventhub.alert_overload[\"westeurope\"]",
        "azure/azurerm_iothub_endpoint_eventhub.stream[\"northeurope\"]",
        "azure/azurerm_iothub_endpoint_eventhub.stream[\"westeurope\"]",
        "azure/azurerm_iothub_enrichment.device_type[\"northeurope\"]",
        "azure/azurerm_iothub_enrichment.device_type[\"westeurope\"]",
        "azure/azurerm_iothub_enrichment.iothub[\"northeurope\"]",
        "azure/azurerm_iothub_enrichment.iothub[\"westeurope\"]",
        "azure/azurerm_iothub_route.alert_overload[\"northeurope\"]",
        "azure/azurerm_iothub_route.alert_overload[\"westeurope\"]",
        "azure/azurerm_iothub_route.telemetry[\"northeurope\"]",
        "azure/azurerm_iothub_route.telemetry[\"westeurope\"]",
        "azure/azurerm_iothub_shared_access_policy.dps_link[\"northeurope\"]",
        "azure/azurerm_iothub_shared_access_policy.dps_link[\"westeurope\"]",
        "azure/azurerm_key_vault.archive",
        "azure/azurerm_key_vault_key.archive",
        "azure/azurerm_linux_function_app.alerts",
        "azure/azurerm_log_analytics_workspace.this",
        "azure/azurerm_monitor_action_group.this",
        "azure/azurerm_monitor_diagnostic_setting.archive_blobs",
        "azure/azurerm_monitor_diagnostic_setting.dps",
        "azure/azurerm_monitor_diagnostic_setting.eventhubs",
        "azure/azurerm_monitor_diagnostic_setting.iothub[\"northeurope\"]",
        "azure/azurerm_monitor_diagnostic_setting.iothub[\"westeurope\"]",
        "azure/azurerm_monitor_diagnostic_setting.key_vault",
        "azure/azurerm_monitor_metric_alert.alert_overload",
        "azure/azurerm_monitor_metric_alert.eventhubs_throttling",
        "azure/azurerm_monitor_metric_alert.hub_daily_quota[\"northeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_daily_quota[\"westeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_routing_dropped[\"northeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_routing_dropped[\"westeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_routing_failed[\"northeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_routing_failed[\"westeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_routing_orphaned[\"northeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_routing_orphaned[\"westeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_throttling[\"northeurope\"]",
        "azure/azurerm_monitor_metric_alert.hub_throttling[\"westeurope\"]",
        "azure/azurerm_role_assignment.archive_cmk_user",
        "azure/azurerm_role_assignment.capture_writer",
        "azure/azurerm_role_assignment.deployer_enrollments",
        "azure/azurerm_role_assignment.deployer_function_releases",
        "azure/azurerm_role_assignment.deployer_key_officer",
        "azure/azurerm_role_assignment.functions_alert_overload_receiver",
        "azure/azurerm_role_assignment.functions_storage",
        "azure/azurerm_service_plan.functions",
        "azure/azurerm_storage_account.archive",
        "azure/azurerm_storage_account.functions",
        "azure/azurerm_storage_blob.alerts_package",
        "azure/azurerm_storage_container.archive",
        "azure/azurerm_storage_container.function_releases",
        "azure/azurerm_storage_management_policy.archive",
        "azure/azurerm_user_assigned_identity.archive_cmk",
        "azure/azurerm_user_assigned_identity.functions",
    ]
    .map(String::from)
    .to_vec();
    assert_eq!(replaced, expected);
    assert_eq!(addresses(&d, Action::Create), Vec::<String>::new());
    assert_eq!(addresses(&d, Action::Destroy), Vec::<String>::new());
    // azurerm 4.x does not force a new event hub on `namespace_id` (the 5.0 ForceNew is
    // behind a feature flag), so Terraform plans an in-place update of each hub.
    for hub in [
        "azurerm_eventhub.telemetry",
        "azurerm_eventhub.alert_overload",
    ] {
        let a = d.addresses.iter().find(|a| a.address == hub).expect(hub);
        assert_eq!(a.action, Action::Update, "{hub}");
    }
    let lost: Vec<&str> = d.losses().map(|a| a.address.as_str()).collect();
    for held in [
        "azurerm_iothub.hub[\"westeurope\"]",
        "azurerm_iothub_dps.this",
        "azurerm_storage_account.archive",
        "azurerm_eventhub_namespace.this",
    ] {
        assert!(
            lost.contains(&held),
            "{held} is not listed as a loss: {lost:?}"
        );
    }
}
