//! `fleetform certs`: the device identity kit's command line.
//!
//! Thin on purpose: parse flags into the library's profiles, read inputs, call the pure
//! generators in `crate::certs`, then hand one [`WritePlan`] to the all-or-nothing writer. The
//! order is the contract: every input (ids, subject fields, passphrases, the CA and its key,
//! output paths) is validated before the first key is generated, and everything is generated
//! before the first file is written. Device batches with fresh keys are the one exception of
//! scale: `certs::batch` issues and writes them a chunk at a time (each chunk all or nothing,
//! `--resume` to continue), so a million devices never sit in memory. Written paths go to stdout (plain lines, or `--format
//! json`); warnings, progress and next steps go to stderr.

use std::io::{IsTerminal as _, Write};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use time::OffsetDateTime;

use crate::certs::profile::{
    DEFAULT_CLAIM_DAYS, DEFAULT_DEVICE_DAYS, DEFAULT_ROOT_DAYS, DEFAULT_ROOT_PATH_LEN,
    DEFAULT_SIGNING_DAYS,
};
use crate::certs::read::{
    ca_paths, load_ca, passphrase_from_env, passphrase_from_file, read_registry, read_text,
};
use crate::certs::write::preflight;
use crate::certs::{
    CaProfile, CertsError, Cloud, DeviceId, FileKind, KeyAlgorithm, LeafProfile, Passphrase,
    RotateProfile, RotationFacts, Subject, VerificationCode, Warning, WritePlan, WrittenFile,
    generate_ca, inspect, issue_claim, layout, rotate_signing_ca, rotated_common_name,
    rotation_instructions, sign_csr, verification_certificate, write_plan,
};

/// Arguments of `fleetform certs`.
#[derive(Debug, Clone, clap::Args)]
#[command(
    about = "Make device certificates offline: CAs, device bundles, cloud verification",
    long_about = "Make the device identity chain offline, outside Terraform state: a root CA, \
signing CAs that mint device certificates, one certificate per device, and the \
proof-of-possession certificates AWS IoT and Azure DPS ask for. Private keys are written with \
mode 0600 into folders created 0700 with a .gitignore that keeps them out of git, never \
through a symlink, never overwritten without --force, and encrypted when a passphrase is given.",
    after_help = "Typical flow:\n  \
fleetform certs init --out certs --organization Acme --country DE\n  \
fleetform certs verify-aws --registration-code \"$CODE\"   # register certs/signing-ca.pem with AWS IoT\n  \
fleetform certs verify-azure --code \"$CODE\"              # verify certs/root-ca.pem in Azure DPS\n  \
fleetform certs device --registry devices.csv --out devices\n\n\
Exit codes: 0 ok, 1 `inspect` found problems, 2 usage or I/O error."
)]
pub struct CertsArgs {
    /// The certs subcommand.
    #[command(subcommand)]
    pub command: CertsCommand,
}

/// `fleetform certs` subcommands.
#[derive(Debug, Clone, clap::Subcommand)]
pub enum CertsCommand {
    /// Create a root CA and a signing CA for a fleet.
    #[command(after_help = "Example:\n  \
fleetform certs init --out certs --organization Acme --country DE --passphrase-env FLEET_CA_PASS\n\n\
Writes root-ca.pem, root-ca.key, signing-ca.pem, signing-ca.key and chain.pem (signing CA + root).\n\
Keep root-ca.key offline: it is only needed again for `certs rotate`.")]
    Init(InitArgs),
    /// Make the AWS IoT verification certificate (CN = registration code) for a CA.
    #[command(after_help = "Example:\n  \
CODE=$(aws iot get-registration-code --query registrationCode --output text)\n  \
fleetform certs verify-aws --ca-dir certs --registration-code \"$CODE\"\n  \
aws iot register-ca-certificate --ca-certificate file://certs/signing-ca.pem \\\n    \
--verification-cert file://certs/aws-verification-signing-ca.pem --set-as-active --allow-auto-registration\n\n\
AWS matches device certificates by issuer, so the signing CA (not the root) is registered.")]
    VerifyAws(VerifyAwsArgs),
    /// Make the Azure DPS proof-of-possession certificate (CN = verification code) for a CA.
    #[command(after_help = "Example:\n  \
fleetform certs verify-azure --ca-dir certs --code \"$CODE\"\n  \
az iot dps certificate verify --dps-name <DPS> --resource-group <RG> --certificate-name <NAME> \\\n    \
--path certs/azure-verification-root-ca.pem --etag <ETAG>\n\n\
The root is verified once; the enrollment group points at the signing CA, which rolls up to it.")]
    VerifyAzure(VerifyAzureArgs),
    /// Issue device certificates: one id, a registry file, or devices' own CSRs.
    #[command(after_help = "Examples:\n  \
fleetform certs device --id sensor-0001\n  \
fleetform certs device --registry devices.csv --organization Acme --country DE\n  \
fleetform certs device --csr sensor-0002.csr\n\n\
Writes <out>/<id>/device.pem, device.key (0600; not with --csr) and chain.pem (device + signing CA,\n\
what the device presents on its first TLS connection). The registry is CSV with a header row\n\
holding an `id` column, or YAML: a list of `{id: ...}`.")]
    Device(DeviceArgs),
    /// Issue a claim certificate for AWS IoT fleet provisioning by claim.
    #[command(after_help = "Example:\n  \
fleetform certs claim --name factory-1-claim --days 365\n  \
aws iot register-certificate --certificate-pem file://claims/factory-1-claim/claim.pem \\\n    \
--ca-certificate-pem file://certs/signing-ca.pem --set-as-active\n\n\
Attach a policy that only allows the fleet provisioning topics to the registered claim certificate.")]
    Claim(ClaimArgs),
    /// Make a new signing CA next to the current one and print what each cloud must be told.
    #[command(after_help = "Example:\n  \
