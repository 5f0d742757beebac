//! What to tell each cloud when the signing CA rotates.
//!
//! The two clouds anchor trust at different levels, and that decides which certificate fleetform
//! asks you to register:
//!
//! - **AWS IoT** matches a device certificate to a registered CA by its *issuer*: "to register
//!   client certificates using CA, you must register the signing CA with AWS IoT, not any other
//!   CAs in the hierarchy", and JITP/JITR auto-registration hangs off that registered CA. So the
//!   *signing CA* is what gets registered (`certs verify-aws` defaults to it), the root never
//!   is, and a signing CA rotation is *not* invisible to AWS: the new signing CA must be
//!   registered (with its own verification certificate), activated, given auto-registration and
//!   the same provisioning template, while the old one stays ACTIVE for the devices it signed.
//! - **Azure DPS** accepts an enrollment group certificate that is verified itself or "rolls up to
//!   a verified certificate in the chain the device presents". So fleetform verifies the *root*
//!   once (`certs verify-azure` defaults to it) and points the enrollment group at the signing CA
//!   as an intermediate. Rotation then means adding the new signing CA as the group's secondary
//!   certificate; no new proof of possession is needed because it rolls up to the same verified
//!   root (if your DPS policy verifies intermediates too, `certs verify-azure --ca NEW` makes
//!   that certificate).
//!
//! Devices present `chain.pem` (device + signing CA), which satisfies both: AWS sees the
//! registered CA next to the device certificate on first connect, Azure can build the chain to
//! the verified root.

use std::fmt::Write as _;
use std::path::Path;

use time::OffsetDateTime;

use super::issue::date;

/// Facts the rotation instructions mention.
#[derive(Clone, Debug)]
pub struct RotationFacts<'a> {
    /// Directory holding the CA files.
    pub ca_dir: &'a Path,
    /// File stem of the new signing CA, e.g. `signing-ca-2027-01-15`.
    pub new_name: &'a str,
    /// Its common name.
    pub new_common_name: &'a str,
    /// File stem of the signing CA being replaced.
    pub old_name: &'a str,
    /// The replaced CA's expiry, if known.
    pub old_not_after: Option<OffsetDateTime>,
}

/// Step-by-step instructions for AWS IoT and Azure DPS, as plain text.
pub fn rotation_instructions(facts: &RotationFacts<'_>) -> String {
    let dir = facts.ca_dir.display();
    let new = facts.new_name;
    let old = facts.old_name;
    let old_until = facts.old_not_after.map_or_else(
        || "it expires".to_owned(),
        |t| format!("{} (its expiry)", date(t)),
    );
    let mut s = String::new();
    let _ = writeln!(
        s,
        "# Signing CA rotation: `{new}` (CN `{}`) next to `{old}`\n",
        facts.new_common_name
    );
    let _ = writeln!(
        s,
        "Nothing about the root changed, and `{old}` stays valid: devices that hold certificates from it keep working.\n\
         Issue new device certificates from the new CA with `fleetform certs device --ca-dir {dir} --ca {new} ...`.\n"
    );
    let _ = writeln!(
        s,
        "## AWS IoT (register the signing CA: AWS matches device certificates by their issuer)\n\n\
         The root was never registered with AWS, so this is not a no-op: JITP/JITR only work for\n\
         devices whose issuing CA is registered. Register the new signing CA the same way as the old one:\n\n\
         1. CODE=$(aws iot get-registration-code --query registrationCode --output text)\n\
         2. fleetform certs verify-aws --ca-dir {dir} --ca {new} --registration-code \"$CODE\"\n\
         3. aws iot register-ca-certificate --ca-certificate file://{dir}/{new}.pem \\\n\
         \x20     --verification-cert file://{dir}/aws-verification-{new}.pem \\\n\
         \x20     --set-as-active --allow-auto-registration \\\n\
         \x20     --registration-config file://jitp-template.json   # the template attached to `{old}`\n\
         4. Keep `{old}` ACTIVE until every device certificate it signed has been replaced or until {old_until};\n\
         \x20  then: aws iot update-ca-certificate --certificate-id <id of {old}> --new-status INACTIVE\n\
         If Terraform manages the CA registration (`aws_iot_ca_certificate`), add a second resource for\n\
         `{new}.pem` instead of replacing the first; only certificates (never keys) belong there.\n"
    );
    let _ = writeln!(
        s,
        "## Azure IoT Hub DPS (root verified once; enrollment group points at the signing CA)\n\n\
         1. az iot dps enrollment-group update --dps-name <DPS> --resource-group <RG> --enrollment-id <GROUP> \\\n\
         \x20     --secondary-certificate-path {dir}/{new}.pem\n\
         \x20  The new signing CA rolls up to the verified root, so no new proof of possession is needed.\n\
         \x20  If your DPS policy requires verifying it anyway: upload it with `az iot dps certificate create`,\n\
         \x20  get a code with `az iot dps certificate generate-verification-code`, then run\n\
         \x20  `fleetform certs verify-azure --ca-dir {dir} --ca {new} --code <CODE>` and `az iot dps certificate verify`.\n\
         2. When no device depends on `{old}` any more, make the new CA primary and drop the old one:\n\
         \x20  az iot dps enrollment-group update ... --certificate-path {dir}/{new}.pem --remove-secondary-certificate\n\
         If the group uses the root CA itself (`--root-ca-name`), nothing changes in Azure at all."
    );
    s
}
