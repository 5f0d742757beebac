//! What a certificate should look like, checked before anything is generated.
//!
//! Profiles are plain data (subject fields, key algorithm, lifetimes, path length) so the spec
//! loader can map its types onto them. Each has a `validate` step that refuses weak or
//! self-contradictory parameters with a reason and a hint, and returns [`Warning`]s for choices
//! that are legal but deserve a second look. The policy, in one place:
//!
//! - keys: ECDSA P-256 by default, RSA 2048 or 3072 when a device needs RSA; nothing smaller
//!   (AWS IoT and Azure refuse RSA below 2048, and NIST retired it in 2013);
//! - a root lives at most 30 years; a signing CA must expire no later than its root;
//! - a device certificate must expire no later than its issuer (error), and more than 825 days
//!   earns a warning, not an error. 825 days was the longest TLS leaf the CA/Browser Forum ever
//!   allowed; devices are not web servers, and field devices that cannot renew legitimately carry
//!   10-20 year certificates, which neither AWS IoT nor Azure DPS forbid. But a leaked device key
//!   stays usable until its certificate expires unless someone revokes it in the cloud, so a long
//!   lifetime should be a decision, and the warning makes it one;
//! - the root's path length is 1 to 3 (0 would forbid the signing CA under it); signing CAs get 0,
//!   so a leaked signing key cannot mint further CAs.

use std::fmt;
use std::str::FromStr;

use super::error::{CertsError, Result};

/// Default root CA lifetime: 20 years.
pub const DEFAULT_ROOT_DAYS: u32 = 7305;
/// Default signing CA lifetime: 10 years.
pub const DEFAULT_SIGNING_DAYS: u32 = 3652;
/// Default device certificate lifetime: 2 years.
pub const DEFAULT_DEVICE_DAYS: u32 = 730;
/// Default claim certificate lifetime: 1 year.
pub const DEFAULT_CLAIM_DAYS: u32 = 365;
/// Lifetime of AWS/Azure proof-of-possession certificates: they are used once, within minutes.
pub const VERIFICATION_DAYS: u32 = 30;
/// The longest root lifetime accepted: 30 years.
pub const MAX_ROOT_DAYS: u32 = 10_958;
/// Device lifetimes above this many days get a warning (see the module docs).
pub const DEVICE_DAYS_WARNING: u32 = 825;
/// Default root path length: root -> signing CA -> device.
pub const DEFAULT_ROOT_PATH_LEN: u8 = 1;
/// The largest root path length accepted.
pub const MAX_ROOT_PATH_LEN: u8 = 3;

/// Key type for a CA or device key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum KeyAlgorithm {
    /// ECDSA on NIST P-256 with SHA-256: small, fast, accepted by AWS IoT and Azure.
    #[default]
    EcdsaP256,
    /// RSA 2048, for devices whose TLS stack or secure element lacks ECDSA.
    Rsa2048,
    /// RSA 3072.
    Rsa3072,
}

impl KeyAlgorithm {
    /// Names accepted by [`FromStr`], for help texts.
    pub const NAMES: &'static str = "ecdsa-p256, rsa2048, rsa3072";

    /// Whether this is an RSA key (leaf certificates then also get keyEncipherment).
    pub fn is_rsa(self) -> bool {
        matches!(self, Self::Rsa2048 | Self::Rsa3072)
    }

    /// RSA modulus size in bits, if RSA.
    pub fn rsa_bits(self) -> Option<usize> {
        match self {
            Self::EcdsaP256 => None,
            Self::Rsa2048 => Some(2048),
            Self::Rsa3072 => Some(3072),
        }
    }
}

impl fmt::Display for KeyAlgorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::EcdsaP256 => "ecdsa-p256",
            Self::Rsa2048 => "rsa2048",
            Self::Rsa3072 => "rsa3072",
        })
    }
}

impl FromStr for KeyAlgorithm {
    type Err = CertsError;

