//! Build benchmark: a large synthetic spec (50 device types and 50 groups, with 10,000 /
//! 100,000 / 1,000,000 pre-registered devices in a CSV registry), validated, planned and
//! rendered in memory, as `fleetform build` does before writing.
//!
//! Reports wall time (best of several runs) and the peak resident memory of a process that
//! builds one size only (each size runs in a child process, so peaks do not mix).
//! Run with `cargo bench --bench build`; `-- --size 100000` runs one size in-process.

use std::fmt::Write as _;
use std::process::Command;
use std::time::{Duration, Instant};

use fleetform::validate::{Files, validate};

const FLEETS: usize = 50;

struct Registry(String);

impl Files for Registry {
    fn read(&self, _: &str) -> Result<String, String> {
        Ok(self.0.clone())
    }
}

fn spec() -> String {
    let mut s = String::from(
        "version: 1\nstack: {name: bench, environment: prod}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {method: manual}\n  azure: {location: westeurope, resource_group: rg-bench}\nfleet:\n  devices: 1000000\n  device_types:\n",
    );
    for i in 0..FLEETS {
        let _ = writeln!(
            s,
            "    - {{name: type-{i:02}, searchable_attributes: [site, model]}}"
        );
    }
    s.push_str("  groups:\n");
    for i in 0..FLEETS {
        let _ = writeln!(s, "    - {{name: fleet-{i:02}}}");
    }
    s.push_str("  registry: {file: devices.csv}\nmessaging: {messages_per_device_per_hour: 12, message_bytes: 800}\n");
    s
}

fn registry(devices: usize) -> String {
    let mut csv = String::with_capacity(devices * 48);
    csv.push_str("id,type,groups,site,model\n");
    for i in 0..devices {
        let f = i % FLEETS;
        let _ = writeln!(
            csv,
            "dev-{i:08},type-{f:02},fleet-{f:02},site-{},m{}",
            i % 997,
            i % 7
        );
    }
    csv
}

fn build_once(spec: &str, files: &Registry) -> usize {
    let outcome = validate("bench.yaml", spec, files);
    let planned = fleetform::plan_sets(&outcome).expect("plans");
    assert!(outcome.validated.is_some(), "the bench spec is valid");
    let rendered =
        fleetform::emit::render_planned(&planned, fleetform::emit::Syntax::Hcl).expect("renders");
    rendered.files.values().map(|f| f.bytes.len()).sum()
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .map(str::to_owned)
        })
        .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        .unwrap_or(0)
}

#[allow(clippy::print_stdout)] // A bench binary reports on stdout.
fn run_size(devices: usize) {
    let spec = spec();
    let files = Registry(registry(devices));
    let baseline = peak_rss_kib();
    let runs = if devices >= 1_000_000 { 3 } else { 5 };
    let mut best = Duration::MAX;
    let mut bytes = 0;
    for _ in 0..runs {
        let t = Instant::now();
        bytes = std::hint::black_box(build_once(&spec, &files));
        best = best.min(t.elapsed());
    }
    let peak = peak_rss_kib();
    println!(
        "devices={devices:>9}  build={:>8.1} ms  output={:>6.1} MiB  peak_rss={:>7.1} MiB (input text {:.1} MiB; before build {:.1} MiB)",
        best.as_secs_f64() * 1000.0,
        bytes as f64 / 1_048_576.0,
        peak as f64 / 1024.0,
        files.0.len() as f64 / 1_048_576.0,
        baseline as f64 / 1024.0,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--size") {
        let n = args
            .get(i + 1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(100_000);
        run_size(n);
        return;
    }
    // `cargo bench` passes `--bench`; run each size in a fresh process for a clean peak.
    let exe = std::env::current_exe().expect("current exe");
    for n in [10_000usize, 100_000, 1_000_000] {
        let status = Command::new(&exe)
            .args(["--size", &n.to_string()])
            .status()
            .expect("child runs");
        assert!(status.success());
    }
}
