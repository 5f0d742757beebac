//! Device registry files: CSV (read as a stream) or YAML lists of pre-registered devices.
//!
//! A registry can hold a million devices, so a CSV file is read row by row from a reader and
//! never held whole: each row goes straight into the compact [`Registry`], and only what the
//! checks need besides (where each id is, for messages) is kept. Problems are reported in
//! *that* file, with its own line and column, exactly like problems in the spec; the text is
//! read into the diagnostics' sources only when there is a problem to show (and only if it is
//! still the text that was checked). At most [`MAX_DIAGNOSTICS_PER_KIND`] problems of a kind
//! are kept; the rest are counted in one summary.
//!
//! YAML registries are parsed whole (a YAML list cannot be streamed with spans), so they are
//! capped lower ([`MAX_YAML_REGISTRY_BYTES`]); large fleets belong in CSV.
//!
//! Long because the CSV and YAML readers share the located errors, the size caps and the
//! per-column interning that let a million rows stream through without being held.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::hash::Hasher as _;
use std::io::Read;
use std::sync::Arc;

use crate::diagnostics::{Diagnostic, SourceId, Sources};
use crate::model::registry::{NameId, Registry};
use crate::spec::RegisteredDevice;
use crate::spec::load::{DocKind, parse_yaml};
use crate::spec::node::{ByteSpan, Node, SpecPath};

/// Largest YAML registry accepted: YAML is parsed into a tree, a few times its size in memory.
pub const MAX_YAML_REGISTRY_BYTES: usize = 64 * 1024 * 1024;

/// Whether a device id is valid on both clouds (AWS thing names ∩ Azure device ids).
pub fn valid_device_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 128
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b':' | b'_' | b'-'))
}

/// Most diagnostics of one kind (code) shown for one registry file. A spreadsheet export with
/// a million bad rows would otherwise give a million diagnostics to sort, locate and render;
/// the rest are counted in one summary diagnostic.
pub const MAX_DIAGNOSTICS_PER_KIND: usize = 20;

const ID_RULE: &str = "device ids are 1 to 128 letters, digits, `:`, `_` and `-` (the names both AWS and Azure accept)";

/// A problem in a registry file: a diagnostic and where it is, before the file's text is
/// among the sources.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub diag: Diagnostic,
    pub span: ByteSpan,
}

impl Problem {
    fn new(diag: Diagnostic, offset: u64, len: usize) -> Self {
        Self {
            diag,
            span: ByteSpan {
                start: usize::try_from(offset).unwrap_or(usize::MAX),
                len,
            },
        }
    }

    /// The diagnostic, located in `source`.
    pub fn located(self, source: SourceId) -> Diagnostic {
        self.diag.in_source(source, self.span)
    }
}

/// The problems of one registry file, keeping the first [`MAX_DIAGNOSTICS_PER_KIND`] of each
/// code and counting the others.
#[derive(Debug, Clone, Default)]
pub struct Capped {
    kept: Vec<Problem>,
    /// Per code: how many were seen.
    seen: BTreeMap<&'static str, usize>,
    /// Per code: the first one left out (where the summary points).
    first_left_out: BTreeMap<&'static str, Problem>,
}

impl Capped {
    pub fn push(&mut self, p: Problem) {
        let seen = self.seen.entry(p.diag.code).or_default();
        *seen += 1;
        if *seen <= MAX_DIAGNOSTICS_PER_KIND {
            self.kept.push(p);
        } else {
            self.first_left_out.entry(p.diag.code).or_insert(p);
        }
    }

    /// Adds everything `other` saw (its left-out problems count, but stay left out).
    pub fn merge(&mut self, other: &Capped) {
        for p in &other.kept {
            self.push(p.clone());
        }
        for (code, n) in &other.seen {
            let kept = other.kept.iter().filter(|p| p.diag.code == *code).count();
            if *n > kept {
                *self.seen.entry(code).or_default() += n - kept;
                if let Some(first) = other.first_left_out.get(code) {
                    self.first_left_out
                        .entry(code)
                        .or_insert_with(|| first.clone());
                }
            }
        }
    }

    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    pub fn has_errors(&self) -> bool {
        self.kept.iter().any(|p| p.diag.is_error())
    }

