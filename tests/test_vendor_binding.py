"""What the vendors' servers accept beyond their documentation (simulators/kit/binding.py), and their front door
(simulators/kit/frontdoor.py). Each shape here is a wire fact of a real client (docs/WIRE-NOTES.md), sent as
the client sends it: served with the vendor's answer and journaled as a warning, never refused."""

from __future__ import annotations

import base64
import json
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from contracts.front_door import parse as parse_front_door
from harness.bundled import simulator_config
from harness.sim_control import SimControl
from harness.stack import Stack

ROOT = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.req("H-SIM-4")
LOGIN = json.dumps({"LoginName": "harness", "Password": "harness"})
BASIC = {"Authorization": "Basic " + base64.b64encode(b"harness:harness").decode()}


class Vendor:
    def __init__(self, url: str, http: aiohttp.ClientSession, options: dict[str, Any]) -> None:
        self.url, self.http, self.control, self.options = url, http, SimControl(http, url), options

    async def send(self, method: str, path: str | URL, **kwargs: Any) -> tuple[int, str, Any]:
        url = URL(self.url).join(path) if isinstance(path, URL) else self.url + path
        async with self.http.request(method, url, **kwargs) as resp:
            text = await resp.text()
            body = json.loads(text) if resp.content_type == "application/json" else text
            return resp.status, resp.content_type, body

    async def last(self) -> dict[str, Any]:
        return (await self.control.journal(source="client"))["entries"][-1]


@pytest.fixture
async def vendor(request: pytest.FixtureRequest) -> AsyncIterator[Vendor]:
    name, options = request.param
    async with Stack({name: simulator_config(name, **options)}) as stack, aiohttp.ClientSession() as http:
        yield Vendor(stack.url(name), http, options)


def cityworks(version: str, **options: Any) -> Any:
    return pytest.param(("cityworks", {"version": version, **options}), id=f"cityworks-{version}")


def auth_path(version: str) -> str:
    general = "" if version in ("2013", "2014") else "General/"
    return f"/Services/{general}Authentication/Authenticate"


FAMILIES = ["2013", "2014", "2015", "15.4", "23"]


def token_of(body: Any) -> str:
    assert isinstance(body, dict) and body["Status"] == 0, body
    return body["Value"]["Token"]


# -- Cityworks: ASP.NET binds `data` and `token` from the query string and the form, whatever the method ------


@pytest.mark.req("CW-VER-1")
@pytest.mark.parametrize("vendor", [cityworks(v) for v in FAMILIES], indirect=True)
async def test_cityworks_sign_in_with_data_in_the_query_of_an_empty_post(vendor: Vendor):
    version = vendor.options["version"]
    status, _, body = await vendor.send("POST", auth_path(version), params={"data": LOGIN})
    assert status == 200 and token_of(body)
    entry = await vendor.last()
    assert entry["violations"] == []
    assert [w["location"] for w in entry["warnings"]] == ["query.data"], entry["warnings"]


@pytest.mark.req("CW-VER-1")
@pytest.mark.parametrize("vendor", [cityworks(v) for v in FAMILIES], indirect=True)
async def test_cityworks_sign_in_with_a_get_carrying_a_form_body(vendor: Vendor):
    version = vendor.options["version"]
    status, _, body = await vendor.send("GET", auth_path(version), data={"data": LOGIN})
    assert status == 200 and token_of(body)
    entry = await vendor.last()
    assert entry["violations"] == [] and [w["location"] for w in entry["warnings"]] == ["form.data"]


@pytest.mark.req("CW-VER-2")
@pytest.mark.parametrize("vendor", [cityworks("15.4")], indirect=True)
async def test_cityworks_calls_with_token_and_data_in_any_place_and_casing(vendor: Vendor):
    _, _, body = await vendor.send("POST", auth_path("15.4"), data={"data": LOGIN})
    token = token_of(body)
    by_id = "/Services/Ams/ServiceRequest/ById"
    data = json.dumps({"RequestId": 1})
    shapes: list[dict[str, Any]] = [
        {"params": {"data": data, "token": token}},  # POST, everything in the query, empty body
        {"data": {"Data": data, "TOKEN": token}},  # names in another casing
        {"params": {"token": token}, "data": {"data": data}},  # the documented POST: no warning
    ]
    for shape in shapes:
        status, _, answer = await vendor.send("POST", by_id, **shape)
        assert status == 200 and answer["Status"] == 0 and answer["Value"]["RequestId"] == 1, (shape, answer)
    journal = (await vendor.control.journal(operation="Ams_ServiceRequest_ById"))["entries"]
    assert [e["violations"] for e in journal] == [[], [], []]
    assert [sorted(w["location"] for w in e["warnings"]) for e in journal] == [
        ["query.data"],
        ["form.Data", "form.TOKEN"],
        [],
    ]
    status, _, answer = await vendor.send("GET", by_id, data={"data": data, "token": token})
    assert status == 200 and answer["Status"] == 0 and answer["Value"]["RequestId"] == 1
    # A token the server does not know is refused in whichever place it came.
    status, _, answer = await vendor.send("POST", by_id, params={"data": data, "token": "bogus"})
    assert status == 200 and answer["Status"] == 2, answer


