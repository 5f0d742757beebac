//! Number formatting for arithmetic strings and renderers.
//!
//! One place decides how money, prices and quantities look, so text, markdown and the
//! `arithmetic` field agree and snapshots stay stable.

/// Groups the digits of a non-negative integer string in threes: `87600000` → `87,600,000`.
fn group(digits: &str) -> String {
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, ch) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

/// `value` with `decimals` fixed decimals (rounded half away from zero) and grouped thousands;
/// trailing zeros are trimmed down to `min_decimals`.
///
/// The value is first rounded four places further, so binary noise such as
/// `9.124999999999998` (7.3 × 1.25) shows as `9.13`, like the decimal it stands for.
fn fixed(value: f64, decimals: usize, min_decimals: usize) -> String {
    let places = i32::try_from(decimals).unwrap_or(i32::MAX);
    let cleaned = (value.abs() * 10f64.powi(places + 4)).round() / 10f64.powi(places + 4);
    let scaled = (cleaned * 10f64.powi(places)).round() as u128;
    let pow = 10u128.pow(u32::try_from(decimals).unwrap_or(u32::MAX));
    let int_part = (scaled / pow).to_string();
    let mut frac = if decimals == 0 {
        String::new()
    } else {
        format!("{:0width$}", scaled % pow, width = decimals)
    };
    while frac.len() > min_decimals && frac.ends_with('0') {
        frac.pop();
    }
    let sign = if value < 0.0 && scaled != 0 { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{}", group(&int_part))
    } else {
        format!("{sign}{}.{frac}", group(&int_part))
    }
}

/// A byte count: plain bytes below 10 KB, else the largest binary unit that keeps it at least
/// 1: `1,500 B`, `64 KB`, `14.31 MB`.
pub fn bytes(value: f64) -> String {
    const UNITS: [&str; 4] = ["KB", "MB", "GB", "TB"];
    if value < 10_240.0 {
        return format!("{} B", num(value));
    }
    let mut scaled = value / 1024.0;
    let mut unit = UNITS[0];
    for next in &UNITS[1..] {
        if scaled < 1024.0 {
            break;
        }
        scaled /= 1024.0;
        unit = next;
    }
    format!("{} {unit}", fixed(scaled, 2, 0))
}

/// A quantity: grouped thousands, up to four decimals, no trailing zeros (`30.4167`, `438`).
pub fn num(value: f64) -> String {
    fixed(value, 4, 0)
}

/// A whole number with grouped thousands.
pub fn int(value: u64) -> String {
    group(&value.to_string())
}

/// Money rounded to cents: `$1,234.56`, `-$0.50`.
pub fn usd(value: f64) -> String {
    let text = fixed(value, 2, 2);
    match text.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${text}"),
    }
}

/// Money with up to four decimals, at least two, as used in arithmetic: `$9.125`, `$1.2264`.
pub fn usd4(value: f64) -> String {
    let text = fixed(value, 4, 2);
    match text.strip_prefix('-') {
        Some(rest) => format!("-${rest}"),
        None => format!("${text}"),
    }
}

/// A signed change in money: `+$12.34`, `-$0.50`, `$0.00`.
pub fn usd_delta(value: f64) -> String {
    let text = usd(value);
    if text.starts_with('-') || text == "$0.00" {
        text
    } else {
        format!("+{text}")
    }
}

/// A unit price with as many decimals as it needs (up to ten, at least two): `$0.00099`.
pub fn price(value: f64) -> String {
    format!("${}", fixed(value, 10, 2))
}

/// A share as a percentage with up to two decimals: `2.5%`.
pub fn pct(share: f64) -> String {
    format!("{}%", fixed(share * 100.0, 2, 0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(num(87_600_000.0), "87,600,000");
        assert_eq!(num(730.0 / 24.0), "30.4167");
        assert_eq!(num(0.5), "0.5");
        assert_eq!(num(999.99999), "1,000");
        assert_eq!(int(1_234_567), "1,234,567");
        assert_eq!(int(12), "12");
        assert_eq!(usd(182.133_4), "$182.13");
        assert_eq!(usd(1_234.5), "$1,234.50");
        assert_eq!(usd(-0.5), "-$0.50");
        assert_eq!(usd(-0.001), "$0.00");
        assert_eq!(usd4(9.125), "$9.125");
        assert_eq!(usd(7.3 * 1.25), "$9.13");
        assert_eq!(usd(0.125), "$0.13");
        assert_eq!(bytes(1_500.0), "1,500 B");
        assert_eq!(bytes(65_536.0), "64 KB");
        assert_eq!(bytes(15_000_000.0), "14.31 MB");
        assert_eq!(usd4(35.04), "$35.04");
        assert_eq!(usd_delta(3.0), "+$3.00");
        assert_eq!(usd_delta(-3.0), "-$3.00");
        assert_eq!(usd_delta(0.001), "$0.00");
        assert_eq!(price(0.00099), "$0.00099");
        assert_eq!(price(0.000_016_666_7), "$0.0000166667");
        assert_eq!(price(25.0), "$25.00");
        assert_eq!(pct(0.025), "2.5%");
        assert_eq!(pct(0.0), "0%");
    }
}