fleetform certs rotate --ca-dir certs --passphrase-env FLEET_CA_PASS\n\n\
Writes <name>.pem, <name>.key, <name>-chain.pem and <name>-rotation.md. The current signing CA\n\
stays valid. AWS IoT: register the new signing CA too (JITP needs the issuing CA registered).\n\
Azure DPS: add it as the enrollment group's secondary certificate.")]
    Rotate(RotateArgs),
    /// Print a summary of certificates and check how they chain.
    #[command(after_help = "Example:\n  \
fleetform certs inspect devices/sensor-0001/chain.pem certs/root-ca.pem\n\n\
Exits 1 when a certificate is expired, a signature does not verify, or a validity window is\n\
not nested in its issuer's.")]
    Inspect(InspectArgs),
}

/// Output format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// One written path per line.
    #[default]
    Plain,
    /// A JSON object.
    Json,
}

/// Where the CA key passphrase comes from (never a plain argument).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CaPassphraseArgs {
    /// Name of the environment variable holding the CA key passphrase.
    #[arg(long, value_name = "VAR", conflicts_with = "passphrase_file")]
    pub passphrase_env: Option<String>,
    /// File holding the CA key passphrase (one trailing newline is ignored).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
}

/// Where the passphrase for generated device/claim keys comes from.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeviceKeyPassphraseArgs {
    /// Encrypt generated device keys with the passphrase in this environment variable.
    /// Slow by design: 600,000 PBKDF2 rounds per key.
    #[arg(long, value_name = "VAR", conflicts_with = "device_passphrase_file")]
    pub device_passphrase_env: Option<String>,
    /// Encrypt generated device keys with the passphrase in this file.
    #[arg(long, value_name = "FILE")]
    pub device_passphrase_file: Option<PathBuf>,
}

/// Subject fields shared by a batch (what an AWS JITP template reads).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SubjectArgs {
    /// Organization (O).
    #[arg(long, value_name = "O")]
    pub organization: Option<String>,
    /// Organizational unit (OU).
    #[arg(long, value_name = "OU")]
    pub organizational_unit: Option<String>,
    /// Country (C), two uppercase letters.
    #[arg(long, value_name = "C")]
    pub country: Option<String>,
    /// State or province (ST).
    #[arg(long, value_name = "ST")]
    pub state: Option<String>,
    /// Locality (L).
    #[arg(long, value_name = "L")]
    pub locality: Option<String>,
}

impl SubjectArgs {
    fn subject(&self, common_name: &str) -> Subject {
        Subject {
            common_name: common_name.to_owned(),
            organization: self.organization.clone(),
            organizational_unit: self.organizational_unit.clone(),
            country: self.country.clone(),
            state: self.state.clone(),
            locality: self.locality.clone(),
            dn_qualifier: None,
        }
    }
}

/// Which CA signs.
#[derive(Debug, Clone, clap::Args)]
pub struct CaArgs {
    /// Directory holding the CA files written by `certs init`.
    #[arg(long, value_name = "DIR", default_value = "certs")]
    pub ca_dir: PathBuf,
}

/// Output options shared by every command.
#[derive(Debug, Clone, clap::Args)]
pub struct OutputArgs {
    /// Replace existing files (private keys included) instead of refusing, and write keys
    /// even to paths git tracks (where `.gitignore` does not keep them out of commits).
    #[arg(long)]
    pub force: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Plain)]
    pub format: Format,
}

