//! Terraform vocabulary on top of hcl-rs's typed structures.
//!
//! Planners build HCL only through these helpers, never by formatting strings. The helpers
//! make the safe thing the easy thing: spec values become [`lit`] string literals, and
//! interpolated strings ([`interp`]) escape every literal part, so a value from the spec can
//! never become HCL syntax.
//!
//! hcl-rs is not trusted with that escaping: its writer (hcl-primitives' `escape_markers`)
//! steps over the character after every `$` and `%`, so `%${var.x}` would stay a live
//! interpolation. fleetform escapes template text itself ([`escape_template_text`]), and
//! whenever an expression must become HCL source text (the references inside [`interp`], the
//! expressions of Terraform JSON, whole files in the emitter) every string literal in it is
//! first rewritten into a quoted template fleetform escaped ([`escape_string_literals`],
//! [`expr_source`]).

use hcl::expr::{Conditional, ForExpr, Operation, TemplateExpr, TraversalOperator};
use hcl::{
    Block, BlockBuilder, Body, Expression, FuncCall, Identifier, Object, ObjectKey, Traversal,
    Variable,
};

/// Name of the attribute that stands for a `#` comment until the emitter rewrites it.
pub const COMMENT_SENTINEL: &str = "__fleetform_comment__";

/// A `# text` comment line inside a body. Control characters become spaces, so a comment can
/// never spill onto a second line.
pub fn comment(text: &str) -> hcl::Attribute {
    let clean: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    hcl::Attribute::new(ident(COMMENT_SENTINEL), Expression::String(clean))
}

/// An identifier. Planners pass code constants or names the spec schema already restricted
/// to identifier characters; anything else is sanitized rather than trusted.
pub fn ident(name: &str) -> Identifier {
    Identifier::sanitized(name)
}

/// A string literal (escaped on output).
pub fn lit(s: impl Into<String>) -> Expression {
    Expression::String(s.into())
}

/// A number literal.
pub fn num<N: Into<hcl::Number>>(n: N) -> Expression {
    Expression::Number(n.into())
}

/// A boolean literal.
pub fn boolean(b: bool) -> Expression {
    Expression::Bool(b)
}

/// `null`.
pub fn null() -> Expression {
    Expression::Null
}

/// A reference such as `aws_s3_bucket.archive.arn` or `var.region`. Numeric segments become
/// index operations (`aws_iot_thing.this[0]`). `path` is built by the planner from code
/// constants and identifier-safe names.
pub fn r(path: &str) -> Expression {
    let mut parts = path.split('.');
    let root = parts.next().unwrap_or("null");
    let mut builder = Traversal::builder(Variable::sanitized(root));
    for part in parts {
        builder = match part.parse::<u64>() {
            Ok(i) => builder.index(Expression::Number(i.into())),
            Err(_) => builder.attr(ident(part)),
        };
    }
    builder.build().into()
}

/// A reference with a string index: `aws_iot_thing.device["sensor-1"].arn` is
/// `r_index("aws_iot_thing.device", key, &["arn"])`.
pub fn r_index(path: &str, key: Expression, then: &[&str]) -> Expression {
    let mut parts = path.split('.');
    let root = parts.next().unwrap_or("null");
    let mut builder = Traversal::builder(Variable::sanitized(root));
    for part in parts {
        builder = builder.attr(ident(part));
    }
    builder = builder.index(key);
    for part in then {
        builder = match part.parse::<u64>() {
            Ok(i) => builder.index(Expression::Number(i.into())),
            Err(_) => builder.attr(ident(part)),
        };
    }
    builder.build().into()
}

/// A list.
pub fn list(items: impl IntoIterator<Item = Expression>) -> Expression {
    Expression::Array(items.into_iter().collect())
}

/// A list of string literals.
pub fn strings<S: AsRef<str>>(items: impl IntoIterator<Item = S>) -> Expression {
    list(items.into_iter().map(|s| lit(s.as_ref())))
}

