//! Provisioning: how a device's certificate becomes a thing with the device policy.
//!
//! Every method of `aws.provisioning.method` is planned here: CA registration (DEFAULT mode
//! with a verification certificate, or SNI_ONLY), JITP (a template on the CA), JITR (an
//! activator Lambda behind a rule on the CA's registration events) and manual registration
//! from the registry. Fleet provisioning (by claim or by trusted user) is in
//! [`super::fleet`], which shares the helpers here. Certificates enter Terraform
//! only as public PEM files named by variables; private keys never do.
//!
//! Paths: the spec names files relative to itself, but Terraform resolves relative paths
//! against the folder it runs in (the module, `<out>/aws`). The module therefore takes the
//! spec-relative path and a `spec_dir` variable (default `../..`, where `fleetform build
//! fleet.yaml --out DIR` puts the spec relative to `DIR/aws`) and joins them; an absolute
//! path is used as it is. Files are read only through variables, never through a literal
//! path that `terraform validate` would have to find.
//!
//! A little over 600 lines: the CA registration (about 180 lines, both modes and the
//! verification certificate) and one function per method it serves (JITP, JITR, manual), with
//! the file-reading variables they share; fleet provisioning's template is in `fleet.rs`.

use hcl::Expression;

use super::Ctx;
use super::functions::{self, Function};
use super::hcl::{BlockExt, Seg, module_path, rf, t, tpl};
use super::iam::{Role, Stmt};
use crate::blueprint;
use crate::certs::layout;
use crate::model::{AwsProvisioningMethod, CertificateMode};
use crate::plan::PlanError;
use crate::plan::tf::{self, lit, r};

pub(super) const FILE: &str = "provisioning.tf";
pub(super) const PURPOSE: &str = "Provisioning: how device certificates become things (CA registration, templates, claim policy).";

pub(super) fn plan(cx: &mut Ctx) -> Result<(), PlanError> {
    let method = cx.aws.provisioning.method;
    cx.fact("method", method_key(method));
    // What names a new thing's type, which the README tells the factory to set: the
    // certificate's dnQualifier (JITP, JITR) or the allow list's `device_type` (fleet
    // provisioning); empty when the template names it.
    let typed_by = match (new_thing_type(cx), method) {
        (NewThingType::Named { .. }, AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr) => {
            "certificate"
        }
        (NewThingType::Named { .. }, _) => "allow_list",
        _ => "",
    };
    cx.fact("typed_by", typed_by);
    cx.fact(
        "device_types",
        cx.m.fleet
            .device_types
            .iter()
            .map(|t| &t.name)
            .collect::<Vec<_>>(),
    );
    if cx.flags.ca {
        ca(cx)?;
    }
    match method {
        AwsProvisioningMethod::Jitp => {}
        AwsProvisioningMethod::Jitr => jitr(cx)?,
        AwsProvisioningMethod::FleetByClaim | AwsProvisioningMethod::TrustedUser => {
            super::fleet::plan(cx)?;
        }
        AwsProvisioningMethod::Manual => manual(cx),
    }
    Ok(())
}

fn method_key(method: AwsProvisioningMethod) -> &'static str {
    match method {
        AwsProvisioningMethod::Manual => "manual",
        AwsProvisioningMethod::Jitp => "jitp",
        AwsProvisioningMethod::Jitr => "jitr",
        AwsProvisioningMethod::FleetByClaim => "fleet_by_claim",
        AwsProvisioningMethod::TrustedUser => "trusted_user",
    }
}

/// `startswith(var.X, "/") ? var.X : "${path.module}/${var.spec_dir}/${var.X}"`.
pub(super) fn spec_path(var: &str) -> Expression {
    let v = format!("var.{var}");
    tf::cond(
        tf::call("startswith", [r(&v), lit("/")]),
        r(&v),
        tpl([
            rf("path.module"),
            t("/"),
            rf("var.spec_dir"),
            t("/"),
            rf(&v),
        ]),
    )
}

/// The `spec_dir` input, once.
pub(super) fn spec_dir(cx: &mut Ctx) {
    if cx.facts_has("spec_dir") {
        return;
    }
    let spec_dir = cx.m.spec_dir_from_module();
    cx.fact("spec_dir", &spec_dir);
    cx.var(
        "spec_dir",
        "string",
        "Folder of the fleet spec, relative to this module. Spec-relative paths (certificates) are resolved from it; `fleetform build fleet.yaml --out DIR` puts this module in DIR/aws, two levels below the spec's folder.",
        Some(lit(spec_dir)),
        Vec::new(),
    );
}

