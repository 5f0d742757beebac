//! One cloud's design: every decision its planner made, in the shapes the renderers need.
//!
//! A planner decides once (what exists, SKUs, sizes, where each route delivers, and why) and
//! fills a [`Design`] from those decisions: the [`Dataflow`] the diagram draws, the parity rows
//! the build summary and READMEs show, the [`Story`] `fleetform explain` tells, and the
//! [`Bill`] `fleetform cost` prices. The Terraform root module is rendered from the same
//! decisions by [`crate::clouds::CloudPlanner::plan`]. Nothing here knows a cloud: the types
//! are neutral and each cloud's folder fills them.

pub mod bill;
pub mod dataflow;
pub mod story;
pub mod words;

pub use bill::{Bill, BillItem, Billing, Coverage};
pub use dataflow::{Dataflow, End, FlowEdge, FlowNode, Kind};
pub use story::Story;

use crate::clouds::Cloud;
use crate::plan::ParityRow;

/// One cloud's design for a model.
#[derive(Debug, Clone)]
pub struct Design {
    pub cloud: Cloud,
    /// Nodes and edges, as the diagram draws them.
    pub dataflow: Dataflow,
    /// What each requested feature became.
    pub parity: Vec<ParityRow>,
    /// The facts `fleetform explain` states, with the reason for each decision.
    pub story: Story,
    /// What the stack bills, as the estimator prices it.
    pub bill: Bill,
}
