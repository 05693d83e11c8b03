"""A delivery whose claim on its outbox row lapsed before its vendor write (a stalled database or a slow
lookup held it up) does not make the write (H-REL-1, H-REL-5): once the claim's hold is over another instance
may have claimed the row and be writing the same effect, and two writes would be two records at the vendor.
It leaves the row to whoever holds it now. Found by the database-fault campaign: a photo at Cityworks twice,
after a stall held one instance's delivery past its claim while the other instance took the row over."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from gateway.appkeys import ENGINE
from gateway.storage import schema as t
from tests.test_vendor_outage import a_report_at_a_cityworks_gateway


@pytest.mark.req("H-REL-1", "CW-SUB-1")
async def test_a_delivery_whose_claim_lapsed_makes_no_vendor_write(tmp_path):
    # the row is this delivery's for 0.2 s
    async with a_report_at_a_cityworks_gateway(tmp_path, outbox_claim_s=0.2) as (stack, _, g, _, control, _):
        async with stack.app("gateway")[ENGINE].begin() as conn:  # a second try: it looks the request up first
            await conn.execute(t.outbox.update().values(attempts=1))
        # The lookup answers after the claim's hold is over.
        await control.add_faults({"kind": "latency", "latency_ms": 600, "path": "/Services/*/ByOtherSystemId"})
        await control.clear_journal()
        run = await g.run("deliver_outbox")
        creates = (await control.journal(path="/Services/Ams/ServiceRequest/Create"))["entries"]
        assert creates == [], "a write was made on a lapsed claim"
        assert run["counts"]["delivered"] == 0, run
        async with stack.app("gateway")[ENGINE].connect() as conn:
            row = (await conn.execute(sa.select(t.outbox.c.delivered_at, t.outbox.c.dead_at))).one()
        assert row == (None, None), "left pending for whoever holds it now"
        await control.clear_faults()
        await g.run("deliver_outbox")
        assert len((await control.journal(path="/Services/Ams/ServiceRequest/Create"))["entries"]) == 1
