//! Diagnostics: the one place that decides how problems look and which exit code they mean.
//!
//! Every layer reports problems as [`Diagnostic`] values that carry a spec path and, once
//! resolved against the loaded sources, a byte span. Layers never print. The CLI collects
//! them, and this module renders them, either for people (source snippets via miette) or
//! for pipelines (a stable JSON shape, like `terraform validate -json`). Keeping rendering
//! here means a switch of renderer is a change to one file.
//!
//! Messages echo spec and registry values, which a pull request controls: every text shown
//! goes through [`escape`] first (messages, hints, labels, file names and the source snippet
//! itself), so a control character or an ANSI escape in the input reaches a terminal or a CI
//! log as a visible `\u{1b}`, never as an escape.

pub mod escape;

use std::fmt::Write as _;
use std::sync::Arc;

use serde::Serialize;

use crate::spec::node::{Anchor, ByteSpan, Node, SpecPath};

/// Process exit codes, documented in `fleetform --help`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything is fine.
    Success = 0,
    /// The spec is invalid, a check found drift, or a budget was exceeded.
    Failure = 1,
    /// Bad usage, an I/O problem, or a bug in fleetform.
    Error = 2,
    /// `diff --exit-code`: the infrastructure or the bill changes, nothing that holds data or
    /// device identities is replaced or destroyed.
    Changed = 3,
    /// `diff --exit-code`: something that holds data or device identities is replaced or
    /// destroyed.
    DataLoss = 4,
}

impl From<ExitStatus> for std::process::ExitCode {
    fn from(s: ExitStatus) -> Self {
        std::process::ExitCode::from(s as u8)
    }
}

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// Identifies a loaded source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SourceId(pub usize);

/// A loaded file: its display name and text.
#[derive(Debug, Clone)]
pub struct SourceFile {
    pub name: String,
    pub text: Arc<str>,
    /// Byte offset of the start of every line, so a location is found by binary search
    /// rather than by scanning the file from the start for each diagnostic.
    line_starts: Arc<[usize]>,
}

/// Every source text a run has read, so diagnostics can show snippets.
#[derive(Debug, Clone, Default)]
pub struct Sources {
    files: Vec<SourceFile>,
}

impl Sources {
    pub fn add(&mut self, name: impl Into<String>, text: impl Into<Arc<str>>) -> SourceId {
        let text: Arc<str> = text.into();
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        self.files.push(SourceFile {
            name: name.into(),
            text,
            line_starts,
        });
        SourceId(self.files.len() - 1)
    }