    /// The kept problems, and per code with more, one "…and N more" summary.
    pub fn finish(mut self, file: &str) -> Vec<Problem> {
        for (code, first) in self.first_left_out {
            let more = self.seen[code] - MAX_DIAGNOSTICS_PER_KIND;
            let what = match code {
                "bad-device-id" => "invalid device ids",
                "registry-syntax" => "invalid rows",
                "duplicate-name" => "duplicate device ids",
                "unknown-reference" => "references to undeclared device types or groups",
                _ => "problems of this kind",
            };
            self.kept.push(Problem {
                diag: Diagnostic {
                    message: format!("…and {more} more {what} in `{file}`"),
                    label: None,
                    hints: vec![format!(
                        "only the first {MAX_DIAGNOSTICS_PER_KIND} of each kind are shown; fix those and validate again, or fix the export that wrote the file"
                    )],
                    ..first.diag
                },
                span: first.span,
            });
        }
        self.kept
    }
}

/// Where a device's id is in its file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pos {
    /// Byte offset of the id (registries are capped far below 4 GiB).
    pub offset: u32,
    /// 1-based line.
    pub line: u32,
}

/// A registry file, read and checked on its own (the checks against a spec are [`check`]).
#[derive(Debug, Clone)]
pub struct Loaded {
    pub registry: Arc<Registry>,
    /// Where each device's id is, by registry index.
    pub positions: Vec<Pos>,
    /// What reading found wrong (syntax, ids, duplicates within the file).
    pub problems: Capped,
    /// Length and hash of the bytes read: a later read for snippets must see the same text.
    pub fingerprint: (u64, u64),
}

/// Counts and hashes what passes through, and stops one byte past a cap.
struct Tally<R> {
    inner: R,
    hash: std::collections::hash_map::DefaultHasher,
    bytes: u64,
}

impl<R: Read> Read for Tally<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.hash.write(&buf[..n]);
        self.bytes += n as u64;
        Ok(n)
    }
}

/// The fingerprint of a text, as [`Loaded::fingerprint`] computes it while streaming.
pub fn fingerprint(bytes: &[u8]) -> (u64, u64) {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    h.write(bytes);
    (bytes.len() as u64, h.finish())
}

/// Why a registry could not be read at all.
#[derive(Debug, Clone)]
pub enum Unreadable {
    /// An I/O error; the text says why.
    Io(String),
    /// A problem that stops reading (header, size); it belongs to the file.
    Problem(Box<Problem>),
}

/// Reads a CSV registry from `input`, row by row. `limit` caps the bytes read.
///
/// # Errors
/// [`Unreadable`] when the header is unusable, the file is longer than `limit`, or reading
/// fails; problems in rows are in [`Loaded::problems`] instead.
pub fn read_csv(input: impl Read, limit: u64) -> Result<Loaded, Unreadable> {
    let mut tally = Tally {
        inner: input.take(limit.saturating_add(1)),
        hash: std::collections::hash_map::DefaultHasher::new(),
        bytes: 0,
    };
    let loaded = read_csv_rows(&mut tally)?;
    if tally.bytes > limit {
        return Err(Unreadable::Problem(Box::new(Problem::new(
            Diagnostic::error(
                "input-too-large",
                format!(
                    "the registry is longer than {}; fleetform reads at most that",
                    size_text(limit)
                ),
            )
            .hint("register a fleet this large through fleet provisioning (AWS) or DPS enrollment groups (Azure) instead of a file"),
            0,
            0,
        ))));
    }
    Ok(Loaded {
        fingerprint: (tally.bytes, tally.hash.finish()),
        ..loaded
    })
}

