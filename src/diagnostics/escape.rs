//! Escaping untrusted text for where it is shown: terminals and CI logs, markdown, JSON.
//!
//! Spec values, registry rows, price book entries and the files of an output folder can come
//! from a pull request. Echoed raw, a control character moves the cursor, an ANSI escape
//! (`ESC [ ... m`) recolours, hides or rewrites what a reviewer reads in a terminal or a CI log,
//! and a bidirectional override reorders it. So every message and every rendering passes
//! untrusted text through one of these functions, by the rules of where it goes:
//!
//! - [`line()`] for one-line messages: every control character becomes a visible escape
//!   (`\n`, `\t`, `\r`, `\u{1b}`), so a value can neither colour the log nor start a fake line;
//! - [`text()`] for multi-line text (source snippets, file diffs, reports): newlines and tabs
//!   stay, everything else is escaped as in [`line()`];
//! - [`markdown`] and [`markdown_code`] for pull-request comments and READMEs: [`line()`]'s
//!   escapes, plus markdown's own (backslash escapes outside code, a long enough fence inside);
//! - [`json_pretty`] for JSON: `serde_json` already escapes C0 controls by JSON's rules; DEL, C1
//!   controls, line separators and bidirectional controls, which JSON allows raw, are written
//!   as `\uXXXX` too.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` is shown escaped. `multiline` keeps newline and tab.
fn unsafe_char(c: char, multiline: bool) -> bool {
    match c {
        '\n' | '\t' => !multiline,
        // C0 controls, DEL and C1 controls (U+009B is a CSI of its own).
        c if c.is_control() => true,
        // Line and paragraph separators, and the bidirectional embeddings, overrides and
        // isolates (CVE-2021-42574).
        '\u{2028}' | '\u{2029}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' => true,
        _ => false,
    }
}

fn push_escape(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str("\\n"),
        '\t' => out.push_str("\\t"),
        '\r' => out.push_str("\\r"),
        c => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
}

fn escape_with(s: &str, multiline: bool) -> Cow<'_, str> {
    let risky = |(i, c): (usize, char)| {
        unsafe_char(c, multiline) && !(multiline && c == '\r' && s[i + 1..].starts_with('\n'))
    };
    if !s.char_indices().any(risky) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for (i, c) in s.char_indices() {
        if risky((i, c)) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One line of text for a terminal or a log: every control character escaped.
pub fn line(s: &str) -> Cow<'_, str> {
    escape_with(s, false)
}

/// Multi-line text for a terminal or a log: newlines and tabs kept (and `\r` before `\n`, so
/// CRLF files stay readable), every other control character escaped.
pub fn text(s: &str) -> Cow<'_, str> {
    escape_with(s, true)
}

/// [`text()`] with a map from byte offsets in `s` to byte offsets in the result, for source
/// snippets whose labels point into the original text. `None` when nothing needs escaping.
pub(crate) fn text_with_offsets(s: &str) -> Option<(String, Offsets)> {
    let Cow::Owned(escaped) = text(s) else {
        return None;
    };
    let mut shifts = Vec::new();
    let mut extra = 0usize;
    for (i, c) in s.char_indices() {
        let lone_cr = c == '\r' && !s[i + 1..].starts_with('\n');
        if (unsafe_char(c, true) && c != '\r') || lone_cr {
            let mut e = String::new();
            push_escape(&mut e, c);
            extra += e.len() - c.len_utf8();
            shifts.push((i + c.len_utf8(), extra));
        }
    }
    Some((escaped, Offsets(shifts)))
}

/// Where original byte offsets land after escaping (see [`text_with_offsets`]).
#[derive(Debug, Clone)]
pub(crate) struct Offsets(Vec<(usize, usize)>);

impl Offsets {
    /// The escaped offset of original offset `at` (the start of an escape for an escaped char).
    pub(crate) fn map(&self, at: usize) -> usize {
        let before = self.0.partition_point(|(end, _)| *end <= at);
        at + if before == 0 { 0 } else { self.0[before - 1].1 }
    }
}

