//! Architecture diagrams: the dataflow a spec compiles to, drawn per cloud.
//!
//! Workshops and reviews want a picture of what `fleetform build` will create before anyone
//! reads Terraform. This module turns the validated [`Model`] into a small [`Graph`] (nodes
//! with a kind and a label, edges with an optional label, one cluster per cloud), following
//! the data: devices → provisioning → IoT Core / IoT Hub → rules or routes → streams →
//! storage tiers, with alerts, state, OTA, analytics and the web API where the build creates
//! them. What exists, and where each route delivers, is read from the planners' own decisions
//! (the AWS planner's flags and topic-rule actions, the Azure planner's design and route
//! endpoints), never worked out again here, so the picture shows what `fleetform build`
//! writes. The renderers only draw that graph: [`mermaid`](mod@mermaid) (for READMEs on
//! GitHub and GitLab), [`dot`](mod@dot) (Graphviz) and [`svg`](mod@svg) (self-contained,
//! laid out here by [`layout`]).
//!
//! Labels hold user text (route conditions, alert names, e-mail addresses), so every renderer
//! escapes it for its own language; node ids are generated (`n0`, `n1`, …) and never contain
//! user text. Building is deterministic: nodes and edges appear in the order the model lists
//! them, so the same spec always gives the same bytes.

pub mod dot;
pub mod layout;
pub mod mermaid;
pub mod svg;

use std::fmt::Write as _;

use crate::clouds::aws as aws_plan;
use crate::clouds::azure::{Design, Endpoint};
use crate::cost::format::int;
use crate::model::condition::Dialect;
use crate::model::{
    Allocation, AuthMethod, Aws, AwsProvisioningMethod, CredentialGrant, EventHubsTier,
    KeyAlgorithm, KinesisCapacity, Model, RouteSource, StorageTier,
};
use crate::plan::Cloud;

/// Details lines longer than this are wrapped, so no box grows wider than a screen.
pub const WRAP_COLUMNS: usize = 44;

/// What a node stands for; renderers pick its shape and colour from this.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Kind {
    /// The device fleet.
    Devices,
    /// How devices get identities (AWS provisioning, Azure DPS).
    Provisioning,
    /// The message broker (AWS IoT Core, an IoT hub).
    Hub,
    /// A rule or route with its condition.
    Rule,
    /// A stream (Kinesis, Firehose, Event Hubs).
    Stream,
    /// A storage tier of the archive.
    Storage,
    /// The end of the archive lifecycle.
    Expiry,
    /// Generated code (Lambda, Azure Functions, Stream Analytics).
    Function,
    /// Notifications to people (SNS, action groups).
    Notification,
    /// A table (DynamoDB, Cosmos DB).
    Database,
    /// An optional feature (OTA, analytics, web API).
    Feature,
}

impl Kind {
    /// A stable lowercase name (CSS class, Mermaid class, DOT comment).
    pub fn name(self) -> &'static str {
        match self {
            Kind::Devices => "devices",
            Kind::Provisioning => "provisioning",
            Kind::Hub => "hub",
            Kind::Rule => "rule",
            Kind::Stream => "stream",
            Kind::Storage => "storage",
            Kind::Expiry => "expiry",
            Kind::Function => "function",
            Kind::Notification => "notification",
            Kind::Database => "database",
            Kind::Feature => "feature",
        }
    }

    /// Fill and stroke colours, shared by every renderer so the pictures agree.
    pub fn colors(self) -> (&'static str, &'static str) {
        match self {
            Kind::Devices => ("#e2e8f0", "#475569"),
            Kind::Provisioning => ("#fef3c7", "#b45309"),
            Kind::Hub => ("#dbeafe", "#1d4ed8"),
            Kind::Rule => ("#ede9fe", "#6d28d9"),
            Kind::Stream => ("#ffedd5", "#c2410c"),
            Kind::Storage => ("#dcfce7", "#15803d"),
            Kind::Expiry => ("#f1f5f9", "#64748b"),
            Kind::Function => ("#fce7f3", "#be185d"),
            Kind::Notification => ("#fee2e2", "#b91c1c"),
            Kind::Database => ("#ccfbf1", "#0f766e"),
            Kind::Feature => ("#e0e7ff", "#4338ca"),
        }
    }

    /// Every kind, in a fixed order.
    pub const ALL: [Kind; 11] = [
        Kind::Devices,
        Kind::Provisioning,
        Kind::Hub,
        Kind::Rule,
        Kind::Stream,
        Kind::Storage,
        Kind::Expiry,
        Kind::Function,
        Kind::Notification,
        Kind::Database,
        Kind::Feature,
    ];
}

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

