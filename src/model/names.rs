//! Names of cloud resources: derived from the stack, checked against each cloud's rules.
//!
//! Several names must be unique across *all* customers of a cloud (S3 buckets, storage
//! accounts, IoT hubs, Event Hubs namespaces, key vaults). A name the cloud rejects only shows
//! up at `terraform apply`, halfway through creating a stack, so fleetform derives every name
//! up front and checks it with the cloud's own rules at `validate` time.

/// Kinds of names fleetform checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    S3Bucket,
    StorageAccount,
    IotHub,
    Dps,
    EventHubsNamespace,
    KeyVault,
    FunctionApp,
    CosmosAccount,
    KustoCluster,
}

impl NameKind {
    /// Human name of the resource kind.
    pub fn noun(self) -> &'static str {
        match self {
            NameKind::S3Bucket => "S3 bucket",
            NameKind::StorageAccount => "storage account",
            NameKind::IotHub => "IoT hub",
            NameKind::Dps => "Device Provisioning Service",
            NameKind::EventHubsNamespace => "Event Hubs namespace",
            NameKind::KeyVault => "key vault",
            NameKind::FunctionApp => "function app",
            NameKind::CosmosAccount => "Cosmos DB account",
            NameKind::KustoCluster => "Data Explorer cluster",
        }
    }

    /// The rule, in one sentence, for hints.
    pub fn rule(self) -> &'static str {
        match self {
            NameKind::S3Bucket => {
                "3 to 63 lowercase letters, digits, `.` and `-`, starting and ending with a letter or digit, not `xn--…`, `sthree-…` or `…-s3alias`"
            }
            NameKind::StorageAccount => "3 to 24 lowercase letters and digits only",
            NameKind::IotHub => "3 to 50 letters, digits and `-`, not ending with `-`",
            NameKind::Dps => "3 to 64 letters, digits and `-`",
            NameKind::EventHubsNamespace => {
                "6 to 50 letters, digits and `-`, starting with a letter, ending with a letter or digit"
            }
            NameKind::KeyVault => {
                "3 to 24 letters, digits and `-`, starting with a letter, ending with a letter or digit, no `--`"
            }
            NameKind::FunctionApp => {
                "2 to 60 letters, digits and `-`, starting and ending with a letter or digit"
            }
            NameKind::CosmosAccount => {
                "3 to 44 lowercase letters, digits and `-`, starting and ending with a letter or digit"
            }
            NameKind::KustoCluster => {
                "4 to 22 lowercase letters and digits, starting with a letter"
            }
        }
    }

    /// Longest name the service takes.
    pub fn max_len(self) -> usize {
        self.limits().1
    }

    /// What goes between a derived stem and the subscription's suffix: nothing where the
    /// service takes only letters and digits.
    pub fn suffix_separator(self) -> &'static str {
        match self {
            NameKind::StorageAccount | NameKind::KustoCluster => "",
            _ => "-",
        }
    }

    fn limits(self) -> (usize, usize) {
        match self {
            NameKind::S3Bucket => (3, 63),
            NameKind::StorageAccount | NameKind::KeyVault => (3, 24),
            NameKind::IotHub => (3, 50),
            NameKind::Dps => (3, 64),
            NameKind::EventHubsNamespace => (6, 50),
            NameKind::FunctionApp => (2, 60),
            NameKind::CosmosAccount => (3, 44),
            NameKind::KustoCluster => (4, 22),
        }
    }

    /// Whether the name must be unique across every customer of the cloud.
    pub fn globally_unique(self) -> bool {
        true
    }
}