pub(super) fn pem_validation(var: &str, optional: bool) -> tf::Validation {
    let v = r(&format!("var.{var}"));
    // Terraform's `||` does not short-circuit, so a null path is checked through coalesce.
    let path = if optional {
        tf::call("coalesce", [v, lit("unset.pem")])
    } else {
        v
    };
    tf::validation(
        tf::call("endswith", [path, lit(".pem")]),
        "Give the path of a PEM file (ending in .pem).",
        lit("certs/certificate.der"),
    )
}

pub(super) fn provisioning_role(cx: &mut Ctx) {
    let f = cx.tf(FILE, PURPOSE);
    f.comment("AWS IoT assumes this role to create things and attach certificates and policies while provisioning.");
    Role {
        label: "provisioning",
        name: super::hcl::named("iot-provisioning"),
        description: "Lets AWS IoT provision things from this stack's provisioning templates.",
        service: "iot.amazonaws.com",
        source_account: true,
        statements: Vec::new(),
        max_session_seconds: None,
        managed: vec!["service-role/AWSIoTThingsRegistration"],
    }
    .write(f);
}

fn ca(cx: &mut Ctx) -> Result<(), PlanError> {
    spec_dir(cx);
    let method = cx.aws.provisioning.method;
    let verified = cx.aws.provisioning.certificate_mode == CertificateMode::Default;
    let ca_file = cx.m.identity.ca_certificate_file.clone();
    cx.fact("ca_certificate_file", &ca_file);
    cx.fact("ca_mode", if verified { "DEFAULT" } else { "SNI_ONLY" });
    cx.var(
        "ca_certificate_file",
        "string",
        "PEM of the CA that signs device certificates, relative to the spec's folder (see spec_dir) or absolute. Only the public certificate: the CA key never leaves the machine that signs.",
        Some(lit(&ca_file)),
        vec![pem_validation("ca_certificate_file", false)],
    );
    if verified {
        cx.var(
            "verification_certificate_file",
            "string",
            "PEM of the verification certificate that proves possession of the CA key (CN = the registration code). Leave unset on the first apply, then run `fleetform certs verify-aws --registration-code $(terraform output -raw registration_code)` and apply again with this path.",
            Some(tf::null()),
            vec![pem_validation("verification_certificate_file", true)],
        );
    }
    let jitp = method == AwsProvisioningMethod::Jitp;
    if jitp {
        provisioning_role(cx);
        let body = blueprint::render("aws/provisioning/jitp-template.json.j2", jitp_context(cx))?;
        cx.text(
            "provisioning/jitp-template.json",
            "JITP provisioning template, attached to the CA: thing from the certificate subject, device policy.",
            body,
        );
    }
    let mut locals =
        tf::block("locals").attr("ca_certificate_path", spec_path("ca_certificate_file"));
    if verified {
        locals = locals
            .attr(
                "verification_certificate_path",
                tf::cond(
                    Expression::from(hcl::expr::BinaryOp::new(
                        r("var.verification_certificate_file"),
                        hcl::expr::BinaryOperator::Eq,
                        tf::null(),
                    )),
                    tf::null(),
                    spec_path("verification_certificate_file"),
                ),
            )
            .note("DEFAULT mode needs the verification certificate, which needs the registration code: register on the second apply.")
            .attr(
                "register_ca",
                Expression::from(hcl::expr::BinaryOp::new(
                    r("var.verification_certificate_file"),
                    hcl::expr::BinaryOperator::NotEq,
                    tf::null(),
                )),
            );
    } else {
        locals = locals
            .note("SNI_ONLY mode needs no verification certificate; devices must send SNI (every current AWS IoT SDK does).")
            .attr("register_ca", tf::boolean(true));
        // The CA is read while planning: the tests plan with a stand-in certificate.
        cx.intent.fixture_ca("ca_certificate_file", None);
    }
    cx.intent.assert(
        "clouds.aws.provisioning",
        format!(
            "the fleet CA registered in {} mode{}",
            if verified { "DEFAULT" } else { "SNI_ONLY" },
            if matches!(
                method,
                AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr
            ) {
                " with auto-registration"
            } else {
                ", without auto-registration"
            }
        ),
        crate::plan::intent::all_in(
            "ca",
            r("aws_iot_ca_certificate.fleet"),
            super::intent::eq_all([
                (
                    r("ca.certificate_mode"),
                    lit(if verified { "DEFAULT" } else { "SNI_ONLY" }),
                ),
                (
                    r("ca.allow_auto_registration"),
                    tf::boolean(matches!(
                        method,
                        AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr
                    )),
                ),
                (r("ca.active"), tf::boolean(true)),
            ]),
        ),
    );
    let f = cx.tf(FILE, PURPOSE);
    f.push(locals.build());
    if verified {
        f.push(tf::data("aws_iot_registration_code", "this").build());
    }
    f.push(
        tf::resource("aws_iot_ca_certificate", "fleet")
            .attr("count", tf::cond(r("local.register_ca"), tf::num(1), tf::num(0)))
            .attr("active", tf::boolean(true))
            .note(match method {
                AwsProvisioningMethod::Jitp => "Auto-registration lets a device's first connection run the JITP template.",
                AwsProvisioningMethod::Jitr => "Auto-registration registers new certificates PENDING_ACTIVATION for the activator.",
                _ => "Certificates are registered by Terraform, so auto-registration stays off.",
            })
            .attr(
                "allow_auto_registration",
                tf::boolean(matches!(method, AwsProvisioningMethod::Jitp | AwsProvisioningMethod::Jitr)),
            )
            .attr("ca_certificate_pem", tf::call("file", [r("local.ca_certificate_path")]))
            .attr("certificate_mode", lit(if verified { "DEFAULT" } else { "SNI_ONLY" }))
            .when(verified, |b| {
                b.attr(
                    "verification_certificate_pem",
                    tf::call("file", [r("local.verification_certificate_path")]),
                )
            })
            .when(jitp, |b| {
                b.child(
                    tf::block("registration_config")
                        .attr(
                            "template_body",
                            tf::call("file", [module_path("provisioning/jitp-template.json")]),
                        )
                        .attr("role_arn", r("aws_iam_role.provisioning.arn"))
                        .build(),
                )
            })
            .when(jitp, |b| {
                b.attr(
                    "depends_on",
                    tf::list([r("aws_iam_role_policy_attachment.provisioning"), r("aws_iot_policy.device")]),
                )
            })
            .build(),
    );
    if verified {
        cx.out(
            "registration_code",
            "Registration code for the CA verification certificate (fleetform certs verify-aws --registration-code ...).",
            r("data.aws_iot_registration_code.this.registration_code"),
        );
    }
    cx.out(
        "ca_certificate_id",
        "Id of the registered fleet CA (null until it is registered).",
        tf::call(
            "one",
            [super::hcl::splat("aws_iot_ca_certificate.fleet", "id")],
        ),
    );
    if cx.aws.provisioning.method == AwsProvisioningMethod::Manual {
        // hashicorp/aws marks `ca_certificate_pem` sensitive, and Terraform refuses to plan
        // an output of a sensitive value that is not marked. The CA certificate is public
        // (the key never leaves the machine that signs), and registry shards read it through
        // remote state into a `for_each` condition, which a sensitive value cannot drive.
        cx.out(
            "ca_certificate_pem",
            "PEM of the registered fleet CA (null until it is registered); registry shard stacks register device certificates under it. A public certificate, so not marked sensitive.",
            tf::call(
                "nonsensitive",
                [tf::call(
                    "one",
                    [super::hcl::splat("aws_iot_ca_certificate.fleet", "ca_certificate_pem")],
                )],
            ),
        );
    }
    Ok(())
}

