"""The DPS custom allocation webhook (`functions/allocation.zip`), run on DPS requests.

Requests are the AllocationRequest bodies documented in "Understand custom allocation
policies" (learn.microsoft.com/azure/iot-dps/concepts-custom-allocation), sent as the
`azure-functions` package's own `HttpRequest`; the response must name one of the linked hubs.
"""

from __future__ import annotations

import json

import pytest

from harness import FunctionApp, function_apps, ids, load_function_app

APPS = function_apps("allocation")

HUBS = [
    "custom-allocation-toasters-hub.azure-devices.net",
    "custom-allocation-heatpumps-hub.azure-devices.net",
]


def allocation_request(registration_id: str, *, group: dict | None = None, individual: dict | None = None, current: str | None = None) -> dict:
    runtime = {"registrationId": registration_id, "symmetricKey": {}}
    if current:
        runtime["currentIotHubHostName"] = current
        runtime["currentDeviceId"] = registration_id
    body = {"deviceRuntimeContext": runtime, "linkedHubs": HUBS}
    if individual is not None:
        body["individualEnrollment"] = individual
    else:
        body["enrollmentGroup"] = group or {
            "enrollmentGroupId": "contoso-custom-allocated-devices",
            "attestation": {"type": "symmetricKey"},
            "capabilities": {"iotEdge": False},
            "provisioningStatus": "enabled",
            "reprovisionPolicy": {"updateHubAssignment": True, "migrateDeviceData": True},
            "allocationPolicy": "custom",
            "iotHubs": HUBS,
            "customAllocationDefinition": {
                "webhookUrl": "https://custom-allocation-function-app-3.azurewebsites.net/api/HttpTrigger1?****",
                "apiVersion": "2021-10-01",
            },
        }
    return body


def http(body: bytes | dict, method: str = "POST"):
    import azure.functions as func

    if isinstance(body, dict):
        body = json.dumps(body).encode()
    return func.HttpRequest(
        method,
        "https://func-x-allocation.azurewebsites.net/api/allocate?code=key",
        headers={"content-type": "application/json"},
        params={"code": "key"},
        body=body,
    )


@pytest.fixture
def allocate(request, tmp_path):
    app: FunctionApp = request.param
    loaded = load_function_app(app, tmp_path)
    (fn,) = loaded.module.app.get_functions()
    return app, fn, lambda req: loaded.call_function(fn, req)


@pytest.mark.parametrize("allocate", APPS, ids=ids(APPS), indirect=True)
def test_route_is_the_webhook_the_enrollment_script_registers(allocate):
    app, fn, _ = allocate
    (trigger,) = [b.get_dict_repr() for b in fn.get_bindings() if b.type == "httpTrigger"]
    assert trigger["route"] == "allocate"
    assert [m.value if hasattr(m, "value") else m for m in trigger["methods"]] == ["POST"]
    assert str(trigger["authLevel"].value).lower() == "function"
    script = app.module.text("scripts/create-enrollment-groups.sh")
    assert 'WEBHOOK_URL="https://${ALLOCATION_HOST}/api/allocate?code=${ALLOCATION_KEY}"' in script
    assert "--webhook-url \"$WEBHOOK_URL\"" in script


@pytest.mark.parametrize("allocate", APPS, ids=ids(APPS), indirect=True)
def test_documented_request_gets_a_linked_hub_and_keeps_the_initial_twin(allocate):
    _, _, call = allocate
    twin = {"tags": {"deviceType": "sensor", "enrollmentGroup": "sensors"}, "properties": {"desired": {}}}
    group = allocation_request("x")["enrollmentGroup"] | {"initialTwin": twin}
    response = call(http(allocation_request("breakroom499-contoso-tstrsd-007", group=group)))
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = json.loads(response.get_body())
    assert body["iotHubHostName"] in HUBS
    assert body["initialTwin"] == twin
    assert set(body) == {"iotHubHostName", "initialTwin"}


@pytest.mark.parametrize("allocate", APPS, ids=ids(APPS), indirect=True)
def test_allocation_is_stable_and_spreads_devices(allocate):
    _, _, call = allocate

    def hub(registration_id, **kw):
        return json.loads(call(http(allocation_request(registration_id, **kw))).get_body())["iotHubHostName"]

    first = hub("device-1")
    assert hub("device-1", current=first) == first, "reprovisioning moved the device"
    assert {hub(f"device-{i}") for i in range(40)} == set(HUBS)


@pytest.mark.parametrize("allocate", APPS, ids=ids(APPS), indirect=True)
def test_individual_enrollment_request_is_served_too(allocate):
    _, _, call = allocate
    twin = {"tags": {"site": "dublin"}}
    request = allocation_request("device-9", individual={"registrationId": "device-9", "initialTwin": twin})
    body = json.loads(call(http(request)).get_body())
    assert body["iotHubHostName"] in HUBS
    assert body["initialTwin"] == twin


@pytest.mark.parametrize("allocate", APPS, ids=ids(APPS), indirect=True)
@pytest.mark.parametrize(
    "body",
    [b"not json", b"[]", b'{"linkedHubs": []}', json.dumps({"deviceRuntimeContext": {"registrationId": "d"}, "linkedHubs": []}).encode()],
    ids=["not-json", "not-an-object", "no-device", "no-linked-hubs"],
)
def test_bad_requests_get_400(allocate, body):
    _, _, call = allocate
    response = call(http(body))
    assert response.status_code == 400
