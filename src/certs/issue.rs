//! Making certificates: the CA pair, device and claim leaves, CSR signing, cloud
//! proof-of-possession certificates and signing CA rotation.
//!
//! Everything here is in memory and takes the clock as a parameter, so tests are deterministic
//! and the CLI can validate every input, generate everything, and only then write. Extensions
//! follow what AWS IoT and Azure DPS accept: CAs get basicConstraints CA:TRUE (critical) with a
//! path length, keyUsage keyCertSign + cRLSign and a subject key identifier; leaves get CA:FALSE,
//! digitalSignature (+ keyEncipherment for RSA), extendedKeyUsage clientAuth and subject/authority
//! key identifiers. Serial numbers are 20 random bytes, positive (the top bit is cleared and the
//! next one set, so every serial encodes in exactly 20 octets with 158 random bits).
//!
//! Long because CA, leaf, CSR-signed and verification certificates share one parameter
//! builder and one set of checks; each kind is a short function here.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, DnValue,
    ExtendedKeyUsagePurpose, IsCa, KeyUsagePurpose, SerialNumber,
};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

use super::error::{CertsError, Result};
use super::id::{DeviceId, VerificationCode};
use super::inspect::{certificate_blocks, subject_of};
use super::key::{Passphrase, PrivateKey, PrivateKeyPem};
use super::profile::{CaProfile, KeyAlgorithm, LeafProfile, Subject, VERIFICATION_DAYS, Warning};

/// How far `notBefore` is set back from the issuing clock, so a device whose clock runs a little
/// behind still accepts a certificate minted minutes ago.
pub const CLOCK_SKEW: Duration = Duration::hours(1);

/// A certificate and its private key, as PEM.
#[derive(Debug, Clone)]
pub struct CaMaterial {
    /// The certificate.
    pub cert_pem: String,
    /// The private key (encrypted if a passphrase was given).
    pub key_pem: PrivateKeyPem,
}

/// The output of `certs init`.
#[derive(Debug, Clone)]
pub struct CaBundle {
    /// The root CA: register it with Azure DPS (and keep its key offline).
    pub root: CaMaterial,
    /// The signing CA that mints device certificates: register it with AWS IoT.
    pub signing: CaMaterial,
    /// Signing CA then root, PEM.
    pub chain_pem: String,
}

/// A leaf certificate bundle for one device (or one claim certificate).
#[derive(Debug, Clone)]
pub struct DeviceBundle {
    /// The device id (the certificate's CN).
    pub id: DeviceId,
    /// The device certificate.
    pub cert_pem: String,
    /// The device certificate followed by its issuer: what the device presents in TLS (AWS
    /// JITP/JITR need the registered CA certificate next to the device certificate on first
    /// connect; Azure DPS needs the intermediate to build the chain to the verified root).
    pub chain_pem: String,
    /// The private key, when fleetform generated it; `None` for CSR-signed certificates.
    pub key_pem: Option<PrivateKeyPem>,
    /// Certificate serial number, lowercase hex.
    pub serial_hex: String,
}

/// A loaded CA that can sign: certificate, key, and what the checks need to know about it.
pub struct CaIssuer {
    issuer: rcgen::Issuer<'static, rcgen::KeyPair>,
    cert_pem: String,
    subject: Subject,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    path_len: Option<u32>,
    origin: PathBuf,
    key_was_encrypted: bool,
}

impl std::fmt::Debug for CaIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CaIssuer")
            .field("origin", &self.origin)
            .field("subject", &self.subject)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

impl CaIssuer {
    /// Loads a CA from its certificate and key PEM text. `cert_origin`/`key_origin` name the
    /// files in errors. Checks that the certificate is a CA, valid at `now`, and that the key
    /// belongs to it.
    pub fn from_pem(
        cert_text: &str,
        cert_origin: &Path,
        key_text: &str,
        key_origin: &Path,
        passphrase: Option<&Passphrase>,
        now: OffsetDateTime,
    ) -> Result<Self> {
        let blocks = certificate_blocks(cert_text, cert_origin)?;
        let Some(der) = blocks.first() else {
            return Err(CertsError::Certificate {
                path: cert_origin.to_owned(),
                reason: "it holds no `CERTIFICATE` block".to_owned(),
                hint: "point --ca-dir/--ca at the files written by `fleetform certs init`"
                    .to_owned(),
            });
        };
        let key = PrivateKey::from_pem(key_text, key_origin, passphrase)?;
        Self::from_parts(der, key, cert_origin, key_origin, now)
    }