@pytest.mark.req("CW-VER-1")
@pytest.mark.parametrize(
    "vendor, wins",
    [
        (("cityworks", {"version": "15.4"}), "query"),
        (("cityworks", {"version": "15.4", "parameter_precedence": "form"}), "form"),
    ],
    indirect=["vendor"],
    ids=["query-first", "form-first"],
)
async def test_cityworks_data_sent_twice_is_read_from_the_configured_place(vendor: Vendor, wins: str):
    wrong = json.dumps({"LoginName": "harness", "Password": "not the password"})
    status, _, body = await vendor.send("POST", auth_path("15.4"), params={"data": LOGIN}, data={"data": wrong})
    assert status == 200 and body["Status"] == (0 if wins == "query" else 3), body
    entry = await vendor.last()
    assert any("different values" in w["message"] for w in entry["warnings"]), entry["warnings"]


@pytest.mark.req("CW-VER-1")
@pytest.mark.parametrize("vendor", [cityworks("23")], indirect=True)
async def test_cityworks_still_refuses_what_it_refuses(vendor: Vendor):
    """No `data` anywhere: the documented refusal, journaled as a violation (the binder invents nothing)."""
    status, _, body = await vendor.send("POST", auth_path("23"))
    assert status == 200 and body["Status"] == 1 and body["ErrorMessages"][0]["Name"] == "InvalidField", body
    entry = await vendor.last()
    assert entry["violations"] and entry["warnings"] == []


@pytest.mark.parametrize("vendor", [cityworks("23")], indirect=True)
async def test_the_journal_filters_by_warnings(vendor: Vendor):
    await vendor.send("POST", auth_path("23"), data={"data": LOGIN})
    await vendor.send("POST", auth_path("23"), params={"data": LOGIN})
    warned = (await vendor.control.journal(warnings=True))["entries"]
    assert len(warned) == 1 and warned[0]["warnings"][0]["location"] == "query.data"
    async with vendor.http.get(f"{vendor.url}/_sim/journal", params={"warnings": "maybe"}) as resp:
        assert resp.status == 400 and (await resp.json())["error"]["code"] == "invalid_filter"


# -- OpenGov: ASP.NET Web API reads a JSON body whatever its declared type -------------------------------


OPENGOV = pytest.param(("opengov", {}), id="opengov")
ISSUES = "/api/v1/classes/cgRequestIssuesClass"


@pytest.mark.req("OG-REQ-1")
@pytest.mark.parametrize("vendor", [OPENGOV], indirect=True)
@pytest.mark.parametrize(
    "declared",
    ["text/plain;charset=UTF-8", None, "application/json;odata=verbose"],
    ids=["browser-text-plain", "no-type", "odata-verbose"],
)
async def test_opengov_creates_from_json_whatever_its_declared_type(vendor: Vendor, declared: str | None):
    payload = json.dumps({"cgRequestIssuesClass": [{"IssueField": "Pothole (text/plain)"}]}).encode()
    headers = {**BASIC, **({"Content-Type": declared} if declared else {})}
    # aiohttp would add application/octet-stream to bytes with no type; skip_auto_headers keeps the wire bare
    status, _, body = await vendor.send(
        "POST", ISSUES, data=payload, headers=headers, skip_auto_headers=() if declared else ("Content-Type",)
    )
    assert status == 200, body  # OpenGov's create_status, by default what caRtegraph needs
    assert body["cgRequestIssuesClass"][0]["IssueField"] == "Pothole (text/plain)"
    entry = await vendor.last()
    assert entry["violations"] == []
    documented = declared is not None and declared.startswith("application/json")
    assert [w["location"] for w in entry["warnings"]] == ([] if documented else ["header.Content-Type"])


@pytest.mark.parametrize("vendor", [OPENGOV], indirect=True)
async def test_opengov_refuses_a_form_body_in_its_own_shape_and_keeps_nothing(vendor: Vendor):
    before = (await vendor.control.counts())["cgRequestIssuesClass"]
    status, _, body = await vendor.send("POST", ISSUES, data={"IssueField": "x"}, headers=BASIC)
    assert status == 400 and set(body) >= {"Message"}, body
    assert (await vendor.control.counts())["cgRequestIssuesClass"] == before


