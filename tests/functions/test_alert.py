"""The AWS alert functions, run on what their IoT rule sends: the telemetry message plus the
`device_id` and `received_at` the rule's SELECT adds (the rule invokes the function with the
SELECT output as the event)."""

from __future__ import annotations

import json

import pytest

from harness import Lambda, LambdaContext, as_list, assert_granted, ids, lambda_environment, lambdas, load_lambda

FUNCTIONS = lambdas("alert")
# Alert functions of stacks that keep the latest state of each device.
RECORDING = [fn for fn in FUNCTIONS if "state" in fn.module.resources("aws_dynamodb_table")]


def rule_of(fn: Lambda) -> dict:
    (rule,) = [
        r
        for r in fn.module.resources("aws_iot_topic_rule").values()
        if (r.get("lambda") or {}).get("function_arn") == f"${{aws_lambda_function.{fn.label}.arn}}"
    ]
    return rule


def state_writes(fn: Lambda) -> set[str]:
    """Tables the telemetry rules write with the DynamoDBv2 action (PutItem, whole items)."""
    out = set()
    for rule in fn.module.resources("aws_iot_topic_rule").values():
        for action in as_list(rule.get("dynamodbv2")):
            out.add(action["put_item"]["table_name"])
    return out


@pytest.fixture
def alert(fn, aws, monkeypatch, tmp_path):
    fakes, recorder = aws
    with lambda_environment(fn, fakes, monkeypatch) as env:
        loaded, handler = load_lambda(fn, tmp_path / "pkg")
    queue = None
    if "TOPIC_ARN" in env:
        # Subscribe a queue, to read what the topic received.
        sqs = fakes.client("sqs")
        queue = sqs.create_queue(QueueName="notifications")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        fakes.client("sns").subscribe(TopicArn=env["TOPIC_ARN"], Protocol="sqs", Endpoint=arn, Attributes={"RawMessageDelivery": "true"})
    recorder.clear()
    return handler, loaded.module, fakes, recorder, env, queue


def rule_output(message: dict, device: str, received_at: int) -> dict:
    return {**message, "device_id": device, "received_at": received_at}


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_rule_selects_what_the_function_reads(fn):
    rule = rule_of(fn)
    assert " AS device_id" in rule["sql"] and "timestamp() AS received_at" in rule["sql"], rule["sql"]
    assert rule["sql"].startswith("SELECT *, ")
    assert fn.module.resources("aws_lambda_permission")[fn.label]["source_arn"] == f"${{aws_iot_topic_rule.{fn.label}.arn}}"


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_match_is_recorded_and_notified(fn, alert):
    handler, module, fakes, recorder, env, queue = alert
    event = rule_output({"flow_lpm": 42.5, "tamper": True, "event": "intrusion", "armed": True}, "meter-17", 1700000000123)
    assert handler(event, LambdaContext(fn)) == {"alert": module.ALERT_NAME, "device_id": "meter-17"}
    if "ALERTS_TABLE" in env:
        item = fakes.session.resource("dynamodb").Table(env["ALERTS_TABLE"]).get_item(
            Key={"device_id": "meter-17", "alert": module.ALERT_NAME}
        )["Item"]
        assert item["occurrences"] == 1 and item["last_at"] == 1700000000123
        assert json.loads(item["last_message"]) == event
    if queue:
        (message,) = fakes.client("sqs").receive_message(QueueUrl=queue, MaxNumberOfMessages=10)["Messages"]
        body = json.loads(message["Body"])
        assert body["alert"] == module.ALERT_NAME and body["device_id"] == "meter-17"
        assert body["message"] == event and body["condition"] == module.CONDITION
    assert recorder.calls, "the function did nothing"
    assert_granted(fn, fakes, recorder.calls)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_long_device_ids_keep_the_subject_within_sns_limits(fn, alert):
    handler, _, fakes, recorder, env, _ = alert
    handler(rule_output({}, "d" * 128, 1), LambdaContext(fn))
    for call in recorder.calls:
        if call.operation == "Publish":
            assert len(call.params["Subject"]) <= 100


@pytest.mark.parametrize("fn", RECORDING, ids=ids(RECORDING))
def test_alert_then_telemetry_then_alert_keeps_both(fn, alert):
    """The telemetry rule replaces the device's state item with each message (PutItem);
    the alert records survive it, and the state survives the alerts."""
    handler, module, fakes, _, env, _ = alert
    (state_table,) = state_writes(fn)
    assert "ALERTS_TABLE" in env, f"{fn} records alerts nowhere but in the state items ({sorted(env)})"
    assert fakes.resolve(state_table) != env["ALERTS_TABLE"], "alerts are written where telemetry replaces items"
    dynamodb = fakes.session.resource("dynamodb")
    state = dynamodb.Table(fakes.resolve(state_table))
    alerts = dynamodb.Table(env["ALERTS_TABLE"])

    first = rule_output({"flow_lpm": 31}, "meter-1", 1000)
    handler(first, LambdaContext(fn))
    # What the telemetry rule's dynamodbv2 action does with the next message.
    telemetry = rule_output({"flow_lpm": 12}, "meter-1", 2000)
    state.put_item(Item=telemetry)
    second = rule_output({"flow_lpm": 55}, "meter-1", 3000)
    handler(second, LambdaContext(fn))

    assert state.get_item(Key={"device_id": "meter-1"})["Item"] == telemetry
    record = alerts.get_item(Key={"device_id": "meter-1", "alert": module.ALERT_NAME})["Item"]
    assert record["occurrences"] == 2
    assert record["last_at"] == 3000 and json.loads(record["last_message"]) == second
    # A late, older match is counted but does not replace the newer one.
    handler(rule_output({"flow_lpm": 40}, "meter-1", 2500), LambdaContext(fn))
    record = alerts.get_item(Key={"device_id": "meter-1", "alert": module.ALERT_NAME})["Item"]
    assert record["occurrences"] == 3 and record["last_at"] == 3000
