//! How a diff reads: plain text like a condensed `terraform plan`, and Markdown for a
//! pull-request comment, data and identity loss first.
//!
//! Instances of one resource that change the same way (a hundred registry things created)
//! collapse into one row with a count and the first few keys; JSON keeps every instance.

use std::fmt::Write as _;

use hcl::Value;

use super::eval::{REREAD, UNEVALUATED};
use super::{Action, AddressChange, DeviceChanges, InfraDiff};

/// How many keys a collapsed row names.
const FIRST_KEYS: usize = 5;

/// A value as a reviewer reads it: strings quoted, references bare, unknowns as
/// `(known after apply)`.
pub fn value(v: &Value) -> String {
    let mut s = String::new();
    write_value(v, &mut s);
    s
}

fn write_value(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_string(s, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_value(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("{ ");
            for (i, (k, v)) in map.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(" = ");
                write_value(v, out);
            }
            out.push_str(" }");
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    if let Some(source) = s.strip_prefix(UNEVALUATED) {
        out.push_str(source);
        return;
    }
    if s == super::UNKNOWN {
        out.push_str("(known after apply)");
        return;
    }
    // A whole reference to a computed attribute reads as the reference.
    if let Some(inner) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}'))
        && !inner.contains("${")
    {
        out.push_str(inner);
        return;
    }
    if let Some(inner) = s
        .strip_suffix(REREAD)
        .and_then(|r| r.strip_prefix("${"))
        .and_then(|r| r.strip_suffix('}'))
    {
        let _ = write!(out, "{inner} (read again)");
        return;
    }
    let shown = s
        .replace(super::UNKNOWN, "(known after apply)")
        .replace(REREAD, "");
    out.push_str(&serde_json::to_string(&shown).unwrap_or_default());
}

fn symbol(a: Action) -> &'static str {
    match a {
        Action::Create => "+",
        Action::Replace => "-/+",
        Action::Update => "~",
        Action::Destroy => "-",
        Action::Read => "<=",
        Action::Move => "->",
    }
}

fn short(v: Option<&String>) -> String {
    match v {
        None => "(none)".to_owned(),
        Some(s) if s.chars().count() > 80 => format!("{}…", s.chars().take(79).collect::<String>()),
        Some(s) => s.clone(),
    }
}

/// The summary line: `3 to add, 1 to replace, 2 to change, 0 to destroy`.
pub fn summary(d: &InfraDiff) -> String {
    let moved = match d.count(Action::Move) {
        0 => String::new(),
        n => format!(", {n} moved"),
    };
    format!(
        "{} to add, {} to replace, {} to change, {} to destroy{moved}",
        d.count(Action::Create),
        d.count(Action::Replace),
        d.count(Action::Update),
        d.count(Action::Destroy)
    )
}

/// A code span for an address or argument path: map keys in them come from the spec (tag
/// names, device ids), so backticks and `|` must not end the span or the table cell.
fn code(text: &str) -> String {
    crate::diagnostics::escape::markdown_code(text, true)
}

/// The arguments that force a replacement, as `` `a`, `b` ``.
fn because(a: &AddressChange) -> String {
    let why: Vec<String> = a
        .changes
        .iter()
        .filter(|c| c.forces_replacement)
        .map(|c| code(&c.path))
        .collect();
    why.join(", ")
}

/// Rows to show: each change, or one row for many instances of a resource that take the
/// same action.
struct Row<'a> {
    first: &'a AddressChange,
    /// Instance keys, when the row stands for several instances.
    keys: Vec<&'a str>,
}

fn rows<'a>(changes: impl Iterator<Item = &'a AddressChange>) -> Vec<Row<'a>> {
    let list: Vec<&AddressChange> = changes.collect();
    let mut out: Vec<Row> = Vec::new();
    let resource = |a: &AddressChange| {
        a.address.split_once('[').map(|(r, k)| {
            (
                r.to_owned(),
                k.trim_end_matches(']').trim_matches('"').to_owned(),
            )
        })
    };
    let mut i = 0;
    while i < list.len() {
        let a = list[i];
        let Some((res, _)) = resource(a) else {
            out.push(Row {
                first: a,
                keys: Vec::new(),
            });
            i += 1;
            continue;
        };
        let mut j = i;
        while j < list.len()
            && list[j].module == a.module
            && list[j].action == a.action
            && resource(list[j]).is_some_and(|(r, _)| r == res)
        {
            j += 1;
        }
        if j - i > 3 {
            let keys = list[i..j]
                .iter()
                .map(|c| {
                    let k = &c.address[res.len()..];
                    k.trim_start_matches('[').trim_end_matches(']')
                })
                .collect();
            out.push(Row { first: a, keys });
        } else {
            out.extend(list[i..j].iter().map(|c| Row {
                first: c,
                keys: Vec::new(),
            }));
        }
        i = j;
    }
    out
}

