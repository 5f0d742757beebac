//! String literals, escaped by fleetform rather than by hcl-rs.
//!
//! hcl-rs escapes template markers in string literals with hcl-primitives' `escape_markers`,
//! which skips the character after every `$` and `%`: `%${var.x}` stays `%${var.x}`, an
//! interpolation Terraform would evaluate, and `$${` loses a `$`. Spec values reach the output
//! as string literals, so before formatting, every literal in a body is rewritten into a quoted
//! template whose text fleetform escaped itself (`tf::escape_template_text`): quotes,
//! backslashes, control characters, and every `${` and `%{`, wherever it stands.

use hcl::expr::{Operation, TemplateExpr, TraversalOperator};
use hcl::{Body, Expression, ObjectKey, Structure};

use crate::plan::tf::escape_template_text;

fn quoted(s: &str) -> Expression {
    let mut text = String::with_capacity(s.len() + 2);
    escape_template_text(s, &mut text);
    Expression::TemplateExpr(Box::new(TemplateExpr::QuotedString(text)))
}

fn expr(e: &mut Expression) {
    match e {
        Expression::String(s) => *e = quoted(s),
        Expression::Array(items) => items.iter_mut().for_each(expr),
        Expression::Object(obj) => {
            let entries: Vec<(ObjectKey, Expression)> = std::mem::take(obj).into_iter().collect();
            for (mut k, mut v) in entries {
                if let ObjectKey::Expression(ke) = &mut k {
                    expr(ke);
                }
                expr(&mut v);
                obj.insert(k, v);
            }
        }
        Expression::Traversal(t) => {
            expr(&mut t.expr);
            for op in &mut t.operators {
                if let TraversalOperator::Index(i) = op {
                    expr(i);
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter_mut().for_each(expr),
        Expression::Parenthesis(inner) => expr(inner),
        Expression::Conditional(c) => {
            expr(&mut c.cond_expr);
            expr(&mut c.true_expr);
            expr(&mut c.false_expr);
        }
        Expression::Operation(op) => match op.as_mut() {
            Operation::Unary(u) => expr(&mut u.expr),
            Operation::Binary(b) => {
                expr(&mut b.lhs_expr);
                expr(&mut b.rhs_expr);
            }
        },
        Expression::ForExpr(f) => {
            expr(&mut f.collection_expr);
            if let Some(k) = &mut f.key_expr {
                expr(k);
            }
            expr(&mut f.value_expr);
            if let Some(c) = &mut f.cond_expr {
                expr(c);
            }
        }
        _ => {}
    }
}

/// The body with every string literal escaped by fleetform.
pub fn escape_literals(body: &Body) -> Body {
    let mut body = body.clone();
    escape_body(&mut body);
    body
}

fn escape_body(body: &mut Body) {
    for s in body.iter_mut() {
        match s {
            Structure::Attribute(a) => expr(&mut a.expr),
            Structure::Block(b) => escape_body(&mut b.body),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::tf::{self, lit};

    fn render(value: &str) -> String {
        let body = Body::builder().add_attribute(("x", lit(value))).build();
        hcl::format::to_string(&escape_literals(&body)).unwrap()
    }

    #[test]
    fn markers_next_to_dollar_and_percent_are_escaped() {
        assert_eq!(render("%${var.secret}"), "x = \"%$${var.secret}\"\n");
        assert_eq!(render("$${b}"), "x = \"$$${b}\"\n");
        assert_eq!(render("$%{ if true }"), "x = \"$%%{ if true }\"\n");
        assert_eq!(render("a\"b\\c\nd"), "x = \"a\\\"b\\\\c\\nd\"\n");
        assert_eq!(render("plain"), "x = \"plain\"\n");
    }

    #[test]
    fn literals_inside_calls_and_objects_are_escaped() {
        let body = Body::builder()
            .add_attribute(("x", tf::call("merge", [tf::obj([("k", lit("%${y}"))])])))
            .build();
        let out = hcl::format::to_string(&escape_literals(&body)).unwrap();
        assert!(out.contains("%$${y}"), "{out}");
    }
}
