//! `fleetform cost`: what the fleet will cost on each cloud, and how to pay less.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cost::{self, Assumption, Estimate, PriceBook};
use crate::diagnostics::{ExitStatus, Format};

/// Estimate the monthly bill of the architecture the spec compiles to.
///
/// Prices every targeted cloud side by side from the usage the spec declares (list prices,
/// us-east-1 / East US, 730-hour month), line by line with the arithmetic behind each figure,
/// then advice with the money it saves. No cloud account is needed.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform cost fleet.yaml\n  fleetform cost fleet.yaml --format markdown > cost.md\n  fleetform cost fleet.yaml --budget 500          # exit 1 when over\n  fleetform cost fleet.yaml --compare main.yaml   # what a change costs\n  fleetform cost fleet.yaml --pricebook eu-prices.yaml"
)]
pub struct Args {
    /// The spec file (`-` reads stdin).
    pub spec: PathBuf,
    /// Output format.
    #[arg(long, value_enum, default_value_t = CostFormat::Text)]
    pub format: CostFormat,
    /// Monthly budget in USD per cloud; exit 1 when an estimate exceeds it. Defaults to the
    /// spec's `cost.monthly_budget_usd`.
    #[arg(long, value_name = "USD")]
    pub budget: Option<f64>,
    /// A price book file that overrides the embedded prices (same shape, any subset).
    #[arg(long, value_name = "FILE")]
    pub pricebook: Option<PathBuf>,
    /// Show the monthly change from this base spec (e.g. the spec on the main branch) to SPEC.
    #[arg(long, value_name = "BASE_SPEC")]
    pub compare: Option<PathBuf>,
}

/// Output formats of `cost`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum CostFormat {
    /// Tables for a terminal.
    Text,
    /// A pull-request comment.
    Markdown,
    /// A stable JSON document.
    Json,
}

/// Validates `spec` and estimates it; `Ok(None)` after reporting an invalid spec.
pub(crate) fn estimate_spec(
    path: &Path,
    book: &PriceBook,
    format: CostFormat,
    ctx: &super::Ctx,
) -> anyhow::Result<Option<Estimate>> {
    let outcome = super::load_spec(path)?;
    let Some(v) = &outcome.validated else {
        let f = if format == CostFormat::Json {
            Format::Json
        } else {
            Format::Human
        };
        super::report(&outcome.diagnostics, &outcome.sources, f, ctx)?;
        return Ok(None);
    };
    let workload = cost::from_model::workload(&v.model);
    let mut estimate = cost::estimate(&workload, book)
        .with_context(|| format!("cannot estimate `{}`", path.display()))?;
    estimate
        .assumptions
        .extend(cost::from_model::ASSUMPTIONS.iter().map(|a| Assumption {
            cloud: None,
            text: (*a).to_owned(),
        }));
    Ok(Some(estimate))
}

/// Loads the price book: the embedded one, with the user's overrides when given.
pub(crate) fn price_book(path: Option<&Path>) -> anyhow::Result<PriceBook> {
    Ok(match path {
        Some(p) => {
            let text = fs_err::read_to_string(p)?;
            PriceBook::with_overrides(&text, &p.display().to_string())?
        }
        None => PriceBook::embedded()?,
    })
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let book = price_book(args.pricebook.as_deref())?;
    let Some(head) = estimate_spec(&args.spec, &book, args.format, ctx)? else {
        return Ok(ExitStatus::Failure);
    };
    let mut out = std::io::stdout();
    if let Some(base_path) = &args.compare {
        let Some(base) = estimate_spec(base_path, &book, args.format, ctx)? else {
            return Ok(ExitStatus::Failure);
        };
        let delta = cost::compare(&base, &head);
        let text = match args.format {
            CostFormat::Text => cost::compare::text(&delta),
            CostFormat::Markdown => cost::compare::markdown(&delta),
            CostFormat::Json => cost::compare::json(&delta)? + "\n",
        };
        out.write_all(text.as_bytes())?;
    } else {
        let text = match args.format {
            CostFormat::Text => cost::render::text(&head),
            CostFormat::Markdown => cost::render::markdown(&head),
            CostFormat::Json => cost::render::json(&head)? + "\n",
        };
        out.write_all(text.as_bytes())?;
    }
    let budget = match args.budget {
        Some(b) => Some(b),
        None => super::load_spec(&args.spec)?
            .validated
            .and_then(|v| v.model.cost.monthly_budget_usd),
    };
    if let Some(budget) = budget {
        if !budget.is_finite() || budget < 0.0 {
            anyhow::bail!("the budget must be a positive number of USD, got {budget}");
        }
        if cost::exceeds(&head, budget) {
            let over: Vec<String> = head
                .clouds
                .iter()
                .filter(|c| c.total_usd > budget)
                .map(|c| format!("{:?} ${:.2}", c.cloud, c.total_usd))
                .collect();
            writeln!(
                std::io::stderr(),
                "error: the estimate exceeds the monthly budget of ${budget:.2}: {}",
                over.join(", ")
            )?;
            return Ok(ExitStatus::Failure);
        }
    }
    Ok(ExitStatus::Success)
}