    fn from_parts(
        der: &[u8],
        key: PrivateKey,
        cert_origin: &Path,
        key_origin: &Path,
        now: OffsetDateTime,
    ) -> Result<Self> {
        let cert_error = |reason: String, hint: &str| CertsError::Certificate {
            path: cert_origin.to_owned(),
            reason,
            hint: hint.to_owned(),
        };
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| {
            cert_error(
                format!("it is not a well-formed X.509 certificate ({e})"),
                "the file is damaged; restore it from your backup",
            )
        })?;
        let not_a_ca = "a CA certificate is needed here: use `root-ca.pem` or a signing CA, not a device certificate";
        let constraints = cert.basic_constraints().ok().flatten().map(|e| e.value);
        let Some(constraints) = constraints.filter(|c| c.ca) else {
            return Err(cert_error(
                "it is not a CA certificate (basicConstraints CA:TRUE is missing)".to_owned(),
                not_a_ca,
            ));
        };
        if let Ok(Some(usage)) = cert.key_usage()
            && !usage.value.key_cert_sign()
        {
            return Err(cert_error(
                "its keyUsage does not allow signing certificates (keyCertSign)".to_owned(),
                not_a_ca,
            ));
        }
        let not_before = asn1_to_datetime(cert.validity().not_before.timestamp())?;
        let not_after = asn1_to_datetime(cert.validity().not_after.timestamp())?;
        if now > not_after {
            return Err(cert_error(
                format!("it expired on {}", date(not_after)),
                "issue a new signing CA with `fleetform certs rotate` (or a new root with `certs init`)",
            ));
        }
        if now < not_before {
            return Err(cert_error(
                format!("it is not valid before {}", date(not_before)),
                "check this machine's clock",
            ));
        }
        if key.public_key_raw() != cert.public_key().subject_public_key.data.as_ref() {
            return Err(CertsError::KeyMismatch {
                cert: cert_origin.to_owned(),
                key: key_origin.to_owned(),
            });
        }
        let key_was_encrypted = key.was_encrypted();
        let pem = super::key::encode_pem("CERTIFICATE", der);
        let issuer = rcgen::Issuer::from_ca_cert_pem(&pem, key.key_pair).map_err(|e| {
            cert_error(
                format!("its fields cannot be used for signing ({e})"),
                "use a CA certificate made by `fleetform certs init`",
            )
        })?;
        Ok(Self {
            issuer,
            cert_pem: pem,
            subject: subject_of(cert.subject()),
            not_before,
            not_after,
            path_len: constraints.path_len_constraint,
            origin: cert_origin.to_owned(),
            key_was_encrypted,
        })
    }

    /// The CA certificate, PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// The CA's subject.
    pub fn subject(&self) -> &Subject {
        &self.subject
    }

    /// Start of the CA's validity.
    pub fn not_before(&self) -> OffsetDateTime {
        self.not_before
    }

    /// End of the CA's validity.
    pub fn not_after(&self) -> OffsetDateTime {
        self.not_after
    }

    /// The CA's pathLenConstraint; `None` means unconstrained.
    pub fn path_len(&self) -> Option<u32> {
        self.path_len
    }

    /// The certificate file this CA was loaded from.
    pub fn origin(&self) -> &Path {
        &self.origin
    }

    /// Whether its key file was encrypted.
    pub fn key_was_encrypted(&self) -> bool {
        self.key_was_encrypted
    }

    /// The validity window for a certificate of `days` issued at `now`: starts [`CLOCK_SKEW`]
    /// before `now` (but not before the CA), and must end no later than the CA.
    pub fn leaf_window(
        &self,
        days: u32,
        now: OffsetDateTime,
    ) -> Result<(OffsetDateTime, OffsetDateTime)> {
        let now = truncate(now);
        let not_before = (now - CLOCK_SKEW).max(self.not_before);
        let not_after = now + Duration::days(i64::from(days));
        if not_after > self.not_after {
            let left = (self.not_after - now).whole_days();
            return Err(CertsError::parameter(
                "--days",
                days,
                format!(
                    "the certificate would outlive its issuer `{}`, which expires on {} ({left} days from now)",
                    self.origin.display(),
                    date(self.not_after)
                ),
                if left > 0 {
                    format!(
                        "pass `--days {left}` or less, or rotate the signing CA with `fleetform certs rotate`"
                    )
                } else {
                    "rotate the signing CA with `fleetform certs rotate`".to_owned()
                },
            ));
        }
        Ok((not_before, not_after))
    }
}

