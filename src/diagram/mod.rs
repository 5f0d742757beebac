//! Architecture diagrams: the dataflow a spec compiles to, drawn per cloud.
//!
//! Workshops and reviews want a picture of what `fleetform build` will create before anyone
//! reads Terraform. Each cloud's planner decides what exists, where each route delivers and
//! what each box says, and hands that over as a [`Dataflow`] in its design; this module only
//! puts the dataflows of the chosen clouds into one [`Graph`] (one devices node feeding every
//! cloud, one cluster per cloud, details wrapped to [`WRAP_COLUMNS`]) and draws it:
//! [`mermaid`](mod@mermaid) (for READMEs on GitHub and GitLab), [`dot`](mod@dot) (Graphviz)
//! and [`svg`](mod@svg) (self-contained, laid out here by [`layout`]).
//!
//! Labels hold user text (route conditions, alert names, e-mail addresses), so every renderer
//! escapes it for its own language; node ids are generated (`n0`, `n1`, …) and never contain
//! user text. Building is deterministic: nodes and edges appear in the order the planners add
//! them, so the same spec always gives the same bytes.

pub mod dot;
pub mod layout;
pub mod mermaid;
pub mod svg;

use crate::clouds::{self, Cloud};
use crate::cost::format::int;
use crate::design::words::{and_list, auth_words, first_few};
pub use crate::design::{Dataflow, End, Kind};
use crate::model::Model;

/// Details lines longer than this are wrapped, so no box grows wider than a screen.
pub const WRAP_COLUMNS: usize = 44;

/// A node's index in [`Graph::nodes`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct NodeId(pub usize);

impl NodeId {
    /// The generated identifier renderers use (`n0`, `n1`, …); never user text.
    pub fn key(self) -> String {
        format!("n{}", self.0)
    }
}

/// A box in the diagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    pub kind: Kind,
    /// First line, drawn bold where the format allows.
    pub title: String,
    /// Further lines, already wrapped to [`WRAP_COLUMNS`].
    pub details: Vec<String>,
    /// Index into [`Graph::clusters`]; `None` for the devices, which live outside any cloud.
    pub cluster: Option<usize>,
}

impl Node {
    /// Title and details, in order.
    pub fn lines(&self) -> impl Iterator<Item = &str> {
        std::iter::once(self.title.as_str()).chain(self.details.iter().map(String::as_str))
    }
}

/// An arrow: data moves from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edge {
    pub from: NodeId,
    pub to: NodeId,
    pub label: Option<String>,
}

/// A box around one cloud's resources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cluster {
    pub cloud: Cloud,
    pub title: String,
}

/// The dataflow of a fleet on one or more clouds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Graph {
    /// What the picture shows, for titles and accessibility text.
    pub title: String,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    pub clusters: Vec<Cluster>,
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Mermaid `flowchart LR`.
    Mermaid,
    /// Graphviz DOT.
    Dot,
    /// Self-contained SVG.
    Svg,
}

/// The clouds a model targets, in [`clouds::CLOUDS`] order.
pub fn targeted(model: &Model) -> Vec<Cloud> {
    clouds::targeted(model)
}

/// The Mermaid diagram of one cloud's dataflow, with the fleet's devices (for the cloud's
/// stack README, which its planner renders from its own design).
pub fn mermaid_of(model: &Model, dataflow: &Dataflow) -> String {
    mermaid::render(&Graph::of(model, &[dataflow]))
}

/// The Mermaid diagram of one cloud (for stack READMEs).
pub fn mermaid(model: &Model, cloud: Cloud) -> String {
    mermaid::render(&Graph::new(model, &[cloud]))
}

/// The Graphviz DOT diagram of one cloud.
pub fn dot(model: &Model, cloud: Cloud) -> String {
    dot::render(&Graph::new(model, &[cloud]))
}

/// The SVG diagram of one cloud.
pub fn svg(model: &Model, cloud: Cloud) -> String {
    svg::render(&Graph::new(model, &[cloud]))
}

/// Renders `clouds` (each must be targeted by the model; others are skipped) in `format`.
pub fn render(model: &Model, clouds: &[Cloud], format: Format) -> String {
    let graph = Graph::new(model, clouds);
    match format {
        Format::Mermaid => mermaid::render(&graph),
        Format::Dot => dot::render(&graph),
        Format::Svg => svg::render(&graph),
    }
}

/// Renders the environments of one spec, each with the clouds to draw, in `format`: one
/// document whatever their number (see [`Graph::environments`]); a single environment is
/// drawn exactly as [`render`] draws it.
pub fn render_environments(parts: &[(&Model, Vec<Cloud>)], format: Format) -> String {
    let graph = match parts {
        [(model, clouds)] => Graph::new(model, clouds),
        _ => Graph::environments(parts),
    };
    match format {
        Format::Mermaid => mermaid::render(&graph),
        Format::Dot => dot::render(&graph),
        Format::Svg => svg::render(&graph),
    }
}

