//! Small conveniences over [`crate::plan::tf`] that keep the AWS planner readable.
//!
//! Resource blocks here carry many attributes, nested blocks, explanations and checkov skips;
//! [`BlockExt`] lets each read as one chain. [`tpl`] builds interpolated strings whose text
//! parts are *escaped* (`${` becomes `$${`, quotes and backslashes are escaped), so names that
//! embed a route or alert name from the spec stay literal text, never Terraform syntax.

use hcl::{Attribute, Block, BlockBuilder, Expression};

use crate::plan::tf::{self, r};

/// Chaining helpers for block builders.
pub(super) trait BlockExt: Sized {
    /// `key = value`.
    fn attr(self, key: &str, value: Expression) -> Self;
    /// A nested block.
    fn child(self, block: Block) -> Self;
    /// A `# text` comment line.
    fn note(self, text: &str) -> Self;
    /// A checkov inline skip with the reason a reviewer reads.
    fn skip(self, check: &str, reason: &str) -> Self;
    /// Applies `f` only when `cond` holds.
    fn when(self, cond: bool, f: impl FnOnce(Self) -> Self) -> Self {
        if cond { f(self) } else { self }
    }
    /// Applies `f` to every item.
    fn each<T>(self, items: impl IntoIterator<Item = T>, f: impl FnMut(Self, T) -> Self) -> Self {
        items.into_iter().fold(self, f)
    }
}

impl BlockExt for BlockBuilder {
    fn attr(self, key: &str, value: Expression) -> Self {
        self.add_attribute(Attribute::new(tf::ident(key), value))
    }
    fn child(self, block: Block) -> Self {
        self.add_block(block)
    }
    fn note(self, text: &str) -> Self {
        self.add_attribute(tf::comment(text))
    }
    fn skip(self, check: &str, reason: &str) -> Self {
        self.note(&format!("checkov:skip={check}: {reason}"))
    }
}

/// Part of an interpolated string built by [`tpl`].
pub(super) enum Seg {
    /// Literal text, escaped on the way in.
    Text(String),
    /// An interpolated expression (`local.name_prefix`).
    Ref(Expression),
}

/// Text segment.
pub(super) fn t(s: impl Into<String>) -> Seg {
    Seg::Text(s.into())
}

/// Reference segment.
pub(super) fn rf(path: &str) -> Seg {
    Seg::Ref(r(path))
}

/// An interpolated string; text segments are escaped, so they can never open an
/// interpolation.
pub(super) fn tpl(segs: impl IntoIterator<Item = Seg>) -> Expression {
    tf::interp(segs.into_iter().map(|seg| match seg {
        Seg::Text(text) => tf::Part::Text(text),
        Seg::Ref(expr) => tf::Part::Ref(expr),
    }))
}

/// `"${local.name_prefix}-<suffix>"`: the name of a stack resource.
pub(super) fn named(suffix: &str) -> Expression {
    tpl([rf("local.name_prefix"), t(format!("-{suffix}"))])
}

/// `"${local.name_prefix}-<suffix>-${local.account_id}"`: globally unique bucket names.
pub(super) fn named_global(suffix: &str) -> Expression {
    tpl([
        rf("local.name_prefix"),
        t(format!("-{suffix}-")),
        rf("local.account_id"),
    ])
}

/// `"${<path>}/<suffix>"`, for object ARNs under a bucket ARN.
pub(super) fn under(path: &str, suffix: &str) -> Expression {
    tpl([rf(path), t(suffix)])
}

/// `"${path.module}/<rel>"`.
pub(super) fn module_path(rel: &str) -> Expression {
    tpl([rf("path.module"), t(format!("/{rel}"))])
}

/// `<resource>[*].<attr>`, for resources with `count`.
pub(super) fn splat(resource: &str, attr: &str) -> Expression {
    let mut parts = resource.split('.');
    let root = parts.next().unwrap_or("null");
    let mut b = hcl::Traversal::builder(hcl::Variable::sanitized(root));
    for p in parts {
        b = b.attr(tf::ident(p));
    }
    b.full_splat().attr(tf::ident(attr)).build().into()
}

/// An empty lifecycle `filter` (every object); `prefix = ""` because an empty block does
/// not survive formatting.
pub(super) fn all_objects() -> Block {
    tf::block("filter").attr("prefix", tf::lit("")).build()
}

/// Resource label for a spec name (already `[a-z][a-z0-9_]*`, sanitized anyway).
pub(super) fn label(name: &str) -> String {
    tf::ident(&name.replace('-', "_")).to_string()
}

/// Labels for a list of names (`prefix_name`), unique even when names differ only in
/// characters an identifier cannot hold (`door-sensor` and `door_sensor`, `a:b`).
pub(super) fn unique_labels<'a>(
    prefix: &str,
    names: impl IntoIterator<Item = &'a str>,
) -> std::collections::BTreeMap<String, String> {
    let mut out = std::collections::BTreeMap::new();
    let mut taken = std::collections::BTreeSet::new();
    for name in names {
        let base = format!("{prefix}_{}", label(&name.replace(':', "_")));
        let mut candidate = base.clone();
        let mut n = 2;
        while !taken.insert(candidate.clone()) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        out.insert(name.to_owned(), candidate);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn render(e: &Expression) -> String {
        hcl::format::to_string(e).unwrap()
    }

    #[test]
    fn text_segments_cannot_open_interpolations() {
        let e = tpl([rf("local.a"), t("/${evil}\"%{x}\\")]);
        assert_eq!(render(&e), r#""${local.a}/$${evil}\"%%{x}\\""#);
    }

    #[test]
    fn labels_stay_unique() {
        let l = unique_labels("type", ["door-sensor", "door_sensor", "a:b"]);
        assert_eq!(l["door-sensor"], "type_door_sensor");
        assert_eq!(l["door_sensor"], "type_door_sensor_2");
        assert_eq!(l["a:b"], "type_a_b");
    }

    #[test]
    fn names_interpolate_the_prefix() {
        assert_eq!(
            render(&named("archive")),
            r#""${local.name_prefix}-archive""#
        );
        assert_eq!(
            render(&named_global("firmware")),
            r#""${local.name_prefix}-firmware-${local.account_id}""#
        );
    }
}
