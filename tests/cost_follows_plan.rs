//! The estimate prices what the plan builds: for every example and a set of specs chosen to
//! make the planners decide differently (stream services with and without the routes that
//! need them, on-demand and provisioned Kinesis, hub tiers and pins, both Azure alert engines,
//! Capture on and off), each priced line is checked against the Terraform the same spec
//! emits: Kinesis shard hours against `shard_count`, the Lambda architecture and memory
//! against `aws_lambda_function`, the IoT Hub SKU and units against `azurerm_iothub`, Event
//! Hubs units against the namespace's `capacity`, and every priced service against the
//! resource that bills it. Nothing here computes a price; it only compares the two views.

mod common;
mod plan_support;

use fleetform::cost::{CloudEstimate, Estimate, Line, PriceBook};
use fleetform::model::Model;
use fleetform::plan::{Cloud, FileContent, Module};
use hcl::{Block, Body, Expression};
use plan_support::{example_models, model, resources};

fn attr<'a>(body: &'a Body, key: &str) -> Option<&'a Expression> {
    body.attributes()
        .find(|a| a.key() == key)
        .map(hcl::Attribute::expr)
}

/// The default of the input variable `name` of `module`.
fn variable_default<'a>(module: &'a Module, name: &str) -> Option<&'a Expression> {
    module.files.values().find_map(|f| {
        let FileContent::Hcl(body) = f else {
            return None;
        };
        body.blocks()
            .filter(|b| b.identifier() == "variable")
            .find(|b| b.labels().first().is_some_and(|l| l.as_str() == name))
            .and_then(|b| attr(b.body(), "default"))
    })
}

/// A number attribute, or the default of the variable it reads (`var.x`).
fn number_in(module: &Module, body: &Body, key: &str) -> Option<u64> {
    let expr = attr(body, key)?;
    let expr = match expr {
        Expression::Traversal(t) => {
            let text = hcl::format::to_string(&Expression::Traversal(t.clone())).ok()?;
            variable_default(module, text.trim().strip_prefix("var.")?)?
        }
        other => other,
    };
    match expr {
        Expression::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn number(body: &Body, key: &str) -> Option<u64> {
    match attr(body, key)? {
        Expression::Number(n) => n.as_u64(),
        _ => None,
    }
}

fn string(body: &Body, key: &str) -> Option<String> {
    match attr(body, key)? {
        Expression::String(s) => Some(s.clone()),
        _ => None,
    }
}

fn child<'a>(body: &'a Body, ident: &str) -> Option<&'a Block> {
    body.blocks().find(|b| b.identifier() == ident)
}

fn lines<'a>(cloud: &'a CloudEstimate, service: &str) -> Vec<&'a Line> {
    cloud
        .lines
        .iter()
        .filter(|l| l.service == service)
        .collect()
}

fn line<'a>(cloud: &'a CloudEstimate, service: &str, item: &str) -> Option<&'a Line> {
    cloud
        .lines
        .iter()
        .find(|l| l.service == service && l.item == item)
}

