//! `fleetform simulate`: read the spec, the kit's certificates and the root's outputs, run
//! the simulated devices, and report through the one diagnostics renderer.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use crate::certs::{DeviceId, layout};
use crate::diagnostics::{self, Diagnostic, Diagnostics, ExitStatus, Format, Sources};
use crate::plan::Cloud;
use crate::simulate::{self, Flags, Identity, Outputs, Run, net};

/// Largest certificate, key or outputs file read (a chain is a few KiB).
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Connect simulated devices over MQTT/TLS and publish the spec's telemetry.
///
/// Each device connects with its bundle from `fleetform certs device` (`<devices>/<id>/
/// chain.pem` and `device.key`), runs the device side of the spec's provisioning (AWS JITP/JITR
/// reconnect, fleet provisioning by claim, Azure DPS) and publishes messages on the spec's
/// telemetry topic with the fields its routes and alerts read. The same `--seed` sends the same
/// bytes. The endpoint comes from `--endpoint`, or from the root's `terraform output -json`:
/// AWS `iot_data_endpoint` (and `provisioning_template_name`), Azure `dps_global_endpoint`
/// and `dps_id_scope` (with DPS) or `primary_iot_hub_hostname`.
#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:\n  \
fleetform simulate fleet.yaml --root terraform/aws --count 5 --messages 20 --rate 2\n  \
fleetform simulate fleet.yaml --endpoint localhost:8883 --server-ca broker-ca.pem --device sensor-0001 --trip overheat\n  \
fleetform simulate fleet.yaml --dry-run --device sensor-0001 --messages 3 --seed 7\n\n\
Exit codes: 0 every device published, 1 a device failed (connection, TLS, provisioning), 2 usage or I/O error.")]
pub struct Args {
    /// The spec file.
    pub spec: PathBuf,
    /// With environment overlays: the environment to simulate.
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// The cloud to simulate [default: the spec's only cloud].
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
    /// MQTT endpoint, HOST or HOST:PORT: AWS IoT data endpoint, Azure DPS (with DPS) or IoT Hub.
    #[arg(long, value_name = "HOST[:PORT]")]
    pub endpoint: Option<String>,
    /// Port when `--endpoint` has none; 443 on AWS uses ALPN `x-amzn-mqtt-ca`.
    #[arg(long, default_value_t = 8883)]
    pub port: u16,
    /// A deployed root module: its `terraform output -json` gives the endpoint.
    #[arg(long, value_name = "DIR", conflicts_with = "outputs")]
    pub root: Option<PathBuf>,
    /// The saved JSON of `terraform output -json`.
    #[arg(long, value_name = "FILE")]
    pub outputs: Option<PathBuf>,
    /// AWS fleet provisioning template [default: the `provisioning_template_name` output].
    #[arg(long, value_name = "NAME")]
    pub template: Option<String>,
    /// Azure DPS ID scope [default: the `dps_id_scope` output].
    #[arg(long, value_name = "SCOPE")]
    pub id_scope: Option<String>,
    /// Folder of device bundles, as `fleetform certs device --out` writes them.
    #[arg(long, value_name = "DIR", default_value = "devices")]
    pub devices: PathBuf,
    /// Device to simulate (repeatable); with fleet provisioning, the serial number it claims.
    #[arg(long = "device", value_name = "ID")]
    pub device: Vec<String>,
    /// Without `--device`: this many devices, the bundles in `--devices` in name order
    /// (fleet provisioning: the registry's first ids).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: usize,
    /// AWS fleet provisioning: the claim bundle (`claims/<name>/` from `fleetform certs claim`).
    #[arg(long, value_name = "DIR")]
    pub claim: Option<PathBuf>,
    /// CA certificates (PEM) to check the server with [default: the system's roots].
    #[arg(long, value_name = "FILE")]
    pub server_ca: Option<PathBuf>,
    /// Messages per device [default: 1, or unlimited with `--duration`].
    #[arg(long, value_name = "N")]
    pub messages: Option<u64>,
    /// Stop after this many seconds.
    #[arg(long, value_name = "SECONDS")]
    pub duration: Option<f64>,
    /// Messages per device per second [default: the spec's `messages_per_device_per_hour`].
    #[arg(long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// Seed of the message values: the same seed sends the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Send values that trip this alert of the spec (repeatable).
    #[arg(long, value_name = "ALERT")]
    pub trip: Vec<String>,
    /// With `--trip`: every N-th message of each device trips (1: every message).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub trip_every: u64,
    /// Seconds to wait for a connection or a reply.
    #[arg(long, value_name = "SECONDS", default_value_t = 30)]
    pub timeout: u64,
    /// Print the messages (JSON lines) instead of connecting.
    #[arg(long)]
    pub dry_run: bool,
    /// Report format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let outcome = super::load_spec(&args.spec)?;
    let Some(validated) = &outcome.validated else {
        super::report(&outcome.diagnostics, &outcome.sources, args.format, ctx)?;
        return Ok(ExitStatus::Failure);
    };
    let models = super::pick_models(&outcome, &validated.model, args.environment.as_deref())?;
    let [model] = models.as_slice() else {
        anyhow::bail!(
            "the spec has several environments\nhint: pick one with `--environment NAME`"
        );
    };
    let clouds = super::diagram::clouds(model, args.cloud)?;
    let cloud = match clouds.as_slice() {
        [c] => *c,
        _ => anyhow::bail!(
            "the spec targets AWS and Azure\nhint: pick one with `--cloud aws` or `--cloud azure`"
        ),
    };
    let interval = interval(args, model.messaging.messages_per_device_per_hour)?;
    let run = Run {
        messages: args.messages.or(if args.duration.is_some() {
            None
        } else {
            Some(1)
        }),
        duration: args.duration.map(Duration::from_secs_f64),
        interval,
        seed: args.seed,
        trip: args.trip.clone(),
        trip_every: args.trip_every.max(1),
        timeout: Duration::from_secs(args.timeout.max(1)),
    };
    // The cloud's exchange issues the certificates (AWS fleet provisioning): devices start
    // without a bundle, and their ids come from the registry.
    let fleet_provisioning = cloud.device_side().issues_certificates(model);
    let ids = device_ids(args, model, fleet_provisioning)?;