    pub fn get(&self, id: SourceId) -> &SourceFile {
        &self.files[id.0]
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_col(&self, id: SourceId, offset: usize) -> (usize, usize) {
        let file = self.get(id);
        let text = &file.text;
        let offset = floor_char_boundary(text, offset.min(text.len()));
        // Lines starting at or before `offset`; the first line starts at 0, so at least 1.
        let line = file.line_starts.partition_point(|&start| start <= offset);
        let line_start = file.line_starts[line - 1];
        let column = text[line_start..offset].chars().count() + 1;
        (line, column)
    }
}

fn floor_char_boundary(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Where in which file a diagnostic points.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Location {
    pub source: SourceId,
    pub span: ByteSpan,
}

/// One problem found in the input.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Diagnostic {
    pub severity: Severity,
    /// Stable kebab-case identifier, for example `unknown-key`.
    pub code: &'static str,
    pub message: String,
    /// Spec path of the offending value, when it is in the spec.
    pub path: Option<SpecPath>,
    /// Whether to point at the key or the value of `path`.
    pub anchor: Anchor,
    /// Resolved location; filled by [`Diagnostics::locate`] or set directly.
    pub location: Option<Location>,
    /// Byte offset and length inside the value's text (a mistake inside a condition).
    pub inner: Option<(usize, usize)>,
    /// Short label under the snippet.
    pub label: Option<String>,
    /// How to fix it.
    pub hints: Vec<String>,
}

impl Diagnostic {
    pub fn error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Error,
            code,
            message: message.into(),
            path: None,
            anchor: Anchor::Value,
            location: None,
            inner: None,
            label: None,
            hints: Vec::new(),
        }
    }

    pub fn warning(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            severity: Severity::Warning,
            ..Self::error(code, message)
        }
    }

    #[must_use]
    pub fn at(mut self, path: SpecPath) -> Self {
        self.path = Some(path);
        self
    }

    /// Points at the key of `path` rather than its value.
    #[must_use]
    pub fn at_key(mut self, path: SpecPath) -> Self {
        self.path = Some(path);
        self.anchor = Anchor::Key;
        self
    }

    /// Narrows the location to `len` bytes at `offset` inside the value's text.
    #[must_use]
    pub fn inside(mut self, offset: usize, len: usize) -> Self {
        self.inner = Some((offset, len));
        self
    }

    #[must_use]
    pub fn in_source(mut self, source: SourceId, span: ByteSpan) -> Self {
        self.location = Some(Location { source, span });
        self
    }

    #[must_use]
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hints.push(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

/// A collection of diagnostics: appended to by every check, sorted and deduplicated before
/// it is shown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Diagnostics(Vec<Diagnostic>);

impl Diagnostics {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn push(&mut self, d: Diagnostic) {
        self.0.push(d);
    }

    pub fn extend(&mut self, other: impl IntoIterator<Item = Diagnostic>) {
        self.0.extend(other);
    }

    pub fn has_errors(&self) -> bool {
        self.0.iter().any(Diagnostic::is_error)
    }

    pub fn error_count(&self) -> usize {
        self.0.iter().filter(|d| d.is_error()).count()
    }

    pub fn warning_count(&self) -> usize {
        self.0.len() - self.error_count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Diagnostic> {
        self.0.iter()
    }

    /// Resolves spec paths to locations in `source` using the spanned YAML tree.
    pub fn locate(&mut self, sources: &Sources, source: SourceId, root: &Node) {
        let text = &sources.get(source).text;
        for d in &mut self.0 {
            if d.location.is_some() {
                continue;
            }
            let Some(path) = &d.path else { continue };
            let (mut span, exact) = root.locate(path, d.anchor);
            if let (Some((offset, len)), true) = (d.inner, exact) {
                // Quoted scalars start with their quote; the value's text starts after it.
                let quoted = matches!(text.as_bytes().get(span.start), Some(b'\'' | b'"'));
                span = ByteSpan {
                    start: span.start + usize::from(quoted) + offset,
                    len: len.max(1),
                };
            }
            d.location = Some(Location { source, span });
        }
    }

    /// Sorts like [`Diagnostics::sort`], and also drops diagnostics that repeat at the same
    /// place with the same message (each environment re-checks the base spec).
    pub fn sort_and_dedupe_across_environments(&mut self) {
        self.sort();
        let mut seen = std::collections::BTreeSet::new();
        self.0
            .retain(|d| seen.insert((d.location, d.severity, d.code, d.message.clone())));
    }

    /// Sorts by file position, then severity, and drops exact duplicates.
    pub fn sort(&mut self) {
        self.0.sort_by(|a, b| {
            let key = |d: &Diagnostic| (d.location.map(|l| (l.source, l.span.start)), d.severity);
            key(a).cmp(&key(b)).then_with(|| a.cmp(b))
        });
        self.0.dedup();
    }
}

impl IntoIterator for Diagnostics {
    type Item = Diagnostic;
    type IntoIter = std::vec::IntoIter<Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.into_iter()
    }
}

impl<'a> IntoIterator for &'a Diagnostics {
    type Item = &'a Diagnostic;
    type IntoIter = std::slice::Iter<'a, Diagnostic>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<Diagnostic> for Diagnostics {
    fn from(d: Diagnostic) -> Self {
        Self(vec![d])
    }
}

/// Output format of diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Format {
    /// Source snippets for people.
    #[default]
    Human,
    /// One JSON document for pipelines.
    Json,
}

