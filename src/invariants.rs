//! What every input must keep true, checked by the fuzz harnesses.
//!
//! `tests/fuzz.rs` (stable, property-based, seeded from the examples) and the cargo-fuzz
//! targets under `fuzz/` (nightly, libFuzzer) feed arbitrary specs, registry files and
//! conditions to these functions, which panic when an invariant breaks. Keeping them here
//! means both harnesses check the same things:
//!
//! - nothing panics, and a rejected input has errors, each located inside its file;
//! - diagnostics render, for people and as JSON, with no raw control character, ANSI escape
//!   or bidirectional control (checked independently of `diagnostics::escape`), and the JSON
//!   parses;
//! - a valid spec plans and renders, every file stays inside the output folder, and every
//!   `.tf` parses as HCL;
//! - a condition that parses renders on one line in every dialect, its canonical form parses
//!   back to the same condition, and each dialect reads its strings back unchanged.
//!
//! Not part of fleetform's API (hidden from the docs); public only for the harnesses.

use crate::diagnostics::{render_human, render_json};
use crate::model::condition::{self, Dialect, Expr, Literal};
use crate::validate::{Files, Outcome, validate};

/// A registry file with the same text whatever path the spec names.
struct AnyPath<'a>(&'a str);

impl Files for AnyPath<'_> {
    fn read(&self, _path: &str) -> Result<String, String> {
        Ok(self.0.to_owned())
    }
}

/// Checks a spec text whose registry file (any path it names) holds `registry`.
pub fn spec(text: &str, registry: &str) {
    let outcome = validate("fuzz.yaml", text, &AnyPath(registry));
    diagnostics(&outcome);
    if outcome.validated.is_none() {
        return;
    }
    let planned = crate::plan_sets(&outcome).expect("a valid spec plans");
    let rendered = crate::emit::render_planned(&planned, crate::emit::Syntax::Hcl)
        .expect("a valid spec renders");
    for (path, file) in &rendered.files {
        assert!(
            crate::emit::safe_path(path) || path == crate::emit::MANIFEST,
            "`{path}` would leave the output folder"
        );
        if path.ends_with(".tf") {
            let text = std::str::from_utf8(&file.bytes).expect("generated files are UTF-8");
            if let Err(e) = hcl::parse(text) {
                panic!("`{path}` is not HCL: {e}\n{text}");
            }
        }
    }
}

/// Checks a registry text as the file a minimal spec names (`devices.csv` or `devices.yaml`).
pub fn registry(text: &str, csv: bool) {
    let file = if csv { "devices.csv" } else { "devices.yaml" };
    let spec = format!(
        "version: 1\nstack: {{name: fuzz}}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {{method: manual}}\n  azure:\n    location: westeurope\n    resource_group: rg-fuzz\nfleet:\n  devices: 100000\n  device_types: [{{name: meter}}, {{name: gateway}}]\n  groups: [{{name: site}}]\n  registry:\n    file: {file}\n"
    );
    let outcome = validate("fuzz.yaml", &spec, &AnyPath(text));
    diagnostics(&outcome);
}

fn diagnostics(outcome: &Outcome) {
    if outcome.validated.is_none() {
        assert!(
            outcome.diagnostics.has_errors(),
            "rejected without an error"
        );
    }
    for d in &outcome.diagnostics {
        let Some(loc) = d.location else {
            panic!("a diagnostic without a location: {d:?}");
        };
        let len = outcome.sources.get(loc.source).text.len();
        assert!(loc.span.start <= len, "a location past the end: {d:?}");
    }
    let human = render_human(&outcome.diagnostics, &outcome.sources, false);
    assert_shows_no_escapes("the human rendering", &human);
    let json = render_json(&outcome.diagnostics, &outcome.sources);
    assert_shows_no_escapes("the JSON rendering", &json);
    serde_json::from_str::<serde_json::Value>(&json).expect("the JSON report parses");
}

/// Panics when `text` holds a character a terminal acts on: a control character other than
/// newline, tab and a carriage return before a newline, a line separator, or a bidirectional
/// control. Written out here rather than through `escape`, so a bug there cannot hide.
pub fn assert_shows_no_escapes(what: &str, text: &str) {
    let bytes = text.as_bytes();
    for (i, c) in text.char_indices() {
        let allowed = match c {
            '\n' | '\t' => true,
            '\r' => bytes.get(i + 1) == Some(&b'\n'),
            c => {
                !(c.is_control()
                    || matches!(c, '\u{2028}' | '\u{2029}')
                    || ('\u{202a}'..='\u{202e}').contains(&c)
                    || ('\u{2066}'..='\u{2069}').contains(&c))
            }
        };
        assert!(
            allowed,
            "{what} holds a raw U+{:04X} at byte {i}:\n{text}",
            c as u32
        );
    }
}

/// The strings of a query, read by a language's rules (`doubled`: `''` is a quote;
/// `backslash`: `\'`, `\"`, `\\` and `\uXXXX` are escapes, as in IoT Hub's query
/// language), or `None` when a string does not end or an escape is invalid.
pub fn query_strings(query: &str, doubled: bool, backslash: bool) -> Option<Vec<String>> {
    let mut out = Vec::new();
    let mut chars = query.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\'' {
            continue;
        }
        let mut s = String::new();
        loop {
            match chars.next()? {
                '\\' if backslash => match chars.next()? {
                    e @ ('\'' | '"' | '\\') => s.push(e),
                    'u' => {
                        let hex: String = chars.by_ref().take(4).collect();
                        s.push(char::from_u32(u32::from_str_radix(&hex, 16).ok()?)?);
                    }
                    _ => return None,
                },
                '\'' if doubled && chars.peek() == Some(&'\'') => {
                    chars.next();
                    s.push('\'');
                }
                '\'' => break,
                ch => s.push(ch),
            }
        }
        out.push(s);
    }
    Some(out)
}

fn texts(e: &Expr, out: &mut Vec<String>) {
    match e {
        Expr::Or(a, b) | Expr::And(a, b) => {
            texts(a, out);
            texts(b, out);
        }
        Expr::Not(a) => texts(a, out),
        Expr::Compare {
            value: Literal::Text(t),
            ..
        } => out.push(t.clone()),
        _ => {}
    }
}

/// Checks a condition text.
pub fn condition(text: &str) {
    let Ok(e) = condition::parse(text) else {
        return;
    };
    let canonical = e.canonical();
    let one_line = |s: &str| !s.contains(['\n', '\r', '\u{2028}', '\u{2029}', '\u{85}']);
    assert!(
        one_line(&canonical),
        "canonical form spans lines: {canonical:?}"
    );
    assert_eq!(
        condition::parse(&canonical).as_ref(),
        Ok(&e),
        "the canonical form {canonical:?} parses to another condition"
    );
    let mut want = Vec::new();
    texts(&e, &mut want);
    let aws = e.render(Dialect::AwsIotSql);
    let hub = e.render(Dialect::IotHubRouting);
    let saql = crate::clouds::azure::saql::render(&e);
    for (name, rendered, doubled, backslash) in [
        ("AWS IoT SQL", &aws, true, false),
        ("IoT Hub", &hub, false, true),
        ("Stream Analytics", &saql, true, false),
    ] {
        assert!(one_line(rendered), "{name} spans lines: {rendered:?}");
        assert_eq!(
            query_strings(rendered, doubled, backslash).as_ref(),
            Some(&want),
            "{name} reads other strings from {rendered:?}"
        );
    }
}