fn read_csv_rows(input: &mut impl Read) -> Result<Loaded, Unreadable> {
    let mut reader = csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .buffer_capacity(256 * 1024)
        .from_reader(input);
    let headers = match reader.byte_headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            return Err(match e.kind() {
                csv::ErrorKind::Io(io) => Unreadable::Io(io.to_string()),
                _ => Unreadable::Problem(Box::new(Problem::new(
                    Diagnostic::error("registry-syntax", format!("cannot read the CSV header: {e}"))
                        .hint("the first line names the columns: `id,type,groups` then one column per attribute"),
                    0,
                    1,
                ))),
            });
        }
    };
    let header_text: Vec<String> = headers
        .iter()
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let column = |name: &str| header_text.iter().position(|h| h == name);
    let Some(id_col) = column("id") else {
        return Err(Unreadable::Problem(Box::new(Problem::new(
            Diagnostic::error("registry-header", "the CSV has no `id` column").hint(
                "the first line names the columns: `id,type,groups` then one column per attribute",
            ),
            0,
            headers.as_slice().len().max(1),
        ))));
    };
    let type_col = column("type");
    let groups_col = column("groups");
    let mut registry = Registry::new();
    // Attribute columns: every other one, named without an `attr.` prefix, interned once and
    // sorted by name, so rows arrive with their attributes in order.
    let mut attr_cols: Vec<(usize, NameId, &str)> = header_text
        .iter()
        .enumerate()
        .filter(|(c, _)| Some(*c) != type_col && Some(*c) != groups_col && *c != id_col)
        .map(|(c, h)| {
            let key = h.strip_prefix("attr.").unwrap_or(h);
            (c, registry.intern(key), key)
        })
        .collect();
    attr_cols.sort_by(|a, b| a.2.cmp(b.2));
    // Types and group lists repeat from row to row: intern each distinct text once.
    let mut types: HashMap<String, NameId> = HashMap::new();
    let mut group_lists: HashMap<String, Vec<NameId>> = HashMap::new();
    let mut positions = Vec::new();
    let mut problems = Capped::default();
    let mut record = csv::ByteRecord::new();
    loop {
        match reader.read_byte_record(&mut record) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => {
                if let csv::ErrorKind::Io(io) = e.kind() {
                    return Err(Unreadable::Io(io.to_string()));
                }
                let offset = e.position().map_or(0, csv::Position::byte);
                problems.push(Problem::new(
                    Diagnostic::error("registry-syntax", format!("invalid CSV row: {e}"))
                        .hint("every row needs as many fields as the header; quote fields that contain commas"),
                    offset,
                    1,
                ));
                continue;
            }
        }
        let (row_offset, line) = record.position().map_or((0, 0), |p| {
            (p.byte(), u32::try_from(p.line()).unwrap_or(u32::MAX))
        });
        // Position of a field: the row start plus the lengths of the fields before it.
        let field_offset = |col: usize| {
            let before: usize = record.iter().take(col).map(|f| f.len() + 1).sum();
            row_offset + before as u64
        };
        // One UTF-8 check per row; a field must also start and end on character boundaries.
        let Ok(row) = std::str::from_utf8(record.as_slice()) else {
            problems.push(not_utf8(row_offset));
            continue;
        };
        if (0..record.len()).any(|c| record.range(c).and_then(|r| row.get(r)).is_none()) {
            problems.push(not_utf8(row_offset));
            continue;
        }
        let field = |col: usize| {
            record
                .range(col)
                .and_then(|r| row.get(r))
                .unwrap_or_default()
        };
        let id = field(id_col);
        if !valid_device_id(id) {
            problems.push(Problem::new(
                Diagnostic::error(
                    "bad-device-id",
                    format!("`{}` is not a valid device id", id.escape_default()),
                )
                .hint(ID_RULE),
                field_offset(id_col),
                id.len(),
            ));
            continue;
        }
        let device_type = type_col.map(field).filter(|t| !t.is_empty()).map(|t| {
            if let Some(&n) = types.get(t) {
                return n;
            }
            let n = registry.intern(t);
            types.insert(t.to_owned(), n);
            n
        });
        let groups_text = groups_col.map(field).unwrap_or_default();
        if !group_lists.contains_key(groups_text) {
            let ids = groups_text
                .split([';', '|'])
                .map(str::trim)
                .filter(|g| !g.is_empty())
                .map(|g| registry.intern(g))
                .collect();
            group_lists.insert(groups_text.to_owned(), ids);
        }
        let groups = group_lists[groups_text].iter().copied();
        let attrs = attr_cols
            .iter()
            .map(|&(col, key, _)| (key, field(col)))
            .filter(|(_, v)| !v.is_empty());
        if registry
            .push_interned(id, device_type, groups, attrs)
            .is_err()
        {
            return Err(Unreadable::Io(
                "it holds more ids and attribute values than fleetform can index (4 GiB)"
                    .to_owned(),
            ));
        }
        positions.push(Pos {
            offset: u32::try_from(field_offset(id_col)).unwrap_or(u32::MAX),
            line,
        });
    }
    registry.shrink_to_fit();
    let registry = Arc::new(registry);
    duplicates(&registry, &positions, &mut problems);
    Ok(Loaded {
        registry,
        positions,
        problems,
        fingerprint: (0, 0),
    })
}

