//! Terraform JSON syntax (`*.tf.json`), equivalent to the HCL output, for machine consumers.
//!
//! Tools that generate or post-process configuration (policy engines, custom linters, other
//! code generators) read JSON more easily than HCL. Terraform's JSON syntax has rules of its
//! own: every string is a template (so a literal `${` must be written `$${`), expressions are
//! `"${...}"` strings, and a few arguments take bare references or type expressions instead
//! (`type`, `depends_on`, `ignore_changes`, `provider`). This module converts the same hcl-rs
//! bodies the HCL files come from, so the two can never disagree; comments become `"//"` keys.

use hcl::expr::TemplateExpr;
use hcl::{Block, Body, Expression, ObjectKey, Structure};
use serde_json::{Map, Value};

use crate::plan::tf::COMMENT_SENTINEL;

/// Attributes whose values Terraform's JSON syntax reads as bare expressions, not templates.
const BARE: [&str; 5] = [
    "depends_on",
    "ignore_changes",
    "replace_triggered_by",
    "provider",
    "providers",
];

/// Converts a file body to its JSON document.
pub fn body_to_json(body: &Body) -> Value {
    Value::Object(body_map(body, None))
}

fn body_map(body: &Body, block_type: Option<&str>) -> Map<String, Value> {
    let mut out = Map::new();
    let mut comments: Vec<String> = Vec::new();
    // Blocks are grouped by type (and nested by label) in order of first appearance.
    for structure in body {
        match structure {
            Structure::Attribute(attr) => {
                let key = attr.key.as_str();
                if key == COMMENT_SENTINEL {
                    if let Expression::String(text) = &attr.expr {
                        comments.push(text.clone());
                    }
                    continue;
                }
                let value = if block_type == Some("variable") && key == "type" {
                    Value::String(expr_source(&attr.expr))
                } else if BARE.contains(&key) {
                    bare(&attr.expr)
                } else {
                    expr(&attr.expr)
                };
                out.insert(key.to_owned(), value);
            }
            Structure::Block(block) => insert_block(&mut out, block),
        }
    }
    if !comments.is_empty() {
        out.insert("//".to_owned(), Value::String(comments.join(" ")));
    }
    out
}

fn insert_block(out: &mut Map<String, Value>, block: &Block) {
    let ty = block.identifier.as_str();
    let body = Value::Object(body_map(&block.body, Some(ty)));
    let labels: Vec<&str> = block.labels.iter().map(hcl::BlockLabel::as_str).collect();
    if labels.is_empty() {
        // Unlabeled blocks: one is an object, several are an array of objects.
        match out.get_mut(ty) {
            Some(Value::Array(items)) => items.push(body),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, body]);
            }
            None => {
                out.insert(ty.to_owned(), body);
            }
        }
        return;
    }
    let mut node = out
        .entry(ty.to_owned())
        .or_insert_with(|| Value::Object(Map::new()));
    for (i, label) in labels.iter().enumerate() {
        let Value::Object(map) = node else { return };
        if i + 1 == labels.len() {
            map.insert((*label).to_owned(), body);
            return;
        }
        node = map
            .entry((*label).to_owned())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Escapes template markers in a literal string.
fn literal(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

/// The HCL source of an expression, as hcl-rs formats it.
fn expr_source(e: &Expression) -> String {
    hcl::format::to_string(e).unwrap_or_default()
}

fn bare(e: &Expression) -> Value {
    match e {
        Expression::Array(items) => Value::Array(items.iter().map(bare).collect()),
        other => Value::String(expr_source(other)),
    }
}

fn expr(e: &Expression) -> Value {
    match e {
        Expression::Null => Value::Null,
        Expression::Bool(b) => Value::Bool(*b),
        Expression::Number(n) => serde_json::to_value(n).unwrap_or(Value::Null),
        Expression::String(s) => Value::String(literal(s)),
        Expression::Array(items) => Value::Array(items.iter().map(expr).collect()),
        Expression::Object(obj) => Value::Object(
            obj.iter()
                .map(|(k, v)| {
                    let key = match k {
                        ObjectKey::Identifier(id) => id.as_str().to_owned(),
                        ObjectKey::Expression(Expression::String(s)) => literal(s),
                        ObjectKey::Expression(other) => format!("${{{}}}", expr_source(other)),
                        _ => String::new(),
                    };
                    (key, expr(v))
                })
                .collect(),
        ),
        // A quoted template is already in JSON's template syntax.
        Expression::TemplateExpr(t) => match t.as_ref() {
            TemplateExpr::QuotedString(s) => Value::String(s.clone()),
            TemplateExpr::Heredoc(h) => Value::String(h.template.clone()),
        },
        other => Value::String(format!("${{{}}}", expr_source(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tf::{self, Part, interp, lit, r};

    #[test]
    fn expressions_literals_and_blocks() {
        let body = Body::builder()
            .add_block(
                tf::variable("region")
                    .add_attribute(("type", tf::type_expr("map(string)")))
                    .add_attribute(("default", lit("${not-a-ref}")))
                    .build(),
            )
            .add_block(
                tf::resource("aws_s3_bucket", "archive")
                    .add_attribute(tf::comment("why"))
                    .add_attribute((
                        "bucket",
                        interp([Part::Ref(r("local.prefix")), Part::Lit("-archive")]),
                    ))
                    .add_attribute(("tags", r("local.tags")))
                    .add_attribute(("depends_on", tf::list([r("aws_kms_key.archive")])))
                    .add_block(tf::block("rule").add_attribute(("id", lit("a"))).build())
                    .add_block(tf::block("rule").add_attribute(("id", lit("b"))).build())
                    .build(),
            )
            .build();
        let json = body_to_json(&body);
        assert_eq!(json["variable"]["region"]["type"], "map(string)");
        assert_eq!(json["variable"]["region"]["default"], "$${not-a-ref}");
        let bucket = &json["resource"]["aws_s3_bucket"]["archive"];
        assert_eq!(bucket["//"], "why");
        assert_eq!(bucket["bucket"], "${local.prefix}-archive");
        assert_eq!(bucket["tags"], "${local.tags}");
        assert_eq!(bucket["depends_on"][0], "aws_kms_key.archive");
        assert_eq!(bucket["rule"][1]["id"], "b");
    }
}
