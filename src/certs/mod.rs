//! The device identity kit: root and signing CAs, device certificates and the cloud
//! proof-of-possession certificates, made offline and kept out of Terraform state.
//!
//! Device manufacturing needs a chain (a root CA registered with the cloud, signing CAs that
//! mint device certificates, one leaf per device). Doing it with Terraform's `tls` provider
//! leaves private keys in state; doing it with openssl scripts leaves every team to rediscover
//! which extensions AWS IoT and Azure DPS accept. This module does it in one place:
//!
//! - [`profile`]: plain-data parameters ([`CaProfile`], [`LeafProfile`], [`Subject`],
//!   [`KeyAlgorithm`]) and the policy that refuses weak ones;
//! - [`issue`]: pure, in-memory generation ([`generate_ca`], [`issue_device`],
//!   [`issue_devices`], [`sign_csr`], [`issue_claim`], [`verification_certificate`],
//!   [`rotate_signing_ca`]); the clock is a parameter;
//! - [`key`]: key generation and PKCS#8 (optionally encrypted) encoding;
//! - [`id`], [`registry`]: validated device ids and registry files;
//! - [`mod@inspect`]: chain summaries; [`rotate`]: what each cloud must be told on rotation;
//! - [`batch`]: a registry's certificates at scale: chunked, resumable, folders or one tar
//!   archive, with a manifest of fingerprints (it writes the archive and the manifest itself,
//!   bundle folders through [`mod@write`]);
//! - [`read`], [`mod@write`]: the only I/O, kept apart so a run validates and generates everything
//!   before it writes anything, and writes all or nothing.
//!
//! Which CA each cloud registers is decided in [`rotate`]'s docs: AWS IoT registers the signing
//! CA (it matches device certificates by issuer), Azure DPS verifies the root and uses the
//! signing CA in the enrollment group.

pub mod batch;
pub mod error;
pub mod git;
pub mod id;
pub mod inspect;
pub mod issue;
pub mod key;
pub mod profile;
pub mod read;
pub mod registry;
pub mod rotate;
pub mod write;

/// The cloud a verification code is for: the registration's id, whose device side knows the
/// code's format.
pub use crate::clouds::Cloud;
pub use error::{CertsError, Result};
pub use id::{DeviceId, VerificationCode};
pub use inspect::{CertSummary, ChainReport, inspect};
pub use issue::{
    CaBundle, CaIssuer, CaMaterial, DeviceBundle, RotateProfile, generate_ca, issue_claim,
    issue_device, issue_devices, rotate_signing_ca, rotated_common_name, sign_csr,
    verification_certificate,
};
pub use key::{Passphrase, PrivateKey, PrivateKeyPem};
pub use profile::{CaProfile, KeyAlgorithm, LeafProfile, Subject, Warning};
pub use rotate::{RotationFacts, rotation_instructions};
pub use write::{FileKind, WritePlan, WrittenFile, device_files, write_plan};

/// File names `certs init` writes, relative to its output directory.
pub mod layout {
    /// Root CA certificate.
    pub const ROOT_CERT: &str = "root-ca.pem";
    /// Root CA private key.
    pub const ROOT_KEY: &str = "root-ca.key";
    /// Signing CA certificate.
    pub const SIGNING_CERT: &str = "signing-ca.pem";
    /// Signing CA private key.
    pub const SIGNING_KEY: &str = "signing-ca.key";
    /// Signing CA followed by the root.
    pub const CHAIN: &str = "chain.pem";
    /// File stem of the root CA, for `--ca`.
    pub const ROOT_NAME: &str = "root-ca";
    /// File stem of the first signing CA, for `--ca`.
    pub const SIGNING_NAME: &str = "signing-ca";
    /// Default folder of `certs device` (`--out`), and the folder the AWS module reads device
    /// certificates from: `<dir>/<id>/device.pem`.
    pub const DEVICES_DIR: &str = "devices";
    /// Per-device certificate, in `<out>/<id>/`.
    pub const DEVICE_CERT: &str = "device.pem";
    /// Per-device private key.
    pub const DEVICE_KEY: &str = "device.key";
    /// Per-device chain (device certificate, then signing CA).
    pub const DEVICE_CHAIN: &str = "chain.pem";
}
