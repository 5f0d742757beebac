"""The web API function, run on API Gateway HTTP API (payload 2.0) requests with IAM auth.

The event is the HTTP API v2 Lambda proxy event for an IAM-authorized route, with the caller's
Cognito identity in `requestContext.authorizer.iam.cognitoIdentity`
(docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html;
the shape of aws-powertools' apiGatewayProxyV2IamEvent.json test event). Two users each own a
home's sensor; each may read their own and gets 404 for the other's.
"""

from __future__ import annotations

import json

import pytest

from harness import Lambda, LambdaContext, assert_granted, ids, lambda_environment, lambdas, load_lambda

FUNCTIONS = lambdas("read_state")

ALICE = "eu-west-1:3f291106-8703-466b-8f2b-3ecee1ca56ce"
BOB = "eu-west-1:9d0a5c2e-1f4b-4c8e-a2d7-6b5e4f3a2c1d"
POOL = "eu-west-1:4f291106-8703-466b-8f2b-3ecee1ca56ce"


def request(device_id: str, identity: str | None, *, pool: str = POOL, amr=None) -> dict:
    iam = {
        "accessKey": "ASIA2ZJZYVUEREEIHAKY",
        "accountId": "123456789012",
        "callerId": "AROA7ZJZYVRE7C3DUXHH6:CognitoIdentityCredentials",
        "principalOrgId": None,
        "userArn": "arn:aws:sts::123456789012:assumed-role/web-user/CognitoIdentityCredentials",
        "userId": "AROA2ZJZYVRE7Y3TUXHH6:CognitoIdentityCredentials",
    }
    if identity is not None:
        iam["cognitoIdentity"] = {
            "amr": amr if amr is not None else ["authenticated", "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc", "cognito-idp.eu-west-1.amazonaws.com/eu-west-1_abc:CognitoSignIn:1234"],
            "identityId": identity,
            "identityPoolId": pool,
        }
    return {
        "version": "2.0",
        "routeKey": "GET /devices/{id}",
        "rawPath": f"/devices/{device_id}",
        "rawQueryString": "",
        "headers": {"host": "abc123.execute-api.eu-west-1.amazonaws.com", "x-amz-date": "20250301T100000Z"},
        "pathParameters": {"id": device_id},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "abc123",
            "authorizer": {"iam": iam},
            "domainName": "abc123.execute-api.eu-west-1.amazonaws.com",
            "domainPrefix": "abc123",
            "http": {"method": "GET", "path": f"/devices/{device_id}", "protocol": "HTTP/1.1", "sourceIp": "192.0.2.1", "userAgent": "app"},
            "requestId": "id",
            "routeKey": "GET /devices/{id}",
            "stage": "$default",
            "time": "01/Mar/2025:10:00:00 +0000",
            "timeEpoch": 1740823200000,
        },
        "isBase64Encoded": False,
    }


@pytest.fixture
def api(fn, aws, monkeypatch, tmp_path):
    """Alice owns home-a-door, Bob owns home-b-door; both have state (and shadows, alerts)."""
    fakes, recorder = aws
    fakes.values["${aws_cognito_identity_pool.web.id}"] = POOL
    fakes.values["https://${data.aws_iot_endpoint.data.endpoint_address}"] = f"https://data-ats.iot.{fakes.region}.amazonaws.com"
    with lambda_environment(fn, fakes, monkeypatch) as env:
        loaded, handler = load_lambda(fn, tmp_path / "pkg")
    dynamodb = fakes.session.resource("dynamodb")
    owners = dynamodb.Table(env["OWNERS_TABLE"])
    state = dynamodb.Table(env["STATE_TABLE"])
    for owner, device in ((ALICE, "home-a-door"), (BOB, "home-b-door")):
        owners.put_item(Item={"identity_id": owner, "device_id": device})
        state.put_item(Item={"device_id": device, "armed": True, "received_at": 1700000000000})
        if "ALERTS_TABLE" in env:
            dynamodb.Table(env["ALERTS_TABLE"]).put_item(Item={"device_id": device, "alert": "alarm", "occurrences": 1})
        if "IOT_DATA_ENDPOINT" in env:
            fakes.client("iot").create_thing(thingName=device)
            data = fakes.session.client("iot-data", region_name=fakes.region, endpoint_url=env["IOT_DATA_ENDPOINT"])
            data.update_thing_shadow(thingName=device, payload=json.dumps({"state": {"reported": {"armed": True}}}))
    recorder.clear()
    return lambda event: handler(event, LambdaContext(fn)), fakes, recorder, env


