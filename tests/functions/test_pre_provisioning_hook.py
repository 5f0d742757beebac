"""The pre-provisioning hook, run on the requests AWS IoT sends it during RegisterThing.

The request and the answer are those documented in "Pre-provisioning hooks"
(docs.aws.amazon.com/iot/latest/developerguide/pre-provisioning-hook.html): AWS IoT sends
claimCertificateId, certificateId, certificatePem, templateArn, clientId and the device's
parameters, and provisions only on `"allowProvisioning": true`, answered within 5 seconds.

The takeover: the template names the thing by the SerialNumber parameter and attaches the new
certificate to it, existing or not, and every device image carries the claim. So a claim holder
who sends an existing device's serial number must be refused, as must any serial number that is
not on the allow list; a listed new serial number is accepted.
"""

from __future__ import annotations

import json
import logging
import re
import time
from pathlib import Path

import pytest

from harness import CERTIFICATES, Lambda, LambdaContext, as_list, assert_granted, ids, lambda_environment, lambdas, load_lambda

HOOKS = lambdas("pre_provisioning_hook")
CLAIM_HOOKS = [fn for fn in HOOKS if "CLAIM_CLIENT_ID_PREFIX" in fn.environment]

EXISTING = "SN-EXISTING-0001"  # a provisioned device: its thing has a certificate
REGISTERED = "SN-REGISTERED-0002"  # a thing registered ahead of time, no certificate yet
NEW = "SN-NEW-0003"  # listed by the factory, never provisioned
UNKNOWN = "SN-UNKNOWN-0004"  # not on the allow list


def request(fn: Lambda, serial, client_id: str = "provisioning-client") -> dict:
    template = fn.module.resources("aws_iot_provisioning_template")["fleet"]["name"]
    parameters = {"AWS::IoT::Certificate::Id": "b" * 64}
    if serial is not ...:
        parameters["SerialNumber"] = serial
    return {
        "claimCertificateId": "a" * 64,
        "certificateId": "b" * 64,
        "certificatePem": "-----BEGIN CERTIFICATE-----\nMIIB...\n-----END CERTIFICATE-----\n",
        "templateArn": f"arn:aws:iot:eu-west-1:123456789012:provisioningtemplate/{template}",
        "clientId": client_id,
        "parameters": parameters,
    }


@pytest.fixture
def hook(fn, aws, monkeypatch, tmp_path):
    """The hook with a fleet: one live device, one pre-registered thing, an allow list."""
    fakes, recorder = aws
    with lambda_environment(fn, fakes, monkeypatch) as env:
        loaded, handler = load_lambda(fn, tmp_path / "pkg")
    iot = fakes.client("iot")
    for thing in (EXISTING, REGISTERED):
        iot.create_thing(thingName=thing)
    # The live device's certificate (registered without its CA, as fleet provisioning does).
    cert = iot.register_certificate_without_ca(certificatePem=Path(CERTIFICATES["device"]).read_text(), status="ACTIVE")
    iot.attach_thing_principal(thingName=EXISTING, principal=cert["certificateArn"])
    dynamodb = fakes.client("dynamodb")
    for serial in (EXISTING, REGISTERED, NEW):
        dynamodb.put_item(TableName=env["ALLOW_LIST_TABLE"], Item=factory_record(loaded.module, serial))
    recorder.clear()
    return handler, loaded.module, fakes, recorder, env, cert["certificateArn"]


def factory_record(module, serial: str) -> dict:
    """The allow-list item a factory writes: the serial number and, when the fleet has
    types, the device's type and its searchable attributes."""
    item = {"serial_number": {"S": serial}}
    if module.DEVICE_TYPES:
        device_type = sorted(module.DEVICE_TYPES)[0]
        item["device_type"] = {"S": device_type}
        item["attributes"] = {"M": {a: {"S": f"{a}-of-{serial}"} for a in module.DEVICE_TYPES[device_type]}}
    return item


def expected_overrides(module, serial: str) -> dict:
    """What the hook answers for a factory record: the type and its attributes, the other
    types' attributes empty."""
    out = {}
    if not module.DEVICE_TYPES:
        return out
    device_type = sorted(module.DEVICE_TYPES)[0]
    if module.TYPE_PARAMETER:
        out[module.TYPE_PARAMETER] = device_type
    for attribute, parameter in module.ATTRIBUTE_PARAMETERS.items():
        mine = attribute in module.DEVICE_TYPES[device_type]
        out[parameter] = f"{attribute}-of-{serial}" if mine else ""
    return out


