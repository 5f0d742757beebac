//! The bill and the Terraform list the same billed resources. For every planned module (every
//! example, every environment, and specs that turn every optional part on, with each AWS
//! provisioning method and both Azure alert engines): each resource type has an entry in the
//! cloud's catalog (priced, free, or not estimated and why), and so does every type the
//! planners' source can create; every resource the module creates whose type is not free has
//! exactly one bill line listing its address (type and name, as emitted), and every address
//! the bill lists is a resource the module creates. A priced line's type is priced (in full
//! or in part) in the catalog, a line that is not priced has a type that is not priced in
//! full. A billed resource cannot reach the Terraform without a bill line, and a free one
//! without saying so in `clouds/<cloud>/catalog.rs`.

mod common;
mod plan_support;

use std::collections::BTreeSet;
use std::path::Path;

use fleetform::clouds::{self, Cloud};
use fleetform::design::{Coverage, Design};
use fleetform::model::Model;
use fleetform::plan::Module;
use plan_support::model;

/// `(type, name)` of every resource block in `module`.
fn resources(module: &Module) -> BTreeSet<(String, String)> {
    plan_support::resources(module)
        .into_iter()
        .map(|r| (r.ty, r.name))
        .collect()
}

fn check(name: &str, model: &Model) {
    let modules = fleetform::plan_modules(model).expect("plans");
    let designs: Vec<Design> = clouds::designs(model, &clouds::targeted(model));
    let mut problems = Vec::new();
    for module in &modules {
        let cloud = module.cloud;
        let design = designs
            .iter()
            .find(|d| d.cloud == cloud)
            .expect("a design per module");
        let bill = &design.bill;
        let built = resources(module);
        // Every resource the module creates whose type is not free, by address.
        let mut billable = BTreeSet::new();
        for (ty, label) in &built {
            match bill.coverage(ty) {
                None => problems.push(format!(
                    "`{ty}` is created on {cloud} but has no entry in its catalog"
                )),
                Some(Coverage::Free { .. }) => {}
                Some(_) => {
                    billable.insert(format!("{ty}.{label}"));
                }
            }
        }
        let mut listed = BTreeSet::new();
        for item in &bill.items {
            let coverage = bill.coverage(item.resource_type);
            let consistent = match coverage {
                Some(Coverage::Priced { .. }) => item.priced,
                Some(Coverage::NotEstimated { .. }) => !item.priced,
                Some(Coverage::Partly { .. }) => true,
                Some(Coverage::Free { .. }) | None => false,
            };
            if !consistent {
                problems.push(format!(
                    "{cloud}: a {} line of `{}` disagrees with its catalog entry {coverage:?}",
                    if item.priced { "priced" } else { "not priced" },
                    item.resource_type,
                ));
            }
            if item.addresses.is_empty() {
                problems.push(format!(
                    "{cloud}: a `{}` line lists no address",
                    item.resource_type
                ));
            }
            for address in &item.addresses {
                let ty = address.split_once('.').map_or("", |(ty, _)| ty);
                if ty != item.resource_type {
                    problems.push(format!(
                        "{cloud}: `{address}` is listed on a `{}` line",
                        item.resource_type
                    ));
                }
                if !listed.insert(address.clone()) {
                    problems.push(format!("{cloud}: the bill lists `{address}` twice"));
                }
            }
        }
        for address in billable.difference(&listed) {
            problems.push(format!(
                "{cloud}: the module creates `{address}` but the bill has no line for it"
            ));
        }
        for address in listed.difference(&billable) {
            problems.push(format!(
                "{cloud}: the bill lists `{address}`, which the module does not create (or whose type is free)"
            ));
        }
    }
    assert!(problems.is_empty(), "{name}:\n{}", problems.join("\n"));
}

#[test]
fn every_example_is_covered() {
    for (name, model) in plan_support::example_models() {
        check(&name, &model);
    }
}