def body(response: dict) -> dict:
    assert response["headers"]["cache-control"] == "no-store"
    return json.loads(response["body"])


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_user_a_asking_for_user_bs_device_is_refused(fn, api):
    call, fakes, recorder, _ = api
    response = call(request("home-b-door", ALICE))
    assert response["statusCode"] == 404
    assert body(response) == {"error": "unknown device"}
    # Nothing of Bob's home was read.
    assert [c.operation for c in recorder.calls] == ["GetItem"]
    assert recorder.calls[0].params["Key"] == {"identity_id": ALICE, "device_id": "home-b-door"}
    assert_granted(fn, fakes, recorder.calls)


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_own_device_returns_its_state(fn, api):
    call, fakes, recorder, env = api
    response = call(request("home-a-door", ALICE))
    assert response["statusCode"] == 200
    state = body(response)
    assert state["device_id"] == "home-a-door"
    assert state["latest"]["armed"] is True
    if "ALERTS_TABLE" in env:
        assert [a["alert"] for a in state["alerts"]] == ["alarm"]
    if "IOT_DATA_ENDPOINT" in env:
        assert state["shadow"]["state"]["reported"] == {"armed": True}
    assert_granted(fn, fakes, recorder.calls)
    # Bob reads his own too, and not Alice's.
    assert call(request("home-b-door", BOB))["statusCode"] == 200
    assert call(request("home-a-door", BOB))["statusCode"] == 404


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
@pytest.mark.parametrize(
    "event",
    [
        request("home-a-door", None),  # signed with IAM credentials that are no Cognito identity
        request("home-a-door", ALICE, amr=["unauthenticated", "cognito-identity.amazonaws.com"]),
        request("home-a-door", ALICE, pool="eu-west-1:00000000-0000-0000-0000-000000000000"),
        request("home-a-door", ""),
    ],
    ids=["no-cognito-identity", "guest", "other-identity-pool", "empty-identity"],
)
def test_callers_that_are_no_signed_in_user_of_this_pool_get_403(fn, api, event):
    call, _, recorder, _ = api
    assert call(event)["statusCode"] == 403
    assert recorder.calls == []


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
@pytest.mark.parametrize("device", ["", "a/b", "x" * 129, "home a"])
def test_bad_device_ids_get_400(fn, api, device):
    call, _, recorder, _ = api
    assert call(request(device, ALICE))["statusCode"] == 400
    assert recorder.calls == []


@pytest.mark.parametrize("fn", FUNCTIONS, ids=ids(FUNCTIONS))
def test_route_identity_pool_and_user_pool_are_wired_as_the_function_expects(fn: Lambda):
    m = fn.module
    route = m.resources("aws_apigatewayv2_route")[fn.label]
    assert route["route_key"] == "GET /devices/{id}" and route["authorization_type"] == "AWS_IAM"
    integration = m.resources("aws_apigatewayv2_integration")[fn.label]
    assert integration["payload_format_version"] == "2.0"
    assert integration["integration_uri"] == f"${{aws_lambda_function.{fn.label}.invoke_arn}}"
    pool = m.resources("aws_cognito_identity_pool")["web"]
    assert pool["allow_unauthenticated_identities"] is False and pool["allow_classic_flow"] is False
    assert pool["cognito_identity_providers"]["client_id"] == "${aws_cognito_user_pool_client.web.id}"
    assert pool["cognito_identity_providers"]["provider_name"] == "${aws_cognito_user_pool.web.endpoint}"
    assert fn.environment["IDENTITY_POOL_ID"] == "${aws_cognito_identity_pool.web.id}"
    user_pool = m.resources("aws_cognito_user_pool")["web"]
    assert user_pool["admin_create_user_config"]["allow_admin_create_user_only"] is True
    client = m.resources("aws_cognito_user_pool_client")["web"]
    assert client["generate_secret"] is False
    # The owners table has the keys the function reads with.
    owners = m.resources("aws_dynamodb_table")["device_owners"]
    assert (owners["hash_key"], owners["range_key"]) == ("identity_id", "device_id")