/// Makes a root CA and a signing CA under it (`certs init`). Keys are encrypted when
/// `passphrase` is given.
pub fn generate_ca(
    profile: &CaProfile,
    now: OffsetDateTime,
    passphrase: Option<&Passphrase>,
) -> Result<(CaBundle, Vec<Warning>)> {
    let warnings = profile.validate()?;
    let now = truncate(now);
    let not_before = now - CLOCK_SKEW;

    let root_key = PrivateKey::generate(profile.key)?;
    let root_key_pem = root_key.to_pem(passphrase)?;
    let mut root_params = ca_params(
        &profile.subject,
        not_before,
        now + Duration::days(i64::from(profile.root_validity_days)),
        profile.path_len,
    )?;
    // A self-signed root needs no authority key identifier (RFC 5280 4.2.1.1).
    root_params.use_authority_key_identifier_extension = false;
    let root_cert = root_params
        .self_signed(&root_key.key_pair)
        .map_err(|e| CertsError::internal("signing the root CA", e))?;
    let root = CaIssuer::from_parts(
        root_cert.der(),
        root_key,
        Path::new("root-ca.pem"),
        Path::new("root-ca.key"),
        now,
    )?;

    let signing_subject = profile
        .subject
        .with_common_name(&profile.signing_common_name);
    let signing = issue_signing_ca(
        &root,
        &signing_subject,
        profile.key,
        profile.signing_validity_days,
        now,
        passphrase,
    )?;
    let chain_pem = format!("{}{}", signing.cert_pem, root.cert_pem);
    Ok((
        CaBundle {
            root: CaMaterial {
                cert_pem: root.cert_pem.clone(),
                key_pem: root_key_pem,
            },
            signing,
            chain_pem,
        },
        warnings,
    ))
}

/// Parameters for a new signing CA next to an existing one (`certs rotate`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RotateProfile {
    /// The new signing CA's common name; must differ from the current one and the root's.
    pub common_name: String,
    /// Its key type.
    pub key: KeyAlgorithm,
    /// Its lifetime in days; must end before the root does.
    pub validity_days: u32,
}

/// Makes a new signing CA under `root`, with the root's subject fields and a new common name.
/// The current signing CA is left alone: certificates it issued stay valid.
pub fn rotate_signing_ca(
    root: &CaIssuer,
    current_signing_cn: Option<&str>,
    profile: &RotateProfile,
    now: OffsetDateTime,
    passphrase: Option<&Passphrase>,
) -> Result<(CaMaterial, String)> {
    let subject = root.subject.with_common_name(&profile.common_name);
    subject.validate()?;
    if Some(profile.common_name.as_str()) == current_signing_cn
        || profile.common_name == root.subject.common_name
    {
        return Err(CertsError::parameter(
            "common name",
            &profile.common_name,
            "the new signing CA needs a name of its own; with the old name, chain builders could pick the wrong issuer",
            "leave out --common-name to get a dated one",
        ));
    }
    let material = issue_signing_ca(
        root,
        &subject,
        profile.key,
        profile.validity_days,
        now,
        passphrase,
    )?;
    let chain = format!("{}{}", material.cert_pem, root.cert_pem);
    Ok((material, chain))
}

