//! A small layered layout for the SVG renderer, so diagrams need no external program.
//!
//! The graphs here are small (tens of nodes) and flow one way, so a simplified Sugiyama
//! layout is enough and stays predictable:
//!
//! 1. **Ranks** by data-flow depth: longest path from the devices; a source that only feeds
//!    something deep (OTA feeding the hub) is pulled right, next to what it feeds.
//! 2. **Columns**: rank `r` is column `2r`; the odd columns between them hold edge labels
//!    and the bends of edges that skip ranks, as virtual boxes. Labels therefore take part
//!    in stacking and can never sit on a node or on each other.
//! 3. **Order** within a column by a few barycenter sweeps, grouped by cloud so each cloud
//!    gets its own horizontal band and cluster boxes never overlap.
//! 4. **Sizes** from the text: a monospace width estimate ([`text_width`]) per line.
//!
//! Everything is plain arithmetic on the graph in its given order (no hashing, no
//! randomness), so the same graph always gives the same coordinates. The rectangles are
//! public so tests can check that nothing overlaps and no text leaves its box.
//!
//! Long (about 700 lines) because it is one algorithm: the four steps above share the
//! layout's types and run in that order, each a function here.

use super::{Graph, Kind, NodeId};

/// Font size of a node's title line, px.
pub const TITLE_SIZE: f64 = 13.0;
/// Font size of a node's detail lines, px.
pub const DETAIL_SIZE: f64 = 11.0;
/// Font size of edge labels and cluster titles, px.
pub const LABEL_SIZE: f64 = 10.5;
/// Advance of one monospace character, in em. Common monospace fonts use 0.6; a little
/// more keeps the estimate on the safe side.
pub const CHAR_EM: f64 = 0.62;
/// Horizontal padding between a box and its text.
pub const PAD_X: f64 = 12.0;
/// Vertical padding between a box and its text.
pub const PAD_Y: f64 = 8.0;
/// Extra space between two lines of text.
pub const LINE_GAP: f64 = 4.0;
/// Share of the font size above the baseline.
pub const ASCENT: f64 = 0.8;

const MIN_NODE_WIDTH: f64 = 120.0;
const COLUMN_GAP: f64 = 26.0;
const ROW_GAP: f64 = 16.0;
const MARGIN: f64 = 20.0;
const CLUSTER_PAD: f64 = 14.0;
const CLUSTER_TITLE: f64 = 22.0;
const BAND_GAP: f64 = 24.0;
const LABEL_PAD: f64 = 4.0;
const BEND_HEIGHT: f64 = 8.0;
const SWEEPS: usize = 4;

/// An axis-aligned rectangle.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x: f64,
    pub y: f64,
    pub w: f64,
    pub h: f64,
}

impl Rect {
    pub fn right(&self) -> f64 {
        self.x + self.w
    }
    pub fn bottom(&self) -> f64 {
        self.y + self.h
    }
    pub fn center_y(&self) -> f64 {
        self.y + self.h / 2.0
    }
    pub fn center_x(&self) -> f64 {
        self.x + self.w / 2.0
    }
    /// Whether the interiors intersect (touching edges do not count).
    pub fn overlaps(&self, other: &Rect) -> bool {
        self.x < other.right()
            && other.x < self.right()
            && self.y < other.bottom()
            && other.y < self.bottom()
    }
    /// Whether `other` lies inside this rectangle, shrunk by `pad_x` and `pad_y`.
    pub fn contains(&self, other: &Rect, pad_x: f64, pad_y: f64) -> bool {
        const EPS: f64 = 1e-6;
        other.x + EPS >= self.x + pad_x
            && other.right() <= self.right() - pad_x + EPS
            && other.y + EPS >= self.y + pad_y
            && other.bottom() <= self.bottom() - pad_y + EPS
    }
}

/// One line of text, centred on `x`.
#[derive(Debug, Clone, PartialEq)]
pub struct Text {
    pub text: String,
    /// Horizontal centre.
    pub x: f64,
    pub baseline: f64,
    pub size: f64,
    pub bold: bool,
}

