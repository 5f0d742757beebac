//! Every example builds, deterministically, into output that the real tools accept, and
//! every generated file is pinned by a snapshot.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

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
            if path.ends_with(".tf") || path.ends_with(".tftest.hcl") {
                let text = String::from_utf8(file.bytes.clone()).unwrap();
                hcl::parse(&text)
                    .unwrap_or_else(|e| panic!("{name}/{path} does not parse: {e}\n{text}"));
            }
        }
    }
}

#[test]
fn terraform_fmt_accepts_every_example() {
    if common::terraform_or_skip("terraform fmt").is_none() {
        return;
    }
    for (name, spec) in examples() {
        let dir = write_temp(&build_file(&spec));
        if let Err(diff) = common::terraform_fmt_check(dir.path()) {
            panic!("{name}: terraform fmt would change the output:\n{diff}");
        }
    }
}

/// Writes every example's build under `<tmp>/<example>/` in `syntax`.
fn write_examples(syntax: fleetform::emit::Syntax) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, spec) in examples() {
        let text = std::fs::read_to_string(&spec).unwrap();
        let outcome = fleetform::validate::validate(
            &name,
            &text,
            &common::Dir(spec.parent().unwrap().to_path_buf()),
        );
        let planned = fleetform::plan_sets(&outcome).unwrap();
        let rendered = fleetform::emit::render_planned(&planned, syntax).unwrap();
        for (path, file) in &rendered.files {
            let p = dir.path().join(&name).join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, &file.bytes).unwrap();
        }
    }
    dir
}

