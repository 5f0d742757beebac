//! Library-level tests of the device identity kit: every chain it makes is checked by two
//! independent verifiers, `x509-parser` in process and the `openssl verify` CLI (skipped, loudly,
//! when openssl is not installed), against what AWS IoT and Azure DPS require.
//!
//! Long (about 1,000 lines): one test per chain property, each checked by both verifiers,
//! sharing the chain builders.

// A skipped cross-check must be visible in the test output, hence eprintln.
#![allow(clippy::print_stderr)]

use std::path::Path;
use std::process::Command;

use fleetform::certs::{
    CaIssuer, CaProfile, CertsError, Cloud, DeviceId, KeyAlgorithm, LeafProfile, Passphrase,
    PrivateKey, RotateProfile, RotationFacts, Subject, VerificationCode, generate_ca, inspect,
    issue_claim, issue_device, issue_devices, rotate_signing_ca, rotation_instructions, sign_csr,
    verification_certificate,
};
use time::{Duration, OffsetDateTime};
use x509_parser::prelude::{FromDer, X509Certificate};

/// 2026-01-01T00:00:00Z: a fixed clock keeps the tests deterministic.
fn now() -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(1_767_225_600).unwrap()
}

fn der_of(pem_text: &str) -> Vec<Vec<u8>> {
    pem::parse_many(pem_text)
        .unwrap()
        .into_iter()
        .filter(|p| p.tag() == "CERTIFICATE")
        .map(pem::Pem::into_contents)
        .collect()
}

fn one_der(pem_text: &str) -> Vec<u8> {
    let mut all = der_of(pem_text);
    assert_eq!(all.len(), 1, "expected exactly one certificate");
    all.remove(0)
}

fn parse(der: &[u8]) -> X509Certificate<'_> {
    let (rest, cert) = X509Certificate::from_der(der).unwrap();
    assert!(rest.is_empty());
    cert
}

struct Expect {
    at: OffsetDateTime,
    ca: bool,
    path_len: Option<u32>,
    rsa_leaf: bool,
}

/// The in-process verifier: signature by `issuer`, extensions, validity nested in the issuer's.
fn check_cert(cert: &X509Certificate<'_>, issuer: &X509Certificate<'_>, expect: &Expect) {
    cert.verify_signature(Some(issuer.public_key()))
        .expect("signature verifies with the issuer's key");
    assert_eq!(cert.issuer().as_raw(), issuer.subject().as_raw());

    let bc = cert.basic_constraints().unwrap().expect("basicConstraints");
    assert!(bc.critical, "basicConstraints must be critical");
    assert_eq!(bc.value.ca, expect.ca);
    assert_eq!(bc.value.path_len_constraint, expect.path_len);

    let ku = cert.key_usage().unwrap().expect("keyUsage");
    assert!(ku.critical);
    let ku = ku.value;
    if expect.ca {
        assert!(ku.key_cert_sign() && ku.crl_sign());
        assert!(!ku.digital_signature());
        assert!(cert.extended_key_usage().unwrap().is_none());
    } else {
        assert!(ku.digital_signature());
        assert!(!ku.key_cert_sign());
        assert_eq!(ku.key_encipherment(), expect.rsa_leaf);
        let eku = cert
            .extended_key_usage()
            .unwrap()
            .expect("extendedKeyUsage")
            .value;
        assert!(eku.client_auth);
        assert!(!eku.server_auth && !eku.any);
    }

    let ski = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
            _ => None,
        })
        .expect("subjectKeyIdentifier");
    assert!(!ski.is_empty());
    let issuer_ski = issuer
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::SubjectKeyIdentifier(k) => Some(k.0),
            _ => None,
        })
        .expect("issuer subjectKeyIdentifier");
    let self_signed = cert.subject().as_raw() == cert.issuer().as_raw();
    let aki = cert
        .iter_extensions()
        .find_map(|e| match e.parsed_extension() {
            x509_parser::extensions::ParsedExtension::AuthorityKeyIdentifier(a) => {
                a.key_identifier.as_ref().map(|k| k.0)
            }
            _ => None,
        });
    if self_signed {
        // RFC 5280 allows a self-signed root to omit the AKI; if present it must match.
        assert!(aki.is_none_or(|a| a == issuer_ski));
    } else {
        assert_eq!(aki, Some(issuer_ski), "AKI must equal the issuer's SKI");
    }

    let (nb, na) = (
        cert.validity().not_before.timestamp(),
        cert.validity().not_after.timestamp(),
    );
    let (inb, ina) = (
        issuer.validity().not_before.timestamp(),
        issuer.validity().not_after.timestamp(),
    );
    assert!(inb <= nb && na <= ina, "validity must nest in the issuer's");
    assert!(cert.validity().is_valid_at(
        x509_parser::time::ASN1Time::from_timestamp(expect.at.unix_timestamp()).unwrap()
    ));

    let serial = cert.raw_serial();
    assert_eq!(serial.len(), 20, "160-bit serial");
    assert_eq!(serial[0] & 0x80, 0, "positive serial");
}