def refusals(caplog) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "provisioning_refused"]


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_claim_holder_asking_for_an_existing_devices_serial_is_refused(fn, hook, caplog):
    handler, _, fakes, recorder, _, device_cert = hook
    answer = handler(request(fn, EXISTING), LambdaContext(fn))
    assert answer == {"allowProvisioning": False}
    (refusal,) = refusals(caplog)
    assert refusal.reason == "the thing already has a certificate"
    assert refusal.serial_number == EXISTING and refusal.claim_certificate_id == "a" * 64
    assert recorder.operations() == ["GetItem", "DescribeThing", "ListThingPrincipals"]
    assert fakes.client("iot").list_thing_principals(thingName=EXISTING)["principals"] == [device_cert]
    assert_granted(fn, fakes, recorder.calls)


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_unknown_serial_not_on_the_allow_list_is_refused(fn, hook, caplog):
    handler, _, fakes, recorder, _, _ = hook
    assert handler(request(fn, UNKNOWN), LambdaContext(fn)) == {"allowProvisioning": False}
    (refusal,) = refusals(caplog)
    assert refusal.reason == "the serial number is not on the allow list"
    assert recorder.operations() == ["GetItem"]
    assert_granted(fn, fakes, recorder.calls)


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_listed_new_serial_is_accepted(fn, hook, caplog):
    handler, module, fakes, recorder, env, _ = hook
    assert handler(request(fn, NEW), LambdaContext(fn)) == {
        "allowProvisioning": True,
        "parameterOverrides": expected_overrides(module, NEW),
    }
    assert not refusals(caplog)
    (get,) = [c for c in recorder.calls if c.operation == "GetItem"]
    assert get.params["ConsistentRead"] is True and get.params["TableName"] == env["ALLOW_LIST_TABLE"]
    assert_granted(fn, fakes, recorder.calls)


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_listed_pre_registered_thing_without_certificate_is_accepted(fn, hook):
    handler, _, _, recorder, _, _ = hook
    assert handler(request(fn, REGISTERED), LambdaContext(fn))["allowProvisioning"] is True
    assert recorder.operations() == ["GetItem", "DescribeThing", "ListThingPrincipals"]


BAD_SERIALS = {
    "missing": ...,
    "empty": "",
    "too long": "x" * 129,
    "slash": "SN/1",
    "space": "SN 1",
    "not a string": 42,
}


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
@pytest.mark.parametrize("serial", list(BAD_SERIALS.values()), ids=list(BAD_SERIALS))
def test_malformed_serials_are_refused_before_any_lookup(fn, hook, caplog, serial):
    handler, _, _, recorder, _, _ = hook
    assert handler(request(fn, serial), LambdaContext(fn)) == {"allowProvisioning": False}
    assert refusals(caplog)[0].reason == "the serial number is not a valid thing name"
    assert recorder.calls == []


@pytest.mark.parametrize("fn", CLAIM_HOOKS, ids=ids(CLAIM_HOOKS))
def test_serials_under_the_claim_client_id_prefix_are_refused(fn, hook, caplog):
    handler, _, fakes, recorder, env, _ = hook
    serial = env["CLAIM_CLIENT_ID_PREFIX"] + "0005"
    fakes.client("dynamodb").put_item(TableName=env["ALLOW_LIST_TABLE"], Item=factory_record(fn_module(hook), serial))
    recorder.clear()
    assert handler(request(fn, serial), LambdaContext(fn)) == {"allowProvisioning": False}
    assert refusals(caplog)[0].reason == "the serial number starts with the provisioning client id prefix"
    assert recorder.calls == []


def fn_module(hook):
    return hook[1]


TYPED_HOOKS = [fn for fn in HOOKS if len(fn.module.resources("aws_iot_thing_type")) > 1]


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_overrides_name_parameters_the_template_declares(fn, hook):
    """AWS IoT takes overrides only for the template's parameters; every one the hook sends
    must be declared, and the type must map to a thing type Terraform creates."""
    handler, module, _, _, _, _ = hook
    template = json.loads((fn.module.path / "provisioning/fleet-template.json").read_text())
    answer = handler(request(fn, NEW), LambdaContext(fn))
    for parameter in answer["parameterOverrides"]:
        assert parameter in template["Parameters"], parameter
    thing_type = template["Resources"]["thing"]["Properties"].get("ThingTypeName")
    types = {t["name"] for t in fn.module.resources("aws_iot_thing_type").values()}
    if isinstance(thing_type, dict):
        prefix, ref = thing_type["Fn::Join"][1]
        assert prefix + answer["parameterOverrides"][ref["Ref"]] in types
    elif thing_type is not None:
        assert thing_type in types


