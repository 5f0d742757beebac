//! Terraform JSON syntax (`*.tf.json`), equivalent to the HCL output, for machine consumers.
//!
//! Tools that generate or post-process configuration (policy engines, custom linters, other
//! code generators) read JSON more easily than HCL. Terraform's JSON syntax has rules of its
//! own: every string is a template (so a literal `${` must be written `$${`), expressions are
//! `"${...}"` strings, and a few arguments take bare references or type expressions instead
//! (`type`, `depends_on`, `ignore_changes`, `provider`, and in test files a run's
//! `command` and `expect_failures` and an override's `target`). This module converts the same hcl-rs
//! bodies the HCL files come from, so the two can never disagree; comments become `"//"` keys.
//!
//! Expressions that are not plain values are written as HCL source inside `"${...}"`, and
//! the string literals in them are escaped by fleetform ([`tf::expr_source`]), exactly as the
//! HCL files are: hcl-rs's own escaping would leave `%${var.x}` after an earlier marker as
//! a live interpolation. Quoted templates are re-read, because their HCL text escapes
//! quotes and backslashes for a quoted string, which a JSON template does not undo.

use hcl::expr::TemplateExpr;
use hcl::{Block, Body, Expression, ObjectKey, Structure};
use serde_json::{Map, Value};

use crate::plan::tf::{self, COMMENT_SENTINEL};

/// Attributes whose values Terraform's JSON syntax reads as bare expressions, not templates.
const BARE: [&str; 5] = [
    "depends_on",
    "ignore_changes",
    "replace_triggered_by",
    "provider",
    "providers",
];

/// Arguments of test files (`*.tftest.json`) that take a keyword or references: a run's
/// `command` (`plan`) and `expect_failures`, its plan options' `mode` and `target`, an
/// override's `target`.
fn test_keyword(block_type: Option<&str>, key: &str) -> bool {
    matches!(
        (block_type, key),
        (Some("run"), "command" | "expect_failures")
            | (Some("plan_options"), "mode" | "target")
            | (
                Some("override_data" | "override_resource" | "override_module"),
                "target"
            )
    )
}

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
                } else if BARE.contains(&key) || test_keyword(block_type, key) {
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

/// Arguments the providers declare as attributes of type list of objects, which HCL lets a
/// configuration write as blocks ("attributes as blocks") but Terraform's JSON syntax reads
/// only as a value: an array of complete objects (each nested list attribute present, empty
/// when the HCL leaves it out; no `"//"` comment key, which would be an unknown attribute).
/// azurerm's `azurerm_eventhub_namespace.network_rulesets` is the one fleetform writes.
const LIST_ATTRIBUTES: [(&str, &[&str]); 1] =
    [("network_rulesets", &["ip_rule", "virtual_network_rule"])];

fn insert_block(out: &mut Map<String, Value>, block: &Block) {
    let ty = block.identifier.as_str();
    let body = Value::Object(body_map(&block.body, Some(ty)));
    let labels: Vec<&str> = block.labels.iter().map(hcl::BlockLabel::as_str).collect();
    if let (true, Some((_, nested))) = (
        labels.is_empty(),
        LIST_ATTRIBUTES.iter().find(|(name, _)| *name == ty),
    ) {
        let mut body = body;
        if let Value::Object(map) = &mut body {
            map.remove("//");
            for key in *nested {
                map.entry((*key).to_owned())
                    .or_insert_with(|| Value::Array(Vec::new()));
            }
        }
        match out.get_mut(ty) {
            Some(Value::Array(items)) => items.push(body),
            _ => {
                out.insert(ty.to_owned(), Value::Array(vec![body]));
            }
        }
        return;
    }
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

/// The HCL source of an expression, every string literal in it escaped by fleetform.
fn expr_source(e: &Expression) -> String {
    tf::expr_source(e)
}

/// A quoted HCL template (`tf::interp` writes them) in Terraform JSON's template syntax.
///
/// The HCL text escapes its literal parts for a quoted string (`\"`, `\\`, `\n`); a JSON
/// template is not a quoted string and would keep those backslashes, so the template is
/// parsed: literals are written with only their markers escaped (JSON escapes the rest), and
/// interpolations as escaped source. Anything else (directives, which fleetform never
/// writes) is kept as it is.
fn quoted_template(s: &str) -> String {
    use hcl::edit::expr::Expression as Parsed;
    use hcl::edit::template::Element;
    match hcl::edit::parser::parse_expr(&format!("\"{s}\"")) {
        Ok(Parsed::String(text)) => literal(text.value()),
        Ok(Parsed::StringTemplate(template)) => {
            let mut out = String::with_capacity(s.len());
            for element in &*template {
                match element {
                    Element::Literal(text) => out.push_str(&literal(text.value())),
                    Element::Interpolation(i) => {
                        out.push_str("${");
                        out.push_str(&expr_source(&Expression::from(i.expr.clone())));
                        out.push('}');
                    }
                    Element::Directive(_) => return s.to_owned(),
                }
            }
            out
        }
        _ => s.to_owned(),
    }
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
        Expression::TemplateExpr(t) => match t.as_ref() {
            TemplateExpr::QuotedString(s) => Value::String(quoted_template(s)),
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

    #[test]
    fn literals_inside_expressions_and_templates_stay_text() {
        let body = Body::builder()
            .add_attribute((
                "tags",
                tf::call(
                    "merge",
                    [
                        tf::obj([("k", lit("a ${x} b %${var.secret} c"))]),
                        r("var.extra_tags"),
                    ],
                ),
            ))
            .add_attribute((
                "name",
                interp([
                    Part::Text("say \"hi\" \\ %${x}\n".into()),
                    Part::Ref(r("local.prefix")),
                ]),
            ))
            .build();
        let json = body_to_json(&body);
        assert_eq!(
            json["tags"],
            "${merge({ k = \"a $${x} b %$${var.secret} c\" }, var.extra_tags)}"
        );
        assert_eq!(json["name"], "say \"hi\" \\ %$${x}\n${local.prefix}");
    }
}
