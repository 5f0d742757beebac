//! The clouds fleetform targets, one folder each.
//!
//! Everything fleetform knows about a cloud lives in its folder: how the model becomes that
//! cloud's Terraform, and the words, limits and prices that describe what it builds. Code
//! outside these folders names a cloud only to choose one.

pub mod aws;
pub mod azure;

use crate::plan::forcenew::Rules;
use crate::plan::lifecycle::Holds;

/// The provider's replacement rules for a resource type, from the cloud it belongs to.
pub fn rules(ty: &str) -> Option<&'static Rules> {
    if ty.starts_with("azurerm_") {
        azure::lifecycle::replacement_rules().resources.get(ty)
    } else {
        aws::lifecycle::replacement_rules().resources.get(ty)
    }
}

/// What a resource type holds that a replacement or destroy loses, if anything.
pub fn holds(ty: &str) -> Option<Holds> {
    if ty.starts_with("azurerm_") {
        azure::lifecycle::holds(ty)
    } else {
        aws::lifecycle::holds(ty)
    }
}