    if args.dry_run {
        let shape = simulate::shape(model);
        shape
            .check(&run.trip)
            .map_err(|e| anyhow::anyhow!("{e}\nhint: check the spec's `pipeline.alerts`"))?;
        let mut out = String::new();
        for id in &ids {
            let topic = simulate::topic_for(model, cloud, id);
            let mut rng =
                simulate::payload::SplitMix64::new(simulate::payload::device_seed(run.seed, id));
            for seq in 0..run.messages.unwrap_or(1) {
                let m = shape.message(&mut rng, id, seq, run.trips_at(seq))?;
                let line = serde_json::json!({ "device": id, "topic": topic, "payload": m });
                out.push_str(&line.to_string());
                out.push('\n');
            }
        }
        std::io::stdout().write_all(out.as_bytes())?;
        return Ok(ExitStatus::Success);
    }

    let outputs = match (&args.root, &args.outputs) {
        (Some(root), _) => terraform_outputs(root)?,
        (None, Some(file)) => {
            let text = read_text(file)?;
            Outputs::from_json(&text).map_err(|e| {
                anyhow::anyhow!(
                    "`{}` is not the JSON of `terraform output -json`: {e}",
                    file.display()
                )
            })?
        }
        (None, None) => Outputs::default(),
    };
    let flags = Flags {
        endpoint: args.endpoint.clone(),
        port: args.port,
        template: args.template.clone(),
        id_scope: args.id_scope.clone(),
    };
    let claim = match &args.claim {
        Some(dir) => Some(identity(&dir.join("claim.pem"), &dir.join("claim.key"))?),
        None => None,
    };
    let mut devices = Vec::new();
    for id in ids {
        let identity = if fleet_provisioning {
            None
        } else {
            let dir = args.devices.join(&id);
            Some(identity(
                &dir.join(layout::DEVICE_CHAIN),
                &dir.join(layout::DEVICE_KEY),
            )?)
        };
        devices.push((id, identity));
    }
    let server_ca = match &args.server_ca {
        Some(f) => Some((f.display().to_string(), read_bytes(f)?.to_vec())),
        None => None,
    };
    let plan = simulate::plan(
        model, cloud, &outputs, &flags, claim, devices, server_ca, run,
    )
    .map_err(|e| anyhow::anyhow!("{}\nhint: {}", e.message, e.hint))?;
    let endpoint = plan.endpoint.to_string();
    let quiet = args.format == Format::Json;
    let log: net::Log = Arc::new(move |line: String| {
        if !quiet {
            let _ = writeln!(std::io::stderr(), "{line}");
        }
    });
    let reports = net::run(plan, &log);

