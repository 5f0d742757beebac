//! Route and alert conditions: one small language, two cloud dialects.
//!
//! A spec says `temperature > 80 and status = 'ok'` once; AWS IoT rules want SQL
//! (`temperature > 80 AND status = 'ok'`) and IoT Hub routes want a routing query
//! (`$body.temperature > 80 AND $body.status = 'ok'`). Parsing the neutral form into an AST
//! lets fleetform check it up front (with the column of the mistake) and render each dialect
//! from the same tree, instead of pasting user text into either.

use std::fmt::{self, Write as _};

/// A parsed condition.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Or(Box<Expr>, Box<Expr>),
    And(Box<Expr>, Box<Expr>),
    Not(Box<Expr>),
    Compare {
        field: Field,
        op: Op,
        value: Literal,
    },
    /// A boolean field on its own: `alarm`.
    Truthy(Field),
    Bool(bool),
}

/// A dotted path into the JSON message body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Field(pub Vec<String>);

/// Comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

/// A literal operand.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Text(String),
    Bool(bool),
}

/// A syntax error at a character offset of the condition text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionError {
    /// Byte offset into the condition text.
    pub offset: usize,
    pub message: String,
}

/// The dialect to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// AWS IoT SQL (version 2016-03-23) `WHERE` clause.
    AwsIotSql,
    /// Azure IoT Hub message routing query.
    IotHubRouting,
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Num(f64),
    Str(String),
    Op(Op),
    And,
    Or,
    Not,
    True,
    False,
    LParen,
    RParen,
    End,
}

const MAX_CONDITION_BYTES: usize = 1024;

/// The Unicode bidirectional embeddings, overrides and isolates (CVE-2021-42574).
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}
const MAX_DEPTH: usize = 32;

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ConditionError> {
    let err = |offset, message: &str| ConditionError {
        offset,
        message: message.to_owned(),
    };
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        let start = i;
        match c {
            // Any ASCII whitespace: YAML block scalars (`condition: >`) end in a newline.
            c if c.is_ascii_whitespace() => i += 1,
            b'(' => {
                out.push((start, Tok::LParen));
                i += 1;
            }
            b')' => {
                out.push((start, Tok::RParen));
                i += 1;
            }
            b'=' => {
                i += if bytes.get(i + 1) == Some(&b'=') {
                    2
                } else {
                    1
                };
                out.push((start, Tok::Op(Op::Eq)));
            }
            b'!' | b'<' | b'>' => {
                let next = bytes.get(i + 1).copied();
                let (op, len) = match (c, next) {
                    (b'!', Some(b'=')) | (b'<', Some(b'>')) => (Op::Ne, 2),
                    (b'<', Some(b'=')) => (Op::Le, 2),
                    (b'>', Some(b'=')) => (Op::Ge, 2),
                    (b'<', _) => (Op::Lt, 1),
                    (b'>', _) => (Op::Gt, 1),
                    _ => return Err(err(start, "`!` must be followed by `=`")),
                };
                out.push((start, Tok::Op(op)));
                i += len;
            }
            b'\'' => {
                let mut text = String::new();
                i += 1;
                loop {
                    match bytes.get(i) {
                        None => return Err(err(start, "unterminated string: add a closing `'`")),
                        Some(b'\'') if bytes.get(i + 1) == Some(&b'\'') => {
                            text.push('\'');
                            i += 2;
                        }
                        Some(b'\'') => {
                            i += 1;
                            break;
                        }
                        Some(_) => {
                            let ch = src[i..].chars().next().unwrap_or('\0');
                            if ch.is_control() || matches!(ch, '\u{2028}' | '\u{2029}') {
                                return Err(err(
                                    i,
                                    "strings may not contain control characters or line breaks",
                                ));
                            }
                            if is_bidi_control(ch) {
                                return Err(err(
                                    i,
                                    "strings may not contain bidirectional control characters (they make text read differently from what it is)",
                                ));
                            }
                            text.push(ch);
                            i += ch.len_utf8();
                        }
                    }
                }
                out.push((start, Tok::Str(text)));
            }
            b'"' => return Err(err(start, "use single quotes for strings: `'text'`")),
            b'0'..=b'9' | b'-' | b'.' => {
                i += 1;
                while i < bytes.len() && matches!(bytes[i], b'0'..=b'9' | b'.' | b'e' | b'E') {
                    i += 1;
                }
                let n: f64 = src[start..i]
                    .parse()
                    .map_err(|_| err(start, "not a number"))?;
                if !n.is_finite() {
                    return Err(err(start, "number out of range"));
                }
                out.push((start, Tok::Num(n)));
            }
            c if c.is_ascii_alphabetic() || c == b'_' => {
                while i < bytes.len()
                    && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_' || bytes[i] == b'.')
                {
                    i += 1;
                }
                let word = &src[start..i];
                let tok = match word.to_ascii_lowercase().as_str() {
                    "and" => Tok::And,
                    "or" => Tok::Or,
                    "not" => Tok::Not,
                    "true" => Tok::True,
                    "false" => Tok::False,
                    _ => {
                        if word.ends_with('.') || word.contains("..") {
                            return Err(err(start, "a field path cannot have an empty segment"));
                        }
                        Tok::Ident(word.to_owned())
                    }
                };
                out.push((start, tok));
            }
            _ => {
                let ch = src[i..].chars().next().unwrap_or('?');
                return Err(ConditionError {
                    offset: start,
                    message: format!(
                        "unexpected character `{}`; conditions use fields, numbers, 'strings', = != < <= > >=, and, or, not",
                        ch.escape_default()
                    ),
                });
            }
        }
    }
    out.push((src.len(), Tok::End));
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    depth: usize,
}

