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
mod simulate;
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
  1  the spec is invalid, a check found drift, an estimate is over budget,
     or a simulated device failed
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
    Simulate(Box<simulate::Args>),
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
                        // Already rendered (and escaped) by `diagnostics`.
                        let _ = write!(std::io::stderr(), "{invalid}");
                        ExitStatus::Failure.into()
                    } else {
                        let _ = std::io::stderr()
                            .write_all(diagnostics::render_error(&format!("{e:#}")).as_bytes());
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
        Command::Simulate(args) => simulate::run(&args, &ctx),
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
            let _ = std::io::stderr()
                .write_all(diagnostics::render_error(&format!("{e:#}")).as_bytes());
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

/// Reads files relative to a spec's folder, never through a link (see `safe_fs`): a registry
/// linked to a file outside the repository would otherwise land in diagnostics.
pub(crate) struct DiskFiles {
    pub base: PathBuf,
}

/// A one-line reason, for "cannot read the registry `x`: <reason>".
fn unreadable(e: &crate::safe_fs::Error) -> String {
    use crate::safe_fs::Error;
    match e {
        Error::Link(p) => format!(
            "`{}` is a symlink, and fleetform does not follow links; commit the file itself",
            p.display()
        ),
        Error::NotAFile(_) => "it is not a regular file".to_owned(),
        Error::NotADirectory(p) => format!("`{}` is not a folder", p.display()),
        Error::Io { source, .. } => source.to_string(),
        other => other.to_string(),
    }
}

impl DiskFiles {
    /// Opens `path` below the spec's folder: no link on the way, a regular file (opened
    /// without blocking), at most the registry cap. Registry parsing refuses long texts too;
    /// checking first avoids reading them.
    fn open_capped(&self, path: &str) -> Result<std::io::Take<std::fs::File>, String> {
        let root = crate::safe_fs::Root::open(&self.base).map_err(|e| unreadable(&e))?;
        let file = match root.open_file(path) {
            Ok(Some(f)) => f,
            Ok(None) => return Err("No such file or directory (os error 2)".to_owned()),
            Err(e) => return Err(unreadable(&e)),
        };
        let limit = crate::spec::load::MAX_REGISTRY_BYTES as u64;
        let len = file.metadata().map_err(|e| e.to_string())?.len();
        if len > limit {
            let mib = |n: u64| n as f64 / (1024.0 * 1024.0);
            return Err(format!(
                "it is {:.1} MiB; fleetform reads at most {:.0} MiB",
                mib(len),
                mib(limit)
            ));
        }
        // One byte more than the cap, so a file that grows while it is read is still refused.
        Ok(std::io::Read::take(file, limit + 1))
    }
}

impl Files for DiskFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut self.open_capped(path)?, &mut bytes)
            .map_err(|e| e.to_string())?;
        String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".to_owned())
    }

    fn open(&self, path: &str) -> Result<Box<dyn std::io::Read + '_>, String> {
        // CSV registries are read row by row: a million devices never sit in memory as text.
        Ok(Box::new(std::io::BufReader::with_capacity(
            256 * 1024,
            self.open_capped(path)?,
        )))
    }
}

/// The largest spec file read at all; validation refuses far smaller ones with a diagnostic.
const SPEC_READ_LIMIT: u64 = 64 * 1024 * 1024;

/// Reads and validates a spec file. `Err` is an I/O problem (exit 2), reported as such. The
/// file is not read through a link inside the working folder (see `safe_fs`).
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
                "cannot read the spec from stdin: it is longer than {} MiB\nhint: move long device lists into a registry file: `fleet.registry.file: devices.csv`",
                limit / (1024 * 1024)
            );
        }
        let text = String::from_utf8(bytes)
            .map_err(|_| anyhow::anyhow!("the spec on stdin is not UTF-8 text"))?;
        (text, "<stdin>".to_owned(), PathBuf::from("."))
    } else {
        let missing = |e: std::io::Error| {
            anyhow::anyhow!(
                "cannot read `{}`: {e}\nhint: give the path of a fleet spec, e.g. `examples/minimal/fleet.yaml`",
                path.display()
            )
        };
        let file = match crate::safe_fs::open_named(path) {
            Ok(Some(file)) => file,
            Ok(None) => {
                return Err(missing(
                    std::fs::symlink_metadata(path)
                        .err()
                        .unwrap_or_else(|| std::io::ErrorKind::NotFound.into()),
                ));
            }
            Err(crate::safe_fs::Error::NotAFile(_)) if path.is_dir() => anyhow::bail!(
                "`{}` is a folder; give the spec file, e.g. `{}`",
                path.display(),
                path.join("fleet.yaml").display()
            ),
            Err(crate::safe_fs::Error::Io { source, .. }) => return Err(missing(source)),
            Err(e) => return Err(e.into()),
        };
        let len = file.metadata().map_or(0, |m| m.len());
        if len > SPEC_READ_LIMIT {
            anyhow::bail!(
                "`{}` is {} MiB, far more than a fleet spec\nhint: give the path of a fleet spec, e.g. `examples/minimal/fleet.yaml`",
                path.display(),
                len / (1024 * 1024)
            );
        }
        let mut bytes = Vec::new();
        std::io::Read::read_to_end(&mut std::io::Read::take(file, SPEC_READ_LIMIT), &mut bytes)
            .map_err(|e| anyhow::anyhow!("cannot read `{}`: {e}", path.display()))?;
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

/// Prints text for people on stdout, control characters escaped (`diagnostics::escape`): the
/// text echoes spec values and files a pull request controls.
pub(crate) fn print_text(text: &str) -> std::io::Result<()> {
    std::io::stdout().write_all(diagnostics::escape::text(text).as_bytes())
}

/// JSON for stdout: pretty, with a trailing newline and the characters terminals act on
/// escaped (`diagnostics::escape::json_pretty`).
pub(crate) fn json_text<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    Ok(diagnostics::escape::json_pretty(value)? + "\n")
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
