//! Fleet provisioning, by claim and by trusted user: the FLEET_PROVISIONING template, the
//! pre-provisioning hook with its allow list, and the claim certificate's policy (by claim)
//! or the installer app's IAM policy (by trusted user).
//!
//! The template names the thing by the serial number the device sends and attaches the new
//! certificate to that thing, existing or not; a claim ships in every device image (or any
//! installer can ask for one). So both methods always run the hook: it admits a serial
//! number only when it is on the allow list and names no thing that already has a
//! certificate. Without it, a claim would be a key to every device.

use hcl::Expression;

use super::Ctx;
use super::functions::{self, Function};
use super::hcl::{BlockExt, module_path, named, rf, t, tpl};
use super::iam::Stmt;
use super::provisioning::{
    FILE, PURPOSE, new_thing, pem_validation, provisioning_role, spec_dir, spec_path,
};
use crate::blueprint;
use crate::model::AwsProvisioningMethod;
use crate::plan::PlanError;
use crate::plan::tf::{self, lit, r};

/// Name of the fleet provisioning template: AWS IoT takes 36 characters, so a long stack
/// prefix is shortened with a hash (`names::fit`), never cut into another stack's name.
pub(super) fn template_name(prefix: &str) -> String {
    super::names::fit(
        &format!("{prefix}-fleet"),
        super::names::PROVISIONING_TEMPLATE,
        '-',
    )
}

/// The template's thing: its type from the `DeviceType` parameter when the fleet has several,
/// and one parameter per searchable attribute of any type, which the hook fills from the
/// allow list (or the device sends). A type's attributes that another type lacks are empty on
/// that type's things.
fn template_context(cx: &Ctx) -> serde_json::Value {
    let mut context = new_thing(cx, DEVICE_TYPE_PARAMETER);
    context["attributes"] = searchable_attributes(cx)
        .into_iter()
        .map(|a| serde_json::json!({"attribute": a, "parameter": attribute_parameter(&a)}))
        .collect();
    context
}

/// What the hook knows of the template: the types with their searchable attributes, the
/// parameter naming the type (when the template does not), the attributes' parameters.
fn hook_context(cx: &Ctx, claim: bool) -> serde_json::Value {
    let types: serde_json::Map<String, serde_json::Value> =
        cx.m.fleet
            .device_types
            .iter()
            .map(|t| (t.name.clone(), serde_json::json!(t.searchable_attributes)))
            .collect();
    let type_parameter = match super::provisioning::new_thing_type(cx) {
        super::provisioning::NewThingType::Named { .. } => DEVICE_TYPE_PARAMETER,
        _ => "",
    };
    let attribute_parameters: serde_json::Map<String, serde_json::Value> =
        searchable_attributes(cx)
            .into_iter()
            .map(|a| {
                let p = attribute_parameter(&a);
                (a, serde_json::json!(p))
            })
            .collect();
    serde_json::json!({
        "claim": claim,
        "types": types,
        "type_parameter": type_parameter,
        "attribute_parameters": attribute_parameters,
    })
}

/// An allow-list item as the factory writes it, for the README: the serial number and, for a
/// typed fleet, the first type and its searchable attributes.
fn example_item(cx: &Ctx) -> serde_json::Value {
    let mut item = serde_json::json!({"serial_number": {"S": "SN-0001"}});
    if let Some(ty) = cx.m.fleet.device_types.first() {
        if cx.m.fleet.device_types.len() > 1 {
            item["device_type"] = serde_json::json!({"S": ty.name});
        }
        if !ty.searchable_attributes.is_empty() {
            let attributes: serde_json::Map<String, serde_json::Value> = ty
                .searchable_attributes
                .iter()
                .map(|a| (a.clone(), serde_json::json!({"S": format!("{a}-value")})))
                .collect();
            item["attributes"] = serde_json::json!({"M": attributes});
        }
    }
    item
}

