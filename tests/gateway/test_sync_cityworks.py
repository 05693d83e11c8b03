"""The gateway and the Cityworks simulator in step: category sync (CW-CAT-1), requests submitted once each
with their photo (CW-SUB-1, CW-SUB-2), comments once each (CW-COM-1), under apply-then-fail faults, jobs
run on demand with their outcome recorded (AGY-5). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from gateway.settings import Settings
from harness.bundled import simulator_config
from harness.stack import Stack

from .conftest import ADMIN_TOKEN, API_KEY, Gateway, city_geojson
from .test_open311 import INSIDE, PNG


@pytest.fixture
async def linked(database_url: str) -> AsyncIterator[tuple[Gateway, str]]:
    settings = Settings(
        database_url=database_url,
        admin_token=ADMIN_TOKEN,
        api_keys=(API_KEY,),
        scheduler_tick_s=0,  # jobs run when a test says so
        outbox_retry_base_s=0.001,
    )
    sim = simulator_config("cityworks", version="23", seed=5)
    async with Stack({"cityworks": sim}, gateway=settings) as stack, aiohttp.ClientSession() as http:
        g = Gateway(stack.url("gateway"), http, settings, stack)
        cw = stack.url("cityworks")
        integration = await g.ok(
            "POST",
            "/integrations",
            json={
                "name": "CW",
                "vendor": "cityworks",
                "version": "23",
                "base_url": cw,
                "username": "harness",
                "secret": "harness",
            },
        )
        _, geography = await g.upload_geography("City", "city.geojson", city_geojson())
        agency = await g.ok(
            "POST",
            "/agencies",
            json={"name": "Works", "geography_id": geography["id"], "integration_id": integration["id"]},
        )
        g.ids.update(integration=integration["id"], agency=agency["id"])
        yield g, cw


async def sim(http: aiohttp.ClientSession, cw: str, action: str, **payload: Any) -> Any:
    async with http.post(f"{cw}/_sim/actions/{action}", json=payload) as resp:
        body = await resp.json()
        assert resp.status == 200, body
        return body["result"]


async def fault(http: aiohttp.ClientSession, cw: str, **rule: Any) -> None:
    async with http.post(f"{cw}/_sim/faults", json=rule) as resp:
        assert resp.status == 201, await resp.text()


async def run(g: Gateway, job: str, **body: Any) -> dict[str, Any]:
    return await g.ok("POST", f"/jobs/{job}/run", json=body)


async def vendor_requests(http: aiohttp.ClientSession, cw: str, reference: str) -> list[dict[str, Any]]:
    """What Cityworks itself answers for the gateway's reference (token as a header from 23 on, else a field)."""
    async with http.post(
        f"{cw}/Services/General/Authentication/Authenticate",
        data={"data": json.dumps({"LoginName": "harness", "Password": "harness"})},
    ) as resp:
        token = (await resp.json())["Value"]["Token"]
    data = {"data": json.dumps({"OtherSystemId": reference})}
    for headers, fields in (({"Authorization": f"cityworks {token}"}, {}), ({}, {"token": token})):
        async with http.post(
            f"{cw}/Services/Ams/ServiceRequest/ByOtherSystemId", data={**data, **fields}, headers=headers
        ) as resp:
            envelope = await resp.json()
        if envelope["Status"] == 0:
            return envelope["Value"] or []
    raise AssertionError(f"Cityworks refused both token schemes: {envelope}")


async def synced(g: Gateway) -> list[dict[str, Any]]:
    return [c for c in (await g.ok("GET", "/categories"))["items"] if c["integration_id"] == g.ids["integration"]]


@pytest.mark.req("CW-CAT-1", "AGY-5")
async def test_category_sync_creates_updates_and_retires(linked):
    g, cw = linked
    first = await run(g, "category_sync", integration_id=g.ids["integration"])
    assert first["status"] == "ok" and first["counts"]["created"] > 0 and first["duration_ms"] is not None
    categories = await synced(g)
    assert len(categories) == first["counts"]["created"]
    assert all(c["active"] and c["integrated"] and c["agency_ids"] == [g.ids["agency"]] for c in categories)
    hidden = await sim(g.http, cw, "add-problem", ProblemCode="INTERNAL", Description="Staff only", public=False)
    added = await sim(g.http, cw, "add-problem", ProblemCode="NEWONE", Description="Fallen tree")
    gone = categories[0]
    await sim(g.http, cw, "remove-problem", ProblemSid=int(gone["vendor_id"]))
    second = await run(g, "category_sync", integration_id=g.ids["integration"])
    assert second["counts"] == {"created": 1, "updated": 0, "retired": 1, "unchanged": len(categories) - 1}
    after = {c["vendor_id"]: c for c in await synced(g)}
    assert after[str(added["ProblemSid"])]["name"] == "Fallen tree"
    assert str(hidden["ProblemSid"]) not in after, "a non-public problem type is never offered"
    assert after[gone["vendor_id"]]["active"] is False
    async with g.http.get(f"{g.url}/open311/v2/services.json") as resp:
        codes = {s["service_code"] for s in await resp.json()}
    assert gone["code"] not in codes and after[str(added["ProblemSid"])]["code"] in codes
    runs = (await g.ok("GET", "/jobs/runs?job=category_sync"))["items"]
    assert [r["id"] for r in runs] == [second["id"], first["id"]] and all(r["trigger"] == "admin" for r in runs)