/// An object. Keys that are identifiers are written bare, others quoted.
pub fn obj<K: AsRef<str>>(pairs: impl IntoIterator<Item = (K, Expression)>) -> Expression {
    let mut o = Object::new();
    for (k, v) in pairs {
        let k = k.as_ref();
        // A key spelled like the comment sentinel is quoted, so the emitter never mistakes
        // it for a comment.
        let key = match Identifier::new(k) {
            Ok(id) if !k.starts_with(COMMENT_SENTINEL) => ObjectKey::Identifier(id),
            _ => ObjectKey::Expression(Expression::String(k.to_owned())),
        };
        o.insert(key, v);
    }
    Expression::Object(o)
}

/// A function call.
pub fn call(name: &str, args: impl IntoIterator<Item = Expression>) -> Expression {
    let mut b = FuncCall::builder(ident(name));
    for a in args {
        b = b.arg(a);
    }
    Expression::FuncCall(Box::new(b.build()))
}

/// `cond ? a : b`.
pub fn cond(c: Expression, a: Expression, b: Expression) -> Expression {
    Expression::Conditional(Box::new(Conditional::new(c, a, b)))
}

/// `{ for key_var, value_var in collection : key => value }`.
pub fn for_object(
    key_var: &str,
    value_var: &str,
    collection: Expression,
    key: Expression,
    value: Expression,
) -> Expression {
    let fe = ForExpr::new(ident(value_var), collection, value)
        .with_key_var(ident(key_var))
        .with_key_expr(key);
    Expression::ForExpr(Box::new(fe))
}

/// `[for value_var in collection : value]`.
pub fn for_list(value_var: &str, collection: Expression, value: Expression) -> Expression {
    Expression::ForExpr(Box::new(ForExpr::new(ident(value_var), collection, value)))
}

