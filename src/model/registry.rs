//! The device registry, stored by column so a million devices fit in tens of megabytes.
//!
//! A `Vec` of devices with a `String` id, an optional type, a `Vec` of groups and a map of
//! attributes costs several hundred bytes and five or more allocations per device: over a
//! gigabyte for a million. Here every id and attribute value lives in one text buffer, every
//! type, group and attribute name is interned once, and a device is a 20-byte row of offsets
//! into them (about 70 bytes per device in all for a typical registry). Planners read devices
//! through [`Device`] views and [`DeviceRange`]s, which borrow or share the one copy.

use std::collections::HashMap;
use std::ops::Range;
use std::sync::Arc;

/// "No device type" in a row.
const NO_TYPE: u32 = u32::MAX;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Row {
    /// Start of the id in `text`.
    id: u32,
    id_len: u8,
    /// Interned type name, or [`NO_TYPE`].
    kind: u32,
    /// Start of this device's groups in `groups`; they end where the next row's start.
    groups: u32,
    /// Start of this device's attributes in `attrs`.
    attrs: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Attr {
    /// Interned attribute name.
    key: u32,
    /// The value, in `text`.
    at: u32,
    len: u32,
}

/// Pre-registered devices, in registry order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registry {
    text: String,
    names: Vec<Box<str>>,
    name_index: HashMap<Box<str>, u32>,
    rows: Vec<Row>,
    groups: Vec<u32>,
    attrs: Vec<Attr>,
}

/// An interned type, group or attribute name of a [`Registry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NameId(u32);

impl NameId {
    /// Position in [`Registry::names`].
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Why a device could not be added.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Full {
    /// The id is longer than 255 bytes (valid ids have at most 128).
    #[error("the device id is longer than 255 bytes")]
    IdTooLong,
    /// The registry's text passed 4 GiB (the file cap keeps it far below).
    #[error("the registry holds more than 4 GiB of ids and attribute values")]
    TooMuchText,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// Number of devices.
    pub fn len(&self) -> usize {
        self.rows.len()
    }

    /// Whether there are no devices.
    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// Device `i`, in registry order.
    ///
    /// # Panics
    /// When `i` is out of range.
    pub fn get(&self, i: usize) -> Device<'_> {
        assert!(i < self.rows.len(), "device {i} of {}", self.rows.len());
        Device { reg: self, i }
    }

