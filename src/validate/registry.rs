//! Device registry files: CSV or YAML lists of pre-registered devices.
//!
//! Small fleets registered by hand keep their device list beside the spec, often exported
//! from a spreadsheet. Problems in that file are reported in *that* file, with its own
//! line and column, exactly like problems in the spec.

use std::collections::BTreeMap;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::model::Device;
use crate::spec::RegisteredDevice;
use crate::spec::load::{DocKind, MAX_REGISTRY_BYTES, parse_yaml, too_large};
use crate::spec::node::{ByteSpan, SpecPath};

/// Whether a device id is valid on both clouds (AWS thing names ∩ Azure device ids).
pub fn valid_device_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
}

/// Most diagnostics of one kind (code) shown for one registry file. A spreadsheet export with
/// a million bad rows would otherwise give a million diagnostics to sort, locate and render;
/// the rest are counted in one summary diagnostic.
pub const MAX_DIAGNOSTICS_PER_KIND: usize = 20;

/// Collects the diagnostics of one registry file, keeping the first
/// [`MAX_DIAGNOSTICS_PER_KIND`] of each code and counting the others.
struct Capped {
    file: String,
    kept: Diagnostics,
    /// Per code: how many were seen.
    seen: BTreeMap<&'static str, usize>,
    /// Per code: the first one left out (where the summary points).
    first_left_out: BTreeMap<&'static str, Diagnostic>,
}

impl Capped {
    fn new(file: &str) -> Self {
        Self {
            file: file.to_owned(),
            kept: Diagnostics::new(),
            seen: BTreeMap::new(),
            first_left_out: BTreeMap::new(),
        }
    }

    fn push(&mut self, d: Diagnostic) {
        let seen = self.seen.entry(d.code).or_default();
        *seen += 1;
        if *seen <= MAX_DIAGNOSTICS_PER_KIND {
            self.kept.push(d);
        } else {
            self.first_left_out.entry(d.code).or_insert(d);
        }
    }

    /// The kept diagnostics, and per code with more, one "…and N more" summary.
    fn finish(mut self) -> Diagnostics {
        for (code, first) in self.first_left_out {
            let more = self.seen[code] - MAX_DIAGNOSTICS_PER_KIND;
            let what = match code {
                "bad-device-id" => "invalid device ids",
                "registry-syntax" => "invalid rows",
                "duplicate-name" => "duplicate device ids",
                "unknown-reference" => "references to undeclared device types or groups",
                _ => "problems of this kind",
            };
            self.kept.push(Diagnostic {
                message: format!("…and {more} more {what} in `{}`", self.file),
                label: None,
                hints: vec![format!(
                    "only the first {MAX_DIAGNOSTICS_PER_KIND} of each kind are shown; fix those and validate again, or fix the export that wrote the file"
                )],
                ..first
            });
        }
        self.kept
    }
}

const ID_RULE: &str = "device ids are 1 to 128 letters, digits, `:`, `_` and `-` (the names both AWS and Azure accept)";

/// A device read from a registry file, and where its id is.
#[derive(Debug, Clone)]
pub struct Entry {
    pub device: Device,
    pub span: ByteSpan,
}

/// Parses a registry file already loaded into `sources`. CSV when the name ends in `.csv`,
/// YAML otherwise. Returns the entries it could read and the problems with the others.
/// Files longer than [`MAX_REGISTRY_BYTES`] are refused, whatever their format.
pub fn parse(sources: &Sources, id: SourceId) -> (Vec<Entry>, Diagnostics) {
    parse_at_most(sources, id, MAX_REGISTRY_BYTES)
}

fn parse_at_most(sources: &Sources, id: SourceId, max_bytes: usize) -> (Vec<Entry>, Diagnostics) {
    match parse_any(sources, id, max_bytes) {
        Ok(found) => found,
        Err(diags) => (Vec::new(), diags),
    }
}

fn parse_any(
    sources: &Sources,
    id: SourceId,
    max_bytes: usize,
) -> Result<(Vec<Entry>, Diagnostics), Diagnostics> {
    if let Some(d) = too_large(sources, id, max_bytes) {
        return Err(d
            .hint("register a fleet this large through fleet provisioning (AWS) or the DPS (Azure) instead of a file")
            .into());
    }
    let name = &sources.get(id).name;
    if std::path::Path::new(name)
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"))
    {
        parse_csv(sources, id)
    } else {
        parse_yaml_list(sources, id)
    }
}