impl Text {
    /// The estimated box the glyphs take.
    pub fn bounds(&self) -> Rect {
        let w = text_width(&self.text, self.size);
        Rect {
            x: self.x - w / 2.0,
            y: self.baseline - ASCENT * self.size,
            w,
            h: self.size,
        }
    }
}

/// A node, placed.
#[derive(Debug, Clone, PartialEq)]
pub struct NodeBox {
    pub id: NodeId,
    pub kind: Kind,
    pub rect: Rect,
    /// Title first, then details.
    pub lines: Vec<Text>,
}

/// An edge label, placed on its edge.
#[derive(Debug, Clone, PartialEq)]
pub struct LabelBox {
    pub rect: Rect,
    pub text: Text,
}

/// An edge as a polyline from the source's right side to the target's left side.
#[derive(Debug, Clone, PartialEq)]
pub struct EdgePath {
    pub points: Vec<(f64, f64)>,
    pub label: Option<LabelBox>,
}

/// A cloud's box.
#[derive(Debug, Clone, PartialEq)]
pub struct ClusterBox {
    pub rect: Rect,
    pub title: Text,
}

/// A laid-out graph; `nodes[i]` is node `i`, `edges[i]` is edge `i` of the graph.
#[derive(Debug, Clone, PartialEq)]
pub struct Layout {
    pub width: f64,
    pub height: f64,
    pub nodes: Vec<NodeBox>,
    pub edges: Vec<EdgePath>,
    pub clusters: Vec<ClusterBox>,
}

/// Columns a character takes in a monospace font: two for East Asian wide characters and
/// emoji, one otherwise (combining marks are rare in labels and counted as one, which errs
/// on the wide side).
pub fn char_columns(c: char) -> usize {
    let u = u32::from(c);
    let wide = matches!(u,
        0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x1F300..=0x1F64F
            | 0x1F900..=0x1F9FF
            | 0x20000..=0x3FFFD);
    if wide { 2 } else { 1 }
}

/// Estimated width of `text` at `size` px in a monospace font.
pub fn text_width(text: &str, size: f64) -> f64 {
    let cols: usize = text.chars().map(char_columns).sum();
    cols as f64 * size * CHAR_EM
}

/// A box in the layered graph: a node, an edge label, or an edge's bend.
#[derive(Debug, Clone)]
struct Vertex {
    col: usize,
    band: usize,
    w: f64,
    h: f64,
    x: f64,
    y: f64,
    /// Left and right edge of the vertex's column.
    col_x: (f64, f64),
}

