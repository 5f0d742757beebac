//! fleetform compiles a declarative IoT fleet spec into Terraform for AWS and Azure.
//!
//! The crate is a pipeline of pure steps: load the YAML spec, validate it, lower it to a
//! cloud-neutral model, plan each targeted cloud, and emit files. Only the `cli` module does I/O.
pub mod certs;
