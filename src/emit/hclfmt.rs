//! The last mile to `terraform fmt`: turning hcl-rs output into what `terraform fmt` writes.
//!
//! hcl-rs prints valid HCL but not Terraform's canonical layout: it does not align `=` in
//! runs of attributes, prints empty blocks as `{  }` and object `for` expressions as
//! `{for ...}`. Users run `terraform fmt -check` in pre-commit hooks, so every generated file
//! must be byte-identical to what `terraform fmt` would write. This pass does exactly the
//! rewrites needed, following hclwrite's `format.go`: an attribute line joins the current
//! alignment run only when its value closes all the brackets it opens; any other line
//! (blank, comment, block, multi-line value) ends the run. It also turns the comment
//! sentinels of [`crate::plan::tf::comment`] into `#` comments. Tests compare its output
//! with `terraform fmt` itself on every example.

use crate::plan::tf::COMMENT_SENTINEL;

/// Formats hcl-rs output the way `terraform fmt` would.
pub fn terraform_fmt(src: &str) -> String {
    let mut lines: Vec<String> = Vec::new();
    for line in src.lines() {
        let line = rewrite_line(line);
        // hcl-rs separates an attribute from a following block with a blank line; a comment
        // (an attribute until now) belongs to the block under it, so keep them together.
        if !line.trim().is_empty() && lines.len() >= 2 {
            let n = lines.len();
            if lines[n - 1].trim().is_empty() && lines[n - 2].trim_start().starts_with('#') {
                lines.pop();
            }
        }
        lines.push(line);
    }
    let mut out = align(&lines);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out
}

/// Per-line rewrites: comments, empty blocks, `for` object spacing.
fn rewrite_line(line: &str) -> String {
    let indent_len = line.len() - line.trim_start().len();
    let (indent, body) = line.split_at(indent_len);
    if let Some(rest) = body.strip_prefix(COMMENT_SENTINEL)
        && let Some(text) = rest.trim_start().strip_prefix('=').map(str::trim)
    {
        return format!("{indent}# {}", decode_string(text));
    }
    let mut body = body.to_owned();
    // An empty block prints as `name {  }` (more spaces when nested); terraform fmt wants `{}`.
    if let Some(open) = body.strip_suffix('}').map(str::trim_end)
        && open.ends_with('{')
        && open.len() + 1 < body.len()
    {
        body = format!("{open}}}");
    }
    format!("{indent}{}", space_for_objects(&body))
}

/// Decodes the quoted HCL string hcl-rs wrote for a comment sentinel.
fn decode_string(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .unwrap_or(quoted);
    let mut out = String::with_capacity(inner.len());
    let mut rest = inner;
    while let Some(c) = rest.chars().next() {
        if let Some(after) = rest
            .strip_prefix("$${")
            .or_else(|| rest.strip_prefix("%%{"))
        {
            // `$${` and `%%{` are the escapes of `${` and `%{`.
            out.push(c);
            out.push('{');
            rest = after;
            continue;
        }
        rest = &rest[c.len_utf8()..];
        if c == '\\' {
            if let Some(next) = rest.chars().next() {
                out.push(if matches!(next, 'n' | 't' | 'r') {
                    ' '
                } else {
                    next
                });
                rest = &rest[next.len_utf8()..];
            }
            continue;
        }
        out.push(c);
    }
    out
}

/// `{for k, v in x : k => v}` becomes `{ for k, v in x : k => v }`, outside strings.
fn space_for_objects(line: &str) -> String {
    if !line.contains("{for ") {
        return line.to_owned();
    }
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len() + 4);
    let mut stack: Vec<bool> = Vec::new(); // true when the `{` opened a for-object
    let mut in_string = false;
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if in_string {
            // Copy whole characters: strings hold any Unicode.
            let ch = line[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
            if ch == '\\' {
                if let Some(next) = line[i..].chars().next() {
                    out.push(next);
                    i += next.len_utf8();
                }
                continue;
            }
            if ch == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            b'"' => {
                in_string = true;
                out.push('"');
            }
            b'{' => {
                let is_for = line[i + 1..].starts_with("for ");
                stack.push(is_for);
                out.push_str(if is_for { "{ " } else { "{" });
            }
            b'}' => {
                if stack.pop() == Some(true) {
                    out.push_str(" }");
                } else {
                    out.push('}');
                }
            }
            _ => {
                // Multi-byte characters are copied whole.
                let ch = line[i..].chars().next().unwrap_or(' ');
                out.push(ch);
                i += ch.len_utf8();
                continue;
            }
        }
        i += 1;
    }
    out
}