/// The default common name of a rotated signing CA: the current name, with any date suffix
/// replaced by today's.
pub fn rotated_common_name(current: &str, now: OffsetDateTime) -> String {
    let today = date(now);
    let base = match current.rsplit_once(' ') {
        Some((head, tail)) if is_date(tail) => head,
        _ => current,
    };
    let max_base = 64 - today.len() - 1;
    let base: String = base.chars().take(max_base).collect();
    format!("{} {today}", base.trim_end())
}

fn is_date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit())
}

fn issue_signing_ca(
    root: &CaIssuer,
    subject: &Subject,
    key_alg: KeyAlgorithm,
    days: u32,
    now: OffsetDateTime,
    passphrase: Option<&Passphrase>,
) -> Result<CaMaterial> {
    if root.path_len == Some(0) {
        return Err(CertsError::Certificate {
            path: root.origin.clone(),
            reason: "its pathLenConstraint is 0, so it cannot sign another CA".to_owned(),
            hint: "point --ca-dir at the directory holding the fleet's `root-ca.pem`".to_owned(),
        });
    }
    let (not_before, not_after) = root.leaf_window(days, now).map_err(|e| match e {
        CertsError::Parameter { value, reason, .. } => CertsError::Parameter {
            what: "signing CA lifetime in days".to_owned(),
            value,
            reason,
            hint: "pass a shorter `--signing-days`/`--days`; a signing CA cannot outlive the root"
                .to_owned(),
        },
        other => other,
    })?;
    let key = PrivateKey::generate(key_alg)?;
    let key_pem = key.to_pem(passphrase)?;
    let params = ca_params(subject, not_before, not_after, 0)?;
    let cert = params
        .signed_by(&key.key_pair, &root.issuer)
        .map_err(|e| CertsError::internal("signing the signing CA", e))?;
    Ok(CaMaterial {
        cert_pem: cert.pem(),
        key_pem,
    })
}

fn ca_params(
    subject: &Subject,
    not_before: OffsetDateTime,
    not_after: OffsetDateTime,
    path_len: u8,
) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(subject)?;
    params.not_before = not_before;
    params.not_after = not_after;
    params.serial_number = Some(random_serial()?);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(path_len));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

fn leaf_params(
    subject: &Subject,
    window: (OffsetDateTime, OffsetDateTime),
    rsa: bool,
) -> Result<CertificateParams> {
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name(subject)?;
    params.not_before = window.0;
    params.not_after = window.1;
    params.serial_number = Some(random_serial()?);
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    if rsa {
        params.key_usages.push(KeyUsagePurpose::KeyEncipherment);
    }
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
    params.use_authority_key_identifier_extension = true;
    Ok(params)
}

/// Issues one device certificate with a fresh key (`certs device --id`).
pub fn issue_device(
    issuer: &CaIssuer,
    id: &DeviceId,
    profile: &LeafProfile,
    now: OffsetDateTime,
    key_passphrase: Option<&Passphrase>,
) -> Result<DeviceBundle> {
    profile.validate()?;
    let window = issuer.leaf_window(profile.validity_days, now)?;
    issue_leaf(issuer, id, profile, window, key_passphrase)
}

/// Issues a claim certificate for AWS fleet provisioning by claim. It is an ordinary client
/// certificate whose CN is the claim name; AWS tells it apart by the policy attached to it.
pub fn issue_claim(
    issuer: &CaIssuer,
    name: &DeviceId,
    profile: &LeafProfile,
    now: OffsetDateTime,
    key_passphrase: Option<&Passphrase>,
) -> Result<DeviceBundle> {
    issue_device(issuer, name, profile, now, key_passphrase)
}

