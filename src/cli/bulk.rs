//! `fleetform bulk`: print the commands that register a large registry with the clouds' own
//! bulk jobs, for people who run them by hand or wire them into a pipeline.
//!
//! The generated scripts (`scripts/register-devices.sh`, `scripts/import-devices.sh`) run
//! the same calls; this prints them one by one, from the same planner decisions (each cloud
//! planner's `bulk_commands`), so the two cannot disagree.

use std::io::Write;
use std::path::PathBuf;

use crate::diagnostics::{ExitStatus, Format};

/// Print the commands that register the registry in bulk (AWS IoT bulk registration tasks,
/// an Azure IoT Hub import job).
///
/// From `fleet.registry.bulk_threshold` devices on (AWS, manual registration), and for every
/// registry without DPS enrollment groups (Azure), devices are registered by the clouds' own
/// bulk jobs rather than by Terraform resources. After `terraform apply`, run the generated
/// scripts, or these commands. They read names from `terraform output`, so run them where
/// the module's state is.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform bulk fleet.yaml --out terraform\n  fleetform bulk fleet.yaml --out terraform --environment prod > register.sh\n\nExit codes: 0 ok (also when nothing is registered in bulk; stderr says why), 1 the spec is invalid, 2 usage or I/O error."
)]
pub struct Args {
    /// The spec file (`-` reads stdin).
    pub spec: PathBuf,
    /// The folder `fleetform build` wrote (the commands `cd` into its modules).
    #[arg(long, short, default_value = "terraform")]
    pub out: PathBuf,
    /// With environment overlays: only this environment [default: every one].
    #[arg(long, value_name = "NAME")]
    pub environment: Option<String>,
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let outcome = super::load_spec(&args.spec)?;
    let Some(validated) = &outcome.validated else {
        super::report(&outcome.diagnostics, &outcome.sources, Format::Human, ctx)?;
        return Ok(ExitStatus::Failure);
    };
    // The environments asked for, by name ("" without overlays).
    let picked = super::pick_models(&outcome, &validated.model, args.environment.as_deref())?;
    let envs: Vec<(&str, &crate::model::Model)> = picked
        .into_iter()
        .map(|m| {
            let name = outcome
                .environments
                .iter()
                .find(|(_, v)| std::ptr::eq(&raw const v.model, m))
                .map_or("", |(n, _)| n.as_str());
            (name, m)
        })
        .collect();
    let mut text = String::new();
    let mut notes = Vec::new();
    for (env, model) in envs {
        let dir = |cloud: &str| {
            let mut p = args.out.clone();
            if !env.is_empty() {
                p.push(env);
            }
            p.push(cloud);
            p.display().to_string()
        };
        let label = if env.is_empty() {
            String::new()
        } else {
            format!(" (environment `{env}`)")
        };
        let mut any = false;
        for commands in crate::clouds::targeted_planners(model)
            .filter_map(|p| p.bulk_commands(model, &dir(p.cloud().dir())))
        {
            if !text.is_empty() {
                text.push('\n');
            }
            if !label.is_empty() {
                text.push('#');
                text.push_str(&label);
                text.push('\n');
            }
            text.push_str(&commands);
            any = true;
        }
        if !any {
            notes.push(format!(
                "nothing is registered in bulk{label}: {}",
                why_not(model)
            ));
        }
    }
    std::io::stdout().write_all(text.as_bytes())?;
    let mut err = std::io::stderr();
    for n in notes {
        writeln!(err, "{n}")?;
    }
    Ok(ExitStatus::Success)
}

/// Why a model registers nothing in bulk, in words: each cloud says why it does not.
fn why_not(m: &crate::model::Model) -> String {
    if m.fleet.registry.is_empty() {
        return "the spec registers no devices (`fleet.registry`)".to_owned();
    }
    crate::clouds::targeted_planners(m)
        .filter_map(|p| p.bulk_why_not(m))
        .collect::<Vec<_>>()
        .join("; ")
}
