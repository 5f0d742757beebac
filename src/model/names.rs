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
    let (min, max) = match kind {
        NameKind::S3Bucket => (3, 63),
        NameKind::StorageAccount | NameKind::KeyVault => (3, 24),
        NameKind::IotHub => (3, 50),
        NameKind::Dps => (3, 64),
        NameKind::EventHubsNamespace => (6, 50),
    };
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
