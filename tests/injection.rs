//! Spec text that looks like HCL, templates or comments stays text, on both clouds.
//!
//! One spec for AWS and Azure puts `${...}`, `%{ ... }`, `$${`, quotes, backslashes, `\n`,
//! `\r`, tabs, `*/`, `#`, `//`, Jinja markers, emoji, right-to-left text and combining marks
//! into every free-text field the schema accepts. The output is then *parsed*, not grepped:
//! every `.tf` goes through `hcl::parse`, the values are read back from the parsed bodies
//! (tags, descriptions, conditions, prefixes, e-mail) and compared with the originals, and the
//! interpolations of every file are compared with those of a twin spec whose free text is
//! plain words, so an interpolation that came from the spec cannot hide. The same spec in
//! Terraform JSON must escape `${` as `$${`. Then the modules go through `terraform validate`
//! (AWS), the azurerm schema check (Azure) and `terraform fmt`.
//!
//! The last tests cover names that become paths: names with `..` or `/` are rejected, and
//! the strangest names the schema accepts keep every written file inside `--out`.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use hcl::expr::{Operation, TraversalOperator};
use hcl::template::{Directive, Element};
use hcl::{Body, Expression, ObjectKey, Structure, Template};
use insta_cmd::get_cargo_bin;

// ---------------------------------------------------------------------------------------------
// The spec

/// The free-text values of the spec: one set full of syntax, one of plain words.
struct Values {
    owner: String,
    description: String,
    tags: Vec<(String, String)>,
    type_description: String,
    group_description: String,
    searchable_attribute: String,
    attributes: Vec<(String, String)>,
    subject: [String; 4],
    /// The CA certificate path (a variable default on AWS, shell-quoted in Azure's script).
    ca_file: String,
    /// The text inside the quoted string of the route condition (`note = '...'`).
    route_text: String,
    /// The text inside the quoted string of the alert condition (`label = '...'`). No
    /// backslash: AWS IoT SQL documents no string escapes, so fleetform refuses one there
    /// (`tests/query_injection.rs`).
    alert_text: String,
    prefix: String,
    email: String,
    resource_group: String,
    enrollment_group: String,
}

impl Values {
    /// Everything that could be mistaken for syntax by Terraform, the HCL writer, the
    /// `terraform fmt` pass, the blueprint engine or a reader.
    ///
    /// Markers sit next to `$`, `%` and doubled markers too (`%${`, `$${` after an earlier
    /// `${`), which hcl-rs's own escaping gets wrong; fleetform escapes every literal itself,
    /// in HCL and in Terraform JSON alike.
    fn injected() -> Self {
        let s = str::to_owned;
        Self {
            owner: s(
                "team ${var.owner} %{ if true }x%{ endif } {{ name }} {% raw %} \"q\" \\ */ /* # // 🚀 עברית e\u{301}",
            ),
            description: s(
                "line1 ${var.x}\nline2 %{ if true }\r\n\ttab {{ name }} {% if x %} \"quoted\" back\\slash */ /* # // 🚀 שלום e\u{301}",
            ),
            tags: vec![
                (s("cost-center"), s("${var.secret}")),
                (s("template"), s("%{ if true }yes%{ endif }")),
                (s("escaped"), s("$${already}")),
                (s("escaped-directive"), s("%%{ also } done")),
                (s("quotes"), s("a\"b\\c\\\"d")),
                (s("comment"), s("*/ # // /* <!-- --> */")),
                (s("unicode"), s("🚀 שלום e\u{301} \u{202e}override")),
                (s("money"), s("$ alone, 100% and {braces} $x %y")),
                (s("after-a-marker"), s("a ${x} b %${var.secret} c")),
                (s("dollar-percent"), s("${a}%${b}")),
                (s("directive-then-escaped"), s("%{x}$${y}")),
                (s("${var.key}"), s("key looks like an interpolation")),
                (s("with space"), s("v")),
                (s("k=v#1"), s("equals and hash in a key")),
                (s("for"), s("a keyword as a key")),
                (s("null"), s("another keyword")),
                (s("true"), s("and another")),
                (s("if"), s("if")),
            ],
            // One line each: AWS descriptions take no control characters (`[\p{Graph}\x20]*`).
            type_description: s("type ${var.t} %{ for x in y } \"q\" \\ */ # // 🚀 עברית"),
            group_description: s("group ${var.g} %{ x } 🚀 e\u{301} */"),
            // Attribute names and values follow AWS's patterns (`[a-zA-Z0-9_.,@/:#-]+`, values
            // also `= [ ]`): the strangest text they allow, no markers.
            searchable_attribute: s("serial#1/a@b,c.d:e"),
            attributes: vec![
                (s("note"), s("a=b[1]#c/d@e,f:g")),
                (s("tpl"), s("x.y-z_w")),
                (s("key#1/@"), s("[]=")),
            ],
            subject: [
                s("Org ${var.o} \"q\" \\"),
                s("%{ if x } 🚀"),
                s("עברית $${"),
                s("e\u{301} */ #"),
            ],
            ca_file: s("certs/it's ${var.x} %{ if y } \"q\" $(touch pwned) `id` 🚀.pem"),
            route_text: s("${file(\"/etc/passwd\")} %{ for x in y } it's */ # // 🚀 עברית"),
            alert_text: s("a\"b ${var.x} %{ if true } -- */ it's"),
            prefix: s("raw/${var.p}/%{ if x }/🚀 # */"),
            email: s("o'brien+alerts@example.com"),
            resource_group: s("rg_(inject).x-1"),
            enrollment_group: s("sensors.v1:a-b"),
        }
    }

