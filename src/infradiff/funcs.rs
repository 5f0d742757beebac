//! The Terraform functions that generated modules call, for [`hcl::eval`].
//!
//! hcl-rs evaluates expressions but knows no Terraform function; these are the ones
//! fleetform's planners emit outside validation rules (which the diff never evaluates), with
//! Terraform's semantics where it matters for a comparison. Values only known after apply
//! travel as [`UNKNOWN`]: a function that computes from one returns it, structural ones
//! (`merge`, `concat`, `length` ...) keep it in place. `file` reads the module's own files
//! (registry data, templates) from the module being evaluated, never the disk.
//!
//! Over 600 lines: one small function per Terraform built-in the generated code calls, each
//! with its rule for unknown values, behind one dispatch table; split by family they would
//! scatter that table.

// hcl-rs's `FuncDef` takes `fn(FuncArgs) -> Result<Value, String>`: the arguments come by value.
#![allow(clippy::needless_pass_by_value)]

use std::cell::RefCell;
use std::collections::BTreeMap;

use hcl::Value;
use hcl::eval::{Context, FuncArgs, FuncDef, ParamType};

/// A value Terraform only learns when it applies (an ARN of a resource being created).
pub const UNKNOWN: &str = "\u{e000}(known after apply)\u{e000}";

/// Whether `v` contains a value that is only known after apply.
pub fn has_unknown(v: &Value) -> bool {
    match v {
        Value::String(s) => s.contains('\u{e000}'),
        Value::Array(items) => items.iter().any(has_unknown),
        Value::Object(map) => map.values().any(has_unknown),
        _ => false,
    }
}

thread_local! {
    /// The files of the module being evaluated (HCL left out), by path relative to the module.
    static FILES: RefCell<BTreeMap<String, Vec<u8>>> = const { RefCell::new(BTreeMap::new()) };
}

/// Makes a module's files readable by `file()` and the `file*sha256` functions until the
/// guard is dropped.
pub struct FilesGuard(());

impl FilesGuard {
    pub fn new(files: BTreeMap<String, Vec<u8>>) -> Self {
        FILES.with(|f| *f.borrow_mut() = files);
        FilesGuard(())
    }
}

impl Drop for FilesGuard {
    fn drop(&mut self) {
        FILES.with(|f| f.borrow_mut().clear());
    }
}

/// `./registry/devices.json`, `registry/devices.json` → `registry/devices.json`.
fn module_relative(path: &str) -> String {
    let mut p = path;
    while let Some(rest) = p.strip_prefix("./") {
        p = rest;
    }
    p.to_owned()
}

fn variadic(f: hcl::eval::Func) -> FuncDef {
    FuncDef::builder().variadic_param(ParamType::Any).build(f)
}

/// A context with every function declared.
pub fn context() -> Context<'static> {
    let mut ctx = Context::new();
    let funcs: &[(&str, hcl::eval::Func)] = &[
        ("merge", merge),
        ("concat", concat),
        ("flatten", flatten),
        ("length", length),
        ("toset", toset),
        ("distinct", toset_ordered),
        ("sort", sort),
        ("tolist", identity),
        ("tomap", identity),
        ("tostring", tostring),
        ("tonumber", identity),
        ("tobool", identity),
        ("keys", keys),
        ("values", values),
        ("lookup", lookup),
        ("contains", contains),
        ("coalesce", coalesce),
        ("coalescelist", coalesce),
        ("one", one),
        ("element", element),
        ("join", join),
        ("split", split),
        ("lower", lower),
        ("upper", upper),
        ("replace", replace),
        ("trimprefix", trimprefix),
        ("trimsuffix", trimsuffix),
        ("startswith", startswith),
        ("endswith", endswith),
        ("substr", substr),
        ("sha256", sha256),
        ("min", min),
        ("max", max),
        ("jsonencode", jsonencode),
        ("jsondecode", jsondecode),
        ("file", file),
        ("fileexists", fileexists),
        ("filebase64sha256", filebase64sha256),
        ("filesha256", filesha256),
        ("filemd5", filemd5),
        ("timestamp", stable_now),
        ("plantimestamp", stable_now),
        ("formatdate", formatdate),
    ];
    for (name, f) in funcs {
        ctx.declare_func(*name, variadic(*f));
    }
    ctx
}

fn arity(args: &FuncArgs, n: usize) -> Result<(), String> {
    if args.len() == n {
        Ok(())
    } else {
        Err(format!("expected {n} argument(s), got {}", args.len()))
    }
}

