//! `fleetform build`: compile a spec into Terraform root modules, one per cloud.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use crate::diagnostics::{ExitStatus, Format};
use crate::emit::Syntax;
use crate::plan::{Cloud, Mapping, Module};

/// Compile a spec into Terraform root modules, one per cloud.
///
/// Writes `<out>/aws/` and/or `<out>/azure/` (conventional files, a README per stack, and
/// the artifacts they need) plus a manifest of what fleetform owns. The write is atomic and
/// minimal: nothing changes on error, unchanged files keep their timestamps, and files you
/// added to the folder are never touched.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform build fleet.yaml --out terraform\n  fleetform build fleet.yaml --out terraform --format json\n  fleetform build fleet.yaml --out terraform-json --format tf-json"
)]
pub struct Args {
    /// The spec file (`-` reads stdin).
    pub spec: PathBuf,
    /// Output folder.
    #[arg(long, short)]
    pub out: PathBuf,
    /// Overwrite files in the output folder that fleetform did not write.
    #[arg(long)]
    pub force: bool,
    /// `human` or `json` print the summary in that format; `tf-json` writes the Terraform
    /// files in Terraform's JSON syntax (`*.tf.json`) instead of HCL.
    #[arg(long, value_enum, default_value_t = BuildFormat::Human)]
    pub format: BuildFormat,
}

/// Output formats of `build`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BuildFormat {
    /// HCL files; a summary for people.
    Human,
    /// HCL files; a JSON summary on stdout.
    Json,
    /// Terraform JSON files (`*.tf.json`); a summary for people.
    TfJson,
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let outcome = super::load_spec(&args.spec)?;
    let diag_format = if args.format == BuildFormat::Json {
        Format::Json
    } else {
        Format::Human
    };
    let Some(validated) = &outcome.validated else {
        super::report(&outcome.diagnostics, &outcome.sources, diag_format, ctx)?;
        return Ok(ExitStatus::Failure);
    };
    if diag_format == Format::Human && !outcome.diagnostics.is_empty() {
        super::report(&outcome.diagnostics, &outcome.sources, diag_format, ctx)?;
    }
    let syntax = if args.format == BuildFormat::TfJson {
        Syntax::Json
    } else {
        Syntax::Hcl
    };
    let _ = validated;
    let planned = crate::plan_sets(&outcome)?;
    let rendered = crate::emit::render_planned(&planned, syntax)?;
    let sets = &planned.sets;
    let report = super::output::write(&args.out, &rendered, args.force)?;
    let mut out = std::io::stdout();
    match args.format {
        BuildFormat::Human | BuildFormat::TfJson => {
            let mut s = String::new();
            for (env, modules) in sets {
                for m in modules {
                    let dir = if env.is_empty() {
                        args.out.join(m.dir())
                    } else {
                        args.out.join(env).join(m.dir())
                    };
                    let label = if env.is_empty() {
                        m.cloud.title().to_owned()
                    } else {
                        format!("{env}: {}", m.cloud.title())
                    };
                    let _ = writeln!(s, "{label}: {} file(s) in {}", m.files.len(), dir.display());
                }
            }
            let _ = writeln!(
                s,
                "{} created, {} updated, {} unchanged, {} removed",
                report.created.len(),
                report.updated.len(),
                report.unchanged.len(),
                report.deleted.len()
            );
            for k in &report.kept {
                let _ = writeln!(
                    s,
                    "kept {k}: fleetform no longer generates it, but it was edited"
                );
            }
            for (env, modules) in sets {
                // Main modules only: bootstrap and shard stacks have no features to compare.
                let main: Vec<Module> = modules
                    .iter()
                    .filter(|m| !m.parity.is_empty())
                    .cloned()
                    .collect();
                if main.is_empty() {
                    continue;
                }
                if !env.is_empty() {
                    let _ = write!(s, "\nenvironment {env}:");
                }
                s.push_str(&parity_table(&main));
            }
            super::print_text(&s)?;
        }
        BuildFormat::Json => {
            let summary = serde_json::json!({
                "out": args.out.display().to_string(),
                "modules": sets.iter().flat_map(|(env, modules)| modules.iter().map(move |m| serde_json::json!({
                    "environment": if env.is_empty() { None } else { Some(env) },
                    "cloud": m.cloud,
                    "files": m.files.keys().collect::<Vec<_>>(),
                    "parity": m.parity,
                }))).collect::<Vec<_>>(),
                "created": report.created,
                "updated": report.updated,
                "unchanged": report.unchanged,
                "deleted": report.deleted,
                "kept": report.kept,
                "diagnostics": crate::diagnostics::json_report(&outcome.diagnostics, &outcome.sources),
            });
            out.write_all(super::json_text(&summary)?.as_bytes())?;
        }
    }
    Ok(ExitStatus::Success)
}

/// The parity table: each requested feature, and what it became on each cloud.
pub(crate) fn parity_table(modules: &[Module]) -> String {
    if modules.is_empty() {
        return String::new();
    }
    let mut features: Vec<&str> = Vec::new();
    for m in modules {
        for row in &m.parity {
            if !features.contains(&row.feature) {
                features.push(row.feature);
            }
        }
    }
    if features.is_empty() {
        return String::new();
    }
    let cell = |m: &Module, f: &str| -> String {
        match m.parity.iter().find(|r| r.feature == f).map(|r| &r.mapping) {
            Some(Mapping::Mapped(s)) => s.clone(),
            Some(Mapping::NotMapped(s)) => format!("not mapped: {s}"),
            None => "-".to_owned(),
        }
    };
    let mut s = String::from("\nfeature parity:\n");
    let clouds: Vec<Cloud> = modules.iter().map(|m| m.cloud).collect();
    let _ = write!(s, "| feature |");
    for c in &clouds {
        let _ = write!(s, " {} |", c.title());
    }
    let _ = write!(s, "\n|---|");
    for _ in &clouds {
        s.push_str("---|");
    }
    s.push('\n');
    for f in features {
        let _ = write!(s, "| {f} |");
        for m in modules {
            let _ = write!(s, " {} |", cell(m, f));
        }
        s.push('\n');
    }
    s
}