    let mut diags = Diagnostics::new();
    for r in &reports {
        if let Some(f) = &r.failure {
            let mut d = Diagnostic::error(f.code, format!("device `{}`: {}", r.id, f.message));
            for h in &f.hints {
                d = d.hint(h.clone());
            }
            diags.push(d);
        }
    }
    let failed = diags.error_count();
    match args.format {
        Format::Json => {
            let doc = serde_json::json!({
                "format_version": 1,
                "endpoint": endpoint,
                "devices": reports,
                "failed": failed,
            });
            let mut text = serde_json::to_string_pretty(&doc)?;
            text.push('\n');
            std::io::stdout().write_all(text.as_bytes())?;
        }
        Format::Human => {
            if failed > 0 {
                let text =
                    diagnostics::render(&diags, &Sources::default(), Format::Human, ctx.color);
                std::io::stderr().write_all(text.as_bytes())?;
            }
            std::io::stdout().write_all(summary(&endpoint, &reports).as_bytes())?;
        }
    }
    Ok(if failed > 0 {
        ExitStatus::Failure
    } else {
        ExitStatus::Success
    })
}

fn summary(endpoint: &str, reports: &[net::DeviceReport]) -> String {
    let published: u64 = reports.iter().map(|r| r.published).sum();
    let failed = reports.iter().filter(|r| r.failure.is_some()).count();
    let mut tripped = std::collections::BTreeMap::<&str, u64>::new();
    for r in reports {
        for (a, n) in &r.tripped {
            *tripped.entry(a.as_str()).or_default() += n;
        }
    }
    let plural = |n: usize, w: &str| format!("{n} {w}{}", if n == 1 { "" } else { "s" });
    let mut s = format!(
        "simulated {} against {endpoint}: {} published",
        plural(reports.len(), "device"),
        plural(published as usize, "message"),
    );
    for (a, n) in tripped {
        let _ = write!(s, ", {n} tripping `{a}`");
    }
    if failed > 0 {
        let _ = write!(s, ", {failed} failed");
    }
    s.push('\n');
    s
}

fn interval(args: &Args, spec_per_hour: f64) -> anyhow::Result<Duration> {
    let per_second = args.rate.unwrap_or(spec_per_hour / 3600.0);
    if !(per_second.is_finite() && per_second > 0.0) {
        anyhow::bail!(
            "`--rate {per_second}`: the rate must be a positive number of messages per second"
        );
    }
    if args.duration.is_some_and(|d| !(d.is_finite() && d > 0.0)) {
        anyhow::bail!("`--duration` must be a positive number of seconds");
    }
    Ok(Duration::from_secs_f64((1.0 / per_second).min(86_400.0)))
}