    fn from_str(s: &str) -> Result<Self> {
        let norm: String = s
            .chars()
            .filter(|c| !matches!(c, '-' | '_'))
            .collect::<String>()
            .to_ascii_lowercase();
        match norm.as_str() {
            "ecdsap256" | "p256" | "ec" | "ecdsa" | "prime256v1" | "secp256r1" => {
                Ok(Self::EcdsaP256)
            }
            "rsa2048" | "rsa" => Ok(Self::Rsa2048),
            "rsa3072" => Ok(Self::Rsa3072),
            _ => {
                if let Some(bits) = norm.strip_prefix("rsa").and_then(|b| b.parse::<u32>().ok()) {
                    if bits < 2048 {
                        return Err(CertsError::parameter(
                            "key algorithm",
                            s,
                            "RSA keys shorter than 2048 bits can be factored with affordable effort; AWS IoT and Azure refuse them",
                            "use `ecdsa-p256` (the default) or `rsa2048`",
                        ));
                    }
                    return Err(CertsError::parameter(
                        "key algorithm",
                        s,
                        format!(
                            "RSA-{bits} is not offered: RSA-3072 already matches P-256's security and larger keys slow small devices down"
                        ),
                        "use `rsa3072`, or `ecdsa-p256` (the default)",
                    ));
                }
                Err(CertsError::parameter(
                    "key algorithm",
                    s,
                    "it is not a known key algorithm",
                    format!("choose one of {}", Self::NAMES),
                ))
            }
        }
    }
}

/// Distinguished-name fields. Only `common_name` is required.
///
/// For device certificates the common name is replaced by the device id; the other fields are
/// what an AWS JITP template reads as `AWS::IoT::Certificate::Organization`, `::Country`, etc.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    /// CN.
    pub common_name: String,
    /// O.
    pub organization: Option<String>,
    /// OU.
    pub organizational_unit: Option<String>,
    /// C: two uppercase letters (ISO 3166-1 alpha-2).
    pub country: Option<String>,
    /// ST.
    pub state: Option<String>,
    /// L.
    pub locality: Option<String>,
    /// dnQualifier (2.5.4.46, a PrintableString): the device's type, which AWS JITP reads as
    /// `AWS::IoT::Certificate::DistinguishedNameQualifier` and the JITR activator reads too.
    pub dn_qualifier: Option<String>,
}

impl Subject {
    /// A subject with only a common name.
    pub fn new(common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            ..Self::default()
        }
    }

    /// The same fields with another common name.
    #[must_use]
    pub fn with_common_name(&self, common_name: impl Into<String>) -> Self {
        Self {
            common_name: common_name.into(),
            ..self.clone()
        }
    }

    /// Checks lengths (RFC 5280 upper bounds) and the country format.
    pub fn validate(&self) -> Result<()> {
        check_field("common name (CN)", Some(&self.common_name), 64)?;
        check_field("organization (O)", self.organization.as_ref(), 64)?;
        check_field(
            "organizational unit (OU)",
            self.organizational_unit.as_ref(),
            64,
        )?;
        check_field("state (ST)", self.state.as_ref(), 128)?;
        check_field("locality (L)", self.locality.as_ref(), 128)?;
        check_field("dnQualifier", self.dn_qualifier.as_ref(), 64)?;
        if let Some(q) = &self.dn_qualifier
            && !q
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || " '()+,-./:=?".contains(c))
        {
            return Err(CertsError::parameter(
                "device type (dnQualifier)",
                q,
                "a dnQualifier is a PrintableString: letters, digits, space and ' ( ) + , - . / : = ?",
                "name the device type without other characters (`_` included)",
            ));
        }
        if let Some(country) = &self.country
            && !(country.len() == 2 && country.chars().all(|c| c.is_ascii_uppercase()))
        {
            return Err(CertsError::parameter(
                "country (C)",
                country,
                "a certificate country is a two-letter ISO 3166 code",
                "write it as two uppercase letters, e.g. `DE` or `US`",
            ));
        }
        Ok(())
    }

    /// One-line rendering, e.g. `CN=dev-1, O=Acme, C=DE`.
    pub fn to_dn_string(&self) -> String {
        let mut parts = vec![format!("CN={}", self.common_name)];
        for (key, value) in [
            ("OU", &self.organizational_unit),
            ("O", &self.organization),
            ("L", &self.locality),
            ("ST", &self.state),
            ("C", &self.country),
            ("dnQualifier", &self.dn_qualifier),
        ] {
            if let Some(value) = value {
                parts.push(format!("{key}={value}"));
            }
        }
        parts.join(", ")
    }
}

