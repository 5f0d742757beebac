//! Reading YAML text into a spanned tree, safely.
//!
//! This is the only module that touches the YAML parser (serde-saphyr; see the README for why
//! not `serde_yaml`). It enforces input budgets, so a hostile or accidental input (a 10 MB
//! paste, an alias bomb, 10,000 levels of nesting) becomes a diagnostic instead of a hang or
//! an out-of-memory kill, and it turns parser errors into located [`Diagnostic`]s.

use serde_saphyr::granit_parser::ErrorKind;
use serde_saphyr::localizer::ExternalMessageSource;

use crate::diagnostics::{Diagnostic, Diagnostics, SourceId, Sources};
use crate::spec::node::{ByteSpan, Node, Value};

/// Largest spec file accepted. Specs are hand-written; device lists belong in a registry file.
pub const MAX_SPEC_BYTES: usize = 1024 * 1024;

/// Largest registry file accepted (a million devices in CSV is about 40 MiB).
pub const MAX_REGISTRY_BYTES: usize = 512 * 1024 * 1024;

/// Deepest nesting accepted. The spec needs about 6 levels (a registry file 4).
///
/// The YAML deserializer recurses once per level, about 32 KiB of stack per level in a debug
/// build: at 64 levels a document overflowed the 2 MiB stack of a spawned thread (the fuzz
/// harness found it) and aborted the process instead of failing with a diagnostic. 24 levels
/// stay under a third of that stack, so `validate` is safe on any thread a caller runs it on.
const MAX_DEPTH: usize = 24;

/// Which budget applies to a document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocKind {
    Spec,
    Registry,
}

impl DocKind {
    fn max_bytes(self) -> usize {
        match self {
            DocKind::Spec => MAX_SPEC_BYTES,
            DocKind::Registry => MAX_REGISTRY_BYTES,
        }
    }
}

/// Parses one YAML document into a spanned tree. The text must already be in `sources`.
pub fn parse_yaml(sources: &Sources, id: SourceId, kind: DocKind) -> Result<Node, Diagnostics> {
    let text = sources.get(id).text.clone();
    let name = sources.get(id).name.clone();
    if let Some(d) = too_large(sources, id, kind.max_bytes()) {
        return Err(match kind {
            DocKind::Spec => d.hint(
                "move long device lists into a registry file: `fleet.registry.file: devices.csv`",
            ),
            DocKind::Registry => d,
        }
        .into());
    }
    if text.trim_start_matches('\u{feff}').lines().all(|l| {
        let l = l.trim();
        l.is_empty() || l.starts_with('#') || l == "---" || l == "..."
    }) {
        let d = Diagnostic::error("empty-document", format!("`{name}` is empty"))
            .in_source(id, ByteSpan { start: 0, len: 0 });
        let d = if kind == DocKind::Spec {
            d.hint("start from an example: `fleetform init --example minimal`")
        } else {
            d.hint("list at least one device, or remove the registry")
        };
        return Err(d.into());
    }

    let options = serde_saphyr::options! {
        budget: serde_saphyr::budget! {
            max_depth: MAX_DEPTH,
            max_documents: 1,
            max_aliases: 10_000,
            max_anchors: 10_000,
            max_total_scalar_bytes: kind.max_bytes(),
        },
        alias_limits: alias_limits(),
        with_snippet: false,
    };
    match serde_saphyr::from_str_with_options::<Node>(&text, options) {
        Ok(node) => {
            if kind == DocKind::Spec && !matches!(node.value, Value::Map(_)) {
                return Err(Diagnostic::error(
                    "not-a-mapping",
                    format!("the spec must be a mapping of keys, found {}", node.kind()),
                )
                .in_source(id, node.span)
                .hint("a spec starts with `version: 1`, then `stack:`, `clouds:` and `fleet:`")
                .into());
            }
            Ok(node)
        }
        Err(err) => Err(yaml_error(&text, id, &err).into()),
    }
}

/// An `input-too-large` diagnostic when the text of `id` is longer than `max_bytes`.
pub fn too_large(sources: &Sources, id: SourceId, max_bytes: usize) -> Option<Diagnostic> {
    let file = sources.get(id);
    if file.text.len() <= max_bytes {
        return None;
    }
    let mib = |n: usize| n as f64 / (1024.0 * 1024.0);
    Some(
        Diagnostic::error(
            "input-too-large",
            format!(
                "`{}` is {:.1} MiB; fleetform reads at most {:.0} MiB here",
                file.name,
                mib(file.text.len()),
                mib(max_bytes)
            ),
        )
        .in_source(id, ByteSpan { start: 0, len: 0 }),
    )
}