/// The template parameter that names the device's type (with several types).
const DEVICE_TYPE_PARAMETER: &str = "DeviceType";

/// Every type's searchable attributes, once each, in spec order (`serial_number` is the
/// serial the device sends).
fn searchable_attributes(cx: &Ctx) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for a in
        cx.m.fleet
            .device_types
            .iter()
            .flat_map(|t| &t.searchable_attributes)
    {
        if a != "serial_number" && !out.contains(a) {
            out.push(a.clone());
        }
    }
    out
}

fn attribute_parameter(attribute: &str) -> String {
    format!("attr_{attribute}")
}

pub(super) fn plan(cx: &mut Ctx) -> Result<(), PlanError> {
    let method = cx.aws.provisioning.method;
    let claim = method == AwsProvisioningMethod::FleetByClaim;
    let name = template_name(cx.prefix());
    provisioning_role(cx);
    let body = blueprint::render(
        "aws/provisioning/fleet-template.json.j2",
        template_context(cx),
    )?;
    cx.text(
        "provisioning/fleet-template.json",
        "Fleet provisioning template: thing named by the device's serial number, device policy.",
        body,
    );
    hook(cx, claim)?;
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_iot_provisioning_template", "fleet")
            .note("Changing the body creates a new default version. AWS IoT keeps at most 5 versions and the provider")
            .note("deletes none, so the 6th change fails: first delete the oldest non-default one with")
            .note("aws iot list-provisioning-template-versions and delete-provisioning-template-version.")
            .attr("name", lit(&name))
            .attr(
                "description",
                lit(if claim {
                    "Fleet provisioning by claim: devices trade the claim certificate for their own"
                } else {
                    "Fleet provisioning by trusted user: an installer app requests a temporary claim"
                }),
            )
            .attr("type", lit("FLEET_PROVISIONING"))
            .note("enabled defaults to false in the provider: a disabled template provisions nothing.")
            .attr("enabled", tf::boolean(true))
            .attr("provisioning_role_arn", r("aws_iam_role.provisioning.arn"))
            .attr(
                "template_body",
                tf::call("file", [module_path("provisioning/fleet-template.json")]),
            )
            .note("The template names things by the serial number the device sends; the hook decides which may.")
            .child(
                tf::block("pre_provisioning_hook")
                    .attr("target_arn", r("aws_lambda_function.pre_provisioning_hook.arn"))
                    .attr("payload_version", lit("2020-04-01"))
                    .build(),
            )
            .attr(
                "depends_on",
                tf::list([r("aws_iam_role_policy_attachment.provisioning"), r("aws_iot_policy.device")]),
            )
            .build(),
    );
    cx.fact("template_name", &name);
    cx.out(
        "provisioning_template_name",
        "Fleet provisioning template devices name in $aws/provisioning-templates/<name>/provision.",
        r("aws_iot_provisioning_template.fleet.name"),
    );
    if claim {
        self::claim(cx);
    } else {
        installer_policy(cx);
    }
    Ok(())
}

