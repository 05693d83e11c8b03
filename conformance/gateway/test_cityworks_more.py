"""More of the Cityworks rules: every version family and its authentication (CW-VER-1, CW-VER-2), a
comment's photo as an attachment (CW-COM-2), and category sync at scale (AGY-4)."""

from __future__ import annotations

import hashlib
import json
import secrets

import aiohttp
import pytest

from harness.bundled import simulator_config
from harness.sim_control import SimControl
from harness.stack import Stack

from .client import city_geojson
from .helpers import PNG, cityworks_token, deliver_all, fault, sim, submit, synced, vendor_requests


async def integrate(gw, cw: str, version: str) -> None:
    tag = secrets.token_hex(4)
    integration = await gw.ok(
        "POST",
        "/integrations",
        json={
            "name": f"CW {version} {tag}",
            "vendor": "cityworks",
            "version": version,
            "base_url": cw,
            "username": "harness",
            "secret": "harness",
        },
    )
    _, geography = await gw.upload_geography(f"City {tag}", "c.geojson", city_geojson())
    agency = await gw.ok(
        "POST",
        "/agencies",
        json={"name": f"W {tag}", "geography_id": geography["id"], "integration_id": integration["id"]},
    )
    gw.ids.update(integration=integration["id"], agency=agency["id"], tag=tag)


@pytest.mark.req("CW-VER-1", "CW-VER-2")
@pytest.mark.parametrize("version", ["2013", "2014", "2015", "15.8", "23"])
async def test_every_version_family_gets_its_requests(gw, version):
    async with Stack({"cityworks": simulator_config("cityworks", version=version, seed=2)}) as stack:
        cw = stack.url("cityworks")
        await integrate(gw, cw, version)
        run = await gw.run("category_sync", integration_id=gw.ids["integration"])
        assert run["status"] == "ok", run
        rid = await submit(gw, (await synced(gw))[0]["code"], photo=False)
        await deliver_all(gw)
        assert len(await vendor_requests(gw.http, cw, rid)) == 1


@pytest.mark.req("CW-COM-2")
async def test_a_comments_photo_becomes_an_attachment(linked):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    form = aiohttp.FormData()
    form.add_field("api_key", g.api_key)
    form.add_field("description", "Here is how it looks now")
    form.add_field("media", PNG, filename="now.png", content_type="image/png")
    async with g.http.post(f"{g.url}/open311/v2/requests/{rid}/comments.json", data=form) as resp:
        assert resp.status == 201, await resp.text()
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, cw, rid)
    record = await sim(g.http, cw, "get-request", RequestId=found["RequestId"])
    assert [c["Comments"] for c in record["comments"]] == ["Here is how it looks now"]
    assert [a["sha256"] for a in record["attachments"]] == [hashlib.sha256(PNG).hexdigest()]


@pytest.mark.req("AGY-4")
async def test_category_sync_has_no_limit(gw):
    async with Stack({"cityworks": simulator_config("cityworks", version="23", seed=3)}) as stack:
        cw = stack.url("cityworks")
        async with gw.http.post(f"{cw}/_sim/seed", json={"seed": 3, "problems": 7000}) as resp:
            assert resp.status == 200, await resp.text()
        await integrate(gw, cw, "23")
        run = await gw.run("category_sync", integration_id=gw.ids["integration"])
        assert run["status"] == "ok", run
        public = await sim_public_problems(gw.http, cw)
        assert run["counts"]["created"] == public >= 5000
        assert len(await synced(gw)) == public


async def sim_public_problems(http: aiohttp.ClientSession, cw: str) -> int:
    token = await cityworks_token(http, cw)
    async with http.post(
        f"{cw}/Services/Ams/ServiceRequest/Problems",
        data={"data": json.dumps({"ForPublicOnly": True})},
        headers={"Authorization": f"cityworks {token}"},
    ) as resp:
        return len((await resp.json())["Value"])


