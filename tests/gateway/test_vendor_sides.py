"""The gateway's vendor sides (gateway/vendors): one signed-in side per integration, shared by delivery and
every job, renewed when the integration changes; no vendor switch outside gateway/vendors, and no outbox
or vendor-record write outside storage/outbox.py."""

from __future__ import annotations

import asyncio
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from conformance.gateway.helpers import submit, synced, vendor_requests
from gateway.appkeys import ENGINE, JOBS
from gateway.storage import schema as t
from gateway.vendors.registry import SIDES
from gateway.vendors.side import Candidate, Comment, Image, Seen
from harness.stack import Stack
from simulators.cityworks import CityworksConfig
from simulators.kit import city

from .conftest import city_geojson, start_gateway

GATEWAY = Path(__file__).resolve().parents[2] / "gateway"
ALL_JOBS = ("category_sync", "question_sync", "import", "status_poll", "reconcile", "deliver_outbox")


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
                for job in ALL_JOBS:
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


class StubSide:
    """A third vendor, written as docs/ARCHITECTURE.md's "Adding a third vendor" says: one class implementing
    VendorSide, registered by name. Its records live in memory."""

    category_key = "vendor_id"
    category_mode = None
    incremental = False

    def __init__(self) -> None:
        self.requests: dict[str, dict[str, Any]] = {}
        self.said: dict[str, list[Comment]] = {}  # comments by vendor id
        self.files: dict[str, dict[str, bytes]] = {}
        self.entered: list[Candidate] = []

    async def find_request(self, request: dict[str, Any], category: dict[str, Any]) -> str | None:
        return next((k for k, r in self.requests.items() if r["ref"] == request["public_id"]), None)

    async def create_request(self, request: dict[str, Any], category: dict[str, Any], answers: list) -> str:
        ident = f"S-{len(self.requests) + 1}"
        self.requests[ident] = {"ref": request["public_id"], "kind": category["vendor_id"], "status": "NEW"}
        return ident

    async def find_comment(self, vendor_id: str, text: str) -> str | None:
        return next((c.id for c in self.said.get(vendor_id, []) if c.text == text), None)

    async def add_comment(self, vendor_id: str, text: str) -> str:
        mine = self.said.setdefault(vendor_id, [])
        mine.append(Comment(f"{vendor_id}/c{len(mine) + 1}", text, None))
        return mine[-1].id

    async def find_attachment(self, vendor_id: str, filename: str) -> str | None:
        return filename if filename in self.files.get(vendor_id, {}) else None

    async def add_attachment(self, vendor_id: str, filename: str, content: bytes) -> str:
        self.files.setdefault(vendor_id, {})[filename] = content
        return filename

    async def categories(self) -> dict[str, tuple[str, str]]:
        return {"7": ("HOLE", "Hole in the road")}

    async def questions(self, category: dict[str, Any]) -> list[dict[str, Any]]:
        return []

    async def candidates(self, since: Any) -> list[Candidate]:
        return self.entered

    async def read_back(self, linked: list[str], since: Any, counts: dict[str, int]) -> list[Seen]:
        counts["vendor_calls"] += 1
        return [Seen(v, self.requests[v]["status"], None, None, None, None) for v in linked if v in self.requests]

    async def comments(self, seen: Seen, counts: dict[str, int]) -> list[Comment]:
        return list(self.said.get(seen.vendor_id, []))

    async def download(self, image: Image, counts: dict[str, int]) -> bytes:
        raise AssertionError("the stub has no images to import")


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_third_vendor_needs_a_side_and_nothing_in_the_jobs(database_url):
    """Delivery, category sync, the status and comment poll, reconcile and import run for a vendor the jobs
    have never heard of, through its VendorSide alone."""
    stub = StubSide()
    async for g in start_gateway(database_url):
        app = g.stack.app("gateway")  # type: ignore[attr-defined]
        app[JOBS].vendors.sides = {**SIDES, "stub": lambda http, integration: stub}
        status_map = [{"vendor": "NEW", "public": "open"}, {"vendor": "DONE", "public": "closed"}]
        async with app[ENGINE].begin() as conn:
            now = datetime.now(UTC)
            integration_id = (
                await conn.execute(
                    t.integrations.insert().values(
                        name="Stub",
                        vendor="stub",
                        default_mode="sr",
                        intervals="{}",
                        created_at=now,
                        status_map=json.dumps(status_map),
                        updated_at=now,
                    )
                )
            ).inserted_primary_key[0]
        status, geography = await g.upload_geography("City", "city.geojson", city_geojson())
        assert status == 201, geography
        agency = await g.ok(
            "POST",
            "/agencies",
            json={"name": "Works", "geography_id": geography["id"], "integration_id": integration_id},
        )
        await g.ok("PATCH", f"/agencies/{agency['id']}", json={"importer_enabled": True})
        g.ids.update(integration=integration_id)

        assert (await g.run("category_sync", integration_id=integration_id))["counts"]["created"] == 1
        (category,) = await synced(g)
        public_id = await submit(g, category["code"])  # with a photo
        await g.run("deliver_outbox")
        await g.run("deliver_outbox")  # the photo follows its request
        (vendor_id,) = stub.requests
        assert stub.requests[vendor_id]["ref"] == public_id and len(stub.files[vendor_id]) == 1

        stub.requests[vendor_id]["status"] = "DONE"
        stub.said[vendor_id] = [Comment("v1", "Filled it in", None), Comment("v2", None, None)]  # one private
        run = await g.run("status_poll", integration_id=integration_id)
        assert run["status"] == "ok" and run["counts"]["closed"] == 1 and run["counts"]["comments"] == 1, run
        _, _, text = await g.open311("GET", f"/requests/{public_id}.json", params={"extensions": "true"})
        (record,) = json.loads(text)
        assert record["status"] == "closed"
        assert [c["description"] for c in record["extended_attributes"]["comments"]] == ["Filled it in"]

        assert (await g.run("reconcile", integration_id=integration_id))["status"] == "ok"
        assert len(stub.requests) == 1, "reconcile finds the request by the gateway's reference: no second one"

        lat, lon = city.SAMPLE_POINT["lat"], city.SAMPLE_POINT["long"]
        stub.entered = [Candidate("S-99", False, lon, lat, "7", False, "Entered at the vendor", None, None, None)]
        assert (await g.run("import", integration_id=integration_id))["counts"]["imported"] == 1


