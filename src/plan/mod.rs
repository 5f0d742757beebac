//! Planning: the cloud-neutral model becomes one Terraform root module per cloud.
//!
//! A planner is a pure function from [`Model`] to [`Module`]: HCL bodies built with hcl-rs
//! (see [`tf`]) plus the non-HCL artifacts rendered from blueprints (function code,
//! provisioning templates, scripts, the stack README). Planners never touch the disk and
//! never fail on user input, which validation has already checked; an `Err` is a fleetform
//! bug (a blueprint that does not render) and says so. The planners themselves live in
//! [`crate::clouds`], one folder per cloud behind [`crate::clouds::CloudPlanner`]; this
//! module holds what they share.

pub mod forcenew;
pub mod intent;
pub mod lifecycle;
pub mod package;
pub mod stacks;
pub mod tf;

use std::collections::BTreeMap;

use crate::model::Model;

pub use crate::clouds::Cloud;

/// Content of one generated file.
#[derive(Debug, Clone)]
pub enum FileContent {
    /// Terraform, rendered and formatted by the emitter.
    Hcl(hcl::Body),
    /// Text (README, JSON, scripts, function code).
    Text(String),
    /// Binary (deterministic zip packages).
    Bytes(Vec<u8>),
    /// Generated on demand and written as a stream: data files derived from a registry, which
    /// can be 100 MB and must never sit in memory whole, let alone twice.
    Stream(std::sync::Arc<dyn Streamed>),
}

/// A generated file that writes itself: the same bytes every time it is asked, from data the
/// model already holds (so generating it is pure, and can run once to hash and once to write).
pub trait Streamed: std::fmt::Debug + Send + Sync {
    /// Writes the file's bytes to `out`.
    ///
    /// # Errors
    /// Only the errors of `out`.
    fn write_to(&self, out: &mut dyn std::io::Write) -> std::io::Result<()>;
}

/// How a requested feature maps onto a cloud, for the parity table of the build summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "status", content = "detail", rename_all = "snake_case")]
pub enum Mapping {
    /// Built with these resources or services.
    Mapped(String),
    /// Requested but not available on this cloud; the text says what happens instead.
    NotMapped(String),
}

/// One row of the parity table.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ParityRow {
    /// Stable feature key, shared across clouds (`provisioning`, `stream`, ...).
    pub feature: &'static str,
    pub mapping: Mapping,
}

/// A generated Terraform root module and its artifacts.
#[derive(Debug, Clone)]
pub struct Module {
    pub cloud: Cloud,
    /// Folder name, when not the cloud's (`aws-registry-01` for a registry shard stack).
    pub name: Option<String>,
    /// Files by path relative to the module folder (`iot.tf`, `functions/alert.zip`).
    pub files: BTreeMap<String, FileContent>,
    /// Requested features and what they became.
    pub parity: Vec<ParityRow>,
}

impl Module {
    pub fn new(cloud: Cloud) -> Self {
        Self {
            cloud,
            name: None,
            files: BTreeMap::new(),
            parity: Vec::new(),
        }
    }

    /// Folder of the module in the output.
    pub fn dir(&self) -> &str {
        self.name.as_deref().unwrap_or(self.cloud.dir())
    }

    /// Adds an HCL file; empty files are left out.
    pub fn hcl(&mut self, path: &str, file: tf::TfFile) {
        if !file.is_empty() {
            self.files
                .insert(path.to_owned(), FileContent::Hcl(file.into_body()));
        }
    }

    pub fn text(&mut self, path: &str, text: String) {
        self.files.insert(path.to_owned(), FileContent::Text(text));
    }

    /// Adds a file generated on demand (see [`Streamed`]).
    pub fn stream(&mut self, path: &str, file: std::sync::Arc<dyn Streamed>) {
        self.files
            .insert(path.to_owned(), FileContent::Stream(file));
    }

    pub fn bytes(&mut self, path: &str, bytes: Vec<u8>) {
        self.files
            .insert(path.to_owned(), FileContent::Bytes(bytes));
    }

    pub fn map(&mut self, feature: &'static str, mapping: Mapping) {
        self.parity.push(ParityRow { feature, mapping });
    }
}

/// A planner error: always a fleetform bug, never bad input.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    #[error("blueprint `{name}` failed to render: {source}")]
    Blueprint {
        name: String,
        #[source]
        source: minijinja::Error,
    },
    #[error("packaging `{name}` failed: {message}")]
    Package { name: String, message: String },
    #[error("no environment gives {cloud} stacks their state storage")]
    NoStateStorage { cloud: &'static str },
    #[error("{cloud} splits no registry into shard stacks")]
    NoRegistryShards { cloud: &'static str },
    #[error(
        "cannot pair the addresses of renamed alerts in `{module}`: {why} (a bug in fleetform)"
    )]
    Moved { module: String, why: String },
}

/// Plans every cloud the model targets, in [`crate::clouds::CLOUDS`] order.
pub fn plan_all(model: &Model) -> Result<Vec<Module>, PlanError> {
    crate::clouds::targeted_planners(model)
        .map(|p| lifecycle::finish(model, p, p.plan(model)?))
        .collect()
}
