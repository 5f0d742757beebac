//! `fleetform check`: is the committed Terraform what the spec says? (drift in CI)
//!
//! The folder may come from a pull request, so it is read through a [`Root`] handle: a
//! symlink (at a file or at a folder on the way) is reported as a difference and never
//! followed, so `check` cannot print a file from outside the folder into a CI log.

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use crate::diagnostics::ExitStatus;
use crate::emit::{MANIFEST, Syntax, parse_manifest};
use crate::safe_fs::{Kind, Root};

/// The largest file `check` compares (generated files are far smaller).
const READ_LIMIT: u64 = 512 * 1024 * 1024;

/// What is at a path of the output folder, read without following links.
pub(crate) enum Found {
    Missing,
    /// A symlink at the path or at a folder on the way: a difference, never followed.
    Link,
    /// A folder, FIFO, socket or device where a file should be.
    NotAFile,
    File(Vec<u8>),
}

/// Looks at `rel` under `root` (`None`: the folder itself is missing) without following links.
pub(crate) fn look(root: Option<&Root>, rel: &str) -> anyhow::Result<Found> {
    let Some(root) = root else {
        return Ok(Found::Missing);
    };
    Ok(match root.kind(rel)? {
        None => Found::Missing,
        Some(Kind::Link) => Found::Link,
        Some(Kind::Dir | Kind::Other) => Found::NotAFile,
        Some(Kind::File) => match root.read(rel, READ_LIMIT) {
            Ok(Some(bytes)) => Found::File(bytes),
            Ok(None) => Found::Missing,
            Err(crate::safe_fs::Error::Link(_)) => Found::Link,
            Err(crate::safe_fs::Error::NotAFile(_)) => Found::NotAFile,
            Err(e) => return Err(e.into()),
        },
    })
}

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
    let root = match Root::open(&args.out) {
        Ok(root) => Some(root),
        Err(e) if e.is_not_found() => None,
        Err(e) => return Err(e.into()),
    };
    let on_disk = match look(root.as_ref(), MANIFEST)? {
        Found::File(bytes) => String::from_utf8(bytes)
            .ok()
            .and_then(|t| parse_manifest(&t)),
        _ => None,
    };
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
        if file.streamed.is_some() {
            // Registry data, possibly hundreds of MB: compared by length and hash, read
            // through the same no-link handle as every other file.
            let digest = match root.as_ref().map(|r| r.open_file(rel)) {
                Some(Ok(Some(f))) => Some(crate::emit::Digest256::of_reader(f)),
                Some(Err(crate::safe_fs::Error::Link(_))) => {
                    stale += 1;
                    let _ = writeln!(
                        report,
                        "symlink: {rel} (fleetform writes no links; it was not followed)"
                    );
                    continue;
                }
                Some(Err(crate::safe_fs::Error::NotAFile(_))) => {
                    stale += 1;
                    let _ = writeln!(report, "not a regular file: {rel}");
                    continue;
                }
                Some(Err(e)) => return Err(e.into()),
                None | Some(Ok(None)) => None,
            };
            match digest {
                Some(Ok(d)) if file.matches(&d) => {}
                Some(Ok(d)) => {
                    stale += 1;
                    let _ = writeln!(
                        report,
                        "Files a/{rel} ({} bytes) and b/{rel} ({} bytes) differ",
                        d.len,
                        file.len()
                    );
                }
                Some(Err(e)) => return Err(e.into()),
                None => {
                    stale += 1;
                    let _ = writeln!(report, "missing: {rel}");
                }
            }
            continue;
        }
        match look(root.as_ref(), rel)? {
            Found::File(bytes) if bytes == file.bytes => {}
            Found::File(bytes) => {
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
            Found::Link => {
                stale += 1;
                let _ = writeln!(
                    report,
                    "symlink: {rel} (fleetform writes no links; it was not followed)"
                );
            }
            Found::NotAFile => {
                stale += 1;
                let _ = writeln!(report, "not a regular file: {rel}");
            }
            Found::Missing => {
                stale += 1;
                let _ = writeln!(report, "missing: {rel}");
            }
        }
    }
    if let Some(m) = &on_disk {
        // Only paths fleetform could have written: a manifest listing `../x` probes nothing.
        for rel in m
            .files
            .keys()
            .filter(|k| !rendered.files.contains_key(*k) && crate::emit::safe_path(k))
        {
            match look(root.as_ref(), rel)? {
                Found::Missing => {}
                Found::Link => {
                    stale += 1;
                    let _ = writeln!(
                        report,
                        "symlink: {rel} (fleetform writes no links; it was not followed)"
                    );
                }
                _ => {
                    stale += 1;
                    let _ = writeln!(report, "no longer generated: {rel}");
                }
            }
        }
    }
    if stale == 0 {
        writeln!(
            std::io::stdout(),
            "{} is up to date with {}",
            args.out.display(),
            args.spec.display()
        )?;
        return Ok(ExitStatus::Success);
    }
    // The report quotes files of the output folder, which a pull request controls.
    super::print_text(&report)?;
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
