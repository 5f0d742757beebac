//! Fuzzing on the stable toolchain: the spec loader, the registry reader and the condition
//! language, for a time budget rather than a case count.
//!
//! cargo-fuzz needs nightly; these harnesses run on the toolchain CI has. Each generates inputs
//! with proptest (so a failure is shrunk to a small input), starting from a corpus taken from
//! the examples and the invalid fixtures and mutating it (flipped bytes, inserted YAML and
//! condition syntax, control characters, deletions, duplicated and spliced ranges), plus a
//! grammar-based generator for conditions. Every input goes through `fleetform::invariants`,
//! which the `fuzz/` cargo-fuzz targets share.
//!
//! - `FLEETFORM_FUZZ_SECONDS`: budget per harness (default 2, so `cargo test` stays quick;
//!   `.ci/run` gives each 15).
//! - `FLEETFORM_FUZZ_SEED`: a hex seed, or `random` (`.ci/run`); the default is fixed, so the
//!   ordinary test run is deterministic. Each harness prints its figures and seed; a finding
//!   panics with the seed and the shrunk input.

mod common;

use std::fmt::Debug;
use std::io::Write as _;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestError, TestRng, TestRunner};

fn budget() -> Duration {
    let secs = std::env::var("FLEETFORM_FUZZ_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .unwrap_or(2.0);
    Duration::from_secs_f64(secs.max(0.1))
}

fn seed() -> u64 {
    match std::env::var("FLEETFORM_FUZZ_SEED").as_deref() {
        Ok("random") => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64 ^ u64::from(std::process::id())),
        Ok(hex) => u64::from_str_radix(hex.trim_start_matches("0x"), 16).expect("a hex seed"),
        Err(_) => 0x5eed_f1ee_7f0a_0001,
    }
}

/// Runs `check` on inputs from `strategy` until the budget is spent; panics on a finding.
fn fuzz<S>(name: &str, strategy: S, check: impl Fn(&S::Value))
where
    S: Strategy,
    S::Value: Debug,
{
    let (budget, seed) = (budget(), seed());
    let inputs = AtomicUsize::new(0);
    let start = Instant::now();
    let mut batch = 0u64;
    while start.elapsed() < budget {
        let mut bytes = [0u8; 32];
        bytes[..8].copy_from_slice(&seed.to_le_bytes());
        bytes[8..16].copy_from_slice(&batch.to_le_bytes());
        bytes[16..24].copy_from_slice(&(name.len() as u64).to_le_bytes());
        let config = Config {
            cases: 16,
            failure_persistence: None,
            max_shrink_iters: 4096,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &bytes));
        let result = runner.run(&strategy, |input| {
            inputs.fetch_add(1, Ordering::Relaxed);
            check(&input);
            Ok(())
        });
        match result {
            Ok(()) => {}
            Err(TestError::Fail(why, input)) => panic!(
                "fuzz {name}: finding (seed {seed:#x}, batch {batch}): {why}\nshrunk input: {input:?}"
            ),
            Err(TestError::Abort(why)) => panic!("fuzz {name}: aborted: {why}"),
        }
        batch += 1;
    }
    let n = inputs.load(Ordering::Relaxed);
    let secs = start.elapsed().as_secs_f64();
    // Straight to stdout, past the test harness's capture: the figures belong in the CI log.
    let _ = writeln!(
        std::io::stdout(),
        "fuzz {name}: {n} inputs in {secs:.1} s ({:.0}/s), 0 findings, seed {seed:#x}",
        n as f64 / secs
    );
}

// ---------------------------------------------------------------------------------------------
// The corpus

fn read_dir_files(dir: &Path, ext: &str) -> Vec<String> {
    let mut paths: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|x| x == ext))
        .collect();
    paths.sort();
    paths
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .collect()
}

fn specs() -> Vec<String> {
    let mut out: Vec<String> = common::examples()
        .into_iter()
        .map(|(_, p)| std::fs::read_to_string(p).unwrap())
        .collect();
    out.extend(read_dir_files(
        &common::root().join("tests/fixtures/invalid"),
        "yaml",
    ));
    out
}

/// The first lines of `text`, up to about 4 KiB: mutations of a long file mostly exercise
/// its length, and a short one keeps the harness fast.
fn head(text: &str) -> String {
    let mut out = String::new();
    for line in text.split_inclusive('\n') {
        if out.len() + line.len() > 4096 {
            break;
        }
        out.push_str(line);
    }
    out
}

