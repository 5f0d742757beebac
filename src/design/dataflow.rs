//! The dataflow of one cloud's stack: the boxes and arrows `fleetform diagram` draws.
//!
//! A cloud's planner fills a [`Dataflow`] from its own decisions (what exists, where each
//! route delivers, what each box says); [`crate::diagram`] only lays it out and draws it. The
//! fleet's devices sit outside every cloud and are drawn once, so a dataflow refers to them
//! as [`End::Devices`] instead of owning a node for them.

use crate::clouds::Cloud;
use crate::model::{Archive, StorageTier};

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

/// One end of an arrow: the fleet's devices, or a node of this dataflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum End {
    Devices,
    /// An index into [`Dataflow::nodes`].
    Node(usize),
}

/// A box: what it is and what it says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowNode {
    pub kind: Kind,
    /// First line.
    pub title: String,
    /// Further lines, as the planner words them (the diagram wraps them).
    pub details: Vec<String>,
}

/// An arrow: data moves from `from` to `to`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowEdge {
    pub from: End,
    pub to: End,
    pub label: Option<String>,
}

/// One cloud's boxes and arrows, in the order the planner adds them (so the same spec always
/// gives the same picture).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataflow {
    pub cloud: Cloud,
    /// Title of the box around the cloud: `AWS (us-east-1)`.
    pub title: String,
    pub nodes: Vec<FlowNode>,
    pub edges: Vec<FlowEdge>,
}

impl Dataflow {
    pub fn new(cloud: Cloud, title: String) -> Self {
        Self {
            cloud,
            title,
            nodes: Vec::new(),
            edges: Vec::new(),
        }
    }

    /// Adds a node.
    pub fn node(&mut self, kind: Kind, title: impl Into<String>, details: &[String]) -> End {
        self.nodes.push(FlowNode {
            kind,
            title: title.into(),
            details: details.to_vec(),
        });
        End::Node(self.nodes.len() - 1)
    }

    /// Adds an edge; a second edge between the same nodes adds its label to the first.
    pub fn edge(&mut self, from: End, to: End, label: Option<&str>) {
        if let Some(e) = self.edges.iter_mut().find(|e| e.from == from && e.to == to) {
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
        self.edges.push(FlowEdge {
            from,
            to,
            label: label.map(str::to_owned),
        });
    }

    /// The archive's storage tiers as a chain, named by `tier_name`, then its expiry (`verb
    /// after N d`); returns the first tier, which holds `first` as its details.
    pub fn storage_chain(
        &mut self,
        archive: Option<&Archive>,
        tier_name: fn(StorageTier) -> &'static str,
        expiry_verb: &str,
        first: &[String],
    ) -> End {
        let hot = self.node(Kind::Storage, tier_name(StorageTier::Hot), first);
        let mut prev = hot;
        if let Some(a) = archive {
            for t in &a.lifecycle {
                let n = self.node(
                    Kind::Storage,
                    format!(
                        "{} after {} d",
                        tier_name(t.tier),
                        crate::cost::format::int(t.after_days.into())
                    ),
                    &[],
                );
                self.edge(prev, n, None);
                prev = n;
            }
            if let Some(days) = a.expire_after_days {
                let n = self.node(
                    Kind::Expiry,
                    format!(
                        "{expiry_verb} after {} d",
                        crate::cost::format::int(days.into())
                    ),
                    &[],
                );
                self.edge(prev, n, None);
            }
        }
        hot
    }
}
