//! `fleetform explain`: tell what a spec will build and why, for workshops and reviews.

use std::path::PathBuf;

use crate::diagnostics::{ExitStatus, Format};
use crate::plan::Cloud;

/// Explain in plain language what a spec will build, and why.
///
/// Per cloud: the fleet and its traffic, how devices get identities and are provisioned,
/// what each device may do, where messages go (each route's condition in words and in the
/// cloud's dialect), how the stream is sized (with the arithmetic), how long data stays in
/// each storage tier, alerts, optional features, and what to do before and after
/// `terraform apply`. The output is Markdown that reads well in a terminal.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform explain fleet.yaml\n  fleetform explain fleet.yaml --cloud azure\n  fleetform explain fleet.yaml > docs/architecture.md\n\nExit codes: 0 ok, 1 the spec is invalid, 2 usage or I/O error (such as a cloud the spec does not target)."
)]
pub struct Args {
    /// The spec file (`-` reads stdin).
    pub spec: PathBuf,
    /// With environment overlays: only this environment [default: every one].
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Explain only this cloud [default: every cloud the spec targets].
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let outcome = super::load_spec(&args.spec)?;
    let Some(validated) = &outcome.validated else {
        super::report(&outcome.diagnostics, &outcome.sources, Format::Human, ctx)?;
        return Ok(ExitStatus::Failure);
    };
    if !outcome.diagnostics.is_empty() {
        super::report(&outcome.diagnostics, &outcome.sources, Format::Human, ctx)?;
    }
    let models = super::pick_models(&outcome, &validated.model, args.environment.as_deref())?;
    let mut text = String::new();
    for (i, model) in models.iter().enumerate() {
        if i > 0 {
            text.push_str("\n---\n\n");
        }
        let clouds = super::diagram::clouds(model, args.cloud)?;
        text.push_str(&crate::explain::render(model, &clouds)?);
    }
    super::print_text(&text)?;
    Ok(ExitStatus::Success)
}
