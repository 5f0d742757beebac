//! Lambda functions, all built the same hardened way.
//!
//! fleetform generates a few small functions (alert handlers, the JITR activator, the
//! pre-provisioning hook, the web API's reader). Each gets its own role with only the grants
//! it needs, its own KMS-encrypted log group with the spec's retention, X-Ray tracing, no
//! reserved concurrency unless the user sets one for the alert functions ([`Concurrency`]),
//! and a shared KMS-encrypted dead-letter queue for failed asynchronous invocations (IoT
//! rules invoke functions asynchronously). The code comes from a blueprint and is packaged by
//! [`crate::plan::package::zip`], so the zip and its hash are the same on every machine; the
//! source is written next to it for review.

use hcl::Expression;

use super::cost::LambdaArchitecture;
use super::hcl::{BlockExt, module_path, named, rf, t, tpl};
use super::iam::{Role, Stmt};
use super::names;
use super::{Ctx, PYTHON_RUNTIME};
use crate::blueprint;
use crate::plan::PlanError;
use crate::plan::package;
use crate::plan::tf::{self, lit, obj, r};

/// A function to generate.
pub(super) struct Function {
    /// Terraform label (`alert_leak`).
    pub label: String,
    /// Name after the stack prefix, also the package name (`alert-leak`).
    pub name: String,
    /// The `.tf` file the function belongs to, and what that file is for.
    pub file: &'static str,
    pub file_purpose: &'static str,
    pub description: String,
    /// Blueprint of `handler.py`.
    pub blueprint: &'static str,
    pub context: serde_json::Value,
    pub env: Vec<(&'static str, Expression)>,
    /// Grants beyond logging, tracing and the dead-letter queue.
    pub statements: Vec<Stmt>,
    pub timeout: u32,
    /// How many concurrent executions to reserve.
    pub concurrency: Concurrency,
}

/// Reserved concurrency of a function. A reservation is a floor and a ceiling at once, and
/// it is taken from the account: Lambda keeps 100 executions unreserved (less on new accounts,
/// whose concurrency quota is reduced), so a fixed reservation fails to apply there, and a
/// small one throttles the function when it is needed most.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Concurrency {
    /// No reservation: the function scales with the account. For functions whose callers
    /// are bounded by AWS itself (provisioning and registration rates, API Gateway
    /// throttling), where a cap could only refuse devices or users.
    Unreserved(&'static str),
    /// `var.alert_function_reserved_concurrency` (default: no reservation): functions driven
    /// by device traffic, which a message storm could multiply, so the user may cap them.
    Alerts,
}

/// Writes the function, its role, log group and package.
pub(super) fn function(cx: &mut Ctx, f: Function) -> Result<(), PlanError> {
    shared(cx);
    if f.concurrency == Concurrency::Alerts {
        alert_concurrency(cx);
    }
    // Lambda and IAM both take 64 characters; the log group repeats the function's name.
    let function = cx.name(&f.name, names::LAMBDA);
    let log_group = match &function {
        Expression::String(shortened) => lit(format!("/aws/lambda/{shortened}")),
        _ => tpl([
            t("/aws/lambda/"),
            rf("local.name_prefix"),
            t(format!("-{}", f.name)),
        ]),
    };
    let role_name = cx.name(&format!("fn-{}", f.name), names::IAM_ROLE);
    let code = blueprint::render(f.blueprint, &f.context)?;
    let zip_path = format!("functions/{}.zip", f.name);
    let zip = package::zip(&f.name, &[("handler.py", code.as_str())])?;
    cx.bytes(
        &zip_path,
        "Deterministic package of the function next to it (hashed by source_code_hash).",
        zip,
    );
    cx.text(
        &format!("functions/src/{}/handler.py", f.name),
        "Source of the packaged function, for review.",
        code,
    );
    let days = cx.m.monitoring.log_retention_days;
    let role_label = format!("{}_function", f.label);
    let mut statements = vec![
        Stmt::allow(
            "WriteOwnLogs",
            &["logs:CreateLogStream", "logs:PutLogEvents"],
            vec![tpl([
                rf(&format!("aws_cloudwatch_log_group.{}.arn", f.label)),
                t(":*"),
            ])],
        ),
        Stmt::allow(
            "Tracing",
            &["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
            vec![lit("*")],
        ),
        Stmt::allow(
            "DeadLetters",
            &["sqs:SendMessage"],
            vec![r("aws_sqs_queue.function_dlq.arn")],
        ),
        Stmt::allow(
            "StackKey",
            &["kms:Decrypt", "kms:GenerateDataKey"],
            vec![r("aws_kms_key.fleet.arn")],
        ),
    ];
    statements.extend(f.statements);
    let (arch, memory_mb) = (cx.flags.lambda_architecture, cx.flags.lambda_memory_mb);
    super::intent::log_retention(cx, &f.label, days);
    let file = cx.tf(f.file, f.file_purpose);
    file.push(
        tf::resource("aws_cloudwatch_log_group", &f.label)
            .when(days < 365, |b| {
                b.skip(
                    "CKV_AWS_338",
                    &format!("retention is monitoring.log_retention_days from the spec ({days} days), chosen for cost"),
                )
            })
            .attr(
                "name",
                log_group,
            )
            .attr("retention_in_days", tf::num(days))
            .attr("kms_key_id", r("aws_kms_key.fleet.arn"))
            .build(),
    );
    Role {
        label: &role_label,
        name: role_name,
        description: &f.description,
        service: "lambda.amazonaws.com",
        source_account: false,
        statements,
        max_session_seconds: None,
        managed: Vec::new(),
    }
    .write(file);
    let package = module_path(&zip_path);
    let (reserved, unreserved_why) = match f.concurrency {
        Concurrency::Alerts => (
            true,
            "reserved concurrency is alert_function_reserved_concurrency, none by default: a fixed reservation fails on accounts with a reduced concurrency quota",
        ),
        Concurrency::Unreserved(why) => (false, why),
    };
    file.push(
        tf::resource("aws_lambda_function", &f.label)
            .skip(
                "CKV_AWS_117",
                "calls only regional AWS APIs; a VPC would add NAT or endpoints and isolate nothing",
            )
            .skip(
                "CKV_AWS_272",
                "the package is generated by fleetform and pinned by source_code_hash; Signer code signing needs an S3 signing job outside Terraform",
            )
            .skip("CKV_AWS_115", unreserved_why)
            .attr("function_name", function)
            .attr("description", lit(&f.description))
            .attr("role", r(&format!("aws_iam_role.{role_label}.arn")))
            .attr("runtime", lit(PYTHON_RUNTIME))
            .attr("handler", lit("handler.handler"))
            .attr("filename", package.clone())
            .attr("source_code_hash", tf::call("filebase64sha256", [package]))
            .attr("timeout", tf::num(f.timeout))
            .attr("memory_size", tf::num(memory_mb))
            .when(arch != LambdaArchitecture::X86_64, |b| {
                b.attr("architectures", tf::list([lit(arch.as_str())]))
            })
            .when(reserved, |b| {
                b.attr(
                    "reserved_concurrent_executions",
                    r("var.alert_function_reserved_concurrency"),
                )
            })
            .attr("kms_key_arn", r("aws_kms_key.fleet.arn"))
            .child(
                tf::block("tracing_config")
                    .attr("mode", lit("Active"))
                    .build(),
            )
            .child(
                tf::block("dead_letter_config")
                    .attr("target_arn", r("aws_sqs_queue.function_dlq.arn"))
                    .build(),
            )
            .child(
                tf::block("logging_config")
                    .attr("log_format", lit("JSON"))
                    .attr(
                        "log_group",
                        r(&format!("aws_cloudwatch_log_group.{}.name", f.label)),
                    )
                    .build(),
            )
            .when(!f.env.is_empty(), |b| {
                b.child(
                    tf::block("environment")
                        .attr("variables", obj(f.env))
                        .build(),
                )
            })
            .attr(
                "depends_on",
                tf::list([r(&format!("aws_iam_role_policy.{role_label}"))]),
            )
            .build(),
    );
    cx.lambdas.push((f.label, f.name));
    Ok(())
}

/// The concurrency input of the alert functions, once per stack.
fn alert_concurrency(cx: &mut Ctx) {
    if cx.facts_has("alert_function_reserved_concurrency") {
        return;
    }
    cx.fact("alert_function_reserved_concurrency", true);
    cx.var(
        "alert_function_reserved_concurrency",
        "number",
        "Reserved concurrency of each alert function: it both guarantees and caps the function, so a message storm cannot take the account's concurrency. -1 (the default) reserves nothing; a reservation must leave the account 100 unreserved executions (new accounts have a reduced quota: check yours in Service Quotas first).",
        Some(tf::num(-1)),
        vec![tf::validation(
            Expression::from(::hcl::expr::BinaryOp::new(
                r("var.alert_function_reserved_concurrency"),
                ::hcl::expr::BinaryOperator::GreaterEq,
                tf::num(-1),
            )),
            "Use -1 (no reservation) or a number of concurrent executions (0 stops the alert functions).",
            tf::num(-2),
        )],
    );
}

/// The dead-letter queue, once per stack.
fn shared(cx: &mut Ctx) {
    if !cx.lambdas.is_empty() {
        return;
    }
    cx.tf(
        "functions.tf",
        "What every generated function shares: the encrypted dead-letter queue.",
    )
    .push(
        tf::resource("aws_sqs_queue", "function_dlq")
            .note("Asynchronous invocations (IoT rules) that fail after retries land here.")
            .attr("name", named("functions-dlq"))
            .attr("kms_master_key_id", r("aws_kms_key.fleet.arn"))
            .attr("kms_data_key_reuse_period_seconds", tf::num(300))
            .attr("message_retention_seconds", tf::num(1_209_600))
            .build(),
    );
}
