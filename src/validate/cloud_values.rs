//! Values a cloud rejects at apply although the provider's own validation lets them through.
//!
//! `terraform validate` and `plan` pass these; `apply` fails halfway through, after other
//! resources were created. So they are spec errors here, each with the rule and a hint:
//!
//! - IoT Hub and DPS IP filter masks: azurerm checks them with an unanchored-octet pattern
//!   (`helpers/validate/network.go`, `CIDR`: `^([0-9]{1,3}\.){3}[0-9]{1,3}(/(...))?$`), so
//!   `203.0.113.300` passes the provider and fails at Azure. Here an IPv4 address with octets
//!   0 to 255 (no leading zeros) and an optional `/0` to `/32`.
//! - AWS IoT thing attributes: names match `[a-zA-Z0-9_.,@/:#-]+` up to 128 characters,
//!   values `[a-zA-Z0-9_.,@/:#=\[\]-]*` up to 800 (IoT API reference, `AttributePayload`).
//!   hashicorp/aws validates neither, and its searchable-attribute check
//!   (`validThingTypeSearchableAttribute`) matches the pattern unanchored, so `serial number`
//!   passes and `*` fails only at `terraform validate`.
//! - AWS thing type and thing group descriptions: `[\p{Graph}\x20]*` (`ThingTypeProperties`,
//!   `ThingGroupProperties`): no control characters, so no line breaks or tabs.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::spec::FleetSpec;
use crate::spec::node::SpecPath;

fn p(dotted: &str) -> SpecPath {
    SpecPath::parse(dotted)
}

/// Runs the checks on the spec itself (registry files: [`aws_attribute_problem`]).
pub fn check(spec: &FleetSpec) -> Diagnostics {
    let mut d = Diagnostics::new();
    if let Some(az) = &spec.clouds.azure {
        let hub = az.iot_hub.ip_filter.iter().map(|r| r.ip_mask.as_str());
        ip_masks(hub, "clouds.azure.iot_hub.ip_filter", &mut d);
        if let Some(dps) = &az.dps {
            let dps = dps.ip_filter.iter().map(|r| r.ip_mask.as_str());
            ip_masks(dps, "clouds.azure.dps.ip_filter", &mut d);
        }
    }
    if spec.clouds.aws.is_some() {
        aws(spec, &mut d);
    }
    d
}

/// Why `mask` is not an IPv4 address or CIDR range, if it is not.
pub fn ip_mask_problem(mask: &str) -> Option<&'static str> {
    let (addr, prefix) = match mask.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (mask, None),
    };
    if addr.contains(':') {
        return Some("IoT Hub and DPS IP filters take IPv4 addresses only");
    }
    let octets: Vec<&str> = addr.split('.').collect();
    let octet_ok = |o: &&str| {
        !o.is_empty()
            && o.len() <= 3
            && o.bytes().all(|b| b.is_ascii_digit())
            && (o.len() == 1 || !o.starts_with('0'))
            && o.parse::<u16>().is_ok_and(|n| n <= 255)
    };
    if octets.len() != 4 || !octets.iter().all(octet_ok) {
        return Some("it is not an IPv4 address (four numbers 0 to 255, no leading zeros)");
    }
    if let Some(prefix) = prefix {
        let ok = !prefix.is_empty()
            && prefix.len() <= 2
            && prefix.bytes().all(|b| b.is_ascii_digit())
            && (prefix.len() == 1 || !prefix.starts_with('0'))
            && prefix.parse::<u8>().is_ok_and(|n| n <= 32);
        if !ok {
            return Some("the prefix length after `/` must be 0 to 32");
        }
    }
    None
}

fn ip_masks<'a>(masks: impl Iterator<Item = &'a str>, list: &str, d: &mut Diagnostics) {
    for (i, mask) in masks.enumerate() {
        if let Some(why) = ip_mask_problem(mask) {
            d.push(
                Diagnostic::error(
                    "bad-ip-mask",
                    format!("`{mask}` is not an IPv4 address or CIDR range: {why}"),
                )
                .at(p(list).index(i).key("ip_mask"))
                .hint("write an address such as `203.0.113.7` or a range such as `203.0.113.0/24`"),
            );
        }
    }
}

const NAME_CHARS: &str = "letters, digits and `_ . , @ / : # -`";
const VALUE_CHARS: &str = "letters, digits and `_ . , @ / : # = [ ] -`";

fn name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_.,@/:#-".contains(c)
}

/// A character as a message shows it.
fn shown(c: char) -> String {
    if c == ' ' {
        "a space".to_owned()
    } else {
        format!("`{}`", c.escape_default())
    }
}

/// Why AWS would refuse `name` as a thing attribute (or searchable attribute) name.
fn aws_name_problem(name: &str) -> Option<String> {
    if name.is_empty() || name.chars().count() > 128 {
        return Some("AWS attribute names are 1 to 128 characters".to_owned());
    }
    name.chars().find(|c| !name_char(*c)).map(|c| {
        format!(
            "AWS attribute names hold only {NAME_CHARS}, not {}",
            shown(c)
        )
    })
}

