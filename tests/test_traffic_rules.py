"""Live traffic judged by requirement ID: the bundled gateway talks to the simulators through the recording proxy,
and its conversation alone decides. Clean traffic is green; a client in a wrong mode (duplicate creates, comments
out of order, the wrong auth scheme for the version, Retry-After ignored, duplicate requesters) is red naming the
right IDs; and the HAR the proxy writes re-judges offline, through `verify-traffic`, to the same verdicts."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from yarl import URL

from conformance.gateway.client import Gateway, city_geojson
from conformance.gateway.helpers import PNG, cityworks_token, deliver_all, fault, submit, synced
from harness.bundled import simulator_config
from harness.cli import main
from harness.proxy.app import Proxy, ProxySettings, Serving
from harness.stack import Stack
from harness.traffic import rules

from .gateway.conftest import demo_city, start_gateway

LOCATOR = "/arcgis/rest/services/World/GeocodeServer"


def verdicts(proxy: Proxy) -> dict[str, str]:
    """Requirement ID -> pass / fail / not covered, as the scorecard says."""
    return {r["id"]: r["status"] for r in proxy.report("test")["requirements"]}


def reverify(proxy: Proxy, directory: Path) -> tuple[int, dict[str, str]]:
    """The proxy's HAR file through `civic-harness verify-traffic`: (exit code, verdicts of its JSON report)."""
    har = directory / "traffic.har"
    har.write_text(json.dumps(proxy.har()), encoding="utf-8")
    code = main(["verify-traffic", str(har), "--report", str(directory / "report")])
    report = json.loads((directory / "report" / "report.json").read_text(encoding="utf-8"))
    assert (directory / "report" / "junit.xml").read_text(encoding="utf-8").count("<testcase") == len(report["checks"])
    assert "<html" in (directory / "report" / "report.html").read_text(encoding="utf-8")
    return code, {r["id"]: r["status"] for r in report["requirements"]}


@asynccontextmanager
async def proxied(stack: Stack, name: str, **settings: Any) -> AsyncIterator[tuple[Proxy, Serving]]:
    proxy = Proxy(ProxySettings(name, stack.url(name), **settings))
    async with Serving(proxy) as serving:
        yield proxy, serving


async def linked_through(g: Gateway, vendor: str, base: str, locator: str, version: str) -> int:
    integration = await g.ok(
        "POST",
        "/integrations",
        json={"name": vendor, "vendor": vendor, "version": version, "base_url": base, "username": "harness",
              "secret": "harness", "geocoder_url": locator},
    )  # fmt: skip
    _, geography = await g.upload_geography("City", "c.geojson", city_geojson())
    await g.ok(
        "POST",
        "/agencies",
        json={"name": "Works", "geography_id": geography["id"], "integration_id": integration["id"]},
    )
    g.ids.update(integration=integration["id"])
    return integration["id"]


async def comment(g: Gateway, rid: str, text: str) -> None:
    async with g.http.post(
        f"{g.url}/open311/v2/requests/{rid}/comments.json", data={"api_key": g.api_key, "description": text}
    ) as resp:
        assert resp.status == 201, await resp.text()


async def cw(http: aiohttp.ClientSession, base: str, path: str, data: dict[str, Any], token: str, **how: Any) -> Any:
    """One Cityworks call as a test client makes it: the token as a header (23's scheme) unless `as_param`."""
    form = {"data": json.dumps(data)}
    headers = {}
    if how.get("as_param"):
        form["token"] = token
    else:
        headers["Authorization"] = f"cityworks {token}"
    async with http.post(f"{base}/Services/{path}", data=form, headers=headers) as resp:
        return await (resp.json() if resp.content_type.endswith("json") else resp.read())


WRONG_CITYWORKS = ("reorder-comments", "corrupt-attachments")