fn registries() -> Vec<(String, bool)> {
    let mut out: Vec<(String, bool)> = Vec::new();
    for (_, spec) in common::examples() {
        out.extend(
            read_dir_files(spec.parent().unwrap(), "csv")
                .into_iter()
                .map(|t| (head(&t), true)),
        );
    }
    out.extend(
        read_dir_files(&common::root().join("tests/fixtures/invalid"), "csv")
            .into_iter()
            .map(|t| (t, true)),
    );
    out.push((
        "- {id: meter-1, type: meter, groups: [site], attributes: {model: m1}}\n- id: gw-1\n  type: gateway\n".to_owned(),
        false,
    ));
    out.push((
        "id,type,groups,attr.model\nm-1,meter,site,a\n\"m-2\",\"meter\",\"site;other\",\"b,c\"\n"
            .to_owned(),
        true,
    ));
    out
}

fn conditions() -> Vec<String> {
    let mut out = vec![
        "temperature > 80 and status = 'ok'".to_owned(),
        "not door.open or (battery < 10.5 and mode != 'it''s')".to_owned(),
        "alarm".to_owned(),
        "a.b.c >= -1e3 or x <> 'y' and z == true".to_owned(),
    ];
    for text in specs() {
        for line in text.lines() {
            if let Some(c) = line.trim().strip_prefix("condition:") {
                out.push(c.trim().trim_matches('"').to_owned());
            }
        }
    }
    out
}

/// Text that means something to YAML, to the spec, to conditions, or to a terminal.
const TOKENS: &[&str] = &[
    ": ",
    "- ",
    "\n",
    "  ",
    "{",
    "}",
    "[",
    "]",
    ", ",
    "&a ",
    "*a",
    "<<: *a\n",
    "!!str ",
    "!!binary ",
    "? ",
    "| ",
    "> ",
    "'",
    "\"",
    "# ",
    "---\n",
    "...\n",
    "~",
    "null",
    "true",
    "1e999",
    "-1",
    "0",
    "99999999999999999999",
    "0x10",
    ".inf",
    ".nan",
    "\u{0}",
    "\u{1b}[31m",
    "\u{1b}]8;;x\u{7}",
    "\u{9b}2J",
    "\u{7f}",
    "\u{202e}",
    "\u{2028}",
    "\t",
    "\r\n",
    "\r",
    "${var.x}",
    "%{ if x }",
    "{{ x }}",
    "{% raw %}",
    "../",
    "/etc/passwd",
    "aws:",
    "azure:",
    "environments:\n  dev:\n    fleet: {devices: 5}\n",
    "registry: {file: devices.csv}\n",
    "condition: ",
    " and ",
    " or ",
    " not ",
    "''",
    "\\",
    "🚀",
    "e\u{301}",
    "עברית",
    "devices: ",
    "alerts:\n    - name: x\n      condition: a > 1\n",
    "stacks: {registry_shard_size: 1}\n",
];

#[derive(Debug, Clone)]
enum Mutation {
    Insert(usize, usize),
    InsertText(usize, String),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Splice(usize, usize, usize, usize),
    Flip(usize, u8),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), 0..TOKENS.len()).prop_map(|(a, t)| Mutation::Insert(a, t)),
        2 => (any::<usize>(), "(\\PC|[\\x00-\\x1f\\x7f-\\x9f\\u{202a}-\\u{202e}]){1,12}")
            .prop_map(|(a, s)| Mutation::InsertText(a, s)),
        2 => (any::<usize>(), 0usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        1 => (any::<usize>(), 0usize..200).prop_map(|(a, n)| Mutation::Duplicate(a, n)),
        1 => (any::<usize>(), any::<usize>(), any::<usize>(), 0usize..200)
            .prop_map(|(o, a, f, n)| Mutation::Splice(o, a, f, n)),
        1 => (any::<usize>(), any::<u8>()).prop_map(|(a, b)| Mutation::Flip(a, b)),
    ]
}

