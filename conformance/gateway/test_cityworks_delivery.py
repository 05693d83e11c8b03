"""The gateway and Cityworks in step, one way: category sync (CW-CAT-1), each request submitted once with its
answers, address and photo (CW-SUB-1, CW-SUB-2), each public comment once (CW-COM-1), also when the vendor
applies a call and the answer is lost; jobs run on demand with their outcome recorded (AGY-5)."""

from __future__ import annotations

import hashlib

import pytest

from .helpers import PNG, deliver_all, fault, sim, submit, synced, vendor_requests


@pytest.mark.req("CW-CAT-1", "AGY-5")
async def test_category_sync_creates_updates_and_retires(linked):
    g = linked
    cw = g.ids["cityworks"]
    first = await g.run("category_sync", integration_id=g.ids["integration"])
    assert first["status"] == "ok" and first["counts"]["created"] > 0 and first["duration_ms"] is not None
    categories = await synced(g)
    assert len(categories) == first["counts"]["created"]
    assert all(c["active"] and c["integrated"] and c["agency_ids"] == [g.ids["agency"]] for c in categories)
    hidden = await sim(g.http, cw, "add-problem", ProblemCode="INTERNAL", Description="Staff only", public=False)
    added = await sim(g.http, cw, "add-problem", ProblemCode="NEWONE", Description="Fallen tree")
    gone = categories[0]
    await sim(g.http, cw, "remove-problem", ProblemSid=int(gone["vendor_id"]))
    second = await g.run("category_sync", integration_id=g.ids["integration"])
    assert second["counts"] == {"created": 1, "updated": 0, "retired": 1, "unchanged": len(categories) - 1}
    after = {c["vendor_id"]: c for c in await synced(g)}
    assert after[str(added["ProblemSid"])]["name"] == "Fallen tree"
    assert str(hidden["ProblemSid"]) not in after, "a non-public problem type is never offered"
    assert after[gone["vendor_id"]]["active"] is False
    async with g.http.get(f"{g.url}/open311/v2/services.json") as resp:
        codes = {s["service_code"] for s in await resp.json()}
    assert gone["code"] not in codes and after[str(added["ProblemSid"])]["code"] in codes
    runs = [
        r
        for r in (await g.ok("GET", "/jobs/runs?job=category_sync"))["items"]
        if r["integration_id"] == g.ids["integration"]
    ]
    assert [r["id"] for r in runs] == [second["id"], first["id"]] and all(r["trigger"] == "admin" for r in runs)


@pytest.mark.req("CW-SUB-1", "CW-SUB-2")
@pytest.mark.parametrize("failing", [None, "Create", "AddRequestAttachment"])
async def test_each_request_reaches_cityworks_once_with_its_photo(linked, failing):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
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
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    await deliver_all(g)
    if failing:
        await fault(
            g.http, cw, kind="apply_then_fail", path=f"/Services/*/{failing}", count=1, then="status", status=502
        )
    async with g.http.post(
        f"{g.url}/open311/v2/requests/{rid}/comments.json", data={"api_key": g.api_key, "description": "Still blocked"}
    ) as resp:
        assert resp.status == 201
    await deliver_all(g)
    (found,) = await vendor_requests(g.http, cw, rid)
    record = await sim(g.http, cw, "get-request", RequestId=found["RequestId"])
    assert [c["Comments"] for c in record["comments"]].count("Still blocked") == 1


async def test_a_request_outside_an_integrated_category_stays_local(linked):
    g = linked
    cw = g.ids["cityworks"]
    code = f"LOCAL{g.ids['tag']}"
    await g.ok("POST", "/categories", json={"code": code, "name": "Local only", "agency_ids": [g.ids["agency"]]})
    rid = await submit(g, code, photo=False)
    await deliver_all(g)
    assert await vendor_requests(g.http, cw, rid) == []
    delivered = [x for x in (await g.ok("GET", "/outbox?state=delivered"))["items"] if x["service_request_id"] == rid]
    assert [x["last_error"][:8] for x in delivered] == ["not sent"]
