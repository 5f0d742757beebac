//! Stacks: the three-environment, two-cloud example splits into root modules that each pass
//! the same checks as a single-stack build (run by `examples.rs` on every root), with
//! backends configured, and `stacks.json` lists every stack with dependencies in a valid
//! order.

mod common;

use std::collections::BTreeSet;

use common::{build_file, root, write_temp};

fn manifest(rendered: &fleetform::emit::Rendered) -> serde_json::Value {
    let bytes = &rendered
        .files
        .get("stacks.json")
        .expect("stacks.json is written")
        .bytes;
    serde_json::from_slice(bytes).unwrap()
}

#[test]
fn manifest_lists_every_stack_in_dependency_order() {
    let rendered = build_file(&root().join("examples/stacks/fleet.yaml"));
    let m = manifest(&rendered);
    let stacks = m["stacks"].as_array().unwrap();
    let mut seen = BTreeSet::new();
    let mut paths = BTreeSet::new();
    for s in stacks {
        let name = s["name"].as_str().unwrap();
        for dep in s["depends_on"].as_array().unwrap() {
            assert!(
                seen.contains(dep.as_str().unwrap()),
                "{name} depends on {dep}, listed later"
            );
        }
        seen.insert(name.to_owned());
        let path = s["path"].as_str().unwrap().to_owned();
        assert!(
            rendered
                .files
                .keys()
                .any(|k| k.starts_with(&format!("{path}/"))),
            "{path} has files"
        );
        let backend = &s["backend"];
        if s["kind"].as_str().unwrap() == "bootstrap" {
            assert_eq!(backend["type"], "local");
            assert!(!rendered.files.contains_key(&format!("{path}/backend.tf")));
        } else {
            let tf = String::from_utf8(rendered.files[&format!("{path}/backend.tf")].bytes.clone())
                .unwrap();
            let kind = backend["type"].as_str().unwrap();
            assert!(tf.contains(&format!("backend \"{kind}\"")), "{path}: {tf}");
            match kind {
                "s3" => assert!(tf.contains("use_lockfile = true"), "{path}: {tf}"),
                "azurerm" => {
                    assert!(tf.contains("use_azuread_auth     = true"), "{path}: {tf}");
                }
                other => panic!("unexpected backend {other}"),
            }
            assert!(
                paths.insert(backend["key"].as_str().unwrap().to_owned()),
                "state keys are unique"
            );
        }
    }
    // 2 bootstrap + 3 environments x (aws + azure + 3 registry shards of 1,000 devices).
    assert_eq!(stacks.len(), 2 + 3 * 5);
    // Waves: each contains only stacks whose dependencies are in earlier waves.
    let mut done = BTreeSet::new();
    for wave in m["waves"].as_array().unwrap() {
        let names: Vec<&str> = wave
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        for n in &names {
            let s = stacks.iter().find(|s| s["name"] == *n).unwrap();
            for dep in s["depends_on"].as_array().unwrap() {
                assert!(
                    done.contains(dep.as_str().unwrap()),
                    "{n} runs before {dep}"
                );
            }
        }
        done.extend(names.iter().map(|n| (*n).to_owned()));
    }
    assert_eq!(done.len(), stacks.len());
    insta::assert_snapshot!(
        String::from_utf8(rendered.files["stacks.json"].bytes.clone()).unwrap()
    );
}

#[test]
fn shards_split_the_registry_without_overlap() {
    let rendered = build_file(&root().join("examples/stacks/fleet.yaml"));
    let mut ids = BTreeSet::new();
    for n in 1..=3 {
        let json =
            &rendered.files[&format!("prod/aws-registry-{n:02}/registry/devices.json")].bytes;
        let devices: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(json).unwrap();
        assert!(devices.len() <= 1000);
        for id in devices.keys() {
            assert!(ids.insert(id.clone()), "{id} is in two shards");
        }
    }
    assert_eq!(ids.len(), 2500);
    assert!(
        !rendered
            .files
            .contains_key("prod/aws/registry/devices.json"),
        "the main stack leaves devices to the shards"
    );
}