fn alias_limits() -> serde_saphyr::options::AliasLimits {
    let mut limits = serde_saphyr::options::AliasLimits::default();
    limits.max_total_replayed_events = 100_000;
    limits.max_replay_stack_depth = 16;
    limits.max_alias_expansions_per_anchor = 1_000;
    limits
}

fn yaml_error(text: &str, id: SourceId, err: &serde_saphyr::Error) -> Diagnostic {
    use serde_saphyr::Error as E;
    use serde_saphyr::budget::BudgetBreach as B;

    let inner = original_error(err);
    // The outermost error knows where the problem is used; an alias wrapper's inner error
    // may point at the anchor's definition instead.
    let offset = err
        .without_snippet()
        .location()
        .or_else(|| inner.location())
        .map_or(0, |l| offset_of(text, l))
        .min(text.len());
    // The parser appends its own position ("at line 3, column 5"); ours is the snippet.
    let raw = inner.to_string();
    let message = raw
        .split(" at line ")
        .next()
        .unwrap_or(&raw)
        .trim_end_matches(['.', ':'])
        .to_owned();
    let (code, message, hint) = match inner {
        E::DuplicateMappingKey { key, .. } => (
            "duplicate-key",
            match key {
                Some(k) => format!("the key `{k}` appears twice in this mapping"),
                None => "a key appears twice in this mapping".to_owned(),
            },
            "each key may appear once per mapping; remove or rename one of them".to_owned(),
        ),
        E::MultipleDocuments { .. }
        | E::Budget {
            breach: B::Documents { .. },
            ..
        } => (
            "multiple-documents",
            "the file holds more than one YAML document".to_owned(),
            "a spec is one YAML document; remove the extra `---`".to_owned(),
        ),
        E::Budget {
            breach: B::Depth { .. },
            ..
        } => too_deep(),
        E::ExternalMessage { source, .. }
            if matches!(
                &**source,
                ExternalMessageSource::Parser(scan)
                    if *scan.kind() == ErrorKind::RecursionLimitExceeded
            ) =>
        {
            too_deep()
        }
        E::UnknownAnchor { .. } => {
            let name = alias_name(&text[offset..]);
            let shown = if name.is_empty() { "name" } else { name };
            (
                "yaml-syntax",
                if name.is_empty() {
                    "invalid YAML: an alias refers to an anchor that is not defined".to_owned()
                } else {
                    format!("invalid YAML: the alias `*{name}` refers to an anchor that is not defined")
                },
                format!(
                    "define `&{shown}` on a value before using `*{shown}`, or check the alias for a typo"
                ),
            )
        }
        E::Budget { .. }
        | E::AliasReplayCounterOverflow { .. }
        | E::AliasReplayLimitExceeded { .. }
        | E::AliasExpansionLimitExceeded { .. }
        | E::AliasReplayStackDepthExceeded { .. } => (
            "input-budget",
            format!("the document expands beyond fleetform's input budget ({message})"),
            "aliases that expand into huge trees (\"billion laughs\") are refused; write the values out".to_owned(),
        ),
        _ => (
            "yaml-syntax",
            format!("invalid YAML: {message}"),
            "check indentation (spaces only, consistent width) and quote values that contain `: ` or start with `{`, `[`, `*`, `&` or `!`".to_owned(),
        ),
    };
    Diagnostic::error(code, message)
        .in_source(
            id,
            ByteSpan {
                start: offset,
                len: 1,
            },
        )
        .hint(hint)
}

/// The error under the parser's wrappers (source snippets, alias use sites).
fn original_error(mut err: &serde_saphyr::Error) -> &serde_saphyr::Error {
    while let serde_saphyr::Error::AliasError { error, .. }
    | serde_saphyr::Error::WithSnippet { error, .. } = err
    {
        err = error;
    }
    err
}

fn too_deep() -> (&'static str, String, String) {
    (
        "input-budget",
        format!("the document nests more than {MAX_DEPTH} levels deep"),
        "no fleet spec needs more than a few levels; write it out plainly".to_owned(),
    )
}

