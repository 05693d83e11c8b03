"""The job runner: a lease so one instance runs a job at a time, a recorded outcome for every run (counts,
errors, duration), on a schedule per integration or on demand through the admin API (AGY-5)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import VendorError
from ..observability import Observer
from ..observability.logs import event
from ..settings import Settings
from ..storage import outage, repo
from ..storage import schema as t
from ..vendors import Vendors, has_questions
from . import leases
from .categories import sync_categories
from .delivery import Delivery
from .imports import import_requests
from .incomplete import Incomplete
from .poll import Cadence, poll_status
from .questions import sync_questions
from .reconcile import reconcile

log = logging.getLogger("civic_harness.gateway.jobs")
HOLDER = f"{socket.gethostname()}:{os.getpid()}"
UNRECORDED = "ended without recording its outcome: its instance stopped or lost the database"
WIDGETS = "widget_notifications"  # registered by the portal (gateway/app.py), scheduled every widget_poll_s


Runner = Callable[["Context", dict[str, Any] | None], Awaitable[dict[str, int]]]


@dataclass(frozen=True, slots=True)
class Job:
    run: Runner
    per_integration: bool  # runs once per integration (with it), or once for the gateway
    # (per-integration jobs) whether the vendor has anything for it: the scheduler runs it only then, so an
    # interval set for a job the vendor cannot do is not a failed run at every beat (run by hand, it still says why)
    for_vendor: Callable[[str], bool] = lambda _vendor: True


@dataclass(frozen=True, slots=True)
class Context:
    """What a job may use — not the web application. `jobs` are the jobs this gateway runs: the sync jobs
    (`sync_jobs`) and any another part registers (the portal's widget notifications)."""

    engine: AsyncEngine
    settings: Settings
    vendors: Vendors
    delivery: Delivery
    jobs: dict[str, Job] = field(default_factory=dict)
    observer: Observer = field(default_factory=Observer)


async def _deliver(ctx: Context, _integration: dict[str, Any] | None) -> dict[str, int]:
    return await ctx.delivery.run()


async def _categories(ctx: Context, integration: dict[str, Any] | None) -> dict[str, int]:
    assert integration is not None
    return await sync_categories(ctx.engine, ctx.vendors.side(integration), integration)


async def _questions(ctx: Context, integration: dict[str, Any] | None) -> dict[str, int]:
    assert integration is not None
    return await sync_questions(ctx.engine, ctx.vendors.side(integration), integration)


async def _import(ctx: Context, integration: dict[str, Any] | None) -> dict[str, int]:
    assert integration is not None
    return await import_requests(ctx.engine, ctx.vendors.side(integration), integration)


async def _poll(ctx: Context, integration: dict[str, Any] | None) -> dict[str, int]:
    assert integration is not None
    cadence = Cadence(ctx.settings.full_poll_every, timedelta(seconds=ctx.settings.poll_overlap_s))
    return await poll_status(ctx.engine, ctx.vendors.side(integration), integration, cadence)


async def _reconcile(ctx: Context, integration: dict[str, Any] | None) -> dict[str, int]:
    assert integration is not None
    return await reconcile(ctx.engine, ctx.vendors.side(integration), integration)


def sync_jobs() -> dict[str, Job]:
    return {
        "deliver_outbox": Job(_deliver, False),
        "category_sync": Job(_categories, True),
        "question_sync": Job(_questions, True, has_questions),
        "status_poll": Job(_poll, True),
        "import": Job(_import, True),
        "reconcile": Job(_reconcile, True),
    }


class JobBusy(Exception):
    pass


async def run_job(ctx: Context, job: str, integration: dict[str, Any] | None, trigger: str) -> dict[str, Any]:
    """Run once now (or raise JobBusy when another run holds the lease); returns the recorded run."""
    engine = ctx.engine
    runner = ctx.jobs[job].run
    key = f"{job}:{integration['id'] if integration else '-'}"
    ttl = ctx.settings.job_lease_s
    acquired = await leases.acquire(engine, key, HOLDER, ttl)
    if acquired is None:
        raise JobBusy(f"{key} is running elsewhere")
    # Delivery is the job two holders must never run at once (one citizen's requests, two OpenGov requesters):
    # once its lease is lost it takes no further row.
    on_lost = ctx.delivery.halt if job == "deliver_outbox" else None
    heartbeat = asyncio.create_task(_keep(engine, key, ttl, on_lost))
    try:
        async with engine.begin() as conn:
            started = await repo.db_now(conn)  # runs of every instance on one clock: they can be compared
            r, integration_id = t.job_runs, integration["id"] if integration else None
            # Holding the lease, no other run of this job is going: one still "running" ended unrecorded (its
            # instance was killed, or lost its database before it could say): it failed, and says so. Such a run
            # leaves its lease behind, so only a lease taken over is worth the search.
            if acquired == leases.TAKEN_OVER:  # the lease was left behind: so may its run's record have been
                same = r.c.integration_id.is_(None) if integration_id is None else r.c.integration_id == integration_id
                await conn.execute(
                    r.update()
                    .where(r.c.job == job, same, r.c.status == "running")
                    .values(status="failed", errors=json.dumps([UNRECORDED]))
                )
            run = await repo.insert(
                conn,
                t.job_runs,
                {
                    "job": job,
                    "integration_id": integration["id"] if integration else None,
                    "trigger": trigger,
                    "status": "running",
                    "counts": "{}",
                    "errors": "[]",
                    "started_at": started,
                },
            )
        counts: dict[str, int] = {}
        errors: list[str] = []
        try:
            counts = await runner(ctx, integration)
            status = "ok"
        except VendorError as err:
            errors.append(f"{err.kind}: {err.message}")
            status = "failed"
        except Incomplete as err:  # some of it could not be done; the rest was done and is counted
            counts, errors = err.counts, err.errors
            status = "failed"
        except Exception as err:  # recorded, and the scheduler goes on with the other jobs
            if outage.is_outage(err):  # not a bug: no stack trace for every beat of an outage
                log.warning("job %s stopped: the database is unavailable (%s)", key, err.__class__.__name__)
                errors.append("the database is unavailable")
            else:
                log.exception("job %s failed", key)
                errors.append(f"internal error: {err.__class__.__name__}")
            status = "failed"
        async with engine.begin() as conn:
            finished = await repo.db_now(conn)  # the clock `started` was read on
            done = await repo.update(
                conn,
                t.job_runs,
                run["id"],
                {
                    "status": status,
                    "counts": json.dumps(counts),
                    "errors": json.dumps(errors),
                    "finished_at": finished,
                },
            )
        seconds = (finished - started).total_seconds()
        ctx.observer.metrics.job_run(job, status, len(errors), seconds)
        # a run that found nothing to do (delivery every tick, mostly) is not worth a line at INFO
        level = logging.WARNING if status != "ok" else logging.INFO if any(counts.values()) else logging.DEBUG
        event(log, level, "job.run", job=key, trigger=trigger, status=status, ms=round(seconds * 1000, 1),
              errors=len(errors) or None)  # fmt: skip
        return run_out(done or run)
    finally:
        heartbeat.cancel()
        await leases.release(engine, key, HOLDER)


async def _keep(engine: Any, key: str, ttl: float, on_lost: Callable[[], None] | None = None) -> None:
    """Renew the lease while the job runs, so only a dead instance's lease lapses. A lease another holder took,
    or one not renewed for two thirds of its term (the database unreachable), is lost: `on_lost` is told while
    a third of the term is left for the work under way to end before another instance may take it."""
    renewed = time.monotonic()
    while True:
        await asyncio.sleep(ttl / 3)
        try:
            held = await leases.renew(engine, key, HOLDER, ttl)
            renewed = time.monotonic() if held else renewed
        except Exception as err:  # a failed renewal is retried next beat; the lease lapses only if all fail
            held = time.monotonic() - renewed < ttl * 2 / 3
            log.warning("could not renew the lease of %s: %s", key, err.__class__.__name__)
        if not held:
            log.warning("lost the lease of %s", key)
            if on_lost is not None:
                on_lost()
            return


def run_out(run: dict[str, Any]) -> dict[str, Any]:
    started = repo.aware(run["started_at"])
    finished = repo.aware(run["finished_at"]) if run["finished_at"] else None
    return {
        "id": run["id"],
        "job": run["job"],
        "integration_id": run["integration_id"],
        "trigger": run["trigger"],
        "status": run["status"],
        "counts": json.loads(run["counts"]),
        "errors": json.loads(run["errors"]),
        "started_at": started.isoformat(),
        "finished_at": finished.isoformat() if finished else None,
        "duration_ms": round((finished - started).total_seconds() * 1000, 1) if finished else None,
    }


async def due_jobs(ctx: Context) -> list[tuple[str, dict[str, Any] | None]]:
    """Integration jobs whose interval has passed since their last run started, and outbox delivery. A last
    run that started "later" than now was stamped before the clock went back: the job is due, not held up for
    the length of the jump."""
    i, r = t.integrations, t.job_runs
    out: list[tuple[str, dict[str, Any] | None]] = [("deliver_outbox", None)]
    async with ctx.engine.connect() as conn:
        now = await repo.db_now(conn)

        def due(last: datetime | None, seconds: float) -> bool:
            return last is None or not now >= repo.aware(last) > now - timedelta(seconds=seconds)

        if WIDGETS in ctx.jobs:
            last = await conn.scalar(sa.select(sa.func.max(r.c.started_at)).where(r.c.job == WIDGETS))
            if due(last, ctx.settings.widget_poll_s):
                out.append((WIDGETS, None))
        for integration in await repo.many(conn, i.select().where(i.c.vendor != "none")):
            for job, seconds in json.loads(integration["intervals"]).items():
                if job not in ctx.jobs or not ctx.jobs[job].per_integration:
                    continue
                if not ctx.jobs[job].for_vendor(integration["vendor"]):
                    continue
                last = await conn.scalar(
                    sa.select(sa.func.max(r.c.started_at)).where(
                        r.c.job == job, r.c.integration_id == integration["id"]
                    )
                )
                if due(last, seconds):
                    out.append((job, integration))
    return out


async def scheduler(ctx: Context, stop: asyncio.Event) -> None:
    """Runs what is due every tick until `stop` is set; a job under way finishes first (cancelling one in the
    middle of a database call can leave the SQLite driver waiting forever)."""
    tick = ctx.settings.scheduler_tick_s
    while not stop.is_set():
        ctx.delivery.cut_short = False  # set again only by a delivery run of this tick
        try:
            for job, integration in await due_jobs(ctx):
                if stop.is_set():
                    return
                try:
                    await run_job(ctx, job, integration, "schedule")
                except JobBusy:
                    continue
        except asyncio.CancelledError:
            raise
        except Exception as err:
            if outage.is_outage(err):
                log.warning("scheduler tick skipped: the database is unavailable (%s)", err.__class__.__name__)
            else:
                log.exception("scheduler tick failed")
        if ctx.delivery.cut_short:  # a backlog outlasted the run's time budget: no pause before the next
            await asyncio.sleep(0)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), tick)
