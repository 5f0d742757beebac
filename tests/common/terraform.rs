//! Terraform with the real providers, offline: one CLI config for the hashicorp/aws and
//! hashicorp/azurerm filesystem mirrors and a shared plugin cache, and the checks every
//! generated root goes through: `init -backend=false` + `validate`, then the root's own
//! README test commands (`terraform test`: the shipped intent tests, mocked), with a
//! harness-written test file beside them that plans AWS roots with the *real* provider
//! (fake keys and `skip_*` flags, account-reading data sources overridden). That file exists
//! only in the temporary copy; generated code never carries credentials or skip flags.
//!
//! Mirrors: `FLEETFORM_TF_MIRROR` (default `/opt/tf-plugins`) for aws,
//! `FLEETFORM_AZURERM_MIRROR` (default `<repo>/../shared/terraform-mirror`) for azurerm.
//! The plugin cache is pre-filled with links to the unpacked mirror folders before the
//! first `init`, so parallel inits only read it (Terraform does not lock the cache) and no
//! provider binary is ever copied.
#![allow(dead_code)]

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use super::{root, skip};

/// Terraform and the CLI config that points at the mirrors.
pub struct Terraform {
    pub bin: PathBuf,
    pub config: PathBuf,
    /// The azurerm mirror, when it exists.
    pub azurerm: Option<PathBuf>,
}

fn which(tool: &str) -> Option<PathBuf> {
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|p| p.join(tool))
            .find(|p| p.is_file())
    })
}

fn mirror(var: &str, default: PathBuf, provider: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(var).map_or(default, PathBuf::from);
    let dir = dir.canonicalize().ok()?;
    dir.join(format!("registry.terraform.io/hashicorp/{provider}"))
        .is_dir()
        .then_some(dir)
}

/// Links every unpacked `<host>/<ns>/<name>/<version>/<platform>` folder of `mirror` into
/// `cache` (same layout), so `init` finds the providers in the cache and links them.
fn link_into_cache(mirror: &Path, cache: &Path) -> std::io::Result<()> {
    let host = mirror.join("registry.terraform.io");
    for ns in std::fs::read_dir(&host)? {
        let ns = ns?.path();
        for name in std::fs::read_dir(&ns)? {
            let name = name?.path();
            for version in std::fs::read_dir(&name)? {
                let version = version?.path();
                for platform in std::fs::read_dir(&version)? {
                    let platform = platform?.path();
                    if !platform.is_dir() {
                        continue;
                    }
                    let rel = platform.strip_prefix(mirror).unwrap_or(&platform);
                    let link = cache.join(rel);
                    std::fs::create_dir_all(link.parent().unwrap_or(cache))?;
                    if !link.exists() {
                        std::os::unix::fs::symlink(&platform, &link)?;
                    }
                }
            }
        }
    }
    Ok(())
}

/// Terraform with the aws mirror (and the azurerm one, when present), or `None`.
pub fn terraform() -> Option<&'static Terraform> {
    static FOUND: OnceLock<Option<Terraform>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            let bin = which("terraform")?;
            let aws = mirror("FLEETFORM_TF_MIRROR", PathBuf::from("/opt/tf-plugins"), "aws")?;
            let azurerm = mirror(
                "FLEETFORM_AZURERM_MIRROR",
                root().join("../shared/terraform-mirror"),
                "azurerm",
            );
            let dir = std::env::temp_dir().join(format!("fleetform-tf-{}", std::process::id()));
            let cache = dir.join("plugin-cache");
            std::fs::create_dir_all(&cache).ok()?;
            link_into_cache(&aws, &cache).ok()?;
            let mut mirrors = format!(
                "  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/hashicorp/aws\"]\n  }}\n",
                quoted(&aws)
            );
            if let Some(az) = &azurerm {
                link_into_cache(az, &cache).ok()?;
                let _ = write!(
                    mirrors,
                    "  filesystem_mirror {{\n    path    = {}\n    include = [\"registry.terraform.io/hashicorp/azurerm\"]\n  }}\n",
                    quoted(az)
                );
            }
            let config = dir.join("terraformrc");
            std::fs::write(
                &config,
                format!(
                    "plugin_cache_dir = {}\n# The cache holds links to the mirrors' own folders; lock files record their hashes.\nplugin_cache_may_break_dependency_lock_file = true\n\nprovider_installation {{\n{mirrors}  direct {{\n    exclude = [\"registry.terraform.io/hashicorp/*\"]\n  }}\n}}\n",
                    quoted(&cache)
                ),
            )
            .ok()?;
            Some(Terraform {
                bin,
                config,
                azurerm,
            })
        })
        .as_ref()
}