/// Counts per example: roots, and how many passed validate and `terraform test`, per cloud.
fn summary(what: &str, out: &Path, checks: &[common::RootCheck]) -> String {
    let mut by_example: BTreeMap<String, [[usize; 3]; 2]> = BTreeMap::new();
    for c in checks {
        let rel = c.root.strip_prefix(out).unwrap();
        let example = rel.iter().next().unwrap().to_string_lossy().into_owned();
        let row = &mut by_example.entry(example).or_default()
            [usize::from(c.cloud == common::Cloud::Azure)];
        row[0] += 1;
        row[1] += usize::from(matches!(c.validate, Some(Ok(()))));
        row[2] += usize::from(matches!(c.test, Some(Ok(()))));
    }
    let mut s = format!("{what}: roots passing real validate / plan + shipped terraform test\n");
    let mut total = [[0; 3]; 2];
    for (example, rows) in &by_example {
        let _ = write!(s, "  {example:<22}");
        for (cloud, row) in ["aws", "azure"].iter().zip(rows) {
            if row[0] > 0 {
                let _ = write!(
                    s,
                    " {cloud}: {}/{} validate, {}/{} test",
                    row[1], row[0], row[2], row[0]
                );
            }
        }
        s.push('\n');
        for (t, row) in total.iter_mut().zip(rows) {
            for (a, b) in t.iter_mut().zip(row) {
                *a += b;
            }
        }
    }
    let mut slow: Vec<&common::RootCheck> = checks.iter().collect();
    slow.sort_by_key(|c| std::cmp::Reverse(c.took));
    let _ = writeln!(
        s,
        "  slowest: {}",
        slow.iter()
            .take(5)
            .map(|c| format!(
                "{} {:.0?}",
                c.root.strip_prefix(out).unwrap().display(),
                c.took
            ))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for (cloud, t) in ["AWS", "Azure"].iter().zip(total) {
        let _ = writeln!(
            s,
            "  total {cloud}: {} roots, {} validate, {} plan and pass their tests",
            t[0], t[1], t[2]
        );
    }
    s
}

/// Every root of every example (every environment, every stack: bootstrap, registry
/// shards) passes `terraform init` + `validate` with the real hashicorp/aws 5.100.0 and
/// hashicorp/azurerm 4.81.0, and its README's `terraform test`: the shipped intent tests on
/// mocked providers, plus (AWS) a plan with the real provider and fake credentials.
#[test]
fn every_root_validates_plans_and_passes_its_shipped_tests() {
    let Some(tf) = common::terraform_or_skip("terraform validate / test") else {
        return;
    };
    let started = std::time::Instant::now();
    let dir = write_examples(fleetform::emit::Syntax::Hcl);
    let (checks, failures) = common::check_all(tf, dir.path());
    common::announce(&format!(
        "{}  ({} roots in {:.0?})",
        summary("examples", dir.path(), &checks),
        checks.len(),
        started.elapsed()
    ));
    assert!(checks.len() >= 35, "only {} roots checked", checks.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
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

/// The `--format tf-json` build of every example: every root (`*.tf.json`, its tests in
/// `tests/fleetform.tftest.json`) passes real `init` + `validate`, and the JSON tests of the
/// multicloud example's two roots run (the same configuration as HCL is planned above).
#[test]
fn tf_json_roots_validate_and_their_json_tests_run() {
    let Some(tf) = common::terraform_or_skip("terraform validate (tf-json)") else {
        return;
    };
    let dir = write_examples(fleetform::emit::Syntax::Json);
    let roots: Vec<_> = common::roots(dir.path())
        .into_iter()
        .filter(|r| tf.can_check(r))
        .collect();
    for root in &roots {
        let names: Vec<String> = std::fs::read_dir(root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert!(
            names.iter().all(|n| !n.ends_with(".tf")),
            "{}: no HCL next to JSON: {names:?}",
            root.display()
        );
        assert!(
            root.join("tests/fleetform.tftest.json").is_file(),
            "{}: the tests are JSON too",
            root.display()
        );
    }
    let started = std::time::Instant::now();
    let results = common::parallel(&roots, |root| {
        let rel = root.strip_prefix(dir.path()).unwrap().display().to_string();
        let mut result = tf.validate(root);
        if result.is_ok() && rel.starts_with("multicloud/") {
            result = tf.test(root).map(|_| ());
        }
        result.map_err(|e| format!("{rel}: {e}"))
    });
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    common::announce(&format!(
        "examples, --format tf-json: {} of {} roots pass real validate (multicloud's JSON tests run too) ({:.0?})",
        roots.len() - failures.len(),
        roots.len(),
        started.elapsed()
    ));
    assert!(roots.len() >= 35, "only {} roots checked", roots.len());
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// Outputs and variables that carry key material, connection strings, SAS keys or secrets
/// are `sensitive`; the one certificate output that is not (`ca_certificate_pem`, a public
/// CA certificate the provider marks sensitive) says so with `nonsensitive()`. Terraform
/// itself refuses to plan an unmarked output of a value the provider marks sensitive, which
/// the plans above check; this catches secrets by what they are called.
#[test]
fn outputs_and_variables_with_secrets_are_sensitive() {
    const SECRET: [&str; 8] = [
        "connection_string",
        "access_key",
        "primary_key",
        "secondary_key",
        "sas",
        "secret",
        "password",
        "private_key",
    ];
    let mut problems = Vec::new();
    let mut checked = 0;
    for (name, spec) in examples() {
        for (path, file) in &build_file(&spec).files {
            if !path.ends_with(".tf") {
                continue;
            }
            let body = hcl::parse(&String::from_utf8_lossy(&file.bytes)).unwrap();
            for b in body.blocks() {
                let kind = b.identifier.as_str();
                if kind != "output" && kind != "variable" {
                    continue;
                }
                let label = b.labels[0].as_str();
                let attr = |k: &str| b.body.attributes().find(|a| a.key.as_str() == k);
                let sensitive =
                    attr("sensitive").is_some_and(|a| a.expr == hcl::Expression::Bool(true));
                let value = attr("value")
                    .map(|a| hcl::format::to_string(&a.expr).unwrap_or_default())
                    .unwrap_or_default();
                if SECRET
                    .iter()
                    .any(|s| label.contains(s) || value.contains(s))
                {
                    checked += 1;
                    if !sensitive {
                        problems.push(format!(
                            "{name}/{path}: {kind} `{label}` carries a secret and is not sensitive"
                        ));
                    }
                }
                if value.contains("nonsensitive(") && label != "ca_certificate_pem" {
                    problems.push(format!(
                        "{name}/{path}: {kind} `{label}` unmarks a sensitive value"
                    ));
                }
            }
        }
    }
    assert!(checked >= 10, "only {checked} secret-bearing outputs found");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}