/// The external verifier. Returns without checking (and says so) when openssl is missing.
fn openssl_verify(root: &str, untrusted: &[&str], leaf: &str, purpose: &str) {
    openssl_verify_at(root, untrusted, leaf, purpose, now() + Duration::minutes(1));
}

fn openssl_verify_at(
    root: &str,
    untrusted: &[&str],
    leaf: &str,
    purpose: &str,
    at: OffsetDateTime,
) {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED openssl cross-check: `openssl` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let root_path = dir.path().join("root.pem");
    let untrusted_path = dir.path().join("untrusted.pem");
    let leaf_path = dir.path().join("leaf.pem");
    std::fs::write(&root_path, root).unwrap();
    std::fs::write(&untrusted_path, untrusted.concat()).unwrap();
    std::fs::write(&leaf_path, leaf).unwrap();
    let mut cmd = Command::new("openssl");
    cmd.args(["verify", "-x509_strict", "-purpose", purpose, "-attime"])
        .arg(at.unix_timestamp().to_string())
        .arg("-CAfile")
        .arg(&root_path);
    if !untrusted.is_empty() {
        cmd.arg("-untrusted").arg(&untrusted_path);
    }
    let out = cmd.arg(&leaf_path).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.contains(": OK"),
        "openssl verify failed:\n{stdout}\n{stderr}"
    );
}

fn acme() -> Subject {
    Subject {
        common_name: "Acme Fleet Root CA".into(),
        organization: Some("Acme".into()),
        organizational_unit: Some("Devices".into()),
        country: Some("DE".into()),
        state: Some("Bavaria".into()),
        locality: Some("Munich".into()),
        dn_qualifier: None,
    }
}

fn pass(s: &str) -> Passphrase {
    Passphrase::new(s.to_owned(), "test").unwrap()
}

struct Ca {
    root_pem: String,
    signing_pem: String,
    signing: CaIssuer,
    root: CaIssuer,
}

fn make_ca(key: KeyAlgorithm) -> Ca {
    let mut profile = CaProfile::new(acme());
    profile.key = key;
    let (bundle, warnings) = generate_ca(&profile, now(), None).unwrap();
    assert!(warnings.is_empty());
    let signing = CaIssuer::from_pem(
        &bundle.signing.cert_pem,
        Path::new("signing-ca.pem"),
        bundle.signing.key_pem.as_str(),
        Path::new("signing-ca.key"),
        None,
        now(),
    )
    .unwrap();
    let root = CaIssuer::from_pem(
        &bundle.root.cert_pem,
        Path::new("root-ca.pem"),
        bundle.root.key_pem.as_str(),
        Path::new("root-ca.key"),
        None,
        now(),
    )
    .unwrap();
    Ca {
        root_pem: bundle.root.cert_pem,
        signing_pem: bundle.signing.cert_pem,
        signing,
        root,
    }
}

fn leaf_profile() -> LeafProfile {
    LeafProfile::new(acme().with_common_name("ignored"))
}