@pytest.mark.req("CW-MODE-1", "CW-CAT-1", "CW-UPD-1", "CW-ICM-1")
@pytest.mark.parametrize("failing", [None, "Create"])
async def test_work_order_mode_on_a_work_order_only_site(gw, failing):
    """A site licensed for work orders only: public templates become categories, each request one work order
    (found again by the gateway's reference after a lost answer), with its comment and photo."""
    sites = {"cityworks": simulator_config("cityworks", version="23", seed=4, licences=frozenset({"wo"}))}
    async with Stack(sites) as stack:
        cw = stack.url("cityworks")
        tag = secrets.token_hex(4)
        integration = await gw.ok(
            "POST",
            "/integrations",
            json={
                "name": f"WO {tag}",
                "vendor": "cityworks",
                "version": "23",
                "base_url": cw,
                "username": "harness",
                "secret": "harness",
                "default_mode": "wo",
            },
        )
        _, geography = await gw.upload_geography(f"City {tag}", "c.geojson", city_geojson())
        await gw.ok(
            "POST",
            "/agencies",
            json={"name": f"W {tag}", "geography_id": geography["id"], "integration_id": integration["id"]},
        )
        gw.ids.update(integration=integration["id"], tag=tag)
        run = await gw.run("category_sync", integration_id=integration["id"])
        assert run["status"] == "ok" and run["counts"]["created"] > 0, run
        categories = await synced(gw)
        assert all(c["mode"] == "wo" for c in categories)
        if failing:
            await fault(
                gw.http, cw, kind="apply_then_fail", path=f"/Services/Ams/WorkOrder/{failing}", count=1, then="reset"
            )
        rid = await submit(gw, categories[0]["code"])
        status, _, text = await gw.open311(
            "POST", f"/requests/{rid}/comments.json", data={"api_key": gw.api_key, "description": "Crew please"}
        )
        assert status == 201, text
        await deliver_all(gw)
        found = await work_orders(gw.http, cw, rid)
        assert len(found) == 1, f"{len(found)} work orders for one request"
        record = await sim(gw.http, cw, "get-work-order", WorkOrderId=found[0]["WorkOrderId"])
        assert [c["Comments"] for c in record["comments"]] == ["Crew please"]
        assert [a["sha256"] for a in record["attachments"]] == [hashlib.sha256(PNG).hexdigest()]
        # Back from the work order: a "To SCF:" comment, then its closing (CW-ICM-1, CW-UPD-1).
        wo = found[0]["WorkOrderId"]
        await sim(gw.http, cw, "add-comment", WorkOrderId=wo, text="Crew assigned.", to_scf=True)
        await sim(gw.http, cw, "close-work-order", WorkOrderId=wo)
        poll = await gw.run("status_poll", integration_id=integration["id"])
        assert poll["status"] == "ok" and poll["counts"]["closed"] == 1, poll
        _, _, text = await gw.open311("GET", f"/requests/{rid}.json", params={"extensions": "true"})
        (public,) = json.loads(text)
        assert public["status"] == "closed"
        assert [c["description"] for c in public["extended_attributes"]["comments"]] == [
            "Crew please",
            "Crew assigned.",
        ]


async def work_orders(http: aiohttp.ClientSession, cw: str, reference: str) -> list[dict]:
    token = await cityworks_token(http, cw)
    headers = {"Authorization": f"cityworks {token}"}
    async with http.post(
        f"{cw}/Services/Ams/WorkOrder/Search", data={"data": json.dumps({"Text1": [reference]})}, headers=headers
    ) as resp:
        ids = (await resp.json())["Value"] or []
    if not ids:
        return []
    async with http.post(
        f"{cw}/Services/Ams/WorkOrder/ByIds", data={"data": json.dumps({"WorkOrderIds": ids})}, headers=headers
    ) as resp:
        return (await resp.json())["Value"]


@pytest.mark.req("CW-VER-1", "CW-VER-2")
async def test_cityworks_online_login(gw):
    """On Cityworks Online the gateway logs in at the login service first; its token is the site's password."""
    async with Stack({"cityworks": simulator_config("cityworks", version="23", seed=6)}) as stack:
        cw = stack.url("cityworks")
        tag = secrets.token_hex(4)
        body = {
            "name": f"Online {tag}",
            "vendor": "cityworks",
            "version": "23",
            "base_url": cw,
            "login_url": cw,
            "username": "harness",
            "secret": "harness",
        }
        integration = await gw.ok("POST", "/integrations", json=body)
        assert integration["login_url"] == cw
        _, geography = await gw.upload_geography(f"City {tag}", "c.geojson", city_geojson())
        await gw.ok(
            "POST",
            "/agencies",
            json={"name": f"W {tag}", "geography_id": geography["id"], "integration_id": integration["id"]},
        )
        gw.ids.update(integration=integration["id"], tag=tag)
        assert (await gw.run("category_sync", integration_id=integration["id"]))["status"] == "ok"
        rid = await submit(gw, (await synced(gw))[0]["code"], photo=False)
        await deliver_all(gw)
        assert len(await vendor_requests(gw.http, cw, rid)) == 1
        paths = {e["path"] for e in (await SimControl(gw.http, cw).journal(limit=1000))["entries"]}
        assert "/Services/General/Authentication/CityworksOnlineAuthenticate" in paths, "no Cityworks Online login"
        wrong = await gw.ok("POST", "/integrations", json={**body, "name": f"Wrong {tag}", "secret": "not-it"})
        run = await gw.run("category_sync", integration_id=wrong["id"])
        assert run["status"] == "failed" and run["errors"] and "not-it" not in str(run)
