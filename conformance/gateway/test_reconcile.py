"""The reconcile job repairs what the outbox gave up on: a request whose create was dead-lettered while the
vendor was refusing reaches the vendor once after the vendor recovers (CW-SUB-1)."""

from __future__ import annotations

import asyncio

import pytest

from .helpers import deliver_all, fault, submit, synced, vendor_requests


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