/// The ids to simulate: `--device`, else the first `--count` bundles (or, for fleet
/// provisioning, registry ids).
fn device_ids(
    args: &Args,
    model: &crate::model::Model,
    fleet_provisioning: bool,
) -> anyhow::Result<Vec<String>> {
    let check = |raw: &str| -> anyhow::Result<String> {
        DeviceId::parse(raw, "--device")
            .map(|id| id.as_str().to_owned())
            .map_err(|e| anyhow::anyhow!("{e}"))
    };
    if !args.device.is_empty() {
        return args.device.iter().map(|d| check(d)).collect();
    }
    if args.dry_run || fleet_provisioning {
        let ids: Vec<String> = model
            .fleet
            .registry
            .iter()
            .take(args.count)
            .map(|d| d.id().to_owned())
            .collect();
        if ids.is_empty() {
            anyhow::bail!(
                "the spec has no device registry to take ids from\nhint: name the devices with `--device ID`"
            );
        }
        return Ok(ids);
    }
    let dir = &args.devices;
    let entries = std::fs::read_dir(dir).map_err(|e| {
        anyhow::anyhow!(
            "cannot list device bundles in `{}`: {e}\nhint: make them with `fleetform certs device --id ID --out {}`, or name devices with `--device ID`",
            dir.display(),
            dir.display()
        )
    })?;
    let mut ids = Vec::new();
    for entry in entries {
        let entry = entry?;
        if entry.path().join(layout::DEVICE_CHAIN).is_file()
            && let Some(name) = entry.file_name().to_str()
            && let Ok(id) = check(name)
        {
            ids.push(id);
        }
    }
    ids.sort();
    ids.truncate(args.count);
    if ids.is_empty() {
        anyhow::bail!(
            "`{}` holds no device bundle (a folder with {})\nhint: make them with `fleetform certs device --id ID --out {}`",
            dir.display(),
            layout::DEVICE_CHAIN,
            dir.display()
        );
    }
    Ok(ids)
}

fn identity(chain: &Path, key: &Path) -> anyhow::Result<Identity> {
    Ok(Identity {
        chain_pem: read_bytes(chain)?.to_vec(),
        key_pem: read_bytes(key)?,
        chain_file: chain.display().to_string(),
        key_file: key.display().to_string(),
    })
}

fn read_bytes(path: &Path) -> anyhow::Result<zeroize::Zeroizing<Vec<u8>>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot read `{}`: {e}\nhint: `fleetform certs device` writes <devices>/<id>/chain.pem and device.key; `certs claim` writes claims/<name>/claim.pem and claim.key",
            path.display()
        )
    })?;
    if !meta.is_file() || meta.len() > MAX_FILE_BYTES {
        anyhow::bail!(
            "`{}` is not a regular file of at most 1 MiB",
            path.display()
        );
    }
    let bytes = std::fs::read(path)
        .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
    Ok(zeroize::Zeroizing::new(bytes))
}

fn read_text(path: &Path) -> anyhow::Result<String> {
    String::from_utf8(read_bytes(path)?.to_vec())
        .map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text", path.display()))
}

/// `terraform -chdir=ROOT output -json`.
fn terraform_outputs(root: &Path) -> anyhow::Result<Outputs> {
    let out = std::process::Command::new("terraform")
        .arg(format!("-chdir={}", root.display()))
        .args(["output", "-json"])
        .output()
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot run `terraform output -json` in `{}`: {e}\nhint: install Terraform, or save the outputs elsewhere and pass `--outputs FILE`",
                root.display()
            )
        })?;
    if !out.status.success() {
        anyhow::bail!(
            "`terraform output -json` failed in `{}`: {}\nhint: run it after `terraform apply` in that root",
            root.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Outputs::from_json(&String::from_utf8_lossy(&out.stdout))
        .map_err(|e| anyhow::anyhow!("`terraform output -json` printed something unexpected: {e}"))
}
