//! Every example builds, deterministically, into output that the real tools accept, and
//! every generated file is pinned by a snapshot.

mod common;

use std::fmt::Write as _;

use common::{build_file, examples, write_temp};

/// One snapshot per example per cloud: every file, in path order. Zips are listed by hash.
#[test]
fn example_outputs_are_pinned() {
    insta::glob!("../examples", "*/fleet.yaml", |path| {
        let rendered = build_file(path);
        let mut by_cloud = std::collections::BTreeMap::<String, String>::new();
        for (p, f) in &rendered.files {
            // Group by module folder: `aws/...`, or `<env>/aws/...` per environment.
            let segments: Vec<&str> = p.split('/').collect();
            let cut = segments
                .iter()
                .position(|s| *s == "aws" || *s == "azure")
                .map_or(0, |i| i + 1);
            let (cloud, rel) = if cut == 0 {
                ("manifest".to_owned(), p.clone())
            } else {
                (segments[..cut].join("-"), segments[cut..].join("/"))
            };
            let s = by_cloud.entry(cloud).or_default();
            if rel.ends_with(".zip") {
                let _ = writeln!(
                    s,
                    "===== {rel} (zip, sha256 {}) =====\n",
                    fleetform::emit::sha256_hex(&f.bytes)
                );
            } else {
                let _ = writeln!(
                    s,
                    "===== {rel} =====\n{}",
                    String::from_utf8_lossy(&f.bytes)
                );
            }
        }
        for (cloud, content) in by_cloud {
            insta::assert_snapshot!(cloud, content);
        }
    });
}

#[test]
fn builds_are_byte_identical() {
    for (name, spec) in examples() {
        assert_eq!(
            build_file(&spec),
            build_file(&spec),
            "{name} builds differently twice"
        );
    }
}

#[test]
fn generated_hcl_parses() {
    for (name, spec) in examples() {
        for (path, file) in &build_file(&spec).files {
            if path.ends_with(".tf") {
                let text = String::from_utf8(file.bytes.clone()).unwrap();
                hcl::parse(&text)
                    .unwrap_or_else(|e| panic!("{name}/{path} does not parse: {e}\n{text}"));
            }
        }
    }
}

#[test]
fn terraform_fmt_accepts_every_example() {
    if common::terraform().is_none() {
        return common::skip(
            "terraform fmt",
            "terraform or the provider mirror is not installed",
        );
    }
    for (name, spec) in examples() {
        let dir = write_temp(&build_file(&spec));
        if let Err(diff) = common::terraform_fmt_check(dir.path()) {
            panic!("{name}: terraform fmt would change the output:\n{diff}");
        }
    }
}

#[test]
fn terraform_validate_accepts_every_aws_example() {
    if common::terraform().is_none() {
        return common::skip(
            "terraform validate",
            "terraform or the provider mirror is not installed",
        );
    }
    for (name, spec) in examples() {
        let dir = write_temp(&build_file(&spec));
        for aws in common::module_dirs(dir.path(), "aws") {
            if let Err(e) = common::terraform_validate(&aws) {
                panic!("{name} ({}): {e}", aws.display());
            }
        }
    }
}

#[test]
fn azurerm_schema_accepts_every_azure_example() {
    if common::tfschema_check().is_none() {
        return common::skip(
            "tfschema-check",
            "../shared/tools/tfschema-check is not present",
        );
    }
    for (name, spec) in examples() {
        let dir = write_temp(&build_file(&spec));
        for azure in common::module_dirs(dir.path(), "azure") {
            if let Err(e) = common::azurerm_schema_check(&azure) {
                panic!("{name} ({}): {e}", azure.display());
            }
        }
    }
}

#[test]
fn checkov_passes_every_example() {
    if common::checkov().is_none() {
        return common::skip("checkov", "checkov is not on PATH (pip install checkov)");
    }
    let mut failures = Vec::new();
    for (name, spec) in examples() {
        let dir = write_temp(&build_file(&spec));
        match common::checkov_failures(dir.path()) {
            Ok(f) => failures.extend(f.into_iter().map(|f| format!("{name}: {f}"))),
            Err(e) => panic!("{name}: {e}"),
        }
    }
    assert!(
        failures.is_empty(),
        "checkov failed checks:\n{}",
        failures.join("\n")
    );
}

#[test]
fn terraform_validate_accepts_tf_json_of_every_aws_example() {
    if common::terraform().is_none() {
        return common::skip(
            "terraform validate (tf-json)",
            "terraform or the provider mirror is not installed",
        );
    }
    for (name, spec) in examples() {
        let text = std::fs::read_to_string(&spec).unwrap();
        let outcome = fleetform::validate::validate(
            &name,
            &text,
            &common::Dir(spec.parent().unwrap().to_path_buf()),
        );
        let planned = fleetform::plan_sets(&outcome).unwrap();
        let rendered =
            fleetform::emit::render_planned(&planned, fleetform::emit::Syntax::Json).unwrap();
        if !rendered.files.keys().any(|k| k.contains("aws/")) {
            continue;
        }
        assert!(rendered.files.keys().any(|k| k.ends_with(".tf.json")));
        assert!(
            !rendered.files.keys().any(|k| k.ends_with(".tf")),
            "{name}: no HCL next to JSON"
        );
        let dir = write_temp(&rendered);
        for aws in common::module_dirs(dir.path(), "aws") {
            if let Err(e) = common::terraform_validate(&aws) {
                panic!("{name} (tf-json, {}): {e}", aws.display());
            }
        }
    }
}
