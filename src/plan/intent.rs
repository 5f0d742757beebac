//! Intent tests: what the fleet spec asks for, shipped with every root module as
//! `tests/fleetform.tftest.hcl` and checked by plain `terraform test` on the planned values.
//!
//! A generated root is code people read, review and sometimes edit. The planners know at the
//! moment they emit a resource which spec key it serves and what value that key asks for, so
//! they record an assertion right there ([`Intent::assert`]), from the same value they put
//! into the resource: the tests cannot drift from the code. Each cloud's folder turns the
//! collected intent into the test file with its own mock provider (`clouds/*/intent.rs`),
//! so the tests run offline, with no cloud account.
//!
//! Besides the assertions (one `run` that plans with the defaults and checks them all), the
//! file proves that every variable validation rejects the bad input it exists for (one `run`
//! per round of bad values, `expect_failures`), and that preconditions fail when their
//! input is missing. Conditions are typed HCL, built with [`crate::plan::tf`].

use std::fmt::Display;

use hcl::expr::{BinaryOp, BinaryOperator, Operation};
use hcl::{Block, Expression};

use crate::plan::tf::{self, TfFile, lit, r};

/// Path of the shipped test file inside a root module.
pub const TEST_FILE: &str = "tests/fleetform.tftest.hcl";

/// Path of the stand-in CA certificate, for roots that read the fleet CA while planning.
pub const FIXTURE_CA: &str = "tests/fixtures/ca.pem";

/// A public CA certificate for the tests only: self-signed, its private key discarded when
/// it was made, registered nowhere. Roots that read the fleet CA at plan time (`file()`)
/// plan with it, so `terraform test` runs before `fleetform certs init`.
const FIXTURE_CA_PEM: &str = "-----BEGIN CERTIFICATE-----
MIICFDCCAbugAwIBAgIUAqf0rR2fAenLzgFa05Fr1739Nd8wCgYIKoZIzj0EAwIw
VzESMBAGA1UECgwJZmxlZXRmb3JtMUEwPwYDVQQDDDhmbGVldGZvcm0gaW50ZW50
LXRlc3Qgc3RhbmQtaW4gQ0EgKG5vdCB0cnVzdGVkIGFueXdoZXJlKTAgFw0yNjEy
MDMxMjE5MzlaGA8yMTI2MTEwOTEyMTkzOVowVzESMBAGA1UECgwJZmxlZXRmb3Jt
MUEwPwYDVQQDDDhmbGVldGZvcm0gaW50ZW50LXRlc3Qgc3RhbmQtaW4gQ0EgKG5v
dCB0cnVzdGVkIGFueXdoZXJlKTBZMBMGByqGSM49AgEGCCqGSM49AwEHA0IABEdp
BkQRgnhA/kqiRjwPfJK36HF7PXcAcArkFcWWEYKZmjkEnaxc1ZE31fQl35djjJZ+
20+nBdd/aMALkyNRsrSjYzBhMB0GA1UdDgQWBBT2f9SC8nBxBjRDY4unGz8gC5k5
EjAfBgNVHSMEGDAWgBT2f9SC8nBxBjRDY4unGz8gC5k5EjAPBgNVHRMBAf8EBTAD
AQH/MA4GA1UdDwEB/wQEAwIBBjAKBggqhkjOPQQDAgNHADBEAiB+MlpRcKQL+jmO
rS1HNQ3MfY9jMD4OFDMvhZS2wzXHzAIgBLkbCldNoFW691Ub1WMaHaFYr4IPx7Nz
UTzYw4F0TzY=
-----END CERTIFICATE-----
";

/// One assertion on the planned values.
#[derive(Debug, Clone)]
pub struct Assert {
    pub condition: Expression,
    pub error_message: String,
}

/// A `run` that must fail on the checkable objects it names.
#[derive(Debug, Clone)]
struct Failure {
    name: String,
    variables: Vec<(String, Expression)>,
    expect: Vec<Expression>,
}

/// What a root's tests check, collected while the root is planned.
#[derive(Debug, Clone, Default)]
pub struct Intent {
    asserts: Vec<Assert>,
    /// Bad values, by variable, each rejected by one of its validations.
    rejects: Vec<(String, Expression)>,
    /// Variables every run of the file uses.
    variables: Vec<(String, Expression)>,
    /// `override_data` blocks of the whole file.
    overrides: Vec<Block>,
    failures: Vec<Failure>,
    fixture_ca: bool,
    /// When set, every run plans only these resources (and what they depend on), and why.
    targets: Vec<Expression>,
    targets_why: String,
}

impl Intent {
    /// Asserts `condition` on the planned values. `key` is the spec key the value comes from
    /// (or the fleetform default it keeps), `wants` the value it asks for, in words.
    pub fn assert(&mut self, key: &str, wants: impl Display, condition: Expression) {
        self.asserts.push(Assert {
            condition,
            error_message: format!(
                "{key} asks for {wants}, and the planned configuration no longer says so: change the fleet spec and rebuild instead of editing the generated code."
            ),
        });
    }

