"""Request import (CW-IMP-1): service requests entered in Cityworks become public requests once, inside the
agency's geography only, never the gateway's own; each run reads only what is new."""

from __future__ import annotations

import json

import pytest

from contracts.scenario import demo_city

from .helpers import deliver_all, sim, submit, synced


async def public_requests(g) -> dict[str, dict]:
    status, _, text = await g.open311("GET", "/requests.json", params={"page_size": "1000"})
    assert status == 200
    return {r["service_request_id"]: r for r in json.loads(text)}


@pytest.mark.req("CW-IMP-1")
async def test_requests_entered_in_cityworks_become_public_once(linked):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    await g.ok("PATCH", f"/agencies/{g.ids['agency']}", json={"importer_enabled": True})
    category = (await synced(g))[0]
    ours = await submit(g, category["code"], photo=False)  # the gateway's own request, delivered to Cityworks
    await deliver_all(g)
    lon, lat = demo_city().point()["long"], demo_city().point()["lat"]
    problem = int(category["vendor_id"])
    inside = await sim(g.http, cw, "create-request", ProblemSid=problem, X=lon, Y=lat, Details="Entered at the desk")
    await sim(g.http, cw, "create-request", ProblemSid=problem, X=-78.9, Y=35.9, Details="Outside the city")
    before = await public_requests(g)
    first = await g.run("import", integration_id=g.ids["integration"])
    assert first["status"] == "ok", first
    after = await public_requests(g)
    new = [r for rid, r in after.items() if rid not in before]
    details = [r["description"] for r in new]
    assert "Entered at the desk" in details and "Outside the city" not in details
    assert details.count("Entered at the desk") == 1
    assert first["counts"]["ours"] >= 1 and first["counts"]["outside"] >= 1
    assert [r for r in new if r["service_request_id"] == ours] == [], "the gateway's own request came back"
    second = await g.run("import", integration_id=g.ids["integration"])
    assert second["counts"]["imported"] == 0, second
    assert len(await public_requests(g)) == len(after)
    # An imported request follows its Cityworks record like any other.
    await sim(g.http, cw, "close-request", RequestId=inside["RequestId"])
    await g.run("status_poll", integration_id=g.ids["integration"])
    imported = next(r for r in (await public_requests(g)).values() if r["description"] == "Entered at the desk")
    assert imported["status"] == "closed"