fn issue_leaf(
    issuer: &CaIssuer,
    id: &DeviceId,
    profile: &LeafProfile,
    window: (OffsetDateTime, OffsetDateTime),
    key_passphrase: Option<&Passphrase>,
) -> Result<DeviceBundle> {
    let key = PrivateKey::generate(profile.key)?;
    let params = leaf_params(
        &profile.subject.with_common_name(id.as_str()),
        window,
        profile.key.is_rsa(),
    )?;
    let serial_hex = serial_hex(params.serial_number.as_ref());
    let cert = params
        .signed_by(&key.key_pair, &issuer.issuer)
        .map_err(|e| CertsError::internal("signing a device certificate", e))?;
    let cert_pem = cert.pem();
    Ok(DeviceBundle {
        id: id.clone(),
        chain_pem: format!("{cert_pem}{}", issuer.cert_pem),
        cert_pem,
        key_pem: Some(key.to_pem(key_passphrase)?),
        serial_hex,
    })
}

/// Issues certificates for many devices, in order, on all cores. `progress` is called once per
/// finished device (from worker threads). Stops at the first error.
pub fn issue_devices(
    issuer: &CaIssuer,
    ids: &[DeviceId],
    profile: &LeafProfile,
    now: OffsetDateTime,
    key_passphrase: Option<&Passphrase>,
    progress: &(dyn Fn() + Sync),
) -> Result<Vec<DeviceBundle>> {
    profile.validate()?;
    let window = issuer.leaf_window(profile.validity_days, now)?;
    let threads = std::thread::available_parallelism()
        .map_or(1, std::num::NonZero::get)
        .min(ids.len().max(1));
    let chunk = ids.len().div_ceil(threads).max(1);
    let failed = AtomicBool::new(false);
    let results: Vec<Result<Vec<DeviceBundle>>> = std::thread::scope(|scope| {
        let handles: Vec<_> = ids
            .chunks(chunk)
            .map(|part| {
                let failed = &failed;
                scope.spawn(move || {
                    let mut out = Vec::with_capacity(part.len());
                    for id in part {
                        if failed.load(Ordering::Relaxed) {
                            break;
                        }
                        match issue_leaf(issuer, id, profile, window, key_passphrase) {
                            Ok(bundle) => out.push(bundle),
                            Err(e) => {
                                failed.store(true, Ordering::Relaxed);
                                return Err(e);
                            }
                        }
                        progress();
                    }
                    Ok(out)
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| {
                h.join().unwrap_or_else(|_| {
                    Err(CertsError::internal(
                        "issuing device certificates",
                        "a worker thread panicked",
                    ))
                })
            })
            .collect()
    });
    let mut all = Vec::with_capacity(ids.len());
    for part in results {
        all.extend(part?);
    }
    Ok(all)
}

/// Signs a device's own CSR (`certs device --csr`): the key never leaves the device. The
/// certificate keeps the CSR's public key and gets the same extensions as any device
/// certificate; extensions the CSR requests are ignored, so a CSR cannot ask for CA:TRUE.
///
/// The device id is `expected_id` when given (the CSR's CN must then match it), else the CSR's
/// CN. Subject fields set in `profile` win over the CSR's.
pub fn sign_csr(
    issuer: &CaIssuer,
    csr_text: &str,
    origin: &Path,
    expected_id: Option<&DeviceId>,
    profile: &LeafProfile,
    now: OffsetDateTime,
) -> Result<DeviceBundle> {
    use x509_parser::certification_request::X509CertificationRequest;
    profile.validate()?;
    let csr_error = |reason: String, hint: &str| CertsError::Csr {
        path: origin.to_owned(),
        reason,
        hint: hint.to_owned(),
    };
    let blocks = pem::parse_many(csr_text).map_err(|e| {
        csr_error(
            format!("it is not valid PEM ({e})"),
            "pass the PEM CSR the device produced (`-----BEGIN CERTIFICATE REQUEST-----`)",
        )
    })?;
    let Some(block) = blocks
        .iter()
        .find(|b| matches!(b.tag(), "CERTIFICATE REQUEST" | "NEW CERTIFICATE REQUEST"))
    else {
        return Err(csr_error(
            "it holds no `CERTIFICATE REQUEST` block".to_owned(),
            "pass the PEM CSR the device produced (`-----BEGIN CERTIFICATE REQUEST-----`)",
        ));
    };
    let (_, csr) = X509CertificationRequest::from_der(block.contents()).map_err(|e| {
        csr_error(
            format!("it is not a well-formed PKCS#10 request ({e})"),
            "regenerate the CSR on the device",
        )
    })?;
    csr.verify_signature().map_err(|_| {
        csr_error(
            "its signature does not verify with the key it carries, so it was altered or corrupted"
                .to_owned(),
            "regenerate the CSR on the device",
        )
    })?;
    let info = &csr.certification_request_info;
    let csr_subject = subject_of(&info.subject);
    let id = if let Some(id) = expected_id {
        if !csr_subject.common_name.is_empty() && csr_subject.common_name != id.as_str() {
            return Err(csr_error(
                format!(
                    "its common name `{}` differs from the device id `{id}`",
                    csr_subject.common_name.escape_debug()
                ),
                "pass the CSR of that device, or leave out --id to use the CSR's common name",
            ));
        }
        id.clone()
    } else {
        if csr_subject.common_name.is_empty() {
            return Err(csr_error(
                "it has no common name to use as the device id".to_owned(),
                "pass `--id DEVICE_ID` along with `--csr`",
            ));
        }
        DeviceId::parse(
            &csr_subject.common_name,
            &format!("common name of `{}`", origin.display()),
        )?
    };
    let spki = rcgen::SubjectPublicKeyInfo::from_der(info.subject_pki.raw).map_err(|_| {
        csr_error(
            "its public key type is not supported".to_owned(),
            "generate an ECDSA P-256/P-384 or RSA (2048 bits or more) key on the device",
        )
    })?;
    let rsa = match info.subject_pki.parsed() {
        Ok(x509_parser::public_key::PublicKey::RSA(rsa)) => {
            let bits = rsa.key_size();
            if bits < 2048 {
                return Err(csr_error(
                    format!(
                        "its key is RSA-{bits}; keys under 2048 bits are too weak and AWS IoT and Azure refuse them"
                    ),
                    "generate an ECDSA P-256 or RSA-2048 key on the device",
                ));
            }
            true
        }
        Ok(x509_parser::public_key::PublicKey::EC(_)) => false,
        _ => {
            return Err(csr_error(
                "its public key type is not supported".to_owned(),
                "generate an ECDSA P-256/P-384 or RSA (2048 bits or more) key on the device",
            ));
        }
    };
    let wanted = &profile.subject;
    let subject = Subject {
        common_name: id.as_str().to_owned(),
        organization: wanted.organization.clone().or(csr_subject.organization),
        organizational_unit: wanted
            .organizational_unit
            .clone()
            .or(csr_subject.organizational_unit),
        country: wanted.country.clone().or(csr_subject.country),
        state: wanted.state.clone().or(csr_subject.state),
        locality: wanted.locality.clone().or(csr_subject.locality),
        dn_qualifier: wanted.dn_qualifier.clone().or(csr_subject.dn_qualifier),
    };
    subject.validate().map_err(|e| {
        csr_error(
            format!("its subject cannot be used: {}", first_line(&e.to_string())),
            "override the field with the matching flag (e.g. `--country DE`)",
        )
    })?;
    let window = issuer.leaf_window(profile.validity_days, now)?;
    let params = leaf_params(&subject, window, rsa)?;
    let serial_hex = serial_hex(params.serial_number.as_ref());
    let cert = params
        .signed_by(&spki, &issuer.issuer)
        .map_err(|e| CertsError::internal("signing a CSR", e))?;
    let cert_pem = cert.pem();
    Ok(DeviceBundle {
        id,
        chain_pem: format!("{cert_pem}{}", issuer.cert_pem),
        cert_pem,
        key_pem: None,
        serial_hex,
    })
}

/// The proof-of-possession certificate a cloud asks for before it trusts a CA: CN = the code,
/// signed by the CA's key. Its own key is thrown away; only the certificate is uploaded.
///
/// AWS IoT (DEFAULT mode `register-ca-certificate --verification-cert`) and Azure DPS
/// (`az iot dps certificate verify`) use the same shape; [`VerificationCode::parse`] applies
/// each cloud's code format.
pub fn verification_certificate(
    issuer: &CaIssuer,
    code: &VerificationCode,
    now: OffsetDateTime,
) -> Result<String> {
    let now = truncate(now);
    let not_before = (now - CLOCK_SKEW).max(issuer.not_before);
    let not_after = (now + Duration::days(i64::from(VERIFICATION_DAYS))).min(issuer.not_after);
    let key = PrivateKey::generate(KeyAlgorithm::EcdsaP256)?;
    let params = leaf_params(&Subject::new(code.as_str()), (not_before, not_after), false)?;
    let cert = params
        .signed_by(&key.key_pair, &issuer.issuer)
        .map_err(|e| CertsError::internal("signing a verification certificate", e))?;
    Ok(cert.pem())
}

fn distinguished_name(subject: &Subject) -> Result<DistinguishedName> {
    subject.validate()?;
    let mut dn = DistinguishedName::new();
    if let Some(country) = &subject.country {
        let printable =
            rcgen::string::PrintableString::try_from(country.as_str()).map_err(|e| {
                CertsError::parameter("country (C)", country, e.to_string(), "use two letters")
            })?;
        dn.push(DnType::CountryName, DnValue::PrintableString(printable));
    }
    for (ty, value) in [
        (DnType::StateOrProvinceName, &subject.state),
        (DnType::LocalityName, &subject.locality),
        (DnType::OrganizationName, &subject.organization),
        (DnType::OrganizationalUnitName, &subject.organizational_unit),
    ] {
        if let Some(value) = value {
            dn.push(ty, DnValue::Utf8String(value.clone()));
        }
    }
    if let Some(q) = &subject.dn_qualifier {
        let printable = rcgen::string::PrintableString::try_from(q.as_str()).map_err(|e| {
            CertsError::parameter(
                "device type (dnQualifier)",
                q,
                e.to_string(),
                "use letters, digits and `-`",
            )
        })?;
        dn.push(
            DnType::CustomDnType(vec![2, 5, 4, 46]),
            DnValue::PrintableString(printable),
        );
    }
    dn.push(
        DnType::CommonName,
        DnValue::Utf8String(subject.common_name.clone()),
    );
    Ok(dn)
}

fn random_serial() -> Result<SerialNumber> {
    let mut bytes = [0u8; 20];
    getrandom::fill(&mut bytes)
        .map_err(|e| CertsError::internal("drawing a random serial number", e))?;
    bytes[0] = (bytes[0] & 0x7f) | 0x40;
    Ok(SerialNumber::from_slice(&bytes))
}

fn serial_hex(serial: Option<&SerialNumber>) -> String {
    serial.map_or_else(String::new, |s| super::inspect::hex(&s.to_bytes()))
}

/// Certificates carry whole seconds; dropping sub-seconds keeps comparisons exact.
fn truncate(now: OffsetDateTime) -> OffsetDateTime {
    now.replace_nanosecond(0).unwrap_or(now)
}

fn asn1_to_datetime(timestamp: i64) -> Result<OffsetDateTime> {
    OffsetDateTime::from_unix_timestamp(timestamp)
        .map_err(|e| CertsError::internal("reading a certificate date", e))
}

/// `YYYY-MM-DD` of a time.
pub(crate) fn date(t: OffsetDateTime) -> String {
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotated_names() {
        let now = OffsetDateTime::from_unix_timestamp(1_800_000_000).unwrap();
        assert_eq!(
            rotated_common_name("Acme Signing CA", now),
            "Acme Signing CA 2027-01-15"
        );
        assert_eq!(
            rotated_common_name("Acme Signing CA 2020-01-01", now),
            "Acme Signing CA 2027-01-15"
        );
        assert!(rotated_common_name(&"x".repeat(64), now).chars().count() <= 64);
    }

    #[test]
    fn serials_are_positive_and_20_bytes() {
        for _ in 0..100 {
            let s = random_serial().unwrap();
            let b = s.to_bytes();
            assert_eq!(b.len(), 20);
            assert_eq!(b[0] & 0xc0, 0x40);
        }
    }
}
