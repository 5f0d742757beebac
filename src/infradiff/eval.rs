//! Evaluates a planned module the way `terraform plan` sees it, instance by instance.
//!
//! Comparing expressions as written misses most of what a spec change does: every name is
//! built from `local.name_prefix`, sizes come from variable defaults, the registry is a
//! `for_each` over a JSON file. So the module is evaluated with hcl-rs's evaluator
//! ([`hcl::eval`]) and the Terraform functions in `funcs.rs`: variables take their
//! defaults, locals and resources are evaluated in dependency order, `for_each` and `count`
//! expand into instances (`aws_iot_thing.registry["sensor-1"]`).
//!
//! What only the cloud knows (an ARN, an id, an account id) stays symbolic: a reference to a
//! computed attribute becomes `${aws_s3_bucket.archive.arn}` while the resource keeps its
//! identity, and [`UNKNOWN`] once it is created or re-created, so a change travels to whatever
//! is built from it, exactly as the value would be unknown in Terraform's plan. Which of the
//! two applies is the caller's decision ([`Identity`]), made as each instance is evaluated,
//! because it depends on the other build.
//!
//! About 700 lines, 110 of them tests: the evaluator is one recursive walk over HCL
//! expressions, and its cases (traversals, splats, `for`, templates, unknowns) read best together.

use std::collections::{BTreeMap, BTreeSet};

use hcl::eval::{Context, Evaluate};
use hcl::{Body, Expression, Structure, Value};

use super::funcs::{self, UNKNOWN};
use super::refs::Refs;
use crate::plan::tf::COMMENT_SENTINEL;
use crate::plan::{FileContent, Module};

/// Marks a computed value of a data source that is read again with new arguments.
pub const REREAD: char = '\u{e001}';
/// Marks an expression fleetform could not evaluate; the rest of the string is its source.
pub const UNEVALUATED: char = '\u{e002}';

/// A managed resource or a data source.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Mode {
    Managed,
    Data,
}

/// An evaluated argument: a value, or the nested blocks of that name, in order.
#[derive(Debug, Clone, PartialEq)]
pub enum Arg {
    Value(Value),
    Blocks(Vec<Args>),
}

/// Evaluated arguments of a resource or a nested block.
pub type Args = BTreeMap<String, Arg>;

/// The `lifecycle` block of a resource.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lifecycle {
    /// Argument paths Terraform does not plan changes for.
    pub ignore_changes: Vec<String>,
    /// `ignore_changes = all`.
    pub ignore_all: bool,
    pub prevent_destroy: bool,
}

/// One resource or data source instance.
#[derive(Debug, Clone)]
pub struct Instance {
    pub mode: Mode,
    /// Resource type: `aws_s3_bucket`.
    pub ty: String,
    /// Address without the instance key: `aws_s3_bucket.archive`, `data.aws_partition.current`.
    pub resource: String,
    pub args: Args,
    pub lifecycle: Lifecycle,
    /// Resources named in `depends_on`.
    pub depends_on: Vec<String>,
}

/// An evaluated module.
#[derive(Debug, Clone, Default)]
pub struct Evaluated {
    /// Every instance by address: `aws_iot_thing.registry["sensor-1"]`.
    pub instances: BTreeMap<String, Instance>,
    /// Provider configurations by name (`aws`, `azurerm`).
    pub providers: BTreeMap<String, Args>,
    /// Resources (`TYPE.NAME`) whose configuration sets `prevent_destroy`, with instances or
    /// without (a `count` of 0 still protects what the state holds).
    pub protected: BTreeSet<String>,
}

/// What a computed attribute of an instance is worth while the other build is compared.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Known {
    /// The instance keeps the identity it had at this address: its computed attributes are
    /// what they were.
    Same(String),
    /// A data source read again with new arguments: known at plan time, but new.
    Reread(String),
    /// Created or re-created (or read only at apply): known after apply.
    Unknown,
}

/// Decides, instance by instance, whether computed attributes keep their values.
pub trait Identity {
    fn identity(&mut self, address: &str, instance: &Instance) -> Known;
}

