"""The job runner: a lease so one instance runs a job at a time, a recorded outcome for every run (counts,
errors, duration), on a schedule per integration or on demand through the admin API (AGY-5)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.http import VendorError
from ..observability import Observer
from ..observability.logs import event
from ..settings import Settings
from ..storage import repo
from ..storage import schema as t
from ..vendors import Vendors
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
WIDGETS = "widget_notifications"  # registered by the portal (gateway/app.py), scheduled every widget_poll_s


Runner = Callable[["Context", dict[str, Any] | None], Awaitable[dict[str, int]]]


@dataclass(frozen=True, slots=True)
class Job:
    run: Runner
    per_integration: bool  # runs once per integration (with it), or once for the gateway


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
        "question_sync": Job(_questions, True),
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
    if not await leases.acquire(engine, key, HOLDER, ttl):
        raise JobBusy(f"{key} is running elsewhere")
    heartbeat = asyncio.create_task(_keep(engine, key, ttl))
    try:
        started = repo.now()
        async with engine.begin() as conn:
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
            log.exception("job %s failed", key)
            errors.append(f"internal error: {err.__class__.__name__}")
            status = "failed"
        finished = repo.now()
        async with engine.begin() as conn:
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


async def _keep(engine: Any, key: str, ttl: float) -> None:
    """Renew the lease while the job runs, so only a dead instance's lease lapses."""
    while True:
        await asyncio.sleep(ttl / 3)
        try:
            await leases.renew(engine, key, HOLDER, ttl)
        except Exception:  # a failed renewal is retried next beat; the lease lapses only if all fail
            log.warning("could not renew the lease of %s", key)


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
    """Integration jobs whose interval has passed since their last finished run, and outbox delivery."""
    i, r = t.integrations, t.job_runs
    out: list[tuple[str, dict[str, Any] | None]] = [("deliver_outbox", None)]
    now = repo.now()
    async with ctx.engine.connect() as conn:
        if WIDGETS in ctx.jobs:
            last = await conn.scalar(sa.select(sa.func.max(r.c.started_at)).where(r.c.job == WIDGETS))
            if last is None or repo.aware(last) + timedelta(seconds=ctx.settings.widget_poll_s) <= now:
                out.append((WIDGETS, None))
        for integration in await repo.many(conn, i.select().where(i.c.vendor != "none")):
            for job, seconds in json.loads(integration["intervals"]).items():
                if job not in ctx.jobs or not ctx.jobs[job].per_integration:
                    continue
                last = await conn.scalar(
                    sa.select(sa.func.max(r.c.started_at)).where(
                        r.c.job == job, r.c.integration_id == integration["id"]
                    )
                )
                if last is None or repo.aware(last) + timedelta(seconds=seconds) <= now:
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
        except Exception:
            log.exception("scheduler tick failed")
        if ctx.delivery.cut_short:  # a backlog outlasted the run's time budget: no pause before the next
            await asyncio.sleep(0)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), tick)
