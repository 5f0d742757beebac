//! Region checks (issue 20.5): the AWS lists are botocore's endpoint data, compared here with
//! the botocore of the machine's AWS CLI (a newer one that opens a region fails this test,
//! naming what to add); a region without AWS IoT Core and an Azure name near no real one are
//! warnings, not errors, since either may have opened since the lists were taken.

mod common;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

use fleetform::clouds::aws::regions::{IOT_CORE, REGIONS};

/// botocore's `data/endpoints.json`, from the Python that runs the `aws` on PATH.
fn botocore_endpoints() -> Option<PathBuf> {
    let aws = common::which("aws")?;
    let python = aws.with_file_name("python");
    let out = Command::new(python)
        .args([
            "-c",
            "import botocore, os; print(os.path.join(os.path.dirname(botocore.__file__), 'data', 'endpoints.json'))",
        ])
        .output()
        .ok()?;
    let path = PathBuf::from(String::from_utf8(out.stdout).ok()?.trim());
    path.is_file().then_some(path)
}

#[test]
fn the_aws_lists_are_botocores() {
    let Some(path) = botocore_endpoints() else {
        return common::skip("botocore", "no AWS CLI (with botocore) on PATH");
    };
    let data: serde_json::Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    let (mut regions, mut iot) = (BTreeSet::new(), BTreeSet::new());
    for p in data["partitions"].as_array().unwrap() {
        if !["aws", "aws-cn", "aws-us-gov"].contains(&p["partition"].as_str().unwrap()) {
            continue;
        }
        let known = p["regions"].as_object().unwrap();
        regions.extend(known.keys().cloned());
        if let Some(endpoints) = p["services"]["iot"]["endpoints"].as_object() {
            iot.extend(endpoints.keys().filter(|k| known.contains_key(*k)).cloned());
        }
    }
    let ours = |l: &[&str]| l.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(
        ours(REGIONS),
        regions,
        "regions differ from {}",
        path.display()
    );
    assert_eq!(
        ours(IOT_CORE),
        iot,
        "IoT Core regions differ from {}",
        path.display()
    );
}

fn diagnostics(spec: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), spec).unwrap();
    let out = common::fleetform(dir.path(), &["validate", "fleet.yaml", "--format", "json"]);
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn a_region_without_iot_core_and_an_unheard_of_location_are_warnings() {
    let json = diagnostics(
        "version: 1\nstack: {name: far, environment: dev}\nclouds:\n  aws:\n    region: af-south-1\n  azure: {location: atlantiscentral, resource_group: rg-far}\nfleet:\n  devices: 10\n",
    );
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["valid"], true, "{json}");
    let messages: Vec<&str> = v["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "warning")
        .filter_map(|d| d["message"].as_str())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("AWS IoT Core has no endpoint in `af-south-1`")),
        "{messages:?}"
    );
    assert!(
        messages
            .iter()
            .any(|m| m.contains("`atlantiscentral` is no Azure location fleetform knows")),
        "{messages:?}"
    );
}

#[test]
fn every_example_names_real_regions() {
    for (name, path) in common::examples() {
        let dir = path.parent().unwrap();
        let out = common::fleetform(
            dir,
            &[
                "validate",
                path.file_name().unwrap().to_str().unwrap(),
                "--format",
                "json",
            ],
        );
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(
            !text.contains("unknown-region") && !text.contains("service-not-in-region"),
            "{name}: {text}"
        );
    }
}