@pytest.mark.req("AGY-5")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_the_scheduler_runs_question_sync_only_for_a_vendor_with_questions(database_url):
    """A fresh OpenGov integration given the demo's intervals (question_sync among them, as `up` gives it) records
    no question_sync run at all — OpenGov request issues have no questions, so a run could only fail — while its
    other jobs and the Cityworks integration's question sync are scheduled as before. Run by hand, it still says why."""
    from harness.democity import INTERVALS
    from simulators.opengov import OpengovConfig

    sims = {"cityworks": CityworksConfig(version="23"), "opengov": OpengovConfig()}
    async with Stack(sims) as stack:
        async for g in start_gateway(database_url, scheduler_tick_s=0.05):
            made = {}
            for vendor, version in (("cityworks", "23"), ("opengov", "v1")):
                body = {"name": vendor, "vendor": vendor, "version": version, "base_url": stack.url(vendor)}
                body |= {"username": "harness", "secret": "harness", "intervals": INTERVALS}
                made[vendor] = (await g.ok("POST", "/integrations", json=body))["id"]
            wanted = {(job, made[v]) for v in made for job in ("category_sync", "status_poll")}
            wanted.add(("question_sync", made["cityworks"]))
            for _ in range(200):  # each due once, at the first ticks
                runs = (await g.ok("GET", "/jobs/runs"))["items"]
                seen = {(r["job"], r["integration_id"]) for r in runs if r["status"] != "running"}
                if wanted <= seen:
                    break
                await asyncio.sleep(0.05)
            assert wanted <= seen, runs
            assert not [r for r in runs if r["job"] == "question_sync" and r["integration_id"] == made["opengov"]]
            assert not [r for r in runs if r["status"] == "failed"], runs
            by_hand = await g.run("question_sync", integration_id=made["opengov"])
            assert by_hand["status"] == "failed" and "no questions" in by_hand["errors"][0]
