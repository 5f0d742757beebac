//! `fleetform schema`: print the JSON Schema of the fleet spec.

use std::io::Write;

use crate::diagnostics::ExitStatus;

/// Print the JSON Schema of the fleet spec.
///
/// The same schema is committed as `schemas/fleet.schema.json`; point your editor at it with
/// a `# yaml-language-server: $schema=...` line at the top of the spec.
#[derive(Debug, clap::Args)]
#[command(after_help = "Example:\n  fleetform schema > fleet.schema.json")]
pub struct Args {}

pub(crate) fn run(_args: &Args) -> anyhow::Result<ExitStatus> {
    std::io::stdout().write_all(crate::spec::schema::json_schema_text().as_bytes())?;
    Ok(ExitStatus::Success)
}
