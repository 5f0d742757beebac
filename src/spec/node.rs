//! A YAML document as a tree of spanned nodes.
//!
//! The typed spec forgets where its values came from; diagnostics must not. The loader keeps
//! this tree beside the typed spec so that any check can name a spec path (`messaging.
//! message_bytes`) and have it resolved to file, line and column at the edge, in one place.
//! It is also what the JSON-Schema check runs on (converted with [`Node::to_json`]).

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;

/// A byte range in one source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ByteSpan {
    pub start: usize,
    pub len: usize,
}

/// One YAML node and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub span: ByteSpan,
    pub value: Value,
}

/// A YAML value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys are strings (the spec has no other kind).
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub name: String,
    pub span: ByteSpan,
}

/// One step of a spec path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Seg {
    Key(String),
    Index(usize),
}

/// A path into the spec, such as `pipeline.routes[0].condition`.
#[derive(Debug, Clone, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SpecPath(pub Vec<Seg>);

impl SpecPath {
    pub fn root() -> Self {
        Self(Vec::new())
    }

    /// Parses a dotted path: `a.b[2].c`.
    pub fn parse(dotted: &str) -> Self {
        let mut segs = Vec::new();
        for part in dotted.split('.').filter(|p| !p.is_empty()) {
            let (name, rest) = part.split_once('[').map_or((part, ""), |(n, r)| (n, r));
            if !name.is_empty() {
                segs.push(Seg::Key(name.to_owned()));
            }
            for idx in rest.split('[') {
                if let Ok(i) = idx.trim_end_matches(']').parse() {
                    segs.push(Seg::Index(i));
                }
            }
        }
        Self(segs)
    }

    #[must_use]
    pub fn key(&self, name: impl Into<String>) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Key(name.into()));
        p
    }

    #[must_use]
    pub fn index(&self, i: usize) -> Self {
        let mut p = self.clone();
        p.0.push(Seg::Index(i));
        p
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The last key of the path, if it ends in one.
    pub fn last_key(&self) -> Option<&str> {
        match self.0.last() {
            Some(Seg::Key(k)) => Some(k),
            _ => None,
        }
    }

    #[must_use]
    pub fn parent(&self) -> Self {
        let mut p = self.clone();
        p.0.pop();
        p
    }
}

impl fmt::Display for SpecPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("(document)");
        }
        for (i, seg) in self.0.iter().enumerate() {
            match seg {
                Seg::Key(k) if i == 0 => f.write_str(k)?,
                Seg::Key(k) => write!(f, ".{k}")?,
                Seg::Index(n) => write!(f, "[{n}]")?,
            }
        }
        Ok(())
    }
}

/// What a diagnostic points at: the key of an entry or its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Anchor {
    Key,
    Value,
}

impl Node {
    /// Finds the span of `path`, or of the deepest ancestor that exists (for values that were
    /// left to their defaults). The flag says whether the exact path was found.
    pub fn locate(&self, path: &SpecPath, anchor: Anchor) -> (ByteSpan, bool) {
        let mut node = self;
        let mut best = self.span;
        for (depth, seg) in path.0.iter().enumerate() {
            let last = depth + 1 == path.0.len();
            match (seg, &node.value) {
                (Seg::Key(k), Value::Map(entries)) => {
                    let Some((key, child)) = entries.iter().find(|(key, _)| key.name == *k) else {
                        return (best, false);
                    };
                    if last && anchor == Anchor::Key {
                        return (key.span, true);
                    }
                    // Collections point at their key: it reads better than the first child.
                    best = if child.is_collection() {
                        key.span
                    } else {
                        child.span
                    };
                    node = child;
                }
                (Seg::Index(i), Value::Seq(items)) => {
                    let Some(child) = items.get(*i) else {
                        return (best, false);
                    };
                    best = child.span;
                    node = child;
                }
                _ => return (best, false),
            }
        }
        (best, true)
    }

    /// The node at `path`, if present.
    pub fn get(&self, path: &SpecPath) -> Option<&Node> {
        let mut node = self;
        for seg in &path.0 {
            node = match (seg, &node.value) {
                (Seg::Key(k), Value::Map(entries)) => {
                    &entries.iter().find(|(key, _)| key.name == *k)?.1
                }
                (Seg::Index(i), Value::Seq(items)) => items.get(*i)?,
                _ => return None,
            };
        }
        Some(node)
    }

    /// This mapping without `key`.
    #[must_use]
    pub fn without(&self, key: &str) -> Node {
        match &self.value {
            Value::Map(entries) => Node {
                span: self.span,
                value: Value::Map(
                    entries
                        .iter()
                        .filter(|(k, _)| k.name != key)
                        .cloned()
                        .collect(),
                ),
            },
            _ => self.clone(),
        }
    }