fn id(s: &str) -> DeviceId {
    DeviceId::parse(s, "").unwrap()
}

#[test]
fn init_makes_a_root_and_signing_ca_both_verifiers_accept() {
    let mut profile = CaProfile::new(acme());
    profile.path_len = 2;
    let (bundle, _) = generate_ca(&profile, now(), None).unwrap();
    let root_der = one_der(&bundle.root.cert_pem);
    let signing_der = one_der(&bundle.signing.cert_pem);
    let root = parse(&root_der);
    let signing = parse(&signing_der);

    // Root: self-signed CA with the requested path length.
    check_cert(
        &root,
        &root,
        &Expect {
            ca: true,
            path_len: Some(2),
            rsa_leaf: false,
            at: now(),
        },
    );
    // Signing CA: pathlen 0, so a leaked signing key cannot mint further CAs.
    check_cert(
        &signing,
        &root,
        &Expect {
            ca: true,
            path_len: Some(0),
            rsa_leaf: false,
            at: now(),
        },
    );
    assert_eq!(
        signing
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "Acme Fleet Signing CA"
    );
    assert_eq!(
        signing
            .subject()
            .iter_organization()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "Acme"
    );
    assert_eq!(
        der_of(&bundle.chain_pem),
        vec![signing_der.clone(), root_der]
    );
    openssl_verify(&bundle.root.cert_pem, &[], &bundle.signing.cert_pem, "any");

    // Keys are unencrypted PKCS#8 without a passphrase and belong to their certificates.
    assert!(
        bundle
            .root
            .key_pem
            .as_str()
            .starts_with("-----BEGIN PRIVATE KEY-----")
    );
    let key = PrivateKey::from_pem(bundle.signing.key_pem.as_str(), Path::new("k"), None).unwrap();
    assert_eq!(key.public_key_der(), signing.public_key().raw);
}

#[test]
fn device_certificates_chain_root_signing_device() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let bundle = issue_device(
        &ca.signing,
        &id("sensor-0001"),
        &leaf_profile(),
        now(),
        None,
    )
    .unwrap();
    let leaf_der = one_der(&bundle.cert_pem);
    let signing_der = one_der(&ca.signing_pem);
    let leaf = parse(&leaf_der);
    let signing = parse(&signing_der);
    check_cert(
        &leaf,
        &signing,
        &Expect {
            ca: false,
            path_len: None,
            rsa_leaf: false,
            at: now(),
        },
    );
    // What a JITP template reads: CN = device id plus the fleet's subject fields.
    let subject = leaf.subject();
    let first = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
        it.next().unwrap().as_str().unwrap().to_owned()
    };
    assert_eq!(first(&mut subject.iter_common_name()), "sensor-0001");
    assert_eq!(first(&mut subject.iter_organization()), "Acme");
    assert_eq!(first(&mut subject.iter_organizational_unit()), "Devices");
    assert_eq!(first(&mut subject.iter_country()), "DE");
    assert_eq!(first(&mut subject.iter_state_or_province()), "Bavaria");
    assert_eq!(first(&mut subject.iter_locality()), "Munich");
    assert!(subject.iter_common_name().nth(1).is_none());
    assert!(leaf.subject_alternative_name().unwrap().is_none());

    // chain.pem = device + signing CA, what the device presents.
    assert_eq!(
        der_of(&bundle.chain_pem),
        vec![leaf_der.clone(), signing_der]
    );
    // The key belongs to the certificate.
    let key = PrivateKey::from_pem(
        bundle.key_pem.as_ref().unwrap().as_str(),
        Path::new("k"),
        None,
    )
    .unwrap();
    assert_eq!(key.public_key_der(), leaf.public_key().raw);
    assert_eq!(bundle.serial_hex, fleetform_hex(leaf.raw_serial()));

    openssl_verify(
        &ca.root_pem,
        &[&ca.signing_pem],
        &bundle.cert_pem,
        "sslclient",
    );
}

fn fleetform_hex(b: &[u8]) -> String {
    b.iter().fold(String::new(), |mut s, x| {
        use std::fmt::Write as _;
        let _ = write!(s, "{x:02x}");
        s
    })
}

