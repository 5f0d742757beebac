//! IAM, the least-privilege way: policy documents as `aws_iam_policy_document` data sources
//! and one role per job.
//!
//! Every service role the stack needs (IoT rules, Firehose, provisioning, each function) is
//! built here from [`Stmt`]s, so the shape is the same everywhere: a trust document that names
//! one service principal (with `aws:SourceAccount` where the service sets it, against the
//! confused deputy), an inline policy that lists exact actions on exact ARNs, and nothing
//! attached that grants `*` on `*`.

use hcl::{Block, Expression};

use super::hcl::BlockExt;
use crate::plan::tf::{self, TfFile, lit, r};

/// One policy statement.
pub(super) struct Stmt {
    sid: String,
    deny: bool,
    actions: Vec<String>,
    resources: Option<Expression>,
    principal: Option<(&'static str, Vec<Expression>)>,
    conditions: Vec<(&'static str, String, Vec<Expression>)>,
}

impl Stmt {
    /// Allows `actions` on `resources`.
    pub fn allow(sid: &str, actions: &[&str], resources: Vec<Expression>) -> Self {
        Self {
            sid: sid.to_owned(),
            deny: false,
            actions: actions.iter().map(|a| (*a).to_owned()).collect(),
            resources: (!resources.is_empty()).then(|| tf::list(resources)),
            principal: None,
            conditions: Vec::new(),
        }
    }

    /// Denies `actions` on `resources`.
    pub fn deny(sid: &str, actions: &[&str], resources: Vec<Expression>) -> Self {
        Self {
            deny: true,
            ..Self::allow(sid, actions, resources)
        }
    }

    /// Allows `actions` on the resources a list expression evaluates to (a `for` expression).
    pub fn allow_each(sid: &str, actions: &[&str], resources: Expression) -> Self {
        Self {
            resources: Some(resources),
            ..Self::allow(sid, actions, Vec::new())
        }
    }

    /// Adds a principal (`Service`, `AWS`, `Federated` or `*`).
    pub fn principal(mut self, kind: &'static str, ids: Vec<Expression>) -> Self {
        self.principal = Some((kind, ids));
        self
    }

    /// Adds a condition.
    pub fn cond(mut self, test: &'static str, variable: &str, values: Vec<Expression>) -> Self {
        self.conditions.push((test, variable.to_owned(), values));
        self
    }

    /// The statement id.
    pub fn sid(&self) -> &str {
        &self.sid
    }

    /// The actions it allows (or denies).
    pub fn actions(&self) -> &[String] {
        &self.actions
    }

    fn block(self) -> Block {
        tf::block("statement")
            .attr("sid", lit(&self.sid))
            .when(self.deny, |b| b.attr("effect", lit("Deny")))
            .attr("actions", tf::strings(&self.actions))
            .when(self.resources.is_some(), |b| {
                b.attr("resources", self.resources.unwrap_or(tf::null()))
            })
            .when(self.principal.is_some(), |b| {
                let (kind, ids) = self.principal.unwrap_or(("AWS", Vec::new()));
                b.child(
                    tf::block("principals")
                        .attr("type", lit(kind))
                        .attr("identifiers", tf::list(ids))
                        .build(),
                )
            })
            .each(self.conditions, |b, (test, variable, values)| {
                b.child(
                    tf::block("condition")
                        .attr("test", lit(test))
                        .attr("variable", lit(variable))
                        .attr("values", tf::list(values))
                        .build(),
                )
            })
            .build()
    }
}

/// `data "aws_iam_policy_document" "<label>" { statement { ... } ... }`.
pub(super) fn document(label: &str, statements: Vec<Stmt>) -> Block {
    tf::data("aws_iam_policy_document", label)
        .each(statements, |b, s| b.child(s.block()))
        .build()
}

/// Like [`document`], with checkov skips (for key and resource policies, where `*` means
/// the resource itself).
pub(super) fn document_with_skips(
    label: &str,
    statements: Vec<Stmt>,
    skips: &[(&str, &str)],
) -> Block {
    tf::data("aws_iam_policy_document", label)
        .each(skips, |b, (id, why)| b.skip(id, why))
        .each(statements, |b, s| b.child(s.block()))
        .build()
}

/// A service principal such as `lambda.amazonaws.com`.
pub(super) fn service(name: &str) -> Vec<Expression> {
    vec![lit(name)]
}

/// `aws:SourceAccount` = this account.
pub(super) fn same_account(s: Stmt) -> Stmt {
    s.cond(
        "StringEquals",
        "aws:SourceAccount",
        vec![r("local.account_id")],
    )
}

/// A role for a service.
pub(super) struct Role<'a> {
    /// Terraform label of the role and its documents.
    pub label: &'a str,
    /// The role's name (IAM allows 64 characters: `Ctx::name` with `names::IAM_ROLE`).
    pub name: Expression,
    pub description: &'a str,
    /// Service principal that assumes the role.
    pub service: &'a str,
    /// Add `aws:SourceAccount` to the trust (services that send it).
    pub source_account: bool,
    /// The inline policy.
    pub statements: Vec<Stmt>,
    /// Longest session, when above the one-hour default (role alias credentials).
    pub max_session_seconds: Option<u32>,
    /// AWS managed policies to attach (`service-role/...`), only where AWS documents one as
    /// the intended grant.
    pub managed: Vec<&'a str>,
}

impl Role<'_> {
    /// Writes the trust document, the role, its policy document and the inline policy.
    pub fn write(self, f: &mut TfFile) {
        let trust_label = format!("{}_trust", self.label);
        let mut trust = Stmt::allow("AssumeRole", &["sts:AssumeRole"], Vec::new())
            .principal("Service", service(self.service));
        if self.source_account {
            trust = same_account(trust);
        }
        f.push(document(&trust_label, vec![trust]));
        f.push(
            tf::resource("aws_iam_role", self.label)
                .attr("name", self.name)
                .attr("description", lit(self.description))
                .when(self.max_session_seconds.is_some_and(|s| s > 3600), |b| {
                    b.attr(
                        "max_session_duration",
                        tf::num(self.max_session_seconds.unwrap_or(3600)),
                    )
                })
                .attr(
                    "assume_role_policy",
                    r(&format!("data.aws_iam_policy_document.{trust_label}.json")),
                )
                .build(),
        );
        if !self.statements.is_empty() {
            f.push(document(self.label, self.statements));
            f.push(
                tf::resource("aws_iam_role_policy", self.label)
                    .attr("name", lit("least-privilege"))
                    .attr("role", r(&format!("aws_iam_role.{}.id", self.label)))
                    .attr(
                        "policy",
                        r(&format!("data.aws_iam_policy_document.{}.json", self.label)),
                    )
                    .build(),
            );
        }
        for (i, policy) in self.managed.iter().enumerate() {
            let label = if i == 0 {
                self.label.to_owned()
            } else {
                format!("{}_{i}", self.label)
            };
            f.push(
                tf::resource("aws_iam_role_policy_attachment", &label)
                    .attr("role", r(&format!("aws_iam_role.{}.name", self.label)))
                    .attr(
                        "policy_arn",
                        super::hcl::tpl([
                            super::hcl::rf("local.arn_prefix"),
                            super::hcl::t(format!("iam::aws:policy/{policy}")),
                        ]),
                    )
                    .build(),
            );
        }
    }
}