/// Lays out `graph`.
pub fn layout(graph: &Graph) -> Layout {
    let n = graph.nodes.len();
    let ranks = ranks(graph);
    let band_of = |id: NodeId| graph.nodes[id.0].cluster.map_or(0, |c| c + 1);

    // Real nodes first (vertex i is node i), then labels and bends edge by edge.
    let mut vs: Vec<Vertex> = graph
        .nodes
        .iter()
        .enumerate()
        .map(|(i, node)| {
            let (w, h) = node_size(node.lines());
            Vertex {
                col: 2 * ranks[i],
                band: band_of(NodeId(i)),
                w,
                h,
                x: 0.0,
                y: 0.0,
                col_x: (0.0, 0.0),
            }
        })
        .collect();
    let mut chains: Vec<Option<Vec<usize>>> = Vec::with_capacity(graph.edges.len());
    let mut label_vertex: Vec<Option<usize>> = Vec::with_capacity(graph.edges.len());
    for e in &graph.edges {
        let (rf, rt) = (ranks[e.from.0], ranks[e.to.0]);
        if rt <= rf {
            chains.push(None);
            label_vertex.push(None);
            continue;
        }
        let band = graph.nodes[e.to.0]
            .cluster
            .or(graph.nodes[e.from.0].cluster)
            .map_or(0, |c| c + 1);
        let mut chain = vec![e.from.0];
        let mut label = None;
        for col in (2 * rf + 1)..(2 * rt) {
            let (w, h) = match (&e.label, col == 2 * rf + 1) {
                (Some(text), true) => (
                    text_width(text, LABEL_SIZE) + 2.0 * LABEL_PAD,
                    LABEL_SIZE + 2.0 * LABEL_PAD,
                ),
                _ => (0.0, BEND_HEIGHT),
            };
            if col == 2 * rf + 1 && e.label.is_some() {
                label = Some(vs.len());
            }
            chain.push(vs.len());
            vs.push(Vertex {
                col,
                band,
                w,
                h,
                x: 0.0,
                y: 0.0,
                col_x: (0.0, 0.0),
            });
        }
        chain.push(e.to.0);
        chains.push(Some(chain));
        label_vertex.push(label);
    }

    let (columns, pred, succ) = order(&vs, &chains);
    let bounds = place(&mut vs, &columns, graph.clusters.len());
    straighten(&mut vs, &columns, &bounds, &pred, &succ);

    let nodes: Vec<NodeBox> = graph
        .nodes
        .iter()
        .enumerate()
        .take(n)
        .map(|(i, node)| {
            let v = &vs[i];
            let rect = Rect {
                x: v.x,
                y: v.y,
                w: v.w,
                h: v.h,
            };
            NodeBox {
                id: NodeId(i),
                kind: node.kind,
                rect,
                lines: node_text(&rect, node.lines()),
            }
        })
        .collect();

    let edges = edge_paths(graph, &vs, &chains, &label_vertex, &nodes);
    let clusters = cluster_boxes(graph, &vs);

    let mut width: f64 = 0.0;
    let mut height: f64 = 0.0;
    let mut grow = |r: &Rect| {
        width = width.max(r.right());
        height = height.max(r.bottom());
    };
    for v in &vs {
        grow(&Rect {
            x: v.x,
            y: v.y,
            w: v.w,
            h: v.h,
        });
    }
    for c in &clusters {
        grow(&c.rect);
    }
    Layout {
        width: (width + MARGIN).ceil(),
        height: (height + MARGIN).ceil(),
        nodes,
        edges,
        clusters,
    }
}

/// Width and height of a node box for its lines (title, then details).
fn node_size<'a>(lines: impl Iterator<Item = &'a str>) -> (f64, f64) {
    let mut w: f64 = 0.0;
    let mut h = 2.0 * PAD_Y;
    for (i, line) in lines.enumerate() {
        let size = if i == 0 { TITLE_SIZE } else { DETAIL_SIZE };
        w = w.max(text_width(line, size));
        h += size + if i > 0 { LINE_GAP } else { 0.0 };
    }
    ((w + 2.0 * PAD_X).max(MIN_NODE_WIDTH), h)
}

fn node_text<'a>(rect: &Rect, lines: impl Iterator<Item = &'a str>) -> Vec<Text> {
    let mut top = rect.y + PAD_Y;
    let mut out = Vec::new();
    for (i, line) in lines.enumerate() {
        let size = if i == 0 { TITLE_SIZE } else { DETAIL_SIZE };
        if i > 0 {
            top += LINE_GAP;
        }
        out.push(Text {
            text: line.to_owned(),
            x: rect.center_x(),
            baseline: top + ASCENT * size,
            size,
            bold: i == 0,
        });
        top += size;
    }
    out
}

/// Longest-path ranks in the graph's order; a cycle (never built, but tolerated) is broken
/// at its lowest-numbered node. Sources are then pulled right, next to what they feed.
fn ranks(graph: &Graph) -> Vec<usize> {
    let n = graph.nodes.len();
    let mut indegree = vec![0usize; n];
    for e in &graph.edges {
        if e.from != e.to {
            indegree[e.to.0] += 1;
        }
    }
    let mut done = vec![false; n];
    let mut rank = vec![0usize; n];
    let mut forward_in = vec![0usize; n];
    while let Some(i) = (0..n)
        .find(|&i| !done[i] && indegree[i] == 0)
        .or_else(|| (0..n).find(|&i| !done[i]))
    {
        done[i] = true;
        for e in graph.edges.iter().filter(|e| e.from.0 == i && e.to.0 != i) {
            let t = e.to.0;
            if !done[t] {
                indegree[t] -= 1;
                forward_in[t] += 1;
                rank[t] = rank[t].max(rank[i] + 1);
            }
        }
    }
    for i in 0..n {
        if forward_in[i] > 0 {
            continue;
        }
        let nearest = graph
            .edges
            .iter()
            .filter(|e| e.from.0 == i && rank[e.to.0] > rank[i])
            .map(|e| rank[e.to.0])
            .min();
        if let Some(r) = nearest {
            rank[i] = r - 1;
        }
    }
    rank
}

