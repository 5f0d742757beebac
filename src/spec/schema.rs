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
    add_partial_definitions(&mut value);
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

/// Name of the definition that describes an environment overlay.
const OVERLAY: &str = "EnvironmentOverlay";

/// The `environments` property: names to overlays. The overlay definition is added by
/// `add_partial_definitions`.
pub fn environments_schema(_gen: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "type": "object",
        "propertyNames": { "pattern": "^[a-z][a-z0-9]{0,9}$" },
        "additionalProperties": { "$ref": format!("#/$defs/{OVERLAY}") },
        "examples": [{ "prod": { "fleet": { "devices": 50000 }, "cost": { "monthly_budget_usd": 5000 } } }]
    })
}

/// Adds `Partial*` copies of every object definition (nothing required, references to other
/// partials) and the overlay definition built from the root's properties, so editors and the
/// schema check know exactly which keys an overlay may set.
fn add_partial_definitions(root: &mut Value) {
    fn partial(v: &mut Value) {
        match v {
            Value::Object(obj) => {
                obj.remove("required");
                obj.remove("default");
                if let Some(Value::String(r)) = obj.get_mut("$ref")
                    && let Some(name) = r.strip_prefix("#/$defs/")
                {
                    *r = format!("#/$defs/Partial{name}");
                }
                obj.values_mut().for_each(partial);
            }
            Value::Array(items) => items.iter_mut().for_each(partial),
            _ => {}
        }
    }
    let Some(Value::Object(defs)) = root.get("$defs").cloned() else {
        return;
    };
    let mut new_defs = Map::new();
    for (name, def) in defs {
        let mut def = def;
        partial(&mut def);
        new_defs.insert(format!("Partial{name}"), def);
    }
    let mut overlay = Map::new();
    overlay.insert("type".to_owned(), Value::String("object".to_owned()));
    overlay.insert("additionalProperties".to_owned(), Value::Bool(false));
    overlay.insert(
        "description".to_owned(),
        Value::String("Changes for one environment: any key of the spec except `version` and `environments`. Mappings merge key by key; lists and values replace.".to_owned()),
    );
    let mut props = root
        .get("properties")
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    props.remove("version");
    props.remove("environments");
    let mut props = Value::Object(props);
    partial(&mut props);
    overlay.insert("properties".to_owned(), props);
    new_defs.insert(OVERLAY.to_owned(), Value::Object(overlay));
    if let Some(Value::Object(defs)) = root.get_mut("$defs") {
        defs.extend(new_defs);
    }
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
