"""Contract drift (H-REL-3), each case schemathesis found, pinned: a 405 says which methods the path has
(`Allow`), in the API's own error format; query values outside the contract are refused in one place, as the
contract declares them (400, naming the parameter, not quoting the value), and what the gateway accepts on
purpose the contract says (Open311's empty argument is one not sent); a schema-valid body refused by a
business rule is a 422 (400 on Open311) the contract declares with the rule (`x-business-rules`), and rules a
schema can state (a colour, a password's length) are stated there."""

from __future__ import annotations

import json
from typing import Any

import jsonschema_rs
import pytest

from contracts import load_contract

from .conftest import start_gateway

CONTRACT = load_contract("gateway")


@pytest.fixture
async def gw(tmp_path):
    async for g in start_gateway(f"sqlite:///{tmp_path / 'gateway.db'}"):
        yield g


async def call(gw: Any, method: str, path: str, **kwargs: Any) -> tuple[int, Any, Any]:
    async with gw.http.request(method, f"{gw.url}{path}", **kwargs) as resp:
        text = await resp.text()
        return resp.status, resp.headers, (json.loads(text) if text else None)


def operation(path: str, method: str) -> dict[str, Any]:
    return CONTRACT["paths"][path][method]


def query_parameter(path: str, method: str, name: str) -> dict[str, Any]:
    shared = CONTRACT["components"]["parameters"]
    for p in [*CONTRACT["paths"][path].get("parameters", []), *operation(path, method).get("parameters", [])]:
        p = shared[p["$ref"].rsplit("/", 1)[1]] if "$ref" in p else p
        if p["name"] == name and p["in"] == "query":
            return p
    raise LookupError(name)


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize(
    ("method", "path", "allowed", "api"),
    [
        ("TRACE", "/admin/v1/agencies", {"GET", "POST"}, "admin"),
        ("PUT", "/admin/v1/widgets/1/test", {"POST"}, "admin"),
        ("DELETE", "/open311/v2/services.json", {"GET"}, "open311"),
        ("PATCH", "/portal/v1/notifications", {"GET"}, "portal"),
    ],
)
async def test_a_method_the_path_does_not_have_is_a_405_with_allow(gw, method, path, allowed, api):
    status, headers, body = await call(gw, method, path, headers=gw.admin_headers)
    assert status == 405
    assert allowed <= {m.strip() for m in headers.get("Allow", "").split(",")} <= allowed | {"HEAD"}
    if api == "open311":
        assert body[0]["code"] == 405
    else:
        assert body["error"]["code"] == "method_not_allowed"


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize(
    ("path", "query", "name"),
    [
        ("/open311/v2/requests.json", {"extensions": "AAA"}, "extensions"),
        ("/open311/v2/requests.json", {"updated_before": "yesterday"}, "updated_before"),
        ("/open311/v2/requests.json", {"status": "opened"}, "status"),
        ("/open311/v2/requests.json", {"page_size": "1001"}, "page_size"),
        ("/open311/v2/requests/abc.json", {"extensions": "yes"}, "extensions"),
        ("/open311/v2/services.json", {"lat": "91", "long": "0"}, "lat"),
        ("/admin/v1/outbox", {"state": "stuck"}, "state"),
        ("/portal/v1/addresses", {"q": "x" * 101}, "q"),
        ("/portal/v1/dashboard", {"view": "tiny"}, "view"),
    ],
)
async def test_a_query_value_the_contract_does_not_allow_is_refused_naming_the_parameter(gw, path, query, name):
    status, _, body = await call(gw, "GET", path, params=query, headers=gw.admin_headers)
    assert status == 400, body
    if path.startswith("/open311/"):
        assert body[0]["code"] == 400 and body[0]["description"].startswith(name)
        assert next(iter(query.values())) not in body[0]["description"]  # never the value sent
    else:
        assert body["error"]["field"] == name and body["error"]["code"] == "invalid"


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize(
    "name", ["updated_before", "updated_after", "start_date", "end_date", "status", "page", "extensions"]
)
async def test_an_empty_open311_argument_is_one_not_sent_and_the_contract_says_so(gw, name):
    assert query_parameter("/open311/v2/requests.{format}", "get", name).get("allowEmptyValue") is True
    status, _, body = await call(gw, "GET", "/open311/v2/requests.json", params={name: ""})
    assert status == 200 and body == []


@pytest.mark.req("H-REL-3")
async def test_a_query_value_the_contract_allows_is_accepted(gw):
    query = {"updated_after": "2026-01-31T09:30:00.5+02:00", "status": "open, closed", "page": "1"}
    status, _, body = await call(gw, "GET", "/open311/v2/requests.json", params=query)
    assert status == 200, body
    status, _, body = await call(gw, "GET", "/admin/v1/outbox", params={"state": "dead"}, headers=gw.admin_headers)
    assert status == 200, body


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize("moment", ["0001-01-01T01:20:10+10:10", "9999-12-31T23:00:00-10:00"])
async def test_a_date_time_at_the_ends_of_the_calendar_is_a_bound_not_a_server_error(gw, moment):
    """In UTC these fall outside what a datetime holds (found by the stateful phase: a 500, shown as Open311's
    "General service error" 400)."""
    for name in ("start_date", "end_date", "updated_after", "updated_before"):
        status, _, body = await call(gw, "GET", "/open311/v2/requests.json", params={name: moment})
        assert status == 200 and body == [], (name, body)


@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize(
    ("path", "method", "body", "field"),
    [
        ("/admin/v1/categories", "post", {"code": "POT", "name": "Pothole", "agency_ids": [999]}, "agency_ids"),
        ("/admin/v1/agencies", "post", {"name": "Works", "geography_id": 999}, "geography_id"),
        ("/admin/v1/widgets", "post", {"name": "W", "published": True}, "endpoint"),
    ],
)
async def test_a_business_rule_refusal_of_a_schema_valid_body_is_declared_in_the_contract(
    gw, path, method, body, field
):
    op = operation(path, method)
    validator = jsonschema_rs.Draft202012Validator(
        {**op["requestBody"]["content"]["application/json"]["schema"], "components": CONTRACT["components"]}
    )
    assert validator.is_valid(body)  # the schema admits it ...
    status, _, answer = await call(gw, method.upper(), path, json=body, headers=gw.admin_headers)
    assert status == 422 and answer["error"]["field"] == field  # ... a rule refuses it ...
    assert op["x-business-rules"]["status"] == 422 and op["x-business-rules"]["rules"]  # ... and says which
    assert "422" in op["responses"]


@pytest.mark.req("H-REL-3")
def test_rules_a_schema_can_state_are_in_the_schema() -> None:
    schemas = {"components": CONTRACT["components"]}
    widget = jsonschema_rs.Draft202012Validator({"$ref": "#/components/schemas/WidgetInput", **schemas})
    assert widget.is_valid({"name": "W", "colour": "#A1b2C3"})
    for colour in ("", "#12345", "red", "#1234567"):
        assert not widget.is_valid({"name": "W", "colour": colour}), colour
    sign_up = jsonschema_rs.Draft202012Validator({"$ref": "#/components/schemas/SignUp", **schemas})
    assert not sign_up.is_valid({"email": "a@example.org", "password": "7-chars"})
    assert sign_up.is_valid({"email": "a@example.org", "password": "8-chars!"})