async def submit(g: Gateway, code: str, photo: bool = True) -> str:
    form = aiohttp.FormData()
    for k, v in {"api_key": API_KEY, "service_code": code, **INSIDE, "description": "Tree on the road"}.items():
        form.add_field(k, v)
    form.add_field("email", "ana@example.org")
    if photo:
        form.add_field("media", PNG, filename="tree.png", content_type="image/png")
    async with g.http.post(f"{g.url}/open311/v2/requests.json", data=form) as resp:
        assert resp.status == 201, await resp.text()
        return (await resp.json())[0]["service_request_id"]


async def deliver_all(g: Gateway, rounds: int = 6) -> None:
    for _ in range(rounds):
        await run(g, "deliver_outbox")
        if not (await g.ok("GET", "/outbox?state=pending"))["items"]:
            return
    pending = (await g.ok("GET", "/outbox?state=pending"))["items"]
    raise AssertionError(f"outbox not drained: {pending}")


@pytest.mark.req("CW-SUB-1", "CW-SUB-2")
@pytest.mark.parametrize("failing", [None, "Create", "AddRequestAttachment"])
async def test_each_request_reaches_cityworks_once_with_its_photo(linked, failing):
    g, cw = linked
    await run(g, "category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    if failing:  # the vendor applies the call, then the answer is lost
        await fault(g.http, cw, kind="apply_then_fail", path=f"/Services/*/{failing}", count=1, then="reset")
    rid = await submit(g, code)
    await deliver_all(g)
    found = await vendor_requests(g.http, cw, rid)
    assert len(found) == 1, f"{len(found)} Cityworks requests for {rid}"
    record = await sim(g.http, cw, "get-request", RequestId=found[0]["RequestId"])
    assert record["request"]["Details"] == "Tree on the road"
    assert record["caller"]["CallerEmail"] == "ana@example.org"
    assert [a["sha256"] for a in record["attachments"]] == [hashlib.sha256(PNG).hexdigest()]


@pytest.mark.req("CW-COM-1")
@pytest.mark.parametrize("failing", [None, "AddComments"])
async def test_each_public_comment_reaches_cityworks_once(linked, failing):
    g, cw = linked
    await run(g, "category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    await deliver_all(g)
    if failing:
        await fault(
            g.http, cw, kind="apply_then_fail", path=f"/Services/*/{failing}", count=1, then="status", status=502
        )
    async with g.http.post(
        f"{g.url}/open311/v2/requests/{rid}/comments.json", data={"api_key": API_KEY, "description": "Still blocked"}
    ) as resp:
        assert resp.status == 201
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, cw, rid)
    record = await sim(g.http, cw, "get-request", RequestId=found["RequestId"])
    assert [c["Comments"] for c in record["comments"]].count("Still blocked") == 1


async def test_a_request_outside_an_integrated_category_stays_local(linked):
    g, cw = linked
    await g.ok("POST", "/categories", json={"code": "LOCAL", "name": "Local only", "agency_ids": [g.ids["agency"]]})
    rid = await submit(g, "LOCAL", photo=False)
    await deliver_all(g)
    assert await vendor_requests(g.http, cw, rid) == []
    delivered = (await g.ok("GET", "/outbox?state=delivered"))["items"]
    assert delivered[0]["last_error"].startswith("not sent")


@pytest.mark.req("AGY-5")
async def test_the_scheduler_delivers_without_being_asked(database_url):
    settings = Settings(database_url=database_url, admin_token=ADMIN_TOKEN, api_keys=(API_KEY,), scheduler_tick_s=0.2)
    sim_config_ = simulator_config("cityworks", version="23", seed=5)
    async with Stack({"cityworks": sim_config_}, gateway=settings) as stack, aiohttp.ClientSession() as http:
        g = Gateway(stack.url("gateway"), http, settings, stack)
        cw = stack.url("cityworks")
        integration = await g.ok(
            "POST",
            "/integrations",
            json={
                "name": "CW",
                "vendor": "cityworks",
                "version": "23",
                "base_url": cw,
                "username": "harness",
                "secret": "harness",
                "intervals": {"category_sync": 60},
            },
        )
        _, geography = await g.upload_geography("City", "city.geojson", city_geojson())
        await g.ok(
            "POST",
            "/agencies",
            json={"name": "W", "geography_id": geography["id"], "integration_id": integration["id"]},
        )
        for _ in range(100):  # the category sync is due at once (no run yet), delivery every tick
            if await synced_for(g, integration["id"]):
                break
            await asyncio.sleep(0.1)
        code = (await synced_for(g, integration["id"]))[0]["code"]
        rid = await submit(g, code, photo=False)
        for _ in range(100):
            if await vendor_requests(http, cw, rid):
                break
            await asyncio.sleep(0.1)
        assert len(await vendor_requests(http, cw, rid)) == 1
        runs = (await g.ok("GET", "/jobs/runs"))["items"]
        assert {r["trigger"] for r in runs} == {"schedule"} and {"deliver_outbox", "category_sync"} <= {
            r["job"] for r in runs
        }


async def synced_for(g: Gateway, integration_id: int) -> list[dict[str, Any]]:
    return [c for c in (await g.ok("GET", "/categories"))["items"] if c["integration_id"] == integration_id]
