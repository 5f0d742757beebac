//! Input variables of the Azure module, defined once for `variables.tf` and the README.
//!
//! Everything a deployer must or may choose at apply time is a variable with a description
//! and, where Terraform can check it, a validation: the subscription, the region, extra tags,
//! where the fleet CA lives on disk, and the addresses allowed through the firewalls that
//! Terraform itself has to pass. Everything the spec decided is a literal.

use hcl::Expression;

use hcl::expr::BinaryOperator::{And, Eq, GreaterEq, LessEq, Mod, Or};

use super::{Design, Hcl, bin, paren};
use crate::model::Encryption;
use crate::plan::tf::{self, TfFile, lit, r};

/// One input variable.
pub(crate) struct Var {
    pub name: &'static str,
    pub ty: &'static str,
    pub description: &'static str,
    pub default: Option<Expression>,
    pub validation: Option<tf::Validation>,
}

fn var(name: &'static str, ty: &'static str, description: &'static str) -> Var {
    Var {
        name,
        ty,
        description,
        default: None,
        validation: None,
    }
}

impl Var {
    fn default(mut self, e: Expression) -> Self {
        self.default = Some(e);
        self
    }
    /// A validation, with a value it rejects (the shipped tests plan with it).
    fn validate(
        mut self,
        condition: Expression,
        message: &'static str,
        rejects: Expression,
    ) -> Self {
        self.validation = Some(tf::validation(condition, message, rejects));
        self
    }
}

/// `alltrue([for v in var.NAME : can(cidrhost(...)) || can(regex(IPv4, v))])`.
fn ip_list_check(name: &str) -> Expression {
    tf::call(
        "alltrue",
        [tf::for_list(
            "v",
            r(&format!("var.{name}")),
            bin(
                tf::call("can", [tf::call("cidrhost", [r("v"), tf::num(0)])]),
                Or,
                tf::call(
                    "can",
                    [tf::call("regex", [lit(r"^\d{1,3}(\.\d{1,3}){3}$"), r("v")])],
                ),
            ),
        )],
    )
}

/// `var >= lo && var <= hi`.
fn between(var: &str, lo: u32, hi: u32) -> Expression {
    bin(
        bin(r(var), GreaterEq, tf::num(lo)),
        And,
        bin(r(var), LessEq, tf::num(hi)),
    )
}