#[test]
fn with_ota_the_shards_things_join_the_main_stacks_fleet_group() {
    // Firmware jobs target the main stack's fleet group (issue 19.10); a shard names the
    // same group, so the things it registers are in it too.
    let text = std::fs::read_to_string(root().join("examples/stacks/fleet.yaml"))
        .unwrap()
        .replace(
            "\nstorage:",
            "\npipeline:\n  ota:\n    enabled: true\nstorage:",
        );
    let rendered = common::build_text("fleet.yaml", &text, &root().join("examples/stacks"));
    let main = String::from_utf8(rendered.files["prod/aws/ota.tf"].bytes.clone()).unwrap();
    let group = main
        .lines()
        .skip_while(|l| !l.contains("resource \"aws_iot_thing_group\" \"fleet\""))
        .find_map(|l| l.trim().strip_prefix("name = "))
        .expect("the main stack creates the fleet group")
        .to_owned();
    for n in 1..=3 {
        let tf = String::from_utf8(
            rendered.files[&format!("prod/aws-registry-{n:02}/registry.tf")]
                .bytes
                .clone(),
        )
        .unwrap();
        assert!(
            tf.contains(&format!("concat(device.groups, [{group}])")),
            "shard {n} adds its things to {group}:\n{tf}"
        );
        assert!(tf.contains("resource \"aws_iot_thing_group_membership\" \"registry\""));
    }
}

/// Every stack in `stacks.json` is a root module of the output, and every root module is a
/// stack: `examples.rs` runs real validate, plan and the shipped tests on every root of every
/// example, this one included, so each stack passes the same checks as a single-stack build.
#[test]
fn every_stack_is_a_root_the_example_checks_cover() {
    let rendered = build_file(&root().join("examples/stacks/fleet.yaml"));
    let dir = write_temp(&rendered);
    let m = manifest(&rendered);
    let listed: BTreeSet<std::path::PathBuf> = m["stacks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| dir.path().join(s["path"].as_str().unwrap()))
        .collect();
    let found: BTreeSet<std::path::PathBuf> = common::roots(dir.path()).into_iter().collect();
    assert_eq!(listed, found, "stacks.json lists exactly the root modules");
    for root in &found {
        assert!(
            root.join("tests/fleetform.tftest.hcl").is_file(),
            "{}: every stack ships its tests",
            root.display()
        );
        assert!(
            common::readme_test_commands(root).is_ok(),
            "{}: its README says how to run them",
            root.display()
        );
    }
}

/// The base spec targets AWS only and `prod` adds Azure: Azure's state storage comes from
/// `prod` (the first environment on Azure), with its bootstrap stack, instead of a panic.
#[test]
fn an_environment_may_add_a_cloud() {
    let spec = "version: 1
stack:
  name: stacked
  environment: dev
clouds:
  aws:
    region: eu-central-1
    provisioning: {method: fleet_by_claim}
fleet:
  devices: 10
pipeline:
  routes:
    - name: telemetry
      to: [archive]
stacks: {}
environments:
  dev: {}
  prod:
    clouds:
      azure:
        location: westeurope
        resource_group: rg-stacked-prod
";
    let rendered = common::build_text("stacked.yaml", spec, &root());
    let m = manifest(&rendered);
    let stacks = m["stacks"].as_array().unwrap();
    let names: Vec<&str> = stacks.iter().map(|s| s["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "bootstrap-aws",
            "bootstrap-azure",
            "dev-aws",
            "prod-aws",
            "prod-azure"
        ]
    );
    let bootstrap = stacks
        .iter()
        .find(|s| s["name"] == "bootstrap-azure")
        .unwrap();
    assert_eq!(bootstrap["region"], "westeurope", "prod's location");
    let prod = stacks.iter().find(|s| s["name"] == "prod-azure").unwrap();
    assert_eq!(prod["backend"]["type"], "azurerm");
    assert_eq!(prod["depends_on"][0], "bootstrap-azure");
    let backend = String::from_utf8(rendered.files["prod/azure/backend.tf"].bytes.clone()).unwrap();
    let account = prod["backend"]["storage_account_name"].as_str().unwrap();
    assert!(backend.contains(account), "{backend}");
    let storage =
        String::from_utf8(rendered.files["bootstrap/azure/state.tf"].bytes.clone()).unwrap();
    assert!(
        storage.contains(&format!("\"{account}\"")),
        "the bootstrap module creates the account the backend names:\n{storage}"
    );
}
