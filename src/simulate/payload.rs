//! Telemetry a simulated device sends: the spec's message shape, deterministic per seed.
//!
//! The spec does not declare a message schema; what it does declare is every field the cloud
//! looks at: route and alert conditions (`temperature > 80 and status = 'ok'`). A message
//! holds `device_id`, `seq` and each of those fields, typed by what it is compared with
//! (number, text, boolean), nested for dotted paths. Ordinary messages trip no alert;
//! a message asked to trip an alert is the ordinary one with the fewest fields changed so
//! that the alert's condition holds. Both are checked by evaluating the condition on the
//! finished JSON (the same tree the planners render to IoT SQL and routing queries), so a
//! condition that cannot be met is an error, never a message that silently misses.
//!
//! Values come from [`SplitMix64`], a fixed and documented generator, instead of a crate's
//! `StdRng`, whose algorithm may change between releases: the same `--seed` gives the same
//! bytes on every machine and every fleetform version.

use serde_json::{Map, Number, Value};

use crate::model::condition::{Expr, Field, Literal, Op};

/// SplitMix64 (Steele, Lea, Flood 2014; the seeding generator of `java.util.SplittableRandom`).
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A float in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// A seed for one device's stream: the run's seed mixed with the device id, so adding a
/// device does not change the others' messages.
pub fn device_seed(seed: u64, device_id: &str) -> u64 {
    // FNV-1a over the id: stable and dependency-free.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in device_id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    SplitMix64::new(seed ^ h).next_u64()
}

/// An alert the messages must not trip unless asked.
#[derive(Debug, Clone)]
pub struct Condition {
    pub name: String,
    pub expr: Expr,
}

/// The message shape of one fleet: its fields and the alerts they feed.
#[derive(Debug, Clone)]
pub struct Shape {
    fields: Vec<FieldKind>,
    alerts: Vec<Condition>,
}

#[derive(Debug, Clone)]
struct FieldKind {
    path: Vec<String>,
    kind: Kind,
    /// Literals the field is compared with: where random values are drawn around.
    numbers: Vec<f64>,
    texts: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Text,
    Bool,
}

/// Why no message can be built.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShapeError {
    /// No values make this alert's condition true.
    CannotTrip(String),
    /// Every message would trip this alert.
    AlwaysTrips(String),
    /// `--trip` names no alert of the spec.
    UnknownAlert { name: String, known: Vec<String> },
}

impl std::fmt::Display for ShapeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::CannotTrip(a) => write!(
                f,
                "no message can trip alert `{a}`: its condition contradicts itself"
            ),
            Self::AlwaysTrips(a) => write!(
                f,
                "every message trips alert `{a}`: no values keep its condition false"
            ),
            Self::UnknownAlert { name, known } if known.is_empty() => {
                write!(f, "`--trip {name}`: the spec has no alerts")
            }
            Self::UnknownAlert { name, known } => write!(
                f,
                "`--trip {name}`: no such alert; the spec's alerts are {}",
                known
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        }
    }
}

impl std::error::Error for ShapeError {}

/// Reserved keys every message carries; conditions on them are left to their real values.
const DEVICE_ID: &str = "device_id";
const SEQ: &str = "seq";