impl Row<'_> {
    fn address(&self) -> String {
        let a = self.first;
        if self.keys.is_empty() {
            return format!("{}/{}", a.module, a.address);
        }
        let resource = a
            .address
            .split_once('[')
            .map_or(a.address.as_str(), |(r, _)| r);
        let first: Vec<&str> = self.keys.iter().take(FIRST_KEYS).copied().collect();
        let more = if self.keys.len() > FIRST_KEYS {
            ", …"
        } else {
            ""
        };
        format!(
            "{}/{resource}[…] ×{} ({}{more})",
            a.module,
            self.keys.len(),
            first.join(", ")
        )
    }
}

fn device_line(d: &DeviceChanges) -> String {
    let names = |ids: &[String]| {
        let first: Vec<&str> = ids.iter().take(FIRST_KEYS).map(String::as_str).collect();
        let more = if ids.len() > FIRST_KEYS { ", …" } else { "" };
        format!("{}{more}", first.join(", "))
    };
    let count = |n: usize| {
        if n == 1 {
            "1 device".to_owned()
        } else {
            format!("{n} devices")
        }
    };
    let mut parts = Vec::new();
    if !d.added.is_empty() {
        parts.push(format!(
            "{} added ({})",
            count(d.added.len()),
            names(&d.added)
        ));
    }
    if !d.removed.is_empty() {
        parts.push(format!(
            "{} removed ({})",
            count(d.removed.len()),
            names(&d.removed)
        ));
    }
    if !d.changed.is_empty() {
        let ids: Vec<String> = d
            .changed
            .iter()
            .map(|c| format!("{}: {}", c.id, c.fields.join(", ")))
            .collect();
        parts.push(format!(
            "{} changed ({})",
            count(d.changed.len()),
            names(&ids)
        ));
    }
    format!("{} registry: {}", d.module, parts.join("; "))
}

/// Plain-text rendering, like a condensed `terraform plan`, losses first.
pub fn text(d: &InfraDiff) -> String {
    let mut s = format!("Infrastructure: {}\n", summary(d));
    let losses: Vec<&AddressChange> = d.losses().collect();
    if !losses.is_empty() {
        s.push_str("Data and identity loss:\n");
        for row in rows(losses.iter().copied()) {
            let a = row.first;
            let verb = if a.action == Action::Replace {
                format!("replaced because of {}", because(a))
            } else {
                "destroyed".to_owned()
            };
            let _ = writeln!(
                s,
                "  {:>3} {} ({verb}): loses {}",
                symbol(a.action),
                row.address(),
                a.loses.unwrap_or_default()
            );
            if a.blocked_by_prevent_destroy {
                s.push_str(
                    "        prevent_destroy is set: terraform plan stops with an error here\n",
                );
            }
        }
    }
    for dev in &d.devices {
        let _ = writeln!(s, "{}", device_line(dev));
    }
    for row in rows(d.addresses.iter()) {
        let a = row.first;
        let moved = a
            .moved_from
            .as_ref()
            .map(|m| format!(" (moved from {m})"))
            .unwrap_or_default();
        let _ = writeln!(s, "  {:>3} {}{moved}", symbol(a.action), row.address());
        if !row.keys.is_empty() {
            continue;
        }
        for c in &a.changes {
            let _ = writeln!(
                s,
                "        {}: {} -> {}{}",
                c.path,
                short(c.old.as_ref()),
                short(c.new.as_ref()),
                if c.forces_replacement {
                    "  # forces replacement"
                } else {
                    ""
                }
            );
        }
    }
    for f in &d.artifacts {
        let _ = writeln!(
            s,
            "    ~ {} (+{} -{} lines)",
            f.path, f.lines_added, f.lines_removed
        );
    }
    s
}