fn string(v: &Value) -> Result<String, String> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        Value::Bool(b) => Ok(b.to_string()),
        other => Err(format!("expected a string, got `{other}`")),
    }
}

fn array(v: &Value) -> Result<&Vec<Value>, String> {
    v.as_array()
        .ok_or_else(|| format!("expected a list, got `{v}`"))
}

/// Functions that compute a new value from their arguments return [`UNKNOWN`] when any
/// argument is unknown, like Terraform.
fn unknown_in(args: &FuncArgs) -> bool {
    args.iter().any(has_unknown)
}

fn merge(args: FuncArgs) -> Result<Value, String> {
    let mut out = hcl::Map::new();
    for a in args.iter() {
        match a {
            Value::Object(m) => {
                for (k, v) in m {
                    out.insert(k.clone(), v.clone());
                }
            }
            Value::Null => {}
            other => return Err(format!("merge expects objects, got `{other}`")),
        }
    }
    Ok(Value::Object(out))
}

fn concat(args: FuncArgs) -> Result<Value, String> {
    let mut out = Vec::new();
    for a in args.iter() {
        out.extend(array(a)?.iter().cloned());
    }
    Ok(Value::Array(out))
}

fn flatten_into(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Array(items) => items.iter().for_each(|i| flatten_into(i, out)),
        other => out.push(other.clone()),
    }
}

fn flatten(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let mut out = Vec::new();
    flatten_into(&Value::Array(array(&args[0])?.clone()), &mut out);
    Ok(Value::Array(out))
}

fn length(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let n = match &args[0] {
        Value::Array(a) => a.len(),
        Value::Object(m) => m.len(),
        Value::String(s) if has_unknown(&args[0]) => return Ok(Value::String(s.clone())),
        Value::String(s) => s.chars().count(),
        other => return Err(format!("length of `{other}`")),
    };
    Ok(Value::from(n as u64))
}

/// Sets are sorted, duplicate-free lists: Terraform orders a set of strings lexically.
fn toset(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let mut items = array(&args[0])?.clone();
    items.sort_by_key(ToString::to_string);
    items.dedup();
    Ok(Value::Array(items))
}

fn toset_ordered(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let mut out: Vec<Value> = Vec::new();
    for i in array(&args[0])? {
        if !out.contains(i) {
            out.push(i.clone());
        }
    }
    Ok(Value::Array(out))
}

fn sort(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let mut items = array(&args[0])?.clone();
    items.sort_by_key(ToString::to_string);
    Ok(Value::Array(items))
}

fn identity(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    Ok(args[0].clone())
}

fn tostring(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    match &args[0] {
        Value::Null => Ok(Value::Null),
        v => string(v).map(Value::String),
    }
}

fn keys(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let m = args[0]
        .as_object()
        .ok_or_else(|| "keys expects a map".to_owned())?;
    let mut k: Vec<String> = m.keys().cloned().collect();
    k.sort();
    Ok(Value::Array(k.into_iter().map(Value::String).collect()))
}

fn values(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let m = args[0]
        .as_object()
        .ok_or_else(|| "values expects a map".to_owned())?;
    let mut pairs: Vec<(&String, &Value)> = m.iter().collect();
    pairs.sort_by_key(|(k, _)| *k);
    Ok(Value::Array(
        pairs.into_iter().map(|(_, v)| v.clone()).collect(),
    ))
}

fn lookup(args: FuncArgs) -> Result<Value, String> {
    if !(2..=3).contains(&args.len()) {
        return Err("lookup expects 2 or 3 arguments".to_owned());
    }
    let m = args[0]
        .as_object()
        .ok_or_else(|| "lookup expects a map".to_owned())?;
    let key = string(&args[1])?;
    match (m.get(&key), args.get(2)) {
        (Some(v), _) => Ok(v.clone()),
        (None, Some(d)) => Ok(d.clone()),
        (None, None) => Err(format!("no key `{key}`")),
    }
}

fn contains(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    Ok(Value::Bool(array(&args[0])?.contains(&args[1])))
}

fn coalesce(args: FuncArgs) -> Result<Value, String> {
    args.iter()
        .find(|v| match v {
            Value::Null => false,
            Value::String(s) => !s.is_empty(),
            Value::Array(a) => !a.is_empty(),
            _ => true,
        })
        .cloned()
        .ok_or_else(|| "no non-null argument".to_owned())
}

fn one(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let a = array(&args[0])?;
    match a.as_slice() {
        [] => Ok(Value::Null),
        [v] => Ok(v.clone()),
        _ => Err("one() of a list with more than one element".to_owned()),
    }
}