impl Shape {
    /// The shape from the conditions of routes and alerts, fields in order of appearance.
    pub fn new<'a>(conditions: impl IntoIterator<Item = &'a Expr>, alerts: Vec<Condition>) -> Self {
        let mut fields: Vec<FieldKind> = Vec::new();
        let mut visit = |e: &Expr| collect(e, &mut fields);
        for e in conditions {
            visit(e);
        }
        for a in &alerts {
            visit(&a.expr);
        }
        fields.retain(|f| !(f.path.len() == 1 && (f.path[0] == DEVICE_ID || f.path[0] == SEQ)));
        Self { fields, alerts }
    }

    /// Checks that every named alert exists and can be tripped, and that ordinary messages
    /// can keep every alert quiet.
    pub fn check(&self, trip: &[String]) -> Result<(), ShapeError> {
        for name in trip {
            let Some(alert) = self.alerts.iter().find(|a| &a.name == name) else {
                return Err(ShapeError::UnknownAlert {
                    name: name.clone(),
                    known: self.alerts.iter().map(|a| a.name.clone()).collect(),
                });
            };
            let mut v = self.quiet(&mut SplitMix64::new(0), "probe", 0)?;
            if !assign(&alert.expr, true, &mut v) || !eval(&alert.expr, &v) {
                return Err(ShapeError::CannotTrip(alert.name.clone()));
            }
        }
        self.quiet(&mut SplitMix64::new(0), "probe", 0).map(|_| ())
    }

    /// One message: ordinary, or tripping the named alerts.
    pub fn message(
        &self,
        rng: &mut SplitMix64,
        device_id: &str,
        seq: u64,
        trip: &[String],
    ) -> Result<Value, ShapeError> {
        let mut v = self.quiet(rng, device_id, seq)?;
        for name in trip {
            let alert = self
                .alerts
                .iter()
                .find(|a| &a.name == name)
                .ok_or_else(|| ShapeError::UnknownAlert {
                    name: name.clone(),
                    known: self.alerts.iter().map(|a| a.name.clone()).collect(),
                })?;
            if !assign(&alert.expr, true, &mut v) || !eval(&alert.expr, &v) {
                return Err(ShapeError::CannotTrip(alert.name.clone()));
            }
        }
        Ok(v)
    }

    /// Whether a message trips the alert (used to report what was sent).
    pub fn trips(&self, message: &Value) -> Vec<&str> {
        self.alerts
            .iter()
            .filter(|a| eval(&a.expr, message))
            .map(|a| a.name.as_str())
            .collect()
    }

    /// A message that trips no alert: random draws first, the solver as a fallback.
    fn quiet(&self, rng: &mut SplitMix64, device_id: &str, seq: u64) -> Result<Value, ShapeError> {
        let mut v = Map::new();
        v.insert(DEVICE_ID.to_owned(), Value::String(device_id.to_owned()));
        v.insert(SEQ.to_owned(), Value::Number(seq.into()));
        let mut v = Value::Object(v);
        for _ in 0..16 {
            for f in &self.fields {
                set(&mut v, &f.path, f.draw(rng));
            }
            if self.alerts.iter().all(|a| !eval(&a.expr, &v)) {
                return Ok(v);
            }
        }
        for a in &self.alerts {
            if !assign(&a.expr, false, &mut v) {
                return Err(ShapeError::AlwaysTrips(a.name.clone()));
            }
        }
        match self.alerts.iter().find(|a| eval(&a.expr, &v)) {
            Some(a) => Err(ShapeError::AlwaysTrips(a.name.clone())),
            None => Ok(v),
        }
    }
}

impl FieldKind {
    fn draw(&self, rng: &mut SplitMix64) -> Value {
        match self.kind {
            Kind::Bool => Value::Bool(rng.next_u64() & 1 == 1),
            Kind::Text => {
                let mut options = self.texts.clone();
                options.push("ok".to_owned());
                let i = (rng.next_u64() % options.len() as u64) as usize;
                Value::String(options.swap_remove(i))
            }
            Kind::Number => {
                let (lo, hi) = self
                    .numbers
                    .iter()
                    .fold((f64::MAX, f64::MIN), |(lo, hi), n| (lo.min(*n), hi.max(*n)));
                let (lo, hi) = if self.numbers.is_empty() {
                    (0.0, 100.0)
                } else {
                    let spread = (hi - lo).max(lo.abs().max(hi.abs()) * 0.5).max(10.0);
                    (lo - spread, hi + spread)
                };
                number((lo + (hi - lo) * rng.unit()).round())
            }
        }
    }
}

fn number(x: f64) -> Value {
    // Whole numbers print without a fraction, as devices send them.
    if x.fract() == 0.0 && x.abs() < 9.0e15 {
        Value::Number(Number::from(x as i64))
    } else {
        Number::from_f64(x).map_or(Value::Null, Value::Number)
    }
}