/// What is wrong with an attribute: its name or its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AttributeProblem {
    Name(String),
    Value(String),
}

impl AttributeProblem {
    pub fn message(&self) -> &str {
        match self {
            AttributeProblem::Name(m) | AttributeProblem::Value(m) => m,
        }
    }
}

/// Why AWS would refuse the attribute `name: value`, if it would.
pub fn aws_attribute_problem(name: &str, value: &str) -> Option<AttributeProblem> {
    if let Some(why) = aws_name_problem(name) {
        return Some(AttributeProblem::Name(format!("attribute `{name}`: {why}")));
    }
    if value.chars().count() > 800 {
        return Some(AttributeProblem::Value(format!(
            "attribute `{name}`: AWS attribute values are at most 800 characters"
        )));
    }
    value
        .chars()
        .find(|c| !(name_char(*c) || matches!(c, '=' | '[' | ']')))
        .map(|c| {
            AttributeProblem::Value(format!(
                "attribute `{name}`: AWS attribute values hold only {VALUE_CHARS}, not {}",
                shown(c)
            ))
        })
}

/// The hint for an attribute problem.
pub const ATTRIBUTE_HINT: &str = "AWS IoT stores thing attributes under these rules (IoT API `AttributePayload`); spell spaces and other characters with `-` or `_`";

fn attributes(map: &BTreeMap<String, String>, at: &SpecPath, d: &mut Diagnostics) {
    for (k, v) in map {
        let path = at.clone().key(k.clone());
        let diag = match aws_attribute_problem(k, v) {
            None => continue,
            Some(AttributeProblem::Name(m)) => Diagnostic::error("bad-attribute", m).at_key(path),
            Some(AttributeProblem::Value(m)) => Diagnostic::error("bad-attribute", m).at(path),
        };
        d.push(diag.hint(ATTRIBUTE_HINT));
    }
}

fn description(text: Option<&str>, at: SpecPath, what: &str, d: &mut Diagnostics) {
    if text.is_some_and(|t| t.chars().any(char::is_control)) {
        d.push(
            Diagnostic::error(
                "bad-description",
                format!("AWS {what} descriptions hold printable characters and spaces only, not line breaks, tabs or other control characters"),
            )
            .at(at)
            .hint("write the description on one line"),
        );
    }
}

fn aws(spec: &FleetSpec, d: &mut Diagnostics) {
    for (i, t) in spec.fleet.device_types.iter().enumerate() {
        let at = p("fleet.device_types").index(i);
        description(
            t.description.as_deref(),
            at.clone().key("description"),
            "thing type",
            d,
        );
        for (j, name) in t.searchable_attributes.iter().enumerate() {
            if let Some(why) = aws_name_problem(name) {
                d.push(
                    Diagnostic::error(
                        "bad-attribute",
                        format!("searchable attribute `{name}`: {why}"),
                    )
                    .at(at.clone().key("searchable_attributes").index(j))
                    .hint("name an attribute the devices carry; fleet indexing searches every attribute without listing them here"),
                );
            }
        }
    }
    for (i, g) in spec.fleet.groups.iter().enumerate() {
        description(
            g.description.as_deref(),
            p("fleet.groups").index(i).key("description"),
            "thing group",
            d,
        );
    }
    if let Some(registry) = &spec.fleet.registry {
        for (i, dev) in registry.devices.iter().enumerate() {
            let at = p("fleet.registry.devices").index(i).key("attributes");
            attributes(&dev.attributes, &at, d);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ip_masks() {
        for ok in [
            "203.0.113.7",
            "0.0.0.0/0",
            "10.0.0.0/8",
            "255.255.255.255/32",
            "1.2.3.4/9",
        ] {
            assert_eq!(ip_mask_problem(ok), None, "{ok}");
        }
        for bad in [
            "203.0.113.300",
            "1.2.3",
            "1.2.3.4.5",
            "010.0.0.1",
            "1.2.3.4/33",
            "1.2.3.4/",
            "1.2.3.4/08",
            "::1",
            "2001:db8::/32",
            "anywhere",
            "",
            " 1.2.3.4",
            "1.2.3.4/24/8",
        ] {
            assert!(ip_mask_problem(bad).is_some(), "{bad}");
        }
    }

    #[test]
    fn aws_attributes() {
        assert_eq!(aws_attribute_problem("model", "m1"), None);
        assert_eq!(aws_attribute_problem("a.b,c@d/e:f#g-h_1", "x=[1]"), None);
        assert_eq!(aws_attribute_problem("k", ""), None);
        assert!(aws_attribute_problem("", "v").is_some());
        assert!(aws_attribute_problem("serial number", "v").is_some());
        assert!(aws_attribute_problem("*", "v").is_some());
        assert!(aws_attribute_problem("k", "1.2 (beta)").is_some());
        assert!(aws_attribute_problem(&"k".repeat(129), "v").is_some());
        assert!(aws_attribute_problem("k", &"v".repeat(801)).is_some());
        assert_eq!(aws_attribute_problem("k", &"v".repeat(800)), None);
    }
}
