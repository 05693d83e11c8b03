"""Status mapping per integration: the vendor's statuses through the integration's two-way map (finer public
statuses behind Open311's open and closed), the map versioned with the integration, and a vendor status the
map does not know recorded by the poll instead of guessed."""

from __future__ import annotations

import json

import pytest

from .helpers import deliver_all, sim, submit, synced, vendor_requests

CUSTOM = [
    {"vendor": "OPEN", "public": "open"},
    {"vendor": "INPROG", "public": "acknowledged"},
    {"vendor": "CLOSED", "public": "closed"},
    {"vendor": "CANCEL", "public": "duplicate"},  # this city cancels duplicates
]


async def detail(g, rid: str) -> tuple[str, str]:
    _, _, text = await g.open311("GET", f"/requests/{rid}.json", params={"extensions": "true"})
    (record,) = json.loads(text)
    return record["status"], record["extended_attributes"]["status_detail"]


@pytest.mark.req("CW-UPD-1")
async def test_statuses_follow_the_integrations_map(linked):
    g = linked
    cw = g.ids["cityworks"]
    path = f"/integrations/{g.ids['integration']}"
    before = await g.ok("GET", path)
    assert before["status_map_version"] == 1 and before["status_map"][0]["vendor"] == "OPEN"  # the defaults
    changed = await g.ok("PATCH", path, json={"status_map": CUSTOM})
    assert changed["status_map"] == CUSTOM and changed["status_map_version"] == 2
    assert (await g.ok("PATCH", path, json={"status_map": CUSTOM}))["status_map_version"] == 2, "no change, no version"
    status, _ = await g.admin("PATCH", path, json={"status_map": [{"vendor": "X", "public": "maybe"}]})
    assert status == 422 and (await g.ok("GET", path))["status_map"] == CUSTOM

    await g.run("category_sync", integration_id=g.ids["integration"])
    code = (await synced(g))[0]["code"]
    first, second, third, fourth = [await submit(g, code, photo=False) for _ in range(4)]
    await deliver_all(g)
    ids = {rid: (await vendor_requests(g.http, cw, rid))[0]["RequestId"] for rid in (first, second, third, fourth)}
    await sim(g.http, cw, "update-request", RequestId=ids[first], Status="INPROG")
    await sim(g.http, cw, "cancel-request", RequestId=ids[second])
    await sim(g.http, cw, "update-request", RequestId=ids[third], Status="REFERRED")  # not in the map
    await sim(g.http, cw, "update-request", RequestId=ids[fourth], Status="PENDING")  # nor is this
    run = await g.run("status_poll", integration_id=g.ids["integration"])
    assert await detail(g, first) == ("open", "acknowledged")
    assert await detail(g, second) == ("closed", "duplicate")
    assert await detail(g, third) == ("open", "open"), "an unknown status changes nothing"
    assert run["status"] == "failed" and run["counts"]["unknown_status"] == 2, "each unknown status counted"
    assert any("REFERRED" in e for e in run["errors"]) and any("PENDING" in e for e in run["errors"])