/// Net bracket change of a line, ignoring brackets inside strings.
fn bracket_change(s: &str) -> i32 {
    let mut net = 0;
    let mut in_string = false;
    let mut escaped = false;
    for c in s.chars() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '{' | '[' | '(' => net += 1,
            '}' | ']' | ')' => net -= 1,
            _ => {}
        }
    }
    net
}

/// Splits an attribute line into its lead (`  name`) and the rest (`= value`), when the line
/// is an attribute whose value ends on the same line.
fn split_assign(line: &str) -> Option<(&str, &str)> {
    let trimmed = line.trim_start();
    if trimmed.starts_with('#') || trimmed.starts_with("//") {
        return None;
    }
    // The lead is an identifier or a quoted key, then spaces, then `=` (not `==` or `=>`).
    let key_end = if trimmed.starts_with('"') {
        let mut escaped = false;
        let mut end = None;
        for (i, c) in trimmed.char_indices().skip(1) {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => {
                    end = Some(i + 1);
                    break;
                }
                _ => {}
            }
        }
        end?
    } else {
        trimmed
            .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(trimmed.len())
    };
    if key_end == 0 {
        return None;
    }
    let after = &trimmed[key_end..];
    let spaces = after.len() - after.trim_start().len();
    let rest = &after[spaces..];
    if !rest.starts_with('=') || rest.starts_with("==") || rest.starts_with("=>") {
        return None;
    }
    if bracket_change(rest) != 0 {
        return None;
    }
    let lead_len = line.len() - trimmed.len() + key_end;
    Some((&line[..lead_len], rest))
}

/// Aligns `=` across runs of consecutive single-line attributes.
fn align(lines: &[String]) -> String {
    let mut out = String::new();
    let mut run: Vec<(&str, &str)> = Vec::new();
    let flush = |run: &mut Vec<(&str, &str)>, out: &mut String| {
        let width = run
            .iter()
            .map(|(lead, _)| lead.chars().count())
            .max()
            .unwrap_or(0);
        for (lead, rest) in run.drain(..) {
            out.push_str(lead);
            for _ in lead.chars().count()..width {
                out.push(' ');
            }
            out.push(' ');
            out.push_str(rest);
            out.push('\n');
        }
    };
    for line in lines {
        if let Some(parts) = split_assign(line) {
            run.push(parts);
        } else {
            flush(&mut run, &mut out);
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
    flush(&mut run, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_runs_and_breaks_on_multiline_values() {
        let src = "x {\n  a = 1\n  bbb = \"=\"\n  tags = {\n    k = \"v\"\n    long = 2\n  }\n  c = 3\n}\n";
        let want = "x {\n  a   = 1\n  bbb = \"=\"\n  tags = {\n    k    = \"v\"\n    long = 2\n  }\n  c = 3\n}\n";
        assert_eq!(terraform_fmt(src), want);
    }

    #[test]
    fn fixes_empty_blocks_and_for_objects() {
        assert_eq!(
            terraform_fmt("a {\n  features {  }\n}\n"),
            "a {\n  features {}\n}\n"
        );
        assert_eq!(
            terraform_fmt("x = {for k, v in y : k => \"{for \"}\n"),
            "x = { for k, v in y : k => \"{for \" }\n"
        );
        assert_eq!(
            terraform_fmt("a {\n  b {\n    c {      }\n  }\n}\n"),
            "a {\n  b {\n    c {}\n  }\n}\n"
        );
        assert_eq!(terraform_fmt("x = {}\n"), "x = {}\n");
    }

    #[test]
    fn comments_from_sentinels() {
        let src = format!("  {COMMENT_SENTINEL} = \"checkov:skip=CKV_X: why $${{y}}\"\n  a = 1\n");
        assert_eq!(
            terraform_fmt(&src),
            "  # checkov:skip=CKV_X: why ${y}\n  a = 1\n"
        );
        let before_block = format!("{COMMENT_SENTINEL} = \"why\"\n\nresource \"a\" \"b\" {{}}\n");
        assert_eq!(
            terraform_fmt(&before_block),
            "# why\nresource \"a\" \"b\" {}\n"
        );
    }
}
