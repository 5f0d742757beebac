//! Reading the kit's inputs from disk and the environment: CA files, CSRs, registries and
//! passphrases.
//!
//! The counterpart of `write.rs`: the only other place in the kit that does I/O. Each function
//! reads, then hands the text to the pure parser in the matching module, so errors name the file
//! and carry a hint. Passphrases come from an environment variable named by the user or from a
//! file, never from a command-line argument, which would end up in shell history and `ps` output.

use std::path::{Path, PathBuf};

use time::OffsetDateTime;

use super::error::{CertsError, Result};
use super::id::DeviceId;
use super::issue::CaIssuer;
use super::key::Passphrase;
use super::registry::{RegistryFormat, parse_registry};

/// The most [`read_text`] reads: a registry of a million devices fits many times over.
const MAX_TEXT_BYTES: u64 = crate::spec::load::MAX_REGISTRY_BYTES as u64;

/// Reads a text file; `what` and `hint` go into the error. The file is opened as the spec is
/// (see [`crate::safe_fs::open_named`]): no link, only a regular file, opened without blocking
/// (a FIFO or a device is refused, not waited on), and at most 512 MiB.
pub fn read_text(path: &Path, what: &'static str, hint: &str) -> Result<String> {
    let fail = |io: std::io::Error, hint: &str| CertsError::Read {
        what,
        path: path.to_owned(),
        io,
        hint: hint.to_owned(),
    };
    let mut file = match crate::safe_fs::open_named(path) {
        Ok(Some(file)) => file,
        Ok(None) => {
            let io = std::fs::symlink_metadata(path)
                .err()
                .unwrap_or_else(|| std::io::ErrorKind::NotFound.into());
            return Err(fail(io, hint));
        }
        Err(crate::safe_fs::Error::Io { source, .. }) => return Err(fail(source, hint)),
        Err(e) => {
            return Err(fail(
                std::io::Error::other(e.to_string().lines().next().unwrap_or_default().to_owned()),
                "pass a regular file: fleetform reads no links, pipes or devices",
            ));
        }
    };
    let len = file.metadata().map_err(|io| fail(io, hint))?.len();
    if len > MAX_TEXT_BYTES {
        let mib = |n: u64| n / (1024 * 1024);
        return Err(fail(
            std::io::Error::other(format!(
                "it is {} MiB; fleetform reads at most {} MiB",
                mib(len),
                mib(MAX_TEXT_BYTES)
            )),
            hint,
        ));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut file, MAX_TEXT_BYTES + 1),
        &mut bytes,
    )
    .map_err(|io| fail(io, hint))?;
    String::from_utf8(bytes).map_err(|_| CertsError::Read {
        what,
        path: path.to_owned(),
        io: std::io::Error::new(std::io::ErrorKind::InvalidData, "it is not UTF-8 text"),
        hint: "pass a PEM/CSV/YAML text file, not a binary (DER) one".to_owned(),
    })
}

/// The certificate and key paths of CA `name` in `dir`: `<dir>/<name>.pem`, `<dir>/<name>.key`.
pub fn ca_paths(dir: &Path, name: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{name}.pem")),
        dir.join(format!("{name}.key")),
    )
}

/// Loads CA `name` from `dir` (see [`ca_paths`]).
pub fn load_ca(
    dir: &Path,
    name: &str,
    passphrase: Option<&Passphrase>,
    now: OffsetDateTime,
) -> Result<CaIssuer> {
    let (cert_path, key_path) = ca_paths(dir, name);
    let hint = format!(
        "run `fleetform certs init --out {}` first, or point --ca-dir/--ca at an existing CA",
        dir.display()
    );
    let cert = read_text(&cert_path, "CA certificate", &hint)?;
    let key = read_text(&key_path, "CA private key", &hint)?;
    CaIssuer::from_pem(&cert, &cert_path, &key, &key_path, passphrase, now)
}

/// Reads and validates a device registry (CSV or YAML, by extension).
pub fn read_registry(path: &Path) -> Result<Vec<DeviceId>> {
    let format = RegistryFormat::from_path(path)?;
    let text = read_text(
        path,
        "device registry",
        "check the path given to --registry",
    )?;
    parse_registry(&text, format, path)
}

/// Reads a passphrase from the environment variable `var`.
pub fn passphrase_from_env(var: &str) -> Result<Passphrase> {
    let source = format!("environment variable `{var}`");
    match std::env::var(var) {
        Ok(value) => Passphrase::new(value, source),
        Err(std::env::VarError::NotPresent) => Err(CertsError::Passphrase {
            source_desc: source,
            reason: "it is not set".to_owned(),
            hint: format!(
                "export `{var}` before running, or pass --passphrase-file; give the variable's name, not the passphrase itself"
            ),
        }),
        Err(std::env::VarError::NotUnicode(_)) => Err(CertsError::Passphrase {
            source_desc: source,
            reason: "it is not valid UTF-8".to_owned(),
            hint: "use a UTF-8 passphrase".to_owned(),
        }),
    }
}

/// Reads a passphrase from a file; one trailing newline (`\n` or `\r\n`) is dropped.
pub fn passphrase_from_file(path: &Path) -> Result<Passphrase> {
    let source = format!("file `{}`", path.display());
    let mut text = std::fs::read_to_string(path).map_err(|e| CertsError::Passphrase {
        source_desc: source.clone(),
        reason: e.to_string(),
        hint: "check the path given to --passphrase-file".to_owned(),
    })?;
    if text.ends_with('\n') {
        text.pop();
        if text.ends_with('\r') {
            text.pop();
        }
    }
    Passphrase::new(text, source)
}