fn parse_csv(sources: &Sources, id: SourceId) -> Result<(Vec<Entry>, Diagnostics), Diagnostics> {
    let text = sources.get(id).text.clone();
    let mut diags = Capped::new(&sources.get(id).name);
    let at = |offset: u64, len: usize| ByteSpan {
        start: usize::try_from(offset).unwrap_or(0),
        len,
    };
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(Diagnostic::error(
                "registry-syntax",
                format!("cannot read the CSV header: {e}"),
            )
            .in_source(id, at(0, 1))
            .into());
        }
    };
    let column = |name: &str| headers.iter().position(|h| h == name);
    let Some(id_col) = column("id") else {
        return Err(Diagnostic::error("registry-header", "the CSV has no `id` column")
            .in_source(id, at(0, headers.as_slice().len().max(1)))
            .hint("the first line names the columns: `id,type,groups` then one column per attribute")
            .into());
    };
    let type_col = column("type");
    let groups_col = column("groups");
    let mut devices = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let offset = e.position().map_or(0, csv::Position::byte);
                diags.push(
                    Diagnostic::error("registry-syntax", format!("invalid CSV row: {e}"))
                        .in_source(id, at(offset, 1))
                        .hint("every row needs as many fields as the header; quote fields that contain commas"),
                );
                continue;
            }
        };
        let row_offset = record.position().map_or(0, csv::Position::byte);
        let field_offset = |col: usize| {
            // Position of a field: the row start plus the lengths of the fields before it.
            let before: usize = record.iter().take(col).map(|f| f.len() + 1).sum();
            row_offset + before as u64
        };
        let dev_id = record.get(id_col).unwrap_or_default();
        if !valid_device_id(dev_id) {
            diags.push(
                Diagnostic::error(
                    "bad-device-id",
                    format!("`{}` is not a valid device id", dev_id.escape_default()),
                )
                .in_source(id, at(field_offset(id_col), dev_id.len()))
                .hint(ID_RULE),
            );
            continue;
        }
        let mut attributes = BTreeMap::new();
        for (col, header) in headers.iter().enumerate() {
            if Some(col) == type_col || Some(col) == groups_col || col == id_col {
                continue;
            }
            let value = record.get(col).unwrap_or_default();
            if !value.is_empty() {
                let key = header.strip_prefix("attr.").unwrap_or(header);
                attributes.insert(key.to_owned(), value.to_owned());
            }
        }
        devices.push(Entry {
            span: at(field_offset(id_col), dev_id.len()),
            device: Device {
                id: dev_id.to_owned(),
                device_type: type_col
                    .and_then(|c| record.get(c))
                    .filter(|t| !t.is_empty())
                    .map(str::to_owned),
                groups: groups_col
                    .and_then(|c| record.get(c))
                    .map(|g| {
                        g.split([';', '|'])
                            .map(str::trim)
                            .filter(|g| !g.is_empty())
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                attributes,
            },
        });
    }
    Ok((devices, diags.finish()))
}

fn parse_yaml_list(
    sources: &Sources,
    id: SourceId,
) -> Result<(Vec<Entry>, Diagnostics), Diagnostics> {
    let root = parse_yaml(sources, id, DocKind::Registry)?;
    let json = root.to_json();
    // Accept a bare list, or a mapping with a `devices` list.
    let (list, base) = match json {
        serde_json::Value::Object(mut obj) if obj.contains_key("devices") => (
            obj.remove("devices").unwrap_or_default(),
            SpecPath::root().key("devices"),
        ),
        other => (other, SpecPath::root()),
    };
    match serde_path_to_error::deserialize::<_, Vec<RegisteredDevice>>(list) {
        Ok(devices) => {
            let mut capped = Capped::new(&sources.get(id).name);
            for (i, d) in devices.iter().enumerate() {
                if !valid_device_id(&d.id) {
                    capped.push(
                        Diagnostic::error(
                            "bad-device-id",
                            format!("`{}` is not a valid device id", d.id.escape_default()),
                        )
                        .at(base.index(i).key("id"))
                        .hint(ID_RULE),
                    );
                }
            }
            let mut diags = capped.finish();
            diags.locate(sources, id, &root);
            let entries = devices
                .into_iter()
                .enumerate()
                .filter(|(_, d)| valid_device_id(&d.id))
                .map(|(i, d)| Entry {
                    span: root
                        .locate(&base.index(i).key("id"), crate::spec::node::Anchor::Value)
                        .0,
                    device: Device {
                        id: d.id,
                        device_type: d.device_type,
                        groups: d.groups,
                        attributes: d.attributes,
                    },
                })
                .collect();
            Ok((entries, diags))
        }
        Err(e) => {
            let path = crate::validate::path_from_serde(e.path(), &base);
            let mut diags: Diagnostics = Diagnostic::error("registry-shape", format!("invalid device entry: {}", e.inner()))
                .at(path)
                .hint("each device is `{id: sensor-001, type: TYPE, groups: [GROUP], attributes: {key: value}}`")
                .into();
            diags.locate(sources, id, &root);
            Err(diags)
        }
    }
}