    /// Records that `variable`'s validation rejects `bad`.
    pub fn rejects(&mut self, variable: &str, bad: Expression) {
        self.rejects.push((variable.to_owned(), bad));
    }

    /// Sets `variable` for every run of the file.
    pub fn variable(&mut self, variable: &str, value: Expression) {
        if !self.variables.iter().any(|(v, _)| v == variable) {
            self.variables.push((variable.to_owned(), value));
        }
    }

    /// Points `variable` at the stand-in CA certificate shipped with the tests, because the
    /// root reads the CA while planning; `resource` (when the root guards the read with a
    /// precondition) must then fail on a missing file.
    pub fn fixture_ca(&mut self, variable: &str, resource: Option<Expression>) {
        self.fixture_ca = true;
        self.variable(variable, tf::call("abspath", [lit(FIXTURE_CA)]));
        if let Some(resource) = resource {
            self.failures.push(Failure {
                name: "a_missing_ca_certificate_is_refused".to_owned(),
                variables: vec![(
                    variable.to_owned(),
                    tf::call("abspath", [lit("tests/fixtures/missing.pem")]),
                )],
                expect: vec![resource],
            });
        }
    }

    /// Mocks what the data source `target` reads with `values`, for the whole file.
    pub fn override_data(&mut self, target: Expression, values: Expression) {
        self.overrides.push(
            tf::block("override_data")
                .add_attribute(("target", target))
                .add_attribute(("values", values))
                .build(),
        );
    }

    /// Plans only `targets` (and what they depend on) in every run: for roots with thousands
    /// of instances of one resource (registry shards), where a full plan of every instance
    /// would cost minutes and gigabytes per run and check nothing a sample does not.
    pub fn plan_only(&mut self, targets: impl IntoIterator<Item = Expression>, why: &str) {
        self.targets.extend(targets);
        why.clone_into(&mut self.targets_why);
    }

    /// Whether anything was asserted.
    pub fn is_empty(&self) -> bool {
        self.asserts.is_empty()
    }