/// The char boundary at or before `at % (len + 1)`.
fn boundary(s: &str, at: usize) -> usize {
    let mut i = at % (s.len() + 1);
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn apply(base: &str, corpus: &[String], mutations: &[Mutation]) -> String {
    let mut s = base.to_owned();
    for m in mutations {
        match m {
            Mutation::Insert(at, t) => {
                let at = boundary(&s, *at);
                s.insert_str(at, TOKENS[*t]);
            }
            Mutation::InsertText(at, t) => {
                let at = boundary(&s, *at);
                s.insert_str(at, t);
            }
            Mutation::Delete(at, n) => {
                let a = boundary(&s, *at);
                let b = boundary(&s, a + n).max(a);
                s.replace_range(a..b, "");
            }
            Mutation::Duplicate(at, n) => {
                let a = boundary(&s, *at);
                let b = boundary(&s, a + n).max(a);
                let piece = s[a..b].to_owned();
                s.insert_str(b, &piece);
            }
            Mutation::Splice(other, at, from, len) => {
                let donor = &corpus[other % corpus.len()];
                let start = boundary(donor, *from);
                let end = boundary(donor, start + len).max(start);
                let at = boundary(&s, *at);
                s.insert_str(at, &donor[start..end]);
            }
            Mutation::Flip(at, b) => {
                let at = boundary(&s, *at);
                if let Some(c) = s[at..].chars().next() {
                    let flipped = char::from_u32(c as u32 ^ u32::from(*b)).unwrap_or('\u{fffd}');
                    s.replace_range(at..at + c.len_utf8(), &flipped.to_string());
                }
            }
        }
    }
    s
}

// ---------------------------------------------------------------------------------------------
// The harnesses

#[test]
fn fuzz_the_spec_loader() {
    let corpus = specs();
    let registries: Vec<String> = registries().into_iter().map(|(t, _)| t).collect();
    assert!(corpus.len() >= 30, "a corpus of examples and fixtures");
    let n = corpus.len();
    let strategy = (
        0..n,
        0..registries.len(),
        prop::collection::vec(mutation(), 0..6),
    );
    fuzz("spec loader", strategy, |(i, r, muts)| {
        let text = apply(&corpus[*i], &corpus, muts);
        fleetform::invariants::spec(&text, &registries[*r]);
    });
}

#[test]
fn fuzz_the_registry_reader() {
    let corpus = registries();
    let texts: Vec<String> = corpus.iter().map(|(t, _)| t.clone()).collect();
    let strategy = (
        0..corpus.len(),
        prop::collection::vec(mutation(), 0..8),
        any::<bool>(),
    );
    fuzz("registry reader", strategy, |(i, muts, swap)| {
        let (base, csv) = &corpus[*i];
        let text = apply(base, &texts, muts);
        // Also read each text in the other format.
        fleetform::invariants::registry(&text, *csv != *swap);
    });
}

/// Conditions built from the grammar: the canonical form parses back to the same tree.
fn expr() -> impl Strategy<Value = String> {
    let field = "[a-zA-Z_][a-zA-Z0-9_]{0,6}(\\.[a-zA-Z_][a-zA-Z0-9_]{0,6}){0,2}".prop_filter(
        "not a keyword",
        |f| {
            !f.split('.').any(|s| {
                matches!(
                    s.to_ascii_lowercase().as_str(),
                    "and" | "or" | "not" | "true" | "false"
                )
            })
        },
    );
    let text = "[^\\p{Cc}\\u{2028}\\u{2029}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}]{0,8}";
    let literal = prop_oneof![
        (-1.0e6..1.0e6f64).prop_map(|n| format!("{n}")),
        text.prop_map(|t| format!("'{}'", t.replace('\'', "''"))),
        any::<bool>().prop_map(|b| b.to_string()),
    ];
    let op = prop::sample::select(vec!["=", "!=", "<", "<=", ">", ">=", "<>", "=="]);
    let leaf = prop_oneof![
        (field.clone(), op, literal).prop_map(|(f, o, l)| format!("{f} {o} {l}")),
        field.prop_map(|f| f),
        any::<bool>().prop_map(|b| b.to_string()),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a} and {b}")),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("({a}) or\n {b}")),
            inner.prop_map(|a| format!("not ({a})")),
        ]
    })
}

#[test]
fn fuzz_the_condition_language() {
    let corpus = conditions();
    let strategy = prop_oneof![
        2 => (0..corpus.len(), prop::collection::vec(mutation(), 0..6))
            .prop_map({
                let corpus = corpus.clone();
                move |(i, m)| apply(&corpus[i], &corpus, &m)
            }),
        2 => expr().prop_map(|e| {
            let parsed = fleetform::model::condition::parse(&e);
            assert!(parsed.is_ok(), "generated `{e}` does not parse: {parsed:?}");
            e
        }),
        1 => "(\\PC|[\\x00-\\x1f'\\\\=<>!()]){0,40}",
    ];
    fuzz("condition language", strategy, |text| {
        fleetform::invariants::condition(text);
    });
}