@pytest.mark.parametrize("fn", TYPED_HOOKS, ids=ids(TYPED_HOOKS))
def test_with_several_types_the_type_comes_from_the_factory_or_the_device(fn, hook, caplog):
    handler, module, fakes, recorder, env, _ = hook
    table = env["ALLOW_LIST_TABLE"]
    dynamodb = fakes.client("dynamodb")
    types = sorted(module.DEVICE_TYPES)
    # No type recorded: the device's own DeviceType is taken, if it is one of the fleet's.
    dynamodb.put_item(TableName=table, Item={"serial_number": {"S": "SN-UNTYPED-0006"}})
    asked = request(fn, "SN-UNTYPED-0006")
    asked["parameters"][module.TYPE_PARAMETER] = types[-1]
    answer = handler(asked, LambdaContext(fn))
    assert answer["parameterOverrides"][module.TYPE_PARAMETER] == types[-1]
    asked["parameters"][module.TYPE_PARAMETER] = "teapot"
    assert handler(asked, LambdaContext(fn)) == {"allowProvisioning": False}
    assert refusals(caplog)[-1].reason == "the device type is missing or not one of the fleet's"
    # The factory's record wins over what the device claims.
    asked = request(fn, NEW)
    asked["parameters"][module.TYPE_PARAMETER] = types[-1]
    assert handler(asked, LambdaContext(fn))["parameterOverrides"][module.TYPE_PARAMETER] == types[0]


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_an_aws_error_refuses_the_device(fn, hook, caplog):
    handler, _, fakes, _, env, _ = hook
    fakes.client("dynamodb").delete_table(TableName=env["ALLOW_LIST_TABLE"])
    assert handler(request(fn, NEW), LambdaContext(fn)) == {"allowProvisioning": False}
    assert "ResourceNotFoundException" in refusals(caplog)[0].reason


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_answers_well_within_five_seconds(fn, hook, caplog):
    handler, module, _, recorder, _, _ = hook
    assert fn.body["timeout"] < 5, "AWS IoT waits 5 s; the function must end (and log) before"
    start = time.monotonic()
    assert handler(request(fn, NEW), LambdaContext(fn))["allowProvisioning"] is True
    assert time.monotonic() - start < 1
    # Each AWS call is bounded, and three of them fit in the function's timeout.
    for client in (module.IOT, module.DYNAMODB):
        config = client.meta.config
        attempts = config.retries["total_max_attempts"]
        worst = (config.connect_timeout + config.read_timeout) * attempts
        assert worst * 1000 <= module.CALL_BUDGET_MS
    assert module.CALL_BUDGET_MS < fn.body["timeout"] * 1000, "no call could ever start"
    # With too little time left, it refuses instead of starting a call it cannot finish.
    recorder.clear()
    assert handler(request(fn, NEW), LambdaContext(fn, timeout=2.0)) == {"allowProvisioning": False}
    assert refusals(caplog)[0].reason == "no time left to check the device"
    assert recorder.calls == []


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_refusals_raise_the_alarm(fn, hook, caplog):
    """The metric filter matches the refusal log line Lambda writes in JSON log format (the
    runtime puts `extra` fields at the top level of the JSON object)."""
    handler, _, _, _, _, _ = hook
    assert fn.body["logging_config"]["log_format"] == "JSON"
    handler(request(fn, UNKNOWN), LambdaContext(fn))
    (refusal,) = refusals(caplog)
    metric_filter = fn.module.resources("aws_cloudwatch_log_metric_filter")["provisioning_refusals"]
    assert metric_filter["log_group_name"] == f"${{aws_cloudwatch_log_group.{fn.label}.name}}"
    field, value = re.fullmatch(r'\{ \$\.(\w+) = "([^"]+)" \}', metric_filter["pattern"]).groups()
    assert getattr(refusal, field) == value
    transform = metric_filter["metric_transformation"]
    alarm = fn.module.resources("aws_cloudwatch_metric_alarm")["provisioning_refusals"]
    assert (alarm["metric_name"], alarm["namespace"]) == (transform["name"], transform["namespace"])
    assert alarm["threshold"] == 0 and alarm["comparison_operator"] == "GreaterThanThreshold"
    assert alarm["alarm_actions"] == ["${aws_sns_topic.alerts.arn}"]


@pytest.mark.parametrize("fn", HOOKS, ids=ids(HOOKS))
def test_every_fleet_template_runs_this_hook(fn):
    template = fn.module.resources("aws_iot_provisioning_template")["fleet"]
    assert template["type"] == "FLEET_PROVISIONING" and template["enabled"] is True
    hook_block = template["pre_provisioning_hook"]
    assert hook_block == {"target_arn": f"${{aws_lambda_function.{fn.label}.arn}}", "payload_version": "2020-04-01"}
    permission = fn.module.resources("aws_lambda_permission")[fn.label]
    assert permission["principal"] == "iot.amazonaws.com"
    assert permission["source_arn"] == "${aws_iot_provisioning_template.fleet.arn}"
    # The serial number the hook checks is the thing's name.
    body = json.loads(fn.module.text("provisioning/fleet-template.json"))
    assert body["Resources"]["thing"]["Properties"]["ThingName"] == {"Ref": "SerialNumber"}


@pytest.mark.parametrize("fn", CLAIM_HOOKS, ids=ids(CLAIM_HOOKS))
def test_the_claim_may_connect_only_with_the_provisioning_prefix(fn):
    prefix = fn.environment["CLAIM_CLIENT_ID_PREFIX"]
    statements = as_list(fn.module.data("aws_iam_policy_document")["claim_policy"]["statement"])
    connects = [s for s in statements if any(a in ("iot:Connect", "iot:*", "*") for a in s["actions"])]
    assert len(connects) == 1 and connects[0]["actions"] == ["iot:Connect"]
    assert connects[0]["resources"] == [f"${{local.iot_arn}}:client/{prefix}*"]


def test_every_fleet_provisioning_module_has_the_hook():
    from harness import MODULES

    for module in MODULES:
        if module.cloud == "aws" and module.resources("aws_iot_provisioning_template"):
            assert "pre_provisioning_hook" in module.resources("aws_lambda_function"), module.name