/// The name of the alias (`*name`) at the start of `text`, or "" when there is none.
fn alias_name(text: &str) -> &str {
    let Some(rest) = text.strip_prefix('*') else {
        return "";
    };
    let end = rest
        .find(|c: char| c.is_whitespace() || matches!(c, ',' | '[' | ']' | '{' | '}'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Byte offset of a parser location, from its byte offset when known, else from its
/// 1-based line and (character) column.
fn offset_of(text: &str, loc: serde_saphyr::Location) -> usize {
    if let Some(o) = loc
        .span()
        .byte_offset()
        .and_then(|o| usize::try_from(o).ok())
        && (o > 0 || (loc.line() <= 1 && loc.column() <= 1))
    {
        return o;
    }
    let line = usize::try_from(loc.line()).unwrap_or(1).max(1);
    let col = usize::try_from(loc.column()).unwrap_or(1).max(1);
    let line_start = if line == 1 {
        0
    } else {
        text.match_indices('\n')
            .nth(line - 2)
            .map_or(text.len(), |(i, _)| i + 1)
    };
    let line_text = &text[line_start..];
    line_start
        + line_text
            .char_indices()
            .nth(col - 1)
            .map_or(line_text.len(), |(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Node, Diagnostics> {
        let mut sources = Sources::default();
        let id = sources.add("t.yaml", text);
        parse_yaml(&sources, id, DocKind::Spec)
    }

    #[test]
    fn keeps_spans_of_keys_and_values() {
        let node = parse("a:\n  bb: 12\n").unwrap();
        let Value::Map(top) = &node.value else {
            panic!()
        };
        let Value::Map(inner) = &top[0].1.value else {
            panic!()
        };
        assert_eq!(inner[0].0.name, "bb");
        assert_eq!(inner[0].0.span.start, 5);
        assert_eq!(inner[0].1.span.start, 9);
        assert_eq!(inner[0].1.value, Value::Int(12));
    }

    #[test]
    fn rejects_duplicate_keys() {
        let err = parse("a: 1\na: 2\n").unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(d.code, "duplicate-key", "{d:?}");
    }

    #[test]
    fn rejects_alias_bombs() {
        let bomb = "a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\ne: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\nf: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\ng: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n";
        let err = parse(bomb).unwrap_err();
        assert_eq!(err.iter().next().unwrap().code, "input-budget");
    }

    #[test]
    fn undefined_alias_is_a_syntax_error_not_a_bomb() {
        let text = "a: &base {x: 1}\nb: *bsae\n";
        let err = parse(text).unwrap_err();
        let d = err.iter().next().unwrap();
        assert_eq!(d.code, "yaml-syntax", "{d:?}");
        assert!(d.message.contains("`*bsae`"), "{d:?}");
        assert!(d.hints[0].contains("`&bsae`"), "{d:?}");
        assert_eq!(d.location.unwrap().span.start, text.find('*').unwrap());
    }

    #[test]
    fn rejects_deep_nesting() {
        let deep = format!("{}1{}", "[".repeat(500), "]".repeat(500));
        let err = parse(&format!("a: {deep}\n")).unwrap_err();
        assert_eq!(err.iter().next().unwrap().code, "input-budget");
    }

    /// Nesting right at the limit, and one past it, in flow and block style, parse (or fail
    /// with a diagnostic) on a thread with Rust's default 2 MiB stack: a deeper budget once
    /// overflowed it and aborted the process.
    #[test]
    fn nesting_at_the_limit_fits_a_default_thread_stack() {
        let doc = |levels: usize, block: bool| {
            // `a:` is the first level.
            let inner = levels - 1;
            if block {
                let mut s = String::from("a:\n");
                for i in 0..inner {
                    s.push_str(&"  ".repeat(i + 1));
                    s.push_str(if i + 1 == inner { "k: 1\n" } else { "k:\n" });
                }
                s
            } else {
                format!("a: {}1{}\n", "{k: ".repeat(inner), "}".repeat(inner))
            }
        };
        for block in [false, true] {
            let (at, past) = (doc(MAX_DEPTH, block), doc(MAX_DEPTH + 1, block));
            let outcome = std::thread::Builder::new()
                .stack_size(2 * 1024 * 1024)
                .spawn(move || (parse(&at).is_ok(), parse(&past).map(|_| ()).unwrap_err()))
                .unwrap()
                .join()
                .expect("no stack overflow");
            assert!(outcome.0, "{MAX_DEPTH} levels parse (block: {block})");
            let d = outcome.1.iter().next().unwrap().clone();
            assert_eq!(d.code, "input-budget", "{d:?}");
        }
    }
}