    /// Every device, in registry order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = Device<'_>> + '_ {
        (0..self.rows.len()).map(|i| Device { reg: self, i })
    }

    /// Whether any device is in a group.
    pub fn any_groups(&self) -> bool {
        !self.groups.is_empty()
    }

    /// Attribute names used by any device, sorted.
    pub fn attribute_names(&self) -> Vec<&str> {
        let mut used = vec![false; self.names.len()];
        for a in &self.attrs {
            used[a.key as usize] = true;
        }
        let mut names: Vec<&str> = used
            .iter()
            .enumerate()
            .filter(|(_, u)| **u)
            .map(|(i, _)| &*self.names[i])
            .collect();
        names.sort_unstable();
        names
    }

    /// Bytes held, roughly (for benchmarks and the explanation of memory use).
    pub fn heap_bytes(&self) -> usize {
        self.text.capacity()
            + self.rows.capacity() * std::mem::size_of::<Row>()
            + self.groups.capacity() * 4
            + self.attrs.capacity() * std::mem::size_of::<Attr>()
            + self.names.iter().map(|n| n.len() * 2 + 48).sum::<usize>()
    }

    /// The id of the name at `index` in [`Registry::names`].
    pub fn name_id(&self, index: usize) -> NameId {
        NameId(u32::try_from(index).unwrap_or(u32::MAX))
    }

    /// Every interned name, by [`NameId::index`].
    pub fn names(&self) -> &[Box<str>] {
        &self.names
    }

    /// The id of `name`, interning it if it is new.
    pub fn intern(&mut self, name: &str) -> NameId {
        if let Some(&i) = self.name_index.get(name) {
            return NameId(i);
        }
        let i = u32::try_from(self.names.len()).unwrap_or(u32::MAX - 1);
        self.names.push(name.into());
        self.name_index.insert(name.into(), i);
        NameId(i)
    }

    fn push_text(&mut self, s: &str) -> Result<(u32, u32), Full> {
        let at = u32::try_from(self.text.len()).map_err(|_| Full::TooMuchText)?;
        let len = u32::try_from(s.len()).map_err(|_| Full::TooMuchText)?;
        if at.checked_add(len).is_none() {
            return Err(Full::TooMuchText);
        }
        self.text.push_str(s);
        Ok((at, len))
    }

    /// Appends a device. Attributes are stored sorted by name; later duplicates of a name win.
    ///
    /// # Errors
    /// [`Full`] when the id or the registry is too large to index.
    pub fn push<'a>(
        &mut self,
        id: &str,
        device_type: Option<&str>,
        groups: impl IntoIterator<Item = &'a str>,
        attributes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(), Full> {
        let kind = device_type.map(|t| self.intern(t));
        let groups: Vec<NameId> = groups.into_iter().map(|g| self.intern(g)).collect();
        let attributes: Vec<(NameId, &str)> = attributes
            .into_iter()
            .map(|(k, v)| (self.intern(k), v))
            .collect();
        self.push_interned(id, kind, groups, attributes)
    }

    /// Appends a device whose names are interned already (the fast path of a CSV reader,
    /// which interns each column name once).
    ///
    /// # Errors
    /// [`Full`] when the id or the registry is too large to index.
    pub fn push_interned<'a>(
        &mut self,
        id: &str,
        device_type: Option<NameId>,
        groups: impl IntoIterator<Item = NameId>,
        attributes: impl IntoIterator<Item = (NameId, &'a str)>,
    ) -> Result<(), Full> {
        let id_len = u8::try_from(id.len()).map_err(|_| Full::IdTooLong)?;
        let (at, _) = self.push_text(id)?;
        let kind = device_type.map_or(NO_TYPE, |t| t.0);
        let groups_start = u32::try_from(self.groups.len()).map_err(|_| Full::TooMuchText)?;
        self.groups.extend(groups.into_iter().map(|g| g.0));
        let attrs_start = u32::try_from(self.attrs.len()).map_err(|_| Full::TooMuchText)?;
        for (key, v) in attributes {
            let (at, len) = self.push_text(v)?;
            self.attrs.push(Attr {
                key: key.0,
                at,
                len,
            });
        }
        let names = &self.names;
        let name = |a: &Attr| &names[a.key as usize];
        let mine = &mut self.attrs[attrs_start as usize..];
        if !mine.windows(2).all(|w| name(&w[0]) < name(&w[1])) {
            // Stable, so of two values for one name the later stays last and wins below.
            mine.sort_by(|a, b| name(a).cmp(name(b)));
            let mut kept: Vec<Attr> = Vec::with_capacity(mine.len());
            for a in mine.iter() {
                match kept.last_mut() {
                    Some(last) if last.key == a.key => *last = *a,
                    _ => kept.push(*a),
                }
            }
            self.attrs.truncate(attrs_start as usize);
            self.attrs.extend(kept);
        }
        self.rows.push(Row {
            id: at,
            id_len,
            kind,
            groups: groups_start,
            attrs: attrs_start,
        });
        Ok(())
    }

    /// Appends every device of `other`.
    ///
    /// # Errors
    /// [`Full`] as [`Registry::push`].
    pub fn extend_from(&mut self, other: &Registry) -> Result<(), Full> {
        for d in other.iter() {
            self.push(d.id(), d.device_type(), d.groups(), d.attributes())?;
        }
        Ok(())
    }

    /// Frees spare capacity once the registry is complete.
    pub fn shrink_to_fit(&mut self) {
        self.text.shrink_to_fit();
        self.rows.shrink_to_fit();
        self.groups.shrink_to_fit();
        self.attrs.shrink_to_fit();
    }

    fn groups_of(&self, i: usize) -> &[u32] {
        let start = self.rows[i].groups as usize;
        let end = self
            .rows
            .get(i + 1)
            .map_or(self.groups.len(), |r| r.groups as usize);
        &self.groups[start..end]
    }

    fn attrs_of(&self, i: usize) -> &[Attr] {
        let start = self.rows[i].attrs as usize;
        let end = self
            .rows
            .get(i + 1)
            .map_or(self.attrs.len(), |r| r.attrs as usize);
        &self.attrs[start..end]
    }

    fn str_at(&self, at: u32, len: u32) -> &str {
        &self.text[at as usize..(at + len) as usize]
    }
}

/// One device of a [`Registry`].
#[derive(Debug, Clone, Copy)]
pub struct Device<'a> {
    reg: &'a Registry,
    i: usize,
}

impl<'a> Device<'a> {
    /// Position in the registry.
    pub fn index(&self) -> usize {
        self.i
    }

    /// Device id (AWS thing name, Azure device id).
    pub fn id(&self) -> &'a str {
        let r = self.reg.rows[self.i];
        self.reg.str_at(r.id, u32::from(r.id_len))
    }

    /// Interned device type and group names (for checks that look them up once per name).
    pub fn name_ids(
        &self,
    ) -> (
        Option<NameId>,
        impl ExactSizeIterator<Item = NameId> + Clone + 'a,
    ) {
        let k = self.reg.rows[self.i].kind;
        (
            (k != NO_TYPE).then_some(NameId(k)),
            self.reg.groups_of(self.i).iter().map(|g| NameId(*g)),
        )
    }

    /// Device type name.
    pub fn device_type(&self) -> Option<&'a str> {
        let k = self.reg.rows[self.i].kind;
        (k != NO_TYPE).then(|| &*self.reg.names[k as usize])
    }

    /// Group names, in registry order.
    pub fn groups(&self) -> impl ExactSizeIterator<Item = &'a str> + 'a {
        let reg = self.reg;
        reg.groups_of(self.i)
            .iter()
            .map(move |g| &*reg.names[*g as usize])
    }

    /// Whether the device is in any group.
    pub fn has_groups(&self) -> bool {
        !self.reg.groups_of(self.i).is_empty()
    }

    /// Interned attribute names, sorted by name.
    pub fn attribute_ids(&self) -> impl ExactSizeIterator<Item = NameId> + 'a {
        self.reg.attrs_of(self.i).iter().map(|a| NameId(a.key))
    }

    /// Attributes as (name, value), sorted by name.
    pub fn attributes(&self) -> impl ExactSizeIterator<Item = (&'a str, &'a str)> + 'a {
        let reg = self.reg;
        reg.attrs_of(self.i)
            .iter()
            .map(move |a| (&*reg.names[a.key as usize], reg.str_at(a.at, a.len)))
    }
}