/// Vertices by column, and each vertex's neighbours in the previous and next column.
type Ordered = (Vec<Vec<usize>>, Vec<Vec<usize>>, Vec<Vec<usize>>);

/// Orders each column by barycenter sweeps, grouped by band.
fn order(vs: &[Vertex], chains: &[Option<Vec<usize>>]) -> Ordered {
    let max_col = vs.iter().map(|v| v.col).max().unwrap_or(0);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); max_col + 1];
    for (i, v) in vs.iter().enumerate() {
        columns[v.col].push(i);
    }
    let mut pred: Vec<Vec<usize>> = vec![Vec::new(); vs.len()];
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); vs.len()];
    for chain in chains.iter().flatten() {
        for pair in chain.windows(2) {
            succ[pair[0]].push(pair[1]);
            pred[pair[1]].push(pair[0]);
        }
    }
    let mut pos = vec![0.0f64; vs.len()];
    let reindex = |columns: &Vec<Vec<usize>>, pos: &mut Vec<f64>| {
        for col in columns {
            for (k, &v) in col.iter().enumerate() {
                pos[v] = k as f64;
            }
        }
    };
    let sort = |col: &mut Vec<usize>, neighbours: &Vec<Vec<usize>>, pos: &Vec<f64>| {
        let key = |v: usize| -> f64 {
            let ns = &neighbours[v];
            if ns.is_empty() {
                pos[v]
            } else {
                ns.iter().map(|&u| pos[u]).sum::<f64>() / ns.len() as f64
            }
        };
        let mut keyed: Vec<(usize, f64, f64, usize)> = col
            .iter()
            .map(|&v| (vs[v].band, key(v), pos[v], v))
            .collect();
        keyed.sort_by(|a, b| {
            a.0.cmp(&b.0)
                .then(a.1.total_cmp(&b.1))
                .then(a.2.total_cmp(&b.2))
                .then(a.3.cmp(&b.3))
        });
        *col = keyed.into_iter().map(|k| k.3).collect();
    };
    reindex(&columns, &mut pos);
    for _ in 0..SWEEPS {
        for c in 1..=max_col {
            sort(&mut columns[c], &pred, &pos);
            reindex(&columns, &mut pos);
        }
        for c in (0..max_col).rev() {
            sort(&mut columns[c], &succ, &pos);
            reindex(&columns, &mut pos);
        }
    }
    (columns, pred, succ)
}