fn subject_fields(cx: &Ctx) -> Vec<(&'static str, &'static str)> {
    let s = &cx.m.identity.subject;
    let mut fields = Vec::new();
    if s.organization.is_some() {
        fields.push(("organization", "Organization"));
    }
    if s.organizational_unit.is_some() {
        fields.push(("organizational_unit", "OrganizationalUnit"));
    }
    if s.country.is_some() {
        fields.push(("country", "Country"));
    }
    if s.state.is_some() {
        fields.push(("state", "StateName"));
    }
    fields
}

/// The thing type a newly provisioned thing gets.
pub(super) enum NewThingType {
    /// The fleet has no device types.
    Untyped,
    /// The fleet's one type, by its AWS name.
    One(String),
    /// One of several, named by the device (its certificate's dnQualifier, or the `DeviceType`
    /// it provisions with): the AWS name is this prefix and the spec name.
    Named { prefix: String },
}

pub(super) fn new_thing_type(cx: &Ctx) -> NewThingType {
    let types = &cx.m.fleet.device_types;
    match types.as_slice() {
        [] => NewThingType::Untyped,
        [only] => NewThingType::One(cx.thing_type_name(&only.name)),
        all => {
            let prefix = format!("{}-", cx.prefix());
            // A name shortened with a hash (names::fit) cannot be joined from its parts.
            if all
                .iter()
                .all(|t| cx.thing_type_name(&t.name) == format!("{prefix}{}", t.name))
            {
                NewThingType::Named { prefix }
            } else {
                NewThingType::Untyped
            }
        }
    }
}