fn element(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    let a = array(&args[0])?;
    let i = args[1]
        .as_u64()
        .ok_or_else(|| "element index must be a whole number".to_owned())?;
    if a.is_empty() {
        return Err("element() of an empty list".to_owned());
    }
    Ok(a[(i as usize) % a.len()].clone())
}

fn join(args: FuncArgs) -> Result<Value, String> {
    if args.len() < 2 {
        return Err("join expects a separator and lists".to_owned());
    }
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let sep = string(&args[0])?;
    let mut parts = Vec::new();
    for l in args.iter().skip(1) {
        for v in array(l)? {
            parts.push(string(v)?);
        }
    }
    Ok(Value::String(parts.join(&sep)))
}

fn split(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let (sep, s) = (string(&args[0])?, string(&args[1])?);
    Ok(Value::Array(
        s.split(sep.as_str()).map(Value::from).collect(),
    ))
}

fn map_string(args: &FuncArgs, f: impl Fn(&str) -> String) -> Result<Value, String> {
    arity(args, 1)?;
    if unknown_in(args) {
        return Ok(Value::from(UNKNOWN));
    }
    Ok(Value::String(f(&string(&args[0])?)))
}

fn lower(args: FuncArgs) -> Result<Value, String> {
    map_string(&args, str::to_lowercase)
}

fn upper(args: FuncArgs) -> Result<Value, String> {
    map_string(&args, str::to_uppercase)
}

fn replace(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 3)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let (s, from, to) = (string(&args[0])?, string(&args[1])?, string(&args[2])?);
    if from.len() > 1 && from.starts_with('/') && from.ends_with('/') {
        return Err("replace() with a regular expression".to_owned());
    }
    Ok(Value::String(s.replace(&from, &to)))
}

fn trimprefix(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let (s, p) = (string(&args[0])?, string(&args[1])?);
    Ok(Value::String(s.strip_prefix(&p).unwrap_or(&s).to_owned()))
}

fn trimsuffix(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let (s, p) = (string(&args[0])?, string(&args[1])?);
    Ok(Value::String(s.strip_suffix(&p).unwrap_or(&s).to_owned()))
}

fn startswith(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    Ok(Value::Bool(
        string(&args[0])?.starts_with(&string(&args[1])?),
    ))
}

fn endswith(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    Ok(Value::Bool(string(&args[0])?.ends_with(&string(&args[1])?)))
}

fn substr(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 3)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let s: Vec<char> = string(&args[0])?.chars().collect();
    let offset = args[1]
        .as_u64()
        .ok_or_else(|| "substr offset must be a whole number".to_owned())?
        as usize;
    let len = args[2].as_i64().ok_or_else(|| "substr length".to_owned())?;
    let end = if len < 0 {
        s.len()
    } else {
        (offset + len as usize).min(s.len())
    };
    Ok(Value::String(
        s.get(offset.min(s.len())..end)
            .unwrap_or_default()
            .iter()
            .collect(),
    ))
}

fn numbers(args: &FuncArgs) -> Result<Vec<f64>, String> {
    args.iter()
        .map(|v| {
            v.as_f64()
                .ok_or_else(|| format!("expected a number, got `{v}`"))
        })
        .collect()
}

fn min(args: FuncArgs) -> Result<Value, String> {
    let n = numbers(&args)?;
    n.into_iter()
        .reduce(f64::min)
        .map(Value::from)
        .ok_or_else(|| "min() of nothing".to_owned())
}

fn max(args: FuncArgs) -> Result<Value, String> {
    let n = numbers(&args)?;
    n.into_iter()
        .reduce(f64::max)
        .map(Value::from)
        .ok_or_else(|| "max() of nothing".to_owned())
}

fn jsonencode(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    serde_json::to_string(&args[0])
        .map(Value::String)
        .map_err(|e| e.to_string())
}

fn jsondecode(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let text = string(&args[0])?;
    serde_json::from_str(&text).map_err(|e| format!("jsondecode: {e}"))
}

/// `file(path)`: the module's own file when it has one; otherwise (a certificate next to the
/// spec) a stand-in that stays the same while the path does.
fn file(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let path = string(&args[0])?;
    let rel = module_relative(&path);
    Ok(FILES.with(|f| {
        f.borrow().get(&rel).map_or_else(
            || Value::String(format!("${{file({path:?})}}")),
            |t| Value::String(String::from_utf8_lossy(t).into_owned()),
        )
    }))
}