@pytest.mark.heavy  # the gateway's whole round trip with Cityworks and its locator: seconds
@pytest.mark.req("CW-SUB-1", "CW-COM-1", "CW-VER-2", "CW-SUB-2", "CW-API-2", "TRF-1", "TRF-3", "H-PRX-1")
@pytest.mark.parametrize(
    "defects",
    [pytest.param((), id="clean"), pytest.param(WRONG_CITYWORKS, marks=pytest.mark.slow, id="simulator-wrong-modes")],
)
async def test_the_gateway_talking_to_cityworks_through_the_proxy_is_green(tmp_path, defects):
    """Clean, every ID the traffic can show passes; with the simulator giving comments back newest first and
    flipping a byte of every download, exactly the vendor's IDs for those fail and the gateway's stay green."""
    cityworks = simulator_config("cityworks", seed=5, defects=frozenset(defects))
    configs = {"cityworks": cityworks, "arcgis": simulator_config("arcgis")}
    async with (
        Stack(configs) as stack,
        proxied(stack, "cityworks", version="23") as (cw_proxy, cw_serving),
        proxied(stack, "arcgis") as (geo_proxy, geo_serving),
    ):
        async for g in start_gateway(f"sqlite:///{tmp_path / 'g.db'}"):
            integration = await linked_through(g, "cityworks", cw_serving.url, geo_serving.url + LOCATOR, "23")
            await g.run("category_sync", integration_id=integration)
            rid = await submit(g, (await synced(g))[0]["code"])
            await deliver_all(g)
            for text in ("First note", "Second note"):
                await comment(g, rid, text)
            await deliver_all(g)
            assert (await g.run("status_poll", integration_id=integration))["status"] == "ok"
            # a client reading the photo back, so CW-SUB-2 has a download to judge
            token = await cityworks_token(g.http, cw_serving.url)
            found = await cw(g.http, cw_serving.url, "Ams/ServiceRequest/ByOtherSystemId",
                             {"OtherSystemId": rid}, token)  # fmt: skip
            request_id = found["Value"][0]["RequestId"]
            (attachment,) = (await cw(g.http, cw_serving.url, "Ams/Attachments/RequestAttachments",
                                      {"RequestIds": [request_id]}, token))["Value"]  # fmt: skip
            data = {"AttachmentId": attachment["Id"]}
            downloaded = await cw(g.http, cw_serving.url, "Ams/Attachments/DownloadRequestAttachment", data, token)
            assert (downloaded == PNG) is not defects
        got = verdicts(cw_proxy)
        vendor = ("CW-SUB-2", "CW-API-2") if defects else ()
        green = tuple(x for x in ("CW-SUB-1", "CW-COM-1", "CW-VER-2", "CW-SUB-2", "CW-API-2", "TRF-1", "TRF-3")
                      if x not in vendor)  # fmt: skip
        findings = [(f.rule, f.message) for f in rules.judge(cw_proxy.profile, cw_proxy.exchanges())]
        assert {rid: got[rid] for rid in green} == dict.fromkeys(green, "pass"), findings
        assert {rid: got[rid] for rid in vendor} == dict.fromkeys(vendor, "fail"), findings
        assert got["TRF-2"] == "not covered", "no Retry-After in the traffic: nothing to judge, never a pass"
        assert verdicts(geo_proxy)["TRF-1"] == "pass" and verdicts(geo_proxy)["TRF-3"] == "pass"
        code, offline = reverify(cw_proxy, tmp_path)
        assert (code, offline) == (1 if defects else 0, got)