    /// `overlay` laid over this node: mappings merge key by key, anything else is replaced.
    /// Spans come from wherever each value was written, so diagnostics on the merged tree point
    /// at the base or the overlay as appropriate.
    #[must_use]
    pub fn merged(&self, overlay: &Node) -> Node {
        match (&self.value, &overlay.value) {
            (Value::Map(base), Value::Map(over)) => {
                let mut entries = base.clone();
                for (k, v) in over {
                    match entries.iter_mut().find(|(bk, _)| bk.name == k.name) {
                        Some((_, existing)) => *existing = existing.merged(v),
                        None => entries.push((k.clone(), v.clone())),
                    }
                }
                Node {
                    span: self.span,
                    value: Value::Map(entries),
                }
            }
            _ => overlay.clone(),
        }
    }

    /// Sets the scalar at `path` (creating mappings on the way), with the given span.
    pub fn set(&mut self, path: &[&str], value: Value, span: ByteSpan) {
        let Some((first, rest)) = path.split_first() else {
            *self = Node { span, value };
            return;
        };
        if !matches!(self.value, Value::Map(_)) {
            self.value = Value::Map(Vec::new());
        }
        if let Value::Map(entries) = &mut self.value {
            if let Some((_, child)) = entries.iter_mut().find(|(k, _)| k.name == *first) {
                child.set(rest, value, span);
            } else {
                let mut child = Node {
                    span,
                    value: Value::Map(Vec::new()),
                };
                child.set(rest, value, span);
                entries.push((
                    Key {
                        name: (*first).to_owned(),
                        span,
                    },
                    child,
                ));
            }
        }
    }

    fn is_collection(&self) -> bool {
        matches!(self.value, Value::Map(_) | Value::Seq(_))
    }

    /// The tree as JSON, for the JSON-Schema check and typed deserialization.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::UInt(u) => J::from(*u),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A short description of the node's kind, for messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Int(_) | Value::UInt(_) => "an integer",
            Value::Float(_) => "a number",
            Value::Str(_) => "a string",
            Value::Seq(_) => "a list",
            Value::Map(_) => "a mapping",
        }
    }
}

fn byte_span(loc: serde_saphyr::Location) -> ByteSpan {
    let span = loc.span();
    let start = span.byte_offset().unwrap_or(0);
    let len = span.byte_len().unwrap_or(0);
    ByteSpan {
        start: usize::try_from(start).unwrap_or(0),
        len: usize::try_from(len).unwrap_or(0),
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<Value>::deserialize(deserializer)?;
        Ok(Node {
            span: byte_span(spanned.referenced),
            value: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<KeyName>::deserialize(deserializer)?;
        Ok(Key {
            name: spanned.value.0,
            span: byte_span(spanned.referenced),
        })
    }
}

/// A mapping key: a string, or a scalar spelled as one (`1:` becomes `"1"`).
struct KeyName(String);

impl<'de> Deserialize<'de> for KeyName {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = KeyName;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a string key")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<KeyName, E> {
                Ok(KeyName(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<KeyName, E> {
                Ok(KeyName(v))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<KeyName, E> {
                Ok(KeyName(v.to_string()))
            }
            fn visit_unit<E: de::Error>(self) -> Result<KeyName, E> {
                Err(E::custom("a mapping key must not be empty (null)"))
            }
        }
        deserializer.deserialize_any(V)
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Value;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("any YAML value")
            }
            fn visit_unit<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_none<E: de::Error>(self) -> Result<Value, E> {
                Ok(Value::Null)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Value, D2::Error> {
                Value::deserialize(d)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> Result<Value, E> {
                Ok(Value::Bool(v))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Value, E> {
                Ok(Value::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Value, E> {
                Ok(i64::try_from(v).map_or(Value::UInt(v), Value::Int))
            }
            fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
                i64::try_from(v)
                    .map(Value::Int)
                    .map_err(|_| E::custom("integer is too large"))
            }
            fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
                u64::try_from(v)
                    .map(|u| i64::try_from(u).map_or(Value::UInt(u), Value::Int))
                    .map_err(|_| E::custom("integer is too large"))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
                Ok(Value::Float(v))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Value, E> {
                Ok(Value::Str(v.to_owned()))
            }
            fn visit_string<E: de::Error>(self, v: String) -> Result<Value, E> {
                Ok(Value::Str(v))
            }
            fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Value, E> {
                Ok(Value::Str(String::from_utf8_lossy(v).into_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Node>()? {
                    items.push(item);
                }
                Ok(Value::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key::<Key>()? {
                    let value = map.next_value::<Node>()?;
                    entries.push((key, value));
                }
                Ok(Value::Map(entries))
            }
        }
        deserializer.deserialize_any(V)
    }
}