impl Parser {
    fn peek(&self) -> &Tok {
        &self.toks[self.pos].1
    }
    fn offset(&self) -> usize {
        self.toks[self.pos].0
    }
    fn bump(&mut self) -> Tok {
        let t = self.toks[self.pos].1.clone();
        if self.pos + 1 < self.toks.len() {
            self.pos += 1;
        }
        t
    }
    fn fail<T>(&self, message: impl Into<String>) -> Result<T, ConditionError> {
        Err(ConditionError {
            offset: self.offset(),
            message: message.into(),
        })
    }
    fn enter(&mut self) -> Result<(), ConditionError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.fail("condition nests too deeply")
        } else {
            Ok(())
        }
    }

    fn or(&mut self) -> Result<Expr, ConditionError> {
        self.enter()?;
        let mut left = self.and()?;
        while *self.peek() == Tok::Or {
            self.bump();
            left = Expr::Or(Box::new(left), Box::new(self.and()?));
        }
        self.depth -= 1;
        Ok(left)
    }

    fn and(&mut self) -> Result<Expr, ConditionError> {
        let mut left = self.not()?;
        while *self.peek() == Tok::And {
            self.bump();
            left = Expr::And(Box::new(left), Box::new(self.not()?));
        }
        Ok(left)
    }

    fn not(&mut self) -> Result<Expr, ConditionError> {
        if *self.peek() == Tok::Not {
            self.bump();
            self.enter()?;
            let inner = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(inner)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ConditionError> {
        match self.bump() {
            Tok::LParen => {
                let e = self.or()?;
                if self.bump() != Tok::RParen {
                    self.pos = self.pos.saturating_sub(1);
                    return self.fail("expected `)`");
                }
                Ok(e)
            }
            Tok::True => Ok(Expr::Bool(true)),
            Tok::False => Ok(Expr::Bool(false)),
            Tok::Ident(name) => {
                let field = Field(name.split('.').map(str::to_owned).collect());
                if let Tok::Op(op) = *self.peek() {
                    self.bump();
                    let value = match self.peek() {
                        Tok::Num(n) => Literal::Number(*n),
                        Tok::Str(s) => Literal::Text(s.clone()),
                        Tok::True => Literal::Bool(true),
                        Tok::False => Literal::Bool(false),
                        _ => {
                            return self.fail(
                                "expected a number, a 'string', true or false after the operator",
                            );
                        }
                    };
                    self.bump();
                    Ok(Expr::Compare { field, op, value })
                } else {
                    Ok(Expr::Truthy(field))
                }
            }
            Tok::End => {
                self.pos = self.pos.saturating_sub(0);
                self.fail("the condition ends too early")
            }
            _ => {
                self.pos = self.pos.saturating_sub(1);
                self.fail("expected a field name, `not` or `(`")
            }
        }
    }
}

/// Parses a condition.
pub fn parse(src: &str) -> Result<Expr, ConditionError> {
    if src.len() > MAX_CONDITION_BYTES {
        return Err(ConditionError {
            offset: 0,
            message: format!("conditions are limited to {MAX_CONDITION_BYTES} bytes"),
        });
    }
    if src.trim().is_empty() {
        return Err(ConditionError {
            offset: 0,
            message: "the condition is empty".to_owned(),
        });
    }
    let mut p = Parser {
        toks: lex(src)?,
        pos: 0,
        depth: 0,
    };
    let e = p.or()?;
    if *p.peek() != Tok::End {
        return p.fail("expected `and`, `or` or the end of the condition");
    }
    Ok(e)
}

impl Expr {
    /// Renders the condition in a cloud dialect.
    pub fn render(&self, dialect: Dialect) -> String {
        let mut s = String::new();
        self.write(dialect, &mut s, 0);
        s
    }

    /// The condition in fleetform's own syntax, on one line: what a comment in generated code
    /// shows, since the spec's text may span lines. Parsing it gives the same condition back.
    pub fn canonical(&self) -> String {
        let mut s = String::new();
        self.write_canonical(&mut s, 0);
        s
    }

    fn write_canonical(&self, out: &mut String, parent: u8) {
        let paren = self.precedence() < parent;
        if paren {
            out.push('(');
        }
        match self {
            Expr::Or(a, b) => {
                a.write_canonical(out, 1);
                out.push_str(" or ");
                b.write_canonical(out, 2);
            }
            Expr::And(a, b) => {
                a.write_canonical(out, 2);
                out.push_str(" and ");
                b.write_canonical(out, 3);
            }
            Expr::Not(e) => {
                out.push_str("not ");
                e.write_canonical(out, 3);
            }
            Expr::Compare { field, op, value } => {
                let op = match op {
                    Op::Eq => "=",
                    Op::Ne => "!=",
                    Op::Lt => "<",
                    Op::Le => "<=",
                    Op::Gt => ">",
                    Op::Ge => ">=",
                };
                let _ = write!(out, "{field} {op} {value}");
            }
            Expr::Truthy(field) => {
                let _ = write!(out, "{field}");
            }
            Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
        if paren {
            out.push(')');
        }
    }

    /// Field paths the condition reads, in order of appearance.
    pub fn fields(&self) -> Vec<&Field> {
        let mut out = Vec::new();
        self.collect_fields(&mut out);
        out
    }

    fn collect_fields<'a>(&'a self, out: &mut Vec<&'a Field>) {
        match self {
            Expr::Or(a, b) | Expr::And(a, b) => {
                a.collect_fields(out);
                b.collect_fields(out);
            }
            Expr::Not(e) => e.collect_fields(out),
            Expr::Compare { field, .. } | Expr::Truthy(field) => out.push(field),
            Expr::Bool(_) => {}
        }
    }

    fn precedence(&self) -> u8 {
        match self {
            Expr::Or(..) => 1,
            Expr::And(..) => 2,
            Expr::Not(_) => 3,
            _ => 4,
        }
    }

    fn write(&self, d: Dialect, out: &mut String, parent: u8) {
        let paren = self.precedence() < parent;
        if paren {
            out.push('(');
        }
        match self {
            Expr::Or(a, b) => {
                a.write(d, out, 1);
                out.push_str(" OR ");
                b.write(d, out, 2);
            }
            Expr::And(a, b) => {
                a.write(d, out, 2);
                out.push_str(" AND ");
                b.write(d, out, 3);
            }
            Expr::Not(e) => {
                out.push_str("NOT ");
                e.write(d, out, 3);
            }
            Expr::Compare { field, op, value } => {
                field.write(d, out);
                let op = match (op, d) {
                    (Op::Eq, _) => "=",
                    (Op::Ne, Dialect::AwsIotSql) => "<>",
                    (Op::Ne, Dialect::IotHubRouting) => "!=",
                    (Op::Lt, _) => "<",
                    (Op::Le, _) => "<=",
                    (Op::Gt, _) => ">",
                    (Op::Ge, _) => ">=",
                };
                let _ = write!(out, " {op} ");
                match (value, d) {
                    // IoT Hub's query language escapes with a backslash (`\'`, `\\`) and has
                    // no doubled quote.
                    (Literal::Text(t), Dialect::IotHubRouting) => {
                        out.push('\'');
                        for c in t.chars() {
                            if matches!(c, '\'' | '\\') {
                                out.push('\\');
                            }
                            out.push(c);
                        }
                        out.push('\'');
                    }
                    _ => {
                        let _ = write!(out, "{value}");
                    }
                }
            }
            Expr::Truthy(field) => {
                field.write(d, out);
                out.push_str(" = true");
            }
            Expr::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        }
        if paren {
            out.push(')');
        }
    }
}

impl Field {
    fn write(&self, d: Dialect, out: &mut String) {
        if d == Dialect::IotHubRouting {
            out.push_str("$body.");
        }
        out.push_str(&self.0.join("."));
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0.join("."))
    }
}

