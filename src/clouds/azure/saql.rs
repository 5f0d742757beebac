//! Conditions in the Stream Analytics query language.
//!
//! The model's conditions render to IoT Hub routing queries and AWS IoT SQL; Stream
//! Analytics is a third dialect only this planner needs, so it is rendered here from the
//! same parsed tree rather than added to the model. Every field segment is bracketed
//! (`[door].[open]`), so field names that are reserved words (`timestamp`, `value`) still
//! work; strings keep their doubled quotes; booleans compare with 1 and 0, because
//! Stream Analytics reads JSON booleans as `bit`.

use std::fmt::Write as _;

use crate::model::condition::{Expr, Field, Literal, Op};

/// Renders a condition as a Stream Analytics `WHERE` clause.
pub(crate) fn render(e: &Expr) -> String {
    let mut s = String::new();
    write(e, &mut s, 0);
    s
}

fn precedence(e: &Expr) -> u8 {
    match e {
        Expr::Or(..) => 1,
        Expr::And(..) => 2,
        Expr::Not(_) => 3,
        _ => 4,
    }
}

fn write(e: &Expr, out: &mut String, parent: u8) {
    let paren = precedence(e) < parent;
    if paren {
        out.push('(');
    }
    match e {
        Expr::Or(a, b) => {
            write(a, out, 1);
            out.push_str(" OR ");
            write(b, out, 2);
        }
        Expr::And(a, b) => {
            write(a, out, 2);
            out.push_str(" AND ");
            write(b, out, 3);
        }
        Expr::Not(inner) => {
            out.push_str("NOT ");
            write(inner, out, 3);
        }
        Expr::Compare { field, op, value } => {
            field_path(field, out);
            let op = match op {
                Op::Eq => "=",
                Op::Ne => "<>",
                Op::Lt => "<",
                Op::Le => "<=",
                Op::Gt => ">",
                Op::Ge => ">=",
            };
            let _ = write!(out, " {op} ");
            match value {
                Literal::Bool(b) => out.push_str(if *b { "1" } else { "0" }),
                other => {
                    let _ = write!(out, "{other}");
                }
            }
        }
        Expr::Truthy(field) => {
            field_path(field, out);
            out.push_str(" = 1");
        }
        Expr::Bool(b) => out.push_str(if *b { "1 = 1" } else { "1 = 0" }),
    }
    if paren {
        out.push(')');
    }
}

fn field_path(field: &Field, out: &mut String) {
    let parts: Vec<String> = field
        .0
        .iter()
        .map(|seg| format!("[{}]", seg.replace(']', "]]")))
        .collect();
    out.push_str(&parts.join("."));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::condition::parse;

    #[test]
    fn renders_the_stream_analytics_dialect() {
        let e = parse("temperature > 80 and (status != 'it''s' or not door.open)").unwrap();
        assert_eq!(
            render(&e),
            "[temperature] > 80 AND ([status] <> 'it''s' OR NOT [door].[open] = 1)"
        );
        assert_eq!(render(&parse("alarm = false").unwrap()), "[alarm] = 0");
        assert_eq!(render(&parse("value >= -1.5").unwrap()), "[value] >= -1.5");
    }
}