/// The identity of every instance is its own address: the side compared against.
pub struct Baseline;

impl Identity for Baseline {
    fn identity(&mut self, address: &str, _: &Instance) -> Known {
        Known::Same(address.to_owned())
    }
}

/// `moved` blocks of a module, as (from, to) addresses.
pub fn moved_blocks(module: &Module) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for b in blocks(module) {
        if b.identifier.as_str() != "moved" {
            continue;
        }
        let get = |key: &str| {
            b.body
                .attributes()
                .find(|a| a.key.as_str() == key)
                .map(|a| source(&a.expr))
        };
        if let (Some(from), Some(to)) = (get("from"), get("to")) {
            out.push((from, to));
        }
    }
    out
}

fn blocks(module: &Module) -> impl Iterator<Item = &hcl::Block> {
    module
        .files
        .values()
        .filter_map(|c| match c {
            FileContent::Hcl(body) => Some(body),
            _ => None,
        })
        .flat_map(|body| body.blocks())
}

fn source(e: &Expression) -> String {
    hcl::format::to_string(e).unwrap_or_default()
}

/// Every argument path resources of `body` set, as `(type, path)` (`rule.transition.days`),
/// meta-arguments left out: what the providers' replacement tables must cover.
pub fn argument_paths(body: &Body) -> BTreeSet<(String, String)> {
    fn walk(ty: &str, body: &Body, prefix: &str, top: bool, out: &mut BTreeSet<(String, String)>) {
        for s in body {
            match s {
                Structure::Attribute(a) => {
                    let key = a.key.as_str();
                    if key != COMMENT_SENTINEL && !(top && META.contains(&key)) {
                        out.insert((ty.to_owned(), format!("{prefix}{key}")));
                    }
                }
                Structure::Block(b) => {
                    let name = b.identifier.as_str();
                    if !(top && META_BLOCKS.contains(&name)) {
                        walk(ty, &b.body, &format!("{prefix}{name}."), false, out);
                    }
                }
            }
        }
    }
    let mut out = BTreeSet::new();
    for b in body.blocks() {
        if let ("resource", [ty, _]) = (
            b.identifier.as_str(),
            b.labels
                .iter()
                .map(hcl::BlockLabel::as_str)
                .collect::<Vec<_>>()
                .as_slice(),
        ) {
            walk(ty, &b.body, "", true, &mut out);
        }
    }
    out
}

/// What a node of the dependency graph is.
enum Kind<'a> {
    Local(&'a Expression),
    Resource {
        mode: Mode,
        ty: &'a str,
        name: &'a str,
        body: &'a Body,
    },
    Provider(&'a str, &'a Body),
}

/// Meta-arguments: they shape instances, they are not arguments the provider sees.
const META: &[&str] = &["for_each", "count", "depends_on", "provider"];
const META_BLOCKS: &[&str] = &["lifecycle", "provisioner", "connection"];

/// How a resource expands.
enum Expansion {
    Single,
    Count(u64),
    Each(Vec<(String, Value)>),
}

/// The evaluation under way.
struct State<'a> {
    vars: hcl::Map<String, Value>,
    locals: BTreeMap<String, Value>,
    /// Values of resources by `TYPE.NAME` or `data.TYPE.NAME`: an instance object, a list
    /// (`count`) or a map (`for_each`).
    resources: BTreeMap<String, Value>,
    /// Attribute names expressions read from resources; each instance gets a stand-in for the
    /// ones its configuration does not set.
    computed: BTreeSet<String>,
    out: Evaluated,
    identity: &'a mut dyn Identity,
}