/// Checks `name` against the cloud's rules; `Err` says what is wrong.
pub fn check(kind: NameKind, name: &str) -> Result<(), String> {
    let len = name.chars().count();
    let (min, max) = kind.limits();
    if len < min || len > max {
        return Err(format!(
            "is {len} characters long; a {} name takes {min} to {max}",
            kind.noun()
        ));
    }
    let bad_char = |ok: &dyn Fn(char) -> bool| name.chars().find(|c| !ok(*c));
    let first = name.chars().next().unwrap_or(' ');
    let last = name.chars().last().unwrap_or(' ');
    match kind {
        NameKind::S3Bucket => {
            if let Some(c) =
                bad_char(&|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
            {
                return Err(format!("contains `{}`", c.escape_default()));
            }
            if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
                return Err("must start and end with a letter or digit".to_owned());
            }
            if name.contains("..") {
                return Err("contains `..`".to_owned());
            }
            if name.starts_with("xn--")
                || name.starts_with("sthree-")
                || name.starts_with("amzn-s3-demo-")
            {
                return Err("starts with a prefix S3 reserves".to_owned());
            }
            if name.ends_with("-s3alias")
                || name.ends_with("--ol-s3")
                || name.ends_with(".mrap")
                || name.ends_with("--x-s3")
            {
                return Err("ends with a suffix S3 reserves".to_owned());
            }
            if name.split('.').count() == 4 && name.split('.').all(|p| p.parse::<u8>().is_ok()) {
                return Err("looks like an IP address".to_owned());
            }
        }
        NameKind::StorageAccount => {
            if let Some(c) = bad_char(&|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
                return Err(format!("contains `{}`", c.escape_default()));
            }
        }
        NameKind::IotHub | NameKind::Dps => {
            if let Some(c) = bad_char(&|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("contains `{}`", c.escape_default()));
            }
            if last == '-' {
                return Err("must not end with `-`".to_owned());
            }
        }
        NameKind::FunctionApp | NameKind::CosmosAccount => {
            let lower = kind == NameKind::CosmosAccount;
            if let Some(c) = bad_char(&|c| {
                (c.is_ascii_alphanumeric() && (!lower || !c.is_ascii_uppercase())) || c == '-'
            }) {
                return Err(format!("contains `{}`", c.escape_default()));
            }
            if !first.is_ascii_alphanumeric() || !last.is_ascii_alphanumeric() {
                return Err("must start and end with a letter or digit".to_owned());
            }
        }
        NameKind::KustoCluster => {
            if let Some(c) = bad_char(&|c| c.is_ascii_lowercase() || c.is_ascii_digit()) {
                return Err(format!("contains `{}`", c.escape_default()));
            }
            if !first.is_ascii_lowercase() {
                return Err("must start with a letter".to_owned());
            }
        }
        NameKind::EventHubsNamespace | NameKind::KeyVault => {
            if let Some(c) = bad_char(&|c| c.is_ascii_alphanumeric() || c == '-') {
                return Err(format!("contains `{}`", c.escape_default()));
            }
            if !first.is_ascii_alphabetic() {
                return Err("must start with a letter".to_owned());
            }
            if !last.is_ascii_alphanumeric() {
                return Err("must end with a letter or digit".to_owned());
            }
            if kind == NameKind::KeyVault && name.contains("--") {
                return Err("contains `--`".to_owned());
            }
            if kind == NameKind::EventHubsNamespace
                && (name.ends_with("-sb") || name.ends_with("-mgmt"))
            {
                return Err("ends with a suffix Azure reserves (`-sb`, `-mgmt`)".to_owned());
            }
        }
    }
    Ok(())
}

/// Characters of the suffix Terraform appends to a derived globally unique Azure name: the
/// first hex digits of `sha256("<subscription>/<stack prefix>")`. Two users
/// who build the same spec deploy into different subscriptions, so their names differ;
/// one user's plans give the same name every time, with no randomness in the output.
pub const AZURE_SUFFIX_LEN: usize = 8;

/// A globally unique Azure name as the module writes it: either the spec's explicit name,
/// used as it is, or a stem derived from the stack that Terraform completes with the
/// subscription's suffix ([`AZURE_SUFFIX_LEN`]). The stem is cut so the whole name stays
/// within the service's length limit; the suffix is lowercase hex, which every Azure name
/// rule accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GlobalName {
    /// The literal part: the explicit name, or the stem and its separator (`iot-cranes-prod-`).
    pub literal: String,
    /// Whether Terraform appends the subscription's suffix.
    pub suffixed: bool,
}

impl GlobalName {
    /// The spec's own name, used unchanged.
    pub fn explicit(name: &str) -> Self {
        Self {
            literal: name.to_owned(),
            suffixed: false,
        }
    }