fn not_utf8(offset: u64) -> Problem {
    Problem::new(
        Diagnostic::error("registry-syntax", "this row is not UTF-8 text")
            .hint("save the file as UTF-8 (most spreadsheet tools offer `CSV UTF-8`)"),
        offset,
        1,
    )
}

/// Ids registered twice within the file: the later ones, pointing at the first.
fn duplicates(registry: &Registry, positions: &[Pos], problems: &mut Capped) {
    use std::hash::BuildHasher as _;
    // A table of device indices, hashed by id with a keyed hash (ids come from the file, so
    // a predictable hash would let a crafted file make this quadratic): 5 bytes per device.
    let state = std::collections::hash_map::RandomState::new();
    let hash = |i: u32| state.hash_one(registry.get(i as usize).id());
    let mut first: hashbrown::HashTable<u32> = hashbrown::HashTable::with_capacity(registry.len());
    for d in registry.iter() {
        let i = u32::try_from(d.index()).unwrap_or(u32::MAX);
        let h = state.hash_one(d.id());
        let seen = first
            .find(h, |&j| registry.get(j as usize).id() == d.id())
            .copied();
        let Some(f) = seen else {
            first.insert_unique(h, i, |&j| hash(j));
            continue;
        };
        let f = f as usize;
        let message = match positions[f].line {
            0 => format!(
                "device `{}` is registered twice (first as entry {})",
                d.id(),
                f + 1
            ),
            line => format!(
                "device `{}` is registered twice (first on line {line})",
                d.id()
            ),
        };
        problems.push(Problem::new(
            Diagnostic::error("duplicate-name", message)
                .hint("device ids are unique; remove or rename one of the entries"),
            u64::from(positions[d.index()].offset),
            d.id().len(),
        ));
    }
}