/// The top of a pull-request comment: the summary, then every replacement or destroy that
/// loses data or device identities, with what is lost. The cost delta goes next.
pub fn markdown_destructive(d: &InfraDiff) -> String {
    let mut s = format!("## Infrastructure change\n\n**{}**\n\n", summary(d));
    let losses: Vec<&AddressChange> = d.losses().collect();
    if losses.is_empty() {
        return s;
    }
    s.push_str("> [!CAUTION]\n> **Data and identity loss.** Terraform would destroy these, and what they hold with them:\n");
    for row in rows(losses.iter().copied()) {
        let a = row.first;
        let verb = if a.action == Action::Replace {
            format!("replaced because of {}", because(a))
        } else {
            "destroyed".to_owned()
        };
        let _ = writeln!(
            s,
            "> - {} ({verb}): {}",
            code(&row.address()),
            a.loses.unwrap_or_default()
        );
    }
    let blocked: Vec<String> = losses
        .iter()
        .filter(|a| a.blocked_by_prevent_destroy)
        .map(|a| code(&format!("{}/{}", a.module, a.address)))
        .collect();
    if !blocked.is_empty() {
        let _ = writeln!(
            s,
            ">\n> `prevent_destroy` protects {}: `terraform plan` stops with an error until the change is undone or the protection lifted (`stack.prevent_destroy: false`).",
            blocked.join(", ")
        );
    }
    s.push('\n');
    s
}

/// The rest of a pull-request comment, under its own heading: other replacements, registry
/// changes by device, every changed address, and artifacts.
pub fn markdown_rest(d: &InfraDiff) -> String {
    let mut s = String::new();
    let replaced: Vec<&AddressChange> = d
        .addresses
        .iter()
        .filter(|a| a.action == Action::Replace && !a.is_loss())
        .collect();
    if !replaced.is_empty() {
        s.push_str("> [!WARNING]\n> These resources would be **destroyed and re-created**:\n");
        for row in rows(replaced.iter().copied()) {
            let _ = writeln!(
                s,
                "> - {} (because of {})",
                code(&row.address()),
                because(row.first)
            );
        }
        s.push('\n');
    }
    if !d.devices.is_empty() {
        s.push_str("### Registry\n\n");
        for dev in &d.devices {
            let _ = writeln!(s, "- {}", device_line(dev));
        }
        s.push('\n');
    }
    if !d.addresses.is_empty() {
        s.push_str("| | address | changed arguments |\n|---|---|---|\n");
        for row in rows(d.addresses.iter()) {
            let a = row.first;
            let mut args: Vec<String> = if row.keys.is_empty() {
                a.changes
                    .iter()
                    .map(|c| {
                        format!(
                            "{}{}",
                            code(&c.path),
                            if c.forces_replacement {
                                " (forces replacement)"
                            } else {
                                ""
                            }
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            if let Some(m) = &a.moved_from {
                args.insert(0, format!("moved from {}", code(m)));
            }
            let _ = writeln!(
                s,
                "| `{}` | {} | {} |",
                symbol(a.action),
                code(&row.address()),
                args.join(", ")
            );
        }
        s.push('\n');
    }
    if !d.artifacts.is_empty() {
        s.push_str("Artifacts: ");
        let items: Vec<String> = d
            .artifacts
            .iter()
            .map(|f| {
                format!(
                    "{} (+{} −{})",
                    code(&f.path),
                    f.lines_added,
                    f.lines_removed
                )
            })
            .collect();
        s.push_str(&items.join(", "));
        s.push_str("\n\n");
    }
    if s.is_empty() {
        return s;
    }
    format!("## Resource changes\n\n{s}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_read_like_terraform_shows_them() {
        assert_eq!(value(&Value::from("a\"b")), "\"a\\\"b\"");
        assert_eq!(
            value(&Value::from("${aws_s3_bucket.x.arn}")),
            "aws_s3_bucket.x.arn"
        );
        assert_eq!(
            value(&Value::from(super::super::UNKNOWN)),
            "(known after apply)"
        );
        assert_eq!(
            value(&Value::from(format!("{}:*", super::super::UNKNOWN))),
            "\"(known after apply):*\""
        );
        assert_eq!(
            value(&Value::from(format!("${{data.x.y.json}}{REREAD}"))),
            "data.x.y.json (read again)"
        );
    }
}
