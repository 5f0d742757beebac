//! The small HCL vocabulary the Azure files share: block-builder conveniences, resource
//! labels and names derived from the stack, role assignments, managed identities, and the
//! Event Hubs namespace's endpoints.

use hcl::expr::{BinaryOp, BinaryOperator, Operation};
use hcl::{Block, BlockBuilder, Expression};

use crate::plan::tf::{self, Part, lit, r};

/// Conveniences on block builders, so resource code reads top to bottom.
pub(crate) trait Hcl: Sized {
    fn attr(self, key: &str, value: Expression) -> Self;
    fn block(self, block: Block) -> Self;
    fn note(self, text: &str) -> Self;
    /// A checkov inline skip with the reason a reviewer reads.
    fn skip(self, check: &str, reason: &str) -> Self {
        self.note(&format!("checkov:skip={check}: {reason}"))
    }
    /// `resource_group_name`, `location` and `tags` in the conventional order.
    fn placed(self) -> Self {
        self.attr("resource_group_name", r("local.resource_group_name"))
            .attr("location", r("local.location"))
    }
    fn tagged(self) -> Self {
        self.attr("tags", r("local.tags"))
    }
}

impl Hcl for BlockBuilder {
    fn attr(self, key: &str, value: Expression) -> Self {
        self.add_attribute((tf::ident(key), value))
    }
    fn block(self, block: Block) -> Self {
        self.add_block(block)
    }
    fn note(self, text: &str) -> Self {
        self.add_attribute(tf::comment(text))
    }
}

/// A label safe to use in a resource address (`overload`, `store_dashboard`).
pub(crate) fn tf_label(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    if s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s
    } else {
        format!("x_{s}")
    }
}

/// `"<kind>-${local.name_prefix}"`, with `-<suffix>` unless `suffix` is empty: the name of
/// a stack resource, led by Azure's abbreviation for its type (`log`, `func`, `id`).
pub(crate) fn named(kind: &'static str, suffix: &'static str) -> Expression {
    let mut parts = vec![
        Part::Lit(kind),
        Part::Lit("-"),
        Part::Ref(r("local.name_prefix")),
    ];
    if !suffix.is_empty() {
        parts.extend([Part::Lit("-"), Part::Lit(suffix)]);
    }
    tf::interp(parts)
}

/// A resource address with a label derived from a name: `azurerm_eventhub.alert_overload`.
pub(crate) fn addr(ty: &str, label: &str, attr: &str) -> Expression {
    r(&format!("{ty}.{}.{attr}", tf_label(label)))
}

/// `identity { type = "SystemAssigned" }`.
pub(crate) fn system_identity() -> Block {
    tf::block("identity")
        .attr("type", lit("SystemAssigned"))
        .build()
}

/// `depends_on = [a, b]`.
pub(crate) fn depends_on(refs: &[&str]) -> Expression {
    tf::list(refs.iter().map(|x| r(x)))
}

/// An `azurerm_role_assignment` granting `role` on `scope` to a managed identity.
pub(crate) fn role_assignment(
    label: &str,
    for_each: Option<Expression>,
    scope: Expression,
    role: &str,
    principal: Expression,
) -> Block {
    let mut b = tf::resource("azurerm_role_assignment", label);
    if let Some(fe) = for_each {
        b = b.attr("for_each", fe);
    }
    b.attr("scope", scope)
        .attr("role_definition_name", lit(role))
        .attr("principal_id", principal)
        // Service principals of managed identities may not have replicated yet; saying what
        // they are skips the directory lookup that fails in that window.
        .attr("principal_type", lit("ServicePrincipal"))
        .build()
}

/// `lhs OP rhs`.
pub(crate) fn bin(lhs: Expression, op: BinaryOperator, rhs: Expression) -> Expression {
    Expression::Operation(Box::new(Operation::Binary(BinaryOp::new(lhs, op, rhs))))
}

/// `(expr)`.
pub(crate) fn paren(e: Expression) -> Expression {
    Expression::Parenthesis(Box::new(e))
}

/// A name derived from the stack, cut to a service's length limit without a trailing `-`.
pub(crate) fn bounded(name: &str, max: usize) -> String {
    let cut: String = name.chars().take(max).collect();
    cut.trim_end_matches('-').to_owned()
}

/// `"sb://${azurerm_eventhub_namespace.this.name}.servicebus.windows.net"`.
pub(crate) fn eventhubs_uri() -> Expression {
    tf::interp([
        Part::Lit("sb://"),
        Part::Ref(r("azurerm_eventhub_namespace.this.name")),
        Part::Lit(".servicebus.windows.net"),
    ])
}

/// `"${azurerm_eventhub_namespace.this.name}.servicebus.windows.net"`.
pub(crate) fn eventhubs_fqdn() -> Expression {
    tf::interp([
        Part::Ref(r("azurerm_eventhub_namespace.this.name")),
        Part::Lit(".servicebus.windows.net"),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_are_identifiers() {
        assert_eq!(tf_label("store-dashboard"), "store_dashboard");
        assert_eq!(tf_label("9lives"), "x_9lives");
        assert_eq!(tf_label("a\"b${c}"), "a_b__c_");
    }

    #[test]
    fn named_resources_lead_with_their_kind() {
        let src = |e: &Expression| hcl::format::to_string(e).unwrap();
        assert_eq!(src(&named("log", "")), "\"log-${local.name_prefix}\"");
        assert_eq!(
            src(&named("id", "archive-cmk")),
            "\"id-${local.name_prefix}-archive-cmk\""
        );
    }

    #[test]
    fn bounded_names_do_not_end_in_a_hyphen() {
        assert_eq!(bounded("adu-cranes-prod", 11), "adu-cranes");
        assert_eq!(bounded("adu", 24), "adu");
    }
}
