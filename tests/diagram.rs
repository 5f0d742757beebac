//! Diagrams of every example: the SVG is well-formed XML that shows every label, its layout
//! is readable (no box on another, no text outside its box), hostile text cannot break
//! Mermaid, DOT or SVG, and the same spec always gives the same bytes.

mod common;

use fleetform::diagram::layout::{self, Rect};
use fleetform::diagram::{self, Format, Graph};
use fleetform::model::Model;
use fleetform::plan::Cloud;
use fleetform::validate::{NoFiles, validate};

fn model_of(path: &std::path::Path) -> Model {
    let text = std::fs::read_to_string(path).unwrap();
    let outcome = validate(
        &path.display().to_string(),
        &text,
        &common::Dir(path.parent().unwrap().to_path_buf()),
    );
    outcome
        .validated
        .unwrap_or_else(|| panic!("{} is invalid", path.display()))
        .model
}

/// Every example with every cloud selection the CLI offers: each targeted cloud alone, and
/// all of them together.
fn cases() -> Vec<(String, Graph)> {
    let mut out = Vec::new();
    for (name, path) in common::examples() {
        let model = model_of(&path);
        let clouds = diagram::targeted(&model);
        for cloud in &clouds {
            out.push((
                format!("{name} ({})", cloud.dir()),
                Graph::new(&model, &[*cloud]),
            ));
        }
        out.push((format!("{name} (all)"), Graph::new(&model, &clouds)));
    }
    // Every environment of a spec in one picture, as `fleetform diagram` draws them.
    let path = common::root().join("examples/environments/fleet.yaml");
    let text = std::fs::read_to_string(&path).unwrap();
    let outcome = validate("environments", &text, &common::Dir(common::root()));
    let parts: Vec<(&Model, Vec<Cloud>)> = outcome
        .environments
        .iter()
        .map(|(_, v)| (&v.model, diagram::targeted(&v.model)))
        .collect();
    assert_eq!(parts.len(), 3, "the example has three environments");
    out.push((
        "environments (every one)".to_owned(),
        Graph::environments(&parts),
    ));
    out
}

#[test]
fn every_svg_is_well_formed_and_shows_every_label() {
    for (name, graph) in cases() {
        let svg = diagram::svg::render(&graph);
        let doc = roxmltree::Document::parse(&svg)
            .unwrap_or_else(|e| panic!("{name}: the SVG is not well-formed XML: {e}"));
        let root = doc.root_element();
        assert_eq!(root.tag_name().name(), "svg", "{name}");
        assert_eq!(
            root.tag_name().namespace(),
            Some("http://www.w3.org/2000/svg"),
            "{name}"
        );
        let texts: Vec<String> = doc
            .descendants()
            .filter(|n| n.has_tag_name("text"))
            .map(|n| n.text().unwrap_or_default().to_owned())
            .collect();
        for node in &graph.nodes {
            for line in node.lines() {
                assert!(
                    texts.iter().any(|t| t == line),
                    "{name}: `{line}` is not drawn"
                );
            }
        }
        for edge in &graph.edges {
            if let Some(label) = &edge.label {
                assert!(
                    texts.contains(label),
                    "{name}: edge label `{label}` is not drawn"
                );
            }
        }
        // Self-contained: nothing is fetched or run.
        for n in doc.descendants() {
            assert!(!n.has_tag_name("script"), "{name}: has a script");
            assert!(!n.has_tag_name("image"), "{name}: has an image");
            for a in n.attributes() {
                assert!(
                    !a.value().contains("http") || a.name() == "xmlns",
                    "{name}: refers to {}",
                    a.value()
                );
            }
        }
    }
}

