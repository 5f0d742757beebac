//! `fleetform cost` on example specs: the worked examples of the cost reference are
//! reproduced to the cent, and `--budget` and `--compare` work as CI gates.

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
