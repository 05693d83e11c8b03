"""The admin API: bearer token, write-only secrets, the question rules (OG-RQR-3/4), integration and comment
rule checks, conflicts; every refusal in the admin error shape and changing nothing. On both databases."""

from __future__ import annotations

import logging

import pytest

from .conftest import ADMIN_TOKEN

SECRET = "cw-password-Zq81!"


@pytest.mark.parametrize("header", [None, "Bearer wrong-token-000000000", f"Basic {ADMIN_TOKEN}", "Bearer "])
async def test_every_admin_call_needs_the_token(gw, header):
    headers = {"Authorization": header} if header else {}
    for method, path in (("GET", "/agencies"), ("POST", "/categories"), ("DELETE", "/questions/1")):
        async with gw.http.request(method, f"{gw.url}/admin/v1{path}", headers=headers, json={}) as resp:
            assert resp.status == 401 and resp.headers["WWW-Authenticate"].startswith("Bearer")
            assert (await resp.json())["error"]["code"] == "unauthorized"


async def test_integration_secrets_are_write_only(gw, caplog):
    caplog.set_level(logging.DEBUG)
    body = {
        "name": "Cityworks",
        "vendor": "cityworks",
        "version": "23",
        "base_url": "http://127.0.0.1:9/cityworks",
        "username": "svc-311",
        "secret": SECRET,
        "intervals": {"category_sync": 3600, "status_poll": 300},
    }
    created = await gw.ok("POST", "/integrations", json=body)
    assert created["has_secret"] is True and "secret" not in created
    assert created["intervals"] == {"category_sync": 3600, "status_poll": 300}
    changed = await gw.ok("PATCH", f"/integrations/{created['id']}", json={"secret": SECRET + "2", "version": "15.4"})
    listed = await gw.ok("GET", "/integrations")
    one = await gw.ok("GET", f"/integrations/{created['id']}")
    everything = str([created, changed, listed, one])
    assert SECRET not in everything and changed["version"] == "15.4"
    assert SECRET not in caplog.text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "X", "vendor": "cityworks", "version": "99", "base_url": "http://127.0.0.1:9"}, "version"),
        ({"name": "X", "vendor": "opengov", "version": "v1"}, "base_url"),
        ({"name": "X", "vendor": "sap"}, "vendor"),
        ({"name": "X", "vendor": "none", "intervals": {"status_poll": 5}}, "intervals.status_poll"),
        ({"name": "X", "vendor": "none", "base_url": "ftp://x"}, "base_url"),
        ({"name": "X", "vendor": "none", "surprise": 1}, None),
    ],
    ids=["cw-version", "og-no-url", "vendor", "interval", "url-scheme", "unknown-field"],
)
async def test_bad_integrations_are_refused(gw, body, field):
    status, answer = await gw.admin("POST", "/integrations", json=body)
    assert status == 422, answer
    if field:
        assert answer["error"]["field"] == field
    assert (await gw.ok("GET", "/integrations"))["items"] == []


@pytest.mark.req("OG-RQR-3", "OG-RQR-4")
async def test_integration_keys_only_on_private_questions(city_gw):
    path = f"/categories/{city_gw.ids['pothole']}/questions"
    public_key = {"code": "fn", "text": "First name", "datatype": "string", "integration_key": "FirstNameField"}
    status, body = await city_gw.admin("POST", path, json=public_key)
    assert status == 422 and body["error"]["field"] == "public"
    status, body = await city_gw.admin(
        "POST", path, json={**public_key, "public": False, "integration_key": "ShoeField"}
    )
    assert (
        status == 422 and body["error"]["field"] == "integration_key" and "FirstNameField" in body["error"]["message"]
    )
    assert [q["code"] for q in (await city_gw.ok("GET", path))["items"]] == ["size", "contact"]
    created = await city_gw.ok("POST", path, json={**public_key, "public": False})
    status, body = await city_gw.admin("PATCH", f"/questions/{created['id']}", json={"public": True})
    assert status == 422 and body["error"]["field"] == "public"
    assert (await city_gw.ok("GET", f"/questions/{created['id']}"))["public"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"code": "q", "text": "Pick", "datatype": "singlevaluelist"}, "choices"),
        (
            {"code": "q", "text": "Pick", "datatype": "singlevaluelist", "choices": [{"key": "a", "name": "A"}] * 2},
            "choices",
        ),
        ({"code": "q", "text": "Free", "datatype": "string", "choices": [{"key": "a", "name": "A"}]}, "choices"),
        ({"code": "q", "text": "Free", "datatype": "colour"}, "datatype"),
        ({"code": "bad code!", "text": "x", "datatype": "string"}, "code"),
    ],
    ids=["list-without-choices", "duplicate-keys", "choices-on-text", "datatype", "code"],
)
async def test_bad_questions_are_refused(city_gw, body, field):
    status, answer = await city_gw.admin("POST", f"/categories/{city_gw.ids['pothole']}/questions", json=body)
    assert status == 422 and answer["error"]["field"] == field, answer


@pytest.mark.req("OG-UPD-2")
async def test_comment_rules(gw):
    integration = await gw.ok(
        "POST",
        "/integrations",
        json={"name": "OG", "vendor": "opengov", "version": "v1", "base_url": "http://127.0.0.1:9"},
    )
    path = f"/integrations/{integration['id']}/comment-rules"
    rule = {"field": "TasksField", "operator": ">=", "value": "1", "message": "A work task has been created."}
    created = await gw.ok("POST", path, json=rule)
    assert {k: created[k] for k in rule} == rule
    for bad, field in ((dict(rule, operator="~"), "operator"), (dict(rule, value="many"), "value")):
        status, body = await gw.admin("POST", path, json=bad)
        assert status == 422 and body["error"]["field"] == field
    assert len((await gw.ok("GET", path))["items"]) == 1
    await gw.ok("DELETE", f"/integrations/{integration['id']}")
    status, _ = await gw.admin("GET", path)
    assert status == 404


async def test_conflicts_and_references(city_gw):
    status, body = await city_gw.admin("POST", "/agencies", json={"name": "Public Works"})
    assert status == 409 and body["error"]["code"] == "conflict"
    status, body = await city_gw.admin(
        "POST", "/categories", json={"code": "POT", "name": "Again", "agency_ids": [city_gw.ids["agency"]]}
    )
    assert status == 409
    status, body = await city_gw.admin("POST", "/categories", json={"code": "NEW", "name": "New", "agency_ids": [999]})
    assert status == 422 and body["error"]["field"] == "agency_ids"
    status, body = await city_gw.admin("POST", "/agencies", json={"name": "Parks", "geography_id": 999})
    assert status == 422 and body["error"]["field"] == "geography_id"
    status, body = await city_gw.admin(
        "POST", "/agencies", data=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert status == 400 and body["error"]["code"] == "invalid_json"
    status, body = await city_gw.admin("GET", "/agencies/abc")
    assert status == 404
    names = [a["name"] for a in (await city_gw.ok("GET", "/agencies"))["items"]]
    assert names == ["Public Works"]


async def test_category_membership_round_trips(city_gw):
    second = await city_gw.ok("POST", "/agencies", json={"name": "Parks"})
    both = [city_gw.ids["agency"], second["id"]]
    updated = await city_gw.ok(
        "PATCH", f"/categories/{city_gw.ids['light']}", json={"agency_ids": both, "group": "Lights"}
    )
    assert updated["agency_ids"] == sorted(both) and updated["group"] == "Lights"
    assert (await city_gw.ok("GET", f"/categories/{city_gw.ids['light']}"))["agency_ids"] == sorted(both)
