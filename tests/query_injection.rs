//! Conditions reach three query languages; each must read back exactly what the spec says.
//!
//! A condition is parsed once and rendered per dialect, so the question per language is how
//! it reads a string literal and where a comment ends:
//!
//! - Azure IoT Hub routing queries escape with a backslash: `\'`, `\"`, `\\`, `\uXXXX` (the IoT
//!   Hub query language reference, "Expressions and conditions"); a doubled quote is not an
//!   escape there.
//! - Stream Analytics is T-SQL-like: a quote is doubled, a backslash is a plain character, and
//!   a `--` comment runs to the end of its line; the query copies each condition into such a
//!   comment, so a line break there would turn the rest of the condition into query text.
//! - AWS IoT SQL documents no escape inside strings at all: fleetform doubles quotes (SQL)
//!   and refuses a backslash, whose meaning AWS leaves open, when the spec targets AWS.
//!
//! Each test tokenizes the generated query by the target language's rules and compares the
//! string literals with the spec's, or checks the diagnostic that refuses the input.

mod common;

use std::path::Path;

use fleetform::validate::{NoFiles, validate};

/// The string literals of `query`, read by a language's rules (see `invariants`).
fn strings(query: &str, doubled: bool, backslash: bool) -> Result<Vec<String>, String> {
    fleetform::invariants::query_strings(query, doubled, backslash)
        .ok_or_else(|| format!("unreadable strings in {query:?}"))
}

/// Texts of the string literals the conditions below hold, in order.
const TEXTS: [&str; 4] = [
    "it's",
    "a' OR true OR $body.x = '",
    "say \"hi\"",
    "-- not a comment */ /* [x]",
];

/// A condition comparing one field with each of [`TEXTS`], in the spec's own syntax.
fn condition() -> String {
    TEXTS
        .iter()
        .enumerate()
        .map(|(i, t)| format!("f{i} = '{}'", t.replace('\'', "''")))
        .collect::<Vec<_>>()
        .join(" or\n  ")
}

fn yq(s: &str) -> String {
    serde_json::to_string(s).unwrap()
}

fn azure_spec(engine: &str, condition: &str) -> String {
    format!(
        "version: 1\nstack: {{name: quotes, environment: test}}\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-quotes\n    alert_engine: {engine}\nfleet:\n  devices: 100\npipeline:\n  routes:\n    - name: picked\n      condition: {c}\n      to: [stream]\n  alerts:\n    - name: weird\n      condition: {c}\nmonitoring:\n  notify:\n    email: [ops@example.com]\n",
        c = yq(condition)
    )
}

fn aws_spec(condition: &str) -> String {
    format!(
        "version: 1\nstack: {{name: quotes, environment: test}}\nclouds:\n  aws:\n    region: eu-west-1\nfleet:\n  devices: 100\npipeline:\n  routes:\n    - name: picked\n      condition: {c}\n      to: [stream]\n  alerts:\n    - name: weird\n      condition: {c}\nmonitoring:\n  notify:\n    email: [ops@example.com]\n",
        c = yq(condition)
    )
}

fn file(r: &fleetform::emit::Rendered, path: &str) -> String {
    String::from_utf8(r.files[path].bytes.clone()).unwrap()
}

/// The string value of `attr` in every `resource "ty" ...` block of an HCL file.
fn attrs(hcl_text: &str, ty: &str, attr: &str) -> Vec<String> {
    let body = hcl::parse(hcl_text).unwrap();
    body.blocks()
        .filter(|b| b.identifier() == "resource" && b.labels()[0].as_str() == ty)
        .filter_map(|b| {
            b.body()
                .attributes()
                .find(|a| a.key() == attr)
                .map(|a| match a.expr() {
                    hcl::Expression::String(s) => s.clone(),
                    other => panic!("{ty}.{attr} is not a literal: {other:?}"),
                })
        })
        .collect()
}

#[test]
fn iot_hub_routes_read_the_strings_back_by_iot_hub_rules() {
    let r = common::build_text(
        "fleet.yaml",
        &azure_spec("function", &condition()),
        Path::new("."),
    );
    let conditions = attrs(
        &file(&r, "azure/routing.tf"),
        "azurerm_iothub_route",
        "condition",
    );
    assert_eq!(conditions.len(), 2, "the route and the alert route");
    for c in conditions {
        assert_eq!(
            strings(&c, false, true).as_deref(),
            Ok(&TEXTS.map(str::to_owned)[..]),
            "{c}"
        );
    }
}

