"""A long vendor outage (H-REL-7): Cityworks answers every call with 503 for an hour while citizens keep
reporting and commenting. Time is compressed 360 times (an hour in ten seconds): the gateway's back-off, its
cap and how long it keeps trying are scaled alike. Retries back off to their cap instead of following the
scheduler's tick, no row becomes a dead letter for the outage alone, the delivery runs record the outage, and
once the vendor is back the backlog drains: every report at the vendor once, its comments in order."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from shapely.geometry import mapping

from conformance.gateway.client import Gateway
from conformance.gateway.helpers import INSIDE
from gateway.settings import Settings
from harness.bundled import simulator_config
from harness.sim_control import SimControl
from harness.stack import Stack
from simulators.kit import city

SPEEDUP = 360  # one simulated hour in ten seconds
HOUR_S = 3600 / SPEEDUP
TOKEN, KEY = "vendor-outage-admin-token", "vendor-outage-key"


def compressed(database: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{database}",
        admin_token=TOKEN,
        api_keys=(KEY,),
        scheduler_tick_s=0.05,
        outbox_retry_base_s=2.0 / SPEEDUP,
        outbox_retry_cap_s=600.0 / SPEEDUP,
        outbox_give_up_s=24 * 3600.0 / SPEEDUP,
        outbox_claim_s=120.0 / SPEEDUP,
        job_lease_s=1.0,
        vendor_timeout_s=1.0,
        vendor_retry_base_s=0.2 / SPEEDUP,
        vendor_retry_cap_s=5.0 / SPEEDUP,
    )


async def link_cityworks(g: Gateway, cw: str) -> str:
    integration = await g.ok(
        "POST",
        "/integrations",
        json={"name": "CW", "vendor": "cityworks", "version": "23", "base_url": cw, "username": "harness",
              "secret": "harness", "intervals": {}},
    )  # fmt: skip
    form = aiohttp.FormData()
    form.add_field("name", city.NAME)
    form.add_field("file", json.dumps(mapping(city.BOUNDARY)).encode(), filename="city.geojson")
    geography = await g.ok("POST", "/geographies", data=form)
    await g.ok(
        "POST",
        "/agencies",
        json={"name": "Works", "geography_id": geography["id"], "integration_id": integration["id"]},
    )
    await g.run("category_sync", integration_id=integration["id"])
    return next(c["code"] for c in (await g.ok("GET", "/categories"))["items"] if c["integration_id"] and c["public"])


async def cityworks_holds(control: SimControl, http: aiohttp.ClientSession, cw: str, public_id: str) -> list[list[str]]:
    """The comment texts of every Cityworks SR made for this public request."""
    async with http.post(
        f"{cw}/Services/General/Authentication/Authenticate",
        data={"data": json.dumps({"LoginName": "harness", "Password": "harness"})},
    ) as resp:
        token = (await resp.json())["Value"]["Token"]
    async with http.post(
        f"{cw}/Services/Ams/ServiceRequest/ByOtherSystemId",
        data={"data": json.dumps({"OtherSystemId": public_id})},
        headers={"Authorization": f"cityworks {token}"},
    ) as resp:
        found = (await resp.json())["Value"] or []
    held = []
    for sr in found:
        record = await control.action("get-request", RequestId=sr["RequestId"])
        held.append([c.get("Comments") or "" for c in record["comments"]])
    return held


@pytest.mark.slow
@pytest.mark.req("H-REL-7", "CW-SUB-1", "CW-COM-1")
async def test_an_hour_long_vendor_outage_backs_off_kills_nothing_and_drains_in_order(tmp_path):
    sims = {"cityworks": simulator_config("cityworks", version="23", seed=3)}
    async with Stack(sims, gateway=compressed(tmp_path / "gw.db")) as stack, aiohttp.ClientSession() as http:
        g, cw = Gateway(stack.url("gateway"), http, TOKEN, KEY), stack.url("cityworks")
        code = await link_cityworks(g, cw)
        control = SimControl(http, cw)
        await control.add_faults({"kind": "error", "status": 503})  # every call, until cleared
        outage_began = time.monotonic()
        sent: dict[str, list[str]] = {}
        for n in range(8):  # citizens keep reporting through the outage
            status, _, body = await g.open311(
                "POST", "/requests.json", data={"api_key": KEY, "service_code": code, **INSIDE, "description": f"r{n}"}
            )
            assert status == 201, body
            public_id = json.loads(body)[0]["service_request_id"]
            sent[public_id] = [f"r{n} comment {c}" for c in range(2)]
            for text in sent[public_id]:
                status, _, body = await g.open311(
                    "POST", f"/requests/{public_id}/comments.json", data={"api_key": KEY, "description": text}
                )
                assert status == 201, body
            await asyncio.sleep(HOUR_S / 10)
        await asyncio.sleep(max(0.0, outage_began + HOUR_S - time.monotonic()))

        assert not (await g.ok("GET", "/outbox?state=dead"))["items"], "a row died of the outage alone"
        pending = (await g.ok("GET", "/outbox?state=pending"))["items"]
        assert {r["service_request_id"] for r in pending} == set(sent)
        # Backed off: a few tries per row in the hour, not one per scheduler tick (200 in the hour).
        tries = max(r["attempts"] for r in pending)
        assert 12 <= tries <= 40, f"{tries} tries in the hour"  # beyond MAX_ATTEMPTS: still trying
        runs = (await g.ok("GET", "/jobs/runs?job=deliver_outbox"))["items"]
        failed = [r for r in runs if r["status"] == "failed"]
        assert failed and any("503" in e for r in failed for e in r["errors"]), "the runs must show the outage"

        await control.clear_faults()
        back = time.monotonic()
        while (await g.ok("GET", "/outbox?state=pending"))["items"]:
            assert time.monotonic() - back < 3 * 600 / SPEEDUP + 10, "the backlog did not drain"
            await asyncio.sleep(0.1)
        assert not (await g.ok("GET", "/outbox?state=dead"))["items"]
        for public_id, comments in sent.items():
            assert await cityworks_holds(control, http, cw, public_id) == [comments], public_id


@contextlib.asynccontextmanager
async def a_report_at_a_cityworks_gateway(tmp_path: Any, **options: Any) -> AsyncIterator[tuple[Any, ...]]:
    """A gateway on SQLite (scheduler off) linked to a Cityworks 23 simulator, with one report filed through
    Open311: (stack, http, gateway client, Cityworks URL, its control plane, the report's public id)."""
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'gw.db'}",
        admin_token=TOKEN,
        api_keys=(KEY,),
        scheduler_tick_s=0,
        outbox_retry_base_s=0.001,
        **options,
    )
    sims = {"cityworks": simulator_config("cityworks", version="23", seed=3)}
    async with Stack(sims, gateway=settings) as stack, aiohttp.ClientSession() as http:
        g, cw = Gateway(stack.url("gateway"), http, TOKEN, KEY), stack.url("cityworks")
        code = await link_cityworks(g, cw)
        status, _, body = await g.open311(
            "POST", "/requests.json", data={"api_key": KEY, "service_code": code, **INSIDE}
        )
        assert status == 201, body
        yield stack, http, g, cw, SimControl(http, cw), json.loads(body)[0]["service_request_id"]
