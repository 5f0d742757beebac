//! The JSON-Schema check: shape, types, ranges and allowed values.
//!
//! The spec is checked against the same schema editors use, with the `jsonschema` crate, and
//! each raw error is turned into a diagnostic people can act on: unknown keys get a "did you
//! mean", enums list their values, and the field's own description becomes the hint.

use std::sync::LazyLock;

use jsonschema::error::{TypeKind, ValidationErrorKind};
use jsonschema::paths::LocationSegment;
use serde_json::Value;

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::spec::node::{Node, Seg, SpecPath};
use crate::spec::schema::{Walker, json_schema};

static SCHEMA: LazyLock<Value> = LazyLock::new(json_schema);

static VALIDATOR: LazyLock<Result<jsonschema::Validator, String>> =
    LazyLock::new(|| jsonschema::validator_for(&SCHEMA).map_err(|e| e.to_string()));

/// Checks the spanned document against the spec schema.
pub fn check(root: &Node) -> Diagnostics {
    let mut diags = Diagnostics::new();
    let validator = match &*VALIDATOR {
        Ok(v) => v,
        Err(e) => {
            diags.push(Diagnostic::error(
                "internal",
                format!("the spec schema does not compile: {e}"),
            ));
            return diags;
        }
    };
    let instance = root.to_json();
    let walker = Walker::new(&SCHEMA);
    for error in validator.iter_errors(&instance) {
        let path = SpecPath(
            error
                .instance_path()
                .iter()
                .map(|seg| match seg {
                    LocationSegment::Property(p) => Seg::Key(p.into_owned()),
                    LocationSegment::Index(i) => Seg::Index(i),
                })
                .collect(),
        );
        let node = root.get(&path);
        diags.extend(translate(
            error.kind(),
            &path,
            node,
            error.instance(),
            &walker,
        ));
    }
    diags
}

fn show(v: &Value) -> String {
    match v {
        Value::String(s) => format!("`{s}`"),
        other => format!("`{other}`"),
    }
}

fn where_(path: &SpecPath) -> String {
    if path.is_root() {
        "at the top level".to_owned()
    } else {
        format!("in `{path}`")
    }
}

fn type_name(kind: &TypeKind) -> String {
    let one = |t: String| match t.as_str() {
        "object" => "a mapping".to_owned(),
        "array" => "a list".to_owned(),
        "integer" => "an integer".to_owned(),
        other => format!("a {other}"),
    };
    match kind {
        TypeKind::Single(t) => one(t.to_string()),
        TypeKind::Multiple(set) => set
            .iter()
            .map(|t| one(t.to_string()))
            .collect::<Vec<_>>()
            .join(" or "),
    }
}

fn did_you_mean<'a>(
    wrong: &str,
    candidates: impl IntoIterator<Item = &'a String>,
) -> Option<&'a str> {
    candidates
        .into_iter()
        .map(|c| (strsim::jaro_winkler(wrong, c), c))
        .filter(|(score, _)| *score > 0.8)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c.as_str())
}

