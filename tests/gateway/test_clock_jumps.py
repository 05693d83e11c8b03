"""Clocks that disagree or jump (H-REL-6). Times that instances share — a job's lease, an outbox row's claim
and back-off, when a job last ran — are read on the database's clock (PostgreSQL's server; SQLite's is the
host's), so an instance whose own clock is ahead cannot take a live lease or a row in flight; and a clock that
went back holds nothing up for the length of the jump. The seam: `gateway.storage.repo.now`, the one place the
gateway reads its host's wall clock, replaced by a clock that is off by an hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from gateway.appkeys import ENGINE, JOBS
from gateway.storage import outbox, repo
from gateway.storage import schema as t
from gateway.sync import leases
from gateway.sync.jobs import WIDGETS, due_jobs

from .conftest import API_KEY
from .test_open311 import INSIDE

HOUR = timedelta(hours=1)


def clock_off_by(monkeypatch: pytest.MonkeyPatch, offset: timedelta) -> None:
    real = repo.now
    monkeypatch.setattr(repo, "now", lambda: real() + offset)


async def a_report(city_gw) -> int:
    """A report's create_request row (the scheduler is off: nobody delivers it)."""
    status, _, body = await city_gw.open311(
        "POST", "/requests.json", data={"api_key": API_KEY, "service_code": "SL", **INSIDE}
    )
    assert status == 201, body
    async with city_gw.stack.app("gateway")[ENGINE].connect() as conn:
        return await conn.scalar(sa.select(sa.func.max(t.outbox.c.id)))


async def due_ids(engine) -> list[int]:
    async with engine.connect() as conn:
        return [r["id"] for r in await outbox.due_rows(conn, 0, 100)]


@pytest.mark.req("H-REL-6", "H-REL-2")
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
async def test_an_instance_whose_clock_is_ahead_takes_no_live_lease_and_no_row_in_flight(
    city_gw, monkeypatch, database_url
):
    engine = city_gw.stack.app("gateway")[ENGINE]
    assert await leases.acquire(engine, "deliver_outbox:-", "instance-a", 30)
    row = await a_report(city_gw)
    async with engine.begin() as conn:
        assert await outbox.claim(conn, [row], 120) == {row: 1}  # instance a is delivering it
    clock_off_by(monkeypatch, HOUR)  # instance b, an hour ahead
    assert not await leases.acquire(engine, "deliver_outbox:-", "instance-b", 30), "a live lease was taken"
    assert row not in await due_ids(engine)
    async with engine.begin() as conn:
        assert await outbox.claim(conn, [row], 120) == {}, "a row in flight was claimed again"


@pytest.mark.req("H-REL-6")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the PostgreSQL clock: the test above
async def test_a_new_row_is_due_at_once_whatever_the_clock_of_the_instance_that_wrote_it(
    city_gw, monkeypatch, database_url
):
    clock_off_by(monkeypatch, HOUR)  # written by an instance an hour ahead (or before the clock went back)
    row = await a_report(city_gw)
    monkeypatch.undo()
    assert row in await due_ids(city_gw.stack.app("gateway")[ENGINE])


@pytest.mark.req("H-REL-6")
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # the PostgreSQL clock: the test above
async def test_after_the_clock_went_back_an_hour_no_retry_and_no_job_waits_for_the_hour(city_gw, database_url):
    app = city_gw.stack.app("gateway")
    engine = app[ENGINE]
    row = await a_report(city_gw)
    async with engine.begin() as conn:
        now = await repo.db_now(conn)
        # set before the clock went back two hours: a retry due "in two hours", a run that "starts" in two hours
        await conn.execute(
            t.outbox.update().where(t.outbox.c.id == row).values(attempts=1, next_attempt_at=now + 2 * HOUR)
        )
        await conn.execute(
            t.job_runs.insert().values(
                job=WIDGETS, trigger="schedule", status="ok", counts="{}", errors="[]", started_at=now + 2 * HOUR
            )
        )
    assert row in await due_ids(engine)
    assert (WIDGETS, None) in await due_jobs(app[JOBS])
