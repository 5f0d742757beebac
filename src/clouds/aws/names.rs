//! Names the AWS planner derives from the stack, held within AWS's limits.
//!
//! A derived name (`<stack>-<environment>-<suffix>`) grows with the spec: a 24-character
//! stack, a 10-character environment and a 64-character alert name make an IAM role name of
//! 109 characters, which IAM rejects at apply (64), halfway through creating the stack.
//! Cutting the tail off would make two long names that differ only at the end collide, so a
//! name over its limit keeps as much of its start as fits and ends with `-` and the first
//! 8 hex digits of the SHA-256 of the full name: the same spec always gets the same short
//! name, and two different full names get different ones.
//!
//! Limits, from the AWS API references (`CreateRole` RoleName, `CreateFunction`
//! FunctionName, `CreateProvisioningTemplate` templateName, S3 bucket naming rules,
//! `CreateThingType`, `CreateThingGroup`, `CreateRoleAlias`).

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

/// IAM role names: 64 characters.
pub(super) const IAM_ROLE: usize = 64;
/// Lambda function names: 64 characters.
pub(super) const LAMBDA: usize = 64;
/// S3 bucket names: 63 characters, of which the account-id suffix (`-123456789012`) takes 13.
pub(super) const S3_STEM: usize = 63 - crate::model::names::ACCOUNT_SUFFIX_LEN;
/// AWS IoT provisioning template names: 36 characters.
pub(super) const PROVISIONING_TEMPLATE: usize = 36;
/// Thing type, thing group, IoT policy and role alias names: 128 characters.
pub(super) const IOT_NAME: usize = 128;

/// Length of the hash suffix (without its separator).
const HASH_LEN: usize = 8;

/// `full` when it has at most `max` characters; otherwise its start and `<sep><8 hex digits
/// of SHA-256(full)>`, `max` characters in all. `full` is ASCII (spec names are).
pub(super) fn fit(full: &str, max: usize, sep: char) -> String {
    if full.len() <= max {
        return full.to_owned();
    }
    let digest = Sha256::digest(full.as_bytes());
    let mut hash = String::with_capacity(HASH_LEN);
    for b in digest.iter().take(HASH_LEN / 2) {
        let _ = write!(hash, "{b:02x}");
    }
    let keep = max.saturating_sub(HASH_LEN + 1);
    let stem = full
        .get(..keep)
        .unwrap_or(full)
        .trim_end_matches(['-', '_', '.', '/']);
    format!("{stem}{sep}{hash}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_names_are_kept() {
        assert_eq!(
            fit("pumps-dev-fleet", PROVISIONING_TEMPLATE, '-'),
            "pumps-dev-fleet"
        );
    }

    #[test]
    fn long_names_keep_their_start_and_end_with_a_stable_hash() {
        // The longest stack and environment: 24 + 1 + 10 + 6 characters.
        let full = |env: &str| format!("{}-{env}-fleet", "a".repeat(24));
        let a = fit(&full("production"), 36, '-');
        let b = fit(&full("productio2"), 36, '-');
        assert_eq!(a.len(), 36, "{a}");
        assert!(a.starts_with(&format!("{}-", "a".repeat(24))), "{a}");
        assert_ne!(a, b, "names that differ only at the end must not collide");
        assert_eq!(a, fit(&full("production"), 36, '-'), "stable");
    }

    #[test]
    fn no_separator_is_doubled() {
        // The cut falls right after a `-`: the stem drops it before the hash.
        let n = fit("abcdefg-hijklmnopqrstuvwxyz", 17, '-');
        assert_eq!(n.len(), 16, "{n}");
        assert!(n.starts_with("abcdefg-") && !n.contains("--"), "{n}");
    }
}
