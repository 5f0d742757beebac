//! The safe path for changes that would lose data: a renamed alert keeps its cloud resources
//! (`renamed_from` and generated `moved` blocks), and production stacks mark what holds data
//! or device identities `prevent_destroy`, which the diff reports as a plan Terraform refuses.

mod common;

use fleetform::infradiff::{self, Action, InfraDiff};
use fleetform::plan::FileContent;

const MULTICLOUD: &str = include_str!("../examples/multicloud/fleet.yaml");

fn plan(text: &str) -> Vec<(String, Vec<fleetform::plan::Module>)> {
    let dir = common::root().join("examples/multicloud");
    let outcome = fleetform::validate::validate("fleet.yaml", text, &common::Dir(dir));
    assert!(
        outcome.validated.is_some(),
        "{:?}",
        outcome
            .diagnostics
            .iter()
            .map(|d| &d.message)
            .collect::<Vec<_>>()
    );
    fleetform::plan_sets(&outcome).unwrap().sets
}

fn diff(old: &str, new: &str) -> InfraDiff {
    infradiff::diff_sets(&plan(old), &plan(new))
}

fn rename_alert(with_renamed_from: bool) -> String {
    let to = if with_renamed_from {
        "    - name: thawing\n      renamed_from: too_warm\n"
    } else {
        "    - name: thawing\n"
    };
    let out = MULTICLOUD.replacen("    - name: too_warm\n", to, 1);
    assert_ne!(out, MULTICLOUD);
    out
}

fn of(d: &InfraDiff, action: Action) -> Vec<String> {
    d.addresses
        .iter()
        .filter(|a| a.action == action)
        .map(|a| format!("{}/{}", a.module, a.address))
        .collect()
}

#[test]
fn renaming_an_alert_destroys_its_resources_and_loses_what_they_hold() {
    let d = diff(MULTICLOUD, &rename_alert(false));
    let lost: Vec<String> = d
        .losses()
        .map(|a| format!("{}/{}", a.module, a.address))
        .collect();
    // The function's logs on AWS, and on Azure the event hub with the matching messages not
    // yet handled by the alert function.
    assert_eq!(
        lost,
        [
            "aws/aws_cloudwatch_log_group.alert_too_warm",
            "azure/azurerm_eventhub.alert_too_warm"
        ]
    );
    assert_eq!(of(&d, Action::Create).len(), 14);
    assert_eq!(of(&d, Action::Destroy).len(), 14);
}

#[test]
fn renamed_from_keeps_every_cloud_resource_of_a_renamed_alert() {
    let new = rename_alert(true);
    let d = diff(MULTICLOUD, &new);
    assert!(
        of(&d, Action::Create).is_empty(),
        "{:?}",
        of(&d, Action::Create)
    );
    assert!(
        of(&d, Action::Destroy).is_empty(),
        "{:?}",
        of(&d, Action::Destroy)
    );
    // The function code names the alert, and azurerm forces a new blob on `content_md5`:
    // the package blob is the one replacement, and it holds nothing but the code.
    assert_eq!(
        of(&d, Action::Replace),
        ["azure/azurerm_storage_blob.alerts_package"]
    );
    assert_eq!(d.losses().count(), 0);
    // Every resource of the alert moves; some also change in place (descriptions, the
    // function's ALERT_NAME and code).
    let moved: Vec<(&str, &str)> = d
        .addresses
        .iter()
        .filter_map(|a| Some((a.address.as_str(), a.moved_from.as_deref()?)))
        .collect();
    assert_eq!(moved.len(), 14, "{moved:?}");
    for (to, from) in &moved {
        assert!(to.contains("alert_thawing"), "{to}");
        assert!(from.contains("alert_too_warm"), "{from}");
    }
    let lambda = d
        .addresses
        .iter()
        .find(|a| a.address == "aws_lambda_function.alert_thawing")
        .unwrap();
    assert_eq!(lambda.action, Action::Update);
    let changed: Vec<&str> = lambda.changes.iter().map(|c| c.path.as_str()).collect();
    assert!(changed.contains(&"source_code_hash"), "{changed:?}");
    assert!(!changed.contains(&"function_name"), "{changed:?}");

    // The moved blocks are in the output, and the AWS module validates with them.
    let sets = plan(&new);
    let rendered = fleetform::emit::render_sets(&sets, fleetform::emit::Syntax::Hcl).unwrap();
    for cloud in ["aws", "azure"] {
        let moved = &rendered.files[&format!("{cloud}/moved.tf")];
        let text = String::from_utf8(moved.bytes.clone()).unwrap();
        assert!(text.contains("alert_too_warm"), "{text}");
    }
    let dir = common::write_temp(&rendered);
    common::terraform_validate(&dir.path().join("aws")).unwrap();
}