/// `filebase64sha256`, `filesha256`, `filemd5` of a module file (a function package): not
/// Terraform's encoding, but a digest of the content, so a changed package shows as a
/// changed hash; a file outside the module stands in by its path.
fn filebase64sha256(args: FuncArgs) -> Result<Value, String> {
    file_hash("filebase64sha256", &args)
}

/// `sha256(string)`: lowercase hex, as Terraform gives it (Azure name suffixes use it).
fn sha256(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    Ok(Value::String(crate::emit::sha256_hex(
        string(&args[0])?.as_bytes(),
    )))
}

fn filesha256(args: FuncArgs) -> Result<Value, String> {
    file_hash("filesha256", &args)
}

fn filemd5(args: FuncArgs) -> Result<Value, String> {
    file_hash("filemd5", &args)
}

fn file_hash(name: &str, args: &FuncArgs) -> Result<Value, String> {
    arity(args, 1)?;
    if unknown_in(args) {
        return Ok(Value::from(UNKNOWN));
    }
    let path = string(&args[0])?;
    let rel = module_relative(&path);
    Ok(FILES.with(|f| {
        let digest = f
            .borrow()
            .get(&rel)
            .map(|bytes| crate::emit::sha256_hex(bytes)[..16].to_owned());
        Value::String(match digest {
            Some(d) => format!("{name}({rel}): sha256 {d}…"),
            None => format!("${{{name}({path:?})}}"),
        })
    }))
}

fn fileexists(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 1)?;
    let path = module_relative(&string(&args[0])?);
    Ok(Value::Bool(FILES.with(|f| f.borrow().contains_key(&path))))
}

/// `timestamp()` and `plantimestamp()` change on every run; generated code only uses them
/// where `ignore_changes` covers them, so they compare as the same on both sides.
fn stable_now(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 0)?;
    Ok(Value::from("${plantimestamp()}"))
}

fn formatdate(args: FuncArgs) -> Result<Value, String> {
    arity(&args, 2)?;
    if unknown_in(&args) {
        return Ok(Value::from(UNKNOWN));
    }
    let (format, time) = (string(&args[0])?, string(&args[1])?);
    Ok(Value::String(format!(
        "${{formatdate({format:?}, {time})}}"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hcl::eval::Evaluate;

    fn eval(src: &str) -> Value {
        let body: hcl::Body = hcl::from_str(&format!("x = {src}\n")).unwrap();
        let hcl::Structure::Attribute(a) = body.into_iter().next().unwrap() else {
            panic!()
        };
        a.expr.evaluate(&context()).unwrap()
    }

    #[test]
    fn structural_functions_keep_unknowns_and_computing_ones_return_them() {
        let u = Value::from(UNKNOWN);
        let mut ctx = context();
        ctx.declare_var("u", u.clone());
        let e: hcl::Expression = "merge({ a = u }, { b = 1 })".parse().unwrap();
        let v = e.evaluate(&ctx).unwrap();
        let m = v.as_object().unwrap();
        assert_eq!(m["a"], u);
        assert_eq!(m["b"], Value::from(1));
        let e: hcl::Expression = "jsonencode({ a = u })".parse().unwrap();
        assert_eq!(e.evaluate(&ctx).unwrap(), u);
        let e: hcl::Expression = "length([u, 2])".parse().unwrap();
        assert_eq!(e.evaluate(&ctx).unwrap(), Value::from(2));
    }

    #[test]
    fn sha256_is_terraforms_hex_digest() {
        assert_eq!(
            eval(r#"substr(sha256("abc"), 0, 8)"#),
            Value::from("ba7816bf")
        );
    }

    #[test]
    fn sets_are_sorted_and_deduplicated() {
        assert_eq!(
            eval(r#"toset(["b", "a", "b"])"#),
            Value::Array(vec![Value::from("a"), Value::from("b")])
        );
        assert_eq!(
            eval(r#"flatten([["a"], [["b"]], "c"])"#),
            Value::Array(vec!["a".into(), "b".into(), "c".into()])
        );
    }

    #[test]
    fn file_reads_the_module_and_stands_in_for_the_rest() {
        let _g = FilesGuard::new(BTreeMap::from([(
            "registry/devices.json".to_owned(),
            br#"{"d1": {"type": "t"}}"#.to_vec(),
        )]));
        let v = eval(r#"jsondecode(file("./registry/devices.json"))"#);
        assert_eq!(
            v.as_object().unwrap()["d1"].as_object().unwrap()["type"],
            Value::from("t")
        );
        assert_eq!(
            eval(r#"file("../../certs/ca.pem")"#),
            Value::from(r#"${file("../../certs/ca.pem")}"#)
        );
    }
}
