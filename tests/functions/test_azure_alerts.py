"""The Azure alert functions (`functions/alerts.zip`), run on Event Hub batches.

The batches go through the `azure-functions` package's own Event Hub trigger converter, in the
shape the Functions host sends for `cardinality="many"` (bodies plus SystemPropertiesArray), so
the handler sees exactly the `EventHubEvent` objects it gets in Azure: IoT Hub-routed telemetry
carries the sender in `iothub-connection-device-id`; Stream Analytics output carries no IoT Hub
properties and packs line-separated events into one message.
"""

from __future__ import annotations

import json

import pytest

from harness import FunctionApp, function_apps, ids, load_function_app

APPS = function_apps("alerts")


def alert_hubs(app: FunctionApp) -> dict:
    """Event hubs of the alerts, by name: {name: terraform label}."""
    return {
        body["name"]: label
        for label, body in app.module.resources("azurerm_eventhub").items()
        if label.startswith("alert_")
    }


def stream_analytics(app: FunctionApp) -> bool:
    return bool(app.module.resources("azurerm_stream_analytics_job"))


def batch(bodies: list[bytes], properties: list[dict]):
    """What the Functions host hands an Event Hub trigger with cardinality many."""
    from azure.functions import meta
    from azure.functions.eventhub import EventHubTriggerConverter

    class Collection:
        def __init__(self, items):
            self.bytes = items

    data = meta.Datum(Collection(bodies), "collection_bytes")
    trigger_metadata = {"SystemPropertiesArray": meta.Datum(json.dumps(properties), "json")}
    return EventHubTriggerConverter.decode(data, trigger_metadata=trigger_metadata)


def iothub_properties(device: str, sequence: int) -> dict:
    return {
        "EnqueuedTimeUtc": "2025-03-01T10:00:00.0000000Z",
        "SequenceNumber": sequence,
        "Offset": str(sequence * 100),
        "PartitionKey": None,
        "iothub-connection-device-id": device,
        "iothub-connection-auth-method": '{"scope":"device","type":"x509Certificate","issuer":"external"}',
        "iothub-enqueuedtime": "2025-03-01T10:00:00.0000000Z",
        "iothub-message-source": "Telemetry",
    }


@pytest.fixture
def functions(request, tmp_path):
    app: FunctionApp = request.param
    loaded = load_function_app(app, tmp_path)
    return app, loaded, {f.get_function_name(): f for f in loaded.module.app.get_functions()}


def records(caplog) -> list[dict]:
    return [json.loads(r.getMessage()) for r in caplog.records if r.getMessage().startswith("{")]


@pytest.mark.parametrize("functions", APPS, ids=ids(APPS), indirect=True)
def test_one_function_per_alert_event_hub_with_bindings_terraform_provides(functions):
    app, _, fns = functions
    hubs = alert_hubs(app)
    # The hubs the functions' identity may read are exactly the hubs the functions read.
    readable = {
        name
        for name, label in hubs.items()
        for ra in app.module.resources("azurerm_role_assignment").values()
        if ra["scope"] == f"${{azurerm_eventhub.{label}.id}}"
        and ra["principal_id"] == "${azurerm_user_assigned_identity.functions.principal_id}"
    }
    triggered = {
        b.get_dict_repr()["eventHubName"]
        for fn in fns.values()
        for b in fn.get_bindings()
        if b.type == "eventHubTrigger"
    }
    assert fns and triggered == readable, f"functions read {sorted(triggered)}, identity may read {sorted(readable)}"
    groups = app.module.resources("azurerm_eventhub_consumer_group")
    for name, fn in fns.items():
        (trigger,) = [b.get_dict_repr() for b in fn.get_bindings() if b.type == "eventHubTrigger"]
        assert trigger["eventHubName"] in hubs, trigger
        label = hubs[trigger["eventHubName"]]
        assert str(trigger["cardinality"].value) == "many"
        # The consumer group exists on that hub (or is the built-in $Default).
        if trigger["consumerGroup"] != "$Default":
            assert any(
                g["name"] == trigger["consumerGroup"]
                and g["eventhub_name"] == f"${{azurerm_eventhub.{label}.name}}"
                for g in groups.values()
            ), f"{name}: no consumer group {trigger['consumerGroup']!r} on {trigger['eventHubName']}"
        # `connection = "ALERTS"` is an identity-based connection: the app settings name the
        # namespace and the identity.
        prefix = trigger["connection"]
        assert f"{prefix}__fullyQualifiedNamespace" in app.settings
        assert app.settings.get(f"{prefix}__credential") == "managedidentity"
        assert f"{prefix}__clientId" in app.settings
        # and the identity may read that hub.
        assert any(
            ra["scope"] == f"${{azurerm_eventhub.{label}.id}}"
            and ra["role_definition_name"] == "Azure Event Hubs Data Receiver"
            for ra in app.module.resources("azurerm_role_assignment").values()
        ), f"{name}: the function identity cannot receive from {trigger['eventHubName']}"


