//! Small phrases every cloud's design uses: lists, counts, the fleet's key algorithm.
//!
//! Only cloud-neutral words live here; a cloud's own names (tiers, SKUs, services) are data
//! of its folder.

use std::fmt::Write as _;

use crate::model::condition::{Dialect, Expr};
use crate::model::{AuthMethod, KeyAlgorithm, Model};

/// Words for a list: `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The first `max` items, then `+N more`.
pub fn first_few(items: &[String], max: usize) -> String {
    let mut out = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        let _ = write!(out, " +{} more", items.len() - max);
    }
    out
}

/// `s` unless `n` is 1.
pub fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// How devices authenticate, in a few words.
pub fn auth_words(model: &Model) -> String {
    match model.identity.method {
        AuthMethod::X509 => format!("X.509, {}", key_words(model.identity.key_algorithm)),
        AuthMethod::SymmetricKey => "symmetric keys".to_owned(),
        AuthMethod::Tpm => "TPM attestation".to_owned(),
    }
}

/// A key algorithm as people say it.
pub fn key_words(k: KeyAlgorithm) -> &'static str {
    match k {
        KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
        KeyAlgorithm::Rsa2048 => "RSA 2048",
        KeyAlgorithm::Rsa3072 => "RSA 3072",
    }
}

/// A condition as a diagram line: `WHERE …` in `dialect`, or "all messages".
pub fn condition_line(cond: Option<&Expr>, dialect: Dialect, prefix: &str) -> String {
    match cond {
        Some(e) => format!("{prefix}{}", e.render(dialect)),
        None => "all messages".to_owned(),
    }
}

/// Who alarms e-mail, as a diagram line.
pub fn emails(m: &Model) -> Vec<String> {
    if m.monitoring.emails.is_empty() {
        vec!["no e-mail subscribers".to_owned()]
    } else {
        vec![first_few(&m.monitoring.emails, 2)]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_read_naturally() {
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
        assert_eq!(
            first_few(&["a".into(), "b".into(), "c".into()], 2),
            "a, b +1 more"
        );
    }
}