#[test]
fn rsa_ca_and_rsa_devices_get_key_encipherment() {
    let ca = make_ca(KeyAlgorithm::Rsa2048);
    let mut profile = leaf_profile();
    profile.key = KeyAlgorithm::Rsa2048;
    let bundle = issue_device(&ca.signing, &id("legacy-1"), &profile, now(), None).unwrap();
    let leaf_der = one_der(&bundle.cert_pem);
    let signing_der = one_der(&ca.signing_pem);
    let leaf = parse(&leaf_der);
    check_cert(
        &leaf,
        &parse(&signing_der),
        &Expect {
            ca: false,
            path_len: None,
            rsa_leaf: true,
            at: now(),
        },
    );
    let report = inspect(&[(Path::new("x"), &bundle.chain_pem)], now()).unwrap();
    assert_eq!(report.certificates[0].key, "rsa-2048");
    assert_eq!(report.certificates[1].key, "rsa-2048");
    openssl_verify(
        &ca.root_pem,
        &[&ca.signing_pem],
        &bundle.cert_pem,
        "sslclient",
    );
}

#[test]
fn aws_verification_certificate_has_the_code_as_cn_and_verifies_against_the_ca() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let code_text = "4e5c8a1bd7f0a8a1c0d2e3f405162738495a6b7c8d9e0f1a2b3c4d5e6f708192";
    let code = VerificationCode::parse(code_text, Cloud::Aws).unwrap();
    let pem_text = verification_certificate(&ca.signing, &code, now()).unwrap();
    let der = one_der(&pem_text);
    let cert = parse(&der);
    let ca_der = one_der(&ca.signing_pem);
    let signing = parse(&ca_der);
    cert.verify_signature(Some(signing.public_key())).unwrap();
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        code_text
    );
    assert!(cert.validity().not_after.timestamp() <= signing.validity().not_after.timestamp());
    // Signed by the signing CA's key: verifies through root -> signing.
    openssl_verify(&ca.root_pem, &[&ca.signing_pem], &pem_text, "any");
}

#[test]
fn azure_verification_certificate_for_the_root() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let code = VerificationCode::parse("3F2A9C0B7E6D5A4F3E2D1C0B", Cloud::Azure).unwrap();
    let pem_text = verification_certificate(&ca.root, &code, now()).unwrap();
    let der = one_der(&pem_text);
    let cert = parse(&der);
    let root_der = one_der(&ca.root_pem);
    cert.verify_signature(Some(parse(&root_der).public_key()))
        .unwrap();
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "3F2A9C0B7E6D5A4F3E2D1C0B"
    );
    openssl_verify(&ca.root_pem, &[], &pem_text, "any");
    // A verification certificate from the wrong CA does not verify against the root.
    let wrong = verification_certificate(&ca.signing, &code, now()).unwrap();
    let wrong_der = one_der(&wrong);
    assert!(
        parse(&wrong_der)
            .verify_signature(Some(parse(&root_der).public_key()))
            .is_err()
    );
}

fn device_csr(cn: &str, request_ca: bool) -> (String, Vec<u8>) {
    use rcgen::PublicKeyData as _;
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, cn);
    params
        .distinguished_name
        .push(rcgen::DnType::OrganizationName, "Device Maker");
    if request_ca {
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    }
    let csr = params.serialize_request(&key).unwrap();
    (csr.pem().unwrap(), key.subject_public_key_info())
}

