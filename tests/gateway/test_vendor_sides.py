"""The gateway's vendor sides (gateway/vendors): one signed-in side per integration, shared by delivery and
every job, renewed when the integration changes; no vendor switch outside gateway/vendors, and no outbox
or vendor-record write outside storage/outbox.py."""

from __future__ import annotations

import re
from pathlib import Path

import aiohttp
import pytest

from conformance.gateway.helpers import submit, synced, vendor_requests
from harness.stack import Stack
from simulators.cityworks import CityworksConfig

from .conftest import city_geojson, start_gateway

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
JOBS = ("category_sync", "question_sync", "import", "status_poll", "reconcile", "deliver_outbox")


async def sign_ins(http: aiohttp.ClientSession, url: str) -> int:
    async with http.get(f"{url}/_sim/journal", params={"limit": "1000"}) as resp:
        return sum("Authenticate" in e["path"] for e in (await resp.json())["entries"])


@pytest.mark.req("CW-VER-2")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_every_job_shares_one_cityworks_sign_in_until_the_integration_changes(database_url):
    async with Stack({"cityworks": CityworksConfig(version="23")}) as sims:
        cw = sims.url("cityworks")
        async for g in start_gateway(database_url):
            body = {"name": "CW", "vendor": "cityworks", "version": "23", "base_url": cw}
            integration = await g.ok("POST", "/integrations", json={**body, "username": "harness", "secret": "harness"})
            status, geography = await g.upload_geography("City", "city.geojson", city_geojson())
            assert status == 201, geography
            await g.ok(
                "POST",
                "/agencies",
                json={"name": "Works", "geography_id": geography["id"], "integration_id": integration["id"]},
            )
            g.ids.update(integration=integration["id"])
            await g.run("category_sync", integration_id=integration["id"])
            public_id = await submit(
                g, (await synced(g))[0]["code"]
            )  # a report with a photo: delivery calls three times
            for _ in range(2):
                for job in JOBS:
                    run = (
                        await g.run(job)
                        if job == "deliver_outbox"
                        else await g.run(job, integration_id=integration["id"])
                    )
                    assert run["status"] == "ok", run
            # six jobs twice (reconcile reads both ways), a create, a photo, polls: one sign-in for them all
            assert await sign_ins(g.http, cw) == 1
            (sr,) = await vendor_requests(g.http, cw, public_id)  # the test's own sign-in: now two
            assert sr["OtherSystemId"] == public_id
            await g.ok("PATCH", f"/integrations/{integration['id']}", json={"secret": "harness"})
            await g.run("category_sync", integration_id=integration["id"])
            assert await sign_ins(g.http, cw) == 3, "a changed integration gets a fresh side, signed in anew"


def test_no_vendor_switch_outside_the_vendor_package():
    """A third vendor is added in gateway/vendors and the connectors only (docs/ARCHITECTURE.md)."""
    switch = re.compile(r"""\[["']vendor["']\]\s*(==|!=)\s*["'](?!none["'])""")
    found = [
        f"{path.relative_to(GATEWAY)}:{n}"
        for path in GATEWAY.rglob("*.py")
        if path.parent.name not in ("vendors", "connectors")
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if switch.search(line) or '"wo:' in line
    ]
    assert found == []


def test_the_outbox_and_vendor_records_have_one_door():
    write = re.compile(
        r"(outbox|vendor_records|\bo|\bv)\.(insert|update|delete)\(|(insert|update)\(conn, t\.(outbox|vendor_records)"
    )
    found = [
        f"{path.relative_to(GATEWAY)}:{n}"
        for path in GATEWAY.rglob("*.py")
        if path.relative_to(GATEWAY).as_posix() != "storage/outbox.py"
        for n, line in enumerate(path.read_text().splitlines(), 1)
        if write.search(line)
    ]
    assert found == []
