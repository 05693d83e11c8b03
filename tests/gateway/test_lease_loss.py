"""A delivery run that loses its lease (H-REL-2, H-REL-6): another instance took it — the database was
unreachable for the lease's whole term, or a clock misled it. The run takes no further row, so two instances
never deliver side by side, and its record says why it stopped. Before: it went on to the end of its backlog
beside the new holder, and was recorded "ok"."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp
import pytest
import sqlalchemy as sa

from conformance.gateway.client import Gateway
from conformance.gateway.helpers import INSIDE
from gateway.appkeys import ENGINE, JOBS
from gateway.settings import Settings
from gateway.storage import schema as t
from gateway.sync.jobs import run_job
from harness.bundled import simulator_config
from harness.sim_control import SimControl
from harness.stack import Stack
from tests.test_vendor_outage import KEY, TOKEN, link_cityworks

REPORTS = 12


@pytest.mark.req("H-REL-2", "H-REL-6")
async def test_a_delivery_run_that_lost_its_lease_takes_no_further_row(tmp_path):
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'gw.db'}",
        admin_token=TOKEN,
        api_keys=(KEY,),
        scheduler_tick_s=0,  # the test runs delivery itself
        outbox_concurrency=1,
        job_lease_s=0.6,  # renewed every 0.2 s
    )
    sims = {"cityworks": simulator_config("cityworks", version="23", seed=3)}
    async with Stack(sims, gateway=settings) as stack, aiohttp.ClientSession() as http:
        g, cw = Gateway(stack.url("gateway"), http, TOKEN, KEY), stack.url("cityworks")
        code = await link_cityworks(g, cw)
        for n in range(REPORTS):
            form = {"api_key": KEY, "service_code": code, **INSIDE, "description": f"r{n}"}
            assert (await g.open311("POST", "/requests.json", data=form))[0] == 201
        await SimControl(http, cw).add_faults({"kind": "latency", "latency_ms": 150, "path": "/Services/*/Create"})
        app = stack.app("gateway")
        run = asyncio.create_task(run_job(app[JOBS], "deliver_outbox", None, "admin"))
        await asyncio.sleep(0.5)
        async with app[ENGINE].begin() as conn:  # another instance has taken the lease
            await conn.execute(t.job_leases.update().values(holder="another-instance:1"))
        outcome = await asyncio.wait_for(run, 30)
        assert outcome["status"] == "failed", outcome
        assert any("lease was lost" in e for e in outcome["errors"]), outcome
        assert outcome["counts"]["delivered"] < REPORTS / 2, "the run went on after losing its lease"
        async with app[ENGINE].connect() as conn:
            holder = await conn.scalar(sa.select(t.job_leases.c.holder))
        assert holder == "another-instance:1", "the lost lease is not released from under its new holder"


@pytest.mark.req("H-REL-2", "H-REL-5")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the same statements on both
async def test_a_run_its_instance_never_finished_is_recorded_failed_by_the_next_run(city_gw, database_url):
    """A run still "running" when the next run of its job holds the lease ended unrecorded (its instance was
    killed or lost the database). Before: it stayed "running" for ever."""
    app = city_gw.stack.app("gateway")
    async with app[ENGINE].begin() as conn:  # the run, and the lease it left behind, long lapsed
        await conn.execute(
            t.job_leases.insert().values(
                job="deliver_outbox:-", holder="killed-instance:1", expires_at=datetime(2026, 1, 1, tzinfo=UTC)
            )
        )
        await conn.execute(
            t.job_runs.insert().values(
                job="deliver_outbox", trigger="schedule", status="running", counts="{}", errors="[]",
                started_at=datetime(2026, 1, 1, tzinfo=UTC),
            )
        )  # fmt: skip
    await run_job(app[JOBS], "deliver_outbox", None, "admin")
    runs = {r["started_at"][:4]: r for r in (await city_gw.ok("GET", "/jobs/runs?job=deliver_outbox"))["items"]}
    assert runs["2026"]["status"] == "failed" and "without recording" in runs["2026"]["errors"][0], runs
    assert runs["2026"]["finished_at"] is None, "when it ended is not known"
    assert all(r["status"] == "ok" for year, r in runs.items() if year != "2026")