/// The clouds a model targets, AWS first.
pub fn targeted(model: &Model) -> Vec<Cloud> {
    let mut clouds = Vec::new();
    if model.aws.is_some() {
        clouds.push(Cloud::Aws);
    }
    if model.azure.is_some() {
        clouds.push(Cloud::Azure);
    }
    clouds
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
        let names: Vec<&str> = clouds
            .iter()
            .filter(|c| targets(model, **c))
            .map(|c| c.title())
            .collect();
        let mut b = Builder {
            g: Graph {
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
            },
        };
        let devices = devices(&mut b, model);
        for cloud in clouds {
            match cloud {
                Cloud::Aws => {
                    if let Some(aws) = &model.aws {
                        AwsDraw::new(model, aws).draw(&mut b, devices);
                    }
                }
                Cloud::Azure => {
                    if let Some(az) = &model.azure {
                        AzureDraw {
                            d: Design::new(model, az),
                        }
                        .draw(&mut b, devices);
                    }
                }
            }
        }
        b.g
    }

    /// Edges into `id`.
    pub fn incoming(&self, id: NodeId) -> impl Iterator<Item = &Edge> {
        self.edges.iter().filter(move |e| e.to == id)
    }
}

fn targets(model: &Model, cloud: Cloud) -> bool {
    match cloud {
        Cloud::Aws => model.aws.is_some(),
        Cloud::Azure => model.azure.is_some(),
    }
}

/// Adds nodes and edges, wrapping details and merging duplicate edges.
struct Builder {
    g: Graph,
}

impl Builder {
    fn node(
        &mut self,
        kind: Kind,
        title: impl Into<String>,
        details: &[String],
        cluster: Option<usize>,
    ) -> NodeId {
        let id = NodeId(self.g.nodes.len());
        self.g.nodes.push(Node {
            kind,
            title: title.into(),
            details: details.iter().flat_map(|d| wrap(d, WRAP_COLUMNS)).collect(),
            cluster,
        });
        id
    }

    /// Adds an edge; a second edge between the same nodes adds its label to the first.
    fn edge(&mut self, from: NodeId, to: NodeId, label: Option<&str>) {
        if let Some(e) = self
            .g
            .edges
            .iter_mut()
            .find(|e| e.from == from && e.to == to)
        {
            if let Some(new) = label {
                match &mut e.label {
                    Some(old) if old.split(", ").any(|part| part == new) => {}
                    Some(old) => {
                        old.push_str(", ");
                        old.push_str(new);
                    }
                    None => e.label = Some(new.to_owned()),
                }
            }
            return;
        }
        self.g.edges.push(Edge {
            from,
            to,
            label: label.map(str::to_owned),
        });
    }