impl fmt::Display for Literal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Literal::Number(n) => write!(f, "{n}"),
            Literal::Bool(b) => write!(f, "{b}"),
            Literal::Text(s) => write!(f, "'{}'", s.replace('\'', "''")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_both_dialects() {
        let e = parse("temperature > 80 and (status != 'ok' or not door.open)").unwrap();
        assert_eq!(
            e.render(Dialect::AwsIotSql),
            "temperature > 80 AND (status <> 'ok' OR NOT door.open = true)"
        );
        assert_eq!(
            e.render(Dialect::IotHubRouting),
            "$body.temperature > 80 AND ($body.status != 'ok' OR NOT $body.door.open = true)"
        );
    }

    #[test]
    fn quotes_are_escaped_not_injected() {
        let e = parse("name = 'it''s' or p = 'C:\\'").unwrap();
        assert_eq!(e.render(Dialect::AwsIotSql), "name = 'it''s' OR p = 'C:\\'");
        assert_eq!(
            e.render(Dialect::IotHubRouting),
            "$body.name = 'it\\'s' OR $body.p = 'C:\\\\'"
        );
    }

    #[test]
    fn the_canonical_form_is_one_line_and_parses_back() {
        let src = "a > 1 and\n (b = 'x''y' or not c)\r\n or d <= -2.5 and e != false";
        let e = parse(src).unwrap();
        let c = e.canonical();
        assert_eq!(
            c,
            "a > 1 and (b = 'x''y' or not c) or d <= -2.5 and e != false"
        );
        assert_eq!(parse(&c).unwrap(), e);
    }

    #[test]
    fn reports_the_offset_of_mistakes() {
        assert_eq!(parse("a > ").unwrap_err().offset, 4);
        assert_eq!(parse("a > 1 b").unwrap_err().offset, 6);
        assert_eq!(parse("a > \"x\"").unwrap_err().offset, 4);
        assert_eq!(parse("a > 1 ; drop").unwrap_err().offset, 6);
        assert_eq!(parse("${x} > 1").unwrap_err().offset, 0);
        assert!(parse(&"(".repeat(100)).is_err());
    }

    #[test]
    fn newlines_and_carriage_returns_are_whitespace() {
        // What `condition: >` and `condition: |` hand over, from a file with CRLF line ends.
        let e = parse("temperature > 80 and\r\n  status != 'ok'\n").unwrap();
        assert_eq!(
            e.render(Dialect::AwsIotSql),
            "temperature > 80 AND status <> 'ok'"
        );
        assert!(parse("\x0c a > 1\n").is_ok());
    }

    #[test]
    fn numbers_render_plainly() {
        assert_eq!(
            parse("load_kg >= 5000").unwrap().render(Dialect::AwsIotSql),
            "load_kg >= 5000"
        );
        assert_eq!(
            parse("t < -1.5").unwrap().render(Dialect::AwsIotSql),
            "t < -1.5"
        );
    }
}
