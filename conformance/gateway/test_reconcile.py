"""The reconcile job repairs what the outbox gave up on: a request whose create was dead-lettered while the
vendor was refusing reaches the vendor once after the vendor recovers (CW-SUB-1)."""

from __future__ import annotations

import asyncio
import base64
import json

import pytest

from .helpers import PNG, cityworks_call, deliver_all, fault, sim, submit, synced, vendor_comments, vendor_requests


@pytest.mark.req("CW-SUB-1")
async def test_reconcile_requeues_a_dead_lettered_request(linked):
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    await fault(g.http, cw, kind="error", status=400, path="/Services/Ams/ServiceRequest/Create", count=10)
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    dead: list = []
    for _ in range(60):  # ten refusals, each retried after its (short, in the bundled suite) backoff
        await g.run("deliver_outbox")
        dead = [x for x in (await g.ok("GET", "/outbox?state=dead"))["items"] if x["service_request_id"] == rid]
        if dead:
            break
        await asyncio.sleep(0.05)
    assert dead and dead[0]["attempts"] == 10, dead
    assert await vendor_requests(g.http, cw, rid) == []
    run = await g.run("reconcile", integration_id=g.ids["integration"])
    assert run["status"] == "ok" and run["counts"]["requeued_requests"] >= 1, run
    await deliver_all(g)
    assert len(await vendor_requests(g.http, cw, rid)) == 1
    again = await g.run("reconcile", integration_id=g.ids["integration"])
    assert again["counts"]["requeued_requests"] == 0, "nothing left to repair"


@pytest.mark.req("CW-UPD-1", "CW-ICM-1")
async def test_reconcile_compares_the_vendor_side_of_closed_requests_too(linked):
    """A request closed here and reopened at the vendor is reopened, a "To SCF:" comment on it comes over
    (the status poll reads open requests only), and a delivered comment the vendor deleted is reported by
    its request, never sent again."""
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"], photo=False)
    status, _, text = await g.open311(
        "POST", f"/requests/{rid}/comments.json", data={"api_key": g.api_key, "description": "Please hurry"}
    )
    assert status == 201, text
    await deliver_all(g)
    (sr,) = await vendor_requests(g.http, cw, rid)
    await sim(g.http, cw, "close-request", RequestId=sr["RequestId"])
    await g.run("status_poll", integration_id=g.ids["integration"])
    assert await public_status(g, rid) == "closed"
    await sim(g.http, cw, "reopen-request", RequestId=sr["RequestId"])
    await sim(g.http, cw, "add-comment", RequestId=sr["RequestId"], text="Reopened: sinking again.", to_scf=True)
    comments = await vendor_comments(g.http, cw, sr["RequestId"])
    sent = next(c for c in comments if c["Comments"] == "Please hurry")
    await sim(g.http, cw, "delete-comment", CommentId=sent["CommentId"])
    await g.run("status_poll", integration_id=g.ids["integration"])
    assert await public_status(g, rid) == "closed", "the status poll follows open requests only"
    run = await g.run("reconcile", integration_id=g.ids["integration"])
    assert run["counts"]["vendor_reopened"] == 1 and run["counts"]["vendor_comments"] == 1, run
    assert run["status"] != "ok" and any(rid in e and str(sent["CommentId"]) in e for e in run["errors"]), run
    assert await public_status(g, rid) == "open"
    _, _, body = await g.open311("GET", f"/requests/{rid}/comments.json")
    assert [c["description"] for c in json.loads(body)] == ["Please hurry", "Reopened: sinking again."]
    await deliver_all(g)
    comments = await vendor_comments(g.http, cw, sr["RequestId"])
    assert [c["Comments"] for c in comments].count("Please hurry") == 0, "a deleted comment is never sent again"
    again = await g.run("reconcile", integration_id=g.ids["integration"])
    assert again["counts"]["vendor_comments"] == 0 and again["counts"]["vendor_reopened"] == 0, again


async def public_status(g, rid: str) -> str:
    _, _, body = await g.open311("GET", f"/requests/{rid}.json")
    return json.loads(body)[0]["status"]


@pytest.mark.req("CW-IMG-1", "CW-SUB-1")
async def test_reconcile_never_sends_the_vendor_its_own_image_back(linked):
    """An image a city worker attached "To SCF:" comes over once as a public comment with the photo; reconcile
    looks for photos that never reached the vendor and must not mistake that one for the citizen's."""
    g = linked
    cw = g.ids["cityworks"]
    await g.run("category_sync", integration_id=g.ids["integration"])
    rid = await submit(g, (await synced(g))[0]["code"])  # with the citizen's photo
    await deliver_all(g)
    (sr,) = await vendor_requests(g.http, cw, rid)
    photo = base64.b64encode(PNG).decode()
    await sim(
        g.http, cw, "attach", RequestId=sr["RequestId"], filename="fixed.png", content_base64=photo,
        comments="Fixed!", to_scf=True,
    )  # fmt: skip
    assert (await g.run("status_poll", integration_id=g.ids["integration"]))["counts"]["images"] == 1
    run = await g.run("reconcile", integration_id=g.ids["integration"])
    assert run["counts"]["requeued_photos"] == 0, run
    await deliver_all(g)
    attached = await cityworks_call(
        g.http, cw, "/Services/Ams/Attachments/RequestAttachments", {"RequestIds": [sr["RequestId"]]}
    )
    names = [a["Attachment"].rsplit("/", 1)[-1] for a in attached]
    assert len(names) == 2 and names[-1] == "fixed.png" and names[0].endswith("tree.png"), names