/// Parses a YAML registry already loaded into `sources` (a bare list, or a mapping with a
/// `devices` list). Problems are located in that source.
///
/// # Errors
/// [`Unreadable::Problem`] when the text is too large or not a list of devices.
pub fn read_yaml(sources: &Sources, id: SourceId) -> Result<Loaded, Unreadable> {
    let located = |d: Diagnostic| -> Unreadable {
        let span = d.location.map_or(ByteSpan { start: 0, len: 0 }, |l| l.span);
        Unreadable::Problem(Box::new(Problem {
            diag: Diagnostic {
                location: None,
                ..d
            },
            span,
        }))
    };
    let text = &sources.get(id).text;
    if text.len() > MAX_YAML_REGISTRY_BYTES {
        return Err(located(
            Diagnostic::error(
                "input-too-large",
                format!(
                    "`{}` is {}; fleetform reads YAML registries of at most {}",
                    sources.get(id).name,
                    size_text(text.len() as u64),
                    size_text(MAX_YAML_REGISTRY_BYTES as u64)
                ),
            )
            .hint(
                "write large registries as CSV (`id,type,groups,...`), which is read as a stream",
            ),
        ));
    }
    let root = match parse_yaml(sources, id, DocKind::Registry) {
        Ok(root) => root,
        Err(diags) => {
            let first = diags.into_iter().next().unwrap_or_else(|| {
                Diagnostic::error("registry-shape", "the registry cannot be read")
            });
            return Err(located(first));
        }
    };
    let json = root.to_json();
    let (list, base) = match json {
        serde_json::Value::Object(mut obj) if obj.contains_key("devices") => (
            obj.remove("devices").unwrap_or_default(),
            SpecPath::root().key("devices"),
        ),
        other => (other, SpecPath::root()),
    };
    let span_of =
        |root: &Node, path: &SpecPath| root.locate(path, crate::spec::node::Anchor::Value).0;
    let devices = match serde_path_to_error::deserialize::<_, Vec<RegisteredDevice>>(list) {
        Ok(devices) => devices,
        Err(e) => {
            let path = crate::validate::path_from_serde(e.path(), &base);
            return Err(Unreadable::Problem(Box::new(Problem {
                diag: Diagnostic::error("registry-shape", format!("invalid device entry: {}", e.inner()))
                    .hint("each device is `{id: sensor-001, type: TYPE, groups: [GROUP], attributes: {key: value}}`"),
                span: span_of(&root, &path),
            })));
        }
    };
    let mut registry = Registry::new();
    let mut positions = Vec::new();
    let mut problems = Capped::default();
    for (i, d) in devices.iter().enumerate() {
        let span = span_of(&root, &base.index(i).key("id"));
        if !valid_device_id(&d.id) {
            problems.push(Problem {
                diag: Diagnostic::error(
                    "bad-device-id",
                    format!("`{}` is not a valid device id", d.id.escape_default()),
                )
                .hint(ID_RULE),
                span,
            });
            continue;
        }
        let pushed = registry.push(
            &d.id,
            d.device_type.as_deref(),
            d.groups.iter().map(String::as_str),
            d.attributes.iter().map(|(k, v)| (k.as_str(), v.as_str())),
        );
        if pushed.is_err() {
            return Err(Unreadable::Io(
                "it holds more than fleetform can index".to_owned(),
            ));
        }
        positions.push(Pos {
            offset: u32::try_from(span.start).unwrap_or(u32::MAX),
            line: u32::try_from(sources.line_col(id, span.start).0).unwrap_or(0),
        });
    }
    registry.shrink_to_fit();
    let registry = Arc::new(registry);
    duplicates(&registry, &positions, &mut problems);
    Ok(Loaded {
        registry,
        positions,
        problems,
        fingerprint: fingerprint(text.as_bytes()),
    })
}

/// `1.5 MiB`, `512 MiB`, `300 bytes`: a size for a message.
pub(crate) fn size_text(bytes: u64) -> String {
    const MIB: u64 = 1024 * 1024;
    if bytes < MIB {
        format!("{bytes} bytes")
    } else if bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else {
        format!("{:.1} MiB", bytes as f64 / MIB as f64)
    }
}

