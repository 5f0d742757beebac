//! Renders an [`Estimate`] as a plain-text table, as markdown for a pull-request comment, or as
//! JSON.
//!
//! Rendering is pure and deterministic: the same estimate always gives the same bytes, so the
//! output can be snapshot-tested and diffed in CI. Money is shown to the cent here; the estimate
//! itself keeps exact amounts.

use std::fmt::Write as _;

use super::format;
use super::model::{Assumption, CloudEstimate, Estimate, Line};

/// Width at which prose (advice details, assumptions) wraps in text output.
const WRAP: usize = 100;

/// `--format json`: the estimate, pretty-printed, amounts rounded to four decimals.
///
/// # Errors
///
/// Only if serialization fails, which plain data does not.
pub fn json(estimate: &Estimate) -> Result<String, serde_json::Error> {
    let mut out = serde_json::to_string_pretty(estimate)?;
    out.push('\n');
    Ok(out)
}

/// Pads `cells` into aligned columns; `right[i]` right-aligns column `i`.
pub(crate) fn table(rows: &[Vec<String>], right: &[bool], indent: &str) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let mut line = String::from(indent);
        for (c, cell) in row.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let pad = widths[c] - cell.chars().count();
            if right.get(c).copied().unwrap_or(false) {
                line.push_str(&" ".repeat(pad));
                line.push_str(cell);
            } else {
                line.push_str(cell);
                line.push_str(&" ".repeat(pad));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Wraps `text` at [`WRAP`] columns, every line starting with `indent`.
pub(crate) fn wrap(text: &str, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::from(indent);
    for word in text.split_whitespace() {
        if line.len() > indent.len() && line.chars().count() + 1 + word.chars().count() > WRAP {
            out.push_str(&line);
            out.push('\n');
            line = String::from(indent);
        }
        if line.len() > indent.len() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push_str(&line);
    out.push('\n');
    out
}

fn unit_price(line: &Line) -> String {
    format!("{} / {}", format::price(line.unit_price_usd), line.unit)
}

fn cloud_title(cloud: &CloudEstimate) -> String {
    format!("{} ({})", cloud.cloud, cloud.region)
}

fn assumption_prefix(assumption: &Assumption) -> String {
    assumption
        .cloud
        .map_or_else(String::new, |cloud| format!("[{cloud}] "))
}

/// The plain-text report: one table per cloud, the totals side by side, advice, conventions and
/// assumptions.
pub fn text(estimate: &Estimate) -> String {
    let mut out = String::new();
    let c = &estimate.conventions;
    let _ = writeln!(
        out,
        "Monthly cost estimate, {} {} (price book {})",
        c.currency, c.price_basis, c.price_book_compiled
    );
    for cloud in &estimate.clouds {
        let _ = writeln!(out, "\n{}", cloud_title(cloud));
        let mut rows = vec![vec![
            "Service".to_owned(),
            "Line item".to_owned(),
            "Quantity".to_owned(),
            "Unit price".to_owned(),
            "Monthly".to_owned(),
        ]];
        for line in &cloud.lines {
            rows.push(vec![
                line.service.clone(),
                line.item.clone(),
                format::num(line.quantity),
                unit_price(line),
                format::usd(line.monthly_usd),
            ]);
        }
        rows.push(vec![
            String::new(),
            "Total".to_owned(),
            String::new(),
            String::new(),
            format::usd(cloud.total_usd),
        ]);
        out.push_str(&table(&rows, &[false, false, true, false, true], "  "));
    }
    if estimate.clouds.len() > 1 {
        out.push_str("\nSide by side\n");
        let mut header = vec![String::new()];
        let mut totals = vec!["Monthly total".to_owned()];
        for cloud in &estimate.clouds {
            header.push(cloud_title(cloud));
            totals.push(format::usd(cloud.total_usd));
        }
        let right: Vec<bool> = (0..header.len()).map(|i| i > 0).collect();
        out.push_str(&table(&[header, totals], &right, "  "));
    }
    if !estimate.advice.is_empty() {
        out.push_str(
            "\nAdvice (each saving priced by re-running the estimate; they do not add up)\n",
        );
        for advice in &estimate.advice {
            let _ = writeln!(
                out,
                "  [{}] {}: saves {}/month",
                advice.cloud,
                advice.title,
                format::usd(advice.monthly_saving_usd)
            );
            out.push_str(&wrap(&advice.detail, "      "));
        }
    }
    let _ = writeln!(
        out,
        "\nConventions: {} h/month, {} days/month, KB = {} B, GB = {} B (2^30).",
        format::num(c.hours_per_month),
        format::num(c.days_per_month),
        format::int(c.kb_bytes),
        format::int(c.gb_bytes)
    );
    out.push_str(&wrap(&format!("Excluded: {}.", c.excluded.join(", ")), ""));
    if !estimate.assumptions.is_empty() {
        out.push_str("\nAssumptions\n");
        for assumption in &estimate.assumptions {
            let text = format!("{}{}", assumption_prefix(assumption), assumption.text);
            let wrapped = wrap(&text, "    ");
            out.push_str("  -");
            out.push_str(&wrapped[3..]);
        }
    }
    out
}

/// Escapes text for a markdown table cell or paragraph: control characters as everywhere
/// (`diagnostics::escape::line`; price books and specs can come from a pull request), `|`
/// always, and `$`, `<`, `>`, `[` and `]` outside code spans (math, HTML and links).
pub(crate) fn md(text: &str) -> String {
    let text = crate::diagnostics::escape::line(text);
    let mut out = String::with_capacity(text.len());
    let mut in_code = false;
    for ch in text.chars() {
        match ch {
            '`' => {
                in_code = !in_code;
                out.push(ch);
            }
            '$' if !in_code => out.push_str("\\$"),
            '|' => out.push_str("\\|"),
            '<' if !in_code => out.push_str("&lt;"),
            '>' if !in_code => out.push_str("&gt;"),
            '[' | ']' if !in_code => {
                out.push('\\');
                out.push(ch);
            }
            _ => out.push(ch),
        }
    }
    out
}

/// The markdown report for a pull-request comment: totals side by side, a table per cloud,
/// arithmetic and assumptions folded away.
pub fn markdown(estimate: &Estimate) -> String {
    let mut out = String::from("## Fleet cost estimate\n\n");
    let c = &estimate.conventions;
    let _ = writeln!(
        out,
        "Monthly, {} {} (price book {}).\n",
        crate::diagnostics::escape::markdown(&c.currency),
        md(&c.price_basis),
        // Free text of a price book file, which a pull request can bring.
        crate::diagnostics::escape::markdown(&c.price_book_compiled)
    );
    if !estimate.clouds.is_empty() {
        let mut header = String::from("| |");
        let mut align = String::from("|---|");
        let mut totals = String::from("| **Monthly total** |");
        for cloud in &estimate.clouds {
            let _ = write!(header, " {} |", cloud_title(cloud));
            align.push_str("---:|");
            let _ = write!(totals, " **{}** |", md(&format::usd(cloud.total_usd)));
        }
        let _ = writeln!(out, "{header}\n{align}\n{totals}");
    }
    for cloud in &estimate.clouds {
        let _ = writeln!(
            out,
            "\n### {}: {} a month\n",
            cloud_title(cloud),
            md(&format::usd(cloud.total_usd))
        );
        out.push_str("| Service | Line item | Quantity | Unit price | Monthly |\n");
        out.push_str("|---|---|---:|---|---:|\n");
        for line in &cloud.lines {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} |",
                md(&line.service),
                md(&line.item),
                format::num(line.quantity),
                md(&unit_price(line)),
                md(&format::usd(line.monthly_usd))
            );
        }
        let _ = writeln!(
            out,
            "| | **Total** | | | **{}** |",
            md(&format::usd(cloud.total_usd))
        );
        out.push_str("\n<details><summary>Arithmetic</summary>\n\n");
        for line in &cloud.lines {
            let _ = writeln!(
                out,
                "- **{} · {}** ({} confidence): {}",
                md(&line.service),
                md(&line.item),
                line.confidence.as_str().replace('_', "-"),
                md(&line.arithmetic)
            );
        }
        out.push_str("\n</details>\n");
    }
    if !estimate.advice.is_empty() {
        out.push_str("\n### Advice\n\nEach saving is priced by re-running the estimate with the change; they do not add up.\n\n");
        for advice in &estimate.advice {
            let _ = writeln!(
                out,
                "- **{}: {}** saves **{}** a month. {}",
                advice.cloud,
                md(&advice.title),
                md(&format::usd(advice.monthly_saving_usd)),
                md(&advice.detail)
            );
        }
    }
    out.push_str("\n<details><summary>Conventions and assumptions</summary>\n\n");
    let _ = writeln!(
        out,
        "- Conventions: {} hours and {} days a month, KB = {} B, GB = {} B (2^30).",
        format::num(c.hours_per_month),
        format::num(c.days_per_month),
        format::int(c.kb_bytes),
        format::int(c.gb_bytes)
    );
    let _ = writeln!(out, "- Excluded: {}.", md(&c.excluded.join(", ")));
    for assumption in &estimate.assumptions {
        let _ = writeln!(
            out,
            "- {}{}",
            assumption_prefix(assumption),
            md(&assumption.text)
        );
    }
    out.push_str("\n</details>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_escapes_outside_code() {
        assert_eq!(
            md("costs $5 | `$aws/rules/<r>`"),
            "costs \\$5 \\| `$aws/rules/<r>`"
        );
        assert_eq!(md("a <b>"), "a &lt;b&gt;");
    }

    #[test]
    fn wraps_prose() {
        let text = "word ".repeat(40);
        let wrapped = wrap(&text, "  ");
        assert!(wrapped.lines().all(|l| l.chars().count() <= WRAP));
        assert!(wrapped.lines().all(|l| l.starts_with("  word")));
    }

    #[test]
    fn aligns_tables() {
        let rows = vec![
            vec!["a".to_owned(), "1".to_owned()],
            vec!["bbb".to_owned(), "22".to_owned()],
        ];
        assert_eq!(table(&rows, &[false, true], ""), "a     1\nbbb  22\n");
    }
}
