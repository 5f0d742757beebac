//! The command line: argument parsing and every side effect fleetform has.
//!
//! Each subcommand lives in its own file and follows one shape: read inputs, call the pure
//! library, print data to stdout and diagnostics to stderr, and return an [`ExitStatus`].
//! Exit codes are 0 (ok), 1 (invalid spec, drift, over budget) and 2 (usage, I/O, bug).

mod build;
mod bulk;
pub mod certs;
mod check;
mod cost;
mod diagram;
mod diff;
mod explain;
mod init;
pub mod output;
mod schema;
mod validate;

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use crate::diagnostics::{self, Diagnostics, ExitStatus, Format, Sources};
use crate::validate::{Files, Outcome};

const AFTER_HELP: &str = "\
Exit codes:
  0  success
  1  the spec is invalid, a check found drift, or an estimate is over budget
  2  usage error, I/O error, or a bug in fleetform

Examples:
  fleetform init --example minimal my-fleet/
  fleetform validate my-fleet/fleet.yaml
  fleetform build my-fleet/fleet.yaml --out my-fleet/terraform";

/// Compile a declarative IoT fleet spec into Terraform for AWS and Azure.
#[derive(Debug, Parser)]
#[command(name = "fleetform", version, about, after_help = AFTER_HELP, max_term_width = 100)]
pub struct Cli {
    /// When to color diagnostics.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum ColorChoice {
    Auto,
    Always,
    Never,
}

#[derive(Debug, Subcommand)]
enum Command {
    Init(init::Args),
    Validate(validate::Args),
    Build(build::Args),
    Bulk(bulk::Args),
    Certs(Box<certs::CertsArgs>),
    Check(check::Args),
    Cost(cost::Args),
    Diff(diff::Args),
    Diagram(diagram::Args),
    Explain(explain::Args),
    Schema(schema::Args),
    Completions(CompletionsArgs),
}

/// Print a shell completion script.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Example:\n  fleetform completions bash > ~/.local/share/bash-completion/completions/fleetform"
)]
struct CompletionsArgs {
    /// The shell.
    shell: clap_complete::Shell,
}

/// Runs the CLI with the process arguments.
pub fn run() -> ExitCode {
    run_with(std::env::args_os())
}

/// Runs the CLI with the given arguments (the first is the program name).
pub fn run_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    ExitCode::SUCCESS
                }
                _ => ExitStatus::Error.into(),
            };
        }
    };
    let color = match cli.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    };
    let ctx = Ctx { color };
    let result = match cli.command {
        Command::Init(args) => init::run(&args, &ctx),
        Command::Validate(args) => validate::run(&args, &ctx),
        Command::Build(args) => build::run(&args, &ctx),
        Command::Bulk(args) => bulk::run(&args, &ctx),
        Command::Certs(args) => {
            return match certs::run(&args) {
                Ok(code) => code,
                Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
                Err(e) => {
                    if let Some(invalid) = e.downcast_ref::<certs::InvalidSpec>() {
                        let _ = write!(std::io::stderr(), "{invalid}");
                        ExitStatus::Failure.into()
                    } else {
                        let _ = writeln!(std::io::stderr(), "error: {e:#}");
                        ExitStatus::Error.into()
                    }
                }
            };
        }
        Command::Check(args) => check::run(&args, &ctx),
        Command::Cost(args) => cost::run(&args, &ctx),
        Command::Diff(args) => diff::run(&args, &ctx),
        Command::Diagram(args) => diagram::run(&args, &ctx),
        Command::Explain(args) => explain::run(&args, &ctx),
        Command::Schema(args) => schema::run(&args),
        Command::Completions(args) => {
            let mut cmd = Cli::command();
            clap_complete::generate(args.shell, &mut cmd, "fleetform", &mut std::io::stdout());
            Ok(ExitStatus::Success)
        }
    };
    match result {
        Ok(status) => status.into(),
        Err(e) => {
            if is_broken_pipe(&e) {
                return ExitCode::SUCCESS;
            }
            let _ = writeln!(std::io::stderr(), "error: {e:#}");
            ExitStatus::Error.into()
        }
    }
}

fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// What every subcommand needs to know about the terminal.
pub(crate) struct Ctx {
    pub color: bool,
}

