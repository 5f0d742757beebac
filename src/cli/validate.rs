//! `fleetform validate`: check a spec and report every problem at once.

use std::io::Write;
use std::path::PathBuf;

use crate::diagnostics::{ExitStatus, Format};

/// Check a spec and report every problem at once.
///
/// Runs the YAML parser, the JSON-Schema check and the semantic checks (cloud features,
/// provisioning fit, resource names, lifecycle order, service limits). Human output goes to
/// stderr with source snippets; `--format json` prints a stable report to stdout.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform validate fleet.yaml\n  fleetform validate fleet.yaml --format json | jq '.diagnostics[].message'\n  cat fleet.yaml | fleetform validate -"
)]
pub struct Args {
    /// The spec file (`-` reads stdin).
    pub spec: PathBuf,
    /// Output format of diagnostics.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    pub format: Format,
    /// Treat warnings as errors (exit 1 when there are any).
    #[arg(long)]
    pub deny_warnings: bool,
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let outcome = super::load_spec(&args.spec)?;
    super::report(&outcome.diagnostics, &outcome.sources, args.format, ctx)?;
    let failed =
        outcome.validated.is_none() || (args.deny_warnings && !outcome.diagnostics.is_empty());
    if failed {
        return Ok(ExitStatus::Failure);
    }
    if args.format == Format::Human
        && let Some(v) = &outcome.validated
    {
        // With environments, each one is what `build` writes: its own size, clouds and name.
        let summary = |m: &crate::model::Model| {
            let clouds: Vec<&str> = crate::clouds::targeted(m)
                .into_iter()
                .map(crate::clouds::Cloud::title)
                .collect();
            format!(
                "stack `{}`, {} device(s), {}",
                m.stack.prefix,
                m.fleet.devices,
                clouds.join(" and ")
            )
        };
        let mut stdout = std::io::stdout();
        if outcome.environments.is_empty() {
            writeln!(
                stdout,
                "{} is valid: {}",
                args.spec.display(),
                summary(&v.model)
            )?;
        } else {
            writeln!(
                stdout,
                "{} is valid: {} environment(s)",
                args.spec.display(),
                outcome.environments.len()
            )?;
            for (name, env) in &outcome.environments {
                writeln!(stdout, "  {name}: {}", summary(&env.model))?;
            }
        }
    }
    Ok(ExitStatus::Success)
}
