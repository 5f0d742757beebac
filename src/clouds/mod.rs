//! The clouds fleetform targets, one folder each.
//!
//! Everything fleetform knows about a cloud lives in its folder: how the model becomes that
//! cloud's Terraform, and the words, limits and prices that describe what it builds. Code
//! outside these folders names a cloud only to choose one.

pub mod aws;
pub mod azure;
