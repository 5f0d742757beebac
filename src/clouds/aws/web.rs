//! The read-only web API over device state, and the identity pool web apps sign in with.
//!
//! `GET /devices/{id}` on an API Gateway HTTP API runs a generated function that returns the
//! device's shadow (when devices keep one), its item in the state table and its alert
//! records. The route uses IAM authorization, and the only identities that can call it are the
//! authenticated users of a Cognito identity pool without guest access, whose role may invoke
//! exactly this route. Users sign in to a user pool the stack owns (social providers are an
//! opt-in), and being signed in is not enough: the function answers only for devices the
//! caller's identity owns in the owners table, so no user can read another's home.

use super::Ctx;
use super::functions::{self, Function};
use super::hcl::{BlockExt, named, rf, t, tpl};
use super::iam::{self, Stmt};
use crate::plan::PlanError;
use crate::plan::tf::{self, lit, r};

const FILE: &str = "web.tf";
const PURPOSE: &str =
    "The web API: GET /devices/{id} (HTTP API, IAM auth, Lambda) and the Cognito identity pool.";

pub(super) fn plan(cx: &mut Ctx) -> Result<(), PlanError> {
    if !cx.m.features.web_api {
        return Ok(());
    }
    // Validation makes the web API need the state store.
    let flags = cx.flags;
    let alerts_table = super::alerts::alerts_table(cx);
    super::tables::table(
        cx,
        FILE,
        PURPOSE,
        super::tables::Table {
            label: "device_owners",
            name: "device-owners",
            note: "Which signed-in users own which devices: one item per (Cognito identity id, thing name), written by your backend.",
            hash: "identity_id",
            range: Some("device_id"),
        },
    );
    let mut env = vec![
        ("IDENTITY_POOL_ID", r("aws_cognito_identity_pool.web.id")),
        ("OWNERS_TABLE", r("aws_dynamodb_table.device_owners.name")),
        ("STATE_TABLE", r("aws_dynamodb_table.state.name")),
    ];
    let mut statements = vec![
        Stmt::allow(
            "ReadOwners",
            &["dynamodb:GetItem"],
            vec![r("aws_dynamodb_table.device_owners.arn")],
        ),
        Stmt::allow(
            "ReadState",
            &["dynamodb:GetItem"],
            vec![r("aws_dynamodb_table.state.arn")],
        ),
    ];
    if alerts_table {
        env.push(("ALERTS_TABLE", r("aws_dynamodb_table.alerts.name")));
        statements.push(Stmt::allow(
            "ReadAlerts",
            &["dynamodb:Query"],
            vec![r("aws_dynamodb_table.alerts.arn")],
        ));
    }
    if flags.shadow {
        env.push((
            "IOT_DATA_ENDPOINT",
            tpl([
                t("https://"),
                rf("data.aws_iot_endpoint.data.endpoint_address"),
            ]),
        ));
        statements.push(Stmt::allow(
            "ReadShadows",
            &["iot:GetThingShadow"],
            vec![tpl([rf("local.iot_arn"), t(":thing/*")])],
        ));
    }
    functions::function(
        cx,
        Function {
            label: "read_state".to_owned(),
            name: "read-state".to_owned(),
            file: FILE,
            file_purpose: PURPOSE,
            description: "Web API: returns the state of one device to the users who own it."
                .to_owned(),
            blueprint: "aws/functions/read_state.py.j2",
            context: serde_json::json!({
                "shadow": flags.shadow,
                "alerts_table": alerts_table,
            }),
            env,
            statements,
            timeout: 10,
            concurrency: functions::Concurrency::Unreserved(
                "no reservation: the API stage throttles callers (rate 50/s, burst 100), and a cap would refuse users",
            ),
        },
    )?;
    cx.var(
        "web_allowed_origins",
        "list(string)",
        "Origins (https://app.example.com) allowed to call the web API from a browser (CORS).",
        Some(tf::list([])),
        vec![tf::validation(
            tf::call(
                "alltrue",
                [tf::for_list(
                    "origin",
                    r("var.web_allowed_origins"),
                    tf::call(
                        "can",
                        [tf::call("regex", [lit("^https?://[^/]+$"), r("origin")])],
                    ),
                )],
            ),
            "Each origin is a scheme and host, such as https://app.example.com (no path).",
            tf::strings(["https://app.example.com/login"]),
        )],
    );
    cx.var(
        "web_login_providers",
        "map(string)",
        "Extra (social) login providers of the identity pool, such as { \"accounts.google.com\" = \"<client id>\" }, besides the stack's own user pool. Their users get identities too, and see only the devices the owners table gives them.",
        Some(tf::obj::<&str>([])),
        Vec::new(),
    );
    cx.fact(
        "web",
        serde_json::json!({ "shadow": flags.shadow, "alerts_table": alerts_table }),
    );
    let days = cx.m.monitoring.log_retention_days;
    let pool_name = format!("{} web", cx.prefix_underscored());
    super::intent::log_retention(cx, "web_api", days);
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_cloudwatch_log_group", "web_api")
            .when(days < 365, |b| {
                b.skip(
                    "CKV_AWS_338",
                    &format!("retention is monitoring.log_retention_days from the spec ({days} days), chosen for cost"),
                )
            })
            .attr("name", tpl([t("/aws/apigateway/"), rf("local.name_prefix"), t("-web")]))
            .attr("retention_in_days", tf::num(days))
            .attr("kms_key_id", r("aws_kms_key.fleet.arn"))
            .build(),
    );
    f.push(
        tf::resource("aws_apigatewayv2_api", "web")
            .attr("name", named("web"))
            .attr("description", lit("Read-only device state for the web app"))
            .attr("protocol_type", lit("HTTP"))
            .child(
                tf::block("cors_configuration")
                    .attr("allow_origins", r("var.web_allowed_origins"))
                    .attr("allow_methods", tf::strings(["GET"]))
                    .attr(
                        "allow_headers",
                        tf::strings([
                            "authorization",
                            "x-amz-content-sha256",
                            "x-amz-date",
                            "x-amz-security-token",
                        ]),
                    )
                    .attr("max_age", tf::num(3600))
                    .build(),
            )
            .build(),
    );
    f.push(
        tf::resource("aws_apigatewayv2_integration", "read_state")
            .attr("api_id", r("aws_apigatewayv2_api.web.id"))
            .attr("integration_type", lit("AWS_PROXY"))
            .attr("integration_method", lit("POST"))
            .attr(
                "integration_uri",
                r("aws_lambda_function.read_state.invoke_arn"),
            )
            .attr("payload_format_version", lit("2.0"))
            .build(),
    );
    f.push(
        tf::resource("aws_apigatewayv2_route", "read_state")
            .attr("api_id", r("aws_apigatewayv2_api.web.id"))
            .attr("route_key", lit("GET /devices/{id}"))
            .note("Callers sign requests with SigV4 credentials from the identity pool.")
            .attr("authorization_type", lit("AWS_IAM"))
            .attr(
                "target",
                tpl([
                    t("integrations/"),
                    rf("aws_apigatewayv2_integration.read_state.id"),
                ]),
            )
            .build(),
    );
    f.push(
        tf::resource("aws_apigatewayv2_stage", "default")
            .attr("api_id", r("aws_apigatewayv2_api.web.id"))
            .attr("name", lit("$default"))
            .attr("auto_deploy", tf::boolean(true))
            .child(
                tf::block("access_log_settings")
                    .attr("destination_arn", r("aws_cloudwatch_log_group.web_api.arn"))
                    .attr(
                        "format",
                        tf::call(
                            "jsonencode",
                            [tf::obj([
                                ("requestId", lit("$context.requestId")),
                                ("caller", lit("$context.identity.caller")),
                                ("routeKey", lit("$context.routeKey")),
                                ("status", lit("$context.status")),
                                ("latency", lit("$context.responseLatency")),
                            ])],
                        ),
                    )
                    .build(),
            )
            .child(
                tf::block("default_route_settings")
                    .attr("throttling_burst_limit", tf::num(100))
                    .attr("throttling_rate_limit", tf::num(50))
                    .build(),
            )
            .build(),
    );
    f.push(
        tf::resource("aws_lambda_permission", "web_api")
            .attr("statement_id", lit("AllowWebApi"))
            .attr("action", lit("lambda:InvokeFunction"))
            .attr(
                "function_name",
                r("aws_lambda_function.read_state.function_name"),
            )
            .attr("principal", lit("apigateway.amazonaws.com"))
            .attr(
                "source_arn",
                tpl([
                    rf("aws_apigatewayv2_api.web.execution_arn"),
                    t("/*/GET/devices/*"),
                ]),
            )
            .build(),
    );
    user_pool(cx);
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_cognito_identity_pool", "web")
            .attr("identity_pool_name", lit(&pool_name))
            .note("No guest access: only users signed in to the user pool (or a provider in web_login_providers) get credentials.")
            .attr("allow_unauthenticated_identities", tf::boolean(false))
            .attr("allow_classic_flow", tf::boolean(false))
            .child(
                tf::block("cognito_identity_providers")
                    .attr("client_id", r("aws_cognito_user_pool_client.web.id"))
                    .attr("provider_name", r("aws_cognito_user_pool.web.endpoint"))
                    .note("Reject tokens of users signed out or deleted since they were issued.")
                    .attr("server_side_token_check", tf::boolean(true))
                    .build(),
            )
            .attr("supported_login_providers", r("var.web_login_providers"))
            .build(),
    );
    f.push(iam::document(
        "web_user_trust",
        vec![
            Stmt::allow(
                "SignedInUsersOfThisPool",
                &["sts:AssumeRoleWithWebIdentity"],
                Vec::new(),
            )
            .principal("Federated", vec![lit("cognito-identity.amazonaws.com")])
            .cond(
                "StringEquals",
                "cognito-identity.amazonaws.com:aud",
                vec![r("aws_cognito_identity_pool.web.id")],
            )
            .cond(
                "ForAnyValue:StringLike",
                "cognito-identity.amazonaws.com:amr",
                vec![lit("authenticated")],
            ),
        ],
    ));
    f.push(
        tf::resource("aws_iam_role", "web_user")
            .attr("name", named("web-user"))
            .attr(
                "description",
                lit("Signed-in web app users: may only read device state through the web API."),
            )
            .attr(
                "assume_role_policy",
                r("data.aws_iam_policy_document.web_user_trust.json"),
            )
            .build(),
    );
    f.push(iam::document(
        "web_user",
        vec![Stmt::allow(
            "ReadDeviceState",
            &["execute-api:Invoke"],
            vec![tpl([
                rf("aws_apigatewayv2_api.web.execution_arn"),
                t("/$default/GET/devices/*"),
            ])],
        )],
    ));
    f.push(
        tf::resource("aws_iam_role_policy", "web_user")
            .attr("name", lit("least-privilege"))
            .attr("role", r("aws_iam_role.web_user.id"))
            .attr("policy", r("data.aws_iam_policy_document.web_user.json"))
            .build(),
    );
    f.push(
        tf::resource("aws_cognito_identity_pool_roles_attachment", "web")
            .attr("identity_pool_id", r("aws_cognito_identity_pool.web.id"))
            .attr(
                "roles",
                tf::obj([("authenticated", r("aws_iam_role.web_user.arn"))]),
            )
            .build(),
    );
    cx.out(
        "web_api_url",
        "Base URL of the web API: GET <url>/devices/<thing name>, signed with SigV4.",
        r("aws_apigatewayv2_api.web.api_endpoint"),
    );
    cx.out(
        "identity_pool_id",
        "Cognito identity pool the web app gets credentials from.",
        r("aws_cognito_identity_pool.web.id"),
    );
    cx.out(
        "device_owners_table",
        "DynamoDB table of who owns which device (keys identity_id, device_id): the web API shows a user only their devices.",
        r("aws_dynamodb_table.device_owners.name"),
    );
    Ok(())
}