#[test]
fn csr_signed_certificate_keeps_the_csr_key_and_ignores_requested_extensions() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let (csr, spki) = device_csr("sensor-csr-1", true);
    let mut profile = leaf_profile();
    profile.subject.organization = None; // take O from the CSR
    let bundle = sign_csr(&ca.signing, &csr, Path::new("d.csr"), None, &profile, now()).unwrap();
    assert!(bundle.key_pem.is_none(), "the key never leaves the device");
    assert_eq!(bundle.id.as_str(), "sensor-csr-1");
    let der = one_der(&bundle.cert_pem);
    let cert = parse(&der);
    assert_eq!(cert.public_key().raw, spki.as_slice());
    assert_eq!(
        cert.subject()
            .iter_organization()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "Device Maker"
    );
    let signing_der = one_der(&ca.signing_pem);
    // CA:FALSE although the CSR asked for CA:TRUE.
    check_cert(
        &cert,
        &parse(&signing_der),
        &Expect {
            ca: false,
            path_len: None,
            rsa_leaf: false,
            at: now(),
        },
    );
    openssl_verify(
        &ca.root_pem,
        &[&ca.signing_pem],
        &bundle.cert_pem,
        "sslclient",
    );
}

#[test]
fn bad_csrs_are_refused_with_the_file_named() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let profile = leaf_profile();
    let origin = Path::new("bad.csr");

    let err = sign_csr(&ca.signing, "not a csr", origin, None, &profile, now()).unwrap_err();
    assert!(matches!(err, CertsError::Csr { .. }), "{err}");
    assert!(err.to_string().contains("`bad.csr`"));

    let garbage =
        "-----BEGIN CERTIFICATE REQUEST-----\nMIIBAAAA\n-----END CERTIFICATE REQUEST-----\n";
    let err = sign_csr(&ca.signing, garbage, origin, None, &profile, now()).unwrap_err();
    assert!(
        err.to_string().contains("not a well-formed PKCS#10"),
        "{err}"
    );

    // Flip one byte inside the signed part: the self-signature no longer verifies.
    let (csr, _) = device_csr("dev-x", false);
    let mut der = pem::parse(&csr).unwrap().into_contents();
    let pos = der.len() / 3;
    der[pos] ^= 0x01;
    let tampered = pem::encode(&pem::Pem::new("CERTIFICATE REQUEST", der));
    let err = sign_csr(&ca.signing, &tampered, origin, None, &profile, now()).unwrap_err();
    assert!(matches!(err, CertsError::Csr { .. }), "{err}");

    // The CN must match the id the operator expects, and be a valid id.
    let (csr, _) = device_csr("dev-a", false);
    let err = sign_csr(
        &ca.signing,
        &csr,
        origin,
        Some(&id("dev-b")),
        &profile,
        now(),
    )
    .unwrap_err();
    assert!(
        err.to_string().contains("differs from the device id"),
        "{err}"
    );
    let (csr, _) = device_csr("../../etc", false);
    let err = sign_csr(&ca.signing, &csr, origin, None, &profile, now()).unwrap_err();
    assert!(matches!(err, CertsError::InvalidDeviceId { .. }), "{err}");
}

