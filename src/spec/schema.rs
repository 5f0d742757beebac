//! The JSON Schema of the fleet spec, derived from the spec types.
//!
//! One source of truth: the same types that parse the spec describe it to editors (through the
//! committed `schemas/fleet.schema.json` and the `yaml-language-server` modeline) and to the
//! schema check in `validate`. A test fails when the committed file is stale.

use schemars::generate::SchemaSettings;
use serde_json::{Map, Value};

use super::FleetSpec;

/// Where the committed schema lives, relative to the repository root.
pub const SCHEMA_PATH: &str = "schemas/fleet.schema.json";

/// Stable identifier of the schema.
pub const SCHEMA_ID: &str = "https://fleetform.dev/schemas/fleet.schema.json";

/// The schema as JSON.
pub fn json_schema() -> Value {
    let generator = SchemaSettings::draft2020_12()
        .for_deserialize()
        .into_generator();
    let schema = generator.into_root_schema_for::<FleetSpec>();
    let mut value = schema.to_value();
    drop_null_alternatives(&mut value);
    if let Value::Object(obj) = &mut value {
        obj.insert("$id".to_owned(), Value::String(SCHEMA_ID.to_owned()));
        // Keep `$schema` and `$id` first for readers of the committed file.
        let mut ordered = Map::new();
        for key in ["$schema", "$id"] {
            if let Some(v) = obj.remove(key) {
                ordered.insert(key.to_owned(), v);
            }
        }
        ordered.append(obj);
        *obj = ordered;
    }
    value
}

/// The schema as the pretty JSON text that is committed.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).unwrap_or_default();
    text.push('\n');
    text
}

/// Optional fields are optional by being absent, not by being `null`: writing `owner: ~` is
/// almost always a mistake, and `null` alternatives make editor completion noisy.
fn drop_null_alternatives(v: &mut Value) {
    match v {
        Value::Object(obj) => {
            if let Some(Value::Array(types)) = obj.get_mut("type") {
                types.retain(|t| t != "null");
                if types.len() == 1 {
                    let only = types.remove(0);
                    obj.insert("type".to_owned(), only);
                }
            }
            for key in ["anyOf", "oneOf"] {
                if let Some(Value::Array(alts)) = obj.get(key) {
                    let non_null: Vec<Value> = alts
                        .iter()
                        .filter(|a| a.get("type").and_then(Value::as_str) != Some("null"))
                        .cloned()
                        .collect();
                    if non_null.len() == 1 && alts.len() == 2 {
                        obj.remove(key);
                        if let Value::Object(inner) =
                            non_null.into_iter().next().unwrap_or_default()
                        {
                            for (k, val) in inner {
                                obj.entry(k).or_insert(val);
                            }
                        }
                    }
                }
            }
            if obj.get("default") == Some(&Value::Null) {
                obj.remove("default");
            }
            for child in obj.values_mut() {
                drop_null_alternatives(child);
            }
        }
        Value::Array(items) => items.iter_mut().for_each(drop_null_alternatives),
        _ => {}
    }
}

/// Walks the schema alongside an instance path, following `$ref`s.
pub struct Walker<'a> {
    root: &'a Value,
}

impl<'a> Walker<'a> {
    pub fn new(root: &'a Value) -> Self {
        Self { root }
    }

    fn resolve(&self, mut node: &'a Value) -> &'a Value {
        for _ in 0..32 {
            match node.get("$ref").and_then(Value::as_str) {
                Some(r) => match r
                    .strip_prefix("#/$defs/")
                    .and_then(|n| self.root["$defs"].get(n))
                {
                    Some(target) => node = target,
                    None => break,
                },
                None => break,
            }
        }
        node
    }

    /// The subschema describing the value at `path` (keys and indices), if the schema is
    /// specific enough to know.
    pub fn at(&self, path: &[crate::spec::node::Seg]) -> Option<&'a Value> {
        use crate::spec::node::Seg;
        let mut node = self.resolve(self.root);
        for seg in path {
            node = match seg {
                Seg::Key(k) => node
                    .get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| node.get("additionalProperties").filter(|a| a.is_object()))?,
                Seg::Index(_) => node.get("items")?,
            };
            node = self.resolve(node);
        }
        Some(node)
    }

    /// Property names allowed at `path`, in schema order.
    pub fn property_names(&self, path: &[crate::spec::node::Seg]) -> Vec<String> {
        self.at(path)
            .and_then(|s| s.get("properties"))
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// The allowed values of an enum-like schema at `path` (`enum`, or `oneOf` of `const`s).
    pub fn allowed_values(&self, path: &[crate::spec::node::Seg]) -> Vec<String> {
        let Some(node) = self.at(path) else {
            return Vec::new();
        };
        let show = |v: &Value| v.as_str().map_or_else(|| v.to_string(), str::to_owned);
        if let Some(Value::Array(values)) = node.get("enum") {
            return values.iter().map(show).collect();
        }
        let mut out = Vec::new();
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(alts)) = node.get(key) {
                for alt in alts {
                    let alt = self.resolve(alt);
                    if let Some(c) = alt.get("const") {
                        out.push(show(c));
                    } else if let Some(Value::Array(values)) = alt.get("enum") {
                        out.extend(values.iter().map(show));
                    }
                }
            }
        }
        out
    }

    /// The description of the value at `path`.
    pub fn description(&self, path: &[crate::spec::node::Seg]) -> Option<&'a str> {
        // A property's own description sits next to its `$ref`, so look it up unresolved.
        use crate::spec::node::Seg;
        let (last, parent) = path.split_last()?;
        let parent = self.at(parent)?;
        let raw = match last {
            Seg::Key(k) => parent.get("properties").and_then(|p| p.get(k))?,
            Seg::Index(_) => parent.get("items")?,
        };
        raw.get("description")
            .or_else(|| self.resolve(raw).get("description"))
            .and_then(Value::as_str)
    }
}