impl Graph {
    /// Several environments of one spec in one picture, as `build` writes them: each
    /// environment's dataflow (its model, on its clouds) side by side, every cloud box and
    /// devices box naming the environment's stack (`pumps-prod: AWS (eu-west-1)`).
    pub fn environments(parts: &[(&Model, Vec<Cloud>)]) -> Self {
        let names: Vec<String> = parts
            .iter()
            .map(|(m, _)| m.stack.environment.clone())
            .collect();
        let mut out = Graph {
            title: format!(
                "{}: dataflow of the environments {}",
                parts.first().map_or("", |(m, _)| m.stack.name.as_str()),
                and_list(&names)
            ),
            nodes: Vec::new(),
            edges: Vec::new(),
            clusters: Vec::new(),
        };
        for (model, clouds) in parts {
            let graph = Graph::new(model, clouds);
            let (first_node, first_cluster) = (out.nodes.len(), out.clusters.len());
            let prefix = &model.stack.prefix;
            out.nodes.extend(graph.nodes.into_iter().map(|mut node| {
                match node.cluster {
                    Some(c) => node.cluster = Some(first_cluster + c),
                    None => node.details.insert(0, prefix.clone()),
                }
                node
            }));
            out.edges.extend(graph.edges.into_iter().map(|e| Edge {
                from: NodeId(first_node + e.from.0),
                to: NodeId(first_node + e.to.0),
                label: e.label,
            }));
            out.clusters
                .extend(graph.clusters.into_iter().map(|c| Cluster {
                    cloud: c.cloud,
                    title: format!("{prefix}: {}", c.title),
                }));
        }
        out
    }

    /// The dataflow of `model` on `clouds`, in that order; clouds the model does not target
    /// are left out. One devices node feeds every cloud.
    pub fn new(model: &Model, clouds: &[Cloud]) -> Self {
        let designs = clouds::designs(model, clouds);
        let flows: Vec<&Dataflow> = designs.iter().map(|d| &d.dataflow).collect();
        Self::of(model, &flows)
    }

    /// The dataflows of `model`'s clouds in one picture, fed by one devices node.
    pub fn of(model: &Model, dataflows: &[&Dataflow]) -> Self {
        let names: Vec<&str> = dataflows.iter().map(|d| d.cloud.title()).collect();
        let mut g = Graph {
            title: format!(
                "{}: dataflow on {}",
                model.stack.prefix,
                if names.is_empty() {
                    "no cloud".to_owned()
                } else {
                    names.join(" and ")
                }
            ),
            nodes: Vec::new(),
            edges: Vec::new(),
            clusters: Vec::new(),
        };
        let devices = devices(&mut g, model);
        for df in dataflows {
            let cluster = g.clusters.len();
            g.clusters.push(Cluster {
                cloud: df.cloud,
                title: df.title.clone(),
            });
            let first = g.nodes.len();
            g.nodes.extend(df.nodes.iter().map(|n| {
                Node {
                    kind: n.kind,
                    title: n.title.clone(),
                    details: n
                        .details
                        .iter()
                        .flat_map(|d| wrap(d, WRAP_COLUMNS))
                        .collect(),
                    cluster: Some(cluster),
                }
            }));
            let id = |end: End| match end {
                End::Devices => devices,
                End::Node(i) => NodeId(first + i),
            };
            g.edges.extend(df.edges.iter().map(|e| Edge {
                from: id(e.from),
                to: id(e.to),
                label: e.label.clone(),
            }));
        }
        g
    }

    /// Edges into `id`.
    pub fn incoming(&self, id: NodeId) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.to == id)
    }
}

/// Wraps `text` at spaces to lines of at most `width` characters; longer words are split.
pub fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let mut word = word.to_owned();
        loop {
            let have = line.chars().count();
            let need = word.chars().count() + usize::from(have > 0);
            if have + need <= width {
                if have > 0 {
                    line.push(' ');
                }
                line.push_str(&word);
                break;
            }
            if have > 0 {
                lines.push(std::mem::take(&mut line));
                continue;
            }
            // A word longer than a line: cut it.
            let head: String = word.chars().take(width).collect();
            let rest: String = word.chars().skip(width).collect();
            lines.push(head);
            word = rest;
            if word.is_empty() {
                break;
            }
        }
    }
    if !line.is_empty() || lines.is_empty() {
        lines.push(line);
    }
    lines
}

/// The fleet's devices, outside every cloud.
fn devices(g: &mut Graph, m: &Model) -> NodeId {
    let mut details = vec![format!(
        "{} today, {} planned",
        int(m.traffic.devices),
        int(m.traffic.planned_devices)
    )];
    details.push(auth_words(m));
    if !m.fleet.device_types.is_empty() {
        let types: Vec<String> = m
            .fleet
            .device_types
            .iter()
            .map(|t| t.name.clone())
            .collect();
        details.push(format!("types: {}", first_few(&types, 3)));
    }
    if !m.fleet.registry.is_empty() {
        details.push(format!(
            "{} pre-registered",
            int(m.fleet.registry.len() as u64)
        ));
    }
    g.nodes.push(Node {
        kind: Kind::Devices,
        title: "Devices".to_owned(),
        details: details.iter().flat_map(|d| wrap(d, WRAP_COLUMNS)).collect(),
        cluster: None,
    });
    NodeId(g.nodes.len() - 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_at_spaces_and_cuts_long_words() {
        assert_eq!(wrap("a b c", 3), vec!["a b", "c"]);
        assert_eq!(wrap("abcdefg", 3), vec!["abc", "def", "g"]);
        assert_eq!(wrap("", 3), vec![""]);
        assert_eq!(wrap("ab cdefgh", 4), vec!["ab", "cdef", "gh"]);
    }
}
