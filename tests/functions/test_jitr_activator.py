"""The JITR activator, run on the certificate registration events AWS IoT publishes.

The event is the one documented for just-in-time registration
(docs.aws.amazon.com/iot/latest/developerguide/auto-register-device-cert.html), published on
`$aws/events/certificates/registered/<caCertificateId>`. The CA and the device certificate are
made by `fleetform certs init` / `fleetform certs device`, registered in moto the way
auto-registration leaves them (PENDING_ACTIVATION, under the fleet CA).
"""

from __future__ import annotations

import datetime
import ssl
import warnings
from pathlib import Path

import pytest

from harness import CERTIFICATES, LambdaContext, assert_granted, ids, lambda_environment, lambdas, load_lambda

FUNCTIONS = lambdas("jitr_activator")


def registration_event(certificate_id: str, ca_id: str) -> dict:
    return {
        "certificateId": certificate_id,
        "caCertificateId": ca_id,
        "timestamp": 1700000000000,
        "certificateStatus": "PENDING_ACTIVATION",
        "awsAccountId": "123456789012",
        "certificateRegistrationTimestamp": "1700000000000",
    }


@pytest.fixture
def activator(fn, aws, monkeypatch, tmp_path):
    """The activator with the fleet CA registered; returns (handler, module, fakes, calls, ca_id)."""
    fakes, recorder = aws
    moto_describes_the_issuing_ca(monkeypatch)
    iot = fakes.client("iot")
    ca_pem = Path(CERTIFICATES["ca"]).read_text()
    ca_id = iot.register_ca_certificate(caCertificate=ca_pem, setAsActive=True, allowAutoRegistration=True)["certificateId"]
    fakes.values[fn.environment["CA_CERTIFICATE_ID"]] = ca_id
    with lambda_environment(fn, fakes, monkeypatch):
        loaded, handler = load_lambda(fn, tmp_path / "pkg")
    module = loaded.module
    types = {t["name"] for t in fn.module.resources("aws_iot_thing_type").values()}
    wanted = [module.THING_TYPE] if module.THING_TYPE else []
    if module.TYPE_PREFIX:
        wanted = [module.TYPE_PREFIX + t for t in module.DEVICE_TYPES]
    for name in wanted:
        assert name in types, f"thing type {name!r} is not in Terraform"
        iot.create_thing_type(thingTypeName=name)
    groups = {g["name"] for g in fn.module.resources("aws_iot_thing_group").values()}
    for name in module.THING_GROUPS:
        assert name in groups, f"thing group {name!r} is not in Terraform"
        iot.create_thing_group(thingGroupName=name)
    return handler, module, fakes, recorder, ca_id


def device_for(module) -> tuple[str, str, str | None]:
    """A device certificate the fleet takes: (PEM, thing name, thing type). With several
    device types, the one `fleetform certs device --type` made."""
    if module.TYPE_PREFIX:
        typed = CERTIFICATES["typed_device"]
        return Path(typed["pem"]).read_text(), typed["device_id"], module.TYPE_PREFIX + typed["type"]
    return Path(CERTIFICATES["device"]).read_text(), CERTIFICATES["device_id"], module.THING_TYPE or None


def moto_describes_the_issuing_ca(monkeypatch) -> None:
    """DescribeCertificate returns `caCertificateId` for a certificate registered under a CA
    (docs.aws.amazon.com/iot/latest/apireference/API_CertificateDescription.html); moto 5.2
    keeps it but leaves it out of the description, so put it back."""
    from moto.iot.models import FakeCertificate

    original = FakeCertificate.to_description_dict

    def describe(self):
        description = original(self)
        if self.ca_certificate_id:
            description["caCertificateId"] = self.ca_certificate_id
        return description

    monkeypatch.setattr(FakeCertificate, "to_description_dict", describe)