#[test]
fn layouts_are_readable() {
    for (name, graph) in cases() {
        let l = layout::layout(&graph);
        assert_eq!(l.nodes.len(), graph.nodes.len(), "{name}");
        assert_eq!(l.edges.len(), graph.edges.len(), "{name}");
        // Node boxes and edge-label boxes: nothing sits on anything else.
        let mut boxes: Vec<(String, Rect)> = l
            .nodes
            .iter()
            .map(|n| (format!("node {}", graph.nodes[n.id.0].title), n.rect))
            .collect();
        boxes.extend(
            l.edges
                .iter()
                .filter_map(|e| e.label.as_ref())
                .map(|lb| (format!("label {}", lb.text.text), lb.rect)),
        );
        for (i, (a, ra)) in boxes.iter().enumerate() {
            for (b, rb) in &boxes[i + 1..] {
                assert!(!ra.overlaps(rb), "{name}: {a} {ra:?} overlaps {b} {rb:?}");
            }
        }
        // Every line of text stays inside its box, with the padding.
        for n in &l.nodes {
            for t in &n.lines {
                assert!(
                    n.rect
                        .contains(&t.bounds(), layout::PAD_X - 0.001, layout::PAD_Y - 0.001),
                    "{name}: `{}` {:?} overflows its box {:?}",
                    t.text,
                    t.bounds(),
                    n.rect
                );
            }
        }
        for e in &l.edges {
            if let Some(lb) = &e.label {
                assert!(
                    lb.rect.contains(&lb.text.bounds(), 0.0, 0.0),
                    "{name}: edge label `{}` overflows",
                    lb.text.text
                );
            }
            assert!(e.points.len() >= 2, "{name}: an edge needs two points");
            // Arrows run left to right: data flows one way.
            let (x0, _) = e.points[0];
            let (x1, _) = e.points[e.points.len() - 1];
            assert!(x1 > x0, "{name}: an edge runs backwards");
        }
        // Clouds do not overlap each other, and every node of a cloud is inside its box.
        for (i, a) in l.clusters.iter().enumerate() {
            for b in &l.clusters[i + 1..] {
                assert!(!a.rect.overlaps(&b.rect), "{name}: cloud boxes overlap");
            }
        }
        for n in &l.nodes {
            if let Some(c) = graph.nodes[n.id.0].cluster {
                assert!(
                    l.clusters[c].rect.contains(&n.rect, 0.0, 0.0),
                    "{name}: node outside its cloud"
                );
            } else {
                for c in &l.clusters {
                    assert!(
                        !c.rect.overlaps(&n.rect),
                        "{name}: the devices sit in a cloud"
                    );
                }
            }
        }
        // The canvas holds everything.
        for n in &l.nodes {
            assert!(n.rect.x >= 0.0 && n.rect.y >= 0.0, "{name}");
            assert!(
                n.rect.right() <= l.width && n.rect.bottom() <= l.height,
                "{name}"
            );
        }
    }
}

#[test]
fn graphs_are_dags_that_start_at_the_devices() {
    for (name, graph) in cases() {
        // Only the devices have no way in: every other node is fed by something, except
        // features that feed the hub (OTA).
        for (i, node) in graph.nodes.iter().enumerate().skip(1) {
            let fed = graph.incoming(diagram::NodeId(i)).next().is_some();
            let feeds = graph.edges.iter().any(|e| e.from.0 == i);
            assert!(fed || feeds, "{name}: `{}` is not connected", node.title);
        }
        assert_eq!(graph.nodes[0].title, "Devices", "{name}");
    }
}

#[test]
fn the_same_spec_gives_the_same_bytes() {
    for (name, path) in common::examples() {
        let a = model_of(&path);
        let b = model_of(&path);
        let clouds = diagram::targeted(&a);
        for format in [Format::Mermaid, Format::Dot, Format::Svg] {
            assert_eq!(
                diagram::render(&a, &clouds, format),
                diagram::render(&b, &clouds, format),
                "{name} {format:?}"
            );
        }
    }
}