/// The stack's own user pool, the default sign-in of the web app: accounts made by an
/// administrator (no self sign-up), e-mail as the user name, a strong password policy,
/// optional TOTP MFA, and no way to find out which accounts exist.
fn user_pool(cx: &mut Ctx) {
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_cognito_user_pool", "web")
            .attr("name", named("web"))
            .attr("deletion_protection", lit("ACTIVE"))
            .attr("username_attributes", tf::strings(["email"]))
            .attr("auto_verified_attributes", tf::strings(["email"]))
            .attr("mfa_configuration", lit("OPTIONAL"))
            .child(
                tf::block("software_token_mfa_configuration")
                    .attr("enabled", tf::boolean(true))
                    .build(),
            )
            .child(
                tf::block("admin_create_user_config")
                    .note("Users are invited by an administrator: a home's devices are not open for anyone to sign up to.")
                    .attr("allow_admin_create_user_only", tf::boolean(true))
                    .build(),
            )
            .child(
                tf::block("password_policy")
                    .attr("minimum_length", tf::num(12))
                    .attr("require_lowercase", tf::boolean(true))
                    .attr("require_uppercase", tf::boolean(true))
                    .attr("require_numbers", tf::boolean(true))
                    .attr("require_symbols", tf::boolean(true))
                    .attr("temporary_password_validity_days", tf::num(3))
                    .build(),
            )
            .child(
                tf::block("account_recovery_setting")
                    .child(
                        tf::block("recovery_mechanism")
                            .attr("name", lit("verified_email"))
                            .attr("priority", tf::num(1))
                            .build(),
                    )
                    .build(),
            )
            .build(),
    );
    f.push(
        tf::resource("aws_cognito_user_pool_client", "web")
            .attr("name", named("web"))
            .attr("user_pool_id", r("aws_cognito_user_pool.web.id"))
            .note(
                "A browser app cannot keep a secret; it signs in with SRP, so no password is sent.",
            )
            .attr("generate_secret", tf::boolean(false))
            .attr(
                "explicit_auth_flows",
                tf::strings(["ALLOW_USER_SRP_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]),
            )
            .attr("prevent_user_existence_errors", lit("ENABLED"))
            .attr("enable_token_revocation", tf::boolean(true))
            .attr("supported_identity_providers", tf::strings(["COGNITO"]))
            .build(),
    );
    cx.out(
        "user_pool_id",
        "Cognito user pool of the web app's users (create them with aws cognito-idp admin-create-user).",
        r("aws_cognito_user_pool.web.id"),
    );
    cx.out(
        "user_pool_client_id",
        "App client the web app signs users in with (SRP).",
        r("aws_cognito_user_pool_client.web.id"),
    );
}