/// Renders diagnostics for people: a source snippet per diagnostic, then a summary line.
pub fn render_human(diags: &Diagnostics, sources: &Sources, color: bool) -> String {
    let theme = if color {
        miette::GraphicalTheme::unicode()
    } else {
        miette::GraphicalTheme::unicode_nocolor()
    };
    let handler = miette::GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false)
        .with_context_lines(1);
    let mut out = String::new();
    // Each source's text as shown (escaped when it must be), computed once per rendering.
    let mut shown = Shown::new();
    for (i, d) in diags.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let report = MietteView::new(d, sources, &mut shown);
        // Rendering into a String cannot fail.
        let _ = handler.render_report(&mut out, &report);
        if !out.ends_with('\n') {
            out.push('\n');
        }
    }
    let (e, w) = (diags.error_count(), diags.warning_count());
    if e + w > 0 {
        let _ = writeln!(out, "{}", summary(e, w));
    }
    out
}

fn summary(errors: usize, warnings: usize) -> String {
    let plural = |n: usize, word: &str| format!("{n} {word}{}", if n == 1 { "" } else { "s" });
    match (errors, warnings) {
        (0, w) => format!("{} found", plural(w, "warning")),
        (e, 0) => format!("{} found", plural(e, "error")),
        (e, w) => format!("{} and {} found", plural(e, "error"), plural(w, "warning")),
    }
}

/// The stable machine-readable shape of a diagnostics report (`--format json`).
#[derive(Debug, Serialize)]
pub struct JsonReport<'a> {
    /// Shape version; bumped only on breaking changes.
    pub format_version: u32,
    pub valid: bool,
    pub error_count: usize,
    pub warning_count: usize,
    pub diagnostics: Vec<JsonDiagnostic<'a>>,
}

/// One diagnostic in the JSON report.
#[derive(Debug, Serialize)]
pub struct JsonDiagnostic<'a> {
    pub severity: Severity,
    pub code: &'a str,
    pub message: &'a str,
    pub file: Option<&'a str>,
    pub line: Option<usize>,
    pub column: Option<usize>,
    pub end_line: Option<usize>,
    pub end_column: Option<usize>,
    pub path: Option<String>,
    pub hints: &'a [String],
}

/// Builds the JSON report.
pub fn json_report<'a>(diags: &'a Diagnostics, sources: &'a Sources) -> JsonReport<'a> {
    let diagnostics = diags
        .iter()
        .map(|d| {
            let (file, start, end) = match d.location {
                Some(l) => {
                    let start = sources.line_col(l.source, l.span.start);
                    let end = sources.line_col(l.source, l.span.start + l.span.len);
                    (
                        Some(sources.get(l.source).name.as_str()),
                        Some(start),
                        Some(end),
                    )
                }
                None => (None, None, None),
            };
            JsonDiagnostic {
                severity: d.severity,
                code: d.code,
                message: &d.message,
                file,
                line: start.map(|s| s.0),
                column: start.map(|s| s.1),
                end_line: end.map(|s| s.0),
                end_column: end.map(|s| s.1),
                path: d.path.as_ref().map(ToString::to_string),
                hints: &d.hints,
            }
        })
        .collect();
    JsonReport {
        format_version: 1,
        valid: !diags.has_errors(),
        error_count: diags.error_count(),
        warning_count: diags.warning_count(),
        diagnostics,
    }
}

/// Renders diagnostics as pretty JSON (see [`escape::json_pretty`]).
pub fn render_json(diags: &Diagnostics, sources: &Sources) -> String {
    let mut s = escape::json_pretty(&json_report(diags, sources))
        .unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    s.push('\n');
    s
}

/// An error that is not a diagnostic (I/O, usage), as printed on stderr: `error: ` and the
/// message with its `hint:` lines, control characters escaped.
pub fn render_error(message: &str) -> String {
    format!("error: {}\n", escape::text(message.trim_end_matches('\n')))
}

