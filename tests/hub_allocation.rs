//! Hub sizing follows the DPS allocation (issue 13.13): the planner decides each linked hub's
//! share of the fleet once, and the Terraform (each hub's SKU and units, its daily-quota
//! alarm and the shipped test that asserts them), the estimate and `fleetform explain` all
//! render that share. Weights split the fleet under evenly weighted allocation; lowest-latency
//! allocation uses the hubs' expected `devices`, or sizes every hub for the whole fleet and
//! warns when the spec does not give them.

mod common;
mod plan_support;

use fleetform::cost::{CloudEstimate, PriceBook};
use fleetform::model::Model;
use fleetform::plan::Cloud;
use fleetform::validate::{NoFiles, validate};

/// An Azure fleet busy enough that 750 and 250 devices need different unit counts: a message
/// a minute, each one 4 KB quota block.
fn spec(devices: u64, dps: &str) -> String {
    let mut indented = String::new();
    // Every DPS needs an enrollment group (validate refuses one without).
    let group = dps
        .contains("dps:")
        .then_some("  enrollment_groups: [{name: devices}]");
    for line in dps.lines().chain(group) {
        indented.push_str("    ");
        indented.push_str(line);
        indented.push('\n');
    }
    format!(
        "version: 1\nstack:\n  name: shares\n  environment: test\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-shares\n{indented}fleet:\n  devices: {devices}\n  growth_percent_per_year: 0\nmessaging:\n  messages_per_device_per_hour: 60\n  message_bytes: 1000\n"
    )
}

const WEIGHTED: &str = "iot_hub:\n  tier: standard\ndps:\n  allocation: evenly_weighted\n  linked_hubs:\n    - location: westeurope\n      allocation_weight: 3\n    - location: northeurope\n      allocation_weight: 1";

const SINGLE: &str = "iot_hub:\n  tier: standard";

fn hubs(model: &Model) -> Vec<(String, u64, String, u32, u64)> {
    model
        .azure
        .as_ref()
        .expect("azure")
        .hubs
        .iter()
        .map(|h| {
            (
                h.location.clone(),
                h.devices,
                format!("{:?}", h.sku),
                h.units,
                h.planned_daily_quota_messages,
            )
        })
        .collect()
}

fn priced(model: &Model) -> CloudEstimate {
    let book = PriceBook::embedded().expect("price book");
    let estimate = fleetform::cost::from_model::estimate(model, &book).expect("estimates");
    estimate
        .clouds
        .into_iter()
        .find(|c| c.cloud == Cloud::Azure)
        .expect("an Azure estimate")
}

/// `(item, quantity, unit)` of the IoT Hub unit lines.
fn hub_lines(bill: &CloudEstimate) -> Vec<(String, f64, String)> {
    bill.lines
        .iter()
        .filter(|l| l.service == "IoT Hub" && l.item.starts_with("hub units"))
        .map(|l| (l.item.clone(), l.quantity, l.unit.clone()))
        .collect()
}

fn file(rendered: &fleetform::emit::Rendered, path: &str) -> String {
    let f = rendered
        .files
        .get(path)
        .unwrap_or_else(|| panic!("{path} is missing"));
    String::from_utf8_lossy(&f.bytes).into_owned()
}