#[test]
fn every_tier_and_threshold_is_drawn() {
    let model = model_of(&common::root().join("examples/fleet-analytics-aws/fleet.yaml"));
    let mermaid = diagram::mermaid(&model, Cloud::Aws);
    for text in [
        "S3 Standard",
        "S3 Standard-IA after 30 d",
        "S3 Glacier Flexible Retrieval after 90 d",
        "S3 Glacier Deep Archive after 180 d",
        "Expire after 2,555 d",
        "Kinesis Data Streams",
        "1 shard, provisioned",
        "WHERE flow_lpm #62; 0 AND valve = 'closed'",
    ] {
        assert!(mermaid.contains(text), "missing `{text}` in\n{mermaid}");
    }
    let model = model_of(&common::root().join("examples/industrial-cranes/fleet.yaml"));
    let mermaid = diagram::mermaid(&model, Cloud::Azure);
    for text in [
        "Device Provisioning Service",
        "IoT Hub iot-cranes-prod-westeurope",
        "IoT Hub iot-cranes-prod-northeurope",
        "Blob Archive after 365 d",
        "Delete after 3,650 d",
        "Standard, 1 TU (auto-inflate to 4)",
    ] {
        assert!(mermaid.contains(text), "missing `{text}` in\n{mermaid}");
    }
    // Retention reads like the Kinesis box's (`retention 24 h`), in days.
    let graph = Graph::new(&model, &[Cloud::Azure]);
    let event_hubs = graph
        .nodes
        .iter()
        .find(|n| n.title == "Event Hubs")
        .expect("an Event Hubs box");
    let eh = &model.azure.as_ref().unwrap().event_hubs;
    assert!(
        event_hubs.details.contains(&format!(
            "{} partitions, retention {} d",
            eh.partitions, eh.retention_days
        )),
        "{:?}",
        event_hubs.details
    );
}

/// A spec whose route condition and alert condition try to break out of every format. Its
/// strings hold no backslash, which AWS refuses in a condition (`tests/query_injection.rs`);
/// [`hostile_backslash`] puts one (DOT's `\N`) into an Azure-only spec.
const HOSTILE: &str = r#"
version: 1
stack: {name: hostile, environment: test}
clouds:
  aws: {region: eu-west-1}
  azure: {location: westeurope, resource_group: rg-hostile}
fleet: {devices: 10}
pipeline:
  routes:
    - name: tricky
      condition: "status = 'a\"]b' or note = '#quot; <script>x</script> --> |y| `z` {w} %% N'"
      to: [stream]
  alerts:
    - name: breakout
      condition: "msg = 'end\"]; n0 --> evil[\"pwned' and t = ']] & <b>'"
"#;

/// Undoes Mermaid's numeric entity codes (`#34;`), as Mermaid does when it draws.
fn mermaid_decode(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(i) = rest.find('#') {
        out.push_str(&rest[..i]);
        let tail = &rest[i + 1..];
        let end = tail.find(';').expect("entity ends with `;`");
        let code: u32 = tail[..end].parse().expect("numeric entity");
        out.push(char::from_u32(code).unwrap());
        rest = &tail[end + 1..];
    }
    out.push_str(rest);
    out
}

/// [`HOSTILE`] for Azure only, with a backslash in the route condition.
fn hostile_backslash() -> String {
    HOSTILE
        .replace("  aws: {region: eu-west-1}\n", "")
        .replace("{w} %% N'", "{w} %% \\\\N'")
}

#[test]
fn hostile_labels_cannot_break_any_format() {
    let with_backslash = hostile_backslash();
    assert!(with_backslash.contains("\\\\N") && !with_backslash.contains("aws:"));
    for spec in [HOSTILE, with_backslash.as_str()] {
        hostile_labels_in(spec);
    }
}