fn check_field(name: &str, value: Option<&String>, max: usize) -> Result<()> {
    let Some(value) = value else { return Ok(()) };
    let shown: String = value.escape_debug().collect();
    if value.trim().is_empty() {
        return Err(CertsError::parameter(
            format!("subject {name}"),
            shown,
            "it is empty",
            "leave the field out instead of passing an empty value",
        ));
    }
    if value.chars().any(char::is_control) {
        return Err(CertsError::parameter(
            format!("subject {name}"),
            shown,
            "it contains a control character",
            "remove control characters and newlines",
        ));
    }
    let len = value.chars().count();
    if len > max {
        return Err(CertsError::parameter(
            format!("subject {name}"),
            shown,
            format!("it is {len} characters long and RFC 5280 allows at most {max}"),
            "shorten it",
        ));
    }
    Ok(())
}

/// A remark about a legal but questionable choice. Shown on stderr as `warning: ...`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Warning(pub String);

impl fmt::Display for Warning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Parameters for `certs init`: a root CA and the first signing CA under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaProfile {
    /// The root's subject. The signing CA shares every field but the common name.
    pub subject: Subject,
    /// The signing CA's common name; must differ from the root's.
    pub signing_common_name: String,
    /// Key type of both CA keys.
    pub key: KeyAlgorithm,
    /// Root lifetime in days.
    pub root_validity_days: u32,
    /// Signing CA lifetime in days; at most the root's.
    pub signing_validity_days: u32,
    /// The root's pathLenConstraint (CAs allowed below it). The signing CA always gets 0.
    pub path_len: u8,
}

impl CaProfile {
    /// Defaults around a root subject: signing CN derived from the root's, default lifetimes.
    pub fn new(subject: Subject) -> Self {
        let signing_common_name = derive_signing_cn(&subject.common_name);
        Self {
            subject,
            signing_common_name,
            key: KeyAlgorithm::default(),
            root_validity_days: DEFAULT_ROOT_DAYS,
            signing_validity_days: DEFAULT_SIGNING_DAYS,
            path_len: DEFAULT_ROOT_PATH_LEN,
        }
    }

    /// Refuses weak or contradictory parameters.
    pub fn validate(&self) -> Result<Vec<Warning>> {
        self.subject.validate()?;
        self.subject
            .with_common_name(&self.signing_common_name)
            .validate()?;
        if self.signing_common_name == self.subject.common_name {
            return Err(CertsError::parameter(
                "signing CA common name",
                &self.signing_common_name,
                "it equals the root's; chain builders match issuers by name and would confuse the two",
                "give the signing CA its own name, e.g. `... Signing CA`",
            ));
        }
        check_days("--root-days", self.root_validity_days)?;
        check_days("--signing-days", self.signing_validity_days)?;
        if self.root_validity_days > MAX_ROOT_DAYS {
            return Err(CertsError::parameter(
                "--root-days",
                self.root_validity_days,
                "a root valid for more than 30 years outlives any assurance about its key and algorithm",
                format!("use at most {MAX_ROOT_DAYS} days; plan to rotate the root instead"),
            ));
        }
        if self.signing_validity_days > self.root_validity_days {
            return Err(CertsError::parameter(
                "--signing-days",
                self.signing_validity_days,
                format!(
                    "the signing CA would outlive its root ({} days); certificates past the root's expiry do not verify",
                    self.root_validity_days
                ),
                format!(
                    "use at most {} days, or raise --root-days",
                    self.root_validity_days
                ),
            ));
        }
        if self.path_len == 0 {
            return Err(CertsError::parameter(
                "--path-len",
                self.path_len,
                "a root with pathLenConstraint 0 cannot sign the signing CA below it",
                "use 1 (root -> signing CA -> device), the default",
            ));
        }
        if self.path_len > MAX_ROOT_PATH_LEN {
            return Err(CertsError::parameter(
                "--path-len",
                self.path_len,
                format!(
                    "no fleet layout needs more than {MAX_ROOT_PATH_LEN} CA levels below the root, and a larger value only widens what a leaked key can mint"
                ),
                "use 1, or 2 if you will add a per-factory CA level later",
            ));
        }
        Ok(Vec::new())
    }
}