/// `certs init`.
#[derive(Debug, Clone, clap::Args)]
pub struct InitArgs {
    /// Take the key type, subject fields and validity from this fleet spec's `identity.x509`
    /// (flags given explicitly still win).
    #[arg(long, value_name = "SPEC")]
    pub spec: Option<PathBuf>,
    /// Directory to write the CA files to.
    #[arg(long, value_name = "DIR", default_value = "certs")]
    pub out: PathBuf,
    /// Key type: ecdsa-p256, rsa2048 or rsa3072 [default: the spec's, else ecdsa-p256].
    #[arg(long, value_name = "ALG")]
    pub key: Option<KeyAlgorithm>,
    /// Root CA common name [default: "ORG Root CA", ORG from --organization].
    #[arg(long, value_name = "CN")]
    pub root_cn: Option<String>,
    /// Signing CA common name [default: root CN with "Root CA" -> "Signing CA"].
    #[arg(long, value_name = "CN")]
    pub signing_cn: Option<String>,
    /// Root CA lifetime in days, at most 10958 (30 years) [default: the spec's, else 7305].
    #[arg(long, value_name = "DAYS")]
    pub root_days: Option<u32>,
    /// Signing CA lifetime in days, at most the root's [default: the spec's, else 3652].
    #[arg(long, value_name = "DAYS")]
    pub signing_days: Option<u32>,
    /// The root's path length constraint: CA levels allowed below it (1 to 3).
    #[arg(long, value_name = "N", default_value_t = DEFAULT_ROOT_PATH_LEN)]
    pub path_len: u8,
    #[command(flatten)]
    pub subject: SubjectArgs,
    #[command(flatten)]
    pub passphrase: CaPassphraseArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `certs verify-aws`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyAwsArgs {
    /// The code from `aws iot get-registration-code` (64 hex digits).
    #[arg(long, value_name = "CODE")]
    pub registration_code: String,
    #[command(flatten)]
    pub ca: CaArgs,
    /// The CA to verify, by file stem in --ca-dir. AWS registers the signing CA.
    #[arg(long = "ca", value_name = "NAME", default_value = layout::SIGNING_NAME)]
    pub ca_name: String,
    /// Directory for the verification certificate [default: --ca-dir].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub passphrase: CaPassphraseArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `certs verify-azure`.
#[derive(Debug, Clone, clap::Args)]
pub struct VerifyAzureArgs {
    /// The code from `az iot dps certificate generate-verification-code`.
    #[arg(long, value_name = "CODE")]
    pub code: String,
    #[command(flatten)]
    pub ca: CaArgs,
    /// The CA to verify, by file stem in --ca-dir. fleetform verifies the root in DPS.
    #[arg(long = "ca", value_name = "NAME", default_value = layout::ROOT_NAME)]
    pub ca_name: String,
    /// Directory for the verification certificate [default: --ca-dir].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub passphrase: CaPassphraseArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `certs device`.
#[derive(Debug, Clone, clap::Args)]
#[command(group(clap::ArgGroup::new("devices").required(true).multiple(true).args(["id", "registry", "csr", "spec"])))]
pub struct DeviceArgs {
    /// Take the key type, subject fields, validity and (without --id/--registry) the device
    /// registry from this fleet spec (flags given explicitly still win).
    #[arg(long, value_name = "SPEC")]
    pub spec: Option<PathBuf>,
    /// Device id (the certificate CN); repeat for several devices.
    #[arg(long, value_name = "ID", conflicts_with = "registry")]
    pub id: Vec<String>,
    /// Registry of devices: CSV with an `id` column, or YAML list of `{id: ...}`.
    #[arg(long, value_name = "FILE", conflicts_with = "csr")]
    pub registry: Option<PathBuf>,
    /// The devices' type (a spec device type), written as the subject's dnQualifier: AWS JITP
    /// and the JITR activator give the thing that type when the fleet has several.
    #[arg(long = "type", value_name = "TYPE")]
    pub device_type: Option<String>,
    /// Sign this device CSR instead of generating a key (repeatable); the id is the CSR's CN.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["key", "device_passphrase_env", "device_passphrase_file"])]
    pub csr: Vec<PathBuf>,
    #[command(flatten)]
    pub ca: CaArgs,
    /// The issuing CA, by file stem in --ca-dir.
    #[arg(long = "ca", value_name = "NAME", default_value = layout::SIGNING_NAME)]
    pub ca_name: String,
    /// Directory for the bundles; each device gets `<out>/<id>/` (or an entry in
    /// `<out>/devices.tar`). Registry runs also write `<out>/manifest.csv`: id, SHA-256
    /// fingerprint of the certificate (AWS IoT's certificate id), serial.
    #[arg(long, value_name = "DIR", default_value = layout::DEVICES_DIR)]
    pub out: PathBuf,
    /// `dirs`: one folder per device; `tar`: one archive `<out>/devices.tar`, entries in
    /// registry order (with a manifest).
    #[arg(long, value_enum, value_name = "LAYOUT", default_value_t = Bundle::Dirs, conflicts_with = "csr")]
    pub bundle: Bundle,
    /// Continue an interrupted run: bundles that exist and check out (this CA, this id, key
    /// and chain beside it, still valid) are kept, never issued again; the rest are issued.
    #[arg(long, conflicts_with_all = ["csr", "force"])]
    pub resume: bool,
    /// Also write FILE: the input of AWS IoT's bulk certificate registration task (one
    /// `{"ThingName", "CertificatePem"}` per device and line), for a bulk-registered registry:
    /// `scripts/register-devices.sh certificates FILE`.
    #[arg(long, value_name = "FILE", conflicts_with = "csr")]
    pub aws_bulk: Option<PathBuf>,
    /// Set when the devices came from `--spec`'s registry (a registry run, with a manifest).
    #[arg(skip)]
    pub ids_from_spec: bool,
    /// Key type: ecdsa-p256, rsa2048 or rsa3072 [default: the spec's, else ecdsa-p256].
    #[arg(long, value_name = "ALG")]
    pub key: Option<KeyAlgorithm>,
    /// Certificate lifetime in days; more than 825 earns a warning [default: the spec's, else
    /// 730].
    #[arg(long, value_name = "DAYS")]
    pub days: Option<u32>,
    #[command(flatten)]
    pub subject: SubjectArgs,
    #[command(flatten)]
    pub passphrase: CaPassphraseArgs,
    #[command(flatten)]
    pub device_passphrase: DeviceKeyPassphraseArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// How `certs device` lays out bundles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Bundle {
    /// `<out>/<id>/device.pem`, `device.key`, `chain.pem`.
    Dirs,
    /// `<out>/devices.tar` with the same paths inside, in registry order.
    Tar,
}

/// `certs claim`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClaimArgs {
    /// Claim certificate name (its CN), e.g. `factory-1-claim`.
    #[arg(long, value_name = "NAME")]
    pub name: String,
    #[command(flatten)]
    pub ca: CaArgs,
    /// The issuing CA, by file stem in --ca-dir.
    #[arg(long = "ca", value_name = "NAME", default_value = layout::SIGNING_NAME)]
    pub ca_name: String,
    /// Directory for the bundle; the claim gets `<out>/<name>/`.
    #[arg(long, value_name = "DIR", default_value = "claims")]
    pub out: PathBuf,
    /// Key type: ecdsa-p256 (default), rsa2048 or rsa3072.
    #[arg(long, value_name = "ALG", default_value_t = KeyAlgorithm::EcdsaP256)]
    pub key: KeyAlgorithm,
    /// Certificate lifetime in days.
    #[arg(long, value_name = "DAYS", default_value_t = DEFAULT_CLAIM_DAYS)]
    pub days: u32,
    #[command(flatten)]
    pub subject: SubjectArgs,
    #[command(flatten)]
    pub passphrase: CaPassphraseArgs,
    #[command(flatten)]
    pub device_passphrase: DeviceKeyPassphraseArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `certs rotate`.
#[derive(Debug, Clone, clap::Args)]
pub struct RotateArgs {
    #[command(flatten)]
    pub ca: CaArgs,
    /// The root CA, by file stem in --ca-dir.
    #[arg(long, value_name = "NAME", default_value = layout::ROOT_NAME)]
    pub root: String,
    /// The signing CA being replaced, by file stem in --ca-dir.
    #[arg(long, value_name = "NAME", default_value = layout::SIGNING_NAME)]
    pub current: String,
    /// File stem for the new signing CA [default: signing-ca-YYYY-MM-DD].
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Common name for the new signing CA [default: current CN with today's date].
    #[arg(long, value_name = "CN")]
    pub common_name: Option<String>,
    /// Key type: ecdsa-p256 (default), rsa2048 or rsa3072.
    #[arg(long, value_name = "ALG", default_value_t = KeyAlgorithm::EcdsaP256)]
    pub key: KeyAlgorithm,
    /// Lifetime in days [default: 3652, or what is left of the root's].
    #[arg(long, value_name = "DAYS")]
    pub days: Option<u32>,
    #[command(flatten)]
    pub passphrase: CaPassphraseArgs,
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `certs inspect`.
#[derive(Debug, Clone, clap::Args)]
pub struct InspectArgs {
    /// PEM files holding one or more certificates.
    #[arg(required = true, value_name = "FILE")]
    pub files: Vec<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Plain)]
    pub format: Format,
}

/// Runs `fleetform certs` with the real clock, stdout and stderr.
pub fn run(args: &CertsArgs) -> anyhow::Result<ExitCode> {
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    let progress = stderr.is_terminal();
    run_with(
        args,
        OffsetDateTime::now_utc(),
        &mut stdout.lock(),
        &mut stderr.lock(),
        progress,
    )
}

/// Runs `fleetform certs` with an explicit clock and output streams (for tests and embedding).
/// `progress` shows a progress bar on the real stderr during batches.
pub fn run_with(
    args: &CertsArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
    err: &mut dyn Write,
    progress: bool,
) -> anyhow::Result<ExitCode> {
    let mut args = args.clone();
    apply_spec(&mut args)?;
    match &args.command {
        CertsCommand::Init(a) => init(a, now, out, err),
        CertsCommand::VerifyAws(a) => verify(
            Cloud::Aws,
            &a.registration_code,
            &a.ca.ca_dir,
            &a.ca_name,
            a.out.as_deref(),
            &a.passphrase,
            &a.output,
            now,
            out,
            err,
        ),
        CertsCommand::VerifyAzure(a) => verify(
            Cloud::Azure,
            &a.code,
            &a.ca.ca_dir,
            &a.ca_name,
            a.out.as_deref(),
            &a.passphrase,
            &a.output,
            now,
            out,
            err,
        ),
        CertsCommand::Device(a) => device(a, now, out, err, progress),
        CertsCommand::Claim(a) => claim(a, now, out, err),
        CertsCommand::Rotate(a) => rotate(a, now, out, err),
        CertsCommand::Inspect(a) => inspect_cmd(a, now, out),
    }
}

fn ca_passphrase(args: &CaPassphraseArgs) -> anyhow::Result<Option<Passphrase>> {
    passphrase(
        args.passphrase_env.as_deref(),
        args.passphrase_file.as_deref(),
        "--passphrase-env",
    )
}

fn device_passphrase(args: &DeviceKeyPassphraseArgs) -> anyhow::Result<Option<Passphrase>> {
    passphrase(
        args.device_passphrase_env.as_deref(),
        args.device_passphrase_file.as_deref(),
        "--device-passphrase-env",
    )
}

fn passphrase(
    env: Option<&str>,
    file: Option<&Path>,
    flag: &str,
) -> anyhow::Result<Option<Passphrase>> {
    if let Some(var) = env {
        let is_name = !var.is_empty()
            && !var.starts_with(|c: char| c.is_ascii_digit())
            && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if !is_name {
            // Do not echo the value: it may be the passphrase itself.
            return Err(CertsError::Passphrase {
                source_desc: format!("`{flag}`"),
                reason: "its value is not an environment variable name".to_owned(),
                hint: format!(
                    "`{flag}` takes the NAME of a variable (e.g. `FLEET_CA_PASS`), never the passphrase itself"
                ),
            }
            .into());
        }
        return Ok(Some(passphrase_from_env(var)?));
    }
    if let Some(path) = file {
        return Ok(Some(passphrase_from_file(path)?));
    }
    Ok(None)
}

fn warn(err: &mut dyn Write, warnings: &[Warning]) -> anyhow::Result<()> {
    for w in warnings {
        // Warnings can quote registry rows and certificate fields.
        let w = w.to_string();
        writeln!(err, "warning: {}", crate::diagnostics::escape::line(&w))?;
    }
    Ok(())
}

fn report(
    out: &mut dyn Write,
    format: Format,
    command: &str,
    written: &[WrittenFile],
    warnings: &[Warning],
    extra: Option<(&str, serde_json::Value)>,
) -> anyhow::Result<()> {
    match format {
        Format::Plain => {
            for file in written {
                writeln!(out, "{}", file.path.display())?;
            }
        }
        Format::Json => {
            let mut value = serde_json::json!({
                "command": command,
                "written": written,
                "warnings": warnings.iter().map(|w| w.0.clone()).collect::<Vec<_>>(),
            });
            if let (Some((key, extra)), Some(map)) = (extra, value.as_object_mut()) {
                map.insert(key.to_owned(), extra);
            }
            writeln!(out, "{}", crate::diagnostics::escape::json_pretty(&value)?)?;
        }
    }
    Ok(())
}

fn init(
    a: &InitArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let root_cn = a.root_cn.clone().unwrap_or_else(|| {
        a.subject.organization.as_ref().map_or_else(
            || "fleetform Root CA".to_owned(),
            |o| format!("{o} Root CA"),
        )
    });
    let mut profile = CaProfile::new(a.subject.subject(&root_cn));
    if let Some(cn) = &a.signing_cn {
        profile.signing_common_name.clone_from(cn);
    }
    profile.key = a.key.unwrap_or_default();
    profile.root_validity_days = a.root_days.unwrap_or(DEFAULT_ROOT_DAYS);
    profile.signing_validity_days = a.signing_days.unwrap_or(DEFAULT_SIGNING_DAYS);
    profile.path_len = a.path_len;
    let mut warnings = profile.validate()?;
    let passphrase = ca_passphrase(&a.passphrase)?;
    if passphrase.is_none() {
        warnings.push(Warning(
            "CA keys are written unencrypted; pass --passphrase-env or --passphrase-file to encrypt them at rest".to_owned(),
        ));
    }
    let targets = [
        (layout::ROOT_CERT, FileKind::Certificate),
        (layout::ROOT_KEY, FileKind::PrivateKey),
        (layout::SIGNING_CERT, FileKind::Certificate),
        (layout::SIGNING_KEY, FileKind::PrivateKey),
        (layout::CHAIN, FileKind::Chain),
    ]
    .map(|(name, kind)| (a.out.join(name), kind));
    preflight(&a.out, &targets, a.output.force)?;

    // generate_ca's warnings are profile.validate()'s, already collected above.
    let (bundle, _) = generate_ca(&profile, now, passphrase.as_ref())?;
    let (root, signing) = (Some(layout::ROOT_NAME), Some(layout::SIGNING_NAME));
    let contents: [(Option<&str>, &[u8]); 5] = [
        (root, bundle.root.cert_pem.as_bytes()),
        (root, bundle.root.key_pem.as_str().as_bytes()),
        (signing, bundle.signing.cert_pem.as_bytes()),
        (signing, bundle.signing.key_pem.as_str().as_bytes()),
        (None, bundle.chain_pem.as_bytes()),
    ];
    let mut plan = WritePlan::new(&a.out);
    for ((path, kind), (owner, bytes)) in targets.iter().zip(contents) {
        plan.add(path, *kind, owner, bytes);
    }
    let written = write_plan(&plan, a.output.force)?;
    warn(err, &warnings)?;
    report(out, a.output.format, "init", &written, &warnings, None)?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::too_many_arguments)]
fn verify(
    cloud: Cloud,
    code: &str,
    ca_dir: &Path,
    ca_name: &str,
    out_dir: Option<&Path>,
    passphrase_args: &CaPassphraseArgs,
    output: &OutputArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let code = VerificationCode::parse(code, cloud)?;
    let name = DeviceId::parse(ca_name, "--ca")?;
    let passphrase = ca_passphrase(passphrase_args)?;
    let prefix = cloud.dir();
    let dir = out_dir.unwrap_or(ca_dir);
    let target = dir.join(format!("{prefix}-verification-{name}.pem"));
    preflight(
        dir,
        &[(target.clone(), FileKind::Certificate)],
        output.force,
    )?;
    let issuer = load_ca(ca_dir, name.as_str(), passphrase.as_ref(), now)?;
    let pem = verification_certificate(&issuer, &code, now)?;
    let mut plan = WritePlan::new(dir);
    plan.add(&target, FileKind::Certificate, Some(name.as_str()), pem);
    let written = write_plan(&plan, output.force)?;
    let (ca_cert, _) = ca_paths(ca_dir, name.as_str());
    let next = cloud.device_side().ca_next_step(&ca_cert, &target);
    writeln!(err, "{next}")?;
    report(
        out,
        output.format,
        &format!("verify-{prefix}"),
        &written,
        &[],
        None,
    )?;
    Ok(ExitCode::SUCCESS)
}

fn device(
    a: &DeviceArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
    err: &mut dyn Write,
    show_progress: bool,
) -> anyhow::Result<ExitCode> {
    // 1. Validate every input before generating anything.
    let ca_name = DeviceId::parse(&a.ca_name, "--ca")?;
    let mut subject = a.subject.subject("placeholder");
    subject.dn_qualifier.clone_from(&a.device_type);
    let mut profile = LeafProfile::new(subject);
    profile.key = a.key.unwrap_or_default();
    profile.validity_days = a.days.unwrap_or(DEFAULT_DEVICE_DAYS);
    let mut warnings = profile.validate()?;
    let ca_pass = ca_passphrase(&a.passphrase)?;
    let key_pass = device_passphrase(&a.device_passphrase)?;

    let mut csrs = Vec::new();
    let mut ids = Vec::new();
    if a.csr.is_empty() {
        if let Some(registry) = &a.registry {
            ids = read_registry(registry)?;
        } else {
            // Case-insensitively, as the registry reader does: `A` and `a` are one Azure
            // registration id, and one bundle folder on a case-insensitive disk.
            let mut seen = std::collections::HashMap::new();
            for (n, raw) in a.id.iter().enumerate() {
                let id = DeviceId::parse(raw, &format!("--id #{}", n + 1))?;
                if let Some(first) = seen.insert(raw.to_ascii_lowercase(), n + 1) {
                    anyhow::bail!(CertsError::DuplicateDeviceId {
                        id: id.to_string(),
                        location: format!(" (--id #{first} and #{})", n + 1),
                    });
                }
                ids.push(id);
            }
        }
        if ids.is_empty() {
            anyhow::bail!(
                "no devices to issue certificates for\nhint: give devices with --id, --registry, --csr or a --spec that registers devices"
            );
        }
    } else {
        if a.id.len() > 1 || (a.id.len() == 1 && a.csr.len() > 1) {
            anyhow::bail!(CertsError::parameter(
                "--id",
                a.id.join(", "),
                "with --csr, --id names the one device whose CSR is given",
                "sign one CSR per --id, or leave out --id to use each CSR's common name",
            ));
        }
        for path in &a.csr {
            let text = read_text(
                path,
                "certificate signing request",
                "check the path given to --csr",
            )?;
            csrs.push((path.clone(), text));
        }
    }
    let expected_id = match a.id.first() {
        Some(raw) if !a.csr.is_empty() => Some(DeviceId::parse(raw, "--id")?),
        _ => None,
    };
    let issuer = load_ca(&a.ca.ca_dir, ca_name.as_str(), ca_pass.as_ref(), now)?;
    issuer.leaf_window(profile.validity_days, now)?;

    if csrs.is_empty() {
        return device_batch(
            a,
            &issuer,
            &ids,
            &profile,
            now,
            key_pass.as_ref(),
            warnings,
            out,
            err,
            show_progress,
        );
    }

    // 2. Sign in memory (CSR ids are only known after parsing, so CSRs are signed first).
    let mut bundles = Vec::with_capacity(csrs.len());
    for (path, text) in &csrs {
        bundles.push(sign_csr(
            &issuer,
            text,
            path,
            expected_id.as_ref(),
            &profile,
            now,
        )?);
    }
    let mut seen = std::collections::HashSet::new();
    for b in &bundles {
        if !seen.insert(b.id.as_str().to_ascii_lowercase()) {
            anyhow::bail!(CertsError::DuplicateDeviceId {
                id: b.id.to_string(),
                location: " (two CSRs carry it)".to_owned(),
            });
        }
    }
    warnings.extend(cloud_remarks(bundles.iter().map(|b| &b.id)));

    // 3. Write all or nothing.
    let mut plan = WritePlan::new(&a.out);
    for b in &bundles {
        plan.add_device(&a.out, b);
    }
    let written = write_plan(&plan, a.output.force)?;
    warn(err, &warnings)?;
    let serials = bundles
        .iter()
        .map(|b| {
            (
                b.id.to_string(),
                serde_json::Value::String(b.serial_hex.clone()),
            )
        })
        .collect();
    report(
        out,
        a.output.format,
        "device",
        &written,
        &warnings,
        Some(("serials", serde_json::Value::Object(serials))),
    )?;
    Ok(ExitCode::SUCCESS)
}

/// Devices with fresh keys: issued and written a chunk at a time (`certs::batch`), into
/// folders or one archive, resumable, with a manifest for registry runs.
#[allow(clippy::too_many_arguments)]
fn device_batch(
    a: &DeviceArgs,
    issuer: &crate::certs::CaIssuer,
    ids: &[DeviceId],
    profile: &LeafProfile,
    now: OffsetDateTime,
    key_pass: Option<&Passphrase>,
    mut warnings: Vec<Warning>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    show_progress: bool,
) -> anyhow::Result<ExitCode> {
    use crate::certs::batch;
    let opts = batch::Options {
        out: &a.out,
        layout: match a.bundle {
            Bundle::Dirs => batch::Layout::Folders,
            Bundle::Tar => batch::Layout::Tar,
        },
        resume: a.resume,
        force: a.output.force,
        manifest: a.registry.is_some() || a.ids_from_spec || a.bundle == Bundle::Tar,
        aws_bulk: a.aws_bulk.as_deref(),
        key_passphrase: key_pass,
    };
    let bar = progress_bar(show_progress && ids.len() > 1, ids.len());
    let done = batch::run(issuer, ids, profile, now, &opts, &|n| {
        bar.set_position(n as u64);
    })?;
    bar.finish_and_clear();
    warnings.extend(cloud_remarks(ids.iter()));
    warn(err, &warnings)?;
    if a.resume {
        writeln!(
            err,
            "kept {} existing bundle(s) that check out; issued {} ({} of them to complete a bundle cut off mid-write)",
            done.kept, done.issued, done.completed
        )?;
    }
    let serials = done
        .serials
        .into_iter()
        .map(|(id, serial)| (id, serde_json::Value::String(serial)))
        .collect();
    report(
        out,
        a.output.format,
        "device",
        &done.written,
        &warnings,
        Some(("serials", serde_json::Value::Object(serials))),
    )?;
    Ok(ExitCode::SUCCESS)
}

fn progress_bar(show: bool, len: usize) -> indicatif::ProgressBar {
    if !show {
        return indicatif::ProgressBar::hidden();
    }
    let bar = indicatif::ProgressBar::with_draw_target(
        Some(len as u64),
        indicatif::ProgressDrawTarget::stderr(),
    );
    if let Ok(style) = indicatif::ProgressStyle::with_template(
        "{spinner} issuing {pos}/{len} device certificates [{bar:30}] {eta} left",
    ) {
        bar.set_style(style.progress_chars("=> "));
    }
    bar
}

/// One warning per cloud rule, naming how many ids break it and the first one.
fn cloud_remarks<'a>(ids: impl Iterator<Item = &'a DeviceId>) -> Vec<Warning> {
    let mut counts: Vec<(&'static str, usize, String)> = Vec::new();
    for id in ids {
        for remark in id.cloud_remarks() {
            match counts.iter_mut().find(|(r, _, _)| *r == remark) {
                Some(entry) => entry.1 += 1,
                None => counts.push((remark, 1, id.to_string())),
            }
        }
    }
    counts
        .into_iter()
        .map(|(remark, n, first)| {
            Warning(format!(
                "{n} device id(s) break a cloud naming rule: {remark} (first: `{first}`)"
            ))
        })
        .collect()
}

fn claim(
    a: &ClaimArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let name = DeviceId::parse(&a.name, "--name")?;
    let ca_name = DeviceId::parse(&a.ca_name, "--ca")?;
    let mut profile = LeafProfile::new(a.subject.subject("placeholder"));
    profile.key = a.key;
    profile.validity_days = a.days;
    let warnings = profile.validate()?;
    let ca_pass = ca_passphrase(&a.passphrase)?;
    let key_pass = device_passphrase(&a.device_passphrase)?;
    let dir = a.out.join(name.as_str());
    let targets = [
        (dir.join("claim.pem"), FileKind::Certificate),
        (dir.join("claim.key"), FileKind::PrivateKey),
        (dir.join("chain.pem"), FileKind::Chain),
    ];
    preflight(&a.out, &targets, a.output.force)?;
    let issuer = load_ca(&a.ca.ca_dir, ca_name.as_str(), ca_pass.as_ref(), now)?;
    let bundle = issue_claim(&issuer, &name, &profile, now, key_pass.as_ref())?;
    let mut plan = WritePlan::new(&a.out);
    let owner = Some(name.as_str());
    plan.add(
        &targets[0].0,
        FileKind::Certificate,
        owner,
        &bundle.cert_pem,
    );
    if let Some(key) = &bundle.key_pem {
        plan.add(&targets[1].0, FileKind::PrivateKey, owner, key.as_str());
    }
    plan.add(&targets[2].0, FileKind::Chain, owner, &bundle.chain_pem);
    let written = write_plan(&plan, a.output.force)?;
    warn(err, &warnings)?;
    report(out, a.output.format, "claim", &written, &warnings, None)?;
    Ok(ExitCode::SUCCESS)
}

fn rotate(
    a: &RotateArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let root_name = DeviceId::parse(&a.root, "--root")?;
    let current_name = DeviceId::parse(&a.current, "--current")?;
    let new_name = match &a.name {
        Some(n) => DeviceId::parse(n, "--name")?,
        None => DeviceId::parse(
            &format!(
                "{}-{}",
                layout::SIGNING_NAME,
                crate::certs::issue::date(now)
            ),
            "--name",
        )?,
    };
    if new_name == root_name || new_name == current_name {
        // Not even with --force: the root key would be replaced by the new signing CA's.
        anyhow::bail!(CertsError::parameter(
            "--name",
            &new_name,
            "it names a CA this rotation reads (the root or the current signing CA), so its files would be replaced",
            "choose a new name, e.g. leave out --name for `signing-ca-<date>`",
        ));
    }
    let passphrase = ca_passphrase(&a.passphrase)?;
    let dir = &a.ca.ca_dir;

    let (current_cert_path, _) = ca_paths(dir, current_name.as_str());
    let current_text = read_text(
        &current_cert_path,
        "current signing CA certificate",
        "pass --current NAME with the file stem of the signing CA being replaced",
    )?;
    let current = inspect(&[(&current_cert_path, &current_text)], now)?;
    let Some(current) = current.certificates.first() else {
        anyhow::bail!("no certificate in `{}`", current_cert_path.display());
    };
    let old_not_after = time::OffsetDateTime::parse(
        &current.not_after,
        &time::format_description::well_known::Rfc3339,
    )
    .ok();

    let (cert_path, key_path) = ca_paths(dir, new_name.as_str());
    let chain_path = dir.join(format!("{new_name}-chain.pem"));
    let notes_path = dir.join(format!("{new_name}-rotation.md"));
    let targets = [
        (cert_path.clone(), FileKind::Certificate),
        (key_path.clone(), FileKind::PrivateKey),
        (chain_path.clone(), FileKind::Chain),
        (notes_path.clone(), FileKind::Instructions),
    ];
    preflight(dir, &targets, a.output.force)?;

    let root = load_ca(dir, root_name.as_str(), passphrase.as_ref(), now)?;
    let mut warnings = Vec::new();
    let days = if let Some(days) = a.days {
        days
    } else {
        let left = u32::try_from((root.not_after() - now).whole_days().max(1)).unwrap_or(1);
        if left < DEFAULT_SIGNING_DAYS {
            warnings.push(Warning(format!(
                "the root expires in {left} days, so the new signing CA gets {left} days instead of {DEFAULT_SIGNING_DAYS}; plan a new root with `certs init`"
            )));
        }
        left.min(DEFAULT_SIGNING_DAYS)
    };
    let common_name = a
        .common_name
        .clone()
        .unwrap_or_else(|| rotated_common_name(&current.common_name, now));
    let profile = RotateProfile {
        common_name: common_name.clone(),
        key: a.key,
        validity_days: days,
    };
    let (material, chain) = rotate_signing_ca(
        &root,
        Some(&current.common_name),
        &profile,
        now,
        passphrase.as_ref(),
    )?;
    if passphrase.is_none() {
        warnings.push(Warning(
            "the new signing CA key is written unencrypted; pass --passphrase-env or --passphrase-file to encrypt it".to_owned(),
        ));
    }
    let instructions = rotation_instructions(&RotationFacts {
        ca_dir: dir,
        new_name: new_name.as_str(),
        new_common_name: &common_name,
        old_name: current_name.as_str(),
        old_not_after,
    });
    let mut plan = WritePlan::new(dir);
    let owner = Some(new_name.as_str());
    plan.add(&cert_path, FileKind::Certificate, owner, &material.cert_pem);
    plan.add(
        &key_path,
        FileKind::PrivateKey,
        owner,
        material.key_pem.as_str(),
    );
    plan.add(&chain_path, FileKind::Chain, owner, &chain);
    plan.add(&notes_path, FileKind::Instructions, owner, &instructions);
    let written = write_plan(&plan, a.output.force)?;
    warn(err, &warnings)?;
    report(
        out,
        a.output.format,
        "rotate",
        &written,
        &warnings,
        Some((
            "instructions",
            serde_json::Value::String(instructions.clone()),
        )),
    )?;
    if a.output.format == Format::Plain {
        writeln!(out, "\n{instructions}")?;
    }
    Ok(ExitCode::SUCCESS)
}

fn inspect_cmd(
    a: &InspectArgs,
    now: OffsetDateTime,
    out: &mut dyn Write,
) -> anyhow::Result<ExitCode> {
    let mut texts = Vec::with_capacity(a.files.len());
    for path in &a.files {
        texts.push(read_text(path, "certificate file", "check the path")?);
    }
    let inputs: Vec<(&Path, &str)> = a
        .files
        .iter()
        .map(PathBuf::as_path)
        .zip(texts.iter().map(String::as_str))
        .collect();
    let report = inspect(&inputs, now)?;
    match a.format {
        Format::Json => {
            writeln!(
                out,
                "{}",
                crate::diagnostics::escape::json_pretty(&report).context("rendering JSON")?
            )?;
        }
        Format::Plain => {
            // Subjects and issuers are whatever the certificate files say: escaped below.
            let final_out = out;
            let mut buf: Vec<u8> = Vec::new();
            let out = &mut buf;
            for c in &report.certificates {
                writeln!(out, "#{} {} ({})", c.index, c.subject, c.source)?;
                writeln!(out, "    issuer:     {}", c.issuer)?;
                writeln!(out, "    signed by:  {}", c.signed_by)?;
                writeln!(out, "    validity:   {} .. {}", c.not_before, c.not_after)?;
                let ca = if c.is_ca {
                    c.path_len
                        .map_or_else(|| "CA:TRUE".to_owned(), |n| format!("CA:TRUE, pathlen {n}"))
                } else {
                    "CA:FALSE".to_owned()
                };
                writeln!(out, "    basic:      {ca}")?;
                writeln!(out, "    key usage:  {}", join_or_none(&c.key_usage))?;
                writeln!(
                    out,
                    "    ext usage:  {}",
                    join_or_none(&c.extended_key_usage)
                )?;
                writeln!(out, "    key:        {}", c.key)?;
                writeln!(out, "    serial:     {}", c.serial)?;
                writeln!(out, "    sha256:     {}", c.sha256_fingerprint)?;
            }
            if report.problems.is_empty() {
                writeln!(
                    out,
                    "ok: {} certificate(s), no problems",
                    report.certificates.len()
                )?;
            } else {
                for p in &report.problems {
                    writeln!(out, "problem: {p}")?;
                }
            }
            let text = String::from_utf8_lossy(&buf);
            final_out.write_all(crate::diagnostics::escape::text(&text).as_bytes())?;
        }
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn join_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "-".to_owned()
    } else {
        items.join(", ")
    }
}

/// What `--spec` contributes: the spec's identity settings and its registered devices.
struct SpecDefaults {
    identity: crate::model::Identity,
    /// `fleet.registry`, file and inline entries alike, as validated for `build`.
    device_ids: Vec<String>,
    /// `fleet.device_types`, by name.
    device_types: Vec<String>,
}

/// Reads and validates a fleet spec; an invalid spec is [`InvalidSpec`], showing its
/// diagnostics.
fn spec_defaults(path: &Path) -> anyhow::Result<SpecDefaults> {
    let outcome = super::load_spec(path)?;
    let Some(v) = outcome.validated else {
        return Err(InvalidSpec(crate::diagnostics::render_human(
            &outcome.diagnostics,
            &outcome.sources,
            false,
        ))
        .into());
    };
    Ok(SpecDefaults {
        device_ids: v
            .model
            .fleet
            .registry
            .iter()
            .map(|d| d.id().to_owned())
            .collect(),
        device_types: v
            .model
            .fleet
            .device_types
            .iter()
            .map(|t| t.name.clone())
            .collect(),
        identity: v.model.identity,
    })
}

/// `--spec` names an invalid spec; the message is its rendered diagnostics. The CLI exits 1 for
/// it, as every other command does for an invalid spec.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct InvalidSpec(String);

fn key_of(k: crate::model::KeyAlgorithm) -> KeyAlgorithm {
    match k {
        crate::model::KeyAlgorithm::EcdsaP256 => KeyAlgorithm::EcdsaP256,
        crate::model::KeyAlgorithm::Rsa2048 => KeyAlgorithm::Rsa2048,
        crate::model::KeyAlgorithm::Rsa3072 => KeyAlgorithm::Rsa3072,
    }
}

fn fill_subject(args: &mut SubjectArgs, s: &crate::model::Subject) {
    let fill = |slot: &mut Option<String>, v: &Option<String>| {
        if slot.is_none() {
            slot.clone_from(v);
        }
    };
    fill(&mut args.organization, &s.organization);
    fill(&mut args.organizational_unit, &s.organizational_unit);
    fill(&mut args.country, &s.country);
    fill(&mut args.state, &s.state);
    fill(&mut args.locality, &s.locality);
}

/// Applies `--spec`: the spec's identity settings fill every flag that was not given, and
/// without --id, --registry or --csr the spec's registered devices are the ones to issue.
fn apply_spec(args: &mut CertsArgs) -> anyhow::Result<()> {
    match &mut args.command {
        CertsCommand::Init(a) => {
            let Some(path) = a.spec.clone() else {
                return Ok(());
            };
            let identity = spec_defaults(&path)?.identity;
            fill_subject(&mut a.subject, &identity.subject);
            a.key.get_or_insert(key_of(identity.key_algorithm));
            a.root_days.get_or_insert(identity.validity.root_ca_days);
            a.signing_days
                .get_or_insert(identity.validity.signing_ca_days);
        }
        CertsCommand::Device(a) => {
            let Some(path) = a.spec.clone() else {
                return Ok(());
            };
            let spec = spec_defaults(&path)?;
            if let Some(t) = &a.device_type
                && !spec.device_types.contains(t)
            {
                anyhow::bail!(CertsError::parameter(
                    "--type",
                    t,
                    format!("`{}` has no such device type", path.display()),
                    format!("use one of: {}", join_or_none(&spec.device_types)),
                ));
            }
            fill_subject(&mut a.subject, &spec.identity.subject);
            a.key.get_or_insert(key_of(spec.identity.key_algorithm));
            a.days.get_or_insert(spec.identity.validity.device_days);
            if a.id.is_empty() && a.csr.is_empty() && a.registry.is_none() {
                if spec.device_ids.is_empty() {
                    anyhow::bail!(
                        "`{}` registers no devices (`fleet.registry` is empty or missing)\nhint: give devices with --id, --registry or --csr",
                        path.display()
                    );
                }
                a.id = spec.device_ids;
                a.ids_from_spec = true;
            }
        }
        _ => {}
    }
    Ok(())
}