fn hostile_labels_in(spec: &str) {
    let outcome = validate("hostile.yaml", spec, &NoFiles);
    let model = outcome
        .validated
        .unwrap_or_else(|| {
            panic!(
                "{}",
                fleetform::diagnostics::render_human(&outcome.diagnostics, &outcome.sources, false)
            )
        })
        .model;
    let clouds = diagram::targeted(&model);
    let graph = Graph::new(&model, &clouds);
    let hostile: Vec<&str> = graph
        .nodes
        .iter()
        .flat_map(|n| n.details.iter().map(String::as_str))
        .filter(|d| d.contains('"'))
        .collect();
    assert!(!hostile.is_empty(), "the conditions reach the labels");

    // Mermaid: each statement is one line; a label is one quoted string with no quote,
    // bracket, pipe, `<`, backtick or `#` left raw, and decodes back to the original text.
    let mermaid = diagram::mermaid::render(&graph);
    let mut decoded_labels = Vec::new();
    for line in mermaid.lines().skip(1) {
        let line = line.trim();
        if let Some(start) = line.find('"') {
            let end = line.rfind('"').unwrap();
            assert!(end > start, "{line}");
            let label = &line[start + 1..end];
            for bad in ['"', '[', ']', '|', '`', '{', '}', '<', '>', '\n'] {
                let raw = label
                    .replace("<b>", "")
                    .replace("</b>", "")
                    .replace("<br/>", "");
                assert!(!raw.contains(bad), "raw `{bad}` in {line}");
            }
            let body = label.replace("<b>", "").replace("</b>", "");
            for part in body.split("<br/>") {
                decoded_labels.push(mermaid_decode(part));
            }
            // Outside the label only generated ids and syntax.
            let outside = format!("{}{}", &line[..start], &line[end + 1..]);
            assert!(
                outside
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || " -_[](){}>|/.".contains(c)),
                "{line}"
            );
        }
    }
    for text in &hostile {
        assert!(
            decoded_labels.iter().any(|l| l == text),
            "`{text}` does not survive Mermaid escaping"
        );
    }

    // DOT: every label is one string; unescaping it gives the text back.
    let dot = diagram::dot::render(&graph);
    for text in &hostile {
        assert!(
            dot.contains(&fleetform::diagram::dot::escape(text)),
            "`{text}` is not escaped in DOT"
        );
    }
    for line in dot.lines() {
        // Strings open and close on the same line: user text cannot end one early.
        let mut in_string = false;
        let mut chars = line.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' if in_string => {
                    chars.next();
                }
                '"' => in_string = !in_string,
                _ => {}
            }
        }
        assert!(!in_string, "unbalanced quotes in `{line}`");
    }

    // SVG: well-formed, and the text reads back verbatim.
    let svg = diagram::svg::render(&graph);
    let doc = roxmltree::Document::parse(&svg).expect("well-formed SVG");
    let texts: Vec<&str> = doc
        .descendants()
        .filter(|n| n.has_tag_name("text"))
        .filter_map(|n| n.text())
        .collect();
    for text in &hostile {
        assert!(texts.contains(text), "`{text}` is not drawn verbatim");
    }
    assert!(
        doc.descendants().all(|n| !n.has_tag_name("script")),
        "no element comes from user text"
    );
}

#[test]
fn long_text_wraps_inside_boxes() {
    let long = format!("speed > {}", "1".repeat(30));
    let spec = format!(
        "version: 1\nstack: {{name: long, environment: test}}\nclouds:\n  aws: {{region: eu-west-1}}\nfleet: {{devices: 10}}\npipeline:\n  routes:\n    - name: r\n      condition: \"{long} and mode = 'a very long string value that goes on and on'\"\n      to: [stream]\n"
    );
    let outcome = validate("long.yaml", &spec, &NoFiles);
    let model = outcome.validated.expect("valid").model;
    let graph = Graph::new(&model, &[Cloud::Aws]);
    for node in &graph.nodes {
        for d in &node.details {
            assert!(
                d.chars().count() <= diagram::WRAP_COLUMNS,
                "`{d}` is not wrapped"
            );
        }
    }
}
