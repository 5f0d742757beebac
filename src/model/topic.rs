//! MQTT topic patterns with per-device placeholders.
//!
//! A spec writes `dt/{device_id}/telemetry`; an IoT policy needs
//! `dt/${iot:Connection.Thing.ThingName}/telemetry` so that each device can touch only its
//! own topics, and a topic rule needs `dt/+/telemetry`. Parsing once into segments keeps
//! those renderings consistent, and keeps user text from ever becoming a policy variable.

use std::fmt;

/// One part of a topic level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    Text(String),
    DeviceId,
    DeviceType,
}

/// A topic level: text and placeholders, or a wildcard.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Parts(Vec<Part>),
    /// `+`
    Single,
    /// `#`
    Multi,
}

/// A parsed topic pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topic {
    pub levels: Vec<Level>,
    raw: String,
}

/// What a topic is used for; publish topics may not contain wildcards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Publish,
    Subscribe,
}

/// A problem with a topic, at a byte offset of the pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicError {
    pub offset: usize,
    pub message: String,
}

/// AWS IoT allows at most 8 levels (7 slashes) in a topic, not counting reserved prefixes.
pub const MAX_LEVELS: usize = 8;
/// AWS IoT topics are at most 256 bytes.
pub const MAX_BYTES: usize = 256;

/// How a device id placeholder is rendered at most (ids are up to 128 characters).
const DEVICE_ID_BYTES: usize = 128;

/// Parses a pattern such as `cmd/{device_id}/#`.
pub fn parse(raw: &str, usage: Use) -> Result<Topic, TopicError> {
    let fail = |offset, message: String| Err(TopicError { offset, message });
    if raw.is_empty() {
        return fail(0, "the topic is empty".to_owned());
    }
    if raw.starts_with('$') {
        return fail(
            0,
            "topics starting with `$` are reserved for the cloud; fleetform adds shadow and Basic Ingest topics itself".to_owned(),
        );
    }
    if raw.starts_with('/') || raw.ends_with('/') {
        return fail(0, "a topic must not start or end with `/`".to_owned());
    }
    let mut levels = Vec::new();
    let mut offset = 0;
    let count = raw.split('/').count();
    for (i, level) in raw.split('/').enumerate() {
        let parsed = match level {
            "" => return fail(offset, "empty topic level (`//`)".to_owned()),
            "+" | "#" if usage == Use::Publish => {
                return fail(
                    offset,
                    format!("`{level}` is a wildcard: devices publish to exact topics"),
                );
            }
            "+" => Level::Single,
            "#" if i + 1 == count => Level::Multi,
            "#" => return fail(offset, "`#` must be the last level".to_owned()),
            _ => Level::Parts(parse_level(level, offset)?),
        };
        levels.push(parsed);
        offset += level.len() + 1;
    }
    if levels.len() > MAX_LEVELS {
        return fail(
            0,
            format!(
                "{} levels; AWS IoT allows at most {MAX_LEVELS}",
                levels.len()
            ),
        );
    }
    let topic = Topic {
        levels,
        raw: raw.to_owned(),
    };
    if topic.min_bytes() > MAX_BYTES {
        return fail(
            0,
            format!(
                "is {} bytes long; the limit is {MAX_BYTES}",
                topic.min_bytes()
            ),
        );
    }
    Ok(topic)
}

fn parse_level(level: &str, base: usize) -> Result<Vec<Part>, TopicError> {
    let mut parts = Vec::new();
    let mut rest = level;
    let mut at = base;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('{') {
            let Some(end) = after.find('}') else {
                return Err(TopicError {
                    offset: at,
                    message: "unclosed `{`".to_owned(),
                });
            };
            let name = &after[..end];
            parts.push(match name {
                "device_id" => Part::DeviceId,
                "device_type" => Part::DeviceType,
                other => {
                    return Err(TopicError {
                        offset: at,
                        message: format!("unknown placeholder `{{{other}}}`; use `{{device_id}}` or `{{device_type}}`"),
                    });
                }
            });
            rest = &after[end + 1..];
            at += end + 2;
        } else {
            let end = rest.find('{').unwrap_or(rest.len());
            let text = &rest[..end];
            if let Some((i, c)) = text.char_indices().find(|(_, c)| {
                !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':' | '=' | '@'))
            }) {
                return Err(TopicError {
                    offset: at + i,
                    message: format!(
                        "`{}` is not allowed in a topic; use letters, digits and `-_.:=@`",
                        c.escape_default()
                    ),
                });
            }
            parts.push(Part::Text(text.to_owned()));
            rest = &rest[end..];
            at += end;
        }
    }
    Ok(parts)
}

