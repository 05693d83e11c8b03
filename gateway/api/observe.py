"""The operator's endpoints and the middleware that measures every request.

- `GET /healthz`: the process is alive and serving (no database call: a slow database must not get a
  healthy process restarted).
- `GET /readyz`: ready for traffic: the database answers, its schema is at the newest migration, and the
  scheduler runs (or is off by configuration, `scheduler_tick_s = 0`); 503 naming what is not.
- `GET /metrics`: Prometheus' text format from this application's registry; the outbox and lease gauges are
  read from the database at scrape time, so every instance on one database shows the same.

`observed` (outermost middleware) times each request into the histogram by its route's canonical path (never
the raw path: ids and secrets stay out of labels and logs), makes it a server span when tracing is on
(joining an incoming `traceparent`), and writes one `http.request` log line."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from aiohttp import web

from ..appkeys import ENGINE, OBSERVER, SCHEDULER, SETTINGS
from ..observability.logs import event
from ..observability.metrics import CONTENT_TYPE, StoreFigures
from ..observability.tracing import SERVER, failed
from ..storage import health, outbox
from ..sync import leases

log = logging.getLogger("civic_harness.gateway.http")
UNMATCHED = "unmatched"  # a path no route takes: one label for all of them
OPERATIONS = frozenset({"/healthz", "/readyz", "/metrics"})  # not traced: a probe every few seconds is noise
DATABASE_WAIT_S = 5.0  # a probe or a scrape answers within this, whatever the database does


def route_of(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED


@web.middleware
async def observed(request: web.Request, handler: Any) -> web.StreamResponse:
    observer = request.app[OBSERVER]
    route = route_of(request)
    started = time.perf_counter()
    status = 500
    tracing = observer.tracing
    with (
        tracing.span(
            f"{request.method} {route}",
            kind=SERVER,
            carrier=request.headers,
            attributes={"http.request.method": request.method, "http.route": route},
        )
        if tracing.enabled and route not in OPERATIONS
        else contextlib.nullcontext()
    ) as span:
        try:
            response = await handler(request)
            status = response.status
            return response
        except web.HTTPException as exc:  # a redirect (the error middleware answers every refusal itself)
            status = exc.status
            raise
        finally:
            seconds = time.perf_counter() - started
            if span is not None:
                span.set_attribute("http.response.status_code", status)
                if status >= 500:
                    failed(span, f"HTTP {status}")
            if observer.metrics.enabled:
                observer.metrics.request(route, request.method, status, seconds)
            if log.isEnabledFor(logging.INFO):
                event(log, logging.INFO, "http.request", method=request.method, route=route, status=status,
                      ms=round(seconds * 1000, 2))  # fmt: skip


async def healthz(request: web.Request) -> web.Response:
    return web.json_response({"status": "alive"})


async def readyz(request: web.Request) -> web.Response:
    checks: dict[str, str] = {}
    try:
        at = await asyncio.wait_for(health.schema_revision(request.app[ENGINE]), DATABASE_WAIT_S)
        checks["database"] = "ok"
        head = health.head_revision()
        checks["migrations"] = "ok" if at == head else f"at {at}, code needs {head}"
    except Exception as exc:  # unreachable, refused, timed out: say which kind, never a connection string
        checks["database"] = f"unreachable ({exc.__class__.__name__})"
        checks["migrations"] = "unknown"
    task = request.app.get(SCHEDULER)
    if request.app[SETTINGS].scheduler_tick_s <= 0:
        checks["scheduler"] = "off"  # by configuration: jobs run through the admin API
    else:
        checks["scheduler"] = "running" if task is not None and not task.done() else "stopped"
    ready = checks["database"] == "ok" and checks["migrations"] == "ok" and checks["scheduler"] != "stopped"
    return web.json_response(
        {"status": "ready" if ready else "not_ready", "checks": checks}, status=200 if ready else 503
    )


async def metrics(request: web.Request) -> web.Response:
    observer = request.app[OBSERVER]
    if not observer.metrics.enabled:
        raise web.HTTPNotFound(reason="metrics are off (CIVIC_HARNESS_METRICS=false)")
    observer.metrics.set_store(await _store_figures(request))
    return web.Response(body=observer.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})


async def _store_figures(request: web.Request) -> StoreFigures | None:
    async def read() -> StoreFigures:
        async with request.app[ENGINE].connect() as conn:
            rows, oldest = await outbox.figures(conn)
            held = await leases.holders(conn)
        return StoreFigures(rows, oldest, held)

    try:
        return await asyncio.wait_for(read(), DATABASE_WAIT_S)
    except Exception as exc:  # the kind only: a driver's message may name the database's address
        event(log, logging.WARNING, "metrics.database_unreadable", error=exc.__class__.__name__)
        return None


ROUTES = [web.get("/healthz", healthz), web.get("/readyz", readyz), web.get("/metrics", metrics)]