fn list(values: &[String]) -> String {
    values
        .iter()
        .map(|v| format!("`{v}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn translate(
    kind: &ValidationErrorKind,
    path: &SpecPath,
    node: Option<&Node>,
    instance: &Value,
    walker: &Walker,
) -> Vec<Diagnostic> {
    let describe = |p: &SpecPath| {
        walker
            .description(&p.0)
            .map(|d| d.split_whitespace().collect::<Vec<_>>().join(" "))
    };
    let with_description = |d: Diagnostic, p: &SpecPath| match describe(p) {
        Some(desc) => d.hint(format!("`{}`: {desc}", p.last_key().unwrap_or("value"))),
        None => d,
    };
    match kind {
        ValidationErrorKind::AdditionalProperties { unexpected } => {
            let allowed = walker.property_names(&path.0);
            unexpected
                .iter()
                .map(|key| {
                    let mut d = Diagnostic::error(
                        "unknown-key",
                        format!("unknown key `{key}` {}", where_(path)),
                    )
                    .at_key(path.key(key.clone()))
                    .label("not a key fleetform knows here");
                    if let Some(suggestion) = did_you_mean(key, &allowed) {
                        d = d.hint(format!("did you mean `{suggestion}`?"));
                    }
                    if !allowed.is_empty() {
                        d = d.hint(format!("valid keys here: {}", list(&allowed)));
                    }
                    d
                })
                .collect()
        }
        ValidationErrorKind::Required { property } => {
            let prop = property.as_str().unwrap_or_default().to_owned();
            let d = Diagnostic::error(
                "missing-key",
                format!("missing required key `{prop}` {}", where_(path)),
            )
            .at_key(path.clone())
            .label(format!("`{prop}` is required here"));
            vec![with_description(d, &path.key(prop))]
        }
        ValidationErrorKind::Type { kind } => {
            let found = node.map_or("something else", Node::kind);
            let mut d = Diagnostic::error(
                "wrong-type",
                format!("expected {}, found {found}", type_name(kind)),
            )
            .at(path.clone())
            .label(format!("expected {}", type_name(kind)));
            if let Value::String(s) = instance
                && (s.parse::<f64>().is_ok() || s == "true" || s == "false")
            {
                d = d.hint("remove the quotes: a quoted value is always a string");
            }
            if instance.is_null() {
                d = d.hint("an empty value is null; give a value or remove the key");
            }
            vec![with_description(d, path)]
        }
        ValidationErrorKind::Enum { .. }
        | ValidationErrorKind::OneOfNotValid { .. }
        | ValidationErrorKind::AnyOf { .. }
        | ValidationErrorKind::Constant { .. } => {
            let allowed = walker.allowed_values(&path.0);
            if allowed.is_empty() {
                let d = Diagnostic::error(
                    "invalid-value",
                    format!("{} is not valid here", show(instance)),
                )
                .at(path.clone());
                return vec![with_description(d, path)];
            }
            let mut d = Diagnostic::error(
                "invalid-value",
                format!("{} is not one of the allowed values", show(instance)),
            )
            .at(path.clone())
            .label("not allowed here");
            if let Some(s) = instance.as_str()
                && let Some(suggestion) = did_you_mean(s, &allowed)
            {
                d = d.hint(format!("did you mean `{suggestion}`?"));
            }
            vec![d.hint(format!("allowed values: {}", list(&allowed)))]
        }
        ValidationErrorKind::Minimum { limit }
        | ValidationErrorKind::ExclusiveMinimum { limit } => {
            let d = Diagnostic::error(
                "out-of-range",
                format!("{} is below the minimum of {limit}", show(instance)),
            )
            .at(path.clone())
            .label(format!("must be at least {limit}"));
            vec![with_description(d, path)]
        }
        ValidationErrorKind::Maximum { limit }
        | ValidationErrorKind::ExclusiveMaximum { limit } => {
            let d = Diagnostic::error(
                "out-of-range",
                format!("{} is above the maximum of {limit}", show(instance)),
            )
            .at(path.clone())
            .label(format!("must be at most {limit}"));
            vec![with_description(d, path)]
        }
        ValidationErrorKind::MinLength { limit } | ValidationErrorKind::MaxLength { limit } => {
            let (word, bound) = if matches!(kind, ValidationErrorKind::MinLength { .. }) {
                ("short", "at least")
            } else {
                ("long", "at most")
            };
            let d = Diagnostic::error(
                "bad-length",
                format!(
                    "{} is too {word}: {bound} {limit} characters",
                    show(instance)
                ),
            )
            .at(path.clone());
            vec![with_description(d, path)]
        }
        ValidationErrorKind::Pattern { .. } => {
            let d = Diagnostic::error(
                "bad-format",
                format!(
                    "{} is not a valid `{}`",
                    show(instance),
                    path.last_key().unwrap_or("value")
                ),
            )
            .at(path.clone())
            .label("wrong format");
            vec![with_description(d, path)]
        }
        ValidationErrorKind::MinItems { limit } => vec![
            Diagnostic::error("too-few-items", format!("needs at least {limit} item(s)"))
                .at(path.clone()),
        ],
        ValidationErrorKind::MaxItems { limit } => vec![
            Diagnostic::error("too-many-items", format!("allows at most {limit} item(s)"))
                .at(path.clone()),
        ],
        ValidationErrorKind::UniqueItems => {
            vec![Diagnostic::error("duplicate-items", "list items must be unique").at(path.clone())]
        }
        other => {
            let d = Diagnostic::error(
                "schema",
                format!("{} is not valid here ({})", show(instance), other.keyword()),
            )
            .at(path.clone());
            vec![with_description(d, path)]
        }
    }
}