@pytest.mark.req("CW-SUB-1", "CW-COM-1", "CW-VER-2", "TRF-2", "TRF-4", "H-PRX-1")
async def test_a_client_in_wrong_modes_is_red_naming_the_ids(tmp_path):
    configs = {"cityworks": simulator_config("cityworks", seed=5)}
    async with Stack(configs) as stack, aiohttp.ClientSession() as http:
        async with proxied(stack, "cityworks", version="23") as (proxy, s):
            base = s.url
            token = await cityworks_token(http, base)
            problem = (await cw(http, base, "Ams/ServiceRequest/Problems", {"ForPublicOnly": True}, token))["Value"][0]
            create = {"ProblemSid": problem["ProblemSid"], "OtherSystemId": "gw-1", "Details": "pothole"}
            made = [await cw(http, base, "Ams/ServiceRequest/Create", create, token) for _ in range(2)]  # duplicate
            request_id = made[0]["Value"]["RequestId"]
            add = "Ams/ServiceRequest/AddComments"
            await fault(http, stack.url("cityworks"), kind="error", status=500, path="/Services/*/AddComments", count=1)
            for text in ("A first", "B second", "A first"):  # A fails, B overtakes it, A lands after B
                await cw(http, base, add, {"RequestId": request_id, "Comments": text}, token)
            await cw(http, base, "Ams/ServiceRequest/ById", {"RequestId": request_id}, token, as_param=True)  # 2015's
            await fault(http, stack.url("cityworks"), kind="rate_limit", retry_after=2, path="/Services/*/Statuses",
                        count=1)  # fmt: skip
            for _ in range(2):  # asked to wait two seconds, asks again at once
                await cw(http, base, "Ams/ServiceRequest/Statuses", {}, token)
            await fault(http, stack.url("cityworks"), kind="error", status=503, path="/Services/*/Problems", count=4)
            for _ in range(5):  # fails four times, retried at once each time: no back-off
                await cw(http, base, "Ams/ServiceRequest/Problems", {"ForPublicOnly": True}, token)
        got = verdicts(proxy)
        failing = {rid for rid, status in got.items() if status == "fail"}
        assert {"CW-SUB-1", "CW-COM-1", "CW-VER-2", "TRF-2", "TRF-4"} <= failing, got
        findings = {f.rule: f for f in rules.judge(proxy.profile, proxy.exchanges())}
        assert "'gw-1' created 2 times" in findings["one-create-per-reference"].message
        assert "'A first' took effect after 'B second'" in findings["comments-once-in-order"].message
        assert "1 of" in findings["version-auth-scheme"].message
        assert findings["wrong-auth-scheme-refused"].outcome == rules.PASSED, "the server refused it, as 23 does"
        assert "asked to wait 2 s" in findings["retry-after-honoured"].message
        code, offline = reverify(proxy, tmp_path)
        assert (code, offline) == (1, got)


@pytest.mark.req("OG-REQ-1", "OG-RQR-1", "OG-COM-1", "OG-API-6", "TRF-1", "H-PRX-1")
async def test_the_gateway_talking_to_opengov_through_the_proxy_is_green_and_a_duplicating_client_red(tmp_path):
    configs = {"opengov": simulator_config("opengov", seed=4), "arcgis": simulator_config("arcgis")}
    async with Stack(configs) as stack, proxied(stack, "opengov") as (og_proxy, og_serving):
        locator = stack.url("arcgis") + LOCATOR
        async for g in start_gateway(f"sqlite:///{tmp_path / 'g.db'}"):
            integration = await linked_through(g, "opengov", og_serving.url, locator, "v1")
            await g.run("category_sync", integration_id=integration)
            code = (await synced(g))[0]["code"]
            rids = [await submit(g, code, photo=n == 0) for n in range(2)]  # one citizen: one requester
            await deliver_all(g)
            for text in ("One", "Two"):
                await comment(g, rids[0], text)
            await deliver_all(g)
            # a client reading the photo back through the proxy, so OG-API-6 has a download to judge
            auth = {"Authorization": aiohttp.encode_basic_auth("harness", "harness")}
            base, child = f"{og_serving.url}/api/v1", "cgRequests_cgAttachmentsClass"
            query = {"filter": f'(([IntegrationID] is equal to "{rids[0]}"))'}
            async with g.http.get(f"{base}/classes/cgRequestsClass", params=query, headers=auth) as resp:
                (record,) = (await resp.json())["cgRequestsClass"]
            async with g.http.get(f"{base}/classes/cgRequestsClass/{record['Oid']}/{child}", headers=auth) as resp:
                (attachment,) = (await resp.json())[child]
            async with g.http.get(f"{base}/attachments/{child}/{attachment['Oid']}", headers=auth) as resp:
                assert await resp.read() == PNG
        green = verdicts(og_proxy)
        # now a client that creates a requester twice without looking for one
        requester = {"EmailField": "ana@example.org", "FirstNameField": "Ana", "LastNameField": "User"}
        async with aiohttp.ClientSession(headers=auth) as http:
            for _ in range(2):
                async with http.post(f"{og_serving.url}/api/v1/classes/cgRequestersClass",
                                     json={"cgRequestersClass": [requester]}) as resp:  # fmt: skip
                    assert resp.status < 300, await resp.text()
        red = verdicts(og_proxy)
    assert {k: green[k] for k in ("OG-REQ-1", "OG-RQR-1", "OG-COM-1", "OG-API-6", "TRF-1")} == dict.fromkeys(
        ("OG-REQ-1", "OG-RQR-1", "OG-COM-1", "OG-API-6", "TRF-1"), "pass"
    ), [(f.rule, f.message) for f in rules.judge(og_proxy.profile, og_proxy.exchanges())]
    assert red["OG-RQR-1"] == "fail" and red["OG-REQ-1"] == "pass"
    assert reverify(og_proxy, tmp_path) == (1, red)  # a failing rule: verify-traffic exits 1


