//! A fleet with what each cloud builds for it, as the estimator tests write them by hand: the
//! neutral [`Workload`] plus an AWS and an Azure bill. `fleetform cost` gets the bills from the
//! planners' designs; these tests give them directly, to check the pricing arithmetic.
#![allow(dead_code)]

use std::ops::{Deref, DerefMut};

use fleetform::clouds::aws::cost::AwsWorkload;
use fleetform::clouds::azure::cost::AzureWorkload;
use fleetform::cost::{self, Error, Estimate, Meter, PriceBook, Workload};

/// The neutral workload (reached through `Deref`) and each cloud's bill.
#[derive(Debug, Clone, PartialEq)]
pub struct Fleet {
    pub workload: Workload,
    pub aws: Option<AwsWorkload>,
    pub azure: Option<AzureWorkload>,
}

impl Fleet {
    /// Like [`Workload::new`], with no cloud yet.
    pub fn new(devices: u64, messages_per_device_per_day: f64, message_bytes: u64) -> Self {
        Self {
            workload: Workload::new(devices, messages_per_device_per_day, message_bytes),
            aws: None,
            azure: None,
        }
    }
}

impl Deref for Fleet {
    type Target = Workload;
    fn deref(&self) -> &Workload {
        &self.workload
    }
}

impl DerefMut for Fleet {
    fn deref_mut(&mut self) -> &mut Workload {
        &mut self.workload
    }
}

/// Estimates every bill of `fleet`, AWS first.
pub fn estimate(fleet: &Fleet, book: &PriceBook) -> Result<Estimate, Error> {
    let mut bills: Vec<&dyn Meter> = Vec::new();
    if let Some(aws) = &fleet.aws {
        bills.push(aws);
    }
    if let Some(azure) = &fleet.azure {
        bills.push(azure);
    }
    cost::estimate(&fleet.workload, &bills, book)
}