/// Runs of spaces as one, so `terraform fmt` alignment does not matter.
fn squash(s: &str) -> String {
    s.split(' ')
        .filter(|w| !w.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn weights_three_to_one_size_hubs_for_750_and_250_devices() {
    let model = plan_support::model("weighted", &spec(1000, WEIGHTED));
    let sized = hubs(&model);
    // Each hub is sized exactly as a lone hub with its share of the fleet would be.
    let alone = |devices| hubs(&plan_support::model("alone", &spec(devices, SINGLE)))[0].clone();
    let (big, small) = (alone(750), alone(250));
    assert_eq!(
        (sized[0].1, &sized[0].2, sized[0].3, sized[0].4),
        (750, &big.2, big.3, big.4),
        "westeurope carries 3 of 4 devices: {sized:?}"
    );
    assert_eq!(
        (sized[1].1, &sized[1].2, sized[1].3, sized[1].4),
        (250, &small.2, small.3, small.4),
        "northeurope carries 1 of 4 devices: {sized:?}"
    );
    assert!(
        sized[0].3 > sized[1].3,
        "the busier hub needs more units: {sized:?}"
    );

    // The Terraform: each hub's size in `local.iot_hubs`, read by the hub and the quota alarm,
    // and asserted per hub by the shipped test.
    let rendered = common::build_text("weighted", &spec(1000, WEIGHTED), std::path::Path::new("."));
    let main = squash(&file(&rendered, "azure/main.tf"));
    let hub_tf = squash(&file(&rendered, "azure/iothub.tf"));
    let tests = squash(&file(&rendered, "azure/tests/fleetform.tftest.hcl"));
    assert!(hub_tf.contains("capacity = each.value.units"), "{hub_tf}");
    for (location, _, sku, units, _) in &sized {
        assert!(
            main.contains(&format!("sku = \"{sku}\""))
                && main.contains(&format!("units = {units}")),
            "main.tf sizes {location} as {sku} x {units}:\n{main}"
        );
        assert!(
            tests.contains(&format!(
                "azurerm_iothub.hub[\"{location}\"].sku[0].capacity == {units}"
            )),
            "the shipped test asserts {location}'s units:\n{tests}"
        );
    }
    let monitoring = squash(&file(&rendered, "azure/monitoring.tf"));
    assert!(
        monitoring.contains("threshold = local.iot_hubs[each.key].daily_quota_alarm"),
        "{monitoring}"
    );

    // The estimate bills each hub's own units.
    let lines = hub_lines(&priced(&model));
    let units: f64 = lines.iter().map(|l| l.1).sum();
    assert!(
        (units - f64::from(sized[0].3 + sized[1].3)).abs() < 1e-9,
        "{lines:?}"
    );
    assert!(
        lines
            .iter()
            .any(|l| l.0.contains("westeurope") && (l.1 - f64::from(sized[0].3)).abs() < 1e-9),
        "{lines:?}"
    );

    // `fleetform explain` says each hub's share.
    let story = fleetform::explain::render(&model, &[Cloud::Azure]).expect("explains");
    let story = story.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(story.contains("750 devices (weight 3 of 4)"), "{story}");
    assert!(story.contains("250 devices (weight 1 of 4)"), "{story}");
}

#[test]
fn lowest_latency_uses_the_devices_each_hub_expects() {
    let dps = "iot_hub:\n  tier: standard\ndps:\n  allocation: lowest_latency\n  linked_hubs:\n    - location: westeurope\n      devices: 750\n    - location: northeurope\n      devices: 250";
    let outcome = validate("latency.yaml", &spec(1000, dps), &NoFiles);
    assert!(
        outcome
            .diagnostics
            .iter()
            .all(|d| d.code != "hub-sized-for-fleet"),
        "with devices per hub there is nothing to warn about"
    );
    let model = plan_support::model("latency", &spec(1000, dps));
    let weighted = plan_support::model("weighted", &spec(1000, WEIGHTED));
    assert_eq!(
        hubs(&model),
        hubs(&weighted),
        "750 and 250 devices, as 3:1 weights give"
    );
}

#[test]
fn lowest_latency_without_devices_sizes_every_hub_for_the_fleet_and_says_so() {
    let dps = "iot_hub:\n  tier: standard\ndps:\n  allocation: lowest_latency\n  linked_hubs:\n    - location: westeurope\n    - location: northeurope";
    let outcome = validate("latency.yaml", &spec(1000, dps), &NoFiles);
    let warning = outcome
        .diagnostics
        .iter()
        .find(|d| d.code == "hub-sized-for-fleet")
        .expect("a warning that every hub is sized for the whole fleet");
    assert!(
        warning.message.contains("whole fleet"),
        "{}",
        warning.message
    );
    let model = plan_support::model("latency", &spec(1000, dps));
    let whole = hubs(&plan_support::model("alone", &spec(1000, SINGLE)))[0].clone();
    for h in hubs(&model) {
        assert_eq!((h.1, h.3, h.4), (whole.1, whole.3, whole.4), "{h:?}");
    }
    let story = fleetform::explain::render(&model, &[Cloud::Azure]).expect("explains");
    let story = story.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        story.contains("every hub is sized for the whole fleet"),
        "{story}"
    );
}

#[test]
fn static_allocation_leaves_the_other_hubs_at_one_unit() {
    let dps = "iot_hub:\n  tier: standard\ndps:\n  allocation: static\n  linked_hubs:\n    - location: westeurope\n    - location: northeurope";
    let model = plan_support::model("static", &spec(1000, dps));
    let sized = hubs(&model);
    let whole = hubs(&plan_support::model("alone", &spec(1000, SINGLE)))[0].clone();
    assert_eq!((sized[0].1, sized[0].3), (1000, whole.3), "{sized:?}");
    assert_eq!((sized[1].1, sized[1].3), (0, 1), "{sized:?}");
}