/// A path as a quoted HCL string.
fn quoted(p: &Path) -> String {
    serde_json::to_string(&p.display().to_string()).unwrap_or_default()
}

/// Announces (or, under `FLEETFORM_REQUIRE_TOOLS`, fails on) a missing terraform, and
/// returns it when present.
pub fn terraform_or_skip(what: &str) -> Option<&'static Terraform> {
    let tf = terraform();
    if tf.is_none() {
        skip(
            what,
            "terraform or the hashicorp/aws mirror (FLEETFORM_TF_MIRROR, default /opt/tf-plugins) is missing",
        );
    }
    tf
}

/// A cloud a root module is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Cloud {
    Aws,
    Azure,
}

/// Every root module in an output folder (a folder with `versions.tf` or
/// `versions.tf.json`), sorted.
pub fn roots(out: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        if dir.join("versions.tf").is_file() || dir.join("versions.tf.json").is_file() {
            out.push(dir.to_path_buf());
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() && !p.is_symlink() && e.file_name() != ".terraform" {
                walk(&p, out);
            }
        }
    }
    let mut found = Vec::new();
    walk(out, &mut found);
    found.sort();
    found
}

/// The cloud of a root, from its provider requirements.
pub fn cloud_of(root: &Path) -> Cloud {
    let versions = std::fs::read_to_string(root.join("versions.tf"))
        .or_else(|_| std::fs::read_to_string(root.join("versions.tf.json")))
        .unwrap_or_default();
    if versions.contains("hashicorp/azurerm") {
        Cloud::Azure
    } else {
        Cloud::Aws
    }
}

/// Removes terminal color codes (the README's commands run without `-no-color`).
fn plain(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\u{1b}' && chars.peek() == Some(&'[') {
            for d in chars.by_ref() {
                if d.is_ascii_alphabetic() {
                    break;
                }
            }
        } else {
            out.push(c);
        }
    }
    out
}