/// Evaluates `module`; `identity` decides what computed attributes are worth.
pub fn evaluate(module: &Module, identity: &mut dyn Identity) -> Evaluated {
    let files: BTreeMap<String, Vec<u8>> = module
        .files
        .iter()
        .filter_map(|(p, c)| match c {
            FileContent::Text(t) => Some((p.clone(), t.clone().into_bytes())),
            FileContent::Bytes(b) => Some((p.clone(), b.clone())),
            FileContent::Stream(s) => {
                let mut b = Vec::new();
                // Writing into a Vec cannot fail.
                let _ = s.write_to(&mut b);
                Some((p.clone(), b))
            }
            FileContent::Hcl(_) => None,
        })
        .collect();
    let _files = funcs::FilesGuard::new(files);

    let mut vars = hcl::Map::new();
    let mut nodes: Vec<(String, Kind)> = Vec::new();
    for b in blocks(module) {
        let labels: Vec<&str> = b.labels.iter().map(hcl::BlockLabel::as_str).collect();
        match (b.identifier.as_str(), labels.as_slice()) {
            ("variable", [name]) => {
                let default = b
                    .body
                    .attributes()
                    .find(|a| a.key.as_str() == "default")
                    .and_then(|a| a.expr.evaluate(&funcs::context()).ok())
                    .unwrap_or_else(|| Value::String(format!("${{var.{name}}}")));
                vars.insert((*name).to_owned(), default);
            }
            ("locals", []) => {
                for a in b.body.attributes() {
                    if a.key.as_str() != COMMENT_SENTINEL {
                        nodes.push((format!("local.{}", a.key.as_str()), Kind::Local(&a.expr)));
                    }
                }
            }
            ("resource", [ty, name]) => nodes.push((
                format!("{ty}.{name}"),
                Kind::Resource {
                    mode: Mode::Managed,
                    ty,
                    name,
                    body: &b.body,
                },
            )),
            ("data", [ty, name]) => nodes.push((
                format!("data.{ty}.{name}"),
                Kind::Resource {
                    mode: Mode::Data,
                    ty,
                    name,
                    body: &b.body,
                },
            )),
            ("provider", [name]) => {
                nodes.push((format!("provider.{name}"), Kind::Provider(name, &b.body)));
            }
            _ => {}
        }
    }

    // Dependencies, and every attribute read from a resource.
    let mut computed = BTreeSet::from(["id".to_owned()]);
    let ids: BTreeSet<String> = nodes.iter().map(|(id, _)| id.clone()).collect();
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (id, kind) in &nodes {
        let mut refs = Refs::default();
        match kind {
            Kind::Local(e) => refs.expr(e),
            Kind::Resource { body, .. } | Kind::Provider(_, body) => refs.body(body),
        }
        computed.extend(refs.attrs);
        let mut d: BTreeSet<String> = refs.nodes.into_iter().filter(|n| ids.contains(n)).collect();
        d.remove(id);
        deps.insert(id.clone(), d);
    }

    let mut state = State {
        vars,
        locals: BTreeMap::new(),
        resources: BTreeMap::new(),
        computed,
        out: Evaluated::default(),
        identity,
    };
    for i in topological(&nodes, &deps) {
        let (id, kind) = &nodes[i];
        let ctx = state.context(&deps[id]);
        match kind {
            Kind::Local(e) => {
                let v = eval_expr(e, &ctx);
                state.locals.insert(id["local.".len()..].to_owned(), v);
            }
            Kind::Provider(name, body) => {
                let args = eval_body(body, &ctx, true);
                state.out.providers.insert((*name).to_owned(), args);
            }
            Kind::Resource {
                mode,
                ty,
                name,
                body,
            } => state.resource(*mode, ty, name, body, ctx),
        }
    }
    state.out
}

/// Node indexes in an order where every node comes after what it depends on (Kahn's
/// algorithm, ties broken by position, so the order is deterministic). Nodes on a cycle,
/// which Terraform would reject, come last.
fn topological(nodes: &[(String, Kind)], deps: &BTreeMap<String, BTreeSet<String>>) -> Vec<usize> {
    let index: BTreeMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (id.as_str(), i))
        .collect();
    let mut waiting: Vec<usize> = nodes.iter().map(|(id, _)| deps[id].len()).collect();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (id, d) in deps {
        for dep in d {
            dependents[index[dep.as_str()]].push(index[id.as_str()]);
        }
    }
    let mut ready: BTreeSet<usize> = (0..nodes.len()).filter(|&i| waiting[i] == 0).collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(i) = ready.pop_first() {
        order.push(i);
        for &j in &dependents[i] {
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.insert(j);
            }
        }
    }
    let placed: BTreeSet<usize> = order.iter().copied().collect();
    order.extend((0..nodes.len()).filter(|i| !placed.contains(i)));
    order
}