    /// The same spec with plain words: the twin whose interpolations are all fleetform's.
    fn plain() -> Self {
        let injected = Self::injected();
        let s = str::to_owned;
        Self {
            owner: s("team"),
            description: s("plain description"),
            tags: (0..injected.tags.len())
                .map(|i| (format!("key{i}"), format!("value{i}")))
                .collect(),
            type_description: s("type"),
            group_description: s("group"),
            searchable_attribute: s("serial"),
            attributes: (0..injected.attributes.len())
                .map(|i| (format!("attr{i}"), format!("value{i}")))
                .collect(),
            subject: [s("Org"), s("Unit"), s("State"), s("City")],
            ca_file: s("certs/ca.pem"),
            route_text: s("plain"),
            alert_text: s("plain"),
            prefix: s("raw/"),
            email: s("oncall@example.com"),
            resource_group: s("rg-plain"),
            enrollment_group: s("sensors"),
        }
    }

    /// The tags fleetform puts on every resource: the spec's plus its own.
    fn all_tags(&self) -> BTreeMap<String, String> {
        let mut tags: BTreeMap<String, String> = self.tags.iter().cloned().collect();
        tags.insert("stack".into(), "inject-both".into());
        tags.insert("environment".into(), "test".into());
        tags.insert("managed-by".into(), "fleetform".into());
        tags.insert("owner".into(), self.owner.clone());
        tags
    }

    fn route_condition(&self) -> String {
        format!("note = '{}'", self.route_text.replace('\'', "''"))
    }

    fn alert_condition(&self) -> String {
        format!("label = '{}'", self.alert_text.replace('\'', "''"))
    }
}

/// A YAML double-quoted scalar: backslash escapes for `\`, `"`, newline, return and tab.
fn yq(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn spec(v: &Values) -> String {
    let mut tags = String::new();
    for (k, val) in &v.tags {
        let _ = writeln!(tags, "    {}: {}", yq(k), yq(val));
    }
    let mut attributes = String::new();
    for (k, val) in &v.attributes {
        let _ = writeln!(attributes, "          {}: {}", yq(k), yq(val));
    }
    let [organization, unit, state, locality] = &v.subject;
    format!(
        r"version: 1
stack:
  name: inject-both
  environment: test
  owner: {owner}
  description: {description}
  tags:
{tags}clouds:
  aws:
    region: eu-central-1
    provisioning: {{method: manual}}
  azure:
    location: westeurope
    resource_group: {rg}
    dps:
      enrollment_groups:
        - name: {group}
          device_type: sensor
fleet:
  devices: 10
  device_types:
    - name: sensor
      description: {type_description}
      searchable_attributes: [{searchable}]
  groups:
    - name: site
      description: {group_description}
  registry:
    devices:
      - id: dev-1
        type: sensor
        groups: [site]
        attributes:
{attributes}identity:
  method: x509
  x509:
    ca: provided
    ca_certificate_file: {ca_file}
    subject:
      organization: {organization}
      organizational_unit: {unit}
      country: DE
      state: {state}
      locality: {locality}
pipeline:
  routes:
    - name: telemetry
      condition: {route}
      to: [stream, archive]
  alerts:
    - name: weird
      condition: {alert}
storage:
  archive:
    prefixes: [{prefix}]
    lifecycle: [{{tier: cool, after_days: 30}}]
monitoring:
  notify:
    email: [{email}]
",
        owner = yq(&v.owner),
        description = yq(&v.description),
        rg = yq(&v.resource_group),
        group = yq(&v.enrollment_group),
        type_description = yq(&v.type_description),
        searchable = yq(&v.searchable_attribute),
        group_description = yq(&v.group_description),
        organization = yq(organization),
        unit = yq(unit),
        state = yq(state),
        locality = yq(locality),
        ca_file = yq(&v.ca_file),
        route = yq(&v.route_condition()),
        alert = yq(&v.alert_condition()),
        prefix = yq(&v.prefix),
        email = yq(&v.email),
    )
}

fn build(v: &Values) -> fleetform::emit::Rendered {
    common::build_text("inject.yaml", &spec(v), Path::new("."))
}

// ---------------------------------------------------------------------------------------------
// Reading parsed HCL

fn text(r: &fleetform::emit::Rendered, path: &str) -> String {
    String::from_utf8(
        r.files
            .get(path)
            .unwrap_or_else(|| panic!("`{path}` was not generated"))
            .bytes
            .clone(),
    )
    .unwrap_or_else(|_| panic!("`{path}` is not UTF-8"))
}

fn parse(r: &fleetform::emit::Rendered, path: &str) -> Body {
    let src = text(r, path);
    hcl::parse(&src).unwrap_or_else(|e| panic!("{path} does not parse: {e}\n{src}"))
}

/// Every `.tf` file, parsed.
fn parsed_tf(r: &fleetform::emit::Rendered) -> BTreeMap<String, Body> {
    r.files
        .keys()
        .filter(|p| p.ends_with(".tf"))
        .map(|p| (p.clone(), parse(r, p)))
        .collect()
}

/// The top-level blocks `ident "labels..." { }` of a body.
fn blocks<'a>(body: &'a Body, ident: &'a str) -> impl Iterator<Item = &'a hcl::Block> + 'a {
    body.blocks()
        .filter(move |b| b.identifier.as_str() == ident)
}

fn resource<'a>(body: &'a Body, ty: &str, name: &str) -> &'a hcl::Block {
    blocks(body, "resource")
        .find(|b| b.labels.len() == 2 && b.labels[0].as_str() == ty && b.labels[1].as_str() == name)
        .unwrap_or_else(|| panic!("no resource {ty}.{name}"))
}

