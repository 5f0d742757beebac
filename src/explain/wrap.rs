//! Wrapping Markdown for a terminal without breaking it: list items continue under their
//! text; headings, tables and code blocks stay as they are.

/// Wraps long lines at spaces for a terminal, keeping Markdown intact: list items continue
/// under their text, headings, tables and code blocks are left alone.
pub fn wrap_markdown(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 16);
    let mut fenced = false;
    for line in text.lines() {
        if line.starts_with("```") {
            fenced = !fenced;
        }
        let keep = fenced
            || line.starts_with('#')
            || line.starts_with('|')
            || line.chars().count() <= width;
        if keep {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        let marker = list_marker(body);
        let first_prefix = &line[..indent];
        let rest_prefix = " ".repeat(indent + marker);
        let mut current = String::from(first_prefix);
        let mut current_len = indent;
        let mut at_start = true;
        for word in body.split(' ') {
            let wlen = word.chars().count();
            if !at_start && current_len + 1 + wlen > width {
                out.push_str(current.trim_end());
                out.push('\n');
                current.clone_from(&rest_prefix);
                current_len = rest_prefix.len();
                at_start = true;
            }
            if !at_start {
                current.push(' ');
                current_len += 1;
            }
            current.push_str(word);
            current_len += wlen;
            at_start = false;
        }
        out.push_str(current.trim_end());
        out.push('\n');
    }
    out
}

/// Width of a list marker (`- `, `1. `, `12. `) at the start of `line`, or 0.
fn list_marker(line: &str) -> usize {
    if line.starts_with("- ") || line.starts_with("* ") {
        return 2;
    }
    let digits = line.chars().take_while(char::is_ascii_digit).count();
    if digits > 0 && line[digits..].starts_with(". ") {
        digits + 2
    } else {
        0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_lists_under_their_text() {
        let text =
            "- one two three four five six\nshort\n```\nlong code line stays as it is\n```\n";
        assert_eq!(
            wrap_markdown(text, 12),
            "- one two\n  three four\n  five six\nshort\n```\nlong code line stays as it is\n```\n"
        );
        assert_eq!(wrap_markdown("10. aa bb cc\n", 9), "10. aa bb\n    cc\n");
    }
}