impl State<'_> {
    /// A context with the variables, and the locals and resources `refs` name.
    fn context(&self, refs: &BTreeSet<String>) -> Context<'static> {
        let mut ctx = funcs::context();
        ctx.declare_var("var", Value::Object(self.vars.clone()));
        let path: hcl::Map<String, Value> = ["module", "root", "cwd"]
            .iter()
            .map(|k| ((*k).to_owned(), Value::from(".")))
            .collect();
        ctx.declare_var("path", Value::Object(path));
        let mut terraform = hcl::Map::new();
        terraform.insert("workspace".to_owned(), Value::from("default"));
        ctx.declare_var("terraform", Value::Object(terraform));
        let mut locals = hcl::Map::new();
        let mut data: BTreeMap<&str, hcl::Map<String, Value>> = BTreeMap::new();
        let mut managed: BTreeMap<&str, hcl::Map<String, Value>> = BTreeMap::new();
        for r in refs {
            if let Some(name) = r.strip_prefix("local.") {
                if let Some(v) = self.locals.get(name) {
                    locals.insert(name.to_owned(), v.clone());
                }
            } else if let Some(v) = self.resources.get(r) {
                let (group, rest) = match r.strip_prefix("data.") {
                    Some(rest) => (&mut data, rest),
                    None => (&mut managed, r.as_str()),
                };
                if let Some((ty, name)) = rest.split_once('.') {
                    group
                        .entry(ty)
                        .or_default()
                        .insert(name.to_owned(), v.clone());
                }
            }
        }
        ctx.declare_var("local", Value::Object(locals));
        let data: hcl::Map<String, Value> = data
            .into_iter()
            .map(|(ty, m)| (ty.to_owned(), Value::Object(m)))
            .collect();
        ctx.declare_var("data", Value::Object(data));
        for (ty, m) in managed {
            ctx.declare_var(ty, Value::Object(m));
        }
        ctx
    }

    fn resource(&mut self, mode: Mode, ty: &str, name: &str, body: &Body, mut ctx: Context) {
        let resource = match mode {
            Mode::Managed => format!("{ty}.{name}"),
            Mode::Data => format!("data.{ty}.{name}"),
        };
        let meta = |key: &str| body.attributes().find(|a| a.key.as_str() == key);
        let expansion = if let Some(a) = meta("for_each") {
            match eval_expr(&a.expr, &ctx) {
                Value::Object(m) => Expansion::Each(m.into_iter().collect()),
                Value::Array(items) => {
                    Expansion::Each(items.into_iter().map(|v| (display_key(&v), v)).collect())
                }
                Value::Null => Expansion::Each(Vec::new()),
                other => Expansion::Each(vec![(display_key(&other), other)]),
            }
        } else if let Some(a) = meta("count") {
            match eval_expr(&a.expr, &ctx) {
                Value::Number(n) => Expansion::Count(n.as_u64().unwrap_or(0)),
                _ => Expansion::Count(1),
            }
        } else {
            Expansion::Single
        };
        let lifecycle = lifecycle(body);
        if lifecycle.prevent_destroy && mode == Mode::Managed {
            self.out.protected.insert(resource.clone());
        }
        let depends_on: Vec<String> = meta("depends_on")
            .and_then(|a| match &a.expr {
                Expression::Array(items) => Some(items.iter().map(source).collect()),
                _ => None,
            })
            .unwrap_or_default();
        let instance = |address: String, ctx: &Context, state: &mut Self| -> Value {
            let inst = Instance {
                mode,
                ty: ty.to_owned(),
                resource: resource.clone(),
                args: eval_body(body, ctx, true),
                lifecycle: lifecycle.clone(),
                depends_on: depends_on.clone(),
            };
            let known = state.identity.identity(&address, &inst);
            let value = state.instance_value(&inst.args, &known);
            state.out.instances.insert(address, inst);
            value
        };
        let value = match expansion {
            Expansion::Single => instance(resource.clone(), &ctx, self),
            Expansion::Count(n) => {
                let mut items = Vec::new();
                for i in 0..n {
                    let mut count = hcl::Map::new();
                    count.insert("index".to_owned(), Value::from(i));
                    ctx.declare_var("count", Value::Object(count));
                    items.push(instance(format!("{resource}[{i}]"), &ctx, self));
                }
                Value::Array(items)
            }
            Expansion::Each(entries) => {
                let mut map = hcl::Map::new();
                for (key, v) in entries {
                    let mut each = hcl::Map::new();
                    each.insert("key".to_owned(), Value::from(key.clone()));
                    each.insert("value".to_owned(), v);
                    ctx.declare_var("each", Value::Object(each));
                    let address = format!("{resource}[{}]", quote(&key));
                    map.insert(key, instance(address, &ctx, self));
                }
                Value::Object(map)
            }
        };
        self.resources.insert(resource, value);
    }

    /// What other expressions see of an instance: its arguments, and a stand-in for every
    /// computed attribute they read.
    fn instance_value(&self, args: &Args, known: &Known) -> Value {
        let Value::Object(mut obj) = args_value(args) else {
            unreachable!("arguments are an object")
        };
        for attr in &self.computed {
            if obj.contains_key(attr) {
                continue;
            }
            let stand_in = match known {
                Known::Same(address) => format!("${{{address}.{attr}}}"),
                Known::Reread(address) => format!("${{{address}.{attr}}}{REREAD}"),
                Known::Unknown => UNKNOWN.to_owned(),
            };
            obj.insert(attr.clone(), Value::String(stand_in));
        }
        Value::Object(obj)
    }
}