fn collect(e: &Expr, out: &mut Vec<FieldKind>) {
    let mut note = |field: &Field, kind: Kind, lit: Option<&Literal>| {
        let i = if let Some(i) = out.iter().position(|f| f.path == field.0) {
            i
        } else {
            out.push(FieldKind {
                path: field.0.clone(),
                kind,
                numbers: Vec::new(),
                texts: Vec::new(),
            });
            out.len() - 1
        };
        match lit {
            Some(Literal::Number(n)) => out[i].numbers.push(*n),
            Some(Literal::Text(t)) => out[i].texts.push(t.clone()),
            _ => {}
        }
    };
    match e {
        Expr::Or(a, b) | Expr::And(a, b) => {
            collect(a, out);
            collect(b, out);
        }
        Expr::Not(a) => collect(a, out),
        Expr::Truthy(f) => note(f, Kind::Bool, None),
        Expr::Compare { field, value, .. } => {
            let kind = match value {
                Literal::Number(_) => Kind::Number,
                Literal::Text(_) => Kind::Text,
                Literal::Bool(_) => Kind::Bool,
            };
            note(field, kind, Some(value));
        }
        Expr::Bool(_) => {}
    }
}

fn get<'a>(v: &'a Value, path: &[String]) -> Option<&'a Value> {
    path.iter().try_fold(v, |v, k| v.get(k))
}

fn set(v: &mut Value, path: &[String], value: Value) {
    let mut cur = v;
    for (i, k) in path.iter().enumerate() {
        if !cur.is_object() {
            *cur = Value::Object(Map::new());
        }
        let Value::Object(map) = cur else {
            unreachable!("made an object above")
        };
        if i + 1 == path.len() {
            map.insert(k.clone(), value);
            return;
        }
        cur = map
            .entry(k.clone())
            .or_insert_with(|| Value::Object(Map::new()));
    }
}

/// Evaluates a condition on a message, as the cloud would: a missing field or a type
/// mismatch makes a comparison false.
pub fn eval(e: &Expr, v: &Value) -> bool {
    match e {
        Expr::Or(a, b) => eval(a, v) || eval(b, v),
        Expr::And(a, b) => eval(a, v) && eval(b, v),
        Expr::Not(a) => !eval(a, v),
        Expr::Bool(b) => *b,
        Expr::Truthy(f) => get(v, &f.0) == Some(&Value::Bool(true)),
        Expr::Compare { field, op, value } => {
            get(v, &field.0).is_some_and(|x| compare(x, *op, value))
        }
    }
}

fn compare(x: &Value, op: Op, lit: &Literal) -> bool {
    let ord = match (x, lit) {
        (Value::Number(n), Literal::Number(l)) => n.as_f64().and_then(|n| n.partial_cmp(l)),
        (Value::String(s), Literal::Text(l)) => Some(s.as_str().cmp(l.as_str())),
        (Value::Bool(b), Literal::Bool(l)) => Some(b.cmp(l)),
        _ => None,
    };
    let Some(ord) = ord else { return false };
    match op {
        Op::Eq => ord.is_eq(),
        Op::Ne => ord.is_ne(),
        Op::Lt => ord.is_lt(),
        Op::Le => ord.is_le(),
        Op::Gt => ord.is_gt(),
        Op::Ge => ord.is_ge(),
    }
}

/// Changes as few fields as it can so that `e` evaluates to `want`. Returns false when it
/// sees no way; the caller still checks the result with [`eval`].
fn assign(e: &Expr, want: bool, v: &mut Value) -> bool {
    if eval(e, v) == want {
        return true;
    }
    match e {
        Expr::Bool(b) => *b == want,
        Expr::Not(a) => assign(a, !want, v),
        Expr::And(a, b) if want => assign(a, true, v) && assign(b, true, v),
        Expr::Or(a, b) if !want => assign(a, false, v) && assign(b, false, v),
        // One side decides: try the left, then the right, keeping whichever works.
        Expr::And(a, b) | Expr::Or(a, b) => {
            let before = v.clone();
            if assign(a, want, v) && eval(e, v) == want {
                return true;
            }
            *v = before;
            assign(b, want, v) && eval(e, v) == want
        }
        Expr::Truthy(f) => {
            set(v, &f.0, Value::Bool(want));
            true
        }
        Expr::Compare { field, op, value } => {
            let Some(x) = solve(*op, value, want) else {
                return false;
            };
            set(v, &field.0, x);
            true
        }
    }
}

