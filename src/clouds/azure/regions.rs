//! Azure locations: a misspelled `location` (`westeurop`) is accepted by every tool until
//! Azure Resource Manager refuses the first resource at `terraform apply`, so validation
//! checks each location the spec names against the public, government and China clouds'
//! physical regions, with the nearest real name. Unlike the AWS lists (botocore's data),
//! this one is written by hand from Azure's published region names (the `name` column of
//! `az account list-locations`), since no tool on the build machine carries it; a name near
//! none of them may be a region opened since, so that is a warning, not an error.

use crate::diagnostics::{Diagnostic, Diagnostics};
use crate::model::Model;
use crate::spec::node::SpecPath;

/// Physical Azure regions, by the name Resource Manager takes.
pub const LOCATIONS: &[&str] = &[
    "australiacentral",
    "australiacentral2",
    "australiaeast",
    "australiasoutheast",
    "austriaeast",
    "belgiumcentral",
    "brazilsouth",
    "brazilsoutheast",
    "canadacentral",
    "canadaeast",
    "centralindia",
    "centralus",
    "centraluseuap",
    "chilecentral",
    "denmarkeast",
    "eastasia",
    "eastus",
    "eastus2",
    "eastus2euap",
    "francecentral",
    "francesouth",
    "germanynorth",
    "germanywestcentral",
    "indonesiacentral",
    "israelcentral",
    "italynorth",
    "japaneast",
    "japanwest",
    "jioindiacentral",
    "jioindiawest",
    "koreacentral",
    "koreasouth",
    "malaysiawest",
    "mexicocentral",
    "newzealandnorth",
    "northcentralus",
    "northeurope",
    "norwayeast",
    "norwaywest",
    "polandcentral",
    "qatarcentral",
    "southafricanorth",
    "southafricawest",
    "southcentralus",
    "southeastasia",
    "southindia",
    "spaincentral",
    "swedencentral",
    "swedensouth",
    "switzerlandnorth",
    "switzerlandwest",
    "taiwannorth",
    "taiwannorthwest",
    "uaecentral",
    "uaenorth",
    "uksouth",
    "ukwest",
    "westcentralus",
    "westeurope",
    "westindia",
    "westus",
    "westus2",
    "westus3",
    // Azure Government and Azure China.
    "usgovarizona",
    "usgovtexas",
    "usgovvirginia",
    "usdodcentral",
    "usdodeast",
    "chinaeast",
    "chinaeast2",
    "chinaeast3",
    "chinanorth",
    "chinanorth2",
    "chinanorth3",
];

/// Every location `model`'s Azure stack names (the stack's, and each linked hub's), checked:
/// an error for a near miss of a real name, a warning for a name near none.
pub(super) fn check(model: &Model) -> Diagnostics {
    let mut out = Diagnostics::new();
    let Some(az) = &model.azure else {
        return out;
    };
    let mut named = vec![(
        az.location.as_str(),
        SpecPath::parse("clouds.azure.location"),
    )];
    // One hub per linked hub, in order; a single hub in the stack's location may be unlinked.
    for (i, hub) in az.hubs.iter().enumerate() {
        if az.hubs.len() > 1 || hub.location != az.location {
            named.push((
                hub.location.as_str(),
                SpecPath::parse("clouds.azure.dps.linked_hubs")
                    .index(i)
                    .key("location"),
            ));
        }
    }
    for (location, at) in named {
        if LOCATIONS.contains(&location) {
            continue;
        }
        out.push(match crate::clouds::closest(location, LOCATIONS) {
            Some(near) => Diagnostic::error(
                "unknown-region",
                format!("`{location}` is not an Azure location"),
            )
            .at(at)
            .hint(format!("did you mean `{near}`?")),
            None => Diagnostic::warning(
                "unknown-region",
                format!("`{location}` is no Azure location fleetform knows: Resource Manager refuses the first resource if it does not exist"),
            )
            .at(at)
            .hint("check it with `az account list-locations --query \"[].name\"`"),
        });
    }
    out
}
