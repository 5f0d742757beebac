//! Mermaid: the diagram as a `flowchart LR`, which GitHub and GitLab render inline in
//! Markdown, so stack READMEs and pull requests can show the architecture as text.
//!
//! Mermaid's label syntax gives meaning to quotes, brackets, `#` (entity codes), `<`/`>`
//! (HTML labels), backticks (Markdown strings) and more, and a label that closes early lets
//! the rest of it be read as diagram syntax. So every character outside letters, digits and
//! a few harmless marks is written as a numeric entity code (`#34;` for `"`), every label is
//! quoted, and node ids are generated (`n0`, `n1`, …), never taken from the spec.

use std::fmt::Write as _;

use super::{Graph, Kind};

/// Renders `graph` as a Mermaid flowchart.
pub fn render(graph: &Graph) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "%% {}", comment(&graph.title));
    let _ = writeln!(s, "flowchart LR");
    let node_line = |s: &mut String, i: usize, indent: &str| {
        let node = &graph.nodes[i];
        let mut label = format!("<b>{}</b>", escape(&node.title));
        for d in &node.details {
            label.push_str("<br/>");
            label.push_str(&escape(d));
        }
        let (open, close) = shape(node.kind);
        let _ = writeln!(s, "{indent}n{i}{open}\"{label}\"{close}");
    };
    for (i, node) in graph.nodes.iter().enumerate() {
        if node.cluster.is_none() {
            node_line(&mut s, i, "  ");
        }
    }
    for (k, cluster) in graph.clusters.iter().enumerate() {
        let _ = writeln!(s, "  subgraph c{k}[\"{}\"]", escape(&cluster.title));
        for (i, node) in graph.nodes.iter().enumerate() {
            if node.cluster == Some(k) {
                node_line(&mut s, i, "    ");
            }
        }
        let _ = writeln!(s, "  end");
    }
    for e in &graph.edges {
        match &e.label {
            Some(label) => {
                let _ = writeln!(
                    s,
                    "  {} -->|\"{}\"| {}",
                    e.from.key(),
                    escape(label),
                    e.to.key()
                );
            }
            None => {
                let _ = writeln!(s, "  {} --> {}", e.from.key(), e.to.key());
            }
        }
    }
    for kind in Kind::ALL {
        let members: Vec<String> = graph
            .nodes
            .iter()
            .enumerate()
            .filter(|(_, n)| n.kind == kind)
            .map(|(i, _)| format!("n{i}"))
            .collect();
        if members.is_empty() {
            continue;
        }
        let (fill, stroke) = kind.colors();
        let _ = writeln!(
            s,
            "  classDef {} fill:{fill},stroke:{stroke},color:#0f172a",
            kind.name()
        );
        let _ = writeln!(s, "  class {} {}", members.join(","), kind.name());
    }
    for k in 0..graph.clusters.len() {
        let _ = writeln!(
            s,
            "  style c{k} fill:#f8fafc,stroke:#94a3b8,stroke-dasharray:6 4"
        );
    }
    s
}

/// Opening and closing brackets of a node's shape.
fn shape(kind: Kind) -> (&'static str, &'static str) {
    match kind {
        Kind::Devices => ("([", "])"),
        Kind::Provisioning | Kind::Hub => ("[", "]"),
        Kind::Rule => ("{{", "}}"),
        Kind::Stream => ("[[", "]]"),
        Kind::Storage | Kind::Database => ("[(", ")]"),
        Kind::Expiry | Kind::Function => ("(", ")"),
        Kind::Notification => (">", "]"),
        Kind::Feature => ("[", "]"),
    }
}

/// Escapes text for a quoted Mermaid label: anything that is not a letter, a digit, a space
/// or one of `-_.,:/+=*'()@!?` becomes a numeric entity code, which Mermaid turns back into the
/// character when it draws.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_alphanumeric()
            || matches!(
                c,
                ' ' | '-'
                    | '_'
                    | '.'
                    | ','
                    | ':'
                    | '/'
                    | '+'
                    | '='
                    | '*'
                    | '\''
                    | '('
                    | ')'
                    | '@'
                    | '!'
                    | '?'
            )
        {
            out.push(c);
        } else if c.is_control() {
            out.push(' ');
        } else {
            let _ = write!(out, "#{};", u32::from(c));
        }
    }
    out
}

/// A `%%` comment line: no line breaks.
fn comment(text: &str) -> String {
    text.chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostile_text_cannot_close_the_label() {
        let e = escape(r#"status = 'a"]b' #x <br/> `md` {c} |p| &amp;"#);
        assert!(
            !e.contains('"') && !e.contains(']') && !e.contains('<'),
            "{e}"
        );
        assert!(
            !e.contains('`') && !e.contains('|') && !e.contains('{'),
            "{e}"
        );
        assert_eq!(escape("a\"b"), "a#34;b");
        assert_eq!(escape("#"), "#35;");
    }
}
