//! A design's bill of materials: what the planner builds, as the estimator prices it.
//!
//! The planner fills a [`Bill`] from the same decisions it renders into Terraform: each
//! billed resource it decided on ([`BillItem`]: its Terraform type and addresses, the size,
//! SKU, architecture or units it chose, and the usage drivers the estimate meters it by),
//! and the cloud's [`Meter`], which holds the same figures typed and knows how the cloud
//! meters them. `fleetform cost` prices the bills of the designs with the neutral workload
//! ([`crate::cost::estimate`]), so the estimate follows the plan.
//!
//! Each cloud also lists every resource type its modules may create with how the estimate
//! treats it ([`Billing`]): priced, free, or billed but not estimated yet (and why). The bill
//! lists every resource of a type that is not free by its Terraform address, priced or not
//! ([`BillItem::priced`]), so a test can check that the bill and the Terraform list the same
//! billed resources: nothing the module creates is silently left out of the bill.

use std::sync::Arc;

use serde::Serialize;

use crate::clouds::Cloud;
use crate::cost::Meter;

/// One cloud's bill for a model.
#[derive(Debug, Clone)]
pub struct Bill {
    pub cloud: Cloud,
    /// The region the stack deploys into (prices may be for another one).
    pub region: String,
    /// The billed resources the planner decided on, in pipeline order.
    pub items: Vec<BillItem>,
    /// Every resource type the cloud's modules may create, with its coverage.
    pub catalog: &'static [Billing],
    /// What the planner builds, as the cloud meters it.
    pub meter: Arc<dyn Meter>,
}

impl Bill {
    /// How the estimate treats `resource_type`; `None` for a type the cloud does not list.
    pub fn coverage(&self, resource_type: &str) -> Option<Coverage> {
        self.catalog
            .iter()
            .find(|b| b.resource_type == resource_type)
            .map(|b| b.coverage)
    }
}

/// A billed resource, as the planner decided it and the estimate prices it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BillItem {
    /// Terraform resource type (`aws_kinesis_stream`).
    pub resource_type: &'static str,
    /// Terraform addresses of the resources (`aws_kinesis_stream.telemetry`).
    pub addresses: Vec<String>,
    /// SKU, size, architecture or units, as the planner chose them (`2 shards, provisioned`).
    pub size: String,
    /// What the estimate meters it by (`shard-hours`, `PUT payload units (25 KB)`); empty for
    /// a line that is not priced.
    pub drivers: Vec<&'static str>,
    /// Whether the estimate prices it. A line that is not priced is billed by the cloud but
    /// not estimated yet: its type's catalog entry says what it bills for.
    pub priced: bool,
}

impl BillItem {
    /// A billed resource the estimate does not price yet, at `addresses`.
    pub fn not_priced(resource_type: &'static str, addresses: Vec<String>) -> Self {
        Self {
            resource_type,
            addresses,
            size: String::new(),
            drivers: Vec::new(),
            priced: false,
        }
    }
}

/// How the estimate treats a Terraform resource type.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Coverage {
    /// Priced: its charges are lines of `service`.
    Priced { service: &'static str },
    /// Priced in part, as lines of `service`; `missing` says what is left out and why.
    Partly {
        service: &'static str,
        missing: &'static str,
    },
    /// Costs nothing by itself; the text says where its cost, if any, shows up.
    Free { why: &'static str },
    /// Billed by the cloud but not estimated yet; the text says what it bills for.
    NotEstimated { why: &'static str },
}

/// One entry of a cloud's catalog.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Billing {
    pub resource_type: &'static str,
    pub coverage: Coverage,
}

/// Shorthand for catalogs: a priced type.
pub const fn priced(resource_type: &'static str, service: &'static str) -> Billing {
    Billing {
        resource_type,
        coverage: Coverage::Priced { service },
    }
}

/// Shorthand for catalogs: a type priced in part.
pub const fn partly(
    resource_type: &'static str,
    service: &'static str,
    missing: &'static str,
) -> Billing {
    Billing {
        resource_type,
        coverage: Coverage::Partly { service, missing },
    }
}

/// Shorthand for catalogs: a free type.
pub const fn free(resource_type: &'static str, why: &'static str) -> Billing {
    Billing {
        resource_type,
        coverage: Coverage::Free { why },
    }
}

/// Shorthand for catalogs: a billed type the estimate leaves out.
pub const fn not_estimated(resource_type: &'static str, why: &'static str) -> Billing {
    Billing {
        resource_type,
        coverage: Coverage::NotEstimated { why },
    }
}