/// The default signing CA name for a root CN: `X Root CA` -> `X Signing CA`.
pub fn derive_signing_cn(root_cn: &str) -> String {
    let base = root_cn
        .strip_suffix(" Root CA")
        .or_else(|| root_cn.strip_suffix(" Root"))
        .unwrap_or(root_cn);
    let cn = format!("{base} Signing CA");
    if cn.chars().count() > 64 {
        "Signing CA".to_owned()
    } else {
        cn
    }
}

/// Parameters for leaf certificates (devices and claim certificates).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeafProfile {
    /// Subject fields; the common name is replaced by the device id (or claim name).
    pub subject: Subject,
    /// Key type for generated keys (ignored when signing a CSR).
    pub key: KeyAlgorithm,
    /// Lifetime in days.
    pub validity_days: u32,
}

impl LeafProfile {
    /// Defaults: ECDSA P-256, [`DEFAULT_DEVICE_DAYS`].
    pub fn new(subject: Subject) -> Self {
        Self {
            subject,
            key: KeyAlgorithm::default(),
            validity_days: DEFAULT_DEVICE_DAYS,
        }
    }

    /// Checks subject fields and lifetime. Whether the lifetime fits the issuer is checked when
    /// the issuer is known ([`super::CaIssuer::leaf_window`]).
    pub fn validate(&self) -> Result<Vec<Warning>> {
        // The CN is replaced per device; validate the other fields with a placeholder.
        self.subject.with_common_name("placeholder").validate()?;
        check_days("--days", self.validity_days)?;
        let mut warnings = Vec::new();
        if self.validity_days > DEVICE_DAYS_WARNING {
            warnings.push(Warning(format!(
                "leaf certificates valid for {} days (more than {DEVICE_DAYS_WARNING}): a leaked device key stays usable until expiry unless you revoke its certificate in AWS IoT / disable it in Azure DPS; make sure that is planned",
                self.validity_days
            )));
        }
        Ok(warnings)
    }
}

fn check_days(flag: &str, days: u32) -> Result<()> {
    if days == 0 {
        return Err(CertsError::parameter(
            flag,
            days,
            "a certificate must be valid for at least one day",
            "pass a positive number of days",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_algorithm_names() {
        assert_eq!(
            "ecdsa-p256".parse::<KeyAlgorithm>().unwrap(),
            KeyAlgorithm::EcdsaP256
        );
        assert_eq!(
            "RSA-3072".parse::<KeyAlgorithm>().unwrap(),
            KeyAlgorithm::Rsa3072
        );
        let err = "rsa1024".parse::<KeyAlgorithm>().unwrap_err().to_string();
        assert!(err.contains("shorter than 2048"), "{err}");
        assert!(err.contains("hint:"), "{err}");
        assert!("dsa".parse::<KeyAlgorithm>().is_err());
    }

    #[test]
    fn ca_profile_refuses_nonsense() {
        let ok = CaProfile::new(Subject::new("Acme Root CA"));
        assert_eq!(ok.signing_common_name, "Acme Signing CA");
        ok.validate().unwrap();

        let mut p = ok.clone();
        p.signing_validity_days = p.root_validity_days + 1;
        assert!(p.validate().unwrap_err().to_string().contains("outlive"));

        let mut p = ok.clone();
        p.path_len = 0;
        assert!(p.validate().unwrap_err().to_string().contains("pathLen"));

        let mut p = ok.clone();
        p.path_len = 9;
        assert!(p.validate().is_err());

        let mut p = ok.clone();
        p.root_validity_days = 40_000;
        assert!(p.validate().unwrap_err().to_string().contains("30 years"));

        let mut p = ok.clone();
        p.signing_common_name = p.subject.common_name.clone();
        assert!(p.validate().is_err());

        let mut p = ok;
        p.subject.country = Some("Germany".into());
        assert!(p.validate().unwrap_err().to_string().contains("two-letter"));
    }

    #[test]
    fn long_device_validity_warns() {
        let mut p = LeafProfile::new(Subject::default());
        assert!(p.validate().unwrap().is_empty());
        p.validity_days = 3650;
        assert_eq!(p.validate().unwrap().len(), 1);
        p.validity_days = 0;
        assert!(p.validate().is_err());
    }
}
