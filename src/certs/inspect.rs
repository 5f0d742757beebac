//! Reading certificates back: the chain summary behind `certs inspect`.
//!
//! A manufacturing engineer holding a `chain.pem` wants to know, without openssl, who issued
//! what, until when, with which constraints, and whether each signature really verifies. This
//! module parses any number of PEM certificates with `x509-parser`, finds each one's issuer
//! among them by name and signature, and lists problems (expired, bad signature, a leaf that
//! outlives its issuer, a CA without keyCertSign) so the CLI can exit non-zero on them.

use std::path::Path;

use serde::Serialize;
use time::OffsetDateTime;
use x509_parser::prelude::{FromDer, X509Certificate, X509Name};

use super::error::{CertsError, Result};
use super::profile::Subject;

/// What `certs inspect` prints.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct ChainReport {
    /// One entry per certificate, in input order.
    pub certificates: Vec<CertSummary>,
    /// Problems found; empty means every certificate is well-formed, current and verified.
    pub problems: Vec<String>,
}

/// One certificate, summarised.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct CertSummary {
    /// 1-based position in the input.
    pub index: usize,
    /// The file it came from.
    pub source: String,
    /// Subject, e.g. `CN=dev-1, O=Acme`.
    pub subject: String,
    /// The subject's common name.
    pub common_name: String,
    /// Issuer name.
    pub issuer: String,
    /// Serial number, lowercase hex.
    pub serial: String,
    /// Start of validity, RFC 3339.
    pub not_before: String,
    /// End of validity, RFC 3339.
    pub not_after: String,
    /// basicConstraints CA flag.
    pub is_ca: bool,
    /// pathLenConstraint, when set.
    pub path_len: Option<u32>,
    /// keyUsage bits, e.g. `digitalSignature`.
    pub key_usage: Vec<String>,
    /// extendedKeyUsage purposes, e.g. `clientAuth`.
    pub extended_key_usage: Vec<String>,
    /// Key type, e.g. `ecdsa-p256` or `rsa-2048`.
    pub key: String,
    /// SHA-256 of the DER certificate, lowercase hex (what AWS shows as the certificate id).
    pub sha256_fingerprint: String,
    /// Who signed it: `self`, `#N` (another input certificate), or `unknown`.
    pub signed_by: String,
}

/// Splits PEM text into DER certificates, naming `origin` on error.
pub(crate) fn certificate_blocks(text: &str, origin: &Path) -> Result<Vec<Vec<u8>>> {
    let blocks = pem::parse_many(text).map_err(|e| CertsError::Certificate {
        path: origin.to_owned(),
        reason: format!("it is not valid PEM ({e})"),
        hint: "pass a PEM file (`-----BEGIN CERTIFICATE-----`)".to_owned(),
    })?;
    Ok(blocks
        .into_iter()
        .filter(|b| b.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect())
}

/// The subject fields fleetform knows about, first value of each.
pub(crate) fn subject_of(name: &X509Name<'_>) -> Subject {
    fn first<'a>(
        mut it: impl Iterator<Item = &'a x509_parser::x509::AttributeTypeAndValue<'a>>,
    ) -> Option<String> {
        it.next().and_then(|a| a.as_str().ok()).map(str::to_owned)
    }
    Subject {
        common_name: first(name.iter_common_name()).unwrap_or_default(),
        organization: first(name.iter_organization()),
        organizational_unit: first(name.iter_organizational_unit()),
        country: first(name.iter_country()),
        state: first(name.iter_state_or_province()),
        locality: first(name.iter_locality()),
        dn_qualifier: first(name.iter_by_oid(&x509_parser::oid_registry::OID_X509_DN_QUALIFIER)),
    }
}