/// `local.iot_hubs` of an Azure root: each hub's object, by location.
fn iot_hubs(module: &Module) -> Vec<(String, Body)> {
    let mut out = Vec::new();
    for f in module.files.values() {
        let FileContent::Hcl(body) = f else { continue };
        for b in body.blocks().filter(|b| b.identifier() == "locals") {
            let Some(Expression::Object(hubs)) = attr(b.body(), "iot_hubs") else {
                continue;
            };
            for (key, value) in hubs {
                let Expression::Object(fields) = value else {
                    continue;
                };
                let mut site = Body::builder();
                for (k, v) in fields {
                    let k = match k {
                        hcl::ObjectKey::Identifier(i) => i.to_string(),
                        hcl::ObjectKey::Expression(Expression::String(s)) => s.clone(),
                        _ => continue,
                    };
                    site = site.add_attribute((k, v.clone()));
                }
                let key = match key {
                    hcl::ObjectKey::Identifier(i) => i.to_string(),
                    hcl::ObjectKey::Expression(Expression::String(s)) => s.clone(),
                    hcl::ObjectKey::Expression(e) => hcl::format::to_string(e).unwrap_or_default(),
                    _ => String::new(),
                };
                out.push((key, site.build()));
            }
        }
    }
    out
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

/// Plans and prices `model` the way `fleetform build` and `fleetform cost` do.
fn plan_and_price(model: &Model) -> (Vec<Module>, Estimate) {
    let modules = fleetform::plan_modules(model).expect("plans");
    let book = PriceBook::embedded().expect("price book");
    let estimate = fleetform::cost::from_model::estimate(model, &book).expect("estimates");
    (modules, estimate)
}

fn check_aws(name: &str, module: &Module, bill: &CloudEstimate) {
    let rs = resources(module);
    let of = |ty: &str| rs.iter().filter(|r| r.ty == ty).collect::<Vec<_>>();

    let kinesis = of("aws_kinesis_stream");
    assert_eq!(
        kinesis.is_empty(),
        lines(bill, "Kinesis Data Streams").is_empty(),
        "{name}: Kinesis is priced exactly when the plan builds a stream"
    );
    if let Some(stream) = kinesis.first() {
        let mode = child(stream.body, "stream_mode_details")
            .and_then(|b| string(b.body(), "stream_mode"))
            .unwrap_or_default();
        if mode == "ON_DEMAND" {
            assert!(
                line(bill, "Kinesis Data Streams", "on-demand stream hours").is_some(),
                "{name}: an on-demand stream is priced on demand"
            );
        } else {
            let shards = number(stream.body, "shard_count").expect("shard_count");
            let priced = line(bill, "Kinesis Data Streams", "shard hours")
                .unwrap_or_else(|| panic!("{name}: provisioned shards are priced"));
            assert!(
                close(priced.quantity, shards as f64 * 730.0),
                "{name}: {} shard hours priced, {shards} shards built",
                priced.quantity
            );
        }
    }

    assert_eq!(
        of("aws_kinesis_firehose_delivery_stream").is_empty(),
        line(bill, "Data Firehose", "ingestion").is_none(),
        "{name}: Firehose is priced exactly when the plan builds it"
    );
    // On-demand and serverless services bill nothing without usage: a line needs the
    // resource, a resource no route writes may have no line.
    if !lines(bill, "DynamoDB").is_empty() {
        assert!(
            !of("aws_dynamodb_table").is_empty(),
            "{name}: DynamoDB is priced with no state table"
        );
    }
    if !lines(bill, "S3").is_empty() {
        assert!(
            rs.iter()
                .any(|r| r.ty == "aws_s3_bucket" && r.name == "archive")
                && !of("aws_kinesis_firehose_delivery_stream").is_empty(),
            "{name}: S3 storage is priced only for an archive bucket Firehose writes"
        );
    }

    // The alert functions: the architecture and memory priced are the ones deployed.
    let functions: Vec<_> = of("aws_lambda_function")
        .into_iter()
        .filter(|f| f.name.starts_with("alert"))
        .collect();
    let duration = bill
        .lines
        .iter()
        .find(|l| l.service == "Lambda" && l.item.starts_with("duration"));
    if let Some(duration) = duration {
        assert!(
            !functions.is_empty(),
            "{name}: Lambda is priced with no alert function"
        );
        for f in &functions {
            let arch = match attr(f.body, "architectures") {
                Some(Expression::Array(items)) => match items.as_slice() {
                    [Expression::String(a)] => a.clone(),
                    other => panic!("{name}: architectures {other:?}"),
                },
                None => "x86_64".to_owned(),
                Some(other) => panic!("{name}: architectures {other:?}"),
            };
            assert_eq!(
                duration.item,
                format!("duration ({arch})"),
                "{name}: `{}` runs on {arch}",
                f.name
            );
            let memory = number(f.body, "memory_size").expect("memory_size");
            assert!(
                duration.arithmetic.contains(&format!("× {memory} MB")),
                "{name}: `{}` has {memory} MB: {}",
                f.name,
                duration.arithmetic
            );
        }
    }
}

fn check_azure(name: &str, model: &Model, module: &Module, bill: &CloudEstimate) {
    let rs = resources(module);
    let of = |ty: &str| rs.iter().filter(|r| r.ty == ty).collect::<Vec<_>>();
    // Each hub's SKU and units are in `local.iot_hubs`, which `azurerm_iothub.hub` reads
    // (`each.value.sku`, `each.value.units`): units built per SKU against units priced per SKU.
    let hub = of("azurerm_iothub");
    let sku = child(hub[0].body, "sku").expect("sku").body();
    for key in ["name", "capacity"] {
        let text = hcl::format::to_string(attr(sku, key).expect("sku attribute")).unwrap();
        let wanted = if key == "name" {
            "each.value.sku"
        } else {
            "each.value.units"
        };
        assert_eq!(text.trim(), wanted, "{name}: each hub has its own size");
    }
    let mut built: std::collections::BTreeMap<String, u64> = std::collections::BTreeMap::new();
    for (location, site) in iot_hubs(module) {
        let sku = string(&site, "sku").expect("sku of a hub");
        let units = number(&site, "units").expect("units of a hub");
        *built.entry(sku).or_default() += units;
        let planned = model
            .azure
            .as_ref()
            .expect("azure")
            .hubs
            .iter()
            .find(|h| h.location == location)
            .expect("a planned hub");
        assert_eq!(u64::from(planned.units), units, "{name}: {location}");
    }
    let mut priced: std::collections::BTreeMap<String, f64> = std::collections::BTreeMap::new();
    for l in lines(bill, "IoT Hub")
        .into_iter()
        .filter(|l| l.item.starts_with("hub units"))
    {
        let sku = l
            .unit
            .strip_suffix(" unit-month")
            .expect("a unit-month line");
        *priced.entry(sku.to_owned()).or_default() += l.quantity;
    }
    assert_eq!(
        built.keys().collect::<Vec<_>>(),
        priced.keys().collect::<Vec<_>>(),
        "{name}: the hub SKUs priced are the ones built"
    );
    for (sku, units) in &built {
        assert!(
            close(priced[sku], *units as f64),
            "{name}: {} {sku} hub units priced, {units} built",
            priced[sku]
        );
    }

    let namespace = of("azurerm_eventhub_namespace");
    if let Some(tu) = line(bill, "Event Hubs", "throughput unit hours") {
        let ns = namespace.first().expect("an Event Hubs namespace");
        let (tier, capacity) = (
            string(ns.body, "sku").expect("sku"),
            number(ns.body, "capacity").expect("capacity"),
        );
        assert_eq!(
            tu.unit,
            format!("{tier} TU-hour"),
            "{name}: Event Hubs tier"
        );
        assert!(
            close(tu.quantity, capacity as f64 * 730.0),
            "{name}: {} TU-hours priced, {capacity} TUs built",
            tu.quantity
        );
    }
    let captured = of("azurerm_eventhub")
        .iter()
        .any(|h| child(h.body, "capture_description").is_some());
    assert_eq!(
        captured,
        line(bill, "Event Hubs", "Capture").is_some(),
        "{name}: Capture is priced exactly when an event hub captures"
    );
    let jobs = of("azurerm_stream_analytics_job");
    let streaming = line(bill, "Stream Analytics", "streaming units");
    assert_eq!(
        jobs.is_empty(),
        streaming.is_none(),
        "{name}: Stream Analytics is priced exactly when the plan builds a job"
    );
    if let (Some(job), Some(priced)) = (jobs.first(), streaming) {
        let units = number_in(module, job.body, "streaming_units").expect("streaming_units");
        assert!(
            close(priced.quantity, units as f64 * 730.0),
            "{name}: {} SU-hours priced, {units} SU built",
            priced.quantity
        );
    }
    if !lines(bill, "Cosmos DB").is_empty() {
        assert!(
            !of("azurerm_cosmosdb_account").is_empty(),
            "{name}: Cosmos DB is priced with no account"
        );
    }
    // The alert function app runs for every matching message, whichever engine matches.
    let alert_app = rs
        .iter()
        .any(|r| r.ty == "azurerm_linux_function_app" && r.name == "alerts");
    let invoked = model
        .alerts
        .iter()
        .any(|a| a.function && a.expected_match_fraction > 0.0);
    assert_eq!(
        alert_app && invoked,
        !lines(bill, "Functions").is_empty(),
        "{name}: Functions are priced exactly when the alert function app runs"
    );
    if !lines(bill, "Blob Storage").is_empty() {
        assert!(
            !of("azurerm_storage_account").is_empty(),
            "{name}: Blob storage is priced with no storage account"
        );
    }
}

fn check(name: &str, model: &Model) {
    let (modules, estimate) = plan_and_price(model);
    for module in &modules {
        let bill = estimate
            .cloud(module.cloud)
            .unwrap_or_else(|| panic!("{name}: {} is not priced", module.cloud));
        match module.cloud {
            Cloud::Aws => check_aws(name, module, bill),
            Cloud::Azure => check_azure(name, model, module, bill),
        }
    }
    assert_eq!(
        modules.len(),
        estimate.clouds.len(),
        "{name}: every planned cloud, and only those, is priced"
    );
}

#[test]
fn every_example_is_priced_as_planned() {
    for (name, model) in example_models() {
        check(&name, &model);
    }
}

/// A spec on AWS with `stream` under `clouds.aws.stream` and `routes` as the route list.
fn aws(stream: &str, routes: &str, rest: &str) -> String {
    format!(
        "version: 1\nstack:\n  name: follow\n  environment: test\nclouds:\n  aws:\n    region: eu-west-1\n    stream:\n      {stream}\nfleet:\n  devices: 40000\nmessaging:\n  messages_per_device_per_hour: 120\n  message_bytes: 900\npipeline:\n  routes:\n{routes}  alerts:\n    - name: overheat\n      condition: temperature > 90\n{rest}"
    )
}

/// A spec on Azure with `azure` under `clouds.azure`.
fn azure(azure: &str, rest: &str) -> String {
    format!(
        "version: 1\nstack:\n  name: follow\n  environment: test\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-follow\n{azure}fleet:\n  devices: 20000\nmessaging:\n  messages_per_device_per_hour: 60\n  message_bytes: 700\n{rest}"
    )
}

#[test]
fn planner_choices_are_priced_as_planned() {
    let stream_and_archive = "    - name: all\n      to: [stream, archive]\n";
    let archive_only = "    - name: all\n      to: [archive]\n";
    let stream_only = "    - name: all\n      to: [stream, state_store]\n";
    let cases = [
        (
            "kinesis-beside-firehose",
            aws(
                "service: kinesis",
                "    - name: hot\n      to: [stream]\n    - name: all\n      to: [archive]\n",
                "",
            ),
        ),
        (
            "kinesis-archive-only",
            aws("service: kinesis", archive_only, ""),
        ),
        (
            "kinesis-on-demand",
            aws(
                "service: kinesis\n      kinesis_capacity: on_demand",
                stream_and_archive,
                "",
            ),
        ),
        (
            "kinesis-and-firehose",
            aws("service: kinesis_and_firehose", stream_and_archive, ""),
        ),
        (
            "firehose-without-archive",
            aws(
                "service: firehose",
                stream_only,
                "  state_store:\n    enabled: true\nstorage:\n  archive:\n    enabled: false\n",
            ),
        ),
        (
            "kinesis-many-shards",
            aws("service: kinesis", stream_and_archive, "")
                .replace("devices: 40000", "devices: 400000"),
        ),
        (
            "azure-stream-analytics",
            azure(
                "    alert_engine: stream_analytics\n",
                "pipeline:\n  routes:\n    - name: all\n      to: [stream, archive]\n  alerts:\n    - name: overheat\n      condition: temperature > 90\n",
            ),
        ),
        (
            "azure-stream-analytics-with-functions",
            azure(
                "    alert_engine: stream_analytics\n",
                "pipeline:\n  routes:\n    - name: all\n      to: [stream]\n  alerts:\n    - name: overheat\n      condition: temperature > 90\n      function: true\n",
            ),
        ),
        (
            "azure-capture-off-basic-eventhubs",
            azure(
                "    event_hubs:\n      tier: basic\n      capture: false\n",
                "pipeline:\n  routes:\n    - name: all\n      to: [stream, archive]\n",
            ),
        ),
        (
            "azure-pinned-hub-two-sites",
            azure(
                "    iot_hub:\n      sku: S2\n      units: 2\n    dps:\n      linked_hubs:\n        - location: westeurope\n        - location: northeurope\n      enrollment_groups: [{name: devices}]\n",
                "pipeline:\n  routes:\n    - name: all\n      to: [stream]\n  state_store:\n    enabled: true\n",
            ),
        ),
    ];
    for (name, yaml) in cases {
        check(name, &model(name, &yaml));
    }
}