    /// The test file: `mock` (the cloud's `mock_provider` block), the file-wide variables
    /// and overrides, the run that checks every assertion with the defaults, and the runs
    /// that must fail. Also returns the fixture files the runs read, by path in the root.
    pub fn render(&self, mock: Block, header: &[&str]) -> (TfFile, Vec<(&'static str, String)>) {
        let mut f = TfFile::new();
        for line in header {
            f.comment(line);
        }
        f.push(mock);
        if !self.variables.is_empty() {
            f.push(variables_block(&self.variables));
        }
        for o in &self.overrides {
            f.push(o.clone());
        }
        let mut run = tf::block("run")
            .add_label("spec_intent")
            .add_attribute(("command", r("plan")));
        if let Some(options) = self.plan_options() {
            run = run.add_block(options);
        }
        for a in &self.asserts {
            run = run.add_block(
                tf::block("assert")
                    .add_attribute(("condition", a.condition.clone()))
                    .add_attribute(("error_message", lit(&a.error_message)))
                    .build(),
            );
        }
        f.push(run.build());
        // One run per round of bad values: a variable with two validations needs two runs.
        let mut rounds: Vec<Vec<&(String, Expression)>> = Vec::new();
        for reject in &self.rejects {
            match rounds
                .iter_mut()
                .find(|round| !round.iter().any(|(v, _)| *v == reject.0))
            {
                Some(round) => round.push(reject),
                None => rounds.push(vec![reject]),
            }
        }
        for (i, round) in rounds.iter().enumerate() {
            let name = if i == 0 {
                "validations_reject_bad_input".to_owned()
            } else {
                format!("validations_reject_bad_input_{}", i + 1)
            };
            // A targeted plan leaves out the variables its targets do not use, so with a
            // sample the bad values are checked by a refresh-only plan of everything, which
            // validates every variable and plans no instance.
            let options = (!self.targets.is_empty()).then(|| {
                tf::block("plan_options")
                    .add_attribute(tf::comment(
                        "Every variable is validated; no resource instance is planned.",
                    ))
                    .add_attribute(("mode", r("refresh-only")))
                    .build()
            });
            f.push(failing_run(
                &Failure {
                    name,
                    variables: round.iter().map(|(v, e)| (v.clone(), e.clone())).collect(),
                    expect: round.iter().map(|(v, _)| r(&format!("var.{v}"))).collect(),
                },
                options,
            ));
        }
        for failure in &self.failures {
            f.push(failing_run(failure, self.plan_options()));
        }
        let fixtures = if self.fixture_ca {
            vec![(FIXTURE_CA, FIXTURE_CA_PEM.to_owned())]
        } else {
            Vec::new()
        };
        (f, fixtures)
    }

    /// `plan_options { target = [...] }`, when the runs plan a sample.
    fn plan_options(&self) -> Option<Block> {
        (!self.targets.is_empty()).then(|| {
            tf::block("plan_options")
                .add_attribute(tf::comment(&self.targets_why))
                .add_attribute(("target", tf::list(self.targets.clone())))
                .build()
        })
    }
}

fn variables_block(vars: &[(String, Expression)]) -> Block {
    let mut b = tf::block("variables");
    for (name, value) in vars {
        b = b.add_attribute((tf::ident(name), value.clone()));
    }
    b.build()
}

fn failing_run(failure: &Failure, options: Option<Block>) -> Block {
    let mut run = tf::block("run")
        .add_label(failure.name.as_str())
        .add_attribute(("command", r("plan")));
    if let Some(options) = options {
        run = run.add_block(options);
    }
    if !failure.variables.is_empty() {
        run = run.add_block(variables_block(&failure.variables));
    }
    run.add_attribute(("expect_failures", tf::list(failure.expect.clone())))
        .build()
}

// -------------------------------------------------------------------------------------------
// Conditions.

fn binary(lhs: Expression, op: BinaryOperator, rhs: Expression) -> Expression {
    Expression::Operation(Box::new(Operation::Binary(BinaryOp::new(lhs, op, rhs))))
}

/// `a == b`.
pub fn eq(a: Expression, b: Expression) -> Expression {
    binary(a, BinaryOperator::Eq, b)
}

/// `a && b && ...`.
pub fn all(conditions: impl IntoIterator<Item = Expression>) -> Expression {
    conditions
        .into_iter()
        .reduce(|a, b| binary(a, BinaryOperator::And, b))
        .unwrap_or(tf::boolean(true))
}

/// `toset([...])`, for comparing with set attributes.
pub fn set(items: impl IntoIterator<Item = Expression>) -> Expression {
    tf::call("toset", [tf::list(items)])
}

/// `tolist([...])`, for comparing with list attributes (a `[...]` literal is a tuple, and
/// Terraform never finds a tuple equal to a list).
pub fn list(items: impl IntoIterator<Item = Expression>) -> Expression {
    tf::call("tolist", [tf::list(items)])
}

/// `anytrue([for v in collection : condition])`.
pub fn any_in(var: &str, collection: Expression, condition: Expression) -> Expression {
    tf::call("anytrue", [tf::for_list(var, collection, condition)])
}

/// `alltrue([for v in collection : condition])`.
pub fn all_in(var: &str, collection: Expression, condition: Expression) -> Expression {
    tf::call("alltrue", [tf::for_list(var, collection, condition)])
}

/// `one([for v in collection : v if condition])`: the one element that matches.
pub fn the_one(var: &str, collection: Expression, condition: Expression) -> Expression {
    let fe = hcl::expr::ForExpr::new(tf::ident(var), collection, r(var)).with_cond_expr(condition);
    tf::call("one", [Expression::ForExpr(Box::new(fe))])
}

/// `length(x)`.
pub fn length(x: Expression) -> Expression {
    tf::call("length", [x])
}

/// The spec's word for an enum value (`deep_archive`), as serde writes it.
pub fn spec_word(value: impl serde::Serialize) -> String {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(s)) => s,
        Ok(other) => other.to_string(),
        Err(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(e: &Expression) -> String {
        hcl::format::to_string(e).unwrap()
    }

    #[test]
    fn conditions_read_like_terraform() {
        assert_eq!(
            src(&the_one(
                "s",
                r("data.aws_iam_policy_document.device_policy.statement"),
                eq(r("s.sid"), lit("Connect"))
            )),
            "one([for s in data.aws_iam_policy_document.device_policy.statement : s if s.sid == \"Connect\"])"
        );
        assert_eq!(
            src(&all([eq(r("a"), tf::num(1)), eq(r("b"), lit("x"))])),
            "a == 1 && b == \"x\""
        );
    }

    #[test]
    fn bad_values_of_one_variable_go_to_separate_runs() {
        let mut intent = Intent::default();
        intent.assert("k", "v", tf::boolean(true));
        intent.rejects("region", lit("Frankfurt"));
        intent.rejects("region", lit("x"));
        intent.rejects("emails", tf::strings(["nope"]));
        let (file, fixtures) =
            intent.render(tf::block("mock_provider").add_label("aws").build(), &[]);
        let text = crate::emit::format_hcl(&file.into_body()).unwrap();
        assert!(
            text.contains("run \"validations_reject_bad_input\""),
            "{text}"
        );
        assert!(
            text.contains("run \"validations_reject_bad_input_2\""),
            "{text}"
        );
        assert_eq!(text.matches("expect_failures").count(), 2, "{text}");
        assert!(fixtures.is_empty());
    }
}