/// A value for which `field op lit` is `want`.
fn solve(op: Op, lit: &Literal, want: bool) -> Option<Value> {
    // `x op lit` false is `x (not op) lit` true.
    let op = if want {
        op
    } else {
        match op {
            Op::Eq => Op::Ne,
            Op::Ne => Op::Eq,
            Op::Lt => Op::Ge,
            Op::Le => Op::Gt,
            Op::Gt => Op::Le,
            Op::Ge => Op::Lt,
        }
    };
    Some(match lit {
        Literal::Number(n) => number(match op {
            Op::Eq | Op::Le | Op::Ge => *n,
            Op::Lt => (n - 1.0).floor().min(n - 1.0),
            Op::Gt | Op::Ne => (n + 1.0).ceil().max(n + 1.0),
        }),
        Literal::Bool(b) => match op {
            Op::Eq | Op::Le | Op::Ge => Value::Bool(*b),
            Op::Ne => Value::Bool(!b),
            Op::Gt if !b => Value::Bool(true),
            Op::Lt if *b => Value::Bool(false),
            Op::Gt | Op::Lt => return None,
        },
        Literal::Text(t) => Value::String(match op {
            Op::Eq | Op::Le | Op::Ge => t.clone(),
            Op::Ne | Op::Gt => format!("{t}~"),
            Op::Lt if t.is_empty() => return None,
            // The empty string sorts before any other.
            Op::Lt => String::new(),
        }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::condition::parse;

    fn shape(alerts: &[(&str, &str)]) -> Shape {
        Shape::new(
            [],
            alerts
                .iter()
                .map(|(n, c)| Condition {
                    name: (*n).to_owned(),
                    expr: parse(c).unwrap(),
                })
                .collect(),
        )
    }

    #[test]
    fn ordinary_messages_trip_nothing_and_tripping_ones_trip_exactly_what_was_asked() {
        let s = shape(&[
            ("hot", "temperature > 80 and status = 'ok'"),
            ("intrusion", "event = 'intrusion' and armed = true"),
            ("band", "pressure >= 2 and pressure < 3.5"),
        ]);
        let mut rng = SplitMix64::new(7);
        for seq in 0..200 {
            let m = s.message(&mut rng, "d1", seq, &[]).unwrap();
            assert!(s.trips(&m).is_empty(), "{m}");
            assert_eq!(m["device_id"], "d1");
            assert!(m["temperature"].is_number() && m["armed"].is_boolean());
        }
        for name in ["hot", "intrusion", "band"] {
            let m = s.message(&mut rng, "d1", 0, &[name.to_owned()]).unwrap();
            assert_eq!(s.trips(&m), vec![name], "{m}");
        }
    }

    #[test]
    fn same_seed_same_bytes() {
        let s = shape(&[("hot", "a.b.temp > 80 or not door_open")]);
        let run = |seed| {
            let mut rng = SplitMix64::new(device_seed(seed, "d7"));
            (0..5)
                .map(|i| s.message(&mut rng, "d7", i, &[]).unwrap().to_string())
                .collect::<Vec<_>>()
        };
        assert_eq!(run(1), run(1));
        assert_ne!(run(1), run(2));
        assert!(
            run(1)[0].contains("\"a\":{\"b\":{\"temp\":"),
            "{}",
            run(1)[0]
        );
        // Pinned: the generator and the message layout are part of the output contract.
        assert_eq!(
            SplitMix64::new(0).next_u64(),
            0xE220_A839_7B1D_CDAF,
            "SplitMix64 reference value"
        );
    }

    #[test]
    fn impossible_conditions_are_errors() {
        let s = shape(&[("never", "t > 5 and t < 3"), ("always", "t > 1 or t <= 1")]);
        assert_eq!(
            s.check(&["never".to_owned()]),
            Err(ShapeError::AlwaysTrips("always".to_owned()))
        );
        let s = shape(&[("never", "t > 5 and t < 3")]);
        assert_eq!(
            s.check(&["never".to_owned()]),
            Err(ShapeError::CannotTrip("never".to_owned()))
        );
        assert!(matches!(
            s.check(&["nope".to_owned()]),
            Err(ShapeError::UnknownAlert { .. })
        ));
    }
}