    fn cluster(&mut self, cloud: Cloud, title: String) -> usize {
        self.g.clusters.push(Cluster { cloud, title });
        self.g.clusters.len() - 1
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

/// Words for a list: `a`, `a and b`, `a, b and c`.
pub fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

/// The first `max` items, then `+N more`.
fn first_few(items: &[String], max: usize) -> String {
    let mut out = items
        .iter()
        .take(max)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if items.len() > max {
        let _ = write!(out, " +{} more", items.len() - max);
    }
    out
}

/// How devices authenticate, in a few words.
pub fn auth_words(model: &Model) -> String {
    match model.identity.method {
        AuthMethod::X509 => format!("X.509, {}", key_words(model.identity.key_algorithm)),
        AuthMethod::SymmetricKey => "symmetric keys".to_owned(),
        AuthMethod::Tpm => "TPM attestation".to_owned(),
    }
}

/// A key algorithm as people say it.
pub fn key_words(k: KeyAlgorithm) -> &'static str {
    match k {
        KeyAlgorithm::EcdsaP256 => "ECDSA P-256",
        KeyAlgorithm::Rsa2048 => "RSA 2048",
        KeyAlgorithm::Rsa3072 => "RSA 3072",
    }
}

/// A storage tier's name on a cloud.
pub fn tier_name(cloud: Cloud, tier: StorageTier) -> &'static str {
    match (cloud, tier) {
        (Cloud::Aws, StorageTier::Hot) => "S3 Standard",
        (Cloud::Aws, StorageTier::Cool) => "S3 Standard-IA",
        (Cloud::Aws, StorageTier::Cold) => "S3 Glacier Instant Retrieval",
        (Cloud::Aws, StorageTier::Archive) => "S3 Glacier Flexible Retrieval",
        (Cloud::Aws, StorageTier::DeepArchive) => "S3 Glacier Deep Archive",
        (Cloud::Azure, StorageTier::Hot) => "Blob Hot",
        (Cloud::Azure, StorageTier::Cool) => "Blob Cool",
        (Cloud::Azure, StorageTier::Cold) => "Blob Cold",
        (Cloud::Azure, StorageTier::Archive | StorageTier::DeepArchive) => "Blob Archive",
    }
}

/// What a route listens to, in words, per cloud.
pub fn source_words(cloud: Cloud, source: RouteSource) -> &'static str {
    match (cloud, source) {
        (_, RouteSource::Telemetry) => "telemetry",
        (Cloud::Aws, RouteSource::StateChanges) => "shadow updates",
        (Cloud::Azure, RouteSource::StateChanges) => "twin changes",
        (_, RouteSource::Lifecycle) => "lifecycle events",
        (_, RouteSource::ConnectionState) => "connection events",
    }
}

fn dialect(cloud: Cloud) -> Dialect {
    match cloud {
        Cloud::Aws => Dialect::AwsIotSql,
        Cloud::Azure => Dialect::IotHubRouting,
    }
}

fn devices(b: &mut Builder, m: &Model) -> NodeId {
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
    b.node(Kind::Devices, "Devices", &details, None)
}

/// The archive's storage tiers as a chain, then the expiry; returns the first tier.
fn storage_chain(
    b: &mut Builder,
    m: &Model,
    cloud: Cloud,
    cluster: usize,
    first: &[String],
) -> NodeId {
    let hot = b.node(
        Kind::Storage,
        tier_name(cloud, StorageTier::Hot),
        first,
        Some(cluster),
    );
    let mut prev = hot;
    if let Some(a) = &m.archive {
        for t in &a.lifecycle {
            let n = b.node(
                Kind::Storage,
                format!(
                    "{} after {} d",
                    tier_name(cloud, t.tier),
                    int(t.after_days.into())
                ),
                &[],
                Some(cluster),
            );
            b.edge(prev, n, None);
            prev = n;
        }
        if let Some(days) = a.expire_after_days {
            let verb = match cloud {
                Cloud::Aws => "Expire",
                Cloud::Azure => "Delete",
            };
            let n = b.node(
                Kind::Expiry,
                format!("{verb} after {} d", int(days.into())),
                &[],
                Some(cluster),
            );
            b.edge(prev, n, None);
        }
    }
    hot
}

fn emails(m: &Model) -> Vec<String> {
    if m.monitoring.emails.is_empty() {
        vec!["no e-mail subscribers".to_owned()]
    } else {
        vec![first_few(&m.monitoring.emails, 2)]
    }
}