# -- the front door: IIS's request limits, answered with IIS's page ----------------------------------------


def cw_with(front_door: str) -> Any:
    return pytest.param(("cityworks", {"version": "23", "front_door": front_door}), id=front_door)


BY_ID = "/Services/Ams/ServiceRequest/ById"


def query_of_length(n: int) -> str:
    """An encoded query string of exactly n bytes, as it crosses the wire."""
    empty = "data=" + quote(json.dumps({"RequestId": 1, "Pad": ""}))
    return "data=" + quote(json.dumps({"RequestId": 1, "Pad": "x" * (n - len(empty))}))


def with_query(path: str, n: int) -> URL:
    return URL(f"{path}?{query_of_length(n)}", encoded=True)


@pytest.mark.req("CW-VER-1")
@pytest.mark.parametrize("vendor", [cw_with("iis")], indirect=True)
async def test_iis_refuses_a_query_string_over_its_limit_before_cityworks_sees_it(vendor: Vendor):
    assert len(query_of_length(2048)) == 2048 and len(with_query(BY_ID, 2049).raw_query_string) == 2049
    status, _, body = await vendor.send("GET", with_query(BY_ID, 2048))
    assert status == 200 and isinstance(body, dict), body  # at the limit: Cityworks answers
    status, content_type, page = await vendor.send("GET", with_query(BY_ID, 2049))
    assert (status, content_type) == (404, "text/html") and "404 - File or directory not found." in page
    entry = await vendor.last()
    assert [v["location"] for v in entry["violations"]] == ["front-door.maxQueryString"]
    assert "404.15" in entry["violations"][0]["message"]
    status, content_type, _ = await vendor.send("GET", "/Services/" + "A" * 4100)
    assert (status, content_type) == (404, "text/html")
    assert (await vendor.last())["violations"][0]["location"] == "front-door.maxUrl"


@pytest.mark.parametrize("vendor", [cw_with("iis:maxAllowedContentLength=1000,maxQueryString=8192")], indirect=True)
async def test_a_city_s_own_iis_limits(vendor: Vendor):
    status, _, body = await vendor.send("GET", with_query(BY_ID, 5000))
    assert status == 200 and isinstance(body, dict)
    status, content_type, _ = await vendor.send("POST", auth_path("23"), data={"data": LOGIN, "pad": "x" * 1000})
    assert (status, content_type) == (404, "text/html")
    assert (await vendor.last())["violations"][0]["location"] == "front-door.maxAllowedContentLength"


@pytest.mark.parametrize("vendor", [cw_with("none")], indirect=True)
async def test_no_front_door_serves_long_queries(vendor: Vendor):
    status, _, body = await vendor.send("GET", with_query(BY_ID, 6000))
    assert status == 200 and isinstance(body, dict)


def test_front_door_settings_are_checked():
    assert parse_front_door("none").server == "none"
    door = parse_front_door("iis:maxUrl=100")
    assert (door.max_url, door.max_query_string) == (100, 2048)
    for bad in ("apache", "iis:maxQuery=1", "iis:maxUrl=-1", "iis:maxUrl"):
        with pytest.raises(ValueError, match="front door"):
            parse_front_door(bad)
    proc = subprocess.run(
        [sys.executable, "-m", "harness.cli", "sim", "cityworks", "--front-door", "iis:maxQuery=1"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 2 and "maxQuery=1" in proc.stderr and "Traceback" not in proc.stderr


async def test_a_binding_rule_that_fails_leaves_the_call_to_the_strict_checks(caplog):
    """A bug in a dialect's binding must not become a 500 the real server would never send."""
    import dataclasses

    from simulators.kit import create_app
    from tests.kit_sim import SPEC as KIT_SPEC

    def broken(*_: Any) -> None:
        raise RuntimeError("binding bug")

    dialect = dataclasses.replace(KIT_SPEC.dialect, bind=broken, relax=broken)
    spec = dataclasses.replace(KIT_SPEC, dialect=dialect)
    app = create_app(spec, seed=1)
    async with aiohttp.ClientSession() as http:
        runner = web.AppRunner(app)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # type: ignore[union-attr]
        try:
            async with http.get(f"{url}/api/items", params={"limit": "2"}) as resp:
                assert resp.status == 200 and len((await resp.json())["items"]) == 2
            async with http.get(f"{url}/api/items", params={"limit": "0"}) as resp:  # refused, in its own format
                assert resp.status == 400 and "error" in await resp.json()
        finally:
            await runner.cleanup()
    assert "binding rule" in caplog.text and "binding bug" in caplog.text
