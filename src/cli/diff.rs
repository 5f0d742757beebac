//! `fleetform diff`: what a spec change does to the infrastructure and the bill.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

use crate::cost;
use crate::diagnostics::{ExitStatus, Format};
use crate::infradiff;
use crate::validate::{Files, Outcome};

/// Show what a spec change does to the infrastructure and the monthly bill.
///
/// Evaluates the Terraform the two specs compile to (locals, variable defaults, `for_each`
/// instances) and compares it instance by instance, like `terraform plan` would: resources
/// added, removed and changed (with the changed arguments), and those the providers would
/// *replace*. Replacements and destroys of anything that holds data or device identities
/// come first, with what is lost; registry edits are listed by device; then the cost delta
/// per cloud. Give two specs, or one spec and `--base REV` to compare with its version
/// committed at REV.
#[derive(Debug, clap::Args)]
#[command(after_help = DIFF_AFTER_HELP)]
pub struct Args {
    /// `OLD_SPEC NEW_SPEC`, or just `SPEC` with `--base`.
    #[arg(required = true, num_args = 1..=2, value_name = "SPEC")]
    pub specs: Vec<PathBuf>,
    /// Compare SPEC with its version at this git revision.
    #[arg(long, value_name = "REV")]
    pub base: Option<String>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = DiffFormat::Text)]
    pub format: DiffFormat,
    /// A price book file that overrides the embedded prices.
    #[arg(long, value_name = "FILE")]
    pub pricebook: Option<PathBuf>,
    /// Exit 3 when anything changes, 4 when data or device identities would be lost.
    #[arg(long)]
    pub exit_code: bool,
}

const DIFF_AFTER_HELP: &str = "\
Exit codes:
  0  no change (or any change, without --exit-code)
  1  a spec is invalid
  2  usage error, I/O error (a missing file, an unknown git revision), or a bug
  3  with --exit-code: the infrastructure or the bill changes, nothing holding data is lost
  4  with --exit-code: a replacement or destroy loses data or device identities

Examples:
  fleetform diff old.yaml new.yaml
  fleetform diff fleet.yaml --base origin/main --format markdown > comment.md
  fleetform diff fleet.yaml --base HEAD~1 --format json | jq .infrastructure
  fleetform diff fleet.yaml --base origin/main --exit-code || [ $? -eq 3 ]";

/// Output formats of `diff`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DiffFormat {
    Text,
    Markdown,
    Json,
}

/// Reads a spec's registry files from a git revision.
pub(crate) struct GitFiles {
    pub(crate) dir: PathBuf,
    pub(crate) rev: String,
}

impl Files for GitFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        git_show(&self.dir, &self.rev, path).map_err(|e| e.to_string())
    }
}

