//! JSON text written directly, for data files of a million lines.
//!
//! Registry data files (`registry/devices.json`, the clouds' bulk-registration inputs) have
//! one small object per device. Building a `serde_json::Value` per device costs an allocation
//! per key; writing the text straight into a reused buffer costs none. The escaping is JSON's
//! (RFC 8259 §7): `"` and `\` escaped, control characters as `\n`, `\t`... or `\u00XX`, every
//! other character as it is, so the output is valid UTF-8 JSON that any parser reads back to
//! the same strings (tested against `serde_json`).

/// Appends `s` as a JSON string, quotes included.
pub fn push_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escape: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if escape.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 0xf)]);
        } else {
            out.extend_from_slice(escape);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Appends `"key":` (the key escaped).
pub fn push_key(out: &mut Vec<u8>, key: &str) {
    push_str(out, key);
    out.push(b':');
}

/// Appends a JSON object of string values: `{"a":"1","b":"2"}`.
pub fn push_object<'a>(out: &mut Vec<u8>, pairs: impl IntoIterator<Item = (&'a str, &'a str)>) {
    out.push(b'{');
    for (i, (k, v)) in pairs.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_key(out, k);
        push_str(out, v);
    }
    out.push(b'}');
}

/// Appends a JSON array of strings: `["a","b"]`.
pub fn push_array<'a>(out: &mut Vec<u8>, items: impl IntoIterator<Item = &'a str>) {
    out.push(b'[');
    for (i, s) in items.into_iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        push_str(out, s);
    }
    out.push(b']');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_read_back_through_serde_json() {
        let nasty = [
            "plain",
            "",
            "quote \" and \\ backslash",
            "new\nline\r\ttab",
            "\u{0}\u{1}\u{1f}\u{7f}",
            "ünïcödé ✓ 🚀",
            "${var.x} %{if}",
            "</script>",
        ];
        for s in nasty {
            let mut out = Vec::new();
            push_str(&mut out, s);
            let back: String = serde_json::from_slice(&out).unwrap();
            assert_eq!(back, s);
        }
    }

    #[test]
    fn objects_and_arrays_parse() {
        let mut out = Vec::new();
        push_object(&mut out, [("a", "1"), ("b\"", "x\ny")]);
        let v: serde_json::Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(v, serde_json::json!({"a": "1", "b\"": "x\ny"}));
        out.clear();
        push_array(&mut out, ["a", "b"]);
        assert_eq!(out, br#"["a","b"]"#);
        out.clear();
        push_object(&mut out, []);
        assert_eq!(out, b"{}");
    }
}
