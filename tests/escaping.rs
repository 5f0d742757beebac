//! Control characters and ANSI escapes from hostile input never reach a terminal, a CI log, a
//! markdown comment or a JSON document raw.
//!
//! Spec keys and values, registry rows and the files of an output folder can all come from a
//! pull request, and fleetform echoes them: in diagnostics (message, snippet, hints), in error
//! messages, in `check`'s diff, in `diff --format markdown` and in every JSON output. Each test
//! feeds ESC sequences (`\x1b[31m`, `\x1b]8;;` hyperlinks, `\x1b[2J`), the 8-bit CSI
//! (U+009B), DEL and a right-to-left override (U+202E) through one path and checks the output
//! by that output's rules.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use fleetform::diagnostics::{render_human, render_json};
use fleetform::validate::{Files, validate};
use insta_cmd::get_cargo_bin;

/// Characters no text output may carry raw.
const RAW: [char; 5] = ['\u{1b}', '\u{9b}', '\u{7f}', '\u{202e}', '\u{7}'];

fn assert_clean(what: &str, text: &str) {
    for c in RAW {
        assert!(
            !text.contains(c),
            "{what} holds a raw U+{:04X}:\n{text}",
            c as u32
        );
    }
}

fn fleetform(dir: &Path, args: &[&str]) -> Output {
    Command::new(get_cargo_bin("fleetform"))
        .args(args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .output()
        .unwrap()
}

fn all(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A spec with escapes in a key, in an enum value and in free text (YAML `\e`, `\x9b`, `\u202e`
/// escapes: the file itself is plain text, the parsed values hold the characters).
const SPEC: &str = "version: 1\nstack:\n  name: esc\n  environment: test\n  description: \"\\e]8;;https://evil.example\\e\\\\click\\e]8;;\\e\\\\ \\u202eoverride\"\n  \"\\e[2Jwiped\\x9b31m\": 1\nclouds:\n  azure:\n    location: westeurope\n    resource_group: rg-esc\n    alert_engine: \"\\e[31mred\\x7f\"\nfleet:\n  devices: 10\n";

struct Memory(&'static str, String);

impl Files for Memory {
    fn read(&self, path: &str) -> Result<String, String> {
        (path == self.0)
            .then(|| self.1.clone())
            .ok_or_else(|| "not found".to_owned())
    }
}

#[test]
fn diagnostics_show_escapes_instead_of_emitting_them() {
    let outcome = validate("fleet.yaml", SPEC, &Memory("", String::new()));
    assert!(outcome.diagnostics.has_errors());
    let human = render_human(&outcome.diagnostics, &outcome.sources, false);
    assert_clean("the human rendering", &human);
    assert!(human.contains("\\u{1b}[2Jwiped\\u{9b}31m"), "{human}");
    let json = render_json(&outcome.diagnostics, &outcome.sources);
    assert_clean("the JSON rendering", &json);
    let back: serde_json::Value = serde_json::from_str(&json).unwrap();
    let messages: Vec<&str> = back["diagnostics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["message"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.contains("\u{1b}[2Jwiped\u{9b}31m")),
        "JSON still carries the value exactly, escaped: {messages:?}"
    );
}

/// A registry file is not YAML: raw control bytes in it show up in the snippet.
#[test]
fn registry_snippets_are_escaped() {
    let spec = "version: 1\nstack: {name: reg}\nclouds:\n  aws:\n    region: us-east-1\n    provisioning: {method: manual}\nfleet:\n  devices: 10\n  registry:\n    file: devices.csv\n";
    let csv = "id,type\nok-1,\n\u{1b}[31mevil\u{1b}[0m\u{7},\n\u{202e}gnp.exe,\n".to_owned();
    let outcome = validate("fleet.yaml", spec, &Memory("devices.csv", csv));
    assert!(outcome.diagnostics.has_errors());
    let human = render_human(&outcome.diagnostics, &outcome.sources, false);
    assert_clean("the registry snippet", &human);
    assert!(human.contains("\\u{1b}[31mevil"), "{human}");
    // The label still points at the bad row.
    assert!(human.contains("devices.csv:3:1"), "{human}");
}

#[test]
fn errors_outside_diagnostics_are_escaped() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.yaml"),
        include_str!("../examples/minimal/fleet.yaml"),
    )
    .unwrap();
    let out = fleetform(
        dir.path(),
        &[
            "explain",
            "fleet.yaml",
            "--environment",
            "\u{1b}[31mprod\u{9b}2J",
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert_clean("the error", &all(&out));
    assert!(all(&out).contains("\\u{1b}[31mprod"), "{}", all(&out));
}

#[test]
fn check_escapes_the_files_it_quotes() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.yaml"),
        include_str!("../examples/minimal/fleet.yaml"),
    )
    .unwrap();
    let built = fleetform(dir.path(), &["build", "fleet.yaml", "--out", "tf"]);
    assert!(built.status.success(), "{}", all(&built));
    let main = dir.path().join("tf/aws/main.tf");
    let mut text = std::fs::read_to_string(&main).unwrap();
    text.push_str("# \u{1b}]0;owned\u{7}\u{1b}[2J\u{9b}1;1H looks clean\n");
    std::fs::write(&main, text).unwrap();
    let out = fleetform(dir.path(), &["check", "fleet.yaml", "--out", "tf"]);
    assert_eq!(out.status.code(), Some(1), "{}", all(&out));
    assert_clean("check's diff", &all(&out));
    assert!(all(&out).contains("\\u{1b}]0;owned"), "{}", all(&out));
}

/// `cost --format markdown` goes into a pull-request comment, and the price book can be a file
/// of the pull request: its text stays text, without escapes, cells, links or HTML.
#[test]
fn cost_markdown_keeps_price_book_text_inside_its_cells() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("fleet.yaml"),
        include_str!("../examples/minimal/fleet.yaml"),
    )
    .unwrap();
    let book = fleetform::cost::pricebook::DEFAULT_PRICEBOOK_YAML;
    let hostile = book.replacen(
        "compiled: \"2026-11-26\"",
        "compiled: \"2026 `|` [link](https:evil.example) <b>x</b> \\e[31mred \\u202e|\"",
        1,
    );
    assert_ne!(hostile, book);
    std::fs::write(dir.path().join("book.yaml"), hostile).unwrap();
    let out = fleetform(
        dir.path(),
        &[
            "cost",
            "fleet.yaml",
            "--pricebook",
            "book.yaml",
            "--format",
            "markdown",
        ],
    );
    assert!(out.status.success(), "{}", all(&out));
    let md = String::from_utf8(out.stdout).unwrap();
    assert_clean("the markdown", &md);
    let line = md
        .lines()
        .find(|l| l.contains("red"))
        .expect("the hostile date is shown");
    let raw_pipes = line
        .char_indices()
        .filter(|(i, c)| *c == '|' && (*i == 0 || line.as_bytes()[i - 1] != b'\\'))
        .count();
    assert_eq!(raw_pipes, 0, "a table cell opened: {line}");
    assert!(!line.contains("[link]("), "a live link: {line}");
    assert!(!line.contains("<b>"), "raw HTML: {line}");
}

/// README code spans hold conditions with backticks whole.
#[test]
fn readme_code_spans_hold_backticks() {
    let spec = "version: 1\nstack: {name: ticks, environment: test}\nclouds:\n  aws: {region: eu-west-1}\nfleet: {devices: 10}\npipeline:\n  alerts:\n    - name: tick\n      condition: \"label = 'a`b` <b>c</b>'\"\nmonitoring:\n  notify:\n    email: [ops@example.com]\n";
    let r = common::build_text("fleet.yaml", spec, Path::new("."));
    let readme = String::from_utf8(r.files["aws/README.md"].bytes.clone()).unwrap();
    assert!(
        readme.contains("``label = 'a`b` <b>c</b>'``"),
        "the condition is one code span: {readme}"
    );
}