/// Draws the AWS stack from the AWS planner's own decisions (its `Flags`, and the actions
/// each route's topic rule carries), so the picture shows what `build` writes.
struct AwsDraw<'a> {
    m: &'a Model,
    aws: &'a Aws,
    flags: aws_plan::Flags,
}

impl<'a> AwsDraw<'a> {
    fn new(m: &'a Model, aws: &'a Aws) -> Self {
        Self {
            m,
            aws,
            flags: aws_plan::Flags::new(m, aws),
        }
    }

    fn provisioning(
        &self,
        b: &mut Builder,
        cluster: usize,
    ) -> (NodeId, &'static str, &'static str) {
        let m = self.m;
        let p = &self.aws.provisioning;
        let ca = match m.identity.ca {
            crate::model::CaSource::Generated => "fleet CA (generated)",
            crate::model::CaSource::Provided => "fleet CA (provided)",
        };
        let (title, mut details, to_prov, to_core) = match p.method {
            AwsProvisioningMethod::Manual => (
                "Manual registration",
                vec![
                    if m.fleet.registry.is_empty() {
                        "things + certificates in Terraform".to_owned()
                    } else if crate::clouds::aws::bulk::registration(m)
                        == crate::clouds::aws::bulk::Registration::Bulk
                    {
                        format!(
                            "{} things + certificates by bulk registration tasks",
                            int(m.fleet.registry.len() as u64)
                        )
                    } else {
                        format!(
                            "{} things + certificates in Terraform",
                            int(m.fleet.registry.len() as u64)
                        )
                    },
                    ca.to_owned(),
                ],
                "registered ahead",
                "things, certificates",
            ),
            AwsProvisioningMethod::Jitp => (
                "Just-in-time provisioning",
                vec![format!("{ca} + provisioning template")],
                "first connect, CA-signed cert",
                "thing, cert, policy",
            ),
            AwsProvisioningMethod::Jitr => (
                "Just-in-time registration",
                vec![
                    format!("{ca}, auto-registration"),
                    "activator Lambda".to_owned(),
                ],
                "first connect, CA-signed cert",
                "activated cert, thing",
            ),
            AwsProvisioningMethod::FleetByClaim => (
                "Fleet provisioning by claim",
                vec!["swaps a claim certificate for its own".to_owned()],
                "claim certificate",
                "thing, cert, policy",
            ),
            AwsProvisioningMethod::TrustedUser => (
                "Fleet provisioning by trusted user",
                vec!["installer app requests a temporary claim".to_owned()],
                "temporary claim",
                "thing, cert, policy",
            ),
        };
        if p.pre_provisioning_hook {
            details.push("pre-provisioning hook Lambda".to_owned());
        }
        if matches!(
            p.method,
            AwsProvisioningMethod::Manual
                | AwsProvisioningMethod::Jitp
                | AwsProvisioningMethod::Jitr
        ) && p.certificate_mode == crate::model::CertificateMode::SniOnly
        {
            details.push("CA in SNI-only mode".to_owned());
        }
        (
            b.node(Kind::Provisioning, title, &details, Some(cluster)),
            to_prov,
            to_core,
        )
    }

