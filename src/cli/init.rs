//! `fleetform init`: write a commented starter spec, never over an existing file.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};

use crate::blueprint;
use crate::diagnostics::ExitStatus;

/// Write a commented starter spec into a folder.
///
/// Starts from a blueprint (a template that takes `--name` and `--cloud`) or from one of the
/// bundled examples. Writes `fleet.yaml`, any registry file the example uses, and
/// `fleet.schema.json` so editors complete and check the spec offline. Never overwrites.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform init my-fleet --name sensors --cloud aws\n  fleetform init cranes --example industrial-cranes\n  fleetform init --list"
)]
pub struct Args {
    /// Folder to write into (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
    /// Start from a bundled example instead of the starter blueprint.
    #[arg(long, conflicts_with = "blueprint")]
    pub example: Option<String>,
    /// Start from a named blueprint.
    #[arg(long, default_value = "starter")]
    pub blueprint: String,
    /// Stack name for the blueprint (lowercase letters, digits, hyphens).
    #[arg(long, default_value = "my-fleet", conflicts_with = "example")]
    pub name: String,
    /// Clouds for the blueprint.
    #[arg(long, value_enum, default_value_t = CloudChoice::Aws, conflicts_with = "example")]
    pub cloud: CloudChoice,
    /// List the blueprints and examples, and exit.
    #[arg(long)]
    pub list: bool,
}

/// Which clouds a starter targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CloudChoice {
    Aws,
    Azure,
    Both,
}

const MODELINE_PREFIX: &str = "# yaml-language-server: $schema=";

pub(crate) fn run(args: &Args, _ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let examples = blueprint::examples();
    let starters: Vec<String> = blueprint::list("starters")
        .into_iter()
        .filter_map(|n| n.strip_suffix(".yaml.j2").map(str::to_owned))
        .collect();
    let mut out = std::io::stdout();
    if args.list {
        writeln!(
            out,
            "blueprints (use --blueprint NAME --name STACK --cloud aws|azure|both):"
        )?;
        for s in &starters {
            writeln!(out, "  {s}")?;
        }
        writeln!(out, "examples (use --example NAME):")?;
        let mut names: Vec<&str> = examples.iter().map(|(e, _, _)| e.as_str()).collect();
        names.dedup();
        for e in names {
            writeln!(out, "  {e}")?;
        }
        return Ok(ExitStatus::Success);
    }
    let mut files: Vec<(String, String)> = Vec::new();
    if let Some(example) = &args.example {
        files.extend(
            examples
                .iter()
                .filter(|(e, _, _)| e == example)
                .map(|(_, f, text)| (f.clone(), text.clone())),
        );
        if files.is_empty() {
            let names: Vec<&str> = examples.iter().map(|(e, _, _)| e.as_str()).collect();
            bail!(
                "no example named `{example}`\nhint: examples: {}",
                dedup_join(&names)
            );
        }
    } else {
        if !starters.contains(&args.blueprint) {
            bail!(
                "no blueprint named `{}`\nhint: blueprints: {}",
                args.blueprint,
                starters.join(", ")
            );
        }
        let name_ok = args.name.len() >= 3
            && args.name.len() <= 24
            && args.name.starts_with(|c: char| c.is_ascii_lowercase())
            && !args.name.ends_with('-')
            && args
                .name
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
        if !name_ok {
            bail!(
                "`{}` is not a valid stack name\nhint: 3 to 24 lowercase letters, digits and hyphens, starting with a letter",
                args.name.escape_default()
            );
        }
        let text = blueprint::render(
            &format!("starters/{}.yaml.j2", args.blueprint),
            serde_json::json!({ "name": args.name, "cloud": args.cloud }),
        )?;
        files.push(("fleet.yaml".to_owned(), text));
    }
    // Point the modeline at a local copy of the schema, so editors work offline.
    for (name, text) in &mut files {
        if name.ends_with(".yaml") && text.starts_with(MODELINE_PREFIX) {
            let rest = text.split_once('\n').map_or("", |(_, r)| r);
            *text = format!("{MODELINE_PREFIX}fleet.schema.json\n{rest}");
        }
    }
    files.push((
        "fleet.schema.json".to_owned(),
        crate::spec::schema::json_schema_text(),
    ));

    // The folder and everything in it are opened without following links (see `safe_fs`).
    let (root, _) = crate::safe_fs::Root::create(&args.dir, crate::safe_fs::Mode::Public)?;
    let mut existing = Vec::new();
    for (name, _) in &files {
        if root.kind(name)?.is_some() {
            existing.push(format!("`{}`", args.dir.join(name).display()));
        }
    }
    if !existing.is_empty() {
        bail!(
            "refusing to overwrite {}\nhint: choose an empty folder, or move the files away",
            existing.join(", ")
        );
    }
    for (name, text) in &files {
        let path = args.dir.join(name);
        // Created exclusively: keeps the no-overwrite promise even against a race.
        root.write_new(name, text.as_bytes(), crate::safe_fs::Mode::Public, false)
            .with_context(|| format!("cannot create `{}`", path.display()))?;
        writeln!(out, "wrote {}", path.display())?;
    }
    writeln!(
        out,
        "next: edit {0}, then `fleetform validate {0}` and `fleetform build {0} --out {1}`",
        args.dir.join("fleet.yaml").display(),
        args.dir.join("terraform").display()
    )?;
    Ok(ExitStatus::Success)
}

fn dedup_join(names: &[&str]) -> String {
    let mut v = names.to_vec();
    v.dedup();
    v.join(", ")
}