/// Renders in the chosen format.
pub fn render(diags: &Diagnostics, sources: &Sources, format: Format, color: bool) -> String {
    match format {
        Format::Human => render_human(diags, sources, color),
        Format::Json => render_json(diags, sources),
    }
}

/// Source texts as shown in snippets, by source: escaped, with the offset map, when needed.
type Shown = std::collections::BTreeMap<SourceId, (Arc<str>, Option<escape::Offsets>)>;

/// Adapter that shows one of our diagnostics through miette's graphical handler.
struct MietteView<'a> {
    diag: &'a Diagnostic,
    source: Option<miette::NamedSource<Arc<str>>>,
    /// Where the labels' offsets land in the escaped source text, when it needed escaping.
    offsets: Option<escape::Offsets>,
    header: String,
    help: Option<String>,
    label: Option<String>,
}

impl<'a> MietteView<'a> {
    fn new(diag: &'a Diagnostic, sources: &Sources, shown: &mut Shown) -> Self {
        let mut offsets = None;
        let source = diag.location.map(|l| {
            let f = sources.get(l.source);
            let (text, map) = shown
                .entry(l.source)
                .or_insert_with(|| match escape::text_with_offsets(&f.text) {
                    Some((escaped, map)) => (Arc::from(escaped), Some(map)),
                    None => (f.text.clone(), None),
                })
                .clone();
            offsets = map;
            miette::NamedSource::new(escape::line(&f.name), text).with_language("yaml")
        });
        let mut header = format!("{} [{}]", escape::line(&diag.message), diag.code);
        if let Some(path) = &diag.path
            && !path.is_root()
        {
            let _ = write!(header, "\n  at `{}`", escape::line(&path.to_string()));
        }
        let help = (!diag.hints.is_empty()).then(|| {
            diag.hints
                .iter()
                .map(|h| escape::line(h))
                .collect::<Vec<_>>()
                .join("\n")
        });
        let label = diag.label.as_deref().map(|l| escape::line(l).into_owned());
        Self {
            diag,
            source,
            offsets,
            header,
            help,
            label,
        }
    }
}

impl std::fmt::Debug for MietteView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&escape::line(&self.diag.message))
    }
}

impl std::fmt::Display for MietteView<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.header)
    }
}

impl std::error::Error for MietteView<'_> {}

impl miette::Diagnostic for MietteView<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.diag.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        })
    }

    fn help<'b>(&'b self) -> Option<Box<dyn std::fmt::Display + 'b>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = miette::LabeledSpan> + '_>> {
        let loc = self.diag.location?;
        let (start, end) = (loc.span.start, loc.span.start + loc.span.len.max(1));
        let (start, end) = match &self.offsets {
            Some(o) => (o.map(start), o.map(end)),
            None => (start, end),
        };
        let span = miette::SourceSpan::new(start.into(), end - start);
        let label = miette::LabeledSpan::new_with_span(self.label.clone(), span);
        Some(Box::new(std::iter::once(label)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn line_col_counts_lines_and_characters() {
        let mut sources = Sources::default();
        let text = "ab\n\nçé: x\nlast";
        let id = sources.add("t.yaml", text);
        let expect = |offset: usize| {
            let before = &text[..floor_char_boundary(text, offset.min(text.len()))];
            let line = before.matches('\n').count() + 1;
            let start = before.rfind('\n').map_or(0, |i| i + 1);
            (line, before[start..].chars().count() + 1)
        };
        for offset in 0..=text.len() + 3 {
            assert_eq!(
                sources.line_col(id, offset),
                expect(offset),
                "offset {offset}"
            );
        }
        assert_eq!(sources.line_col(id, 2), (1, 3));
        assert_eq!(sources.line_col(id, 3), (2, 1));
        assert_eq!(sources.line_col(id, 8), (3, 3));
    }
}
