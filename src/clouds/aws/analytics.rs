//! Analytics over the archive: a Glue catalog and an Athena workgroup, no crawler.
//!
//! Firehose writes `raw/yyyy/MM/dd/<device_id>/`, so the tables use partition projection:
//! Athena computes partitions from the table properties instead of asking a crawler or the
//! catalog, and data is queryable the moment it lands. `telemetry` projects the day (and
//! reads every device below it); for fleets partitioned by device, `telemetry_by_device` also projects the device as an
//! injected key, for cheap per-device queries that name their devices. Columns are the fields
//! the spec's conditions use, typed from their literals; add more with one line each.

use super::Ctx;
use super::hcl::{BlockExt, named, rf, t, tpl};
use super::storage::{self, Bucket};
use crate::model::condition::{Expr, Literal};
use crate::plan::tf::{self, lit, r};

const FILE: &str = "analytics.tf";
const PURPOSE: &str =
    "Analytics: Glue tables with partition projection over the archive, and an Athena workgroup.";

/// Collects `(column, type)` from the top-level fields a condition reads.
fn columns(e: &Expr, out: &mut Vec<(String, &'static str)>) {
    match e {
        Expr::Or(a, b) | Expr::And(a, b) => {
            columns(a, out);
            columns(b, out);
        }
        Expr::Not(a) => columns(a, out),
        Expr::Compare { field, value, .. } => {
            if let [name] = field.0.as_slice() {
                let ty = match value {
                    Literal::Number(_) => "double",
                    Literal::Text(_) => "string",
                    Literal::Bool(_) => "boolean",
                };
                out.push((name.to_lowercase(), ty));
            }
        }
        Expr::Truthy(field) => {
            if let [name] = field.0.as_slice() {
                out.push((name.to_lowercase(), "boolean"));
            }
        }
        Expr::Bool(_) => {}
    }
}

pub(super) fn plan(cx: &mut Ctx) {
    if !cx.flags.analytics {
        return;
    }
    let m = cx.m;
    let mut cols: Vec<(String, &'static str)> = vec![("received_at".to_owned(), "bigint")];
    for c in m
        .routes
        .iter()
        .filter_map(|r| r.condition.as_ref())
        .chain(m.alerts.iter().map(|a| &a.condition))
    {
        columns(c, &mut cols);
    }
    let mut seen = std::collections::BTreeSet::new();
    cols.retain(|(name, _)| {
        !matches!(name.as_str(), "device_id" | "day") && seen.insert(name.clone())
    });
    let database = format!("{}_telemetry", cx.prefix_underscored());
    storage::bucket(
        cx,
        Bucket {
            label: "athena_results",
            name: cx.bucket_name("athena-results"),
            file: FILE,
            purpose: PURPOSE,
            cmk: Ok(()),
            versioning: Ok(()),
            access_logs: true,
            lifecycle: vec![
                tf::block("rule")
                    .attr("id", lit("expire-query-results"))
                    .attr("status", lit("Enabled"))
                    .child(super::hcl::all_objects())
                    .child(tf::block("expiration").attr("days", tf::num(30)).build())
                    .child(
                        tf::block("noncurrent_version_expiration")
                            .attr("noncurrent_days", tf::num(1))
                            .build(),
                    )
                    .build(),
            ],
            policy: Vec::new(),
            lifecycle_note: Some("Query results are disposable: kept 30 days."),
        },
    );
    let by_device_tables = cx.flags.partition_by_device;
    let f = cx.tf(FILE, PURPOSE);
    f.push(
        tf::resource("aws_glue_catalog_database", "telemetry")
            .attr("name", lit(&database))
            .attr("description", lit("Device telemetry archived by Firehose"))
            .build(),
    );
    let tables: &[(&str, bool)] = if by_device_tables {
        &[("telemetry", false), ("telemetry_by_device", true)]
    } else {
        &[("telemetry", false)]
    };
    for &(label, by_device) in tables {
        let template = if by_device {
            tpl([
                t("s3://"),
                rf("aws_s3_bucket.archive.bucket"),
                t("/raw/${day}/${device_id}/"),
            ])
        } else {
            tpl([
                t("s3://"),
                rf("aws_s3_bucket.archive.bucket"),
                t("/raw/${day}/"),
            ])
        };
        let mut params = vec![
            ("classification", lit("json")),
            ("compressionType", lit("gzip")),
            ("EXTERNAL", lit("TRUE")),
            ("projection.enabled", lit("true")),
            ("projection.day.type", lit("date")),
            ("projection.day.format", lit("yyyy/MM/dd")),
            ("projection.day.range", lit("NOW-10YEARS,NOW")),
            ("projection.day.interval", lit("1")),
            ("projection.day.interval.unit", lit("DAYS")),
        ];
        if by_device {
            params.push(("projection.device_id.type", lit("injected")));
        }
        params.push(("storage.location.template", template));
        f.push(
            tf::resource("aws_glue_catalog_table", label)
                .when(by_device, |b| {
                    b.note("Queries must name their devices: WHERE device_id = '...' (or IN (...)).")
                })
                .when(!by_device, |b| {
                    b.note("Every device of a day: filter on day (yyyy/MM/dd) to scan only those days.")
                })
                .attr("name", lit(label))
                .attr("database_name", r("aws_glue_catalog_database.telemetry.name"))
                .attr("table_type", lit("EXTERNAL_TABLE"))
                .attr("parameters", tf::obj(params))
                .child(
                    tf::block("partition_keys")
                        .attr("name", lit("day"))
                        .attr("type", lit("string"))
                        .build(),
                )
                .when(by_device, |b| {
                    b.child(
                        tf::block("partition_keys")
                            .attr("name", lit("device_id"))
                            .attr("type", lit("string"))
                            .build(),
                    )
                })
                .child(
                    tf::block("storage_descriptor")
                        .attr(
                            "location",
                            tpl([t("s3://"), rf("aws_s3_bucket.archive.bucket"), t("/raw/")]),
                        )
                        .attr("input_format", lit("org.apache.hadoop.mapred.TextInputFormat"))
                        .attr(
                            "output_format",
                            lit("org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"),
                        )
                        .child(
                            tf::block("ser_de_info")
                                .attr("serialization_library", lit("org.openx.data.jsonserde.JsonSerDe"))
                                .attr(
                                    "parameters",
                                    tf::obj([("ignore.malformed.json", lit("true"))]),
                                )
                                .build(),
                        )
                        .when(!by_device, |b| {
                            b.child(
                                tf::block("columns")
                                    .attr("name", lit("device_id"))
                                    .attr("type", lit("string"))
                                    .build(),
                            )
                        })
                        .each(&cols, |b, (name, ty)| {
                            b.child(
                                tf::block("columns")
                                    .attr("name", lit(name))
                                    .attr("type", lit(*ty))
                                    .build(),
                            )
                        })
                        .build(),
                )
                .build(),
        );
    }
    f.push(
        tf::resource("aws_athena_workgroup", "analytics")
            .attr("name", named("analytics"))
            .attr(
                "description",
                lit("Queries over the fleet's telemetry archive"),
            )
            .child(
                tf::block("configuration")
                    .attr("enforce_workgroup_configuration", tf::boolean(true))
                    .attr("publish_cloudwatch_metrics_enabled", tf::boolean(true))
                    .note("Stops runaway scans at 10 GiB per query.")
                    .attr(
                        "bytes_scanned_cutoff_per_query",
                        tf::num(10_737_418_240_u64),
                    )
                    .child(
                        tf::block("result_configuration")
                            .attr(
                                "output_location",
                                tpl([
                                    t("s3://"),
                                    rf("aws_s3_bucket.athena_results.bucket"),
                                    t("/results/"),
                                ]),
                            )
                            .child(
                                tf::block("encryption_configuration")
                                    .attr("encryption_option", lit("SSE_KMS"))
                                    .attr("kms_key_arn", r("aws_kms_key.fleet.arn"))
                                    .build(),
                            )
                            .build(),
                    )
                    .build(),
            )
            .build(),
    );
    cx.fact(
        "analytics",
        serde_json::json!({
            "database": database,
            "columns": cols.iter().map(|(n, t)| format!("{n} {t}")).collect::<Vec<_>>(),
        }),
    );
    cx.out(
        "athena_workgroup",
        "Athena workgroup for queries over the archive (results encrypted, 10 GiB scan limit).",
        r("aws_athena_workgroup.analytics.name"),
    );
    cx.out(
        "glue_database",
        "Glue database with the telemetry tables.",
        r("aws_glue_catalog_database.telemetry.name"),
    );
}