/// What every provisioning template (and the JITR activator) gives a new thing: its type,
/// named literally or joined from `type_parameter`, and its groups.
pub(super) fn new_thing(cx: &Ctx, type_parameter: &str) -> serde_json::Value {
    let (thing_type, type_prefix) = match new_thing_type(cx) {
        NewThingType::Untyped => (None, None),
        NewThingType::One(name) => (Some(name), None),
        NewThingType::Named { prefix } => (None, Some(prefix)),
    };
    serde_json::json!({
        "policy": format!("{}-device", cx.prefix()),
        "thing_type": thing_type,
        "type_prefix": type_prefix,
        "type_parameter": type_parameter,
        "types": cx.m.fleet.device_types.iter().map(|t| &t.name).collect::<Vec<_>>(),
        "thing_groups": super::ota::fleet_group(cx).into_iter().collect::<Vec<_>>(),
    })
}

/// The certificate field that names a device's type for JITP and JITR.
pub(super) const TYPE_FIELD: &str = "AWS::IoT::Certificate::DistinguishedNameQualifier";

fn jitp_context(cx: &Ctx) -> serde_json::Value {
    let mut context = new_thing(cx, TYPE_FIELD);
    context["attributes"] = subject_fields(cx)
        .into_iter()
        .map(|(attr, field)| serde_json::json!({"attribute": attr, "parameter": format!("AWS::IoT::Certificate::{field}")}))
        .collect();
    context
}

fn jitr(cx: &mut Ctx) -> Result<(), PlanError> {
    let rule = format!("{}_jitr_activator", cx.prefix_underscored());
    let thing_arn = tpl([rf("local.iot_arn"), t(":thing/*")]);
    let cert_arn = tpl([rf("local.iot_arn"), t(":cert/*")]);
    functions::function(
        cx,
        Function {
            label: "jitr_activator".to_owned(),
            name: "jitr-activator".to_owned(),
            file: FILE,
            file_purpose: PURPOSE,
            description: "JITR: checks certificates auto-registered by the fleet CA, creates their thing and activates them.".to_owned(),
            blueprint: "aws/functions/jitr_activator.py.j2",
            context: new_thing(cx, TYPE_FIELD),
            env: vec![
                ("DEVICE_POLICY", r("aws_iot_policy.device.name")),
                (
                    "CA_CERTIFICATE_ID",
                    tf::call(
                        "coalesce",
                        [tf::call("one", [super::hcl::splat("aws_iot_ca_certificate.fleet", "id")]), lit("unregistered")],
                    ),
                ),
            ],
            statements: vec![
                Stmt::allow(
                    "ReadAndActivateCertificates",
                    &["iot:DescribeCertificate", "iot:UpdateCertificate"],
                    vec![cert_arn.clone()],
                ),
                Stmt::allow(
                    "AttachDevicePolicy",
                    &["iot:AttachPolicy"],
                    vec![r("aws_iot_policy.device.arn"), cert_arn],
                ),
                Stmt::allow(
                    "CreateThings",
                    &["iot:CreateThing", "iot:DescribeThing", "iot:AttachThingPrincipal"],
                    vec![thing_arn.clone()],
                ),
            ]
            .into_iter()
            .chain(super::ota::fleet_group(cx).map(|group| {
                Stmt::allow(
                    "JoinFleetGroup",
                    &["iot:AddThingToThingGroup"],
                    vec![
                        tpl([rf("local.iot_arn"), t(format!(":thinggroup/{group}"))]),
                        thing_arn,
                    ],
                )
            }))
            .collect(),
            timeout: 30,
            concurrency: functions::Concurrency::Unreserved(
                "no reservation: registrations arrive at AWS IoT's registration rate, and a cap would leave certificates pending",
            ),
        },
    )?;
    let f = cx.tf(FILE, PURPOSE);
    f.comment("Certificates auto-registered by the fleet CA are announced on $aws/events/certificates/registered/<CA id>.");
    f.comment("The device's first connection fails while its certificate is PENDING_ACTIVATION: devices must retry.");
    f.push(
        tf::resource("aws_iot_topic_rule", "jitr")
            .attr(
                "count",
                tf::cond(r("local.register_ca"), tf::num(1), tf::num(0)),
            )
            .attr("name", lit(&rule))
            .attr(
                "description",
                lit("JITR: activate certificates that the fleet CA registered"),
            )
            .attr("enabled", tf::boolean(true))
            .attr(
                "sql",
                tpl([
                    t("SELECT * FROM '$aws/events/certificates/registered/"),
                    rf("aws_iot_ca_certificate.fleet.0.id"),
                    t("' WHERE certificateStatus = 'PENDING_ACTIVATION'"),
                ]),
            )
            .attr("sql_version", lit("2016-03-23"))
            .child(
                tf::block("lambda")
                    .attr("function_arn", r("aws_lambda_function.jitr_activator.arn"))
                    .build(),
            )
            .child(super::pipeline::error_action())
            .build(),
    );
    f.push(
        tf::resource("aws_lambda_permission", "jitr")
            .attr(
                "count",
                tf::cond(r("local.register_ca"), tf::num(1), tf::num(0)),
            )
            .attr("statement_id", lit("AllowIotJitrRule"))
            .attr("action", lit("lambda:InvokeFunction"))
            .attr(
                "function_name",
                r("aws_lambda_function.jitr_activator.function_name"),
            )
            .attr("principal", lit("iot.amazonaws.com"))
            .attr("source_arn", r("aws_iot_topic_rule.jitr.0.arn"))
            .attr("source_account", r("local.account_id"))
            .build(),
    );
    cx.fact("jitr_rule", &rule);
    Ok(())
}

