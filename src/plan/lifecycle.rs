//! Lifecycle rules the planners' output gets after planning: `prevent_destroy` on what
//! holds data or identities, and `moved` blocks for renamed spec items.
//!
//! Both are post-passes over finished modules, so the planners stay unaware of them and the
//! knowledge of what is stateful stays in each cloud's folder ([`crate::clouds::holds`]).

/// What a resource holds that a replacement or destroy loses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Holds {
    /// What is lost, in words: "every object in the bucket".
    pub what: &'static str,
    /// Instances expanded with `for_each` are devices of the registry: removing one is how a
    /// device is decommissioned, so `prevent_destroy` leaves them alone (diff still lists
    /// each loss).
    pub per_device: bool,
}
