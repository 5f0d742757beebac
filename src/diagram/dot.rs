//! Graphviz DOT: the diagram for people who lay out with `dot -Tsvg` or `-Tpdf`, and for
//! tools that read DOT.
//!
//! Every label is a double-quoted DOT string with `\` and `"` escaped, so user text cannot
//! end the string or smuggle in escapes such as `\N`; line breaks are added by fleetform as
//! `\n`. Node ids are generated (`n0`, `n1`, …) and clusters are `cluster_0`, `cluster_1`, …

use std::fmt::Write as _;

use super::{Graph, Kind};

/// Renders `graph` as a DOT digraph.
pub fn render(graph: &Graph) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "digraph fleet {{");
    let _ = writeln!(
        s,
        "  graph [rankdir=LR, label=\"{}\", labelloc=t, fontname=\"monospace\", fontsize=12, nodesep=0.35, ranksep=0.6];",
        escape(&graph.title)
    );
    let _ = writeln!(
        s,
        "  node [shape=box, style=filled, fontname=\"monospace\", fontsize=10];"
    );
    let _ = writeln!(
        s,
        "  edge [fontname=\"monospace\", fontsize=9, color=\"#64748b\"];"
    );
    let node_line = |s: &mut String, i: usize, indent: &str| {
        let node = &graph.nodes[i];
        let label: Vec<String> = node.lines().map(escape).collect();
        let (fill, stroke) = node.kind.colors();
        let _ = writeln!(
            s,
            "{indent}n{i} [label=\"{}\", shape={}, style=\"{}\", fillcolor=\"{fill}\", color=\"{stroke}\"];",
            label.join("\\n"),
            shape(node.kind),
            if shape(node.kind) == "box" {
                "rounded,filled"
            } else {
                "filled"
            }
        );
    };
    for (i, node) in graph.nodes.iter().enumerate() {
        if node.cluster.is_none() {
            node_line(&mut s, i, "  ");
        }
    }
    for (k, cluster) in graph.clusters.iter().enumerate() {
        let _ = writeln!(s, "  subgraph cluster_{k} {{");
        let _ = writeln!(
            s,
            "    label=\"{}\"; style=\"dashed,rounded\"; color=\"#94a3b8\"; labeljust=l;",
            escape(&cluster.title)
        );
        for (i, node) in graph.nodes.iter().enumerate() {
            if node.cluster == Some(k) {
                node_line(&mut s, i, "    ");
            }
        }
        let _ = writeln!(s, "  }}");
    }
    for e in &graph.edges {
        match &e.label {
            Some(label) => {
                let _ = writeln!(
                    s,
                    "  {} -> {} [label=\"{}\"];",
                    e.from.key(),
                    e.to.key(),
                    escape(label)
                );
            }
            None => {
                let _ = writeln!(s, "  {} -> {};", e.from.key(), e.to.key());
            }
        }
    }
    let _ = writeln!(s, "}}");
    s
}

fn shape(kind: Kind) -> &'static str {
    match kind {
        Kind::Storage | Kind::Database => "cylinder",
        Kind::Rule => "hexagon",
        Kind::Notification => "note",
        Kind::Devices => "box3d",
        _ => "box",
    }
}

/// Escapes text for a double-quoted DOT string.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_quotes_and_backslashes() {
        assert_eq!(escape(r#"a"b\N"#), r#"a\"b\\N"#);
    }
}
