//! `fleetform cost`: what the fleet will cost on each cloud, and how to pay less.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;

use crate::cost::{self, Estimate, PriceBook};
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
    /// Monthly budget in USD per cloud, zero or more; exit 1 when an estimate exceeds it.
    /// Defaults to the spec's (or each environment's) `cost.monthly_budget_usd`.
    #[arg(long, value_name = "USD", value_parser = parse_budget)]
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

/// One environment's estimate, with the budget its spec sets.
pub(crate) struct EnvEstimate {
    /// The environment's name; empty for a spec without overlays.
    pub env: String,
    pub estimate: Estimate,
    /// The environment's `cost.monthly_budget_usd`.
    pub budget_usd: Option<f64>,
}

/// Validates `spec` and estimates every environment; `Ok(None)` after reporting an invalid
/// spec.
pub(crate) fn estimate_spec(
    path: &Path,
    book: &PriceBook,
    format: CostFormat,
    ctx: &super::Ctx,
) -> anyhow::Result<Option<Vec<EnvEstimate>>> {
    let outcome = super::load_spec(path)?;
    if outcome.validated.is_none() {
        let f = if format == CostFormat::Json {
            Format::Json
        } else {
            Format::Human
        };
        super::report(&outcome.diagnostics, &outcome.sources, f, ctx)?;
        return Ok(None);
    }
    estimates(&outcome, book)
        .with_context(|| format!("cannot estimate `{}`", path.display()))
        .map(Some)
}

/// The estimate of every environment of a validated spec (one unnamed estimate without
/// overlays), each with its own budget.
pub(crate) fn estimates(
    outcome: &crate::validate::Outcome,
    book: &PriceBook,
) -> anyhow::Result<Vec<EnvEstimate>> {
    let models: Vec<(String, &crate::model::Model)> = if outcome.environments.is_empty() {
        outcome
            .validated
            .iter()
            .map(|v| (String::new(), &v.model))
            .collect()
    } else {
        outcome
            .environments
            .iter()
            .map(|(n, v)| (n.clone(), &v.model))
            .collect()
    };
    models
        .into_iter()
        .map(|(env, model)| {
            // Each targeted cloud's bill, from its planner's design: the estimate prices
            // what the plan builds.
            let estimate = cost::from_model::estimate(model, book)?;
            Ok(EnvEstimate {
                env,
                estimate,
                budget_usd: model.cost.monthly_budget_usd,
            })
        })
        .collect()
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

/// The spec an environment is missing from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OnlyIn {
    Base,
    Head,
}

/// One environment's cost change from the base spec to the head spec.
pub(crate) struct EnvDelta {
    /// The environment's name; empty for a spec without overlays.
    pub env: String,
    pub delta: cost::Delta,
    /// Set when only one spec has the environment: it is compared with an empty estimate, so
    /// every line shows as added (or removed).
    pub only_in: Option<OnlyIn>,
}

impl EnvDelta {
    /// The note as a text line or a markdown paragraph; empty without a note.
    pub(crate) fn note_block(&self, markdown: bool) -> String {
        match (self.note(), markdown) {
            (None, _) => String::new(),
            (Some(note), false) => format!("Note: {note}\n"),
            (Some(note), true) => format!("_{note}_\n\n"),
        }
    }

    /// Why every line is added or removed, for an environment of one spec only.
    pub(crate) fn note(&self) -> Option<String> {
        let (side, change) = match self.only_in? {
            OnlyIn::Base => ("base", "removed"),
            OnlyIn::Head => ("head", "added"),
        };
        Some(if self.env.is_empty() {
            let other = match self.only_in? {
                OnlyIn::Base => "head",
                OnlyIn::Head => "base",
            };
            format!(
                "The {side} spec has no environments (the {other} spec has), so its whole \
                 estimate shows as {change}."
            )
        } else {
            format!(
                "Environment `{}` is only in the {side} spec, so its whole estimate shows as {change}.",
                self.env
            )
        })
    }
}