fn git_show(dir: &Path, rev: &str, rel: &str) -> anyhow::Result<String> {
    if rev.starts_with('-') || rev.contains(['\n', '\0']) {
        bail!("`{rev}` is not a git revision");
    }
    let out = Command::new("git")
        .arg("-C")
        .arg(if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            dir
        })
        .arg("show")
        .arg(format!("{rev}:./{rel}"))
        .output()
        .context("cannot run git")?;
    if !out.status.success() {
        bail!(
            "git cannot show `{rel}` at `{rev}`: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    String::from_utf8(out.stdout).context("the file is not UTF-8 text")
}

/// Validates SPEC as committed at `rev`, reading its registry files at `rev` too.
pub(crate) fn load_at(spec: &Path, rev: &str) -> anyhow::Result<Outcome> {
    let dir = spec.parent().map(Path::to_path_buf).unwrap_or_default();
    let name = spec
        .file_name()
        .and_then(|n| n.to_str())
        .context("the spec path has no file name")?;
    let text = git_show(&dir, rev, name)?;
    Ok(crate::validate::validate(
        &format!("{}@{rev}", spec.display()),
        &text,
        &GitFiles {
            dir,
            rev: rev.to_owned(),
        },
    ))
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let (old, new) = match (&args.base, args.specs.as_slice()) {
        (Some(rev), [spec]) => (load_at(spec, rev)?, super::load_spec(spec)?),
        (None, [old, new]) => (super::load_spec(old)?, super::load_spec(new)?),
        (Some(_), _) => {
            bail!("with `--base`, give one spec\nhint: fleetform diff fleet.yaml --base main")
        }
        (None, _) => bail!(
            "give two specs, or one spec and `--base REV`\nhint: fleetform diff old.yaml new.yaml"
        ),
    };
    let diag_format = if args.format == DiffFormat::Json {
        Format::Json
    } else {
        Format::Human
    };
    let mut failed = false;
    for o in [&old, &new] {
        if o.validated.is_none() {
            super::report(&o.diagnostics, &o.sources, diag_format, ctx)?;
            failed = true;
            // stdout holds one JSON document: report the first invalid spec only.
            if args.format == DiffFormat::Json {
                break;
            }
        }
    }
    if failed {
        return Ok(ExitStatus::Failure);
    }
    let infra = infradiff::diff_sets(&crate::plan_sets(&old)?.sets, &crate::plan_sets(&new)?.sets);
    let book = super::cost::price_book(args.pricebook.as_deref())?;
    let (before, after) = (
        super::cost::estimates(&old, &book)?,
        super::cost::estimates(&new, &book)?,
    );
    // Environments are compared by name; a spec without overlays is one unnamed environment.
    // An environment of one spec only is compared with nothing, with a note saying so.
    let deltas = super::cost::env_deltas(&before, &after);
    let heading = |env: &str, md: bool| match (env.is_empty(), md) {
        (true, _) => String::new(),
        (false, true) => format!("### Environment `{env}`\n\n"),
        (false, false) => format!("Environment {env}:\n"),
    };
    let changed = !infra.is_empty() || deltas.iter().any(|d| !d.delta.is_empty());
    let text = match args.format {
        DiffFormat::Text => {
            let mut s = format!("{}\n", infradiff::text(&infra));
            for d in &deltas {
                s.push_str(&heading(&d.env, false));
                s.push_str(&d.note_block(false));
                s.push_str(&cost::compare::text(&d.delta));
            }
            s
        }
        DiffFormat::Markdown => {
            // Destructive changes first, then the bill, then everything else.
            let mut s = infradiff::markdown_destructive(&infra);
            for d in &deltas {
                s.push_str(&heading(&d.env, true));
                s.push_str(&d.note_block(true));
                s.push_str(&cost::compare::markdown(&d.delta));
            }
            if !s.ends_with("\n\n") {
                s.push('\n');
            }
            s.push_str(&infradiff::markdown_rest(&infra));
            s.truncate(s.trim_end().len());
            s + "\n"
        }
        DiffFormat::Json => {
            let mut cost_json = serde_json::Map::new();
            for d in &deltas {
                let key = if d.env.is_empty() {
                    "default".to_owned()
                } else {
                    d.env.clone()
                };
                cost_json.insert(key, serde_json::to_value(&d.delta)?);
            }
            let losses: Vec<&infradiff::AddressChange> = infra.losses().collect();
            let verdict = match infra.severity() {
                infradiff::Severity::Loss => "data_loss",
                _ if changed => "changes",
                _ => "none",
            };
            let v = serde_json::json!({
                "verdict": verdict,
                "data_loss": losses,
                "infrastructure": infra,
                "cost": cost_json,
            });
            super::json_text(&v)?
        }
    };
    super::print_text(&text)?;
    Ok(match (args.exit_code, infra.severity()) {
        (false, _) => ExitStatus::Success,
        (true, infradiff::Severity::Loss) => ExitStatus::DataLoss,
        (true, _) if changed => ExitStatus::Changed,
        (true, _) => ExitStatus::Success,
    })
}