/// Reads files relative to a spec's folder.
pub(crate) struct DiskFiles {
    pub base: PathBuf,
}

impl Files for DiskFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        // The path comes from the spec, which may come from a pull request: no links on the
        // way (they could lead out of the spec's folder), and only a regular file, opened
        // without blocking, up to the registry cap.
        let why = |e: crate::input::InputError| e.to_string();
        crate::input::no_links_below(&self.base, Path::new(path)).map_err(why)?;
        let limit = crate::spec::load::MAX_REGISTRY_BYTES as u64;
        let bytes = crate::input::read(&self.base.join(path), limit, crate::input::Links::Refuse)
            .map_err(why)?;
        String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())
    }
}

/// Reads and validates a spec file. `Err` is an I/O problem (exit 2), reported as such.
pub(crate) fn load_spec(path: &Path) -> anyhow::Result<Outcome> {
    let (text, name, base) = if path == Path::new("-") {
        // Capped like a file: `fleetform validate - < /dev/zero` must end.
        let limit = crate::spec::load::MAX_SPEC_BYTES as u64;
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(
            &mut std::io::Read::take(std::io::stdin(), limit + 1),
            &mut bytes,
        )?;
        if bytes.len() as u64 > limit {
            anyhow::bail!(
                "cannot read the spec from stdin: it is longer than {}\nhint: move long device lists into a registry file: `fleet.registry.file: devices.csv`",
                crate::input::size_text(limit)
            );
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("the spec on stdin is not UTF-8 text"))?;
        (text, "<stdin>".to_owned(), PathBuf::from("."))
    } else {
        let limit = crate::spec::load::MAX_SPEC_BYTES as u64;
        let bytes = crate::input::read(path, limit, crate::input::Links::Follow).map_err(|e| {
            let hint = match &e {
                crate::input::InputError::NotRegular("a folder") => format!(
                    "give the spec file, e.g. `{}`",
                    path.join("fleet.yaml").display()
                ),
                crate::input::InputError::TooLarge { .. } => {
                    "move long device lists into a registry file: `fleet.registry.file: devices.csv`".to_owned()
                }
                crate::input::InputError::Io(_) => {
                    "give the path of a fleet spec, e.g. `examples/minimal/fleet.yaml`".to_owned()
                }
                _ => e.hint().to_owned(),
            };
            anyhow::anyhow!("cannot read `{}`: {e}\nhint: {hint}", path.display())
        })?;
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("`{}` is not UTF-8 text", path.display()))?;
        let base = path
            .parent()
            .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
        (text, path.display().to_string(), base)
    };
    Ok(crate::validate::validate(&name, &text, &DiskFiles { base }))
}

/// The models to describe: the named environment, else every environment of a spec with
/// overlays, else the spec's own model.
pub(crate) fn pick_models<'a>(
    outcome: &'a Outcome,
    base: &'a crate::model::Model,
    environment: Option<&str>,
) -> anyhow::Result<Vec<&'a crate::model::Model>> {
    let names: Vec<&str> = outcome
        .environments
        .iter()
        .map(|(n, _)| n.as_str())
        .collect();
    match environment {
        None if outcome.environments.is_empty() => Ok(vec![base]),
        None => Ok(outcome.environments.iter().map(|(_, v)| &v.model).collect()),
        Some(env) => outcome
            .environments
            .iter()
            .find(|(n, _)| n == env)
            .map(|(_, v)| vec![&v.model])
            .ok_or_else(|| {
                if names.is_empty() {
                    anyhow::anyhow!("the spec has no environments, so `--environment {env}` does not apply\nhint: drop --environment")
                } else {
                    anyhow::anyhow!("no environment named `{env}`\nhint: environments: {}", names.join(", "))
                }
            }),
    }
}

/// Prints diagnostics to stderr in the chosen format (human) or stdout (JSON).
pub(crate) fn report(
    diags: &Diagnostics,
    sources: &Sources,
    format: Format,
    ctx: &Ctx,
) -> anyhow::Result<()> {
    let text = diagnostics::render(diags, sources, format, ctx.color);
    match format {
        Format::Json => std::io::stdout().write_all(text.as_bytes())?,
        Format::Human => std::io::stderr().write_all(text.as_bytes())?,
    }
    Ok(())
}