/// Checks devices read from a registry file (`spans[i]` is where `devices[i]`'s id is)
/// against the spec: unique ids (also against the inline list), known device types and
/// groups. Diagnostics point into the registry file.
pub fn check(
    spec: &crate::spec::FleetSpec,
    devices: &[Device],
    spans: &[ByteSpan],
    sources: &Sources,
    source: SourceId,
) -> Diagnostics {
    let mut diags = Capped::new(&sources.get(source).name);
    let types: Vec<&str> = spec
        .fleet
        .device_types
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let groups: Vec<&str> = spec.fleet.groups.iter().map(|g| g.name.as_str()).collect();
    let inline = spec
        .fleet
        .registry
        .as_ref()
        .map(|r| r.devices.as_slice())
        .unwrap_or_default();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    let list = |names: &[&str]| {
        if names.is_empty() {
            "none are declared".to_owned()
        } else {
            format!(
                "declared: {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    for (i, (d, &span)) in devices.iter().zip(spans).enumerate() {
        if let Some(first) = seen.insert(&d.id, i) {
            diags.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!(
                        "device `{}` is registered twice (first as entry {})",
                        d.id,
                        first + 1
                    ),
                )
                .in_source(source, span)
                .hint("device ids are unique; remove or rename one of the entries"),
            );
        } else if inline.iter().any(|x| x.id == d.id) {
            diags.push(
                Diagnostic::error(
                    "duplicate-name",
                    format!(
                        "device `{}` is also listed inline in `fleet.registry.devices`",
                        d.id
                    ),
                )
                .in_source(source, span)
                .hint("keep each device in one place: the file or the inline list"),
            );
        }
        if spec.clouds.aws.is_some() {
            for (k, v) in &d.attributes {
                if let Some(why) = super::cloud_values::aws_attribute_problem(k, v) {
                    let why = why.message();
                    diags.push(
                        Diagnostic::error("bad-attribute", format!("device `{}`: {why}", d.id))
                            .in_source(source, span)
                            .hint(super::cloud_values::ATTRIBUTE_HINT),
                    );
                }
            }
        }
        if let Some(t) = &d.device_type
            && !types.contains(&t.as_str())
        {
            diags.push(
                Diagnostic::error(
                    "unknown-reference",
                    format!(
                        "device `{}` has type `{t}`, which the spec does not declare",
                        d.id
                    ),
                )
                .in_source(source, span)
                .hint(format!("add it to `fleet.device_types` ({})", list(&types))),
            );
        }
        for g in &d.groups {
            if !groups.contains(&g.as_str()) {
                diags.push(
                    Diagnostic::error(
                        "unknown-reference",
                        format!(
                            "device `{}` is in group `{g}`, which the spec does not declare",
                            d.id
                        ),
                    )
                    .in_source(source, span)
                    .hint(format!("add it to `fleet.groups` ({})", list(&groups))),
                );
            }
        }
    }
    diags.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_format_is_refused_above_the_size_limit() {
        for name in ["devices.csv", "devices.yaml"] {
            let mut sources = Sources::default();
            let id = sources.add(name, "id\nsensor-1\nsensor-2\n");
            let (entries, diags) = parse_at_most(&sources, id, 8);
            assert!(entries.is_empty(), "{name}");
            let d = diags.iter().next().unwrap();
            assert_eq!(d.code, "input-too-large", "{name}: {d:?}");
            assert!(!d.hints.is_empty());
        }
    }
}
