//! Diffs two estimates, e.g. the base and head of a pull request, line by line.
//!
//! Lines are matched by cloud, service and item, which stay the same when only quantities or
//! sizes change (an IoT Hub moving from S1 to S2 is still the `hub units` line). Lines present
//! on one side only show as added or removed.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use super::format;
use super::model::{Cloud, Estimate, round_to, round4, round4_opt};
use super::render::{md, table};

/// How a line changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Change {
    /// Only in the head estimate.
    Added,
    /// Only in the base estimate.
    Removed,
    /// In both, with a different amount.
    Changed,
}

/// One line's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LineDelta {
    pub service: String,
    pub item: String,
    pub change: Change,
    /// Monthly USD in the base estimate.
    #[serde(serialize_with = "round4_opt")]
    pub base_usd: Option<f64>,
    /// Monthly USD in the head estimate.
    #[serde(serialize_with = "round4_opt")]
    pub head_usd: Option<f64>,
    /// `head − base`, treating a missing side as zero.
    #[serde(serialize_with = "round4")]
    pub delta_usd: f64,
    /// Quantity in the base estimate, in `base_unit`s.
    #[serde(serialize_with = "round4_opt")]
    pub base_quantity: Option<f64>,
    /// Unit of the base quantity.
    pub base_unit: Option<String>,
    /// Quantity in the head estimate, in `head_unit`s.
    #[serde(serialize_with = "round4_opt")]
    pub head_quantity: Option<f64>,
    /// Unit of the head quantity (differs from `base_unit` when, e.g., a hub changes SKU).
    pub head_unit: Option<String>,
}

impl LineDelta {
    /// The quantity change in words: `94.9 → 182.5 1M messages`, `8 S1 unit-month → 1 S2
    /// unit-month`, or one side for added and removed lines.
    pub fn quantity_change(&self) -> String {
        let side = |q: Option<f64>, u: &Option<String>| {
            q.map(|q| format!("{} {}", format::num(q), u.as_deref().unwrap_or_default()))
        };
        match (self.base_quantity, self.head_quantity) {
            (Some(base), Some(head)) if self.base_unit == self.head_unit => format!(
                "{} → {} {}",
                format::num(base),
                format::num(head),
                self.head_unit.as_deref().unwrap_or_default()
            ),
            (base, head) => {
                let parts: Vec<String> = [side(base, &self.base_unit), side(head, &self.head_unit)]
                    .into_iter()
                    .flatten()
                    .collect();
                parts.join(" → ")
            }
        }
    }
}

/// One cloud's change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CloudDelta {
    pub cloud: Cloud,
    /// Monthly total in the base estimate, if the cloud was estimated there.
    #[serde(serialize_with = "round4_opt")]
    pub base_total_usd: Option<f64>,
    /// Monthly total in the head estimate, if the cloud was estimated there.
    #[serde(serialize_with = "round4_opt")]
    pub head_total_usd: Option<f64>,
    /// `head − base` of the totals.
    #[serde(serialize_with = "round4")]
    pub delta_usd: f64,
    /// Lines whose amount changed (by at least 0.0001 USD), in head order then removed lines.
    pub lines: Vec<LineDelta>,
}

/// The difference between two estimates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// One entry per cloud in either estimate, AWS first.
    pub clouds: Vec<CloudDelta>,
}

impl Delta {
    /// Whether any amount changed.
    pub fn is_empty(&self) -> bool {
        self.clouds
            .iter()
            .all(|c| c.lines.is_empty() && round_to(c.delta_usd, 4) == 0.0)
    }
}

/// Compares `base` with `head`.
pub fn compare(base: &Estimate, head: &Estimate) -> Delta {
    let mut clouds: Vec<Cloud> = base
        .clouds
        .iter()
        .chain(&head.clouds)
        .map(|c| c.cloud)
        .collect();
    clouds.sort();
    clouds.dedup();
    let clouds = clouds
        .into_iter()
        .map(|cloud| {
            let old = base.cloud(cloud);
            let new = head.cloud(cloud);
            let old_lines = old.map_or(&[][..], |c| c.lines.as_slice());
            let new_lines = new.map_or(&[][..], |c| c.lines.as_slice());
            let mut lines = Vec::new();
            for line in new_lines {
                let before = old_lines
                    .iter()
                    .find(|o| o.service == line.service && o.item == line.item);
                let delta = line.monthly_usd - before.map_or(0.0, |o| o.monthly_usd);
                if before.is_some() && round_to(delta, 4) == 0.0 {
                    continue;
                }
                lines.push(LineDelta {
                    service: line.service.clone(),
                    item: line.item.clone(),
                    change: if before.is_some() {
                        Change::Changed
                    } else {
                        Change::Added
                    },
                    base_usd: before.map(|o| o.monthly_usd),
                    head_usd: Some(line.monthly_usd),
                    delta_usd: delta,
                    base_quantity: before.map(|o| o.quantity),
                    base_unit: before.map(|o| o.unit.clone()),
                    head_quantity: Some(line.quantity),
                    head_unit: Some(line.unit.clone()),
                });
            }
            for line in old_lines {
                if !new_lines
                    .iter()
                    .any(|n| n.service == line.service && n.item == line.item)
                {
                    lines.push(LineDelta {
                        service: line.service.clone(),
                        item: line.item.clone(),
                        change: Change::Removed,
                        base_usd: Some(line.monthly_usd),
                        head_usd: None,
                        delta_usd: -line.monthly_usd,
                        base_quantity: Some(line.quantity),
                        base_unit: Some(line.unit.clone()),
                        head_quantity: None,
                        head_unit: None,
                    });
                }
            }
            let base_total = old.map(|c| c.total_usd);
            let head_total = new.map(|c| c.total_usd);
            CloudDelta {
                cloud,
                base_total_usd: base_total,
                head_total_usd: head_total,
                delta_usd: head_total.unwrap_or(0.0) - base_total.unwrap_or(0.0),
                lines,
            }
        })
        .collect();
    Delta { clouds }
}

