//! A design's bill of materials: what the planner builds, as the estimator prices it.
//!
//! The planner fills a [`Bill`] from the same decisions it renders into Terraform: the SKUs,
//! sizes, units and architectures it chose, held by the cloud's own [`Meter`] (which knows
//! how the cloud meters them). `fleetform cost` prices the bills of the designs with the
//! neutral workload ([`crate::cost::estimate`]), so the estimate follows the plan.

use std::sync::Arc;

use crate::clouds::Cloud;
use crate::cost::Meter;

/// One cloud's bill for a model.
#[derive(Debug, Clone)]
pub struct Bill {
    pub cloud: Cloud,
    /// The region the stack deploys into (prices may be for another one).
    pub region: String,
    /// What the planner builds, as the cloud meters it.
    pub meter: Arc<dyn Meter>,
}
