//! The stack's customer-managed KMS key and its policy: the account administers it through
//! IAM, and each service that encrypts with it (CloudWatch Logs, S3 access logging, alarms and
//! budgets publishing to the encrypted topic) gets only the grants it needs.

use super::Ctx;
use super::hcl::{self, BlockExt};
use super::iam::{self, Stmt};
use crate::plan::tf::{self, lit, r};

/// The stack's customer-managed key: logs, SNS, SQS, DynamoDB, Kinesis, Firehose and, when
/// the spec asks for it, the archive.
pub(super) fn kms(cx: &mut Ctx) {
    let flags = cx.flags;
    let region_logs = hcl::tpl([
        hcl::t("logs."),
        hcl::rf("var.region"),
        hcl::t(".amazonaws.com"),
    ]);
    let mut stmts = vec![
        Stmt::allow(
            "AccountAdministersKeyThroughIam",
            &["kms:*"],
            vec![lit("*")],
        )
        .principal(
            "AWS",
            vec![hcl::tpl([
                hcl::rf("local.arn_prefix"),
                hcl::t("iam::"),
                hcl::rf("local.account_id"),
                hcl::t(":root"),
            ])],
        ),
        Stmt::allow(
            "CloudWatchLogsEncryptsThisStacksLogs",
            &[
                "kms:Encrypt*",
                "kms:Decrypt*",
                "kms:ReEncrypt*",
                "kms:GenerateDataKey*",
                "kms:Describe*",
            ],
            vec![lit("*")],
        )
        .principal("Service", vec![region_logs])
        .cond(
            "ArnLike",
            "kms:EncryptionContext:aws:logs:arn",
            vec![hcl::tpl([
                hcl::rf("local.arn_prefix"),
                hcl::t("logs:"),
                hcl::rf("var.region"),
                hcl::t(":"),
                hcl::rf("local.account_id"),
                hcl::t(":log-group:*"),
            ])],
        ),
        iam::same_account(
            Stmt::allow(
                "S3ServerAccessLogDelivery",
                &["kms:GenerateDataKey*", "kms:Decrypt"],
                vec![lit("*")],
            )
            .principal("Service", iam::service("logging.s3.amazonaws.com")),
        ),
    ];
    if flags.sns {
        stmts.push(iam::same_account(
            Stmt::allow(
                "AlarmsAndBudgetsPublishToEncryptedTopic",
                &["kms:GenerateDataKey*", "kms:Decrypt"],
                vec![lit("*")],
            )
            .principal(
                "Service",
                vec![
                    lit("cloudwatch.amazonaws.com"),
                    lit("budgets.amazonaws.com"),
                ],
            ),
        ));
    }
    let f = cx.tf(
        "kms.tf",
        "The stack's customer-managed KMS key (rotated yearly) and its policy.",
    );
    f.comment("Key policy: the account administers the key through IAM; services get only the grants they need.");
    f.comment("In a key policy, Resource \"*\" means this key.");
    f.push(iam::document_with_skips(
        "kms_key",
        stmts,
        &[
            ("CKV_AWS_109", "key policy: Resource \"*\" is this key, and the account root must administer it or the key becomes unmanageable"),
            ("CKV_AWS_111", "key policy: Resource \"*\" is this key; write actions go to the account root and named services only"),
            ("CKV_AWS_356", "key policy: Resource \"*\" is this key, not every resource"),
        ],
    ));
    f.push(
        tf::resource("aws_kms_key", "fleet")
            .attr(
                "description",
                hcl::tpl([
                    hcl::t("Encrypts data of the "),
                    hcl::rf("local.name_prefix"),
                    hcl::t(" IoT fleet"),
                ]),
            )
            .attr("enable_key_rotation", tf::boolean(true))
            .attr("deletion_window_in_days", tf::num(30))
            .attr("policy", r("data.aws_iam_policy_document.kms_key.json"))
            .build(),
    );
    f.push(
        tf::resource("aws_kms_alias", "fleet")
            .attr(
                "name",
                hcl::tpl([hcl::t("alias/"), hcl::rf("local.name_prefix")]),
            )
            .attr("target_key_id", r("aws_kms_key.fleet.key_id"))
            .build(),
    );
}
