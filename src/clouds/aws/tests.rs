//! The estimate follows the planner: change a decision the AWS planner makes (the Lambda
//! architecture and memory, the Kinesis shard count) and the Terraform and the estimate both
//! change with it, with no change to `src/cost/`.

use hcl::{Body, Expression};

use super::cost::LambdaArchitecture;
use super::{Flags, design, plan_with};
use crate::cost::{CloudEstimate, Meter, PriceBook, estimate, from_model};
use crate::model::Model;
use crate::plan::{FileContent, Module};
use crate::validate::{NoFiles, validate};

const SPEC: &str = "version: 1
stack:
  name: follow
  environment: test
clouds:
  aws:
    region: eu-west-1
    stream:
      service: kinesis_and_firehose
fleet:
  devices: 20000
messaging:
  messages_per_device_per_hour: 60
pipeline:
  routes:
    - name: all
      to: [stream, archive]
  alerts:
    - name: overheat
      condition: temperature > 90
";

fn model() -> Model {
    validate("follow.yaml", SPEC, &NoFiles)
        .validated
        .expect("valid")
        .model
}

/// The attribute `key` of the resource `ty.name`.
fn resource_attr(module: &Module, ty: &str, name: &str, key: &str) -> Option<Expression> {
    module.files.values().find_map(|f| {
        let FileContent::Hcl(body) = f else {
            return None;
        };
        body.blocks()
            .filter(|b| b.identifier() == "resource")
            .find(|b| {
                let l: Vec<&str> = b.labels().iter().map(hcl::BlockLabel::as_str).collect();
                l == [ty, name]
            })
            .map(hcl::Block::body)
            .and_then(|b: &Body| b.attributes().find(|a| a.key() == key))
            .map(|a| a.expr().clone())
    })
}

/// The AWS estimate of `m` with the decisions `flags`.
fn priced(m: &Model, flags: &Flags) -> CloudEstimate {
    let aws = m.aws.as_ref().expect("aws");
    let d = design(m, aws, flags);
    let book = PriceBook::embedded().expect("price book");
    let meters: [&dyn Meter; 1] = [&*d.bill.meter];
    let mut e = estimate(&from_model::workload(m), &meters, &book).expect("estimates");
    e.clouds.remove(0)
}

fn line<'a>(e: &'a CloudEstimate, service: &str, item: &str) -> &'a crate::cost::Line {
    e.lines
        .iter()
        .find(|l| l.service == service && l.item.starts_with(item))
        .unwrap_or_else(|| panic!("no {service} {item} line in {:#?}", e.lines))
}

#[test]
fn a_changed_function_decision_reaches_the_terraform_and_the_estimate() {
    let m = model();
    let aws = m.aws.as_ref().expect("aws");
    let flags = Flags::new(&m, aws);

    // As decided: x86_64 (no `architectures` argument), 256 MB.
    let module = plan_with(&m, aws, flags).expect("plans");
    let f = ("aws_lambda_function", "alert_overheat");
    assert_eq!(resource_attr(&module, f.0, f.1, "architectures"), None);
    let e = priced(&m, &flags);
    let duration = line(&e, "Lambda", "duration");
    assert_eq!(duration.item, "duration (x86_64)");
    assert!(duration.arithmetic.contains("× 256 MB"), "{duration:?}");

    // Decide otherwise: both views follow.
    let mut arm = flags;
    arm.lambda_architecture = LambdaArchitecture::Arm64;
    arm.lambda_memory_mb = 512;
    let module = plan_with(&m, aws, arm).expect("plans");
    assert_eq!(
        resource_attr(&module, f.0, f.1, "architectures"),
        Some(Expression::Array(vec![Expression::String("arm64".into())]))
    );
    assert_eq!(
        resource_attr(&module, f.0, f.1, "memory_size"),
        Some(Expression::Number(512.into()))
    );
    let bill = design(&m, aws, &arm).bill;
    let functions = bill
        .items
        .iter()
        .find(|i| i.resource_type == "aws_lambda_function" && i.priced)
        .expect("a priced function line");
    assert_eq!(functions.size, "arm64, 512 MB");
    assert_eq!(functions.addresses, ["aws_lambda_function.alert_overheat"]);
    let e = priced(&m, &arm);
    let duration = line(&e, "Lambda", "duration");
    assert_eq!(duration.item, "duration (arm64)");
    assert!(duration.arithmetic.contains("× 512 MB"), "{duration:?}");
    let book = PriceBook::embedded().expect("price book");
    assert!(
        (duration.unit_price_usd - book.aws.lambda.duration_arm64.price_usd).abs() < 1e-12,
        "priced at the arm64 rate"
    );
}

#[test]
fn a_changed_shard_count_reaches_the_terraform_and_the_estimate() {
    let mut m = model();
    for shards in [1, 7] {
        m.aws.as_mut().expect("aws").stream.kinesis_shards = shards;
        let aws = m.aws.as_ref().expect("aws");
        let flags = Flags::new(&m, aws);
        let module = plan_with(&m, aws, flags).expect("plans");
        assert_eq!(
            resource_attr(&module, "aws_kinesis_stream", "telemetry", "shard_count"),
            Some(Expression::Number(shards.into()))
        );
        let e = priced(&m, &flags);
        let hours = line(&e, "Kinesis Data Streams", "shard hours");
        assert!(
            (hours.quantity - f64::from(shards) * 730.0).abs() < 1e-9,
            "{shards} shards: {hours:?}"
        );
    }
}