def test_verify_traffic_says_what_is_wrong_with_a_file_in_one_sentence(tmp_path, capsys):
    bad = tmp_path / "x.har"
    bad.write_text('{"log": {}}', encoding="utf-8")
    assert main(["verify-traffic", str(bad)]) == 2
    assert "not a HAR file" in capsys.readouterr().err
    plain = tmp_path / "plain.har"
    plain.write_text(json.dumps({"log": {"version": "1.2", "entries": []}}), encoding="utf-8")
    assert main(["verify-traffic", str(plain)]) == 2
    assert "give --api" in capsys.readouterr().err
    assert main(["verify-traffic", str(plain), "--api", "opengov"]) == 0  # nothing to judge: all NOT COVERED
    assert "0 pass, 0 fail" in capsys.readouterr().out


@pytest.mark.slow  # a citizen signing up: scrypt at the gateway's cost
@pytest.mark.req("TRF-1", "TRF-3", "H-PRX-1")
async def test_the_gateways_widgets_talking_to_a_city_api_through_the_proxy_are_green(tmp_path):
    async with (
        Stack({"city-api": simulator_config("city-api")}) as stack,
        proxied(stack, "city-api") as (proxy, serving),
    ):
        allow = (URL(serving.url).raw_authority,)  # the gateway's SSRF guard lets it call this proxy, nothing else
        async for g in start_gateway(f"sqlite:///{tmp_path / 'g.db'}", widget_allow=allow):
            body = {"name": "Jobs", "endpoint": f"{serving.url}/jobs", "key_id": "jobs",
                    "secret": "harness-widget-secret", "published": True}  # fmt: skip
            status, created = await g.admin("POST", "/widgets", json=body)
            assert status == 201, created
            session = await g.sign_up({"email": "ana@example.org", "password": "correct horse battery", "name": "A"})
            headers = {"Authorization": f"Bearer {session['token']}"}
            for view in ("dashboard", "expanded"):
                async with g.http.get(f"{g.url}/portal/v1/widgets/{created['id']}", params={"view": view},
                                      headers=headers) as resp:  # fmt: skip
                    shown = await resp.json()
                    assert resp.status == 200 and shown["state"] == "ok", shown
    got = verdicts(proxy)
    assert (got["TRF-1"], got["TRF-3"]) == ("pass", "pass"), [
        (f.rule, f.message) for f in rules.judge(proxy.profile, proxy.exchanges())
    ]
    assert {ex.operation for ex in proxy.exchanges()} >= {"getContent"}, "the views were judged as the contract's"


@pytest.mark.req("TRF-1", "TRF-3", "H-PRX-1")
async def test_a_proxy_in_front_of_the_gateways_open311_api_judges_its_clients_and_its_answers(tmp_path):
    async for g in start_gateway(f"sqlite:///{tmp_path / 'g.db'}"):
        await demo_city(g)
        proxy = Proxy(ProxySettings("open311", g.url))
        async with Serving(proxy) as serving:
            citizen = Gateway(serving.url, g.http, g.admin_token, g.api_key)
            citizen.ids.update(g.ids)
            status, _, listed = await citizen.open311("GET", "/services.json")
            assert status == 200, listed
            await submit(citizen, "POT", **{"attribute[size]": "small"})  # with its photo, multipart
            good = verdicts(proxy)
            # a JSON body where Open311 takes a form: refused in Open311's own error format
            status, _, refused = await citizen.open311("POST", "/requests.json", json={"service_code": "POT"})
            assert status in (400, 403, 415), refused
            bad = verdicts(proxy)
    assert (good["TRF-1"], good["TRF-3"]) == ("pass", "pass"), [
        (f.rule, f.message) for f in rules.judge(proxy.profile, proxy.exchanges())
    ]
    assert (bad["TRF-1"], bad["TRF-3"]) == ("fail", "pass")