#[test]
fn encrypted_ca_keys_round_trip_and_fail_clearly() {
    let profile = CaProfile::new(acme());
    let good = pass("a long enough passphrase");
    let (bundle, _) = generate_ca(&profile, now(), Some(&good)).unwrap();
    let key = bundle.signing.key_pem.as_str();
    assert!(key.starts_with("-----BEGIN ENCRYPTED PRIVATE KEY-----"));
    assert!(bundle.signing.key_pem.is_encrypted());

    let load = |p: Option<&Passphrase>| {
        CaIssuer::from_pem(
            &bundle.signing.cert_pem,
            Path::new("certs/signing-ca.pem"),
            key,
            Path::new("certs/signing-ca.key"),
            p,
            now(),
        )
    };
    let issuer = load(Some(&good)).unwrap();
    assert!(issuer.key_was_encrypted());
    issue_device(&issuer, &id("d1"), &leaf_profile(), now(), None).unwrap();

    let err = load(Some(&pass("the wrong passphrase"))).unwrap_err();
    assert!(matches!(err, CertsError::WrongPassphrase { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("`certs/signing-ca.key`") && msg.contains("hint:"),
        "{msg}"
    );

    let err = load(None).unwrap_err();
    assert!(
        matches!(err, CertsError::PassphraseRequired { .. }),
        "{err}"
    );

    // openssl reads the encrypted key with the same passphrase.
    if Command::new("openssl").arg("version").output().is_ok() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        std::fs::write(&path, key).unwrap();
        let out = Command::new("openssl")
            .args([
                "pkey",
                "-noout",
                "-passin",
                "pass:a long enough passphrase",
                "-in",
            ])
            .arg(&path)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let out = Command::new("openssl")
            .args(["pkey", "-noout", "-passin", "pass:wrong", "-in"])
            .arg(&path)
            .output()
            .unwrap();
        assert!(!out.status.success());
    } else {
        eprintln!("SKIPPED openssl cross-check: `openssl` is not installed");
    }
}

#[test]
fn mismatched_or_unusable_cas_are_refused() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let other = generate_ca(&CaProfile::new(acme()), now(), None).unwrap().0;
    let err = CaIssuer::from_pem(
        &ca.signing_pem,
        Path::new("signing-ca.pem"),
        other.signing.key_pem.as_str(),
        Path::new("other.key"),
        None,
        now(),
    )
    .unwrap_err();
    assert!(matches!(err, CertsError::KeyMismatch { .. }), "{err}");

    // A device certificate is not a CA.
    let device = issue_device(&ca.signing, &id("d"), &leaf_profile(), now(), None).unwrap();
    let err = CaIssuer::from_pem(
        &device.cert_pem,
        Path::new("device.pem"),
        device.key_pem.as_ref().unwrap().as_str(),
        Path::new("device.key"),
        None,
        now(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("not a CA certificate"), "{err}");

    // An expired CA.
    let later = now() + Duration::days(20 * 366);
    let err = CaIssuer::from_pem(
        &ca.signing_pem,
        Path::new("signing-ca.pem"),
        other.signing.key_pem.as_str(),
        Path::new("k"),
        None,
        later,
    )
    .unwrap_err();
    assert!(err.to_string().contains("expired"), "{err}");

    // Garbage instead of a certificate.
    let err = CaIssuer::from_pem(
        "hello",
        Path::new("x.pem"),
        "",
        Path::new("x.key"),
        None,
        now(),
    )
    .unwrap_err();
    assert!(err.to_string().contains("`x.pem`"), "{err}");
}

#[test]
fn validity_rules() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let mut profile = leaf_profile();
    // Longer than the signing CA (10 years): refused, with the maximum in the hint.
    profile.validity_days = 20 * 365;
    let err = issue_device(&ca.signing, &id("d"), &profile, now(), None).unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("outlive its issuer") && msg.contains("--days 3652"),
        "{msg}"
    );
    // More than 825 days: allowed, with a warning.
    profile.validity_days = 3000;
    assert_eq!(profile.validate().unwrap().len(), 1);
    issue_device(&ca.signing, &id("d"), &profile, now(), None).unwrap();
    // Weak keys are not even expressible.
    assert!("rsa1024".parse::<KeyAlgorithm>().is_err());
}

#[test]
fn claim_certificate_is_a_client_certificate_named_after_the_claim() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let bundle = issue_claim(
        &ca.signing,
        &id("factory-1-claim"),
        &leaf_profile(),
        now(),
        None,
    )
    .unwrap();
    let der = one_der(&bundle.cert_pem);
    let cert = parse(&der);
    assert_eq!(
        cert.subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "factory-1-claim"
    );
    openssl_verify(
        &ca.root_pem,
        &[&ca.signing_pem],
        &bundle.cert_pem,
        "sslclient",
    );
}

#[test]
fn batch_keeps_order_and_serials_are_unique() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let ids: Vec<DeviceId> = (0..50).map(|n| id(&format!("dev-{n:04}"))).collect();
    let count = std::sync::atomic::AtomicUsize::new(0);
    let bundles = issue_devices(&ca.signing, &ids, &leaf_profile(), now(), None, &|| {
        count.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    })
    .unwrap();
    assert_eq!(count.into_inner(), 50);
    assert_eq!(
        bundles.iter().map(|b| b.id.clone()).collect::<Vec<_>>(),
        ids
    );
    let serials: std::collections::HashSet<_> = bundles.iter().map(|b| &b.serial_hex).collect();
    assert_eq!(serials.len(), 50);
}