fn attr<'a>(body: &'a Body, key: &str) -> &'a Expression {
    body.attributes()
        .find(|a| a.key.as_str() == key)
        .map_or_else(|| panic!("no attribute `{key}`"), |a| &a.expr)
}

/// The value of a literal string; anything else (a template above all) is a failure.
fn literal<'a>(e: &'a Expression, what: &str) -> &'a str {
    match e {
        Expression::String(s) => s,
        other => panic!("{what} is not a literal string but {other:?}"),
    }
}

/// An object of literal strings, as a map.
fn literal_object(e: &Expression, what: &str) -> BTreeMap<String, String> {
    let Expression::Object(object) = e else {
        panic!("{what} is not an object: {e:?}");
    };
    object
        .iter()
        .map(|(k, v)| {
            let key = match k {
                ObjectKey::Identifier(id) => id.to_string(),
                ObjectKey::Expression(Expression::String(s)) => s.clone(),
                other => panic!("{what}: key {other:?} is not literal"),
            };
            let value = literal(v, &format!("{what}[{key}]")).to_owned();
            (key, value)
        })
        .collect()
}

/// `locals { tags = merge({...}, var.extra_tags) }`: the literal object.
fn merged_tags(e: &Expression) -> BTreeMap<String, String> {
    let Expression::FuncCall(call) = e else {
        panic!("tags is not a merge() call: {e:?}");
    };
    assert_eq!(call.name.name.as_str(), "merge");
    literal_object(&call.args[0], "the tags object")
}