/// Part of an interpolated string.
pub enum Part {
    /// Literal text written in the code.
    Lit(&'static str),
    /// Literal text from anywhere, the spec included: escaped, so it stays text.
    Text(String),
    /// An interpolated reference, such as `r("local.prefix")`.
    Ref(Expression),
}

/// Escapes literal text for a quoted HCL template: quotes, backslashes, newlines, and the
/// `${` and `%{` that would open an interpolation or a directive.
pub fn escape_template_text(text: &str, out: &mut String) {
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '$' | '%' if chars.peek() == Some(&'{') => {
                out.push(c);
                out.push(c);
            }
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
}

/// A string literal as a quoted template whose text fleetform escaped.
fn quoted(s: &str) -> Expression {
    let mut text = String::with_capacity(s.len() + 2);
    escape_template_text(s, &mut text);
    Expression::TemplateExpr(Box::new(TemplateExpr::QuotedString(text)))
}

/// Rewrites every string literal inside `e` (object keys, call arguments, conditionals, …)
/// into a quoted template whose text fleetform escaped, so hcl-rs's writer copies it as it
/// is instead of escaping it (wrongly) itself.
pub fn escape_string_literals(e: &mut Expression) {
    match e {
        Expression::String(s) => *e = quoted(s),
        Expression::Array(items) => items.iter_mut().for_each(escape_string_literals),
        Expression::Object(obj) => {
            let entries: Vec<(ObjectKey, Expression)> = std::mem::take(obj).into_iter().collect();
            for (mut k, mut v) in entries {
                if let ObjectKey::Expression(ke) = &mut k {
                    escape_string_literals(ke);
                }
                escape_string_literals(&mut v);
                obj.insert(k, v);
            }
        }
        Expression::Traversal(t) => {
            escape_string_literals(&mut t.expr);
            for op in &mut t.operators {
                if let TraversalOperator::Index(i) = op {
                    escape_string_literals(i);
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter_mut().for_each(escape_string_literals),
        Expression::Parenthesis(inner) => escape_string_literals(inner),
        Expression::Conditional(c) => {
            escape_string_literals(&mut c.cond_expr);
            escape_string_literals(&mut c.true_expr);
            escape_string_literals(&mut c.false_expr);
        }
        Expression::Operation(op) => match op.as_mut() {
            Operation::Unary(u) => escape_string_literals(&mut u.expr),
            Operation::Binary(b) => {
                escape_string_literals(&mut b.lhs_expr);
                escape_string_literals(&mut b.rhs_expr);
            }
        },
        Expression::ForExpr(f) => {
            escape_string_literals(&mut f.collection_expr);
            if let Some(k) = &mut f.key_expr {
                escape_string_literals(k);
            }
            escape_string_literals(&mut f.value_expr);
            if let Some(c) = &mut f.cond_expr {
                escape_string_literals(c);
            }
        }
        _ => {}
    }
}

/// The HCL source of an expression, with every string literal in it escaped by fleetform
/// ([`escape_string_literals`]), for places that embed an expression in text: an
/// interpolation, a Terraform JSON `"${...}"` string.
pub fn expr_source(e: &Expression) -> String {
    let mut e = e.clone();
    escape_string_literals(&mut e);
    hcl::format::to_string(&e).unwrap_or_default()
}

/// An interpolated string such as `"${local.prefix}-archive"`. Every literal part is
/// escaped, and so is every string literal inside a reference (an index such as
/// `["sensor-1"]`), so no text, whatever its origin, can open an interpolation.
pub fn interp(parts: impl IntoIterator<Item = Part>) -> Expression {
    let mut s = String::new();
    for part in parts {
        match part {
            Part::Lit(text) => escape_template_text(text, &mut s),
            Part::Text(text) => escape_template_text(&text, &mut s),
            Part::Ref(expr) => {
                s.push_str("${");
                s.push_str(&expr_source(&expr));
                s.push('}');
            }
        }
    }
    Expression::TemplateExpr(Box::new(TemplateExpr::QuotedString(s)))
}

/// `resource "TYPE" "NAME" { ... }` builder.
pub fn resource(ty: &str, name: &str) -> BlockBuilder {
    Block::builder("resource").add_label(ty).add_label(name)
}

/// `data "TYPE" "NAME" { ... }` builder.
pub fn data(ty: &str, name: &str) -> BlockBuilder {
    Block::builder("data").add_label(ty).add_label(name)
}

/// A nested block builder (`lifecycle { ... }`, `rule { ... }`).
pub fn block(name: &str) -> BlockBuilder {
    Block::builder(ident(name))
}

/// `variable "NAME" { ... }`.
pub fn variable(name: &str) -> BlockBuilder {
    Block::builder("variable").add_label(name)
}

/// `output "NAME" { ... }`.
pub fn output(name: &str, description: &str, value: Expression) -> Block {
    Block::builder("output")
        .add_label(name)
        .add_attribute(("description", lit(description)))
        .add_attribute(("value", value))
        .build()
}

/// A variable's `validation` block, with a value it must reject: the shipped intent tests
/// (see [`crate::plan::intent`]) plan with that value and expect the validation to fail, as
/// they plan with the default and expect it to pass.
#[derive(Debug, Clone)]
pub struct Validation {
    pub condition: Expression,
    pub error_message: String,
    /// A value the condition rejects.
    pub rejects: Expression,
}

impl Validation {
    /// The `validation { condition = ...; error_message = ... }` block.
    pub fn block(&self) -> Block {
        Block::builder("validation")
            .add_attribute(("condition", self.condition.clone()))
            .add_attribute(("error_message", lit(&self.error_message)))
            .build()
    }
}

/// A variable validation that rejects (at least) `rejects`.
pub fn validation(condition: Expression, error_message: &str, rejects: Expression) -> Validation {
    Validation {
        condition,
        error_message: error_message.to_owned(),
        rejects,
    }
}

/// A raw type expression for `variable` blocks: `string`, `number`, `bool`,
/// `list(string)`, `map(string)`.
pub fn type_expr(t: &str) -> Expression {
    match t.split_once('(') {
        Some((outer, inner)) => call(outer, [type_expr(inner.trim_end_matches(')'))]),
        None => r(t),
    }
}

/// A file of top-level blocks.
#[derive(Debug, Clone, Default)]
pub struct TfFile {
    pub body: Vec<hcl::Structure>,
}

impl TfFile {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, block: Block) -> &mut Self {
        self.body.push(hcl::Structure::Block(block));
        self
    }

    /// Adds a comment line before the next block.
    pub fn comment(&mut self, text: &str) -> &mut Self {
        self.body.push(hcl::Structure::Attribute(comment(text)));
        self
    }

    pub fn is_empty(&self) -> bool {
        self.body.is_empty()
    }

    pub fn into_body(self) -> Body {
        Body::from_iter(self.body)
    }
}