#[test]
fn rotation_adds_a_second_signing_ca_and_the_old_one_keeps_working() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let old_device = issue_device(&ca.signing, &id("old-1"), &leaf_profile(), now(), None).unwrap();
    let later = now() + Duration::days(400);
    let profile = RotateProfile {
        common_name: fleetform::certs::rotated_common_name("Acme Fleet Signing CA", later),
        key: KeyAlgorithm::EcdsaP256,
        validity_days: 3000,
    };
    let (material, chain) = rotate_signing_ca(
        &ca.root,
        Some("Acme Fleet Signing CA"),
        &profile,
        later,
        None,
    )
    .unwrap();
    assert_eq!(der_of(&chain).len(), 2);
    let new_der = one_der(&material.cert_pem);
    let root_der = one_der(&ca.root_pem);
    let new_ca = parse(&new_der);
    check_cert(
        &new_ca,
        &parse(&root_der),
        &Expect {
            ca: true,
            path_len: Some(0),
            rsa_leaf: false,
            at: later,
        },
    );
    assert_eq!(
        new_ca
            .subject()
            .iter_common_name()
            .next()
            .unwrap()
            .as_str()
            .unwrap(),
        "Acme Fleet Signing CA 2027-02-05"
    );
    let issuer = CaIssuer::from_pem(
        &material.cert_pem,
        Path::new("n.pem"),
        material.key_pem.as_str(),
        Path::new("n.key"),
        None,
        later,
    )
    .unwrap();
    let new_device = issue_device(&issuer, &id("new-1"), &leaf_profile(), later, None).unwrap();
    // Both generations verify under the same root, at the same moment.
    let new_leaf_der = one_der(&new_device.cert_pem);
    parse(&new_leaf_der)
        .verify_signature(Some(new_ca.public_key()))
        .unwrap();
    let at = later + Duration::minutes(1);
    openssl_verify_at(
        &ca.root_pem,
        &[&material.cert_pem],
        &new_device.cert_pem,
        "sslclient",
        at,
    );
    openssl_verify_at(
        &ca.root_pem,
        &[&ca.signing_pem],
        &old_device.cert_pem,
        "sslclient",
        at,
    );

    // Same name as the current signing CA: refused.
    let mut same = profile.clone();
    same.common_name = "Acme Fleet Signing CA".into();
    assert!(
        rotate_signing_ca(&ca.root, Some("Acme Fleet Signing CA"), &same, later, None).is_err()
    );

    let text = rotation_instructions(&RotationFacts {
        ca_dir: Path::new("certs"),
        new_name: "signing-ca-2027-02-05",
        new_common_name: &profile.common_name,
        old_name: "signing-ca",
        old_not_after: None,
    });
    assert!(text.contains(
        "aws iot register-ca-certificate --ca-certificate file://certs/signing-ca-2027-02-05.pem"
    ));
    assert!(text.contains("--secondary-certificate-path certs/signing-ca-2027-02-05.pem"));
    assert!(text.contains("stays valid"));
}

#[test]
fn inspect_summarises_and_flags_problems() {
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let device = issue_device(&ca.signing, &id("d-1"), &leaf_profile(), now(), None).unwrap();
    let all = format!("{}{}", device.chain_pem, ca.root_pem);
    let report = inspect(&[(Path::new("all.pem"), &all)], now()).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    let signed_by: Vec<_> = report
        .certificates
        .iter()
        .map(|c| c.signed_by.as_str())
        .collect();
    assert_eq!(signed_by, ["#2", "#3", "self"]);
    assert_eq!(report.certificates[0].extended_key_usage, ["clientAuth"]);
    assert_eq!(report.certificates[1].path_len, Some(0));
    assert_eq!(report.certificates[2].path_len, Some(1));

    let much_later = now() + Duration::days(1000);
    let report = inspect(&[(Path::new("all.pem"), &all)], much_later).unwrap();
    assert!(
        report.problems.iter().any(|p| p.contains("expired")),
        "{:?}",
        report.problems
    );

    // A device certificate from another CA with the same names does not verify.
    let other = make_ca(KeyAlgorithm::EcdsaP256);
    let mixed = format!("{}{}", device.cert_pem, other.signing_pem);
    let report = inspect(&[(Path::new("mixed.pem"), &mixed)], now()).unwrap();
    assert!(
        report
            .problems
            .iter()
            .any(|p| p.contains("does not verify")),
        "{:?}",
        report.problems
    );
}

