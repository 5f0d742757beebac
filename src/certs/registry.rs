//! Device registries: the list of ids a batch run issues certificates for.
//!
//! Manufacturing lines keep device lists in spreadsheets, so the kit reads CSV with a header row
//! that has an `id` column (other columns are ignored), and YAML lists of `{id: ...}` maps for
//! teams that keep everything in YAML next to the fleet spec. Parsing is pure; every id is run
//! through [`DeviceId::parse`] with its line number, and duplicates (ignoring case, as file
//! systems may) are refused, all before a single key is generated.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;

use super::error::{CertsError, Result};
use super::id::DeviceId;

/// Registry file formats.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RegistryFormat {
    /// CSV with a header row containing `id`.
    Csv,
    /// A YAML sequence of maps with an `id` key.
    Yaml,
}

impl RegistryFormat {
    /// Picks the format from the file extension.
    pub fn from_path(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("csv") => Ok(Self::Csv),
            Some("yaml" | "yml") => Ok(Self::Yaml),
            _ => Err(CertsError::Registry {
                path: path.to_owned(),
                reason: "its extension says neither CSV nor YAML".to_owned(),
                hint: "name it `*.csv` (header row with an `id` column) or `*.yaml` (a list of `{id: ...}`)".to_owned(),
            }),
        }
    }
}

/// Parses a registry's text into validated, unique device ids, in file order.
pub fn parse_registry(text: &str, format: RegistryFormat, origin: &Path) -> Result<Vec<DeviceId>> {
    let rows = match format {
        RegistryFormat::Csv => parse_csv(text, origin)?,
        RegistryFormat::Yaml => parse_yaml(text, origin)?,
    };
    if rows.is_empty() {
        return Err(CertsError::Registry {
            path: origin.to_owned(),
            reason: "it lists no devices".to_owned(),
            hint: "add one row per device".to_owned(),
        });
    }
    let mut seen: HashMap<String, usize> = HashMap::with_capacity(rows.len());
    let mut ids = Vec::with_capacity(rows.len());
    for (where_, raw) in rows {
        let location = format!("{where_} of `{}`", origin.display());
        let id = DeviceId::parse(&raw, &location)?;
        if let Some(first) = seen.insert(raw.to_ascii_lowercase(), ids.len()) {
            let first_id: &DeviceId = &ids[first];
            return Err(CertsError::DuplicateDeviceId {
                id: raw,
                location: format!(" ({location}; first as `{first_id}`)"),
            });
        }
        ids.push(id);
    }
    Ok(ids)
}

fn parse_csv(text: &str, origin: &Path) -> Result<Vec<(String, String)>> {
    let err = |line: usize, reason: String, hint: &str| CertsError::Registry {
        path: origin.to_owned(),
        reason: format!("line {line}: {reason}"),
        hint: hint.to_owned(),
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut lines = text
        .lines()
        .enumerate()
        .map(|(i, l)| (i + 1, l.trim_end_matches('\r')))
        .filter(|(_, l)| !l.trim().is_empty());
    let Some((header_line, header)) = lines.next() else {
        return Ok(Vec::new());
    };
    let header = split_csv_line(header)
        .map_err(|reason| err(header_line, reason, "fix the quoting of the header row"))?;
    let Some(column) = header
        .iter()
        .position(|h| h.trim().eq_ignore_ascii_case("id"))
    else {
        return Err(err(
            header_line,
            format!(
                "the header row `{}` has no `id` column",
                header.join(",").escape_debug()
            ),
            "start the file with a header row such as `id,model,batch`",
        ));
    };
    let mut rows = Vec::new();
    for (line, content) in lines {
        let fields = split_csv_line(content).map_err(|reason| {
            err(
                line,
                reason,
                "quote fields that contain commas with `\"`, and double quotes inside them",
            )
        })?;
        let Some(id) = fields.get(column) else {
            return Err(err(
                line,
                format!(
                    "the row has {} fields but `id` is field {}",
                    fields.len(),
                    column + 1
                ),
                "give every row as many fields as the header",
            ));
        };
        rows.push((format!("line {line}"), id.trim().to_owned()));
    }
    Ok(rows)
}

/// RFC 4180 fields of one line (quoted fields may hold commas and `""`, not line breaks).
fn split_csv_line(line: &str) -> std::result::Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars().peekable();
    let mut in_quotes = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (in_quotes, c) {
            (true, '"') => {
                if chars.peek() == Some(&'"') {
                    chars.next();
                    field.push('"');
                } else {
                    in_quotes = false;
                }
            }
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                in_quotes = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, '"') => return Err("a stray `\"` inside an unquoted field".to_owned()),
            (false, c) => {
                if was_quoted && !c.is_whitespace() {
                    return Err("text after a closing `\"`".to_owned());
                }
                field.push(c);
            }
        }
    }
    if in_quotes {
        return Err(
            "a quoted field is not closed (line breaks inside fields are not supported)".to_owned(),
        );
    }
    fields.push(field);
    Ok(fields)
}