/// Every literal string anywhere in a body (attribute values, nested blocks, object values,
/// function arguments, list items; template literal parts are left out).
fn strings_in(body: &Body) -> Vec<String> {
    fn expr(e: &Expression, out: &mut Vec<String>) {
        match e {
            Expression::String(s) => out.push(s.clone()),
            Expression::Array(items) => items.iter().for_each(|i| expr(i, out)),
            Expression::Object(o) => o.values().for_each(|v| expr(v, out)),
            Expression::FuncCall(f) => f.args.iter().for_each(|a| expr(a, out)),
            Expression::Parenthesis(p) => expr(p, out),
            Expression::Conditional(c) => {
                expr(&c.true_expr, out);
                expr(&c.false_expr, out);
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    for s in body {
        match s {
            Structure::Attribute(a) => expr(&a.expr, &mut out),
            Structure::Block(b) => out.extend(strings_in(&b.body)),
        }
    }
    out
}

/// Every interpolation and directive in a body, as HCL source (`${local.prefix}`,
/// `%{if ...}`), found by parsing each template: what Terraform would evaluate.
fn template_parts(body: &Body) -> Vec<String> {
    let mut out = Vec::new();
    for s in body {
        match s {
            Structure::Attribute(a) => expr_parts(&a.expr, &mut out),
            Structure::Block(b) => out.extend(template_parts(&b.body)),
        }
    }
    out
}

/// The HCL source of an expression with every literal string and object key replaced by a
/// placeholder, so that an interpolation such as `merge({ owner = "..." }, var.extra_tags)`
/// compares equal whatever the spec's text; templates inside stay as they are (and are walked
/// on their own).
fn source(e: &Expression) -> String {
    fn skeleton(e: &Expression) -> Expression {
        match e {
            Expression::String(_) => Expression::String("_".into()),
            Expression::Array(items) => Expression::Array(items.iter().map(skeleton).collect()),
            Expression::Object(o) => Expression::Object(
                o.values()
                    .enumerate()
                    .map(|(i, v)| {
                        (
                            ObjectKey::Identifier(hcl::Identifier::unchecked(format!("k{i}"))),
                            skeleton(v),
                        )
                    })
                    .collect(),
            ),
            Expression::FuncCall(f) => {
                let mut f = f.clone();
                f.args = f.args.iter().map(skeleton).collect();
                Expression::FuncCall(f)
            }
            Expression::Parenthesis(p) => Expression::Parenthesis(Box::new(skeleton(p))),
            Expression::Conditional(c) => {
                let mut c = c.clone();
                c.true_expr = skeleton(&c.true_expr);
                c.false_expr = skeleton(&c.false_expr);
                Expression::Conditional(c)
            }
            other => other.clone(),
        }
    }
    hcl::format::to_string(&skeleton(e)).unwrap()
}

fn expr_parts(e: &Expression, out: &mut Vec<String>) {
    match e {
        Expression::TemplateExpr(t) => {
            let template = Template::from_expr(t)
                .unwrap_or_else(|err| panic!("template {t:?} does not parse: {err}"));
            template_elements(&template, out);
        }
        Expression::Array(items) => items.iter().for_each(|i| expr_parts(i, out)),
        Expression::Object(o) => {
            for (k, v) in o {
                if let ObjectKey::Expression(k) = k {
                    expr_parts(k, out);
                }
                expr_parts(v, out);
            }
        }
        Expression::Traversal(t) => {
            expr_parts(&t.expr, out);
            for op in &t.operators {
                if let TraversalOperator::Index(i) = op {
                    expr_parts(i, out);
                }
            }
        }
        Expression::FuncCall(f) => f.args.iter().for_each(|a| expr_parts(a, out)),
        Expression::Parenthesis(p) => expr_parts(p, out),
        Expression::Conditional(c) => {
            expr_parts(&c.cond_expr, out);
            expr_parts(&c.true_expr, out);
            expr_parts(&c.false_expr, out);
        }
        Expression::Operation(op) => match op.as_ref() {
            Operation::Unary(u) => expr_parts(&u.expr, out),
            Operation::Binary(b) => {
                expr_parts(&b.lhs_expr, out);
                expr_parts(&b.rhs_expr, out);
            }
        },
        Expression::ForExpr(f) => {
            expr_parts(&f.collection_expr, out);
            if let Some(k) = &f.key_expr {
                expr_parts(k, out);
            }
            expr_parts(&f.value_expr, out);
            if let Some(c) = &f.cond_expr {
                expr_parts(c, out);
            }
        }
        _ => {}
    }
}

fn template_elements(t: &Template, out: &mut Vec<String>) {
    for element in t.elements() {
        match element {
            Element::Literal(_) => {}
            Element::Interpolation(i) => {
                out.push(format!("${{{}}}", source(&i.expr)));
                expr_parts(&i.expr, out);
            }
            Element::Directive(d) => match d.as_ref() {
                Directive::If(d) => {
                    out.push(format!("%{{if {}}}", source(&d.cond_expr)));
                    template_elements(&d.true_template, out);
                    if let Some(f) = &d.false_template {
                        template_elements(f, out);
                    }
                }
                Directive::For(d) => {
                    out.push(format!("%{{for {}}}", source(&d.collection_expr)));
                    template_elements(&d.template, out);
                }
            },
        }
    }
}

/// Interpolations and directives per file, sorted.
fn all_template_parts(r: &fleetform::emit::Rendered) -> BTreeMap<String, Vec<String>> {
    parsed_tf(r)
        .into_iter()
        .map(|(path, body)| {
            let mut parts = template_parts(&body);
            parts.sort();
            (path, parts)
        })
        .collect()
}

/// The interpolations of the injected build must be exactly those of the plain twin.
fn assert_same_templates(
    injected: &BTreeMap<String, Vec<String>>,
    plain: &BTreeMap<String, Vec<String>>,
) {
    assert_eq!(
        injected.keys().collect::<Vec<_>>(),
        plain.keys().collect::<Vec<_>>(),
        "both specs generate the same files"
    );
    for (path, parts) in injected {
        let twin = &plain[path];
        let extra: Vec<&String> = parts.iter().filter(|p| !twin.contains(p)).collect();
        assert!(
            extra.is_empty(),
            "{path} evaluates interpolations or directives that fleetform did not write: {extra:?}"
        );
        assert_eq!(parts, twin, "{path}: interpolations differ from the twin's");
    }
}

// ---------------------------------------------------------------------------------------------
// Tests

#[test]
fn the_spec_is_valid_and_targets_both_clouds() {
    let r = build(&Values::injected());
    assert!(r.files.contains_key("aws/main.tf"));
    assert!(r.files.contains_key("azure/main.tf"));
}

#[test]
fn every_tf_file_parses_and_evaluates_only_fleetforms_interpolations() {
    let injected = all_template_parts(&build(&Values::injected()));
    let plain = all_template_parts(&build(&Values::plain()));
    assert!(
        injected.values().flatten().any(|p| p == "${local.iot_arn}"),
        "the walk sees fleetform's own interpolations"
    );
    assert_same_templates(&injected, &plain);
}

#[test]
fn tags_come_back_exactly_on_both_clouds() {
    let v = Values::injected();
    let r = build(&v);
    let want = v.all_tags();

    let aws = parse(&r, "aws/main.tf");
    let locals = blocks(&aws, "locals").next().expect("aws locals");
    assert_eq!(
        merged_tags(attr(&locals.body, "tags")),
        aws_tags(&want),
        "AWS tags"
    );

    let azure = parse(&r, "azure/main.tf");
    let locals = blocks(&azure, "locals").next().expect("azure locals");
    assert_eq!(
        literal_object(attr(&locals.body, "spec_tags"), "azure spec_tags"),
        want,
        "Azure tags"
    );
}

#[test]
fn descriptions_conditions_prefixes_and_emails_come_back_exactly() {
    let v = Values::injected();
    let r = build(&v);

    let iot = parse(&r, "aws/iot.tf");
    let ty = resource(&iot, "aws_iot_thing_type", "type_sensor");
    let props = blocks(&ty.body, "properties").next().unwrap();
    assert_eq!(
        literal(attr(&props.body, "description"), "thing type description"),
        v.type_description
    );
    let Expression::Array(searchable) = attr(&props.body, "searchable_attributes") else {
        panic!("searchable_attributes is not a list");
    };
    assert_eq!(
        literal(&searchable[0], "searchable attribute"),
        v.searchable_attribute
    );
    let group = resource(&iot, "aws_iot_thing_group", "group_site");
    let props = blocks(&group.body, "properties").next().unwrap();
    assert_eq!(
        literal(attr(&props.body, "description"), "thing group description"),
        v.group_description
    );

    // Conditions: AWS IoT SQL doubles a quote in a string; the IoT Hub routing query escapes
    // it with a backslash (`tests/query_injection.rs` reads both back by their rules).
    let route = v.route_condition();
    let alert = v.alert_condition();
    let iot_hub =
        |text: &str, field: &str| format!("$body.{field} = '{}'", text.replace('\'', "\\'"));
    let aws_strings: Vec<String> = parsed_tf(&r)
        .iter()
        .filter(|(p, _)| p.starts_with("aws/"))
        .flat_map(|(_, b)| strings_in(b))
        .collect();
    let azure_strings: Vec<String> = parsed_tf(&r)
        .iter()
        .filter(|(p, _)| p.starts_with("azure/"))
        .flat_map(|(_, b)| strings_in(b))
        .collect();
    for (cloud, strings, route, alert) in [
        ("AWS", &aws_strings, route.clone(), alert.clone()),
        (
            "Azure",
            &azure_strings,
            iot_hub(&v.route_text, "note"),
            iot_hub(&v.alert_text, "label"),
        ),
    ] {
        assert!(
            strings.iter().any(|s| s.contains(&route)),
            "{cloud}: no literal string holds the route condition {route:?}"
        );
        assert!(
            strings.iter().any(|s| s.contains(&alert)),
            "{cloud}: no literal string holds the alert condition {alert:?}"
        );
    }
    let pipeline = parse(&r, "aws/pipeline.tf");
    let sql: Vec<&str> = blocks(&pipeline, "resource")
        .filter(|b| b.labels[0].as_str() == "aws_iot_topic_rule")
        .map(|b| literal(attr(&b.body, "sql"), "sql"))
        .collect();
    assert!(
        sql.iter().any(|s| s.ends_with(&format!("WHERE {route}"))),
        "the telemetry rule's WHERE clause is the condition: {sql:?}"
    );

    // The archive prefix on both clouds.
    assert!(
        strings_in(&parse(&r, "aws/storage.tf")).contains(&v.prefix),
        "AWS lifecycle prefix"
    );
    assert!(
        strings_in(&parse(&r, "azure/storage.tf")).contains(&format!("archive/{}", v.prefix)),
        "Azure lifecycle prefix_match"
    );

    // The e-mail address on both clouds.
    assert!(aws_strings.contains(&v.email), "AWS e-mail subscription");
    assert!(
        azure_strings.contains(&v.email),
        "Azure action group e-mail"
    );

    // The CA path, as the default of the AWS module's variable.
    let variables = parse(&r, "aws/variables.tf");
    let ca = blocks(&variables, "variable")
        .find(|b| b.labels[0].as_str() == "ca_certificate_file")
        .expect("a ca_certificate_file variable");
    assert_eq!(literal(attr(&ca.body, "default"), "CA path"), v.ca_file);

    // The resource group name, as given.
    let main = parse(&r, "azure/main.tf");
    let rg = resource(&main, "azurerm_resource_group", "this");
    assert_eq!(literal(attr(&rg.body, "name"), "rg name"), v.resource_group);
}

#[test]
fn artifacts_keep_the_text_literally() {
    let v = Values::injected();
    let r = build(&v);

    // The registry data file Terraform reads with jsondecode(file(...)).
    let devices: serde_json::Value =
        serde_json::from_str(&text(&r, "aws/registry/devices.json")).unwrap();
    let want: serde_json::Map<String, serde_json::Value> = v
        .attributes
        .iter()
        .map(|(k, val)| (k.clone(), serde_json::Value::String(val.clone())))
        .collect();
    assert_eq!(
        devices["dev-1"]["attributes"],
        serde_json::Value::Object(want)
    );

    // The READMEs (rendered by the blueprint engine, which must not evaluate `{{ }}`).
    for cloud in ["aws", "azure"] {
        let readme = text(&r, &format!("{cloud}/README.md"));
        assert!(
            readme.contains(&v.description),
            "{cloud} README has the description verbatim"
        );
    }
    assert!(
        text(&r, "aws/README.md").contains(&v.owner),
        "the AWS README has the owner verbatim"
    );

    // The enrollment script shell-quotes the CA path: the line that prints the verification
    // command, run by bash, prints the path's parts as they are (and runs nothing in them).
    let script = text(&r, "azure/scripts/create-enrollment-groups.sh");
    let line = script
        .lines()
        .find(|l| l.contains("verify-azure"))
        .expect("the script prints the verification command")
        .trim();
    let scratch = tempfile::tempdir().unwrap();
    let Ok(printed) = Command::new("bash")
        .args(["-c", line])
        .current_dir(scratch.path())
        .output()
    else {
        return common::skip("bash", "not installed");
    };
    let printed = String::from_utf8(printed.stdout).unwrap();
    let stem = v.ca_file["certs/".len()..].trim_end_matches(".pem");
    assert!(
        printed.contains(&format!("--ca-dir certs --ca {stem} --code")),
        "{printed}"
    );
    assert!(
        !scratch.path().join("pwned").exists(),
        "nothing in the path ran"
    );
    let syntax = Command::new("bash")
        .arg("-n")
        .arg(
            common::write_temp(&r)
                .path()
                .join("azure/scripts/create-enrollment-groups.sh"),
        )
        .output()
        .unwrap();
    assert!(
        syntax.status.success(),
        "{}",
        String::from_utf8_lossy(&syntax.stderr)
    );

    // The alert functions: the condition is a Python string constant equal to the spec's.
    let dir = common::write_temp(&r);
    let files = [
        dir.path().join("aws/functions/src/alert-weird/handler.py"),
        dir.path().join("azure/functions/alerts/function_app.py"),
    ];
    let script = "import ast, json, sys\n\
        out = []\n\
        for p in sys.argv[1:]:\n\
        \x20   tree = ast.parse(open(p, encoding='utf-8').read())\n\
        \x20   out.append([n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)])\n\
        print(json.dumps(out))\n";
    let Ok(output) = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(&files)
        .output()
    else {
        return common::skip("python3", "not installed");
    };
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let constants: Vec<Vec<String>> = serde_json::from_slice(&output.stdout).unwrap();
    for (file, strings) in files.iter().zip(&constants) {
        assert!(
            strings.contains(&v.alert_condition()),
            "{} holds the condition as a string constant: {strings:?}",
            file.display()
        );
    }
}

#[test]
fn modules_pass_terraform_validate_and_fmt() {
    let r = build(&Values::injected());
    let dir = common::write_temp(&r);
    if common::terraform().is_none() {
        common::skip(
            "terraform",
            "terraform or the provider mirror is not installed",
        );
    } else {
        common::terraform_validate(&dir.path().join("aws")).unwrap_or_else(|e| panic!("{e}"));
        common::terraform_validate(&dir.path().join("azure")).unwrap_or_else(|e| panic!("{e}"));
        common::terraform_fmt_check(dir.path()).unwrap_or_else(|e| panic!("{e}"));
    }
}

// ---------------------------------------------------------------------------------------------
// Terraform JSON

fn fleetform(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

/// Builds a spec with `--format tf-json` through the binary; the JSON documents by path.
fn build_tf_json(v: &Values) -> BTreeMap<String, serde_json::Value> {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("fleet.yaml"), spec(v)).unwrap();
    let out = fleetform(
        dir.path(),
        &["build", "fleet.yaml", "--out", "out", "--format", "tf-json"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut docs = BTreeMap::new();
    for path in files_under(&dir.path().join("out")) {
        let rel = path
            .strip_prefix(dir.path().join("out"))
            .unwrap()
            .to_string_lossy()
            .into_owned();
        if rel.ends_with(".tf.json") {
            let text = std::fs::read_to_string(&path).unwrap();
            let doc = serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{rel} is not JSON: {e}\n{text}"));
            docs.insert(rel, doc);
        }
    }
    assert!(!docs.is_empty(), "no .tf.json was written");
    docs
}

/// Every string of a Terraform JSON document that Terraform reads as a template: values and
/// object keys, but not the `//` comments.
fn json_template_parts(v: &serde_json::Value, out: &mut Vec<String>) {
    let parse = |s: &str, out: &mut Vec<String>| {
        let template: Template = s
            .parse()
            .unwrap_or_else(|e| panic!("JSON string {s:?} is not a valid template: {e}"));
        template_elements(&template, out);
    };
    match v {
        serde_json::Value::String(s) => parse(s, out),
        serde_json::Value::Array(items) => items.iter().for_each(|i| json_template_parts(i, out)),
        serde_json::Value::Object(map) => {
            for (k, val) in map {
                if k == "//" {
                    continue;
                }
                parse(k, out);
                json_template_parts(val, out);
            }
        }
        _ => {}
    }
}

/// `$${` and `%%{` for the markers of a literal, as Terraform's JSON syntax wants.
fn json_escaped(s: &str) -> String {
    s.replace("${", "$${").replace("%{", "%%{")
}

/// The text a Terraform JSON string stands for when it must be plain text: it is read as a
/// template, and every element must be a literal (`Err` names what Terraform would evaluate).
fn json_literal(s: &str) -> Result<String, String> {
    let template: Template = s
        .parse()
        .map_err(|e| format!("{s:?} is not a valid template: {e}"))?;
    let mut text = String::new();
    for element in template.elements() {
        match element {
            Element::Literal(l) => text.push_str(l),
            other => return Err(format!("{s:?} evaluates {other:?}")),
        }
    }
    Ok(text)
}

/// Builds a spec in Terraform JSON, in process; the JSON documents by path.
fn build_json(v: &Values) -> BTreeMap<String, serde_json::Value> {
    let outcome = fleetform::validate::validate("inject.yaml", &spec(v), &common::Dir(".".into()));
    assert!(outcome.validated.is_some(), "the spec is valid");
    let planned = fleetform::plan_sets(&outcome).unwrap();
    let rendered =
        fleetform::emit::render_planned(&planned, fleetform::emit::Syntax::Json).unwrap();
    rendered
        .files
        .iter()
        .filter(|(p, _)| p.ends_with(".tf.json"))
        .map(|(p, f)| (p.clone(), serde_json::from_slice(&f.bytes).unwrap()))
        .collect()
}

#[test]
fn terraform_json_escapes_markers_and_evaluates_only_fleetforms_interpolations() {
    let v = Values::injected();
    let docs = build_tf_json(&v);
    let want = v.all_tags();

    // Azure's tags are a plain JSON object: every key and value escaped, byte for byte.
    let spec_tags = &docs["azure/main.tf.json"]["locals"]["spec_tags"];
    let escaped: serde_json::Map<String, serde_json::Value> = want
        .iter()
        .map(|(k, val)| {
            (
                json_escaped(k),
                serde_json::Value::String(json_escaped(val)),
            )
        })
        .collect();
    assert_eq!(spec_tags, &serde_json::Value::Object(escaped));
    assert_eq!(spec_tags["cost-center"], "$${var.secret}");
    assert_eq!(spec_tags["$${var.key}"], "key looks like an interpolation");
    // Read back as Terraform reads them, keys and values are the spec's text, nothing more.
    let decoded: BTreeMap<String, String> = spec_tags
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, val)| {
            let text = |s: &str| json_literal(s).unwrap_or_else(|e| panic!("Azure tag: {e}"));
            (text(k), text(val.as_str().unwrap()))
        })
        .collect();
    assert_eq!(decoded, want, "Azure tags decode to the spec's text");

    // AWS's tags sit inside `${merge({...}, var.extra_tags)}`: parse the template, then read
    // the object's literals.
    let tags = docs["aws/main.tf.json"]["locals"]["tags"].as_str().unwrap();
    let template: Template = tags.parse().unwrap();
    let [Element::Interpolation(merge)] = template.elements() else {
        panic!("tags is not one interpolation: {tags}");
    };
    assert_eq!(merged_tags(&merge.expr), aws_tags(&want));

    // The thing type description is a JSON template whose only element is the literal.
    let description = docs["aws/iot.tf.json"]["resource"]["aws_iot_thing_type"]["type_sensor"]
        ["properties"]["description"]
        .as_str()
        .unwrap();
    assert_eq!(description, json_escaped(&v.type_description));
    let template: Template = description.parse().unwrap();
    assert_eq!(
        template.elements(),
        [Element::Literal(v.type_description.clone())]
    );

    // Nothing evaluates that the plain twin does not evaluate.
    let collect = |docs: &BTreeMap<String, serde_json::Value>| {
        docs.iter()
            .map(|(p, d)| {
                let mut parts = Vec::new();
                json_template_parts(d, &mut parts);
                parts.sort();
                (p.clone(), parts)
            })
            .collect::<BTreeMap<_, _>>()
    };
    assert_same_templates(&collect(&docs), &collect(&build_tf_json(&Values::plain())));
}

// ---------------------------------------------------------------------------------------------
// Bugs found by the tests above, each on its own so the tests above keep guarding the rest.

/// A doubled marker (`$${`, `%%{`) after another marker, or a `$`/`%` right before a
/// marker, is escaped by pairs in hcl-rs's writer (hcl-primitives 0.1.13
/// `template::escape_markers` steps over the character after every `$` and `%`): the value
/// loses a `$`, a directive is left half-escaped so the file no longer parses, or
/// `%${var.secret}` is written unescaped and Terraform evaluates it. Both output formats:
/// Terraform JSON writes expressions (AWS's `${merge({...}, var.extra_tags)}`) as HCL text.
#[test]
fn markers_next_to_dollar_or_percent_stay_literal() {
    let mut failures = Vec::new();
    for value in [
        "${a} %${var.secret}",
        "${a} $%{ if true }x%{ endif }",
        "${a} $${b}",
        "%{ a } %%{ b }",
        "a ${x} b %${var.secret} c",
        "${a}%${b}",
        "%{x}$${y}",
        "$${a}%%{b}${var.secret}",
    ] {
        let mut v = Values::injected();
        v.tags = vec![("value".into(), value.into())];
        json_markers_stay_literal(&v, value, &mut failures);
        let r = build(&v);
        let src = text(&r, "aws/main.tf");
        let body = match hcl::parse(&src) {
            Ok(body) => body,
            Err(e) => {
                failures.push(format!("{value:?}: aws/main.tf does not parse: {e}"));
                continue;
            }
        };
        let foreign: Vec<String> = template_parts(&body)
            .into_iter()
            .filter(|p| p.contains("var.secret"))
            .collect();
        if !foreign.is_empty() {
            failures.push(format!("{value:?}: Terraform evaluates {foreign:?}"));
        }
        let locals = blocks(&body, "locals").next().unwrap();
        let tags = attr(&locals.body, "tags");
        let Expression::FuncCall(call) = tags else {
            unreachable!()
        };
        let Expression::Object(object) = &call.args[0] else {
            unreachable!()
        };
        let got = object
            .iter()
            .find(|(k, _)| matches!(k, ObjectKey::Identifier(id) if id.as_str() == "value"))
            .map(|(_, e)| e);
        if got != Some(&Expression::String(value.into())) {
            failures.push(format!("{value:?} comes back as {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The Terraform JSON half of `markers_next_to_dollar_or_percent_stay_literal`: the tag
/// `value` reads back as `value` on both clouds, with nothing evaluated.
fn json_markers_stay_literal(v: &Values, value: &str, failures: &mut Vec<String>) {
    let docs = build_json(v);
    let tags = docs["aws/main.tf.json"]["locals"]["tags"].as_str().unwrap();
    let template: Template = match tags.parse() {
        Ok(t) => t,
        Err(e) => {
            failures.push(format!("{value:?}: JSON AWS tags are no template: {e}"));
            return;
        }
    };
    let [Element::Interpolation(merge)] = template.elements() else {
        failures.push(format!(
            "{value:?}: JSON AWS tags are not one interpolation: {tags}"
        ));
        return;
    };
    let Expression::FuncCall(call) = &merge.expr else {
        unreachable!("tags is a merge() call")
    };
    let Expression::Object(object) = &call.args[0] else {
        unreachable!("merge() of an object")
    };
    let got = object
        .iter()
        .find(|(k, _)| matches!(k, ObjectKey::Identifier(id) if id.as_str() == "value"))
        .map(|(_, e)| e);
    if got != Some(&Expression::String(value.into())) {
        failures.push(format!("{value:?}: JSON AWS tag comes back as {got:?}"));
    }
    let spec_tags = &docs["azure/main.tf.json"]["locals"]["spec_tags"];
    match json_literal(spec_tags["value"].as_str().unwrap_or_default()) {
        Ok(text) if text == value => {}
        Ok(text) => failures.push(format!("{value:?}: JSON Azure tag comes back as {text:?}")),
        Err(e) => failures.push(format!("{value:?}: JSON Azure tag: {e}")),
    }
}

/// A tag key spelled like the emitter's comment sentinel turns into a `#` comment in Azure's
/// multi-line `spec_tags` object: the tag silently disappears.
#[test]
fn a_tag_key_like_the_comment_sentinel_is_kept() {
    let mut v = Values::injected();
    v.tags.push(("__fleetform_comment__".into(), "kept".into()));
    let r = build(&v);
    let azure = parse(&r, "azure/main.tf");
    let locals = blocks(&azure, "locals").next().unwrap();
    assert_eq!(
        literal_object(attr(&locals.body, "spec_tags"), "azure spec_tags"),
        v.all_tags()
    );
}

/// A line that contains `{for ` anywhere, even inside a string, goes through
/// `space_for_objects`, which copies string contents byte by byte as `char`s: every
/// non-ASCII character on that line is turned into mojibake.
#[test]
fn for_text_next_to_non_ascii_stays_intact() {
    let mut v = Values::injected();
    v.group_description = "group {for x in y} 🚀 עברית".into();
    let r = build(&v);
    let iot = parse(&r, "aws/iot.tf");
    let group = resource(&iot, "aws_iot_thing_group", "group_site");
    let props = blocks(&group.body, "properties").next().unwrap();
    assert_eq!(
        literal(attr(&props.body, "description"), "thing group description"),
        v.group_description
    );
}

// ---------------------------------------------------------------------------------------------
// Names that become paths

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            assert!(
                !meta.file_type().is_symlink(),
                "{} is a symlink",
                path.display()
            );
            if meta.is_dir() {
                stack.push(path);
            } else {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

const PATH_SPEC: &str = r"version: 1
stack:
  name: paths
clouds:
  aws:
    region: eu-central-1
    provisioning: {method: manual}
  azure:
    location: westeurope
    resource_group: rg-paths
    dps:
      enrollment_groups:
        - name: GROUP
          device_type: TYPE
fleet:
  devices: 10
  device_types:
    - name: TYPE
  groups:
    - name: GROUPNAME
  registry:
    devices:
      - id: DEVICE
        type: TYPE
        groups: [GROUPNAME]
pipeline:
  routes:
    - name: ROUTE
      to: [stream]
  alerts:
    - name: ALERT
      condition: x > 1
environments:
  ENV: {}
";

fn path_spec(replacements: &[(&str, &str)]) -> String {
    let defaults = [
        ("GROUPNAME", "site"),
        ("GROUP", "sensors"),
        ("TYPE", "sensor"),
        ("DEVICE", "dev-1"),
        ("ROUTE", "telemetry"),
        ("ALERT", "hot"),
        ("ENV", "dev"),
    ];
    let mut text = PATH_SPEC.to_owned();
    for (placeholder, default) in defaults {
        let value = replacements
            .iter()
            .find(|(p, _)| *p == placeholder)
            .map_or(default, |(_, v)| v);
        text = text.replace(placeholder, &yq(value));
    }
    text
}

#[test]
fn names_that_could_leave_the_output_folder_are_rejected() {
    for (field, name) in [
        ("ALERT", "../escape"),
        ("ALERT", "a/../../b"),
        ("ROUTE", ".."),
        ("DEVICE", "../../etc/passwd"),
        ("DEVICE", "a/b"),
        ("TYPE", "../t"),
        ("GROUPNAME", ".."),
        ("GROUP", "../up"),
        ("GROUP", "/abs"),
        ("ENV", ".."),
        ("ENV", "a/b"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("fleet.yaml"), path_spec(&[(field, name)])).unwrap();
        let out = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "out"]);
        assert_eq!(
            out.status.code(),
            Some(1),
            "{field} = {name:?} is rejected as an invalid spec:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(
            !dir.path().join("out").exists(),
            "{field} = {name:?}: nothing is written"
        );
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "{field} = {name:?}: only the spec is in the folder"
        );
    }
}

#[test]
fn the_strangest_legal_names_keep_every_file_inside_the_output_folder() {
    let root = tempfile::tempdir().unwrap();
    let work = root.path().join("work");
    std::fs::create_dir(&work).unwrap();
    std::fs::write(root.path().join("sibling.txt"), "untouched").unwrap();
    std::fs::write(
        work.join("fleet.yaml"),
        path_spec(&[
            ("GROUP", "a..b:c.d-"),
            ("TYPE", "t:1_-x"),
            ("DEVICE", "x:y--z__0"),
            ("GROUPNAME", "g:1"),
            ("ROUTE", "r_9"),
            ("ALERT", "a__b_9"),
            ("ENV", "e1"),
        ]),
    )
    .unwrap();
    let out = fleetform(&work, &["build", "fleet.yaml", "--out", "out"]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out_dir = work.join("out").canonicalize().unwrap();
    let written = files_under(root.path());
    let outside: Vec<&PathBuf> = written
        .iter()
        .filter(|p| !p.canonicalize().unwrap().starts_with(&out_dir))
        .collect();
    assert_eq!(
        outside,
        [&root.path().join("sibling.txt"), &work.join("fleet.yaml")],
        "nothing is written outside `out`"
    );
    assert_eq!(
        std::fs::read_to_string(root.path().join("sibling.txt")).unwrap(),
        "untouched"
    );

    // What the manifest claims is exactly what is on disk, every path plain and relative.
    let manifest = fleetform::emit::parse_manifest(
        &std::fs::read_to_string(out_dir.join(fleetform::emit::MANIFEST)).unwrap(),
    )
    .unwrap();
    let on_disk: BTreeSet<String> = files_under(&out_dir)
        .iter()
        .map(|p| {
            p.strip_prefix(&out_dir)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .filter(|p| p != fleetform::emit::MANIFEST)
        .collect();
    let claimed: BTreeSet<String> = manifest.files.keys().cloned().collect();
    assert_eq!(claimed, on_disk);
    for path in &claimed {
        assert!(
            fleetform::emit::safe_path(path) && path.starts_with("e1/"),
            "`{path}` is a plain path under the environment's folder"
        );
    }
    assert!(
        claimed.contains("e1/aws/functions/src/alert-a--b-9/handler.py"),
        "the alert name became a path: {claimed:?}"
    );
}

/// The spec's tags as AWS gets them: plus `fleetform-stack = <stack>-<environment>`, which
/// each environment's budget filters on.
fn aws_tags(
    want: &std::collections::BTreeMap<String, String>,
) -> std::collections::BTreeMap<String, String> {
    let mut tags = want.clone();
    tags.insert("fleetform-stack".to_owned(), "inject-both-test".to_owned());
    tags
}