/// The pre-provisioning hook every fleet provisioning template calls, and its allow list.
/// Without it, whoever holds a claim provisions any serial number, and the template attaches
/// the new certificate to an existing thing of that name: a device takeover.
fn hook(cx: &mut Ctx, claim: bool) -> Result<(), PlanError> {
    let table = cx.aws.provisioning.allow_list_table.clone();
    let prefix = cx.aws.provisioning.claim_client_id_prefix.clone();
    super::tables::table(
        cx,
        FILE,
        PURPOSE,
        super::tables::Table {
            label: "provisioning_allow_list",
            name: &table,
            note: "Serial numbers allowed to provision, one item each (key serial_number), written by the factory.",
            hash: "serial_number",
            range: None,
        },
    );
    let mut env = vec![(
        "ALLOW_LIST_TABLE",
        r("aws_dynamodb_table.provisioning_allow_list.name"),
    )];
    if claim {
        env.push(("CLAIM_CLIENT_ID_PREFIX", lit(&prefix)));
    }
    functions::function(
        cx,
        Function {
            label: "pre_provisioning_hook".to_owned(),
            name: "pre-provisioning-hook".to_owned(),
            file: FILE,
            file_purpose: PURPOSE,
            description: "Pre-provisioning hook: admits listed serial numbers whose thing has no certificate yet."
                .to_owned(),
            blueprint: "aws/functions/pre_provisioning_hook.py.j2",
            context: hook_context(cx, claim),
            env,
            statements: vec![
                Stmt::allow(
                    "ReadAllowList",
                    &["dynamodb:GetItem"],
                    vec![r("aws_dynamodb_table.provisioning_allow_list.arn")],
                ),
                Stmt::allow(
                    "CheckExistingThings",
                    &["iot:DescribeThing", "iot:ListThingPrincipals"],
                    vec![tpl([rf("local.iot_arn"), t(":thing/*")])],
                ),
            ],
            // AWS IoT waits 5 s for the hook; the function ends (and logs) before that.
            timeout: 4,
            concurrency: functions::Concurrency::Unreserved(
                "no reservation: AWS IoT's provisioning rate bounds the hook, and a cap would refuse devices in a factory wave",
            ),
        },
    )?;
    let f = cx.tf(FILE, PURPOSE);
    f.comment("The hook target cannot be changed in place (hashicorp/terraform-provider-aws#37323): replace the template if it moves.");
    f.push(
        tf::resource("aws_lambda_permission", "pre_provisioning_hook")
            .attr("statement_id", lit("AllowIotProvisioningHook"))
            .attr("action", lit("lambda:InvokeFunction"))
            .attr(
                "function_name",
                r("aws_lambda_function.pre_provisioning_hook.function_name"),
            )
            .attr("principal", lit("iot.amazonaws.com"))
            .attr("source_arn", r("aws_iot_provisioning_template.fleet.arn"))
            .attr("source_account", r("local.account_id"))
            .build(),
    );
    cx.out(
        "provisioning_allow_list_table",
        "DynamoDB table of the serial numbers allowed to provision (key serial_number): add each device before it ships.",
        r("aws_dynamodb_table.provisioning_allow_list.name"),
    );
    cx.fact(
        "allow_list",
        serde_json::json!({
            "table": table,
            "claim_client_id_prefix": claim.then_some(prefix),
            "record": !cx.m.fleet.device_types.is_empty(),
            "example_item": example_item(cx).to_string(),
        }),
    );
    Ok(())
}

