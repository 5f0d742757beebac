//! What an expression refers to: the dependency graph of a module, for [`super::eval`].
//!
//! Terraform evaluates locals and resources in dependency order; so does the diff, which
//! needs each node's references (`local.x`, `aws_s3_bucket.archive`, `data.T.N`) and the
//! attribute names read from resources (each gets a stand-in when the configuration does not
//! set it: `arn`, `id`).

use std::collections::BTreeSet;

use hcl::expr::{Operation, TemplateExpr, Traversal, TraversalOperator};
use hcl::template::{Directive, Element, Template};
use hcl::{Body, Expression, Structure};

/// References found in expressions: graph nodes, and attribute names read from resources.
#[derive(Default)]
pub(super) struct Refs {
    pub(super) nodes: BTreeSet<String>,
    pub(super) attrs: BTreeSet<String>,
}

/// Roots that are not resources.
const NOT_RESOURCES: &[&str] = &[
    "var",
    "local",
    "data",
    "path",
    "count",
    "each",
    "self",
    "terraform",
    "module",
];

impl Refs {
    pub(super) fn expr(&mut self, e: &Expression) {
        match e {
            Expression::Array(items) => items.iter().for_each(|i| self.expr(i)),
            Expression::Object(o) => {
                for (k, v) in o {
                    if let hcl::ObjectKey::Expression(k) = k {
                        self.expr(k);
                    }
                    self.expr(v);
                }
            }
            Expression::TemplateExpr(t) => self.template_expr(t),
            Expression::Traversal(t) => self.traversal(t),
            Expression::FuncCall(f) => f.args.iter().for_each(|a| self.expr(a)),
            Expression::Parenthesis(inner) => self.expr(inner),
            Expression::Conditional(c) => {
                self.expr(&c.cond_expr);
                self.expr(&c.true_expr);
                self.expr(&c.false_expr);
            }
            Expression::Operation(op) => match op.as_ref() {
                Operation::Unary(u) => self.expr(&u.expr),
                Operation::Binary(b) => {
                    self.expr(&b.lhs_expr);
                    self.expr(&b.rhs_expr);
                }
            },
            Expression::ForExpr(f) => {
                self.expr(&f.collection_expr);
                if let Some(k) = &f.key_expr {
                    self.expr(k);
                }
                self.expr(&f.value_expr);
                if let Some(c) = &f.cond_expr {
                    self.expr(c);
                }
            }
            _ => {}
        }
    }

    fn template_expr(&mut self, t: &TemplateExpr) {
        if let Ok(template) = Template::from_expr(t) {
            self.template(&template);
        }
    }

    fn template(&mut self, t: &Template) {
        for el in t.elements() {
            match el {
                Element::Literal(_) => {}
                Element::Interpolation(i) => self.expr(&i.expr),
                Element::Directive(d) => match d.as_ref() {
                    Directive::If(i) => {
                        self.expr(&i.cond_expr);
                        self.template(&i.true_template);
                        if let Some(f) = &i.false_template {
                            self.template(f);
                        }
                    }
                    Directive::For(f) => {
                        self.expr(&f.collection_expr);
                        self.template(&f.template);
                    }
                },
            }
        }
    }

    fn traversal(&mut self, t: &Traversal) {
        for op in &t.operators {
            if let TraversalOperator::Index(i) = op {
                self.expr(i);
            }
        }
        let Expression::Variable(root) = &t.expr else {
            self.expr(&t.expr);
            return;
        };
        let ops = &t.operators;
        let attr = |i: usize| match ops.get(i) {
            Some(TraversalOperator::GetAttr(a)) => Some(a.as_str()),
            _ => None,
        };
        let read_from = |i: usize, attrs: &mut BTreeSet<String>| {
            for op in ops.iter().skip(i) {
                if let TraversalOperator::GetAttr(a) = op {
                    attrs.insert(a.as_str().to_owned());
                }
            }
        };
        match root.as_str() {
            "local" => {
                if let Some(a) = attr(0) {
                    self.nodes.insert(format!("local.{a}"));
                }
            }
            "data" => {
                if let (Some(ty), Some(name)) = (attr(0), attr(1)) {
                    self.nodes.insert(format!("data.{ty}.{name}"));
                    read_from(2, &mut self.attrs);
                }
            }
            "each" => {
                if attr(0) == Some("value") {
                    read_from(1, &mut self.attrs);
                }
            }
            r if NOT_RESOURCES.contains(&r) => {}
            ty => {
                if let Some(name) = attr(0) {
                    self.nodes.insert(format!("{ty}.{name}"));
                    read_from(1, &mut self.attrs);
                }
            }
        }
    }

    /// References in a resource body, meta-arguments included, `lifecycle` and `depends_on`
    /// left out (they order the graph, but no value comes from them).
    pub(super) fn body(&mut self, body: &Body) {
        for s in body {
            match s {
                Structure::Attribute(a) if a.key.as_str() == "depends_on" => {}
                Structure::Attribute(a) => self.expr(&a.expr),
                Structure::Block(b) if b.identifier.as_str() == "lifecycle" => {}
                Structure::Block(b) => self.body(&b.body),
            }
        }
    }
}
