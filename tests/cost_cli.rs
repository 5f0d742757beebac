//! `fleetform cost` on example specs: the worked examples of the cost reference are
//! reproduced to the cent, `--budget` and `--compare` work as CI gates, and `--pricebook`
//! overrides move the estimate by exactly their share (or name the key they got wrong).
//!
//! Long (about 700 lines) because it covers every flag of one command through the binary
//! (the worked examples, `--budget`, `--compare`, `--pricebook`, environments, regions,
//! advice), each group of tests next to its helpers.

use std::process::Command;

use insta_cmd::get_cargo_bin;

fn fleetform(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

fn totals(spec: &str) -> (f64, f64) {
    let (code, out, err) = fleetform(&["cost", spec, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let total = |cloud: &str| {
        v["clouds"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["cloud"] == cloud)
            .unwrap()["total_usd"]
            .as_f64()
            .unwrap()
    };
    (total("aws"), total("azure"))
}

fn cents(usd: f64) -> i64 {
    (usd * 100.0).round() as i64
}

/// Worked example A (pricing.md §3–4): 10,000 devices, 288 messages a day of 1,500 B, 24
/// shadow/twin updates a day, 730 h month (30.4167 days).
///
/// AWS: connectivity 438.0M min × $0.08/M = 35.04; messaging (87.6M × 1 + 7.3M shadow) × $1/M =
/// 94.90; shadow ops 7.3M × $1.25/M = 9.125; rules 87.6M × $0.15/M = 13.14; actions 13.14;
/// Kinesis 1 shard × 730 h × $0.015 = 10.95 + PUT 87.6M × $0.014/M = 1.2264; S3 Standard
/// 120.70 GiB × $0.023 = 2.7761, Deep Archive 1,347.81 GiB × $0.00099 = 1.3343, per-object
/// overhead 0.0198, PUT 8,760 × $0.005/1k = 0.0438, transitions 8,760 × $0.05/1k = 0.4380;
/// pipeline total 182.13; Firehose reading the stream into S3: 87.6M × 5,120 B = 417.70 GiB ×
/// $0.029 = 12.11. Total $194.25.
///
/// Azure: 2.88M telemetry × 1 + 240k twin patches = 3.12M quota messages a day → S1 × 8 = 200;
/// Event Hubs 1 TU × 730 h × $0.03 = 21.90 + ingress 87.6M × $0.028/M = 2.4528; Blob Hot
/// 120.70 GiB × $0.0208 = 2.5105, Archive 1,347.81 GiB × $0.00099 = 1.3343, writes 8,760 ×
/// $0.05/10k = 0.0438, tier changes 8,760 × $0.10/10k = 0.0876; pipeline total 228.33; Capture
/// 1 TU × 730 h × $0.10 = 73.00. Total $301.33.
#[test]
fn worked_example_a_to_the_cent() {
    let (aws, azure) = totals("examples/cost-worked-a/fleet.yaml");
    assert_eq!(cents(aws), 19425, "AWS A: {aws}");
    assert_eq!(cents(azure), 30133, "Azure A: {azure}");
}

/// Worked example B: the same fleet with 8,192 B messages.
///
/// AWS: messaging (87.6M × ceil(8192/5120) = 2 + 7.3M) = 182.5M × $1/M = 182.50; rules and
/// actions 175.2M × $0.15/M = 26.28 each; connectivity 35.04 and shadow ops 9.125 unchanged;
/// Kinesis still 1 shard (0.26 MiB/s) = 12.1764; S3 Standard 659.18 GiB × $0.023 = 15.1611,
/// Deep Archive 7,360.84 GiB × $0.00099 = 7.2872, PUT + transitions + overhead 0.5016;
/// pipeline 314.35; Firehose 87.6M × 10,240 B = 835.40 GiB × $0.029 = 24.23. Total $338.58.
///
/// Azure: 2.88M × ceil(8192/4096) = 2 + 240k = 6.0M quota messages a day → S2 × 1 = 250
/// (exactly 100 % of quota); Event Hubs 24.3528; Blob Hot 659.18 GiB × $0.0208 = 13.7109,
/// Archive 7.2872, writes and tier changes 0.1314; pipeline 295.48; Capture 73.00.
/// Total $368.48.
#[test]
fn worked_example_b_to_the_cent() {
    let (aws, azure) = totals("examples/cost-worked-b/fleet.yaml");
    assert_eq!(cents(aws), 33858, "AWS B: {aws}");
    assert_eq!(cents(azure), 36848, "Azure B: {azure}");
}

#[test]
fn budget_gates_ci() {
    let (code, _, err) = fleetform(&[
        "cost",
        "examples/cost-worked-a/fleet.yaml",
        "--budget",
        "250",
    ]);
    assert_eq!(code, 1, "over budget on Azure ($301.33 > $250)");
    assert!(
        err.contains("exceeds the monthly budget of $250.00"),
        "{err}"
    );
    assert!(err.contains("Azure $301.33"), "{err}");
    let (code, _, err) = fleetform(&[
        "cost",
        "examples/cost-worked-a/fleet.yaml",
        "--budget",
        "400",
    ]);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn compare_shows_what_a_change_costs() {
    let (code, out, err) = fleetform(&[
        "cost",
        "examples/cost-worked-b/fleet.yaml",
        "--compare",
        "examples/cost-worked-a/fleet.yaml",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, 0, "{err}");
    insta::assert_snapshot!(out);
}

#[test]
fn every_example_has_an_estimate_in_its_snapshot() {
    for entry in
        std::fs::read_dir(std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples"))
            .unwrap()
    {
        let dir = entry.unwrap().path();
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        let spec = format!("examples/{name}/fleet.yaml");
        let (code, out, err) = fleetform(&["cost", &spec, "--budget", "1000000"]);
        assert_eq!(code, 0, "{name}: {err}");
        insta::assert_snapshot!(format!("cost-{name}"), out);
    }
}

// ---------------------------------------------------------------------------------------------
// `--pricebook`

/// Writes a price book override into a temp folder; the folder must outlive the command.
fn pricebook(yaml: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("prices.yaml");
    std::fs::write(&path, yaml).unwrap();
    let path = path.to_str().unwrap().to_owned();
    (dir, path)
}

fn cloud<'a>(v: &'a serde_json::Value, name: &str) -> &'a serde_json::Value {
    v["clouds"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["cloud"] == name)
        .unwrap()
}

/// Worked example A runs one provisioned Kinesis shard all month: 1 shard × 730 h =
/// 730 shard-hours. Raising `aws.kinesis_data_streams.shard_hour` from $0.015 to $0.025
/// adds 730 × $0.010 = $7.30 to AWS ($194.25 → $201.55, the shard line $10.95 → $18.25)
/// and nothing to Azure. The nested and the dotted form of the override mean the same.
#[test]
fn a_pricebook_override_moves_the_total_by_exactly_its_share() {
    let (base_aws, base_azure) = totals("examples/cost-worked-a/fleet.yaml");
    for yaml in [
        "aws:\n  kinesis_data_streams:\n    shard_hour:\n      price_usd: 0.025\n",
        "aws.kinesis_data_streams.shard_hour.price_usd: 0.025\n",
    ] {
        let (_dir, path) = pricebook(yaml);
        let (code, out, err) = fleetform(&[
            "cost",
            "examples/cost-worked-a/fleet.yaml",
            "--pricebook",
            &path,
            "--format",
            "json",
        ]);
        assert_eq!(code, 0, "{err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let aws = cloud(&v, "aws");
        let azure = cloud(&v, "azure");
        assert_eq!(
            cents(aws["total_usd"].as_f64().unwrap()) - cents(base_aws),
            730,
            "{yaml}: AWS moves by $7.30"
        );
        assert_eq!(cents(aws["total_usd"].as_f64().unwrap()), 20155, "{yaml}");
        assert_eq!(
            cents(azure["total_usd"].as_f64().unwrap()),
            cents(base_azure),
            "{yaml}: Azure does not move"
        );
        let shard = aws["lines"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["unit"] == "shard-hour")
            .expect("a shard-hour line");
        assert_eq!(cents(shard["monthly_usd"].as_f64().unwrap()), 1825);
        assert_eq!(
            cents(shard["unit_price_usd"].as_f64().unwrap() * 1000.0),
            2500
        );
    }
}

#[test]
fn a_pricebook_override_with_an_unknown_key_exits_2_and_names_the_key() {
    for (yaml, key) in [
        (
            "aws:\n  iot_core:\n    mesaging:\n      price_usd: 0.9\n",
            "aws.iot_core.mesaging",
        ),
        (
            "aws.iot_core.messaging.price_usdd: 0.9\n",
            "aws.iot_core.messaging.price_usdd",
        ),
        ("azuer:\n  iot_hub: {}\n", "azuer"),
    ] {
        let (_dir, path) = pricebook(yaml);
        let (code, out, err) = fleetform(&[
            "cost",
            "examples/cost-worked-a/fleet.yaml",
            "--pricebook",
            &path,
        ]);
        assert_eq!(code, 2, "{yaml}: {err}");
        assert!(out.is_empty(), "{yaml}: no estimate is printed: {out}");
        assert!(
            err.contains(&format!("`{key}`")) && err.contains("prices.yaml"),
            "{yaml}: the error names the file and `{key}`:\n{err}"
        );
    }
    // A unit is fixed by fleetform's metering rules; changing it is refused the same way.
    let (_dir, path) = pricebook("aws.iot_core.messaging.unit: 1K messages\n");
    let (code, _, err) = fleetform(&[
        "cost",
        "examples/cost-worked-a/fleet.yaml",
        "--pricebook",
        &path,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("`aws.iot_core.messaging.unit`"), "{err}");
}

/// `--compare` with `--format json` and a price book: one valid JSON document whose delta is
/// head minus base, line by line. Doubling the IoT Core messaging price ($1 → $2 per 1M)
/// doubles that line on both sides: A has 94.9M messages (87.6M telemetry + 7.3M shadow), B
/// 182.5M (87.6M × 2 blocks of 5 KB + 7.3M), so the messaging delta is (182.5 − 94.9) × $2 =
/// $175.20 instead of $87.60, and the AWS delta $144.33 + $87.60 = $231.93.
#[test]
fn compare_as_json_with_a_pricebook_carries_the_delta() {
    let (_dir, path) = pricebook("aws:\n  iot_core:\n    messaging:\n      price_usd: 2.0\n");
    let (code, out, err) = fleetform(&[
        "cost",
        "examples/cost-worked-b/fleet.yaml",
        "--compare",
        "examples/cost-worked-a/fleet.yaml",
        "--pricebook",
        &path,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    for name in ["aws", "azure"] {
        let c = cloud(&v, name);
        let (base, head, delta) = (
            c["base_total_usd"].as_f64().unwrap(),
            c["head_total_usd"].as_f64().unwrap(),
            c["delta_usd"].as_f64().unwrap(),
        );
        assert_eq!(
            cents(head - base),
            cents(delta),
            "{name}: delta = head - base"
        );
        let lines: f64 = c["lines"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| l["delta_usd"].as_f64().unwrap())
            .sum();
        assert_eq!(cents(lines), cents(delta), "{name}: the lines add up");
    }
    let aws = cloud(&v, "aws");
    assert_eq!(cents(aws["delta_usd"].as_f64().unwrap()), 23193);
    assert_eq!(cents(aws["base_total_usd"].as_f64().unwrap()), 28915);
    let messaging = aws["lines"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["item"] == "messaging")
        .unwrap();
    assert_eq!(cents(messaging["delta_usd"].as_f64().unwrap()), 17520);
    // Azure prices are untouched: its delta is the one without the price book ($67.15).
    assert_eq!(
        cents(cloud(&v, "azure")["delta_usd"].as_f64().unwrap()),
        6715
    );
}

// ---------------------------------------------------------------------------------------------
// The spec's budget

fn fleetform_stdin(args: &[&str], input: &str) -> (i32, String, String) {
    use std::io::Write as _;
    let mut child = Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// A spec read from stdin is read once: its `cost.monthly_budget_usd` still gates the
/// estimate (worked example A's Azure bill of $301.33 is over a $250 budget).
#[test]
fn the_budget_of_a_spec_read_from_stdin_applies() {
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cost-worked-a/fleet.yaml"),
    )
    .unwrap();
    assert!(!spec.contains("\ncost:"));
    let spec = format!("{spec}\ncost:\n  monthly_budget_usd: 250\n");
    let (code, out, err) = fleetform_stdin(&["cost", "-"], &spec);
    assert_eq!(code, 1, "over the spec's budget: {err}");
    assert!(out.contains("Monthly total"), "{out}");
    assert!(
        err.contains("exceeds the monthly budget of $250.00"),
        "{err}"
    );
    assert!(err.contains("Azure $301.33"), "{err}");
}

/// The environments example sets a budget per environment and none at the base. Each
/// environment is checked against its own: staging's Azure bill ($105.92) is over a budget of
/// $100, dev's ($105.11) is within its $150, prod within its $9,000.
#[test]
fn each_environment_is_checked_against_its_own_budget() {
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/environments/fleet.yaml"),
    )
    .unwrap();
    let (code, _, err) = fleetform(&["cost", "examples/environments/fleet.yaml"]);
    assert_eq!(code, 0, "every environment is within its budget: {err}");

    let tighter = spec.replacen("monthly_budget_usd: 200", "monthly_budget_usd: 100", 1);
    assert_ne!(tighter, spec);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fleet.yaml");
    std::fs::write(&path, tighter).unwrap();
    let (code, _, err) = fleetform(&["cost", path.to_str().unwrap()]);
    assert_eq!(code, 1, "staging is over its budget: {err}");
    assert!(
        err.contains("exceeds the monthly budget of $100.00: staging/Azure $105.92"),
        "{err}"
    );
    assert!(!err.contains("dev/") && !err.contains("prod/"), "{err}");

    // `--budget` overrides every environment's budget.
    let (code, _, err) = fleetform(&["cost", path.to_str().unwrap(), "--budget", "1000000"]);
    assert_eq!(code, 0, "{err}");
}

/// `--budget` takes a finite number of USD, zero or more; anything else is a usage error
/// (exit 2) before any estimate is printed.
#[test]
fn a_budget_that_is_not_zero_or_more_is_a_usage_error() {
    for bad in ["-1", "inf", "NaN", "lots"] {
        let (code, out, err) = fleetform(&[
            "cost",
            "examples/cost-worked-a/fleet.yaml",
            &format!("--budget={bad}"),
        ]);
        assert_eq!(code, 2, "{bad}: {err}");
        assert!(out.is_empty(), "{bad}: no estimate is printed: {out}");
        assert!(err.contains("zero or more"), "{bad}: {err}");
    }
    // Zero is a budget (nothing may be spent), not an error.
    let (code, _, err) = fleetform(&["cost", "examples/cost-worked-a/fleet.yaml", "--budget", "0"]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("exceeds the monthly budget of $0.00"), "{err}");
    let (code, out, _) = fleetform(&["cost", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("zero or more"), "{out}");
}

/// The budget message formats money like the estimate does (`$5,294.89`, not `$5294.89`),
/// and a total equal to the budget to the cent is within it (`cost::budget` compares cents).
#[test]
fn the_budget_message_formats_money_like_the_estimate() {
    let (code, _, err) = fleetform(&[
        "cost",
        "examples/environments/fleet.yaml",
        "--budget",
        "5000",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("exceeds the monthly budget of $5,000.00: prod/Azure $5,294.89"),
        "{err}"
    );
    assert!(
        !err.contains("prod/AWS"),
        "AWS ($4,743.77) is within $5,000: {err}"
    );
    let (code, _, err) = fleetform(&[
        "cost",
        "examples/cost-worked-a/fleet.yaml",
        "--budget",
        "301.33",
    ]);
    assert_eq!(code, 0, "$301.33 is not over a budget of $301.33: {err}");
}

// ---------------------------------------------------------------------------------------------
// `--compare` across environments

/// The environments example as a base spec whose `prod` environment is named `production`.
fn environments_renamed() -> (tempfile::TempDir, String, String) {
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/environments/fleet.yaml"),
    )
    .unwrap();
    let base = spec.replacen("\n  prod:\n", "\n  production:\n", 1);
    assert_ne!(base, spec);
    let dir = tempfile::tempdir().unwrap();
    let (base_path, head_path) = (dir.path().join("base.yaml"), dir.path().join("head.yaml"));
    std::fs::write(&base_path, base).unwrap();
    std::fs::write(&head_path, spec).unwrap();
    let path = |p: std::path::PathBuf| p.to_str().unwrap().to_owned();
    (dir, path(base_path), path(head_path))
}

/// An environment in one spec only is compared with nothing: every line of `prod` (head
/// only) shows as added, every line of `production` (base only) as removed, and the text says
/// so instead of leaving them out.
#[test]
fn compare_shows_environments_of_one_spec_as_added_or_removed() {
    let (_dir, base, head) = environments_renamed();
    let (code, out, err) = fleetform(&["cost", &head, "--compare", &base, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    let envs: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(envs, ["dev", "staging", "prod", "production"]);
    for (env, change, present, absent) in [
        ("prod", "added", "head_total_usd", "base_total_usd"),
        ("production", "removed", "base_total_usd", "head_total_usd"),
    ] {
        let clouds = v[env]["clouds"].as_array().unwrap();
        assert_eq!(clouds.len(), 2, "{env}");
        for c in clouds {
            assert!(c[absent].is_null(), "{env}: {c}");
            assert!(c[present].as_f64().unwrap() > 0.0, "{env}: {c}");
            let lines = c["lines"].as_array().unwrap();
            assert!(!lines.is_empty(), "{env}");
            assert!(lines.iter().all(|l| l["change"] == change), "{env}: {c}");
        }
    }
    // prod's Azure bill ($5,294.89) is added whole.
    let azure = &v["prod"]["clouds"][1];
    assert_eq!(azure["cloud"], "azure");
    assert_eq!(cents(azure["delta_usd"].as_f64().unwrap()), 529_489);

    let (code, out, err) = fleetform(&["cost", &head, "--compare", &base]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("Environment prod\n"), "{out}");
    assert!(
        out.contains("Environment `prod` is only in the head spec"),
        "{out}"
    );
    assert!(
        out.contains("Environment `production` is only in the base spec"),
        "{out}"
    );
}

/// A base spec without environments against a head spec with them: the unnamed estimate
/// shows as removed and each environment as added, as one JSON document keyed by name.
#[test]
fn compare_of_a_spec_without_environments_with_one_that_has_them() {
    let (code, out, err) = fleetform(&[
        "cost",
        "examples/environments/fleet.yaml",
        "--compare",
        "examples/cost-worked-a/fleet.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    let envs: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(envs, ["dev", "staging", "prod", "default"]);
    assert_eq!(
        cents(v["default"]["clouds"][1]["delta_usd"].as_f64().unwrap()),
        -30133
    );

    // The other way round: the document is keyed by name too, not just the unnamed estimate.
    let (code, out, err) = fleetform(&[
        "cost",
        "examples/cost-worked-a/fleet.yaml",
        "--compare",
        "examples/environments/fleet.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("one JSON document");
    let envs: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(envs, ["default", "dev", "staging", "prod"]);
}

// ---------------------------------------------------------------------------------------------
// Regions

fn assumptions(v: &serde_json::Value) -> Vec<(String, String)> {
    v["assumptions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["cloud"].as_str().unwrap_or_default().to_owned(),
                a["text"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The price book holds us-east-1 and eastus prices. The environments example deploys dev
/// and staging to us-east-2 and eastus2, so their estimates say the figures are for the
/// book's regions and how to price the spec's; prod deploys to us-east-1 and eastus and
/// needs no such note.
#[test]
fn an_estimate_for_another_region_says_whose_prices_it_uses() {
    let (code, out, err) = fleetform(&[
        "cost",
        "examples/environments/fleet.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    for env in ["dev", "staging"] {
        let notes = assumptions(&v[env]);
        for (cloud, book, spec) in [
            ("aws", "us-east-1", "us-east-2"),
            ("azure", "eastus", "eastus2"),
        ] {
            let note = notes
                .iter()
                .find(|(c, t)| c == cloud && t.contains(&format!("deploys to {spec}")))
                .unwrap_or_else(|| panic!("{env}/{cloud}: no region note in {notes:#?}"));
            assert!(
                note.1.contains(&format!("list prices for {book}")),
                "{}",
                note.1
            );
            assert!(note.1.contains("--pricebook"), "{}", note.1);
        }
    }
    let prod = assumptions(&v["prod"]);
    assert!(
        !prod.iter().any(|(_, t)| t.contains("deploys to")),
        "{prod:#?}"
    );

    // A price book for the spec's region (its `meta.regions`) silences the note.
    let (_dir, path) = pricebook("meta:\n  regions:\n    aws: us-east-2\n    azure: eastus2\n");
    let (code, out, err) = fleetform(&[
        "cost",
        "examples/environments/fleet.yaml",
        "--pricebook",
        &path,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let dev = assumptions(&v["dev"]);
    assert!(
        !dev.iter().any(|(_, t)| t.contains("deploys to")),
        "{dev:#?}"
    );
    assert!(
        assumptions(&v["prod"])
            .iter()
            .any(|(_, t)| t.contains("deploys to us-east-1")),
        "prod now differs from the book"
    );
}

// ---------------------------------------------------------------------------------------------
// Hub advice

fn advice_titles(v: &serde_json::Value) -> Vec<String> {
    v["advice"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["title"].as_str().unwrap().to_owned())
        .collect()
}

/// industrial-cranes grows 15% a year: the planner sized each hub for 6,007,140 quota
/// messages a day (S1 × 16), which S2 × 1 (6,000,000) cannot carry. No advice may suggest it.
#[test]
fn hub_advice_does_not_undercut_the_planned_fleet() {
    let (code, out, err) = fleetform(&[
        "cost",
        "examples/industrial-cranes/fleet.yaml",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let titles = advice_titles(&v);
    assert!(
        !titles.iter().any(|t| t.starts_with("Size the hub")),
        "{titles:#?}"
    );
}

/// Basic advice is reachable from a spec: worked example A without twins on a Standard hub
/// gets it; the same spec declaring cloud-to-device commands (at the default rate of zero)
/// does not, because Basic has no C2D.
#[test]
fn basic_hub_advice_from_a_spec_only_without_standard_features() {
    let spec = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/cost-worked-a/fleet.yaml"),
    )
    .unwrap();
    let no_twins = spec.replacen(
        "  state:\n    enabled: true\n    updates_per_device_per_day: 24\n    document_bytes: 1024\n",
        "",
        1,
    );
    assert_ne!(no_twins, spec);
    let commands = no_twins.replacen(
        "  peak_factor: 1\n",
        "  peak_factor: 1\n  cloud_to_device:\n    commands: true\n",
        1,
    );
    assert_ne!(commands, no_twins);
    let dir = tempfile::tempdir().unwrap();
    for (name, text, basic) in [
        ("plain.yaml", no_twins, true),
        ("c2d.yaml", commands, false),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let (code, out, err) = fleetform(&["cost", path.to_str().unwrap(), "--format", "json"]);
        assert_eq!(code, 0, "{name}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        let titles = advice_titles(&v);
        assert_eq!(
            titles.iter().any(|t| t.starts_with("Use a Basic IoT Hub")),
            basic,
            "{name}: {titles:#?}"
        );
    }
}

/// Every price-book error names the file it comes from, including a value out of range or a
/// fixed field changed; a currency other than USD gets its own hint.
#[test]
fn price_book_errors_name_the_file() {
    for (yaml, key) in [
        (
            "aws.iot_core.messaging.unit: 1K messages\n",
            "aws.iot_core.messaging.unit",
        ),
        ("aws.s3.put_requests.price_usd: -1\n", "aws.s3.put_requests"),
        ("meta.currency: EUR\n", "meta.currency"),
    ] {
        let (_dir, path) = pricebook(yaml);
        let (code, out, err) = fleetform(&[
            "cost",
            "examples/cost-worked-a/fleet.yaml",
            "--pricebook",
            &path,
        ]);
        assert_eq!(code, 2, "{yaml}: {err}");
        assert!(out.is_empty(), "{yaml}: {out}");
        assert!(
            err.contains(&path) && err.contains(&format!("`{key}")),
            "{yaml}: the error names the file and `{key}`:\n{err}"
        );
    }
    let (_dir, path) = pricebook("meta.currency: EUR\n");
    let (_, _, err) = fleetform(&[
        "cost",
        "examples/cost-worked-a/fleet.yaml",
        "--pricebook",
        &path,
    ]);
    assert!(
        err.contains("hint: prices must be in USD; convert them"),
        "{err}"
    );
    assert!(!err.contains("metering rules"), "{err}");
}

/// A hub sized in the spec shows the units it was given, not a sizing formula whose result
/// it does not equal (stacks' prod pins B1 × 2 for 360,000 messages a day).
#[test]
fn a_pinned_hub_shows_its_configured_units() {
    let (code, out, err) = fleetform(&["cost", "examples/stacks/fleet.yaml", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("B1 as configured: B1 × 2 units"), "{out}");
    assert!(!out.contains("as configured: B1 × ceil("), "{out}");
}