#[test]
fn rsa_csr_keeps_its_key_and_gets_key_encipherment() {
    use pkcs8::EncodePrivateKey as _;
    use rcgen::PublicKeyData as _;
    let ca = make_ca(KeyAlgorithm::EcdsaP256);
    let rsa_key = rsa::PrivateKey::new(&mut getrandom::SysRng, 2048).unwrap();
    let der = rsa_key.to_pkcs8_der().unwrap();
    let key = rcgen::KeyPair::try_from(der.as_bytes()).unwrap();
    let mut params = rcgen::CertificateParams::default();
    params.distinguished_name = rcgen::DistinguishedName::new();
    params
        .distinguished_name
        .push(rcgen::DnType::CommonName, "rsa-device");
    let csr = params.serialize_request(&key).unwrap().pem().unwrap();
    let bundle = sign_csr(
        &ca.signing,
        &csr,
        Path::new("r.csr"),
        None,
        &leaf_profile(),
        now(),
    )
    .unwrap();
    let cert_der = one_der(&bundle.cert_pem);
    let cert = parse(&cert_der);
    assert_eq!(
        cert.public_key().raw,
        key.subject_public_key_info().as_slice()
    );
    let signing_der = one_der(&ca.signing_pem);
    check_cert(
        &cert,
        &parse(&signing_der),
        &Expect {
            ca: false,
            path_len: None,
            rsa_leaf: true,
            at: now(),
        },
    );
    openssl_verify(
        &ca.root_pem,
        &[&ca.signing_pem],
        &bundle.cert_pem,
        "sslclient",
    );
}

#[test]
fn a_ca_made_by_openssl_scripts_can_sign_devices() {
    if Command::new("openssl").arg("version").output().is_err() {
        eprintln!("SKIPPED openssl interop: `openssl` is not installed");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("ca.key");
    let cert = dir.path().join("ca.pem");
    let run = |args: &[&str]| {
        let out = Command::new("openssl").args(args).output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    run(&[
        "genpkey",
        "-algorithm",
        "EC",
        "-pkeyopt",
        "ec_paramgen_curve:P-384",
        "-out",
        key.to_str().unwrap(),
    ]);
    run(&[
        "req",
        "-x509",
        "-new",
        "-key",
        key.to_str().unwrap(),
        "-subj",
        "/O=Legacy/CN=Legacy Scripted CA",
        "-days",
        "36500",
        "-addext",
        "basicConstraints=critical,CA:TRUE,pathlen:0",
        "-addext",
        "keyUsage=critical,keyCertSign,cRLSign",
        "-out",
        cert.to_str().unwrap(),
    ]);
    let cert_pem = std::fs::read_to_string(&cert).unwrap();
    // Real time here: openssl stamped the CA with the current clock.
    let at = OffsetDateTime::now_utc();
    let issuer = CaIssuer::from_pem(
        &cert_pem,
        &cert,
        &std::fs::read_to_string(&key).unwrap(),
        &key,
        None,
        at,
    )
    .unwrap();
    let bundle = issue_device(&issuer, &id("legacy-dev"), &leaf_profile(), at, None).unwrap();
    let report = inspect(&[(Path::new("chain"), &bundle.chain_pem)], at).unwrap();
    assert!(report.problems.is_empty(), "{:?}", report.problems);
    assert_eq!(report.certificates[1].key, "ecdsa-p384");
    openssl_verify_at(&cert_pem, &[], &bundle.cert_pem, "sslclient", at);
}
