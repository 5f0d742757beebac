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

/// `value` with `decimals` fixed decimals and grouped thousands; trailing zeros are trimmed down
/// to `min_decimals`.
fn fixed(value: f64, decimals: usize, min_decimals: usize) -> String {
    let text = format!("{:.*}", decimals, value.abs());
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let mut frac = frac_part.trim_end_matches('0').to_owned();
    while frac.len() < min_decimals {
        frac.push('0');
    }
    let negative = value < 0.0 && text.chars().any(|c| c.is_ascii_digit() && c != '0');
    let sign = if negative { "-" } else { "" };
    if frac.is_empty() {
        format!("{sign}{}", group(int_part))
    } else {
        format!("{sign}{}.{frac}", group(int_part))
    }
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