#[test]
fn a_backslash_reaches_iot_hub_escaped() {
    let text = "f = 'C:\\dir\\' or g = 'x'";
    let r = common::build_text("fleet.yaml", &azure_spec("function", text), Path::new("."));
    for c in attrs(
        &file(&r, "azure/routing.tf"),
        "azurerm_iothub_route",
        "condition",
    ) {
        assert_eq!(strings(&c, false, true).unwrap(), ["C:\\dir\\", "x"], "{c}");
    }
}

/// Every line of the Stream Analytics query is a comment, blank, or a line of the statement
/// the template writes; the condition text is in one comment line.
#[test]
fn the_stream_analytics_query_keeps_conditions_in_their_comment() {
    let r = common::build_text(
        "fleet.yaml",
        &azure_spec("stream_analytics", &condition()),
        Path::new("."),
    );
    let query = file(&r, "azure/stream-analytics/alerts.asaql");
    let lines: Vec<&str> = query.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with("-- weird:"))
        .expect("the alert's comment");
    let statement: Vec<&str> = lines[at + 1..].iter().map(|l| l.trim()).collect();
    let where_at = statement
        .iter()
        .position(|l| *l == "WHERE")
        .expect("the statement's WHERE");
    assert_eq!(
        &statement[..=where_at],
        [
            "SELECT",
            "*,",
            "'weird' AS alert,",
            "GetMetadataPropertyValue([telemetry], '[EventHub].[IoTConnectionDeviceId]') AS connectionDeviceId",
            "INTO",
            "[alert-weird]",
            "FROM",
            "[telemetry]",
            "WHERE"
        ],
        "the comment ends at its line: {query}"
    );
    let where_clause = statement[where_at + 1];
    assert_eq!(
        strings(where_clause, true, false).as_deref(),
        Ok(&TEXTS.map(str::to_owned)[..]),
        "{where_clause}"
    );
    for l in &lines {
        assert!(
            l.is_empty() || l.starts_with("--") || statement.contains(&l.trim()),
            "a line outside the statement and its comment: {l:?}\n{query}"
        );
    }
}

#[test]
fn aws_rules_read_the_strings_back_by_sql_rules() {
    let r = common::build_text("fleet.yaml", &aws_spec(&condition()), Path::new("."));
    let mut sqls = Vec::new();
    for (path, f) in &r.files {
        if path.starts_with("aws/") && path.ends_with(".tf") {
            sqls.extend(attrs(
                &String::from_utf8(f.bytes.clone()).unwrap(),
                "aws_iot_topic_rule",
                "sql",
            ));
        }
    }
    let with_where: Vec<&String> = sqls.iter().filter(|s| s.contains(" WHERE ")).collect();
    assert_eq!(with_where.len(), 2, "{sqls:?}");
    for sql in with_where {
        let found = strings(sql, true, false).unwrap();
        // The first literal is the topic filter of `FROM '...'`.
        assert_eq!(&found[1..], &TEXTS.map(str::to_owned)[..], "{sql}");
    }
}

fn diagnostics(spec: &str) -> Vec<(String, String, usize, usize)> {
    let outcome = validate("fleet.yaml", spec, &NoFiles);
    let json: serde_json::Value = serde_json::from_str(&fleetform::diagnostics::render_json(
        &outcome.diagnostics,
        &outcome.sources,
    ))
    .unwrap();
    json["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["severity"] == "error")
        .map(|d| {
            (
                d["code"].as_str().unwrap().to_owned(),
                d["message"].as_str().unwrap().to_owned(),
                d["line"].as_u64().unwrap() as usize,
                d["column"].as_u64().unwrap() as usize,
            )
        })
        .collect()
}

#[test]
fn aws_refuses_a_backslash_in_a_string_at_its_column() {
    let spec = aws_spec("f = 'a\\' or g = 'x'").replace(
        "\n  alerts:\n    - name: weird\n      condition: \"f = 'a\\\\' or g = 'x'\"",
        "",
    );
    let found = diagnostics(&spec);
    assert_eq!(found.len(), 1, "{found:?}");
    let (code, message, line, column) = &found[0];
    assert_eq!(code, "bad-condition");
    assert!(message.contains("backslash"), "{message}");
    let spec_line = spec.lines().nth(line - 1).unwrap();
    assert_eq!(
        spec_line.chars().nth(column - 1),
        Some('\\'),
        "points at the backslash: {spec_line} col {column}"
    );
}

#[test]
fn strings_may_not_hold_line_separators_or_bidi_controls() {
    for bad in ['\u{2028}', '\u{2029}', '\u{202e}', '\u{2066}'] {
        let spec = azure_spec("stream_analytics", &format!("f = 'a{bad}b'"));
        let found = diagnostics(&spec);
        assert!(
            !found.is_empty() && found.iter().all(|(code, ..)| code == "bad-condition"),
            "U+{:04X}: {found:?}",
            bad as u32
        );
    }
}