/// Sets `x` and `y` of every vertex: columns left to right, one band per cloud top to
/// bottom, each column's stack centred in its band. Returns each band's top and bottom.
fn place(vs: &mut [Vertex], columns: &[Vec<usize>], clusters: usize) -> Vec<(f64, f64)> {
    let mut bounds = vec![(MARGIN, MARGIN); clusters + 1];
    let mut x = MARGIN;
    for col in columns {
        let width = col.iter().map(|&v| vs[v].w).fold(0.0, f64::max);
        for &v in col {
            vs[v].x = x + (width - vs[v].w) / 2.0;
            vs[v].col_x = (x, x + width);
        }
        x += width + COLUMN_GAP;
    }

    let stack = |vs: &[Vertex], col: &[usize], band: usize| -> (f64, Vec<usize>) {
        let members: Vec<usize> = col
            .iter()
            .copied()
            .filter(|&v| vs[v].band == band)
            .collect();
        let h = members.iter().map(|&v| vs[v].h).sum::<f64>()
            + ROW_GAP * members.len().saturating_sub(1) as f64;
        (h, members)
    };
    let put = |vs: &mut [Vertex], members: &[usize], mut y: f64| {
        for &v in members {
            vs[v].y = y;
            y += vs[v].h + ROW_GAP;
        }
    };
    // Unclustered vertices (the devices) get no band of their own when their columns hold
    // nothing else: they are centred on the whole height instead.
    let free = columns.iter().all(|col| {
        let bands: Vec<usize> = col.iter().map(|&v| vs[v].band).collect();
        !bands.contains(&0) || bands.iter().all(|&b| b == 0)
    });
    let mut y = MARGIN;
    let mut top_of_content = MARGIN;
    let mut any_band = false;
    #[allow(clippy::needless_range_loop)] // `band` also selects vertices, not just bounds
    for band in 0..=clusters {
        if band == 0 && free {
            continue;
        }
        let height = columns
            .iter()
            .map(|col| stack(vs, col, band).0)
            .fold(0.0, f64::max);
        if height <= 0.0 {
            continue;
        }
        if !any_band {
            top_of_content = y;
        }
        any_band = true;
        let clustered = band > 0;
        let top = y + if clustered {
            CLUSTER_PAD + CLUSTER_TITLE
        } else {
            0.0
        };
        for col in columns {
            let (h, members) = stack(vs, col, band);
            put(vs, &members, top + (height - h) / 2.0);
        }
        bounds[band] = (top, top + height);
        y = top + height + if clustered { CLUSTER_PAD } else { 0.0 } + BAND_GAP;
    }
    if free {
        let free_height = columns
            .iter()
            .map(|col| stack(vs, col, 0).0)
            .fold(0.0, f64::max);
        let (lo, hi) = if any_band {
            (top_of_content, y - BAND_GAP)
        } else {
            (MARGIN, MARGIN + free_height)
        };
        for col in columns {
            let (h, members) = stack(vs, col, 0);
            put(vs, &members, lo + ((hi - lo) - h) / 2.0);
        }
        bounds[0] = (lo, hi);
    }
    bounds
}

/// Moves boxes towards the height of their neighbours so that chains run straight, keeping
/// each column's order, its gaps and its band: sweeps right (following predecessors) and
/// left (following successors) a few times.
fn straighten(
    vs: &mut [Vertex],
    columns: &[Vec<usize>],
    bounds: &[(f64, f64)],
    pred: &[Vec<usize>],
    succ: &[Vec<usize>],
) {
    let sweep = |vs: &mut [Vertex], col: &[usize], neighbours: &[Vec<usize>]| {
        for (band, &(lo, hi)) in bounds.iter().enumerate() {
            let members: Vec<usize> = col
                .iter()
                .copied()
                .filter(|&v| vs[v].band == band)
                .collect();
            if members.is_empty() {
                continue;
            }
            let mut ys: Vec<f64> = members
                .iter()
                .map(|&v| {
                    let ns = &neighbours[v];
                    if ns.is_empty() {
                        vs[v].y
                    } else {
                        let mean = ns.iter().map(|&u| vs[u].y + vs[u].h / 2.0).sum::<f64>()
                            / ns.len() as f64;
                        mean - vs[v].h / 2.0
                    }
                })
                .collect();
            // Down: no box above the band or on the one before it.
            let mut floor = lo;
            for (k, &v) in members.iter().enumerate() {
                ys[k] = ys[k].max(floor);
                floor = ys[k] + vs[v].h + ROW_GAP;
            }
            // Up: no box below the band or on the one after it.
            let mut ceiling = hi;
            for (k, &v) in members.iter().enumerate().rev() {
                ys[k] = ys[k].min(ceiling - vs[v].h);
                ceiling = ys[k] - ROW_GAP;
            }
            for (k, &v) in members.iter().enumerate() {
                vs[v].y = ys[k];
            }
        }
    };
    for _ in 0..SWEEPS {
        for col in columns.iter().skip(1) {
            sweep(vs, col, pred);
        }
        for col in columns.iter().rev().skip(1) {
            sweep(vs, col, succ);
        }
    }
}