/// Everything optional on, with the AWS provisioning method `method`.
fn everything_on_aws(method: &str) -> String {
    format!(
        "version: 1
stack:
  name: cover
  environment: test
clouds:
  aws:
    region: eu-west-1
    provisioning:
      {method}
    iot:
      fleet_indexing: true
    stream:
      service: kinesis_and_firehose
fleet:
  devices: 2000
  device_types:
    - name: sensor
  groups:
    - name: site
  registry:
    devices:
      - id: sensor-001
        type: sensor
        groups: [site]
identity:
  method: x509
authorization:
  cloud_credentials:
    role_alias: cover-devices
    grants: [firmware_read, state_read, archive_upload]
messaging:
  cloud_to_device:
    commands: true
  state:
    enabled: true
pipeline:
  routes:
    - name: telemetry
      to: [stream, archive, state_store]
    - name: shadows
      source: state_changes
      to: [archive]
  alerts:
    - name: overheat
      condition: temperature > 90
  state_store: {{enabled: true}}
  ota: {{enabled: true}}
  analytics: {{enabled: true}}
  web_api: {{enabled: true}}
monitoring:
  notify:
    email: [ops@example.com]
cost:
  monthly_budget_usd: 400
"
    )
}

/// Everything optional on, on Azure, with `extra` under `clouds.azure`.
fn everything_on_azure(extra: &str) -> String {
    format!(
        "version: 1
stack:
  name: cover
  environment: test
clouds:
  azure:
    location: westeurope
    resource_group: rg-cover
    iot_hub:
      tier: standard
{extra}fleet:
  devices: 2000
  device_types:
    - name: sensor
authorization:
  services:
    - name: dashboard
      access: [registry_read, service_connect]
messaging:
  cloud_to_device:
    commands: true
  state:
    enabled: true
pipeline:
  routes:
    - name: telemetry
      to: [stream, archive, state_store]
    - name: twins
      source: state_changes
      to: [archive]
  alerts:
    - name: overheat
      condition: temperature > 90
  state_store: {{enabled: true}}
  ota: {{enabled: true}}
  analytics: {{enabled: true}}
monitoring:
  notify:
    email: [ops@example.com]
cost:
  monthly_budget_usd: 400
"
    )
}

#[test]
fn every_optional_part_is_covered() {
    for method in [
        "method: manual",
        "method: jitp",
        "method: jitr",
        "method: fleet_by_claim\n      pre_provisioning_hook: true",
        "method: trusted_user",
    ] {
        let name = format!("aws {method}");
        check(&name, &model(&name, &everything_on_aws(method)));
    }
    for (name, extra) in [
        (
            "azure dps custom allocation",
            "    dps:\n      allocation: custom\n      enrollment_groups:\n        - name: sensors\n",
        ),
        (
            "azure stream analytics, no capture",
            "    alert_engine: stream_analytics\n    event_hubs:\n      capture: false\n",
        ),
    ] {
        check(name, &model(name, &everything_on_azure(extra)));
    }
}

/// Every `resource("<type>"` in the planner source of `cloud`.
fn source_types(cloud: Cloud) -> BTreeSet<String> {
    fn walk(dir: &Path, out: &mut BTreeSet<String>, prefix: &str) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out, prefix);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = std::fs::read_to_string(&path).unwrap();
                for (i, _) in text.match_indices("resource(") {
                    let rest = text[i + "resource(".len()..].trim_start();
                    let Some(rest) = rest.strip_prefix('"') else {
                        continue;
                    };
                    let ty: String = rest
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    if ty.starts_with(prefix) {
                        out.insert(ty);
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    let prefix = match cloud {
        Cloud::Aws => "aws_",
        Cloud::Azure => "azurerm_",
    };
    walk(
        &common::root().join("src/clouds").join(cloud.dir()),
        &mut out,
        prefix,
    );
    out
}

#[test]
fn every_type_the_planners_can_create_is_in_a_catalog() {
    for planner in clouds::CLOUDS {
        let cloud = planner.cloud();
        let design = match cloud {
            Cloud::Aws => model("aws", &everything_on_aws("method: jitp")),
            Cloud::Azure => model("azure", &everything_on_azure("")),
        };
        let bill = planner.design(&design).expect("targeted").bill;
        let types = source_types(cloud);
        assert!(types.len() > 20, "{cloud}: found {} types", types.len());
        for ty in &types {
            assert!(
                bill.coverage(ty).is_some(),
                "`{ty}` appears in src/clouds/{} but has no entry in its catalog",
                cloud.dir()
            );
        }
        // And the catalog lists nothing the planners cannot create.
        for entry in bill.catalog {
            assert!(
                types.contains(entry.resource_type),
                "{cloud}: the catalog lists `{}`, which no planner creates",
                entry.resource_type
            );
        }
    }
}