impl Topic {
    /// Whether the pattern is scoped to the device's own id.
    pub fn is_device_scoped(&self) -> bool {
        self.levels
            .iter()
            .any(|l| matches!(l, Level::Parts(p) if p.contains(&Part::DeviceId)))
    }

    /// Shortest the topic can get (one-character ids).
    pub fn min_bytes(&self) -> usize {
        self.bytes_with(1)
    }

    /// Longest the topic can get (128-character ids and types).
    pub fn max_bytes(&self) -> usize {
        self.bytes_with(DEVICE_ID_BYTES)
    }

    fn bytes_with(&self, placeholder: usize) -> usize {
        let mut n = self.levels.len().saturating_sub(1);
        for level in &self.levels {
            n += match level {
                Level::Single | Level::Multi => 1,
                Level::Parts(parts) => parts
                    .iter()
                    .map(|p| match p {
                        Part::Text(t) => t.len(),
                        Part::DeviceId | Part::DeviceType => placeholder,
                    })
                    .sum(),
            };
        }
        n
    }

    /// The pattern as written in the spec.
    pub fn as_str(&self) -> &str {
        &self.raw
    }

    /// Renders with AWS IoT policy variables, for `iot:Publish` / `iot:Receive` resources
    /// (`topic/...`) and `iot:Subscribe` resources (`topicfilter/...`).
    pub fn aws_policy(&self) -> String {
        self.render(
            |p| match p {
                Part::DeviceId => "${iot:Connection.Thing.ThingName}".to_owned(),
                Part::DeviceType => "${iot:Connection.Thing.ThingTypeName}".to_owned(),
                Part::Text(t) => t.clone(),
            },
            "+",
            "#",
        )
    }

    /// Renders as an MQTT topic filter that matches every device (`dt/+/telemetry`).
    pub fn filter(&self) -> String {
        let levels: Vec<String> = self
            .levels
            .iter()
            .map(|l| match l {
                Level::Single => "+".to_owned(),
                Level::Multi => "#".to_owned(),
                Level::Parts(parts) if parts.iter().all(|p| matches!(p, Part::Text(_))) => parts
                    .iter()
                    .map(|p| {
                        if let Part::Text(t) = p {
                            t.as_str()
                        } else {
                            ""
                        }
                    })
                    .collect(),
                Level::Parts(_) => "+".to_owned(),
            })
            .collect();
        levels.join("/")
    }

    /// Renders with a concrete device id and type, for examples and scripts.
    pub fn for_device(&self, id: &str, device_type: &str) -> String {
        self.render(
            |p| match p {
                Part::DeviceId => id.to_owned(),
                Part::DeviceType => device_type.to_owned(),
                Part::Text(t) => t.clone(),
            },
            "+",
            "#",
        )
    }

    /// Index of the level that holds `{device_id}` on its own, for `topic(n)` in IoT SQL.
    pub fn device_id_level(&self) -> Option<usize> {
        self.levels
            .iter()
            .position(|l| matches!(l, Level::Parts(p) if p == &[Part::DeviceId]))
    }

    fn render(&self, part: impl Fn(&Part) -> String, single: &str, multi: &str) -> String {
        self.levels
            .iter()
            .map(|l| match l {
                Level::Single => single.to_owned(),
                Level::Multi => multi.to_owned(),
                Level::Parts(parts) => parts.iter().map(&part).collect(),
            })
            .collect::<Vec<_>>()
            .join("/")
    }
}

impl fmt::Display for Topic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_policy_and_filter() {
        let t = parse("dt/{device_type}/{device_id}/telemetry", Use::Publish).unwrap();
        assert_eq!(
            t.aws_policy(),
            "dt/${iot:Connection.Thing.ThingTypeName}/${iot:Connection.Thing.ThingName}/telemetry"
        );
        assert_eq!(t.filter(), "dt/+/+/telemetry");
        assert_eq!(t.device_id_level(), Some(2));
        assert!(t.is_device_scoped());
    }

    #[test]
    fn rejects_injection_and_wildcards() {
        assert!(parse("a/${x}", Use::Publish).is_err());
        assert!(parse("a/#", Use::Publish).is_err());
        assert!(parse("a/#/b", Use::Subscribe).is_err());
        assert!(parse("a/\"b", Use::Publish).is_err());
        assert!(parse("$aws/things", Use::Publish).is_err());
        assert_eq!(parse("a/{devid}", Use::Publish).unwrap_err().offset, 2);
        assert!(parse("a/b/c/d/e/f/g/h/i", Use::Publish).is_err());
        assert!(parse("cmd/{device_id}/#", Use::Subscribe).is_ok());
    }
}