/// Text for a markdown paragraph, list item or table cell: escaped as by [`line()`], and each
/// character markdown could read as syntax (emphasis, links, HTML, code, tables, math)
/// backslash-escaped, so a value shows as itself and cannot open a link, a tag or a cell.
pub fn markdown(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    for c in line(s).chars() {
        if matches!(
            c,
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '~' | '$' | '#' | '!' | '&'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// An inline code span showing `s` literally: line breaks become spaces (as markdown itself
/// treats them inside code), other control characters are escaped as by [`line()`], and the
/// fence is one backtick more than the longest run of backticks inside (padded with spaces
/// where `s` starts or ends with one). `in_table` also escapes `|`, which GitHub reads as a
/// cell border even in code.
pub fn markdown_code(s: &str, in_table: bool) -> String {
    let flat = s.trim().replace("\r\n", " ").replace(['\n', '\r'], " ");
    let inner = line(&flat).into_owned();
    let inner = if in_table {
        inner.replace('|', "\\|")
    } else {
        inner
    };
    let mut longest = 0;
    let mut run = 0;
    for c in inner.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest + 1);
    let pad = if inner.starts_with('`') || inner.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{fence}{pad}{inner}{pad}{fence}")
}

/// Pretty JSON like `serde_json::to_string_pretty`, with the characters JSON allows raw but
/// terminals act on (DEL, C1 controls, line separators, bidirectional controls) written as
/// `\uXXXX` escapes.
///
/// # Errors
///
/// Only if `value`'s `Serialize` implementation fails.
pub fn json_pretty<T: serde::Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    let mut buf = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(
        &mut buf,
        SafeFormatter(serde_json::ser::PrettyFormatter::new()),
    );
    value.serialize(&mut ser)?;
    // The serializer writes valid UTF-8 only.
    Ok(String::from_utf8(buf).unwrap_or_default())
}

/// `PrettyFormatter`, escaping more characters inside strings.
struct SafeFormatter<'a>(serde_json::ser::PrettyFormatter<'a>);

macro_rules! delegate {
    ($($name:ident($($arg:ident: $ty:ty),*);)*) => {$(
        fn $name<W: ?Sized + std::io::Write>(&mut self, w: &mut W $(, $arg: $ty)*) -> std::io::Result<()> {
            self.0.$name(w $(, $arg)*)
        }
    )*};
}

impl serde_json::ser::Formatter for SafeFormatter<'_> {
    delegate! {
        begin_array();
        end_array();
        begin_array_value(first: bool);
        end_array_value();
        begin_object();
        end_object();
        begin_object_key(first: bool);
        begin_object_value();
        end_object_value();
    }

    fn write_string_fragment<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        fragment: &str,
    ) -> std::io::Result<()> {
        let mut start = 0;
        for (i, c) in fragment.char_indices() {
            if unsafe_char(c, false) {
                w.write_all(&fragment.as_bytes()[start..i])?;
                write!(w, "\\u{:04x}", c as u32)?;
                start = i + c.len_utf8();
            }
        }
        w.write_all(&fragment.as_bytes()[start..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_escapes() {
        assert_eq!(line("plain text"), "plain text");
        assert!(matches!(line("plain"), Cow::Borrowed(_)));
        assert_eq!(line("a\u{1b}[31mred\nb\tc\r"), "a\\u{1b}[31mred\\nb\\tc\\r");
        assert_eq!(
            line("\u{9b}2J \u{7f} \u{202e}x"),
            "\\u{9b}2J \\u{7f} \\u{202e}x"
        );
        assert_eq!(text("a\r\nb\n\tc\rd\u{1b}"), "a\r\nb\n\tc\\rd\\u{1b}");
        assert_eq!(line("é 🚀 עברית"), "é 🚀 עברית");
    }

    #[test]
    fn offsets_follow_the_escapes() {
        let s = "ab\u{1b}cd\re\r\nf";
        let (escaped, offsets) = text_with_offsets(s).unwrap();
        assert_eq!(escaped, "ab\\u{1b}cd\\re\r\nf");
        for (i, c) in s.char_indices() {
            let j = offsets.map(i);
            if !c.is_control() {
                assert_eq!(escaped[j..].chars().next(), Some(c), "offset {i}");
            }
        }
        assert_eq!(offsets.map(s.len()), escaped.len());
        assert!(text_with_offsets("fine\n").is_none());
    }

    #[test]
    fn markdown_escapes() {
        assert_eq!(
            markdown("<img src=x> [a](b) *c* `d` | $e$ \u{1b}"),
            "\\<img src=x\\> \\[a\\](b) \\*c\\* \\`d\\` \\| \\$e\\$ \\\\u{1b}"
        );
        assert_eq!(markdown_code("a `b` c", false), "``a `b` c``");
        assert_eq!(markdown_code("`x", false), "`` `x ``");
        assert_eq!(markdown_code("a|b\nc\u{1b}", true), "`a\\|b c\\u{1b}`");
        assert_eq!(markdown_code("x > 1 and\n  y\n", false), "`x > 1 and   y`");
    }

    #[test]
    fn json_escapes_what_terminals_act_on() {
        let v = serde_json::json!({"m\u{9b}": "a\u{1b}b\u{7f}\u{202e}c\u{2028}é"});
        let s = json_pretty(&v).unwrap();
        assert_eq!(
            s,
            "{\n  \"m\\u009b\": \"a\\u001bb\\u007f\\u202ec\\u2028é\"\n}"
        );
        assert_eq!(serde_json::from_str::<serde_json::Value>(&s).unwrap(), v);
    }
}
