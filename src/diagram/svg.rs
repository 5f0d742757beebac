//! SVG: a self-contained picture drawn in Rust, for places where Mermaid and Graphviz are not
//! at hand (slides, wikis, a browser opened on a file).
//!
//! The file needs nothing else: no script, no external font, no stylesheet, no Graphviz.
//! Positions come from [`super::layout`]; text is XML-escaped; numbers are printed with one
//! decimal, so the bytes are the same on every machine.

use std::fmt::Write as _;

use super::layout::{self, Layout, Rect, Text};
use super::{Graph, Kind};

const FONT: &str = "ui-monospace, SFMono-Regular, Menlo, Consolas, 'DejaVu Sans Mono', 'Liberation Mono', monospace";
const EDGE_COLOR: &str = "#64748b";

/// Renders `graph` as an SVG document.
pub fn render(graph: &Graph) -> String {
    render_layout(graph, &layout::layout(graph))
}

/// Renders an already computed layout of `graph`.
pub fn render_layout(graph: &Graph, l: &Layout) -> String {
    let mut s = String::new();
    let _ = writeln!(s, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        s,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" role="img" aria-labelledby="title">"#,
        w = num(l.width),
        h = num(l.height),
    );
    let _ = writeln!(s, r#"<title id="title">{}</title>"#, escape(&graph.title));
    let _ = writeln!(s, "<style>");
    let _ = writeln!(s, "text {{ font-family: {FONT}; fill: #0f172a; }}");
    let _ = writeln!(
        s,
        ".edge {{ fill: none; stroke: {EDGE_COLOR}; stroke-width: 1.3; }}"
    );
    let _ = writeln!(
        s,
        ".cluster {{ fill: #f8fafc; stroke: #94a3b8; stroke-dasharray: 6 4; }}"
    );
    let _ = writeln!(s, ".label {{ fill: #ffffff; stroke: none; }}");
    for kind in Kind::ALL {
        let (fill, stroke) = kind.colors();
        let _ = writeln!(
            s,
            ".{} {{ fill: {fill}; stroke: {stroke}; stroke-width: 1.2; }}",
            kind.name()
        );
    }
    let _ = writeln!(s, "</style>");
    let _ = writeln!(
        s,
        r#"<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="{EDGE_COLOR}"/></marker></defs>"#
    );
    let _ = writeln!(
        s,
        r##"<rect x="0" y="0" width="{}" height="{}" fill="#ffffff"/>"##,
        num(l.width),
        num(l.height)
    );
    for c in &l.clusters {
        let _ = writeln!(s, r#"<g class="cloud">"#);
        rect(&mut s, &c.rect, "cluster", 10.0);
        text(&mut s, &c.title, "#475569");
        let _ = writeln!(s, "</g>");
    }
    for e in &l.edges {
        let mut d = String::new();
        for (i, (x, y)) in e.points.iter().enumerate() {
            let _ = write!(
                d,
                "{}{},{}",
                if i == 0 { "M" } else { " L" },
                num(*x),
                num(*y)
            );
        }
        let _ = writeln!(
            s,
            r#"<path class="edge" d="{d}" marker-end="url(#arrow)"/>"#
        );
    }
    for e in &l.edges {
        if let Some(label) = &e.label {
            let _ = writeln!(s, r#"<g class="edge-label">"#);
            rect(&mut s, &label.rect, "label", 3.0);
            text(&mut s, &label.text, "#334155");
            let _ = writeln!(s, "</g>");
        }
    }
    for n in &l.nodes {
        let _ = writeln!(s, r#"<g id="{}" class="node">"#, n.id.key());
        rect(&mut s, &n.rect, n.kind.name(), 6.0);
        for t in &n.lines {
            text(&mut s, t, "#0f172a");
        }
        let _ = writeln!(s, "</g>");
    }
    let _ = writeln!(s, "</svg>");
    s
}

fn rect(s: &mut String, r: &Rect, class: &str, radius: f64) {
    let _ = writeln!(
        s,
        r#"<rect class="{class}" x="{}" y="{}" width="{}" height="{}" rx="{}"/>"#,
        num(r.x),
        num(r.y),
        num(r.w),
        num(r.h),
        num(radius)
    );
}

fn text(s: &mut String, t: &Text, color: &str) {
    let _ = writeln!(
        s,
        r#"<text x="{}" y="{}" font-size="{}" text-anchor="middle"{} fill="{color}">{}</text>"#,
        num(t.x),
        num(t.baseline),
        num(t.size),
        if t.bold { r#" font-weight="bold""# } else { "" },
        escape(&t.text)
    );
}

/// A coordinate with at most one decimal, without a trailing `.0`.
fn num(v: f64) -> String {
    let rounded = (v * 10.0).round() / 10.0;
    let text = format!("{rounded:.1}");
    match text.strip_suffix(".0") {
        Some(whole) if whole != "-0" => whole.to_owned(),
        Some(_) => "0".to_owned(),
        None => text,
    }
}

/// Escapes text for XML content and attribute values; drops characters XML 1.0 forbids.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\t' | '\n' | '\r' => out.push(' '),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_short_and_stable() {
        assert_eq!(num(12.0), "12");
        assert_eq!(num(12.04), "12");
        assert_eq!(num(12.06), "12.1");
        assert_eq!(num(-0.01), "0");
    }

    #[test]
    fn escapes_markup() {
        assert_eq!(escape(r#"a<b>&"c'"#), "a&lt;b&gt;&amp;&quot;c&apos;");
        assert_eq!(escape("x\u{1}y"), "xy");
    }
}