impl Terraform {
    /// `program` in `dir` with the harness's terraform environment; `terraform` on its
    /// `PATH` is the terraform this harness found.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>, dir: &Path) -> Command {
        let bin_dir = self.bin.parent().map(Path::to_path_buf).unwrap_or_default();
        let path = std::env::var_os("PATH").unwrap_or_default();
        let paths = std::iter::once(bin_dir).chain(std::env::split_paths(&path));
        let mut cmd = Command::new(program);
        cmd.current_dir(dir)
            .env("PATH", std::env::join_paths(paths).unwrap_or(path))
            .env("TF_CLI_CONFIG_FILE", &self.config)
            .env("TF_IN_AUTOMATION", "1")
            .env("TF_INPUT", "0")
            .env("CHECKPOINT_DISABLE", "1")
            // Nothing may reach a cloud: no instance metadata, no profile from the machine.
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .env_remove("AWS_PROFILE")
            .env_remove("TF_CLI_ARGS")
            .env_remove("TF_DATA_DIR");
        cmd
    }

    fn run(&self, dir: &Path, args: &[&str]) -> (bool, String) {
        output(self.command(&self.bin, dir).args(args))
    }

    /// Whether the providers a root needs are installed; skips loudly (or fails under
    /// `FLEETFORM_REQUIRE_TOOLS`) when the azurerm mirror is missing.
    pub fn can_check(&self, root: &Path) -> bool {
        if cloud_of(root) == Cloud::Azure && self.azurerm.is_none() {
            skip(
                "terraform (hashicorp/azurerm)",
                "no azurerm mirror at FLEETFORM_AZURERM_MIRROR (default ../shared/terraform-mirror)",
            );
            return false;
        }
        true
    }

    /// `terraform init -backend=false` + `terraform validate` with the real provider.
    pub fn validate(&self, root: &Path) -> Result<(), String> {
        let (ok, text) = self.run(
            root,
            &["init", "-backend=false", "-input=false", "-no-color"],
        );
        if !ok {
            return Err(format!("terraform init failed:\n{text}"));
        }
        let (ok, text) = self.run(root, &["validate", "-no-color"]);
        if ok {
            Ok(())
        } else {
            Err(format!("terraform validate failed:\n{text}"))
        }
    }

    /// `terraform fmt -check -recursive` on a folder.
    pub fn fmt_check(&self, dir: &Path) -> Result<(), String> {
        let (ok, text) = self.run(dir, &["fmt", "-check", "-recursive", "-diff", "-no-color"]);
        if ok { Ok(()) } else { Err(text) }
    }

    /// Runs the test commands of the root's README exactly as written (after an AWS root in
    /// HCL gets the harness's real-provider plan beside its shipped tests), and returns what
    /// they printed.
    pub fn test(&self, root: &Path) -> Result<String, String> {
        // (HCL roots: the same configuration in Terraform JSON plans the same.)
        if cloud_of(root) == Cloud::Aws && root.join("versions.tf").is_file() {
            write_real_provider_test(root)?;
        }
        match self.readme_test(root) {
            (true, printed) => Ok(printed),
            (false, printed) => Err(printed),
        }
    }

    /// The README's test commands as written, in the root as it is: what a user runs.
    pub fn readme_test(&self, root: &Path) -> (bool, String) {
        let commands = match readme_test_commands(root) {
            Ok(c) => c,
            Err(e) => return (false, e),
        };
        let mut printed = String::new();
        for line in &commands {
            let (ok, text) = output(self.command("sh", root).arg("-c").arg(line));
            let _ = writeln!(printed, "$ {line}\n{text}");
            if !ok {
                return (false, plain(&printed));
            }
        }
        (true, plain(&printed))
    }

    /// validate, then the README's test commands, collecting what failed.
    pub fn check(&self, root: &Path) -> RootCheck {
        let started = std::time::Instant::now();
        let mut c = RootCheck {
            root: root.to_path_buf(),
            cloud: cloud_of(root),
            validate: None,
            test: None,
            took: std::time::Duration::ZERO,
        };
        c.validate = Some(self.validate(root));
        if matches!(c.validate, Some(Ok(()))) {
            c.test = Some(self.test(root).map(|_| ()));
        }
        c.took = started.elapsed();
        c
    }
}

fn output(cmd: &mut Command) -> (bool, String) {
    match cmd.output() {
        Ok(out) => (
            out.status.success(),
            format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            ),
        ),
        Err(e) => (false, format!("could not run {cmd:?}: {e}")),
    }
}

/// What one root went through.
#[derive(Debug)]
pub struct RootCheck {
    pub root: PathBuf,
    pub cloud: Cloud,
    /// `init` + `validate`.
    pub validate: Option<Result<(), String>>,
    /// The README's `terraform test` (the shipped tests, plus the real-provider plan on AWS).
    pub test: Option<Result<(), String>>,
    /// How long it all took.
    pub took: std::time::Duration,
}

impl RootCheck {
    pub fn failures(&self, base: &Path) -> Vec<String> {
        let name = self.root.strip_prefix(base).unwrap_or(&self.root).display();
        let mut out = Vec::new();
        for result in [&self.validate, &self.test].into_iter().flatten() {
            if let Err(e) = result {
                out.push(format!("{name}: {e}"));
            }
        }
        if self.test.is_none() && self.validate.is_none() {
            out.push(format!("{name}: not checked"));
        }
        out
    }
}

/// The lines of the first fenced block under the README's `## Test` heading.
pub fn readme_test_commands(root: &Path) -> Result<Vec<String>, String> {
    let readme =
        std::fs::read_to_string(root.join("README.md")).map_err(|e| format!("README.md: {e}"))?;
    let section = readme
        .split("\n## Test")
        .nth(1)
        .ok_or("README.md has no `## Test` section")?;
    let block = section
        .split("```")
        .nth(1)
        .ok_or("README.md's `## Test` section has no code block")?;
    let commands: Vec<String> = block
        .lines()
        .skip(1)
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect();
    if commands.is_empty() {
        return Err("README.md's test block is empty".to_owned());
    }
    Ok(commands)
}