    fn draw(&self, b: &mut Builder, devices: NodeId) {
        let m = self.m;
        let aws = self.aws;
        let c = b.cluster(Cloud::Aws, format!("AWS ({})", aws.region));
        let (prov, to_prov, to_core) = self.provisioning(b, c);
        b.edge(devices, prov, Some(to_prov));
        let mut core_details = vec!["policy scoped to each thing".to_owned()];
        if m.messaging.state {
            core_details.push("device shadows".to_owned());
        }
        if m.messaging.commands {
            core_details.push(format!(
                "commands on {}",
                m.messaging.command_topic.as_str()
            ));
        }
        if aws.fleet_indexing {
            core_details.push("fleet indexing".to_owned());
        }
        if aws.basic_ingest {
            core_details.push("Basic Ingest".to_owned());
        }
        let core = b.node(Kind::Hub, "AWS IoT Core", &core_details, Some(c));
        b.edge(prov, core, Some(to_core));
        b.edge(
            devices,
            core,
            Some(&format!("MQTT {}", m.messaging.telemetry_topic.as_str())),
        );

        // Streams and storage exist once, whatever routes write to them.
        let flags = self.flags;
        let kinesis = flags.kinesis.then(|| {
            let mut d = vec![match aws.stream.kinesis_capacity {
                KinesisCapacity::Provisioned => format!(
                    "{} shard{}, provisioned",
                    aws.stream.kinesis_shards,
                    plural(aws.stream.kinesis_shards.into())
                ),
                KinesisCapacity::OnDemand => "on-demand capacity".to_owned(),
            }];
            d.push(format!(
                "retention {} h",
                aws.stream.kinesis_retention_hours
            ));
            b.node(Kind::Stream, "Kinesis Data Streams", &d, Some(c))
        });
        let firehose = flags.firehose.then(|| {
            b.node(
                Kind::Stream,
                "Amazon Data Firehose",
                &[format!(
                    "buffer {} s or {} MiB",
                    aws.stream.firehose_buffer_seconds, aws.stream.firehose_buffer_mib
                )],
                Some(c),
            )
        });
        if let (Some(k), Some(f), true) = (kinesis, firehose, flags.firehose_reads_kinesis) {
            b.edge(k, f, Some("reads the stream"));
        }
        let state = flags.state_table.then(|| {
            b.node(
                Kind::Database,
                "DynamoDB state table",
                &["latest state per device".to_owned()],
                Some(c),
            )
        });

        for route in &m.routes {
            let mut d = Vec::new();
            if route.source == RouteSource::Telemetry {
                d.push(format!("FROM {}", m.messaging.telemetry_topic.filter()));
            }
            d.push(condition_line(
                route.condition.as_ref(),
                Cloud::Aws,
                "WHERE ",
            ));
            let rule = b.node(Kind::Rule, format!("IoT rule {}", route.name), &d, Some(c));
            b.edge(core, rule, Some(source_words(Cloud::Aws, route.source)));
            for action in aws_plan::route_actions(&flags, route) {
                let target = match action {
                    aws_plan::Action::Kinesis => kinesis,
                    aws_plan::Action::Firehose => firehose,
                    aws_plan::Action::State => state,
                };
                if let Some(t) = target {
                    b.edge(rule, t, None);
                }
            }
        }

        let hot = flags.archive.then(|| {
            let first = vec![if flags.archive_cmk {
                "archive bucket, KMS key".to_owned()
            } else {
                "archive bucket, SSE-S3".to_owned()
            }];
            storage_chain(b, m, Cloud::Aws, c, &first)
        });
        if let (Some(f), Some(h)) = (firehose, hot) {
            b.edge(
                f,
                h,
                Some(if flags.partition_by_device {
                    "objects by day and device"
                } else {
                    "objects by day and hour"
                }),
            );
        }

        if !m.alerts.is_empty() {
            let function = m.alerts.iter().any(|a| a.function).then(|| {
                b.node(
                    Kind::Function,
                    "Lambda alert handler",
                    &["records the alert".to_owned()],
                    Some(c),
                )
            });
            let sns = m
                .alerts
                .iter()
                .any(|a| a.notify)
                .then(|| b.node(Kind::Notification, "SNS alerts topic", &emails(m), Some(c)));
            for alert in &m.alerts {
                let rule = b.node(
                    Kind::Rule,
                    format!("Alert rule {}", alert.name),
                    &[condition_line(Some(&alert.condition), Cloud::Aws, "WHERE ")],
                    Some(c),
                );
                b.edge(core, rule, Some("telemetry"));
                match (alert.function, alert.notify, function, sns) {
                    (true, notify, Some(f), sns) => {
                        b.edge(rule, f, None);
                        if let (true, Some(s)) = (notify, sns) {
                            b.edge(f, s, Some("notifies"));
                        }
                    }
                    (false, true, _, Some(s)) => b.edge(rule, s, None),
                    _ => {}
                }
            }
        }

        if flags.ota {
            let ota = b.node(
                Kind::Feature,
                "OTA updates",
                &[
                    "firmware bucket, AWS Signer".to_owned(),
                    "IoT job documents".to_owned(),
                ],
                Some(c),
            );
            b.edge(ota, core, Some("jobs"));
            let downloads = m
                .access
                .cloud_credentials
                .as_ref()
                .is_some_and(|cc| cc.grants.contains(&CredentialGrant::FirmwareRead));
            if downloads {
                b.edge(devices, ota, Some("firmware via role alias"));
            }
        }
        if flags.analytics
            && let Some(h) = hot
        {
            let a = b.node(
                Kind::Feature,
                "Glue + Athena",
                &[
                    "table with partition projection".to_owned(),
                    "Athena workgroup".to_owned(),
                ],
                Some(c),
            );
            b.edge(h, a, Some("queries"));
        }
        if m.features.web_api {
            let api = b.node(
                Kind::Feature,
                "HTTP API",
                &[
                    "API Gateway + Lambda, IAM auth".to_owned(),
                    "Cognito identity pool".to_owned(),
                ],
                Some(c),
            );
            match state {
                Some(s) => b.edge(s, api, Some("reads")),
                None => b.edge(core, api, Some("reads shadows")),
            }
        }
    }
}