fn manual(cx: &mut Ctx) {
    if cx.m.registry_shards > 0 {
        // The registry shard stacks register the certificates of their devices.
        return;
    }
    if super::bulk::registration(cx.m) == super::bulk::Registration::Bulk {
        // The bulk certificate task registers them (bulk.tf).
        return;
    }
    if cx.m.fleet.registry.is_empty() {
        cx.fact("manual_without_registry", true);
        return;
    }
    manual_certificates(
        cx,
        r("local.register_ca"),
        r("aws_iot_ca_certificate.fleet.0.ca_certificate_pem"),
        r("aws_iot_policy.device.name"),
    );
}

/// Device certificates registered from PEM files for every registry device whose file
/// exists, with the device policy and the thing attached. `enabled` says whether the CA is
/// registered yet; `ca_pem` and `policy` come from this stack or, in a shard, from the main
/// stack's outputs.
pub(super) fn manual_certificates(
    cx: &mut Ctx,
    enabled: Expression,
    ca_pem: Expression,
    policy: Expression,
) {
    spec_dir(cx);
    cx.var(
        "device_certificates_dir",
        "string",
        &format!("Folder of device certificates, one <thing name>/{cert} per device (public certificates only), relative to the spec's folder (see spec_dir) or absolute: what `fleetform certs device --id <thing name>` writes from the spec's folder. Each registered device whose certificate exists is registered and attached.", cert = layout::DEVICE_CERT),
        Some(lit(layout::DEVICES_DIR)),
        Vec::new(),
    );
    let each_pem = tpl([
        rf("local.device_certificates_path"),
        t("/"),
        rf("id"),
        t(format!("/{}", layout::DEVICE_CERT)),
    ]);
    let without_cert = Expression::ForExpr(Box::new(
        hcl::expr::ForExpr::new(tf::ident("device"), r("local.registry"), r("id"))
            .with_key_var(tf::ident("id"))
            .with_cond_expr(Expression::from(hcl::expr::UnaryOp::new(
                hcl::expr::UnaryOperator::Not,
                tf::call("fileexists", [each_pem.clone()]),
            ))),
    ));
    let with_cert = Expression::ForExpr(Box::new(
        hcl::expr::ForExpr::new(tf::ident("device"), r("local.registry"), r("device"))
            .with_key_var(tf::ident("id"))
            .with_key_expr(r("id"))
            .with_cond_expr(tf::call("fileexists", [each_pem])),
    ));
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::block("locals")
            .attr("device_certificates_path", spec_path("device_certificates_dir"))
            .note("Registered devices whose certificate file exists; the others are attached once it does.")
            .attr(
                "devices_with_certificates",
                tf::cond(enabled.clone(), with_cert, tf::obj::<&str>([])),
            )
            .attr("devices_without_certificates", without_cert)
            .build(),
    );
    let missing_count = tf::call("length", [r("local.devices_without_certificates")]);
    cx.var(
        "warn_missing_device_certificates",
        "bool",
        "Warn at plan while a registered device has no certificate file. The shipped tests turn it off: they plan without the devices' certificates.",
        Some(tf::boolean(true)),
        Vec::new(),
    );
    cx.intent
        .variable("warn_missing_device_certificates", tf::boolean(false));
    let f = cx.tf(FILE, PURPOSE);
    f.comment("Warns at plan (does not fail it) while a registered device has no certificate file: that device");
    f.comment("cannot connect until `fleetform certs device --id <thing name>` writes one and Terraform applies again.");
    f.push(
        tf::block("check")
            .add_label("device_certificates")
            .child(
                tf::block("assert")
                    .attr(
                        "condition",
                        Expression::from(hcl::expr::BinaryOp::new(
                            Expression::from(hcl::expr::BinaryOp::new(
                                Expression::from(hcl::expr::UnaryOp::new(
                                    hcl::expr::UnaryOperator::Not,
                                    r("var.warn_missing_device_certificates"),
                                )),
                                hcl::expr::BinaryOperator::Or,
                                Expression::from(hcl::expr::UnaryOp::new(
                                    hcl::expr::UnaryOperator::Not,
                                    // `enabled` may be a comparison: `!(a != null)`, not `!a != null`.
                                    Expression::Parenthesis(Box::new(enabled)),
                                )),
                            )),
                            hcl::expr::BinaryOperator::Or,
                            Expression::from(hcl::expr::BinaryOp::new(
                                missing_count.clone(),
                                hcl::expr::BinaryOperator::Eq,
                                tf::num(0),
                            )),
                        )),
                    )
                    .attr(
                        "error_message",
                        tpl([
                            Seg::Ref(missing_count.clone()),
                            t(" registered device(s) have no certificate under "),
                            rf("local.device_certificates_path"),
                            t(format!("/<thing name>/{}, so none is registered for them, for example: ", layout::DEVICE_CERT)),
                            Seg::Ref(tf::call(
                                "join",
                                [
                                    lit(", "),
                                    tf::call(
                                        "slice",
                                        [
                                            r("local.devices_without_certificates"),
                                            tf::num(0),
                                            tf::call("min", [tf::num(10), missing_count]),
                                        ],
                                    ),
                                ],
                            )),
                            t(". Run `fleetform certs device --id <thing name>` in the spec's folder, then apply again."),
                        ]),
                    )
                    .build(),
            )
            .build(),
    );
    f.push(
        tf::resource("aws_iot_certificate", "device")
            .attr("for_each", r("local.devices_with_certificates"))
            .attr(
                "certificate_pem",
                tf::call(
                    "file",
                    [tpl([
                        rf("local.device_certificates_path"),
                        t("/"),
                        rf("each.key"),
                        t(format!("/{}", layout::DEVICE_CERT)),
                    ])],
                ),
            )
            .attr("ca_pem", ca_pem)
            .attr("active", tf::boolean(true))
            .build(),
    );
    f.push(
        tf::resource("aws_iot_policy_attachment", "device")
            .attr("for_each", r("aws_iot_certificate.device"))
            .attr("policy", policy)
            .attr("target", r("each.value.arn"))
            .build(),
    );
    f.push(
        tf::resource("aws_iot_thing_principal_attachment", "device")
            .attr("for_each", r("aws_iot_certificate.device"))
            .attr(
                "thing",
                tf::r_index("aws_iot_thing.registry", r("each.key"), &["name"]),
            )
            .attr("principal", r("each.value.arn"))
            .build(),
    );
    cx.out(
        "registered_certificate_count",
        "Device certificates registered and attached so far.",
        tf::call("length", [r("aws_iot_certificate.device")]),
    );
}
