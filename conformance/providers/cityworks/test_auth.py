"""Versions and authentication (CW-VER-1, CW-VER-2)."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import deref, load_contract

from .client import ENVELOPE_KEYS, NEW_AUTH, OLD_AUTH

UNAUTHORIZED, INVALID_CREDENTIALS = 2, 3
CONTRACT = load_contract("cityworks")
# every operation that takes a token (all but signing in), as the contract lists them
SECURED = [
    path
    for path, item in CONTRACT["paths"].items()
    if "post" in item and item["post"].get("security", CONTRACT.get("security"))
]


@pytest.mark.req("CW-VER-1")
def test_authenticate_lives_where_this_version_has_it(cw, probe):
    reply = cw.authenticate()
    assert reply.http_status == 200 and reply.status == 0
    assert isinstance(reply.value["Token"], str) and reply.value["Token"]
    other = NEW_AUTH if cw.legacy else OLD_AUTH
    wrong = cw.call(other, {"LoginName": cw.login, "Password": "x"}, auth="none")
    assert wrong.http_status == 404, f"{other} should not exist on a {cw.version} server"


@pytest.mark.req("CW-VER-1")
def test_the_envelope_has_this_versions_shape(cw, probe):
    reply = cw.call(probe, {})
    envelope = reply.envelope
    if cw.legacy:
        assert {"Status", "Message", "Value"} <= set(envelope)
    else:
        assert set(ENVELOPE_KEYS) <= set(envelope)
        for key in ("ErrorMessages", "WarningMessages", "SuccessMessages"):
            assert isinstance(envelope[key], list)


@pytest.mark.req("CW-VER-1")
def test_paths_are_case_insensitive_and_get_works_like_post(cw, probe):
    upper = cw.call(probe.upper(), {"ForPublicOnly": True})
    lower = cw.call(probe.lower(), {"ForPublicOnly": True}, method="GET")
    assert upper.status == lower.status == 0 and upper.value == lower.value


@pytest.mark.req("CW-VER-1")
def test_lenient_json_is_accepted(cw, probe):
    reply = cw.call(probe, raw_data="{'ForPublicOnly': true,}")
    assert reply.status == 0 and isinstance(reply.value, list)


@pytest.mark.req("CW-VER-2")
def test_the_versions_own_scheme_is_accepted(cw, probe):
    assert cw.call(probe, {}).status == 0


@pytest.mark.req("CW-VER-2")
def test_the_other_versions_scheme_is_rejected(cw, probe):
    other = "param" if cw.header_auth else "header"
    reply = cw.call(probe, {}, auth=other)
    assert reply.http_status == 200 and reply.status == UNAUTHORIZED
    if not cw.legacy:
        assert reply.envelope["ErrorMessages"], "an Unauthorized answer names the reason"


@pytest.mark.req("CW-VER-2")
@pytest.mark.parametrize("token", ["", "not-a-token", "eyJmYWtlIjogdHJ1ZX0="])
def test_missing_or_forged_tokens_are_rejected(cw, probe, token):
    reply = cw.call(probe, {}, token=token) if token else cw.call(probe, {}, auth="none")
    assert reply.status == UNAUTHORIZED
    assert reply.envelope["Value"] in (None, [], {})


@pytest.mark.req("CW-VER-2")
def test_wrong_header_scheme_is_rejected_on_23(cw, probe):
    if not cw.header_auth:
        pytest.skip("header authentication starts with Cityworks 23")
    resp = cw.http.post(cw.base_url + probe, data={"data": "{}"}, headers={"Authorization": f"Bearer {cw.token}"})
    assert resp.json()["Status"] == UNAUTHORIZED


@pytest.mark.req("CW-VER-2")
def test_bad_credentials_answer_invalid_credentials(cw, probe):
    assert cw.authenticate(password="wrong-password").status == INVALID_CREDENTIALS
    assert cw.authenticate(login="no-such-login-xyz").status == INVALID_CREDENTIALS


@pytest.mark.req("CW-VER-2")
def test_validate_tells_a_good_token_from_a_bad_one(cw, probe):
    if cw.legacy:
        pytest.skip("Validate is not part of the 2013/2014 services")
    path = "/Services/General/Authentication/Validate"
    assert cw.call(path, {"Token": cw.token}, auth="none").value is True
    assert cw.call(path, {"Token": cw.token[:-4] + "AAAA"}, auth="none").value is False


@pytest.mark.req("CW-VER-2")
def test_a_token_stops_working_when_it_expires(cw, probe):
    soon = (datetime.now(UTC) + timedelta(seconds=4)).strftime("%Y-%m-%dT%H:%M:%SZ")
    token = cw.authenticate(Expires=soon).value["Token"]
    assert cw.call(probe, {}, token=token).status == 0
    time.sleep(5)
    assert cw.call(probe, {}, token=token).status == UNAUTHORIZED


@pytest.mark.req("CW-VER-1")
def test_cityworks_online_token_works_as_the_password(cw, probe):
    if cw.legacy:
        pytest.skip("Cityworks Online login is not part of 2013/2014")
    online = cw.call(
        "/Services/General/Authentication/CityworksOnlineAuthenticate",
        {"LoginName": cw.login, "Password": cw._password},
        auth="none",
    )
    token = cw.authenticate(password=online.value["Token"]).value["Token"]
    assert cw.call(probe, {}, token=token).status == 0


@pytest.mark.req("CW-VER-1")
def test_cityworks_online_refuses_a_wrong_password(cw, probe):
    """A wrong password gets no Online token. Which error status the real service gives is not documented, so
    any error envelope passes; a token or a success does not."""
    if cw.legacy:
        pytest.skip("Cityworks Online login is not part of 2013/2014")
    online = cw.call(
        "/Services/General/Authentication/CityworksOnlineAuthenticate",
        {"LoginName": cw.login, "Password": "wrong-password"},
        auth="none",
    )
    assert online.status != 0, "CityworksOnlineAuthenticate answered a wrong password with success"
    assert not (online.envelope.get("Value") or {}).get("Token"), "a token for a wrong password"


def _resolve(node: Any) -> Any:
    return deref(CONTRACT, node)


def valid_data(spec: dict[str, Any]) -> Any:
    """`data` an operation accepts: its documented example, else its required members with a value each."""
    content = _resolve(spec.get("requestBody", {})).get("content", {})
    form = content.get("application/x-www-form-urlencoded") or content.get("multipart/form-data") or {}
    example = form.get("example", {}).get("data")
    if isinstance(example, str):
        return json.loads(example)
    schema = _resolve(_resolve(form.get("schema", {})).get("properties", {}).get("data", {}).get("contentSchema", {}))
    sample = {"integer": 1, "number": 1, "string": "x", "boolean": True, "array": [1], "object": {}}
    out = {}
    for name in schema.get("required", []):
        kind = _resolve(schema.get("properties", {}).get(name, {})).get("type", "integer")
        out[name] = sample.get(kind if isinstance(kind, str) else kind[0], 1)
    return out


@pytest.mark.req("CW-VER-2")
@pytest.mark.parametrize("path", SECURED)
def test_every_operation_refuses_a_missing_or_forged_token(cw, cw_target, path):
    """A site that checks the token on the calls a client makes first but not on every one fails here."""
    spec = CONTRACT["paths"][path]["post"]
    if spec.get("x-versions") and cw.family not in spec["x-versions"]:
        pytest.skip(f"{path} is not served by Cityworks {cw.version}")
    if spec.get("x-licence") and spec["x-licence"] not in cw_target.licences:
        pytest.skip(f"the target is not licensed for {spec['x-licence']}")
    data = valid_data(spec)  # valid arguments: a server may check them before the token
    content = _resolve(spec.get("requestBody", {})).get("content", {})
    files = {"file": ("photo.jpg", b"\xff\xd8\xff", "image/jpeg")} if "multipart/form-data" in content else None
    for reply in (
        cw.call(path, data, auth="none", files=files),
        cw.call(path, data, token="not-a-token", files=files),
    ):
        assert reply.http_status == 200 and reply.status == UNAUTHORIZED, f"{path}: {reply.raw[:200]!r}"
        assert reply.envelope["Value"] in (None, [], {})