/// A `for_each` key as Terraform writes it: strings as they are, anything else as text.
fn display_key(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A quoted instance key: `"sensor-1"`.
pub fn quote(key: &str) -> String {
    serde_json::to_string(key).unwrap_or_default()
}

/// Arguments as the value an expression sees: blocks become lists of objects.
pub fn args_value(args: &Args) -> Value {
    let mut obj = hcl::Map::new();
    for (k, a) in args {
        let v = match a {
            Arg::Value(v) => v.clone(),
            Arg::Blocks(blocks) => Value::Array(blocks.iter().map(args_value).collect()),
        };
        obj.insert(k.clone(), v);
    }
    Value::Object(obj)
}

fn lifecycle(body: &Body) -> Lifecycle {
    let mut out = Lifecycle::default();
    for b in body
        .blocks()
        .filter(|b| b.identifier.as_str() == "lifecycle")
    {
        for a in b.body.attributes() {
            match (a.key.as_str(), &a.expr) {
                ("prevent_destroy", Expression::Bool(v)) => out.prevent_destroy = *v,
                ("ignore_changes", Expression::Array(items)) => {
                    out.ignore_changes.extend(items.iter().map(source));
                }
                ("ignore_changes", _) => out.ignore_all = true,
                _ => {}
            }
        }
    }
    out
}

/// Evaluates the arguments and nested blocks of a body.
fn eval_body(body: &Body, ctx: &Context, top: bool) -> Args {
    let mut out = Args::new();
    for s in body {
        match s {
            Structure::Attribute(a) => {
                let key = a.key.as_str();
                if key == COMMENT_SENTINEL || (top && META.contains(&key)) {
                    continue;
                }
                out.insert(key.to_owned(), Arg::Value(eval_expr(&a.expr, ctx)));
            }
            Structure::Block(b) => {
                let name = b.identifier.as_str();
                if top && META_BLOCKS.contains(&name) {
                    continue;
                }
                let entry = out
                    .entry(name.to_owned())
                    .or_insert_with(|| Arg::Blocks(Vec::new()));
                if let Arg::Blocks(list) = entry {
                    list.push(eval_body(&b.body, ctx, false));
                }
            }
        }
    }
    out
}

/// The value of an expression; what cannot be evaluated keeps its (partly evaluated) source,
/// marked [`UNEVALUATED`], so it still compares and still shows.
fn eval_expr(e: &Expression, ctx: &Context) -> Value {
    if let Ok(v) = e.evaluate(ctx) {
        return v;
    }
    let mut partial = e.clone();
    let _ = partial.evaluate_in_place(ctx);
    Value::String(format!("{UNEVALUATED}{}", source(&partial)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Cloud;

    fn module(src: &str) -> Module {
        let mut m = Module::new(Cloud::Aws);
        m.files.insert(
            "main.tf".to_owned(),
            FileContent::Hcl(hcl::from_str(src).unwrap()),
        );
        m
    }

    fn value<'a>(e: &'a Evaluated, address: &str, arg: &str) -> &'a Value {
        match &e.instances[address].args[arg] {
            Arg::Value(v) => v,
            Arg::Blocks(_) => panic!("{arg} is a block"),
        }
    }

    const SRC: &str = r#"
variable "region" {
  default = "eu-west-1"
}
locals {
  name_prefix = "fleet-${var.region}"
  devices     = { a = { type = "t1" }, b = { type = "t2" } }
}
resource "aws_s3_bucket" "archive" {
  bucket = "${local.name_prefix}-archive"
}
resource "aws_s3_bucket_policy" "archive" {
  bucket = aws_s3_bucket.archive.id
  policy = jsonencode({ arn = aws_s3_bucket.archive.arn })
}
resource "aws_iot_thing" "registry" {
  for_each        = local.devices
  name            = each.key
  thing_type_name = each.value.type
}
resource "aws_iot_thing_principal_attachment" "registry" {
  for_each = aws_iot_thing.registry
  thing    = each.value.name
  principal = each.value.arn
}
resource "aws_sns_topic" "alerts" {
  count = 2
  name  = "t-${count.index}"
}
"#;

    #[test]
    fn locals_templates_and_instances_are_evaluated() {
        let e = evaluate(&module(SRC), &mut Baseline);
        assert_eq!(
            value(&e, "aws_s3_bucket.archive", "bucket"),
            &Value::from("fleet-eu-west-1-archive")
        );
        assert_eq!(
            value(&e, "aws_iot_thing.registry[\"b\"]", "thing_type_name"),
            &Value::from("t2")
        );
        assert_eq!(
            value(
                &e,
                "aws_iot_thing_principal_attachment.registry[\"a\"]",
                "principal"
            ),
            &Value::from("${aws_iot_thing.registry[\"a\"].arn}")
        );
        assert_eq!(
            value(&e, "aws_sns_topic.alerts[1]", "name"),
            &Value::from("t-1")
        );
        assert_eq!(
            value(&e, "aws_s3_bucket_policy.archive", "bucket"),
            &Value::from("${aws_s3_bucket.archive.id}")
        );
    }

    #[test]
    fn a_recreated_resource_makes_what_reads_it_unknown() {
        struct New;
        impl Identity for New {
            fn identity(&mut self, address: &str, _: &Instance) -> Known {
                if address == "aws_s3_bucket.archive" {
                    Known::Unknown
                } else {
                    Known::Same(address.to_owned())
                }
            }
        }
        let e = evaluate(&module(SRC), &mut New);
        assert_eq!(
            value(&e, "aws_s3_bucket_policy.archive", "bucket"),
            &Value::from(UNKNOWN)
        );
        assert_eq!(
            value(&e, "aws_s3_bucket_policy.archive", "policy"),
            &Value::from(UNKNOWN)
        );
    }

    #[test]
    fn what_cannot_be_evaluated_keeps_its_source() {
        let e = evaluate(
            &module("resource \"aws_x\" \"y\" {\n  a = nosuchfunc(1)\n}\n"),
            &mut Baseline,
        );
        assert_eq!(
            value(&e, "aws_x.y", "a"),
            &Value::from(format!("{UNEVALUATED}nosuchfunc(1)"))
        );
    }
}