/// Draws the Azure stack: DPS in front of one hub per linked site, routes, Event Hubs,
/// Capture into tiered Blob storage, alerts and features, from the Azure planner's own
/// decisions (its `Design`: whether Capture is on, which endpoints each route delivers to,
/// what is built), so the picture shows what `build` writes.
struct AzureDraw<'a> {
    d: Design<'a>,
}

impl AzureDraw<'_> {
    fn draw(&self, b: &mut Builder, devices: NodeId) {
        let design = &self.d;
        let m = design.m;
        let az = design.az;
        let c = b.cluster(Cloud::Azure, format!("Azure ({})", az.location));
        let attest = match m.identity.method {
            AuthMethod::X509 => "X.509 attestation",
            AuthMethod::SymmetricKey => "symmetric key attestation",
            AuthMethod::Tpm => "TPM attestation",
        };
        let front = if let Some(dps) = &az.dps {
            let mut details = vec![
                az.names.dps.clone(),
                format!("allocation: {}", allocation_words(dps.allocation)),
            ];
            if !dps.enrollment_groups.is_empty() {
                let groups: Vec<String> = dps
                    .enrollment_groups
                    .iter()
                    .map(|g| g.name.clone())
                    .collect();
                details.push(format!("enrollment groups: {}", first_few(&groups, 3)));
            }
            let node = b.node(
                Kind::Provisioning,
                "Device Provisioning Service",
                &details,
                Some(c),
            );
            b.edge(devices, node, Some(attest));
            node
        } else {
            let node = b.node(
                Kind::Provisioning,
                "Hub identity registry",
                &["device identities created after apply".to_owned()],
                Some(c),
            );
            b.edge(devices, node, Some("registered after apply"));
            node
        };
        let mut caps = Vec::new();
        if m.messaging.state {
            caps.push("twins");
        }
        if m.messaging.commands {
            caps.push("C2D commands");
        }
        if m.messaging.direct_methods {
            caps.push("direct methods");
        }
        let weighted = az
            .dps
            .as_ref()
            .is_some_and(|details| details.allocation == Allocation::EvenlyWeighted)
            && az.hubs.len() > 1;
        let mut hubs = Vec::new();
        for site in &az.hubs {
            let mut details = vec![format!(
                "{}, {} x {}",
                site.location,
                sku_name(az.hub.sku),
                az.hub.units
            )];
            if !caps.is_empty() {
                details.push(caps.join(", "));
            }
            let hub = b.node(
                Kind::Hub,
                format!("IoT Hub {}", site.name),
                &details,
                Some(c),
            );
            let assign = if az.dps.is_none() {
                "identities".to_owned()
            } else if weighted {
                format!("assigns, weight {}", site.allocation_weight)
            } else {
                "assigns".to_owned()
            };
            b.edge(front, hub, Some(&assign));
            b.edge(devices, hub, Some("MQTT telemetry"));
            hubs.push(hub);
        }

        let eh = &az.event_hubs;
        // The telemetry event hub is drawn when something writes to it (routes to the stream)
        // or reads it (Capture, the Stream Analytics job, Data Explorer).
        let event_hubs = (design.stream_endpoint
            || design.capture
            || design.stream_analytics
            || m.features.analytics)
            .then(|| {
                let mut details = vec![match eh.tier {
                    EventHubsTier::Premium => "Premium, 1 processing unit".to_owned(),
                    tier => {
                        let mut s = format!("{}, {} TU", eh_tier_name(tier), eh.throughput_units);
                        if let Some(max) = eh.max_throughput_units {
                            let _ = write!(s, " (auto-inflate to {max})");
                        }
                        s
                    }
                }];
                details.push(format!(
                    "{} partitions, retention {} d",
                    eh.partitions, eh.retention_days
                ));
                b.node(Kind::Stream, "Event Hubs", &details, Some(c))
            });
        let state = m.features.state_store.then(|| {
            b.node(
                Kind::Database,
                "Cosmos DB state container",
                &["latest state per device".to_owned()],
                Some(c),
            )
        });
        let blob_first = vec![
            format!("account {}", az.names.storage_account),
            format!(
                "{}, {}",
                replication_name(az.storage.replication),
                if customer_key(m) {
                    "Key Vault key"
                } else {
                    "Microsoft-managed key"
                }
            ),
        ];
        let hot = design
            .archive
            .is_some()
            .then(|| storage_chain(b, m, Cloud::Azure, c, &blob_first));

        for route in &m.routes {
            let line = condition_line(route.condition.as_ref(), Cloud::Azure, "");
            let rule = b.node(
                Kind::Rule,
                format!("Route {}", route.name),
                &[line],
                Some(c),
            );
            for hub in &hubs {
                b.edge(*hub, rule, Some(source_words(Cloud::Azure, route.source)));
            }
            // The endpoints the planner gives the route: an archived route that also goes
            // to the stream is archived by Capture, any other through a storage endpoint.
            for endpoint in design.endpoints_for(route) {
                let (target, label) = match endpoint {
                    Endpoint::Stream => (event_hubs, None),
                    Endpoint::Archive => (hot, Some("storage endpoint")),
                    Endpoint::State => (state, None),
                };
                if let Some(t) = target {
                    b.edge(rule, t, label);
                }
            }
        }
        if let (Some(e), Some(h), true) = (event_hubs, hot, design.capture) {
            b.edge(
                e,
                h,
                Some(&format!(
                    "Capture every {} s / {} MiB",
                    eh.capture_interval_seconds, eh.capture_size_mib
                )),
            );
        }

        if !m.alerts.is_empty() {
            let function = (m.alerts.iter().any(|a| a.function)).then(|| {
                b.node(
                    Kind::Function,
                    "Function alert handler",
                    &["consumption plan".to_owned()],
                    Some(c),
                )
            });
            let group = m.alerts.iter().any(|a| a.notify).then(|| {
                b.node(
                    Kind::Notification,
                    "Monitor action group",
                    &emails(m),
                    Some(c),
                )
            });
            let job = design.stream_analytics.then(|| {
                let node = b.node(
                    Kind::Function,
                    "Stream Analytics job",
                    &[format!(
                        "{} alert quer{}",
                        m.alerts.len(),
                        if m.alerts.len() == 1 { "y" } else { "ies" }
                    )],
                    Some(c),
                );
                // The job's input is the telemetry event hub.
                if let Some(e) = event_hubs {
                    b.edge(e, node, None);
                }
                node
            });
            for alert in &m.alerts {
                let node = if let Some(j) = job {
                    let node = b.node(
                        Kind::Rule,
                        format!("Alert {}", alert.name),
                        &[condition_line(Some(&alert.condition), Cloud::Aws, "WHERE ")],
                        Some(c),
                    );
                    b.edge(j, node, None);
                    node
                } else {
                    let node = b.node(
                        Kind::Rule,
                        format!("Alert route {}", alert.name),
                        &[condition_line(Some(&alert.condition), Cloud::Azure, "")],
                        Some(c),
                    );
                    for hub in &hubs {
                        b.edge(*hub, node, Some("telemetry"));
                    }
                    node
                };
                match (alert.function, alert.notify, function, group) {
                    (true, notify, Some(f), group) => {
                        b.edge(node, f, None);
                        if let (true, Some(g)) = (notify, group) {
                            b.edge(f, g, Some("notifies"));
                        }
                    }
                    (false, true, _, Some(g)) => b.edge(node, g, None),
                    _ => {}
                }
            }
        }

        if design.ota {
            let ota = b.node(
                Kind::Feature,
                "OTA updates",
                &["Device Update for IoT Hub".to_owned()],
                Some(c),
            );
            for hub in &hubs {
                b.edge(ota, *hub, Some("deployments"));
            }
        }
        if m.features.analytics {
            let adx = b.node(
                Kind::Feature,
                "Azure Data Explorer",
                &["cluster and database".to_owned()],
                Some(c),
            );
            // Data Explorer's data connection reads the telemetry event hub.
            if let Some(e) = event_hubs {
                b.edge(e, adx, Some("ingests"));
            }
        }
        // No web API is generated on Azure (the parity table says so), so none is drawn.
    }
}