def register(iot, pem: str, ca_pem: str | None) -> dict:
    if ca_pem is None:
        return iot.register_certificate_without_ca(certificatePem=pem, status="PENDING_ACTIVATION")
    return iot.register_certificate(certificatePem=pem, caCertificatePem=ca_pem, status="PENDING_ACTIVATION")


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_rule_delivers_the_registration_events_of_the_fleet_ca(fn):
    rule = fn.module.resources("aws_iot_topic_rule")["jitr"]
    assert rule["sql"].replace("fleet[0]", "fleet.0") == (
        "SELECT * FROM '$aws/events/certificates/registered/${aws_iot_ca_certificate.fleet.0.id}'"
        " WHERE certificateStatus = 'PENDING_ACTIVATION'"
    )
    assert rule["lambda"]["function_arn"] == f"${{aws_lambda_function.{fn.label}.arn}}"
    ca = fn.module.resources("aws_iot_ca_certificate")["fleet"]
    assert ca["allow_auto_registration"] is True


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_fleet_certificate_becomes_an_active_device(fn, activator):
    handler, module, fakes, recorder, ca_id = activator
    iot = fakes.client("iot")
    pem, device, thing_type = device_for(module)
    cert = register(iot, pem, Path(CERTIFICATES["ca"]).read_text())
    recorder.clear()
    result = handler(registration_event(cert["certificateId"], ca_id), LambdaContext(fn))
    assert result == {"certificateId": cert["certificateId"], "thingName": device}
    thing = iot.describe_thing(thingName=device)
    assert thing.get("thingTypeName") == thing_type
    groups = iot.list_thing_groups_for_thing(thingName=device)["thingGroups"]
    assert [g["groupName"] for g in groups] == module.THING_GROUPS
    assert iot.list_thing_principals(thingName=device)["principals"] == [cert["certificateArn"]]
    policies = iot.list_attached_policies(target=cert["certificateArn"])["policies"]
    assert [p["policyName"] for p in policies] == [fakes.resolve(fn.environment["DEVICE_POLICY"])]
    desc = iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]
    assert desc["status"] == "ACTIVE"
    # Activation comes last, after the thing and the policy.
    assert recorder.operations()[-1] == "UpdateCertificate"
    assert_granted(fn, fakes, recorder.calls)
    # A repeated event changes nothing.
    assert handler(registration_event(cert["certificateId"], ca_id), LambdaContext(fn)) == {
        "certificateId": cert["certificateId"],
        "skipped": "ACTIVE",
    }


TYPED = [fn for fn in FUNCTIONS if len(fn.module.resources("aws_iot_thing_type")) > 1]


@pytest.mark.parametrize("fn", TYPED, ids=ids(TYPED))
def test_with_several_types_a_certificate_without_one_stays_pending(fn, activator):
    handler, module, fakes, _, ca_id = activator
    assert module.TYPE_PREFIX and len(module.DEVICE_TYPES) > 1
    iot = fakes.client("iot")
    cert = register(iot, Path(CERTIFICATES["device"]).read_text(), Path(CERTIFICATES["ca"]).read_text())
    with pytest.raises(ValueError, match="dnQualifier None names none of the device types"):
        handler(registration_event(cert["certificateId"], ca_id), LambdaContext(fn))
    desc = iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]
    assert desc["status"] == "PENDING_ACTIVATION"
    assert iot.list_things()["things"] == []


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_certificate_of_another_ca_stays_pending(fn, activator):
    handler, _, fakes, _, ca_id = activator
    iot = fakes.client("iot")
    other_ca, other_key = make_ca("Other CA")
    iot.register_ca_certificate(caCertificate=pem_of(other_ca), setAsActive=True)
    cert = register(iot, pem_of(make_device("sensor-0042", other_ca, other_key)), pem_of(other_ca))
    with pytest.raises(ValueError, match="not signed by the fleet CA"):
        handler(registration_event(cert["certificateId"], ca_id), LambdaContext(fn))
    assert iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]["status"] == "PENDING_ACTIVATION"
    assert iot.list_things()["things"] == []


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
@pytest.mark.parametrize("cn", ["sensor/0042", "", "x" * 129, None])
def test_certificate_without_a_valid_thing_name_stays_pending(fn, activator, cn):
    handler, _, fakes, _, ca_id = activator
    iot = fakes.client("iot")
    ca, key = fleet_ca()
    cert = register(iot, pem_of(make_device(cn, ca, key)), Path(CERTIFICATES["ca"]).read_text())
    with pytest.raises(ValueError, match="not a valid thing name"):
        handler(registration_event(cert["certificateId"], ca_id), LambdaContext(fn))
    assert iot.describe_certificate(certificateId=cert["certificateId"])["certificateDescription"]["status"] == "PENDING_ACTIVATION"
    assert iot.list_things()["things"] == []


# ------------------------------------------------------------------------------------------
# The DER reader (common_name), against cryptography's parser and hand-made edge cases