#[derive(Deserialize)]
struct YamlRow {
    id: YamlScalar,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum YamlScalar {
    Text(String),
    Int(i64),
}

fn parse_yaml(text: &str, origin: &Path) -> Result<Vec<(String, String)>> {
    if text.trim().is_empty() {
        return Ok(Vec::new());
    }
    let rows: Vec<YamlRow> = serde_saphyr::from_str(text).map_err(|e| CertsError::Registry {
        path: origin.to_owned(),
        reason: first_line(&e.to_string()).to_owned(),
        hint: "write a YAML list of maps, one per device: `- id: sensor-0001`".to_owned(),
    })?;
    rows.into_iter()
        .enumerate()
        .map(|(i, row)| {
            let raw = match row.id {
                YamlScalar::Text(s) => s,
                YamlScalar::Int(n) => {
                    return Err(CertsError::Registry {
                        path: origin.to_owned(),
                        reason: format!("entry {}: id `{n}` is a number", i + 1),
                        hint: "quote numeric ids (`id: \"0042\"`) so leading zeros survive"
                            .to_owned(),
                    });
                }
            };
            Ok((format!("entry {}", i + 1), raw))
        })
        .collect()
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Result<Vec<DeviceId>> {
        parse_registry(text, RegistryFormat::Csv, Path::new("r.csv"))
    }

    #[test]
    fn csv_with_extra_columns_and_quotes() {
        let ids =
            csv("model,id,note\nx,dev-1,\"a, b\"\n\ny,\"dev-2\",\"say \"\"hi\"\"\"\r\n").unwrap();
        let ids: Vec<_> = ids.iter().map(DeviceId::as_str).collect();
        assert_eq!(ids, ["dev-1", "dev-2"]);
    }

    #[test]
    fn csv_errors_name_the_line() {
        let err = csv("name\nx\n").unwrap_err().to_string();
        assert!(err.contains("no `id` column"), "{err}");
        let err = csv("id\nok\n../etc\n").unwrap_err().to_string();
        assert!(err.contains("line 3 of `r.csv`"), "{err}");
        let err = csv("id\na\nA\n").unwrap_err().to_string();
        assert!(err.contains("appears twice"), "{err}");
        assert!(csv("id\n").is_err());
        assert!(csv("id,x\n\"a\n").is_err());
    }

    #[test]
    fn yaml_list() {
        let ids = parse_registry(
            "- id: dev-1\n  model: x\n- id: \"0042\"\n",
            RegistryFormat::Yaml,
            Path::new("r.yaml"),
        )
        .unwrap();
        assert_eq!(ids[1].as_str(), "0042");
        let err = parse_registry("- id: a/b\n", RegistryFormat::Yaml, Path::new("r.yaml"))
            .unwrap_err()
            .to_string();
        assert!(err.contains("entry 1 of `r.yaml`"), "{err}");
        assert!(parse_registry("id: x\n", RegistryFormat::Yaml, Path::new("r.yaml")).is_err());
    }
}