    /// A name derived from `stem` for `kind`: the stem cut to leave room for the suffix (and
    /// a `-` before it where the service allows one), then the suffix.
    pub fn derived(kind: NameKind, stem: &str) -> Self {
        let sep = kind.suffix_separator();
        let room = kind.max_len() - AZURE_SUFFIX_LEN - sep.len();
        let cut: String = stem.chars().take(room).collect();
        Self {
            literal: format!("{}{sep}", cut.trim_end_matches('-')),
            suffixed: true,
        }
    }

    /// The name with a stand-in suffix of the real one's length and alphabet: what
    /// validation checks against the service's rules.
    pub fn checked(&self) -> String {
        if self.suffixed {
            format!("{}{}", self.literal, "0".repeat(AZURE_SUFFIX_LEN))
        } else {
            self.literal.clone()
        }
    }
}

impl std::fmt::Display for GlobalName {
    /// `iot-cranes-prod-<suffix>` for a derived name, the name itself for an explicit one.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.literal)?;
        if self.suffixed {
            f.write_str("<suffix>")?;
        }
        Ok(())
    }
}

/// `stack-env`, the prefix of most resource names.
pub fn prefix(stack: &str, env: &str) -> String {
    format!("{stack}-{env}")
}

/// Letters and digits of `stack` and `env`, for names that allow nothing else.
pub fn compact(stack: &str, env: &str) -> String {
    format!("{stack}{env}")
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .collect()
}

/// The archive bucket's derived name. The account id is appended by Terraform at plan time
/// (12 digits), which makes the name unique without any randomness in the output.
pub fn archive_bucket_stem(stack: &str, env: &str) -> String {
    format!("{}-archive", prefix(stack, env))
}

/// Characters that the account-id suffix (`-123456789012`) adds to a derived bucket name.
pub const ACCOUNT_SUFFIX_LEN: usize = 13;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_rules() {
        assert!(check(NameKind::S3Bucket, "home-security-prod-archive").is_ok());
        assert!(check(NameKind::S3Bucket, "Home").is_err());
        assert!(check(NameKind::S3Bucket, "xn--abc").is_err());
        assert!(check(NameKind::S3Bucket, "abc-s3alias").is_err());
        assert!(check(NameKind::S3Bucket, "192.168.5.4").is_err());
        assert!(check(NameKind::S3Bucket, &"a".repeat(64)).is_err());
    }

    #[test]
    fn derived_azure_names_fit_with_their_suffix() {
        let long = "a-very-long-stack-name-x-production";
        for kind in [
            NameKind::StorageAccount,
            NameKind::IotHub,
            NameKind::Dps,
            NameKind::EventHubsNamespace,
            NameKind::KeyVault,
            NameKind::FunctionApp,
            NameKind::CosmosAccount,
            NameKind::KustoCluster,
        ] {
            let stem = match kind {
                NameKind::StorageAccount | NameKind::KustoCluster => {
                    format!("st{}", compact(long, "prod"))
                }
                _ => format!("x-{long}-"),
            };
            let name = GlobalName::derived(kind, &stem);
            assert_eq!(check(kind, &name.checked()), Ok(()), "{kind:?}: {name}");
            assert_eq!(
                name.checked().len(),
                kind.max_len().min(name.checked().len())
            );
            assert!(!name.literal.contains("--"), "{kind:?}: {name}");
        }
        let short = GlobalName::derived(NameKind::IotHub, "iot-cranes-prod");
        assert_eq!(short.literal, "iot-cranes-prod-");
        assert_eq!(short.to_string(), "iot-cranes-prod-<suffix>");
        assert_eq!(GlobalName::explicit("mine").checked(), "mine");
    }

    #[test]
    fn azure_rules() {
        assert!(check(NameKind::StorageAccount, "stcranesprod").is_ok());
        assert!(check(NameKind::StorageAccount, "st-cranes").is_err());
        assert!(check(NameKind::StorageAccount, "stcranesproductionwesteurope").is_err());
        assert!(check(NameKind::EventHubsNamespace, "evh").is_err());
        assert!(check(NameKind::EventHubsNamespace, "1evhns-x").is_err());
        assert!(check(NameKind::KeyVault, "kv--x-prod").is_err());
        assert!(check(NameKind::IotHub, "iot-cranes-prod-").is_err());
    }
}