@pytest.mark.parametrize("fn", FUNCTIONS[:1], ids=ids(FUNCTIONS[:1]))
def test_common_name_agrees_with_cryptography(fn, activator):
    from cryptography import x509
    from cryptography.x509.name import _ASN1Type
    from cryptography.x509.oid import NameOID

    _, module, _, _, _ = activator
    device = Path(CERTIFICATES["device"]).read_text()
    parsed = x509.load_pem_x509_certificate(device.encode())
    assert module.common_name(device) == parsed.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value
    ca, key = make_ca("Test CA")
    cn = x509.NameAttribute(NameOID.COMMON_NAME, "dev-1")
    org = x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Ünïcode Org " + "x" * 300)
    subjects = {
        "utf8": (x509.Name([org, cn]), "dev-1"),
        "printable": (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dev-2", _type=_ASN1Type.PrintableString)]), "dev-2"),
        "bmp": (x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dev-3", _type=_ASN1Type.BMPString)]), "dev-3"),
        "multi-valued rdn": (x509.Name([x509.RelativeDistinguishedName([org, cn])]), "dev-1"),
        "no cn": (x509.Name([org]), None),
        "two cns": (x509.Name([cn, x509.NameAttribute(NameOID.COMMON_NAME, "dev-9")]), None),
    }
    for label, (subject, expected) in subjects.items():
        pem = pem_of(make_certificate(subject, ca, key))
        assert module.common_name(pem) == expected, label


@pytest.mark.parametrize("fn", FUNCTIONS[:1], ids=ids(FUNCTIONS[:1]))
def test_common_name_reads_v1_certificates_and_refuses_malformed_der(fn, activator):
    _, module, _, _, _ = activator
    name = seq(set_(seq(oid("2.5.4.3"), tlv(0x0C, b"v1-device"))))
    validity = seq(tlv(0x17, b"250101000000Z"), tlv(0x17, b"350101000000Z"))
    spki = seq(seq(oid("1.2.840.10045.2.1")), tlv(0x03, b"\x00\x04"))
    algorithm = seq(oid("1.2.840.10045.4.3.2"))
    v1 = seq(seq(tlv(0x02, b"\x01"), algorithm, name, validity, name, spki), algorithm, tlv(0x03, b"\x00"))
    assert module.common_name(ssl.DER_cert_to_PEM_cert(v1)) == "v1-device"
    bad = {
        "indefinite length": b"\x30\x80" + v1[2:],
        "long form for a short length": b"\x30\x81\x05" + b"\x02\x01\x01\x02\x00",
        "multi-byte tag": b"\x1f\x81\x01\x00",
        "trailing bytes": v1 + b"\x00",
        "cn as integer": seq(seq(tlv(0x02, b"\x01"), algorithm, name, validity, seq(set_(seq(oid("2.5.4.3"), tlv(0x02, b"\x05")))), spki), algorithm, tlv(0x03, b"\x00")),
    }
    for label, der in bad.items():
        with pytest.raises(ValueError):
            module.common_name(ssl.DER_cert_to_PEM_cert(der))
            pytest.fail(label)
    # Every truncation of a real certificate is an error, never a crash or a wrong name.
    der = ssl.PEM_cert_to_DER_cert(Path(CERTIFICATES["device"]).read_text())
    for cut in range(len(der)):
        with pytest.raises(ValueError):
            module.common_name(ssl.DER_cert_to_PEM_cert(der[:cut]))


# ------------------------------------------------------------------------------------------
# certificates for the tests


def pem_of(cert) -> str:
    from cryptography.hazmat.primitives.serialization import Encoding

    return cert.public_bytes(Encoding.PEM).decode()


def make_certificate(subject, issuer, issuer_key, *, ca: bool = False):
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime(2025, 1, 1, tzinfo=datetime.timezone.utc)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.subject if issuer is not None else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    cert = builder.sign(issuer_key if issuer_key is not None else key, hashes.SHA256())
    return (cert, key) if ca else cert


def make_ca(cn: str):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    return make_certificate(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)]), None, None, ca=True)


def fleet_ca():
    """The fleet's signing CA and its key, as `fleetform certs init` wrote them."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    ca_path = Path(CERTIFICATES["ca"])
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    key = load_pem_private_key(ca_path.with_suffix(".key").read_bytes(), password=None)
    return ca, key


def make_device(cn, ca, key):
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Acme")]
    if cn is not None:
        if cn == "":
            # cryptography refuses an empty CN; a CN of spaces stands in for it.
            cn = " "
        # Past 64 characters only an unvalidated attribute can say it (RFC 5280 ub-common-name).
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)
            attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, cn, _validate=len(cn) <= 64))
    return make_certificate(x509.Name(attributes), ca, key)


def tlv(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        length = bytes([0x80 | len(raw)]) + raw
    return bytes([tag]) + length + content


def seq(*items: bytes) -> bytes:
    return tlv(0x30, b"".join(items))


def set_(*items: bytes) -> bytes:
    return tlv(0x31, b"".join(items))


def oid(dotted: str) -> bytes:
    parts = [int(p) for p in dotted.split(".")]
    body = bytes([parts[0] * 40 + parts[1]])
    for part in parts[2:]:
        chunk = [part & 0x7F]
        part >>= 7
        while part:
            chunk.append(0x80 | (part & 0x7F))
            part >>= 7
        body += bytes(reversed(chunk))
    return tlv(0x06, body)