/// Data sources that read the AWS account, and the values the real-provider plan gives
/// them. Everything else must be computed by the provider itself, offline.
fn aws_account_data(ty: &str) -> Option<hcl::Expression> {
    use hcl::Expression as E;
    let obj = |pairs: &[(&str, &str)]| {
        let mut o = hcl::Object::new();
        for (k, v) in pairs {
            o.insert(
                hcl::ObjectKey::Identifier(hcl::Identifier::new(*k).unwrap()),
                E::String((*v).to_owned()),
            );
        }
        E::Object(o)
    };
    Some(match ty {
        "aws_caller_identity" => obj(&[
            ("account_id", "123456789012"),
            ("arn", "arn:aws:iam::123456789012:user/fleetform-harness"),
            ("user_id", "AIDAFLEETFORMHARNESS"),
        ]),
        "aws_iot_endpoint" => obj(&[(
            "endpoint_address",
            "a1b2c3d4e5f6g7-ats.iot.us-east-1.amazonaws.com",
        )]),
        "aws_iot_registration_code" => obj(&[(
            "registration_code",
            "6b86b273ff34fce19d6b804eff5a3f5747ada4eaa22f1d49c01e52ddb7875b4b",
        )]),
        _ => return None,
    })
}

/// Data sources the AWS provider computes without calling AWS.
const AWS_LOCAL_DATA: [&str; 2] = ["aws_iam_policy_document", "aws_partition"];

