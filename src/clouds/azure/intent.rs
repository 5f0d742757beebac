//! The Azure side of the shipped intent tests (`tests/fleetform.tftest.hcl`, see
//! [`crate::plan::intent`]): a `mock_provider "azurerm"` whose data sources return values
//! the provider parses (UUIDs for tenant, client and object ids, full resource ids), the
//! subscription the required variable asks for, and the rejected values of every variable
//! validation.
//!
//! azurerm asks Entra ID for a token as soon as it is configured, so a plan without an
//! account is only possible with the provider mocked; the mock still validates every
//! configuration with the real provider's schema and validators.

use std::collections::BTreeSet;

use hcl::{Block, Expression, Structure};

use super::vars::Var;
use crate::plan::intent::{self, Intent};
use crate::plan::tf::{self, lit, obj};
use crate::plan::{FileContent, Module};

/// The subscription the tests plan in (a UUID, as the provider requires).
pub(super) const SUBSCRIPTION: &str = "00000000-0000-4000-8000-000000000001";
const TENANT: &str = "00000000-0000-4000-8000-000000000002";
const CLIENT: &str = "00000000-0000-4000-8000-000000000003";
const OBJECT: &str = "00000000-0000-4000-8000-000000000004";

/// The head of the test file.
const HEADER: [&str; 4] = [
    "What the fleet spec asks for, asserted on the planned values. Run it offline, with no Azure",
    "subscription: `terraform init -backend=false && terraform test` (the provider is mocked).",
    "A failing assertion names the spec key it checks: change the spec and rebuild rather than",
    "editing the generated files. Written by fleetform; rebuilt with the module.",
];

/// A collector with what every Azure root's tests need: the required subscription, and the
/// bad value of each variable validation.
pub(super) fn collector(variables: &[Var]) -> Intent {
    let mut intent = Intent::default();
    intent.variable("subscription_id", lit(SUBSCRIPTION));
    for v in variables {
        if let Some(validation) = &v.validation {
            intent.rejects(v.name, validation.rejects.clone());
        }
    }
    intent
}

fn mock_defaults(ty: &str, resource_group: &str, location: &str) -> Option<Expression> {
    Some(match ty {
        "azurerm_client_config" => obj([
            ("client_id", lit(CLIENT)),
            ("object_id", lit(OBJECT)),
            ("tenant_id", lit(TENANT)),
            ("subscription_id", lit(SUBSCRIPTION)),
        ]),
        "azurerm_resource_group" => obj([
            (
                "id",
                lit(format!(
                    "/subscriptions/{SUBSCRIPTION}/resourceGroups/{resource_group}"
                )),
            ),
            ("location", lit(location)),
        ]),
        _ => return None,
    })
}

/// Adds the test file (and its fixtures) to an Azure module, with a mock provider for the
/// data sources the module's files read.
pub(super) fn write_tests(
    module: &mut Module,
    intent: &Intent,
    resource_group: &str,
    location: &str,
) {
    if intent.is_empty() {
        return;
    }
    let mut types = BTreeSet::new();
    for content in module.files.values() {
        if let FileContent::Hcl(body) = content {
            for s in body {
                if let Structure::Block(b) = s
                    && b.identifier.as_str() == "data"
                    && let Some(ty) = b.labels.first()
                {
                    types.insert(ty.as_str().to_owned());
                }
            }
        }
    }
    let mut mock = tf::block("mock_provider").add_label("azurerm");
    for ty in types {
        if let Some(defaults) = mock_defaults(&ty, resource_group, location) {
            mock = mock.add_block(
                tf::block("mock_data")
                    .add_label(ty.as_str())
                    .add_attribute(("defaults", defaults))
                    .build(),
            );
        }
    }
    let mock: Block = mock.build();
    let (file, fixtures) = intent.render(mock, &HEADER);
    module.hcl(intent::TEST_FILE, file);
    for (path, text) in fixtures {
        module.text(path, text);
    }
}
