//! `fleetform diagram`: draw the dataflow a spec compiles to, for workshops and reviews.

use std::path::{Path, PathBuf};

use crate::diagnostics::{ExitStatus, Format};
use crate::diagram;
use crate::plan::Cloud;

/// Draw the architecture a spec compiles to, per cloud.
///
/// Devices, provisioning, IoT Core or the IoT hubs, every rule or route with its condition,
/// the streams with their sizes, each storage tier with its day threshold, and the alerts,
/// state store, OTA, analytics and web API the spec turns on. Mermaid renders in GitHub and
/// GitLab Markdown; DOT feeds Graphviz; SVG is drawn by fleetform itself and needs nothing
/// else to view.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform diagram fleet.yaml\n  fleetform diagram fleet.yaml --cloud azure --format svg --out azure.svg\n  fleetform diagram fleet.yaml --format dot | dot -Tpng > fleet.png\n  fleetform diagram fleet.yaml --out docs/architecture.mmd\n\nExit codes: 0 ok, 1 the spec is invalid, 2 usage or I/O error (such as a cloud the spec does not target)."
)]
pub struct Args {
    /// The spec file (`-` reads stdin).
    pub spec: PathBuf,
    /// With environment overlays: draw only this environment [default: every one, in one
    /// picture].
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
    /// Draw only this cloud [default: every cloud the spec targets, in one picture].
    #[arg(long, value_enum)]
    pub cloud: Option<Cloud>,
    /// Output format [default: from the extension of `--out` (`.mmd`, `.dot`, `.gv`,
    /// `.svg`), else mermaid].
    #[arg(long, value_enum)]
    pub format: Option<DiagramFormat>,
    /// Write the diagram to this file instead of stdout.
    #[arg(long, short)]
    pub out: Option<PathBuf>,
}

/// A diagram format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiagramFormat {
    /// Mermaid flowchart (GitHub, GitLab).
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// Self-contained SVG.
    Svg,
}

impl From<DiagramFormat> for diagram::Format {
    fn from(f: DiagramFormat) -> Self {
        match f {
            DiagramFormat::Mermaid => diagram::Format::Mermaid,
            DiagramFormat::Dot => diagram::Format::Dot,
            DiagramFormat::Svg => diagram::Format::Svg,
        }
    }
}

/// The format an output file's extension asks for.
fn format_of(path: &Path) -> Option<DiagramFormat> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "mmd" | "mermaid" => Some(DiagramFormat::Mermaid),
        "dot" | "gv" => Some(DiagramFormat::Dot),
        "svg" => Some(DiagramFormat::Svg),
        _ => None,
    }
}

/// The clouds to show: the one asked for, which the spec must target, or every targeted one.
pub(crate) fn clouds(
    model: &crate::model::Model,
    asked: Option<Cloud>,
) -> anyhow::Result<Vec<Cloud>> {
    let targeted = diagram::targeted(model);
    match asked {
        Some(cloud) if targeted.contains(&cloud) => Ok(vec![cloud]),
        Some(cloud) => {
            let names: Vec<&str> = targeted.iter().map(|c| c.dir()).collect();
            anyhow::bail!(
                "the spec does not target {}\nhint: it targets {}; pass `--cloud {}` or leave `--cloud` out",
                cloud.title(),
                names.join(" and "),
                names.first().copied().unwrap_or("aws")
            );
        }
        None => Ok(targeted),
    }
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
    let format = args
        .format
        .or_else(|| args.out.as_deref().and_then(format_of))
        .unwrap_or(DiagramFormat::Mermaid);
    // A Mermaid, DOT or SVG document holds one picture (`dot` rejects a second `digraph`, an
    // SVG file has one root), so every environment is drawn into the same one.
    let mut parts = Vec::with_capacity(models.len());
    for model in models {
        parts.push((model, clouds(model, args.cloud)?));
    }
    let text = diagram::render_environments(&parts, format.into());
    match &args.out {
        // Replaced atomically through a no-follow folder handle: a link at `path` is
        // replaced, not written through (see `safe_fs`).
        Some(path) => crate::safe_fs::replace_named(path, text.as_bytes())?,
        None => super::print_text(&text)?,
    }
    Ok(ExitStatus::Success)
}