fn claim(cx: &mut Ctx) {
    spec_dir(cx);
    cx.var(
        "claim_certificate_file",
        "string",
        "PEM of the claim certificate built into devices at the factory (`fleetform certs claim` writes it), relative to the spec's folder (see spec_dir) or absolute. Only the certificate is registered: its key stays at the factory. Leave unset to register it later.",
        Some(tf::null()),
        vec![pem_validation("claim_certificate_file", true)],
    );
    let template = |kind: &str, rest: &str| {
        tpl([
            rf("local.iot_arn"),
            t(format!(":{kind}/$aws/provisioning-templates/")),
            rf("aws_iot_provisioning_template.fleet.name"),
            t(rest),
        ])
    };
    let create = |kind: &str| {
        tpl([
            rf("local.iot_arn"),
            t(format!(":{kind}/$aws/certificates/create/*")),
        ])
    };
    // A device on its claim has no thing yet, so it connects with a client id under the
    // provisioning prefix (never a device's, which the hook keeps out of that prefix); all it
    // can do then is ask for its own certificate and run this template.
    let prefix = cx.aws.provisioning.claim_client_id_prefix.clone();
    let stmts = vec![
        Stmt::allow(
            "ConnectForProvisioning",
            &["iot:Connect"],
            vec![tpl([rf("local.iot_arn"), t(format!(":client/{prefix}*"))])],
        ),
        Stmt::allow(
            "CreateCertificateAndProvision",
            &["iot:Publish", "iot:Receive"],
            vec![create("topic"), template("topic", "/provision/*")],
        ),
        Stmt::allow(
            "SubscribeToProvisioningReplies",
            &["iot:Subscribe"],
            vec![
                create("topicfilter"),
                template("topicfilter", "/provision/*"),
            ],
        ),
    ];
    let policy_name = format!("{}-claim", cx.prefix());
    let f = cx.tf(FILE, PURPOSE);
    f.push(super::iam::document("claim_policy", stmts));
    f.comment("The shared claim certificate may only ask for a certificate and run this template; nothing else.");
    f.push(
        tf::resource("aws_iot_policy", "claim")
            .attr("name", lit(&policy_name))
            .attr(
                "policy",
                r("data.aws_iam_policy_document.claim_policy.json"),
            )
            .build(),
    );
    f.push(
        tf::block("locals")
            .attr(
                "claim_certificate_path",
                tf::cond(
                    Expression::from(hcl::expr::BinaryOp::new(
                        r("var.claim_certificate_file"),
                        hcl::expr::BinaryOperator::Eq,
                        tf::null(),
                    )),
                    tf::null(),
                    spec_path("claim_certificate_file"),
                ),
            )
            .build(),
    );
    f.comment("The claim certificate is registered without its CA and without its key (RegisterCertificateWithoutCA).");
    f.push(
        tf::resource("aws_iot_certificate", "claim")
            .attr(
                "count",
                tf::cond(
                    Expression::from(hcl::expr::BinaryOp::new(
                        r("var.claim_certificate_file"),
                        hcl::expr::BinaryOperator::Eq,
                        tf::null(),
                    )),
                    tf::num(0),
                    tf::num(1),
                ),
            )
            .attr(
                "certificate_pem",
                tf::call("file", [r("local.claim_certificate_path")]),
            )
            .attr("active", tf::boolean(true))
            .build(),
    );
    f.push(
        tf::resource("aws_iot_policy_attachment", "claim")
            .attr(
                "count",
                tf::call("length", [r("aws_iot_certificate.claim")]),
            )
            .attr("policy", r("aws_iot_policy.claim.name"))
            .attr("target", r("aws_iot_certificate.claim.0.arn"))
            .build(),
    );
    cx.fact("claim_policy", &policy_name);
    cx.out(
        "claim_policy_name",
        "IoT policy of the claim certificate (provisioning topics only).",
        r("aws_iot_policy.claim.name"),
    );
    cx.out(
        "claim_certificate_id",
        "Id of the registered claim certificate (null until claim_certificate_file is set).",
        tf::call(
            "one",
            [super::hcl::splat("aws_iot_certificate.claim", "id")],
        ),
    );
}

fn installer_policy(cx: &mut Ctx) {
    let f = cx.tf(FILE, PURPOSE);
    f.push(super::iam::document(
        "installer",
        vec![Stmt::allow(
            "CreateProvisioningClaim",
            &["iot:CreateProvisioningClaim"],
            vec![r("aws_iot_provisioning_template.fleet.arn")],
        )],
    ));
    f.comment("Attach to the identity of the installer app (for example the authenticated role of its identity pool).");
    f.push(
        tf::resource("aws_iam_policy", "installer")
            .attr("name", named("provisioning-installer"))
            .attr(
                "description",
                lit("Lets a trusted installer app request temporary provisioning claims for this fleet"),
            )
            .attr("policy", r("data.aws_iam_policy_document.installer.json"))
            .build(),
    );
    cx.out(
        "installer_policy_arn",
        "IAM policy to attach to the installer app's identity (iot:CreateProvisioningClaim on the template).",
        r("aws_iam_policy.installer.arn"),
    );
}