/// Pairs the environments of two specs by name: head order first, then environments only the
/// base has. An environment of one spec only is compared with an empty estimate rather than
/// left out.
pub(crate) fn env_deltas(bases: &[EnvEstimate], heads: &[EnvEstimate]) -> Vec<EnvDelta> {
    let nothing = |like: &Estimate| Estimate {
        clouds: Vec::new(),
        advice: Vec::new(),
        conventions: like.conventions.clone(),
        assumptions: Vec::new(),
    };
    let mut out: Vec<EnvDelta> = heads
        .iter()
        .map(|head| match bases.iter().find(|b| b.env == head.env) {
            Some(base) => EnvDelta {
                env: head.env.clone(),
                delta: cost::compare(&base.estimate, &head.estimate),
                only_in: None,
            },
            None => EnvDelta {
                env: head.env.clone(),
                delta: cost::compare(&nothing(&head.estimate), &head.estimate),
                only_in: Some(OnlyIn::Head),
            },
        })
        .collect();
    out.extend(
        bases
            .iter()
            .filter(|base| !heads.iter().any(|h| h.env == base.env))
            .map(|base| EnvDelta {
                env: base.env.clone(),
                delta: cost::compare(&base.estimate, &nothing(&base.estimate)),
                only_in: Some(OnlyIn::Base),
            }),
    );
    out
}

fn heading(env: &str, format: CostFormat) -> String {
    match (env.is_empty(), format) {
        (true, _) | (false, CostFormat::Json) => String::new(),
        (false, CostFormat::Markdown) => format!("## Environment `{env}`\n\n"),
        (false, CostFormat::Text) => format!("Environment {env}\n"),
    }
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let book = price_book(args.pricebook.as_deref())?;
    let Some(heads) = estimate_spec(&args.spec, &book, args.format, ctx)? else {
        return Ok(ExitStatus::Failure);
    };
    let mut text = String::new();
    let mut json = serde_json::Map::new();
    if let Some(base_path) = &args.compare {
        let Some(bases) = estimate_spec(base_path, &book, args.format, ctx)? else {
            return Ok(ExitStatus::Failure);
        };
        for d in env_deltas(&bases, &heads) {
            text.push_str(&heading(&d.env, args.format));
            match args.format {
                CostFormat::Text => {
                    text.push_str(&d.note_block(false));
                    text.push_str(&cost::compare::text(&d.delta));
                }
                CostFormat::Markdown => {
                    text.push_str(&d.note_block(true));
                    text.push_str(&cost::compare::markdown(&d.delta));
                }
                CostFormat::Json => {
                    json.insert(env_key(&d.env), serde_json::to_value(&d.delta)?);
                }
            }
        }
    } else {
        for EnvEstimate {
            env,
            estimate: head,
            ..
        } in &heads
        {
            text.push_str(&heading(env, args.format));
            match args.format {
                CostFormat::Text => text.push_str(&cost::render::text(head)),
                CostFormat::Markdown => text.push_str(&cost::render::markdown(head)),
                CostFormat::Json => {
                    json.insert(env_key(env), serde_json::to_value(head)?);
                }
            }
        }
    }
    if args.format == CostFormat::Json {
        // Without overlays, the document is the estimate (or delta) itself; with them, one per
        // environment.
        let value = match json.get("default") {
            Some(single) if json.len() == 1 => single.clone(),
            _ => serde_json::Value::Object(json),
        };
        text = super::json_text(&value)?;
    }
    super::print_text(&text)?;

    // Each environment is checked against its own budget; `--budget` overrides them all.
    let mut status = ExitStatus::Success;
    for head in &heads {
        let Some(budget) = args.budget.or(head.budget_usd) else {
            continue;
        };
        let breaches = cost::Budget {
            per_cloud_usd: Some(budget),
            combined_usd: None,
        }
        .breaches(&head.estimate);
        if breaches.is_empty() {
            continue;
        }
        let over: Vec<String> = breaches
            .iter()
            .map(|b| {
                let cloud = b.cloud.map_or("all clouds", cost::Cloud::title);
                let total = cost::format::usd(b.total_usd);
                if head.env.is_empty() {
                    format!("{cloud} {total}")
                } else {
                    format!("{}/{cloud} {total}", head.env)
                }
            })
            .collect();
        writeln!(
            std::io::stderr(),
            "error: the estimate exceeds the monthly budget of {}: {}",
            cost::format::usd(budget),
            over.join(", ")
        )?;
        status = ExitStatus::Failure;
    }
    Ok(status)
}

/// A `--budget` value: a finite number of USD, zero or more.
fn parse_budget(value: &str) -> Result<f64, String> {
    match value.trim().parse::<f64>() {
        Ok(usd) if usd.is_finite() && usd >= 0.0 => Ok(usd),
        _ => Err("the budget must be a number of USD, zero or more (e.g. `500`)".to_owned()),
    }
}

fn env_key(env: &str) -> String {
    if env.is_empty() {
        "default".to_owned()
    } else {
        env.to_owned()
    }
}