fn opt_usd(value: Option<f64>) -> String {
    value.map_or_else(|| "-".to_owned(), format::usd)
}

fn percent(delta: &CloudDelta) -> String {
    match delta.base_total_usd {
        Some(base) if base > 0.0 => {
            let share = delta.delta_usd / base;
            let text = format::pct(share);
            if share > 0.0 && text != "0%" {
                format!("+{text}")
            } else {
                text
            }
        }
        _ => String::new(),
    }
}

/// The plain-text diff: totals per cloud, then the changed lines.
pub fn text(delta: &Delta) -> String {
    let mut out = String::from("Monthly cost change (base → head)\n");
    let mut rows = vec![
        ["Cloud", "Base", "Head", "Change", ""]
            .map(str::to_owned)
            .to_vec(),
    ];
    for cloud in &delta.clouds {
        rows.push(vec![
            cloud.cloud.to_string(),
            opt_usd(cloud.base_total_usd),
            opt_usd(cloud.head_total_usd),
            format::usd_delta(cloud.delta_usd),
            percent(cloud),
        ]);
    }
    out.push_str(&table(&rows, &[false, true, true, true, true], "  "));
    for cloud in &delta.clouds {
        if cloud.lines.is_empty() {
            continue;
        }
        let _ = writeln!(out, "\n{} lines", cloud.cloud);
        let mut rows = vec![
            ["Service", "Line item", "Quantity", "Base", "Head", "Change"]
                .map(str::to_owned)
                .to_vec(),
        ];
        for line in &cloud.lines {
            rows.push(vec![
                line.service.clone(),
                line.item.clone(),
                line.quantity_change(),
                opt_usd(line.base_usd),
                opt_usd(line.head_usd),
                format::usd_delta(line.delta_usd),
            ]);
        }
        out.push_str(&table(
            &rows,
            &[false, false, false, true, true, true],
            "  ",
        ));
    }
    if delta.is_empty() {
        out.push_str("\nThe estimate does not change.\n");
    }
    out
}

/// The markdown diff for a pull-request comment.
pub fn markdown(delta: &Delta) -> String {
    let mut out = String::from(
        "## Fleet cost change\n\n| Cloud | Base | Head | Change |\n|---|---:|---:|---:|\n",
    );
    for cloud in &delta.clouds {
        let pct = percent(cloud);
        let _ = writeln!(
            out,
            "| {} | {} | {} | **{}**{} |",
            cloud.cloud,
            md(&opt_usd(cloud.base_total_usd)),
            md(&opt_usd(cloud.head_total_usd)),
            md(&format::usd_delta(cloud.delta_usd)),
            if pct.is_empty() {
                String::new()
            } else {
                format!(" ({pct})")
            }
        );
    }
    for cloud in &delta.clouds {
        if cloud.lines.is_empty() {
            continue;
        }
        let _ = writeln!(
            out,
            "\n<details><summary>{}: {} changed lines</summary>\n\n| Service | Line item | Quantity | Base | Head | Change |\n|---|---|---|---:|---:|---:|",
            cloud.cloud,
            cloud.lines.len()
        );
        for line in &cloud.lines {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                md(&line.service),
                md(&line.item),
                md(&line.quantity_change()),
                md(&opt_usd(line.base_usd)),
                md(&opt_usd(line.head_usd)),
                md(&format::usd_delta(line.delta_usd))
            );
        }
        out.push_str("\n</details>\n");
    }
    if delta.is_empty() {
        out.push_str("\nThe estimate does not change.\n");
    }
    out
}

/// The JSON diff.
///
/// # Errors
///
/// Only if serialization fails, which plain data does not.
pub fn json(delta: &Delta) -> Result<String, serde_json::Error> {
    let mut out = serde_json::to_string_pretty(delta)?;
    out.push('\n');
    Ok(out)
}