/// A condition as a diagram line: `WHERE …` in the cloud's dialect, or "all messages".
fn condition_line(
    cond: Option<&crate::model::condition::Expr>,
    cloud: Cloud,
    prefix: &str,
) -> String {
    match cond {
        Some(e) => format!("{prefix}{}", e.render(dialect(cloud))),
        None => "all messages".to_owned(),
    }
}

/// Whether the archive is encrypted with the stack's own key (also when no archive is asked
/// for but the stream still lands in a bucket).
fn customer_key(m: &Model) -> bool {
    m.archive
        .as_ref()
        .is_none_or(|a| a.encryption == crate::model::Encryption::CustomerManaged)
}

/// Storage replication as Azure spells it.
pub fn replication_name(r: crate::model::Replication) -> &'static str {
    use crate::model::Replication;
    match r {
        Replication::Lrs => "LRS",
        Replication::Zrs => "ZRS",
        Replication::Grs => "GRS",
        Replication::Gzrs => "GZRS",
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// DPS allocation in the portal's words.
pub fn allocation_words(a: Allocation) -> &'static str {
    match a {
        Allocation::EvenlyWeighted => "evenly weighted",
        Allocation::LowestLatency => "lowest latency",
        Allocation::Static => "static",
        Allocation::Custom => "custom (Azure Function)",
    }
}

/// An IoT Hub SKU as Azure spells it.
pub fn sku_name(sku: crate::model::HubSku) -> &'static str {
    use crate::model::HubSku;
    match sku {
        HubSku::F1 => "F1",
        HubSku::B1 => "B1",
        HubSku::B2 => "B2",
        HubSku::B3 => "B3",
        HubSku::S1 => "S1",
        HubSku::S2 => "S2",
        HubSku::S3 => "S3",
    }
}

/// An Event Hubs tier as Azure spells it.
pub fn eh_tier_name(tier: EventHubsTier) -> &'static str {
    match tier {
        EventHubsTier::Basic => "Basic",
        EventHubsTier::Standard => "Standard",
        EventHubsTier::Premium => "Premium",
    }
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

    #[test]
    fn lists_read_naturally() {
        assert_eq!(and_list(&["a".into()]), "a");
        assert_eq!(
            and_list(&["a".into(), "b".into(), "c".into()]),
            "a, b and c"
        );
        assert_eq!(
            first_few(&["a".into(), "b".into(), "c".into()], 2),
            "a, b +1 more"
        );
    }
}
