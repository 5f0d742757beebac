//! Validated device ids and cloud verification codes.
//!
//! A device id becomes three things at once: the certificate's common name, the AWS thing name or
//! Azure DPS registration id that a provisioning template reads from it, and a directory name on
//! the manufacturing line's disk. The last makes validation a security matter: an id read from a
//! registry must never be able to point a write outside the output directory. So the only way to
//! get a [`DeviceId`] is [`DeviceId::parse`], which accepts `[A-Za-z0-9._:-]{1,128}` and nothing
//! else, and rejects `..`, a leading `.`, separators and control characters by name.

use std::fmt;

use super::error::{CertsError, Result};
use crate::clouds::{CaCode, Cloud};

/// The longest device id accepted: the AWS thing name and Azure registration id limit.
pub const MAX_DEVICE_ID_LEN: usize = 128;

/// RFC 5280's upper bound for a common name; longer ids still work but deserve a warning.
pub const MAX_COMMON_NAME_LEN: usize = 64;

/// A device id that is safe as a CN and as a single path component.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(String);

impl DeviceId {
    /// Validates `raw` as a device id. `location` (e.g. `line 4 of \`devices.csv\``) is named in
    /// the error; pass `""` when there is none.
    pub fn parse(raw: &str, location: &str) -> Result<Self> {
        match problem(raw) {
            None => Ok(Self(raw.to_owned())),
            Some(reason) => Err(CertsError::InvalidDeviceId {
                id: display_id(raw),
                location: if location.is_empty() {
                    String::new()
                } else {
                    format!(" ({location})")
                },
                reason,
            }),
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Remarks about cloud-specific rules this id breaks without being unsafe.
    pub fn cloud_remarks(&self) -> Vec<&'static str> {
        let mut remarks = Vec::new();
        if self.0.chars().any(|c| c.is_ascii_uppercase()) {
            remarks.push("Azure DPS registration ids are lowercase");
        }
        if self.0.contains('.') {
            remarks.push("AWS IoT thing names cannot contain `.`");
        }
        if self.0.len() > MAX_COMMON_NAME_LEN {
            remarks.push("RFC 5280 caps a common name at 64 characters");
        }
        remarks
    }
}

impl fmt::Display for DeviceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl AsRef<str> for DeviceId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

fn problem(raw: &str) -> Option<String> {
    if raw.is_empty() {
        return Some("it is empty".to_owned());
    }
    if let Some(c) = raw.chars().find(|c| c.is_control()) {
        return Some(format!(
            "it contains the control character U+{:04X}",
            u32::from(c)
        ));
    }
    if raw.contains('/') || raw.contains('\\') {
        return Some("it contains a path separator".to_owned());
    }
    if raw.contains("..") {
        return Some("it contains `..`".to_owned());
    }
    if raw.starts_with('.') {
        return Some("it starts with `.`, which would hide its bundle directory".to_owned());
    }
    let len = raw.chars().count();
    if len > MAX_DEVICE_ID_LEN {
        return Some(format!(
            "it is {len} characters long, more than {MAX_DEVICE_ID_LEN}"
        ));
    }
    if let Some(c) = raw
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | ':' | '-')))
    {
        let shown = if c.is_whitespace() {
            format!("U+{:04X} (whitespace)", u32::from(c))
        } else {
            format!("`{c}`")
        };
        return Some(format!(
            "it contains {shown}, which is outside `[A-Za-z0-9._:-]`"
        ));
    }
    None
}

/// Shows an id in an error: control characters escaped, very long ids shortened.
fn display_id(raw: &str) -> String {
    let escaped: String = raw.escape_debug().collect();
    let escaped = escaped.replace('`', "\\`");
    if escaped.chars().count() > 80 {
        let head: String = escaped.chars().take(77).collect();
        format!("{head}...")
    } else {
        escaped
    }
}

/// A registration (AWS) or verification (Azure) code, checked to fit a common name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerificationCode(String);

impl VerificationCode {
    /// Checks a code pasted from the cloud console or CLI. Every code must fit a
    /// 64-character common name and hold only letters, digits and `-`; `cloud`'s device side
    /// names the code and adds its own format ([`crate::clouds::DeviceSide::ca_code_problem`]:
    /// AWS codes are 64 hex digits, Azure codes shorter alphanumeric strings).
    pub fn parse(raw: &str, cloud: Cloud) -> Result<Self> {
        let side = cloud.device_side();
        let CaCode { name: flag, hint } = side.ca_code();
        let shown = display_id(raw);
        let refuse = |reason: &str| CertsError::parameter(flag, &shown, reason, hint);
        if raw.is_empty() {
            return Err(refuse("it is empty"));
        }
        if raw.len() > MAX_COMMON_NAME_LEN {
            return Err(refuse(
                "it is longer than the 64 characters a certificate common name can hold",
            ));
        }
        if !raw.chars().all(|c| c.is_ascii_alphanumeric() || c == '-') {
            return Err(refuse(
                "it contains characters other than letters, digits and `-` (a stray quote or space?)",
            ));
        }
        if let Some(reason) = side.ca_code_problem(raw) {
            return Err(refuse(reason));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_documented_alphabet() {
        for ok in ["dev-1", "A.b_c:d-e", "x", &"a".repeat(128), "sensor-0001"] {
            assert!(DeviceId::parse(ok, "").is_ok(), "{ok}");
        }
    }

    #[test]
    fn rejects_unsafe_ids_with_a_reason() {
        let cases = [
            ("", "empty"),
            ("a/b", "path separator"),
            ("a\\b", "path separator"),
            ("..", "`..`"),
            ("a..b", "`..`"),
            (".hidden", "starts with `.`"),
            ("a\u{7}b", "U+0007"),
            ("a\nb", "U+000A"),
            ("a b", "whitespace"),
            ("ä", "outside"),
            ("a*b", "`*`"),
        ];
        for (raw, needle) in cases {
            let err = DeviceId::parse(raw, "line 3 of `r.csv`")
                .unwrap_err()
                .to_string();
            assert!(err.contains(needle), "{raw:?}: {err}");
            assert!(err.contains("line 3 of `r.csv`"), "{err}");
            assert!(!err.contains('\n') || err.contains("\nhint:"), "{err}");
        }
        let long = "a".repeat(129);
        assert!(
            DeviceId::parse(&long, "")
                .unwrap_err()
                .to_string()
                .contains("129 characters")
        );
    }

    #[test]
    fn control_characters_are_escaped_in_messages() {
        let err = DeviceId::parse("evil\u{1b}[31m", "")
            .unwrap_err()
            .to_string();
        assert!(!err.contains('\u{1b}'));
        assert!(err.contains("\\u{1b}"));
    }

    #[test]
    fn every_clouds_code_keeps_the_common_rules() {
        for planner in crate::clouds::CLOUDS {
            let cloud = planner.cloud();
            let name = planner.device_side().ca_code().name;
            for bad in ["", "\"ABC\"", "a b", &"A".repeat(65)] {
                let err = VerificationCode::parse(bad, cloud).unwrap_err().to_string();
                assert!(err.contains(name), "{cloud}: {err}");
            }
        }
    }
}