fn edge_paths(
    graph: &Graph,
    vs: &[Vertex],
    chains: &[Option<Vec<usize>>],
    label_vertex: &[Option<usize>],
    nodes: &[NodeBox],
) -> Vec<EdgePath> {
    let center_y = |v: usize| vs[v].y + vs[v].h / 2.0;
    // Spread the edges leaving (entering) a node over its right (left) side, ordered by
    // where they go (come from), so they neither bunch up nor cross at the box.
    let mut out_ports: Vec<Vec<(f64, usize)>> = vec![Vec::new(); nodes.len()];
    let mut in_ports: Vec<Vec<(f64, usize)>> = vec![Vec::new(); nodes.len()];
    for (i, chain) in chains.iter().enumerate() {
        if let Some(chain) = chain {
            out_ports[chain[0]].push((center_y(chain[1]), i));
            in_ports[chain[chain.len() - 1]].push((center_y(chain[chain.len() - 2]), i));
        }
    }
    let port = |ports: &mut Vec<(f64, usize)>, rect: &Rect, edge: usize| -> f64 {
        ports.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        let k = ports.iter().position(|p| p.1 == edge).unwrap_or(0);
        rect.y + rect.h * (k as f64 + 1.0) / (ports.len() as f64 + 1.0)
    };
    graph
        .edges
        .iter()
        .enumerate()
        .map(|(i, e)| {
            let from = &nodes[e.from.0].rect;
            let to = &nodes[e.to.0].rect;
            let Some(chain) = &chains[i] else {
                return EdgePath {
                    points: vec![(from.right(), from.center_y()), (to.x, to.center_y())],
                    label: None,
                };
            };
            // Slanted segments only cross the gaps between columns; inside a column an edge
            // runs level, at a height no other box of that column uses.
            let mut points = Vec::new();
            let mut push = |p: (f64, f64)| {
                if points.last() != Some(&p) {
                    points.push(p);
                }
            };
            let start = port(&mut out_ports[e.from.0], from, i);
            push((from.right(), start));
            push((vs[e.from.0].col_x.1, start));
            for &v in &chain[1..chain.len() - 1] {
                let d = &vs[v];
                let cy = d.y + d.h / 2.0;
                push((d.col_x.0, cy));
                push((d.col_x.1, cy));
            }
            let end = port(&mut in_ports[e.to.0], to, i);
            push((vs[e.to.0].col_x.0, end));
            push((to.x, end));
            let label = label_vertex[i].zip(e.label.as_ref()).map(|(v, text)| {
                let d = &vs[v];
                let rect = Rect {
                    x: d.x,
                    y: d.y,
                    w: d.w,
                    h: d.h,
                };
                LabelBox {
                    rect,
                    text: Text {
                        text: text.clone(),
                        x: rect.center_x(),
                        baseline: rect.y + LABEL_PAD + ASCENT * LABEL_SIZE,
                        size: LABEL_SIZE,
                        bold: false,
                    },
                }
            });
            EdgePath { points, label }
        })
        .collect()
}

fn cluster_boxes(graph: &Graph, vs: &[Vertex]) -> Vec<ClusterBox> {
    graph
        .clusters
        .iter()
        .enumerate()
        .filter_map(|(k, cluster)| {
            let members: Vec<&Vertex> = vs.iter().filter(|v| v.band == k + 1).collect();
            if members.is_empty() {
                return None;
            }
            let x0 = members.iter().map(|v| v.x).fold(f64::INFINITY, f64::min);
            let y0 = members.iter().map(|v| v.y).fold(f64::INFINITY, f64::min);
            let x1 = members.iter().map(|v| v.x + v.w).fold(0.0, f64::max);
            let y1 = members.iter().map(|v| v.y + v.h).fold(0.0, f64::max);
            let title_w = text_width(&cluster.title, LABEL_SIZE);
            let rect = Rect {
                x: x0 - CLUSTER_PAD,
                y: y0 - CLUSTER_PAD - CLUSTER_TITLE,
                w: (x1 - x0 + 2.0 * CLUSTER_PAD).max(title_w + 2.0 * CLUSTER_PAD),
                h: y1 - y0 + 2.0 * CLUSTER_PAD + CLUSTER_TITLE,
            };
            Some(ClusterBox {
                rect,
                title: Text {
                    text: cluster.title.clone(),
                    x: rect.x + CLUSTER_PAD + title_w / 2.0,
                    baseline: rect.y + CLUSTER_PAD + ASCENT * LABEL_SIZE,
                    size: LABEL_SIZE,
                    bold: true,
                },
            })
        })
        .collect()
}