/// Checks a registry file's devices against the spec: ids unique also against the inline
/// list, device types and groups declared. Problems point into the registry file.
pub fn check(spec: &crate::spec::FleetSpec, loaded: &Loaded) -> Capped {
    let mut problems = Capped::default();
    let types: Vec<&str> = spec
        .fleet
        .device_types
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    let groups: Vec<&str> = spec.fleet.groups.iter().map(|g| g.name.as_str()).collect();
    let inline: HashSet<&str> = spec
        .fleet
        .registry
        .as_ref()
        .map(|r| r.devices.iter().map(|d| d.id.as_str()).collect())
        .unwrap_or_default();
    let list = |names: &[&str]| {
        if names.is_empty() {
            "none are declared".to_owned()
        } else {
            format!(
                "declared: {}",
                names
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        }
    };
    // Whether each interned name is a declared type / group: one lookup per name, not per
    // device.
    let names = loaded.registry.names();
    let declared_type: Vec<bool> = names.iter().map(|n| types.contains(&&**n)).collect();
    let declared_group: Vec<bool> = names.iter().map(|n| groups.contains(&&**n)).collect();
    let aws = spec.clouds.aws.is_some();
    for d in loaded.registry.iter() {
        let (kind, member_of) = d.name_ids();
        let bad_type = kind.is_some_and(|k| !declared_type[k.index()]);
        let bad_group = member_of.clone().any(|g| !declared_group[g.index()]);
        let twice = !inline.is_empty() && inline.contains(d.id());
        // AWS IoT refuses some attribute names and values at apply (`AttributePayload`).
        let bad_attribute = aws
            && d.attributes()
                .any(|(k, v)| super::cloud_values::aws_attribute_problem(k, v).is_some());
        if !(bad_type || bad_group || twice || bad_attribute) {
            continue;
        }
        let at = loaded.positions[d.index()];
        let problem = |diag: Diagnostic| Problem::new(diag, u64::from(at.offset), d.id().len());
        if twice {
            problems.push(problem(
                Diagnostic::error(
                    "duplicate-name",
                    format!(
                        "device `{}` is also listed inline in `fleet.registry.devices`",
                        d.id()
                    ),
                )
                .hint("keep each device in one place: the file or the inline list"),
            ));
        }
        if aws {
            for (k, v) in d.attributes() {
                if let Some(why) = super::cloud_values::aws_attribute_problem(k, v) {
                    let why = why.message();
                    problems.push(problem(
                        Diagnostic::error("bad-attribute", format!("device `{}`: {why}", d.id()))
                            .hint(super::cloud_values::ATTRIBUTE_HINT),
                    ));
                }
            }
        }
        if let Some(t) = d.device_type().filter(|_| bad_type) {
            problems.push(problem(
                Diagnostic::error(
                    "unknown-reference",
                    format!(
                        "device `{}` has type `{t}`, which the spec does not declare",
                        d.id()
                    ),
                )
                .hint(format!("add it to `fleet.device_types` ({})", list(&types))),
            ));
        }
        for (g, id) in d.groups().zip(member_of) {
            if !declared_group[id.index()] {
                problems.push(problem(
                    Diagnostic::error(
                        "unknown-reference",
                        format!(
                            "device `{}` is in group `{g}`, which the spec does not declare",
                            d.id()
                        ),
                    )
                    .hint(format!("add it to `fleet.groups` ({})", list(&groups))),
                ));
            }
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    fn csv(text: &str) -> Loaded {
        read_csv(
            text.as_bytes(),
            crate::spec::load::MAX_REGISTRY_BYTES as u64,
        )
        .unwrap()
    }

    #[test]
    fn csv_rows_become_devices_with_positions() {
        let text = "id,type,groups,site,attr.fw\nm-1,meter,north;south,a,1.0\nm-2,,,,\n";
        let l = csv(text);
        assert_eq!(l.registry.len(), 2);
        let d = l.registry.get(0);
        assert_eq!(d.device_type(), Some("meter"));
        assert_eq!(d.groups().collect::<Vec<_>>(), ["north", "south"]);
        assert_eq!(
            d.attributes().collect::<Vec<_>>(),
            [("fw", "1.0"), ("site", "a")]
        );
        assert_eq!(l.positions[1].line, 3);
        assert_eq!(&text[l.positions[1].offset as usize..][..3], "m-2");
        assert!(l.problems.is_empty());
        assert_eq!(l.fingerprint, fingerprint(text.as_bytes()));
    }

    #[test]
    fn bad_rows_are_problems_and_the_rest_is_read() {
        let l = csv("id,type\nok-1,a\nbad/id,a\nok-2,b,extra\nok-1,b\n");
        assert_eq!(l.registry.len(), 2, "ok-1 twice");
        let codes: Vec<_> = l
            .problems
            .clone()
            .finish("r.csv")
            .into_iter()
            .map(|p| p.diag.code)
            .collect();
        assert!(codes.contains(&"bad-device-id"), "{codes:?}");
        assert!(codes.contains(&"registry-syntax"), "{codes:?}");
        assert!(codes.contains(&"duplicate-name"), "{codes:?}");
    }

    #[test]
    fn duplicates_name_the_first_line() {
        let l = csv("id\na\nb\na\n");
        let p = l.problems.finish("r.csv");
        assert_eq!(p.len(), 1);
        assert_eq!(
            p[0].diag.message,
            "device `a` is registered twice (first on line 2)"
        );
        assert_eq!(p[0].span, ByteSpan { start: 7, len: 1 });
    }

    #[test]
    fn problems_beyond_the_cap_are_counted() {
        let mut text = String::from("id\n");
        for i in 0..100 {
            text.push_str("bad/");
            text.push_str(&i.to_string());
            text.push('\n');
        }
        let p = csv(&text).problems.finish("r.csv");
        assert_eq!(p.len(), MAX_DIAGNOSTICS_PER_KIND + 1);
        assert_eq!(
            p.last().unwrap().diag.message,
            "…and 80 more invalid device ids in `r.csv`"
        );
    }

    #[test]
    fn every_format_is_refused_above_its_size_limit() {
        let Err(Unreadable::Problem(p)) = read_csv("id\nsensor-1\nsensor-2\n".as_bytes(), 8) else {
            panic!("refused")
        };
        assert_eq!(p.diag.code, "input-too-large");
        assert!(!p.diag.hints.is_empty());
        let mut sources = Sources::default();
        let big = format!("- id: a\n{}", "#".repeat(MAX_YAML_REGISTRY_BYTES));
        let id = sources.add("devices.yaml", big);
        let Err(Unreadable::Problem(p)) = read_yaml(&sources, id) else {
            panic!("refused")
        };
        assert_eq!(p.diag.code, "input-too-large");
        assert!(p.diag.hints[0].contains("CSV"), "{:?}", p.diag.hints);
    }

    #[test]
    fn a_missing_id_column_is_unreadable() {
        let Err(Unreadable::Problem(p)) = read_csv("name,type\na,b\n".as_bytes(), 100) else {
            panic!("refused")
        };
        assert_eq!(p.diag.code, "registry-header");
    }

    #[test]
    fn non_utf8_rows_are_problems() {
        let l = read_csv(&b"id,site\nok,a\nbad,\xff\xfe\n"[..], 100).unwrap();
        assert_eq!(l.registry.len(), 1);
        let p = l.problems.finish("r.csv");
        assert_eq!(p[0].diag.message, "this row is not UTF-8 text");
    }

    #[test]
    fn yaml_lists_become_devices() {
        let mut sources = Sources::default();
        let id = sources.add(
            "devices.yaml",
            "devices:\n  - {id: a, type: t, groups: [g], attributes: {k: v}}\n  - {id: a}\n",
        );
        let l = read_yaml(&sources, id).unwrap();
        assert_eq!(l.registry.len(), 2);
        assert_eq!(
            l.registry.get(0).attributes().collect::<Vec<_>>(),
            [("k", "v")]
        );
        let p = l.problems.finish("devices.yaml");
        assert_eq!(
            p[0].diag.message,
            "device `a` is registered twice (first on line 2)"
        );
    }
}
