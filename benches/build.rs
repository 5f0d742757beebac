//! Registry scale benchmark: `fleetform validate` and `fleetform build` on a spec with 50
//! device types and 50 groups and a CSV registry of 10,000 / 100,000 / 1,000,000 devices,
//! side by side, run as the real binary on files on disk (the way a pipeline runs it).
//!
//! Each figure is the best wall time of several runs and the peak resident memory of that
//! child process (GNU `/usr/bin/time -f %M`, i.e. the kernel's `ru_maxrss` for the child, so
//! the bench's own memory is not counted). Per-device time shows whether scaling is linear.
//! `build` also reports what it wrote (all files, and the bulk registration inputs), and the
//! rate it wrote them at next to a plain sequential write of the same number of bytes to the
//! same folder, so "bulk input written at disk speed" is a measured comparison.
//!
//! Targets (issue 18), 1M devices, release build: validate < 1 s and < 200 MB; build < 1.5 s
//! and < 250 MB. Run with `cargo bench --bench build` (`-- --sizes 10000,100000` to choose;
//! `FLEETFORM_BENCH_DIR` chooses where the spec, registry and output go; default a temp dir).

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const FLEETS: usize = 50;

fn spec(devices: usize) -> String {
    let mut s = format!(
        "version: 1\nstack: {{name: bench, environment: prod}}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {{method: manual}}\n  azure: {{location: westeurope, resource_group: rg-bench}}\nfleet:\n  devices: {devices}\n  device_types:\n"
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

fn write_registry(path: &Path, devices: usize) {
    let mut w = std::io::BufWriter::new(std::fs::File::create(path).expect("registry file"));
    w.write_all(b"id,type,groups,site,model\n").expect("write");
    for i in 0..devices {
        let f = i % FLEETS;
        writeln!(
            w,
            "dev-{i:08},type-{f:02},fleet-{f:02},site-{},m{}",
            i % 997,
            i % 7
        )
        .expect("write");
    }
    w.flush().expect("flush");
}

struct Run {
    wall: Duration,
    peak_kib: u64,
}

/// Runs `fleetform args…` in `dir` under GNU time; panics unless it exits 0.
fn run(dir: &Path, args: &[&str]) -> Run {
    let stats = dir.join("time.txt");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg("-o")
        .arg(&stats)
        .arg(env!("CARGO_BIN_EXE_fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .expect("/usr/bin/time runs (GNU time is needed for peak memory)");
    let wall = started.elapsed();
    assert!(
        out.status.success(),
        "fleetform {args:?} failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = std::fs::read_to_string(&stats).expect("time output");
    let peak_kib = text
        .lines()
        .last()
        .and_then(|l| l.trim().parse().ok())
        .expect("peak RSS in KiB");
    Run { wall, peak_kib }
}

fn best(dir: &Path, args: &[&str], runs: usize) -> Run {
    let mut all: Vec<Run> = (0..runs).map(|_| run(dir, args)).collect();
    all.sort_by_key(|r| r.wall);
    let peak_kib = all.iter().map(|r| r.peak_kib).max().unwrap_or(0);
    Run {
        wall: all[0].wall,
        peak_kib,
    }
}

/// Total bytes under `dir`, and the bytes of the bulk registration inputs among them.
fn sizes(dir: &Path) -> (u64, u64) {
    let mut total = 0;
    let mut bulk = 0;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).expect("read_dir") {
            let entry = entry.expect("entry");
            let meta = entry.metadata().expect("metadata");
            if meta.is_dir() {
                stack.push(entry.path());
            } else {
                total += meta.len();
                let name = entry.file_name();
                let name = name.to_string_lossy();
                let path = entry.path();
                let in_registry = path.components().any(|c| c.as_os_str() == "registry");
                if in_registry && (name.ends_with(".jsonl") || name.ends_with(".txt")) {
                    bulk += meta.len();
                }
            }
        }
    }
    (total, bulk)
}

/// Seconds to write `bytes` to a fresh file in `dir` in 64 KiB blocks (no fsync, as build).
fn plain_write(dir: &Path, bytes: u64) -> Duration {
    let path = dir.join("plain-write.bin");
    let block = vec![b'x'; 64 * 1024];
    let t = Instant::now();
    let mut f = std::fs::File::create(&path).expect("create");
    let mut left = bytes;
    while left > 0 {
        let n = left.min(block.len() as u64) as usize;
        f.write_all(&block[..n]).expect("write");
        left -= n as u64;
    }
    drop(f);
    let took = t.elapsed();
    std::fs::remove_file(&path).expect("remove");
    took
}

fn mib(b: u64) -> f64 {
    b as f64 / 1_048_576.0
}

#[allow(clippy::print_stdout)] // A bench binary reports on stdout.
fn main() {
    let args: Vec<String> = std::env::args().collect();
    let sizes_arg = args
        .iter()
        .position(|a| a == "--sizes")
        .and_then(|i| args.get(i + 1))
        .map_or("10000,100000,1000000", String::as_str);
    let counts: Vec<usize> = sizes_arg
        .split(',')
        .map(|s| s.parse().expect("--sizes takes numbers"))
        .collect();
    let base: PathBuf =
        std::env::var_os("FLEETFORM_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    println!(
        "{:>9} | {:>9} {:>8} {:>9} | {:>9} {:>8} {:>9} | {:>9} {:>9} | {:>10} {:>10}",
        "devices",
        "validate",
        "peak",
        "per dev",
        "build",
        "peak",
        "per dev",
        "output",
        "bulk in",
        "build MB/s",
        "plain MB/s"
    );
    for n in counts {
        let tmp = tempfile::tempdir_in(&base).expect("tempdir");
        let dir = tmp.path();
        std::fs::write(dir.join("fleet.yaml"), spec(n)).expect("spec");
        write_registry(&dir.join("devices.csv"), n);
        let runs = if n >= 1_000_000 { 3 } else { 5 };
        let v = best(dir, &["validate", "fleet.yaml"], runs);
        // Each build starts from an empty folder (a first build writes every file).
        let mut builds = Vec::new();
        for i in 0..runs {
            let out = format!("out-{i}");
            builds.push(run(dir, &["build", "fleet.yaml", "--out", &out]));
        }
        let (total, bulk) = sizes(&dir.join("out-0"));
        for i in 0..runs {
            std::fs::remove_dir_all(dir.join(format!("out-{i}"))).expect("clean");
        }
        builds.sort_by_key(|r| r.wall);
        let b_peak = builds.iter().map(|r| r.peak_kib).max().unwrap_or(0);
        let b = &builds[0];
        let plain = plain_write(dir, total);
        let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        println!(
            "{n:>9} | {:>7.0}ms {:>6.0}MB {:>7.2}us | {:>7.0}ms {:>6.0}MB {:>7.2}us | {:>7.1}MB {:>7.1}MB | {:>10.0} {:>10.0}",
            v.wall.as_secs_f64() * 1e3,
            v.peak_kib as f64 / 1024.0,
            per(v.wall),
            b.wall.as_secs_f64() * 1e3,
            b_peak as f64 / 1024.0,
            per(b.wall),
            mib(total),
            mib(bulk),
            mib(total) / b.wall.as_secs_f64(),
            mib(total) / plain.as_secs_f64(),
        );
    }
    println!(
        "(best of 5 runs, 3 at 1M; peak = max RSS of the fleetform process; MB = MiB; wall time on a shared machine)"
    );
}