/// Writes `tests/harness_real_provider.tftest.hcl` into an AWS root: the real provider with
/// fake keys and its `skip_*` flags, overrides for the data sources that read the account,
/// the shipped test file's own variables and overrides, and one plan.
fn write_real_provider_test(root: &Path) -> Result<(), String> {
    use hcl::{Block, Body, Expression};
    let mut data: BTreeSet<(String, String)> = BTreeSet::new();
    let mut region = None;
    for entry in std::fs::read_dir(root)
        .map_err(|e| e.to_string())?
        .flatten()
    {
        let path = entry.path();
        if path.extension().is_none_or(|e| e != "tf") {
            continue;
        }
        let text = std::fs::read_to_string(&path).map_err(|e| e.to_string())?;
        let body: Body = hcl::parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
        for b in body.blocks() {
            match (b.identifier.as_str(), b.labels.as_slice()) {
                ("data", [ty, name]) => {
                    data.insert((ty.as_str().to_owned(), name.as_str().to_owned()));
                }
                ("variable", [name]) if name.as_str() == "region" => {
                    region = b
                        .body
                        .attributes()
                        .find(|a| a.key.as_str() == "default")
                        .and_then(|a| match &a.expr {
                            Expression::String(s) => Some(s.clone()),
                            _ => None,
                        });
                }
                _ => {}
            }
        }
    }
    let mut body = Body::builder();
    body = body.add_block(
        Block::builder("provider")
            .add_label("aws")
            .add_attribute(("region", region.unwrap_or_else(|| "us-east-1".to_owned())))
            .add_attribute(("access_key", "AKIAFLEETFORMHARNESS"))
            .add_attribute(("secret_key", "fleetform-harness-offline-plan"))
            .add_attribute(("skip_credentials_validation", true))
            .add_attribute(("skip_requesting_account_id", true))
            .add_attribute(("skip_metadata_api_check", true))
            .add_attribute(("skip_region_validation", true))
            .build(),
    );
    // The shipped file's variables and overrides (fixtures, remote state) apply here too.
    let shipped = root.join("tests/fleetform.tftest.hcl");
    let shipped: Body = match std::fs::read_to_string(&shipped) {
        Ok(text) => hcl::parse(&text).map_err(|e| format!("{}: {e}", shipped.display()))?,
        Err(_) => Body::default(),
    };
    let mut overridden = BTreeSet::new();
    let mut plan_options = None;
    for b in shipped.blocks() {
        match b.identifier.as_str() {
            // A shipped run that plans a sample (a registry shard) sets the scope here too:
            // its targets, never the refresh-only mode of the runs that check validations,
            // which would plan nothing.
            "run" if plan_options.is_none() => {
                plan_options = b
                    .body
                    .blocks()
                    .find(|o| {
                        o.identifier.as_str() == "plan_options"
                            && o.body.attributes().any(|a| a.key.as_str() == "target")
                    })
                    .cloned();
            }
            "variables" => body = body.add_block(b.clone()),
            "override_data" => {
                if let Some(t) = b.body.attributes().find(|a| a.key.as_str() == "target") {
                    overridden.insert(hcl::format::to_string(&t.expr).unwrap_or_default());
                }
                body = body.add_block(b.clone());
            }
            _ => {}
        }
    }
    let mut unknown = Vec::new();
    for (ty, name) in &data {
        let target = format!("data.{ty}.{name}");
        if overridden.contains(&target) || AWS_LOCAL_DATA.contains(&ty.as_str()) {
            continue;
        }
        match aws_account_data(ty) {
            Some(values) => {
                let traversal: Expression =
                    hcl::expr::Traversal::builder(hcl::expr::Variable::unchecked("data"))
                        .attr(ty.as_str())
                        .attr(name.as_str())
                        .build()
                        .into();
                body = body.add_block(
                    Block::builder("override_data")
                        .add_attribute(("target", traversal))
                        .add_attribute(("values", values))
                        .build(),
                );
            }
            None => unknown.push(target),
        }
    }
    if !unknown.is_empty() {
        return Err(format!(
            "the harness does not know what these data sources read, so the real-provider plan would call AWS: {}; add them to aws_account_data (tests/common/terraform.rs)",
            unknown.join(", ")
        ));
    }
    let command: Expression = hcl::expr::Traversal::builder(hcl::expr::Variable::unchecked("plan"))
        .build()
        .into();
    let mut run = Block::builder("run")
        .add_label("plans_with_the_real_aws_provider")
        .add_attribute(("command", command));
    if let Some(o) = plan_options {
        run = run.add_block(o);
    }
    body = body.add_block(run.build());
    let text = format!(
        "# Written by fleetform's test harness into a temporary copy: never part of the output.\n{}",
        hcl::format::to_string(&body.build()).map_err(|e| e.to_string())?
    );
    std::fs::create_dir_all(root.join("tests")).map_err(|e| e.to_string())?;
    std::fs::write(root.join("tests/harness_real_provider.tftest.hcl"), text)
        .map_err(|e| e.to_string())
}

/// Runs `f` over `items` on `jobs()` threads, keeping the order of `items`.
pub fn parallel<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    let jobs = jobs().min(items.len().max(1));
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results: Vec<std::sync::Mutex<Option<R>>> =
        items.iter().map(|_| std::sync::Mutex::new(None)).collect();
    std::thread::scope(|s| {
        for _ in 0..jobs {
            s.spawn(|| {
                loop {
                    let i = next.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let r = f(item);
                    *results[i].lock().unwrap() = Some(r);
                }
            });
        }
    });
    results
        .into_iter()
        .map(|m| m.into_inner().unwrap().expect("every item ran"))
        .collect()
}

/// Terraform processes to run side by side: `FLEETFORM_TF_JOBS`, else the machine's cores.
pub fn jobs() -> usize {
    std::env::var("FLEETFORM_TF_JOBS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, usize::from))
        .max(1)
}

/// Checks every root under `out` (validate, plan, shipped tests), in parallel; returns the
/// checks and the failures, with paths relative to `out`.
pub fn check_all(tf: &Terraform, out: &Path) -> (Vec<RootCheck>, Vec<String>) {
    let roots: Vec<PathBuf> = roots(out).into_iter().filter(|r| tf.can_check(r)).collect();
    let checks = parallel(&roots, |r| tf.check(r));
    let failures = checks.iter().flat_map(|c| c.failures(out)).collect();
    (checks, failures)
}