/// The variables the design needs, in the order `variables.tf` lists them.
pub(crate) fn variables(d: &Design) -> Vec<Var> {
    let mut out = vec![
        var(
            "subscription_id",
            "string",
            "Azure subscription to deploy the fleet into.",
        )
        .validate(
            tf::call(
                "can",
                [tf::call(
                    "regex",
                    [lit("^[0-9a-fA-F-]{36}$"), r("var.subscription_id")],
                )],
            ),
            "The subscription id is a GUID.",
            lit("my-subscription"),
        ),
        var(
            "location",
            "string",
            "Azure region of the resource group and the shared services (DPS, Event Hubs, storage, monitoring). IoT hubs stay in the locations the fleet spec links.",
        )
        .default(lit(&d.az.location))
        .validate(
            tf::call(
                "can",
                [tf::call(
                    "regex",
                    [lit("^[a-z][a-z0-9]{2,30}$"), r("var.location")],
                )],
            ),
            "Use the region's programmatic name, such as westeurope.",
            lit("West Europe"),
        ),
        var(
            "extra_tags",
            "map(string)",
            "Tags added to every resource, on top of the ones from the fleet spec.",
        )
        .default(tf::obj::<&str>([])),
    ];
    if d.ca_upload() {
        out.push(
            var(
                "spec_dir",
                "string",
                "Folder of the fleet spec, relative to this module or absolute. The default assumes the output folder sits next to the spec (`fleetform build fleet.yaml --out terraform`).",
            )
            .default(lit(d.m.spec_dir_from_module())),
        );
        out.push(
            var(
                "ca_certificate_file",
                "string",
                "PEM of the CA that signs device certificates, relative to spec_dir (or absolute). Uploaded to the DPS or the hubs; only the certificate, never its key.",
            )
            .default(lit(&d.m.identity.ca_certificate_file))
            .validate(
                tf::call(
                    "can",
                    [tf::call(
                        "regex",
                        [lit("\\.(pem|cer|crt)$"), r("var.ca_certificate_file")],
                    )],
                ),
                "The CA certificate is a .pem, .cer or .crt file.",
                lit("certs/signing-ca.key"),
            ),
        );
        let group_cas = super::dps::group_cas(d);
        if !group_cas.is_empty() {
            out.push(
                var(
                    "group_ca_certificate_files",
                    "map(string)",
                    "The CA of each X.509 enrollment group that does not use the fleet CA, by its DPS certificate name: PEM files relative to spec_dir (or absolute). DPS takes a certificate in one enrollment entry only.",
                )
                .default(tf::obj(
                    group_cas.iter().map(|(name, _, file)| (name.as_str(), lit(*file))),
                )),
            );
        }
        out.push(
            var(
                "ca_certificate_verified",
                "bool",
                "Mark the CA verified on upload instead of proving possession of its key (`fleetform certs verify-azure`). Only for a CA you control end to end.",
            )
            .default(tf::boolean(false)),
        );
    }
    if d.archive.is_some() {
        out.push(
            var(
                "storage_allowed_ip_ranges",
                "list(string)",
                "Public IPs or CIDR ranges allowed through the archive storage firewall, for people and tools that read the archive. Terraform itself needs none (the provider skips storage data-plane calls); IoT Hub and Event Hubs Capture get in as trusted Microsoft services.",
            )
            .default(tf::list([]))
            .validate(
                ip_list_check("storage_allowed_ip_ranges"),
                "Each entry is an IPv4 address or CIDR range.",
                tf::strings(["the office"]),
            ),
        );
    }
    if d.archive
        .is_some_and(|a| a.encryption == Encryption::CustomerManaged)
    {
        out.push(
            var(
                "key_vault_allowed_ip_ranges",
                "list(string)",
                "Public IPs or CIDR ranges allowed through the key vault firewall. Terraform creates the archive key through the vault's data plane, so include the address it runs from unless it runs inside a trusted network.",
            )
            .default(tf::list([]))
            .validate(
                ip_list_check("key_vault_allowed_ip_ranges"),
                "Each entry is an IPv4 address or CIDR range.",
                tf::strings(["the office"]),
            ),
        );
    }
    if d.ota {
        out.push(
            var(
                "device_update_principal_id",
                "string",
                "Object id of the \"Azure Device Update\" service principal in your tenant, granted IoT Hub Data Contributor on every hub so Device Update can deploy: `az ad sp list --display-name \"Azure Device Update\" --query \"[0].id\" -o tsv`.",
            )
            .validate(
                tf::call(
                    "can",
                    [tf::call(
                        "regex",
                        [
                            lit("^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"),
                            r("var.device_update_principal_id"),
                        ],
                    )],
                ),
                "An object id (a UUID).",
                lit("Azure Device Update"),
            ),
        );
    }
    if d.m.features.state_store {
        out.push(
            var(
                "state_store_ttl_days",
                "number",
                "Days a state document lives in Cosmos DB before it expires. Every routed message is one document, so the newest per device is its latest state.",
            )
            .default(tf::num(30))
            .validate(
                between("var.state_store_ttl_days", 1, 3650),
                "Between 1 and 3650 days.",
                tf::num(0),
            ),
        );
        out.push(
            var(
                "state_store_allowed_ip_ranges",
                "list(string)",
                "Public IPs or CIDR ranges of readers outside Azure (an office, a CI runner) allowed through the state store's firewall, which otherwise admits only Azure datacenters (where IoT Hub routing writes from); when no route writes to it, these are the only clients, and with none listed its public endpoint is closed.",
            )
            .default(tf::list([]))
            .validate(
                ip_list_check("state_store_allowed_ip_ranges"),
                "Each entry is an IPv4 address or CIDR range.",
                tf::strings(["the office"]),
            ),
        );
    }
    if d.m.features.analytics {
        out.push(
            var(
                "analytics_sku",
                "string",
                "Azure Data Explorer cluster size. Dev(No SLA)_Standard_E2a_v4 is cheaper for trials, without an SLA.",
            )
            .default(lit("Standard_E2ads_v5")),
        );
        out.push(
            var(
                "analytics_capacity",
                "number",
                "Instances in the Azure Data Explorer cluster (at least 2 for an SLA SKU).",
            )
            .default(tf::num(2))
            .validate(
                between("var.analytics_capacity", 1, 1000),
                "Between 1 and 1000 instances.",
                tf::num(0),
            ),
        );
    }
    if d.stream_analytics {
        out.push(
            var(
                "stream_analytics_streaming_units",
                "number",
                "Streaming units of the alert job: 1, 3, or a multiple of 6 up to 120.",
            )
            .default(tf::num(1))
            .validate(
                {
                    let su = || r("var.stream_analytics_streaming_units");
                    bin(
                        tf::call("contains", [tf::list([tf::num(1), tf::num(3)]), su()]),
                        Or,
                        paren(bin(
                            bin(bin(su(), Mod, tf::num(6)), Eq, tf::num(0)),
                            And,
                            bin(su(), LessEq, tf::num(120)),
                        )),
                    )
                },
                "Use 1, 3, or a multiple of 6 up to 120.",
                tf::num(4),
            ),
        );
    }
    out
}

/// `variables.tf`.
pub(crate) fn file(vars: &[Var]) -> TfFile {
    let mut f = TfFile::new();
    for v in vars {
        let mut b = tf::variable(v.name)
            .attr("description", lit(v.description))
            .attr("type", tf::type_expr(v.ty));
        if let Some(def) = &v.default {
            b = b.attr("default", def.clone());
        }
        if let Some(v) = &v.validation {
            b = b.block(v.block());
        }
        f.push(b.build());
    }
    f
}
