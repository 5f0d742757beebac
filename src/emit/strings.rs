//! String literals, escaped by fleetform rather than by hcl-rs.
//!
//! hcl-rs escapes template markers in string literals with hcl-primitives' `escape_markers`,
//! which skips the character after every `$` and `%`: `%${var.x}` stays `%${var.x}`, an
//! interpolation Terraform would evaluate, and `$${` loses a `$`. Spec values reach the output
//! as string literals, so before formatting, every literal in a body is rewritten into a quoted
//! template whose text fleetform escaped itself (`tf::escape_string_literals`): quotes,
//! backslashes, control characters, and every `${` and `%{`, wherever it stands. The Terraform
//! JSON emitter uses the same pass for every expression it writes as text.

use hcl::{Body, Structure};

use crate::plan::tf::escape_string_literals;

/// The body with every string literal escaped by fleetform.
pub fn escape_literals(body: &Body) -> Body {
    let mut body = body.clone();
    escape_body(&mut body);
    body
}

fn escape_body(body: &mut Body) {
    for s in body.iter_mut() {
        match s {
            Structure::Attribute(a) => escape_string_literals(&mut a.expr),
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