@pytest.mark.parametrize("functions", APPS, ids=ids(APPS), indirect=True)
def test_routed_telemetry_batch_logs_one_record_per_message(functions, caplog):
    app, loaded, fns = functions
    for name, fn in fns.items():
        caplog.clear()
        events = batch(
            [
                json.dumps({"temperature": 93.5, "load_ratio": 0.97}).encode(),
                b"not json \xff",
                json.dumps({"temperature": 99}).encode(),
            ],
            [iothub_properties("crane-7", 1), iothub_properties("crane-8", 2), iothub_properties("crane-7", 3)],
        )
        loaded.call_function(fn, events)
        logged = records(caplog)
        assert [r["deviceId"] for r in logged] == ["crane-7", "crane-8", "crane-7"], logged
        assert logged[0]["body"] == {"temperature": 93.5, "load_ratio": 0.97}
        assert logged[1]["body"] == "not json \ufffd"
        assert logged[0]["enqueuedTime"].startswith("2025-03-01T10:00:00")
        alert = name.removeprefix("alert_")
        assert {r["alert"].replace("-", "_") for r in logged} == {alert}
        assert all(r["condition"] for r in logged)
        # The README's Log Analytics query finds them.
        assert all('"alert":' in rec.getMessage() for rec in caplog.records)


@pytest.mark.parametrize(
    "functions", [a for a in APPS if stream_analytics(a)], ids=ids(a for a in APPS if stream_analytics(a)), indirect=True
)
def test_stream_analytics_output_names_the_device_in_every_packed_event(functions, caplog):
    """Stream Analytics events carry no IoT Hub properties, and it packs several
    line-separated events into one message; each is one record with its device."""
    app, loaded, fns = functions
    query = app.module.text("stream-analytics/alerts.asaql")
    assert "GetMetadataPropertyValue([telemetry], '[EventHub].[IoTConnectionDeviceId]') AS connectionDeviceId" in query
    assert all(
        (o.get("serialization") or {}).get("format") == "LineSeparated"
        for o in app.module.resources("azurerm_stream_analytics_output_eventhub").values()
    )
    for name, fn in fns.items():
        caplog.clear()
        alert = name.removeprefix("alert_")
        lines = [
            {"temperature": 95, "alert": alert, "connectionDeviceId": "sensor-1"},
            {"temperature": 97, "alert": alert, "connectionDeviceId": "sensor-2"},
        ]
        body = "\n".join(json.dumps(line) for line in lines).encode()
        props = {"EnqueuedTimeUtc": "2025-03-01T10:00:00Z", "SequenceNumber": 1, "Offset": "1"}
        loaded.call_function(fn, batch([body], [props]))
        logged = records(caplog)
        assert [r["deviceId"] for r in logged] == ["sensor-1", "sensor-2"], logged
        assert [r["body"]["temperature"] for r in logged] == [95, 97]