#[test]
fn renamed_from_must_name_a_different_free_name() {
    let same = MULTICLOUD.replacen(
        "    - name: too_warm\n",
        "    - name: too_warm\n      renamed_from: too_warm\n",
        1,
    );
    let taken = MULTICLOUD.replacen(
        "    - name: too_warm\n      condition: temperature_c > -15\n",
        "    - name: too_warm\n      condition: temperature_c > -15\n    - name: thawing\n      renamed_from: too_warm\n      condition: temperature_c > -10\n",
        1,
    );
    for (text, code) in [(same, "renamed-to-itself"), (taken, "duplicate-name")] {
        let dir = common::root().join("examples/multicloud");
        let outcome = fleetform::validate::validate("fleet.yaml", &text, &common::Dir(dir));
        assert!(outcome.validated.is_none());
        let codes: Vec<&str> = outcome.diagnostics.iter().map(|d| d.code).collect();
        assert!(codes.contains(&code), "{codes:?}");
    }
}

/// Text of every `.tf` file of a module.
fn hcl_text(m: &fleetform::plan::Module) -> String {
    m.files
        .values()
        .filter_map(|f| match f {
            FileContent::Hcl(body) => fleetform::emit::format_hcl(body).ok(),
            _ => None,
        })
        .collect()
}

#[test]
fn production_protects_what_holds_data_unless_the_spec_says_otherwise() {
    let prod = plan(MULTICLOUD);
    let aws = hcl_text(&prod[0].1[0]);
    let azure = hcl_text(&prod[0].1[1]);
    for text in [&aws, &azure] {
        assert!(text.contains("prevent_destroy = true"));
    }
    let protected = |text: &str, resource: &str| {
        let start = text.find(resource).unwrap_or_else(|| panic!("{resource}"));
        let end = text[start..].find("\n}\n").unwrap() + start;
        text[start..end].contains("prevent_destroy = true")
    };
    assert!(protected(&aws, "resource \"aws_s3_bucket\" \"archive\""));
    assert!(protected(&aws, "resource \"aws_dynamodb_table\" \"state\""));
    assert!(protected(&azure, "resource \"azurerm_iothub\" \"hub\""));
    assert!(protected(
        &azure,
        "resource \"azurerm_storage_account\" \"archive\""
    ));
    // Policies hold nothing; per-device things are decommissioned by removing them.
    assert!(!protected(
        &aws,
        "resource \"aws_s3_bucket_policy\" \"archive\""
    ));

    let off = MULTICLOUD.replacen(
        "  environment: prod\n",
        "  environment: prod\n  prevent_destroy: false\n",
        1,
    );
    for m in &plan(&off)[0].1 {
        assert!(!hcl_text(m).contains("prevent_destroy"), "{}", m.dir());
    }
    let dev = MULTICLOUD.replacen("  environment: prod\n", "  environment: dev\n", 1);
    for m in &plan(&dev)[0].1 {
        assert!(!hcl_text(m).contains("prevent_destroy"), "{}", m.dir());
    }
    let dev_on = MULTICLOUD.replacen(
        "  environment: prod\n",
        "  environment: dev\n  prevent_destroy: true\n",
        1,
    );
    assert!(hcl_text(&plan(&dev_on)[0].1[0]).contains("prevent_destroy = true"));
}

#[test]
fn a_protected_replacement_is_reported_as_a_plan_terraform_refuses() {
    let renamed = MULTICLOUD.replacen("  name: freezers\n", "  name: chillers\n", 1);
    let d = diff(MULTICLOUD, &renamed);
    let blocked: Vec<&str> = d
        .addresses
        .iter()
        .filter(|a| a.blocked_by_prevent_destroy)
        .map(|a| a.address.as_str())
        .collect();
    assert!(blocked.contains(&"aws_s3_bucket.archive"), "{blocked:?}");
    assert!(
        blocked.contains(&"azurerm_storage_account.archive"),
        "{blocked:?}"
    );
    // Only replacements of protected resources are blocked.
    for a in d.addresses.iter().filter(|a| a.blocked_by_prevent_destroy) {
        assert_eq!(a.action, Action::Replace, "{}", a.address);
        assert!(a.loses.is_some(), "{}", a.address);
    }
    assert!(infradiff::markdown_destructive(&d).contains("`terraform plan` stops with an error"));
}
