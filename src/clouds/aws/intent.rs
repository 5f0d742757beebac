//! The AWS side of the shipped intent tests (`tests/fleetform.tftest.hcl`, see
//! [`crate::plan::intent`]): a `mock_provider "aws"` whose data sources return values that
//! parse (a 12-digit account, the `aws` partition, policy JSON the IAM and IoT validators
//! accept), and helpers the concerns use to assert what they emit.
//!
//! With the data sources mocked, ARNs the module builds from `local.iot_arn` are known at
//! plan time, so IoT policy statements are asserted as literal strings, policy variables
//! (`${iot:Connection.Thing.ThingName}`) and all. Attributes the provider computes (a role
//! alias's ARN) stay unknown in a plan and are not asserted.

use std::collections::BTreeSet;

use hcl::{Block, Expression, Structure};

use super::Ctx;
use super::iam::Stmt;
use crate::plan::intent::{self, eq, set, the_one};
use crate::plan::tf::{self, TfFile, lit, obj, r};

/// The account the mocked `aws_caller_identity` returns.
pub(super) const ACCOUNT: &str = "123456789012";

/// The head of the test file.
const HEADER: [&str; 4] = [
    "What the fleet spec asks for, asserted on the planned values. Run it offline, with no AWS",
    "account: `terraform init -backend=false && terraform test` (the provider is mocked). A",
    "failing assertion names the spec key it checks: change the spec and rebuild rather than",
    "editing the generated files. Written by fleetform; rebuilt with the module.",
];

/// `local.iot_arn` as the mocks make it: `arn:aws:iot:<region>:123456789012`.
pub(super) fn iot_arn(cx: &Ctx) -> String {
    format!("arn:aws:iot:{}:{ACCOUNT}", cx.aws.region)
}

/// Asserts that statement `stmt` of the policy document `document` plans with exactly its
/// actions, on exactly `resources` (literal ARNs; `None` when they are computed at apply).
pub(super) fn statement(
    cx: &mut Ctx,
    key: &str,
    document: &str,
    stmt: &Stmt,
    resources: Option<&[String]>,
) {
    let sid = stmt.sid();
    let planned = |attr: &str| -> Expression {
        hcl::Traversal::builder(the_one(
            "s",
            r(&format!(
                "data.aws_iam_policy_document.{document}.statement"
            )),
            eq(r("s.sid"), lit(sid)),
        ))
        .attr(tf::ident(attr))
        .build()
        .into()
    };
    cx.intent.assert(
        key,
        format!("statement `{sid}` to allow {}", stmt.actions().join(", ")),
        eq(planned("actions"), set(stmt.actions().iter().map(lit))),
    );
    if let Some(resources) = resources {
        cx.intent.assert(
            key,
            format!(
                "statement `{sid}` on {}",
                resources
                    .iter()
                    .map(|s| format!("`{s}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
            eq(planned("resources"), set(resources.iter().map(lit))),
        );
    }
}

/// Asserts `retention_in_days` of log group `label` (every instance, when it has `count`)
/// from `monitoring.log_retention_days`.
pub(super) fn log_retention(cx: &mut Ctx, label: &str, days: u32) {
    cx.intent.assert(
        "monitoring.log_retention_days",
        format!("{days} days of logs (log group `{label}`)"),
        intent::all_in(
            "group",
            tf::call(
                "flatten",
                [tf::list([r(&format!("aws_cloudwatch_log_group.{label}"))])],
            ),
            eq(r("group.retention_in_days"), tf::num(days)),
        ),
    );
}

/// `a == b && c == d && ...`.
pub(super) fn eq_all(pairs: impl IntoIterator<Item = (Expression, Expression)>) -> Expression {
    intent::all(pairs.into_iter().map(|(a, b)| eq(a, b)))
}

/// Topic rule `label` is enabled and runs exactly `sql` (SQL version 2016-03-23).
pub(super) fn rule_sql(label: &str, sql: &str) -> Expression {
    let rule = |a: &str| r(&format!("aws_iot_topic_rule.{label}.{a}"));
    eq_all([
        (rule("enabled"), tf::boolean(true)),
        (rule("sql"), lit(sql)),
        (rule("sql_version"), lit("2016-03-23")),
    ])
}

/// Mocked values of the data sources the module reads.
fn mock_defaults(cx: &Ctx, ty: &str) -> Option<Expression> {
    let policy = r#"{"Version":"2012-10-17","Statement":[]}"#;
    Some(match ty {
        "aws_caller_identity" => obj([
            ("account_id", lit(ACCOUNT)),
            (
                "arn",
                lit(format!("arn:aws:iam::{ACCOUNT}:user/terraform-test")),
            ),
            ("user_id", lit("AIDATERRAFORMTEST")),
        ]),
        "aws_partition" => obj([
            ("partition", lit("aws")),
            ("dns_suffix", lit("amazonaws.com")),
            ("reverse_dns_prefix", lit("com.amazonaws")),
        ]),
        "aws_iam_policy_document" => obj([("json", lit(policy)), ("minified_json", lit(policy))]),
        "aws_iot_endpoint" => obj([(
            "endpoint_address",
            lit(format!("example-ats.iot.{}.amazonaws.com", cx.aws.region)),
        )]),
        "aws_iot_registration_code" => obj([(
            "registration_code",
            lit("0000000000000000000000000000000000000000000000000000000000000000"),
        )]),
        _ => return None,
    })
}

/// `mock_provider "aws"` with defaults for every data source type the module reads.
fn mock_provider(cx: &Ctx, files: &[&TfFile]) -> Block {
    let mut types = BTreeSet::new();
    for f in files {
        for s in &f.body {
            if let Structure::Block(b) = s
                && b.identifier.as_str() == "data"
                && let Some(ty) = b.labels.first()
            {
                types.insert(ty.as_str().to_owned());
            }
        }
    }
    let mut mock = tf::block("mock_provider").add_label("aws");
    for ty in types {
        if let Some(defaults) = mock_defaults(cx, &ty) {
            mock = mock.add_block(
                tf::block("mock_data")
                    .add_label(ty.as_str())
                    .add_attribute(("defaults", defaults))
                    .build(),
            );
        }
    }
    mock.build()
}

impl Ctx<'_> {
    /// Adds the test file (and the fixtures its runs read) to the module.
    pub(super) fn write_tests(&mut self) {
        if self.intent.is_empty() {
            return;
        }
        let mut files: Vec<&TfFile> = self.files.values().collect();
        files.push(&self.vars);
        let mock = mock_provider(self, &files);
        let (file, fixtures) = self.intent.render(mock, &HEADER);
        self.purposes.insert(
            intent::TEST_FILE.to_owned(),
            "Intent tests: `terraform test` checks the planned values against the fleet spec, offline.".to_owned(),
        );
        self.module.hcl(intent::TEST_FILE, file);
        for (path, text) in fixtures {
            self.purposes.insert(
                path.to_owned(),
                "A stand-in CA certificate the tests plan with (public, its key discarded, registered nowhere).".to_owned(),
            );
            self.module.text(path, text);
        }
    }
}
