//! `fleetform explain`: what a spec will build and why, in plain language.
//!
//! Workshops and design reviews need the architecture told as a story an IoT architect
//! would tell it: the fleet and its traffic, how devices get identities, what each may do,
//! where messages go, how the stream is sized (with the arithmetic), how long data lives in
//! which tier, who gets alerted, and what to do around `terraform apply`. The fleet's part
//! is cloud-neutral and computed here ([`Fleet`]); each cloud's part is the [`Story`] its
//! planner tells from its own decisions, exactly as the diagrams and the estimate read them.
//! The words live in the `explain/explain.md.j2` blueprint and each cloud's
//! `blueprints/<cloud>/explain/` partials, so wording changes never touch code. This module
//! only gathers the parts and wraps the rendered text for a terminal (`wrap.rs`).

mod wrap;

use std::fmt::Write as _;

use serde::Serialize;

use crate::clouds::{self, Cloud};
use crate::cost::format::{bytes, int, num};
use crate::design::Story;
pub use crate::design::story::condition_words;
use crate::design::story::{dec, volume};
use crate::design::words::and_list;
use crate::model::Model;
use crate::plan::PlanError;
pub use wrap::wrap_markdown;

/// Lines are wrapped to this width (Markdown keeps soft-wrapped paragraphs intact).
pub const WIDTH: usize = 96;

/// Everything the explanation says, as facts and short phrases for the blueprint.
#[derive(Debug, Clone, Serialize)]
pub struct Explanation {
    pub stack: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// `AWS (us-west-2) and Azure (westeurope)`.
    pub targets: String,
    pub fleet: Fleet,
    pub clouds: Vec<Story>,
}

/// The fleet and its traffic, cloud-neutral.
#[derive(Debug, Clone, Serialize)]
pub struct Fleet {
    pub devices: String,
    pub planned: String,
    pub growth_percent: u32,
    pub types: Vec<String>,
    pub groups: Vec<String>,
    pub registry: Option<String>,
    pub messages_per_hour: String,
    pub message_bytes: String,
    pub connected_hours: String,
    pub messages_per_day: String,
    pub bytes_per_day: String,
    /// The peak arithmetic, ending in the peak message rate.
    pub peak: String,
    pub peak_bytes: String,
    pub state: Option<String>,
    pub commands: Option<String>,
    pub methods: Option<String>,
}

/// Builds the explanation of `model` for `clouds` (clouds it does not target are skipped).
pub fn explanation(model: &Model, clouds: &[Cloud]) -> Explanation {
    let parts: Vec<Story> = clouds::designs(model, clouds)
        .into_iter()
        .map(|d| d.story)
        .collect();
    let targets: Vec<String> = parts
        .iter()
        .map(|p| format!("{} ({})", p.title, p.place))
        .collect();
    Explanation {
        stack: model.stack.prefix.clone(),
        description: model.stack.description.clone(),
        owner: model.stack.owner.clone(),
        targets: and_list(&targets),
        fleet: fleet(model),
        clouds: parts,
    }
}

/// Renders the explanation of `model` on `clouds` as Markdown text wrapped to [`WIDTH`].
pub fn render(model: &Model, clouds: &[Cloud]) -> Result<String, PlanError> {
    let text = crate::blueprint::render("explain/explain.md.j2", explanation(model, clouds))?;
    Ok(wrap_markdown(&text, WIDTH))
}

/// Renders every cloud the model targets.
pub fn render_all(model: &Model) -> Result<String, PlanError> {
    render(model, &clouds::targeted(model))
}

fn fleet(m: &Model) -> Fleet {
    let t = &m.traffic;
    let msg = &m.messaging;
    let per_second = t.planned_devices as f64 * msg.messages_per_device_per_hour / 3600.0;
    let mut peak = format!(
        "{} planned devices × {} messages/h ÷ 3,600 s = {} messages/s on average",
        int(t.planned_devices),
        num(msg.messages_per_device_per_hour),
        dec(per_second)
    );
    let _ = write!(peak, ", × peak factor {}", num(msg.peak_factor));
    if (t.headroom - 1.0).abs() > f64::EPSILON {
        let _ = write!(
            peak,
            " × {} headroom ({} %)",
            num(t.headroom),
            m.cost.headroom_percent
        );
    }
    let _ = write!(peak, " = {} messages/s", dec(t.peak_messages_per_second));
    Fleet {
        devices: int(t.devices),
        planned: int(t.planned_devices),
        growth_percent: m.fleet.growth_percent_per_year,
        types: m
            .fleet
            .device_types
            .iter()
            .map(|d| {
                let mut s = format!("`{}`", d.name);
                if let Some(desc) = &d.description {
                    let _ = write!(s, " ({})", desc.trim_end_matches('.'));
                }
                if !d.searchable_attributes.is_empty() {
                    let _ = write!(s, ", searchable by {}", and_list(&d.searchable_attributes));
                }
                s
            })
            .collect(),
        groups: m
            .fleet
            .groups
            .iter()
            .map(|g| match &g.parent {
                Some(p) => format!("`{}` (in `{p}`)", g.name),
                None => format!("`{}`", g.name),
            })
            .collect(),
        registry: (!m.fleet.registry.is_empty()).then(|| int(m.fleet.registry.len() as u64)),
        messages_per_hour: num(msg.messages_per_device_per_hour),
        message_bytes: bytes(msg.message_bytes as f64),
        connected_hours: num(msg.connected_hours_per_day),
        messages_per_day: int(t.messages_per_day.round() as u64),
        bytes_per_day: bytes(t.messages_per_day * msg.message_bytes as f64),
        peak,
        peak_bytes: format!(
            "{} messages/s × {} = {}/s",
            dec(t.peak_messages_per_second),
            bytes(msg.message_bytes as f64),
            volume(t.peak_bytes_per_second)
        ),
        state: msg.state.then(|| {
            format!(
                "{} state updates a day of {}",
                num(msg.state_updates_per_device_per_day),
                bytes(msg.state_document_bytes as f64)
            )
        }),
        commands: msg
            .commands
            .then(|| format!("{} commands a day", num(msg.commands_per_device_per_day))),
        methods: msg.direct_methods.then(|| {
            format!(
                "{} direct-method calls a day",
                num(msg.method_calls_per_device_per_day)
            )
        }),
    }
}