/// Summarises and cross-checks the certificates in `inputs` (`(origin, pem text)` pairs).
pub fn inspect(inputs: &[(&Path, &str)], now: OffsetDateTime) -> Result<ChainReport> {
    let mut ders = Vec::new();
    for (origin, text) in inputs {
        let blocks = certificate_blocks(text, origin)?;
        if blocks.is_empty() {
            return Err(CertsError::Certificate {
                path: origin.to_path_buf(),
                reason: "it holds no `CERTIFICATE` block".to_owned(),
                hint: "pass a certificate or chain file (`.pem`), not a key".to_owned(),
            });
        }
        ders.extend(
            blocks
                .into_iter()
                .map(|d| (origin.display().to_string(), d)),
        );
    }
    let mut parsed = Vec::with_capacity(ders.len());
    for (i, (origin, der)) in ders.iter().enumerate() {
        let (_, cert) = X509Certificate::from_der(der).map_err(|e| CertsError::Certificate {
            path: origin.into(),
            reason: format!("certificate #{} is not well-formed X.509 ({e})", i + 1),
            hint: "the file is damaged; restore it".to_owned(),
        })?;
        parsed.push(cert);
    }
    let mut problems = Vec::new();
    let mut certificates = Vec::with_capacity(parsed.len());
    for (i, cert) in parsed.iter().enumerate() {
        let n = i + 1;
        let signed_by = find_issuer(i, &parsed);
        let constraints = cert.basic_constraints().ok().flatten().map(|e| e.value);
        let is_ca = constraints.is_some_and(|c| c.ca);
        let key_usage = cert
            .key_usage()
            .ok()
            .flatten()
            .map(|ku| key_usage_names(*ku.value))
            .unwrap_or_default();
        let extended_key_usage = cert
            .extended_key_usage()
            .ok()
            .flatten()
            .map(|e| {
                let e = e.value;
                [
                    (e.server_auth, "serverAuth"),
                    (e.client_auth, "clientAuth"),
                    (e.code_signing, "codeSigning"),
                    (e.any, "any"),
                ]
                .into_iter()
                .filter(|(on, _)| *on)
                .map(|(_, n)| n.to_owned())
                .collect()
            })
            .unwrap_or_default();
        let validity = cert.validity();
        let nb = validity.not_before.timestamp();
        let na = validity.not_after.timestamp();
        let now_ts = now.unix_timestamp();
        let cn = subject_of(cert.subject()).common_name;
        if now_ts > na {
            problems.push(format!("#{n} `{cn}` expired on {}", rfc3339(na)));
        } else if now_ts < nb {
            problems.push(format!("#{n} `{cn}` is not valid before {}", rfc3339(nb)));
        }
        if is_ca && !key_usage.iter().any(|k| k == "keyCertSign") {
            problems.push(format!("#{n} `{cn}` is a CA without keyUsage keyCertSign"));
        }
        let signed_by_text = match signed_by {
            Signer::SelfSigned => "self".to_owned(),
            Signer::Other(j) => {
                let issuer = &parsed[j];
                if nb < issuer.validity().not_before.timestamp()
                    || na > issuer.validity().not_after.timestamp()
                {
                    problems.push(format!(
                        "#{n} `{cn}` is valid outside its issuer #{}'s validity",
                        j + 1
                    ));
                }
                if !issuer
                    .basic_constraints()
                    .ok()
                    .flatten()
                    .is_some_and(|c| c.value.ca)
                {
                    problems.push(format!(
                        "#{n} `{cn}` is signed by #{}, which is not a CA",
                        j + 1
                    ));
                }
                format!("#{}", j + 1)
            }
            Signer::BadSignature(j) => {
                problems.push(format!(
                    "#{n} `{cn}` names #{} as issuer but its signature does not verify",
                    j + 1
                ));
                "bad-signature".to_owned()
            }
            Signer::Unknown => "unknown".to_owned(),
        };
        certificates.push(CertSummary {
            index: n,
            source: ders[i].0.clone(),
            subject: name_string(cert.subject()),
            common_name: cn,
            issuer: name_string(cert.issuer()),
            serial: hex(cert.raw_serial()),
            not_before: rfc3339(nb),
            not_after: rfc3339(na),
            is_ca,
            path_len: constraints.and_then(|c| c.path_len_constraint),
            key_usage,
            extended_key_usage,
            key: key_name(cert),
            sha256_fingerprint: crate::emit::sha256_hex(&ders[i].1),
            signed_by: signed_by_text,
        });
    }
    Ok(ChainReport {
        certificates,
        problems,
    })
}

enum Signer {
    SelfSigned,
    Other(usize),
    BadSignature(usize),
    Unknown,
}

fn find_issuer(i: usize, all: &[X509Certificate<'_>]) -> Signer {
    let cert = &all[i];
    if cert.subject().as_raw() == cert.issuer().as_raw() {
        return if cert.verify_signature(None).is_ok() {
            Signer::SelfSigned
        } else {
            Signer::BadSignature(i)
        };
    }
    let mut named = None;
    for (j, candidate) in all.iter().enumerate() {
        if j == i || candidate.subject().as_raw() != cert.issuer().as_raw() {
            continue;
        }
        if cert.verify_signature(Some(candidate.public_key())).is_ok() {
            return Signer::Other(j);
        }
        named.get_or_insert(j);
    }
    named.map_or(Signer::Unknown, Signer::BadSignature)
}

fn key_usage_names(ku: x509_parser::extensions::KeyUsage) -> Vec<String> {
    [
        (ku.digital_signature(), "digitalSignature"),
        (ku.non_repudiation(), "nonRepudiation"),
        (ku.key_encipherment(), "keyEncipherment"),
        (ku.data_encipherment(), "dataEncipherment"),
        (ku.key_agreement(), "keyAgreement"),
        (ku.key_cert_sign(), "keyCertSign"),
        (ku.crl_sign(), "cRLSign"),
    ]
    .into_iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| n.to_owned())
    .collect()
}

fn key_name(cert: &X509Certificate<'_>) -> String {
    use x509_parser::public_key::PublicKey;
    let spki = cert.public_key();
    match spki.parsed() {
        Ok(PublicKey::RSA(rsa)) => format!("rsa-{}", rsa.key_size()),
        Ok(PublicKey::EC(_)) => {
            let curve = spki
                .algorithm
                .parameters
                .as_ref()
                .and_then(|p| p.as_oid().ok())
                .map(|o| o.to_id_string());
            match curve.as_deref() {
                Some("1.2.840.10045.3.1.7") => "ecdsa-p256".to_owned(),
                Some("1.3.132.0.34") => "ecdsa-p384".to_owned(),
                Some(other) => format!("ecdsa-{other}"),
                None => "ecdsa".to_owned(),
            }
        }
        _ => spki.algorithm.algorithm.to_id_string(),
    }
}

fn name_string(name: &X509Name<'_>) -> String {
    let s = subject_of(name);
    if s.common_name.is_empty() && s.organization.is_none() {
        name.to_string()
    } else {
        s.to_dn_string()
    }
}

/// Lowercase hex of bytes.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

fn rfc3339(ts: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ts)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ts.to_string())
}