/// A contiguous run of devices of a shared registry: a registry shard, or all of it.
#[derive(Debug, Clone)]
pub struct DeviceRange {
    registry: Arc<Registry>,
    range: Range<usize>,
}

impl DeviceRange {
    /// Every device of `registry`.
    pub fn all(registry: &Arc<Registry>) -> Self {
        Self {
            registry: Arc::clone(registry),
            range: 0..registry.len(),
        }
    }

    /// Devices `range` of `registry` (clamped to its length).
    pub fn new(registry: &Arc<Registry>, range: Range<usize>) -> Self {
        let end = range.end.min(registry.len());
        Self {
            registry: Arc::clone(registry),
            range: range.start.min(end)..end,
        }
    }

    /// Splits `registry` into runs of at most `size` devices.
    pub fn chunks(registry: &Arc<Registry>, size: usize) -> Vec<Self> {
        let size = size.max(1);
        (0..registry.len().div_ceil(size))
            .map(|i| Self::new(registry, i * size..(i + 1) * size))
            .collect()
    }

    pub fn len(&self) -> usize {
        self.range.len()
    }

    pub fn is_empty(&self) -> bool {
        self.range.is_empty()
    }

    pub fn iter(&self) -> impl ExactSizeIterator<Item = Device<'_>> + '_ {
        self.range.clone().map(|i| self.registry.get(i))
    }

    pub fn first(&self) -> Option<Device<'_>> {
        (!self.is_empty()).then(|| self.registry.get(self.range.start))
    }

    pub fn last(&self) -> Option<Device<'_>> {
        (!self.is_empty()).then(|| self.registry.get(self.range.end - 1))
    }

    /// Whether any device in the range is in a group.
    pub fn any_groups(&self) -> bool {
        self.iter().any(|d| d.has_groups())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_read_back_as_written() {
        let mut r = Registry::new();
        r.push(
            "a-1",
            Some("meter"),
            ["north", "all"],
            [("site", "x"), ("fw", "1.2")],
        )
        .unwrap();
        r.push("a-2", None, [], []).unwrap();
        r.push(
            "a-3",
            Some("meter"),
            ["all"],
            [("b", "1"), ("a", "2"), ("b", "3")],
        )
        .unwrap();
        assert_eq!(r.len(), 3);
        let d = r.get(0);
        assert_eq!(d.id(), "a-1");
        assert_eq!(d.device_type(), Some("meter"));
        assert_eq!(d.groups().collect::<Vec<_>>(), ["north", "all"]);
        assert_eq!(
            d.attributes().collect::<Vec<_>>(),
            [("fw", "1.2"), ("site", "x")],
            "sorted by name"
        );
        let d = r.get(1);
        assert_eq!(
            (d.id(), d.device_type(), d.has_groups()),
            ("a-2", None, false)
        );
        assert_eq!(d.attributes().len(), 0);
        assert_eq!(
            r.get(2).attributes().collect::<Vec<_>>(),
            [("a", "2"), ("b", "3")],
            "the later value of a repeated name wins"
        );
        assert_eq!(r.attribute_names(), ["a", "b", "fw", "site"]);
        assert!(r.any_groups());
    }

    #[test]
    fn ranges_split_and_share_one_registry() {
        let mut r = Registry::new();
        for i in 0..10 {
            r.push(&format!("d{i}"), None, [], []).unwrap();
        }
        let r = Arc::new(r);
        let chunks = DeviceRange::chunks(&r, 4);
        assert_eq!(
            chunks.iter().map(DeviceRange::len).collect::<Vec<_>>(),
            [4, 4, 2]
        );
        assert_eq!(chunks[2].first().unwrap().id(), "d8");
        assert_eq!(chunks[2].last().unwrap().id(), "d9");
        assert_eq!(Arc::strong_count(&r), 4);
        assert!(DeviceRange::chunks(&Arc::new(Registry::new()), 4).is_empty());
    }

    #[test]
    fn devices_stay_small() {
        let mut r = Registry::new();
        for i in 0..200_000 {
            let site = format!("site-{}", i % 997);
            r.push(
                &format!("dev-{i:08}"),
                Some("type-01"),
                ["fleet-01"],
                [("site", site.as_str()), ("model", "m1")],
            )
            .unwrap();
        }
        r.shrink_to_fit();
        let mib = r.heap_bytes() / (1024 * 1024);
        assert!(mib < 16, "{mib} MiB for 200,000 devices");
    }
}
