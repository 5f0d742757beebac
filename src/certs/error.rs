//! The one error type of the device identity kit.
//!
//! Every failure a user can cause (a bad id, a weak parameter, an unreadable or mismatched CA, a
//! wrong passphrase, a malformed CSR, a file that already exists) has its own variant, so callers
//! can match on it and the message can name the file or value and end with a `hint:` line that
//! says how to fix it. Messages are lowercase and put values in backticks, like the rest of
//! fleetform.

use std::path::PathBuf;

/// Errors from generating, loading, signing and writing certificates and keys.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CertsError {
    /// A device id (or claim name) that cannot be used as a certificate CN and directory name.
    #[error(
        "invalid device id `{id}`{location}: {reason}\nhint: device ids use only letters, digits and `._:-`, 1 to 128 characters, not starting with `.`"
    )]
    InvalidDeviceId {
        /// The id, with control characters escaped and long ids shortened.
        id: String,
        /// Where the id came from, e.g. ` (line 4 of \`registry.csv\`)`, or empty.
        location: String,
        /// What is wrong with it.
        reason: String,
    },

    /// The same device id appears twice (compared case-insensitively, as file systems may).
    #[error(
        "device id `{id}` appears twice{location}\nhint: every device needs its own id; bundle directories of ids that differ only in case collide on macOS and Windows"
    )]
    DuplicateDeviceId {
        /// The repeated id.
        id: String,
        /// Where the second occurrence is.
        location: String,
    },

    /// A registry file that cannot be parsed.
    #[error("cannot read device registry `{path}`: {reason}\nhint: {hint}")]
    Registry {
        /// The registry file.
        path: PathBuf,
        /// What went wrong, with a line number where known.
        reason: String,
        /// How to fix it.
        hint: String,
    },

    /// A parameter that is malformed or too weak to use.
    #[error("refusing {what} `{value}`: {reason}\nhint: {hint}")]
    Parameter {
        /// Which parameter, e.g. `key algorithm` or `--days`.
        what: String,
        /// The value given.
        value: String,
        /// Why it is refused.
        reason: String,
        /// What to do instead.
        hint: String,
    },

    /// A file could not be read.
    #[error("cannot read {what} `{path}`: {io}\nhint: {hint}")]
    Read {
        /// What the file was expected to hold.
        what: &'static str,
        /// The file.
        path: PathBuf,
        /// The underlying error (part of the message, not a `source()`, so renderers that
        /// print error chains do not repeat it after the hint).
        io: std::io::Error,
        /// How to fix it.
        hint: String,
    },

    /// A certificate file that does not hold a usable certificate.
    #[error("cannot use certificate `{path}`: {reason}\nhint: {hint}")]
    Certificate {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: String,
    },

    /// A private key file that does not hold a usable key.
    #[error("cannot use private key `{path}`: {reason}\nhint: {hint}")]
    Key {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: String,
    },

    /// An encrypted key and no passphrase to open it.
    #[error(
        "private key `{path}` is encrypted and no passphrase was given\nhint: pass `--passphrase-env VAR` (the name of an environment variable holding it) or `--passphrase-file FILE`"
    )]
    PassphraseRequired {
        /// The encrypted key file.
        path: PathBuf,
    },

    /// Decryption failed: the passphrase is wrong (or the file is damaged).
    #[error(
        "cannot decrypt private key `{path}`: wrong passphrase, or the file is damaged\nhint: check the passphrase given with `--passphrase-env`/`--passphrase-file`; a trailing newline in a passphrase file is ignored, other whitespace is not"
    )]
    WrongPassphrase {
        /// The encrypted key file.
        path: PathBuf,
    },

    /// The passphrase itself could not be obtained or is unusable.
    #[error("cannot use passphrase from {source_desc}: {reason}\nhint: {hint}")]
    Passphrase {
        /// E.g. ``environment variable `CA_PASS` ``.
        source_desc: String,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: String,
    },

    /// The CA certificate and the CA key do not belong together.
    #[error(
        "private key `{key}` does not belong to certificate `{cert}`\nhint: the two files must come from the same `fleetform certs init` or `certs rotate` run; check --ca-dir and --ca"
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },

    /// A certificate signing request that cannot be used.
    #[error("cannot sign certificate signing request `{path}`: {reason}\nhint: {hint}")]
    Csr {
        /// The CSR file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: String,
    },

    /// Output files already exist and `--force` was not given.
    #[error(
        "refusing to overwrite `{first}`{more}\nhint: nothing was written; pass `--force` to replace existing files, or choose another output directory"
    )]
    AlreadyExists {
        /// The first existing file.
        first: PathBuf,
        /// ` (and N more existing files)` or empty.
        more: String,
    },

    /// Private keys would land next to Terraform configuration.
    #[error(
        "refusing to write private keys into `{dir}`: it holds Terraform files (`{example}`)\nhint: keys must never end up in Terraform files or state; write them to a directory outside the Terraform root and keep it out of version control"
    )]
    TerraformDirectory {
        /// The directory.
        dir: PathBuf,
        /// One Terraform file found in it.
        example: String,
    },

    /// A private key would go to a path git tracks, and `--force` was not given.
    #[error(
        "refusing to write a private key to `{path}`{more}: git tracks that path, so `.gitignore` does not apply and the next `git commit -a` would publish the key\nhint: nothing was written; run `git rm --cached` on it (and rotate a key that was ever committed), or pass `--force`"
    )]
    TrackedKey {
        /// The first tracked key path.
        path: PathBuf,
        /// ` (and N more)` or empty.
        more: String,
    },

    /// An output path cannot be used (e.g. a directory where a file should go).
    #[error("cannot write `{path}`: {reason}\nhint: nothing was written; {hint}")]
    OutputPath {
        /// The path.
        path: PathBuf,
        /// What is wrong.
        reason: String,
        /// How to fix it.
        hint: String,
    },

    /// Writing failed midway; what this run created has been removed again.
    #[error("cannot write `{path}`: {io}\nhint: {cleanup}")]
    Write {
        /// The file or directory being written.
        path: PathBuf,
        /// The underlying error (part of the message, not a `source()`).
        io: std::io::Error,
        /// What was rolled back.
        cleanup: String,
    },

    /// A failure inside the certificate or key machinery that input cannot explain.
    #[error(
        "{context} failed: {reason}\nhint: this is a bug in fleetform; please report it with the command you ran"
    )]
    Internal {
        /// What was being done.
        context: &'static str,
        /// The underlying message.
        reason: String,
    },
}

/// Result alias for the certs module.
pub type Result<T, E = CertsError> = std::result::Result<T, E>;

impl CertsError {
    pub(crate) fn internal(context: &'static str, reason: impl std::fmt::Display) -> Self {
        Self::Internal {
            context,
            reason: reason.to_string(),
        }
    }

    pub(crate) fn parameter(
        what: impl Into<String>,
        value: impl std::fmt::Display,
        reason: impl Into<String>,
        hint: impl Into<String>,
    ) -> Self {
        Self::Parameter {
            what: what.into(),
            value: value.to_string(),
            reason: reason.into(),
            hint: hint.into(),
        }
    }
}
