//! `fleetform check`: is the committed Terraform what the spec says? (drift in CI)

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use crate::diagnostics::ExitStatus;
use crate::emit::{MANIFEST, Syntax, parse_manifest};

/// Check that an output folder holds exactly what `build` would write.
///
/// Regenerates the modules in memory and compares them with DIR, like `terraform fmt -check`:
/// exit 0 when equal, 1 with a unified diff of every stale, missing or leftover file. Nothing
/// is written. The syntax (HCL or Terraform JSON) is read from DIR's manifest.
#[derive(Debug, clap::Args)]
#[command(
    after_help = "Examples:\n  fleetform check fleet.yaml --out terraform\n  fleetform check fleet.yaml --out terraform || echo 'run fleetform build'"
)]
pub struct Args {
    /// The spec file (`-` reads stdin).
    pub spec: PathBuf,
    /// The output folder to compare with.
    #[arg(long, short)]
    pub out: PathBuf,
}

pub(crate) fn run(args: &Args, ctx: &super::Ctx) -> anyhow::Result<ExitStatus> {
    let outcome = super::load_spec(&args.spec)?;
    let Some(validated) = &outcome.validated else {
        super::report(
            &outcome.diagnostics,
            &outcome.sources,
            crate::diagnostics::Format::Human,
            ctx,
        )?;
        return Ok(ExitStatus::Failure);
    };
    let on_disk = std::fs::read_to_string(args.out.join(MANIFEST))
        .ok()
        .and_then(|t| parse_manifest(&t));
    let syntax = if on_disk
        .as_ref()
        .is_some_and(|m| m.files.keys().any(|k| k.ends_with(".tf.json")))
    {
        Syntax::Json
    } else {
        Syntax::Hcl
    };
    let _ = validated;
    let rendered = crate::emit::render_planned(&crate::plan_sets(&outcome)?, syntax)?;
    let mut report = String::new();
    let mut stale = 0;
    for (rel, file) in &rendered.files {
        let path = args.out.join(rel);
        if file.streamed.is_some() {
            // Registry data, possibly hundreds of MB: compared by length and hash.
            match std::fs::File::open(&path).and_then(crate::emit::Digest256::of_reader) {
                Ok(d) if file.matches(&d) => {}
                Ok(d) => {
                    stale += 1;
                    let _ = writeln!(
                        report,
                        "Files a/{rel} ({} bytes) and b/{rel} ({} bytes) differ",
                        d.len,
                        file.len()
                    );
                }
                Err(_) => {
                    stale += 1;
                    let _ = writeln!(report, "missing: {rel}");
                }
            }
            continue;
        }
        match std::fs::read(&path) {
            Ok(bytes) if bytes == file.bytes => {}
            Ok(bytes) => {
                stale += 1;
                match (String::from_utf8(bytes), std::str::from_utf8(&file.bytes)) {
                    (Ok(old), Ok(new)) => {
                        let diff = similar::TextDiff::from_lines(old.as_str(), new);
                        let _ = write!(
                            report,
                            "{}",
                            diff.unified_diff()
                                .context_radius(3)
                                .header(&format!("a/{rel}"), &format!("b/{rel}"))
                        );
                    }
                    _ => {
                        let _ = writeln!(report, "Binary files a/{rel} and b/{rel} differ");
                    }
                }
            }
            Err(_) => {
                stale += 1;
                let _ = writeln!(report, "missing: {rel}");
            }
        }
    }
    if let Some(m) = &on_disk {
        for rel in m.files.keys().filter(|k| !rendered.files.contains_key(*k)) {
            if args.out.join(rel).exists() {
                stale += 1;
                let _ = writeln!(report, "no longer generated: {rel}");
            }
        }
    }
    let mut out = std::io::stdout();
    if stale == 0 {
        writeln!(
            out,
            "{} is up to date with {}",
            args.out.display(),
            args.spec.display()
        )?;
        return Ok(ExitStatus::Success);
    }
    out.write_all(report.as_bytes())?;
    writeln!(
        std::io::stderr(),
        "error: {stale} file(s) in {} differ from what {} compiles to\nhint: run `fleetform build {} --out {}` and commit the result",
        args.out.display(),
        args.spec.display(),
        args.spec.display(),
        args.out.display()
    )?;
    Ok(ExitStatus::Failure)
}
