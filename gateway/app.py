"""`create_app(settings)`: the reference gateway as an aiohttp application."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
from aiohttp import web

from .api import jsonapi, observe, open311, query, routes
from .api.bodies import BodyTimeout, body_deadline, body_limit, declared_too_large
from .appkeys import (
    CATALOG,
    ENGINE,
    GEOMETRIES,
    GUARD,
    HTTP,
    JOBS,
    OBSERVER,
    REPORTS,
    SCHEDULER,
    SETTINGS,
    SIGN_IN,
    WIDGET_HTTP,
)
from .catalog import Catalog
from .connectors.guard import Guard, GuardedResolver
from .connectors.http import Http, RetryPolicy
from .geocache import GeometryCache
from .observability import GatewayMetrics, Observer, Tracing
from .observability.tracing import provider_from_environment
from .portal.auth import SignInGuard
from .portal.notify import check_subscriptions
from .settings import Settings
from .storage import reports
from .storage.engine import make_engine, migrate
from .storage.group_commit import GroupCommit
from .sync.delivery import Delivery
from .sync.jobs import HOLDER, WIDGETS, Context, Job, scheduler, sync_jobs
from .vendors import Vendors

log = logging.getLogger("civic_harness.gateway")
SHUTDOWN_GRACE_S = 20.0
# What an aiohttp HTTP error says in its headers and an error in the API's own format must keep.
CARRIED_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")
# aiosqlite logs every statement with its parameters at DEBUG, integration secrets included: never let it.
logging.getLogger("aiosqlite").setLevel(logging.INFO)


async def database(app: web.Application) -> AsyncIterator[None]:
    engine = make_engine(app[SETTINGS].database_url)
    await migrate(engine)  # versioned migrations, applied on start
    app[ENGINE] = engine
    app[SIGN_IN].engine = engine  # the forms' key is kept in the database
    app[REPORTS] = GroupCommit(engine, reports.create_requests)
    app[CATALOG] = Catalog(engine)
    yield
    await engine.dispose()


async def vendor_http(app: web.Application) -> AsyncIterator[None]:
    """One shared client session for every vendor call."""
    async with aiohttp.ClientSession(headers={"User-Agent": "civic-harness-gateway"}) as session:
        observer = app[OBSERVER]
        app[HTTP] = Http(session, RetryPolicy(timeout_s=app[SETTINGS].vendor_timeout_s), observer=observer)
        vendors = Vendors(app[HTTP])
        settings = app[SETTINGS]
        delivery = Delivery(
            app[ENGINE],
            app[HTTP],
            vendors,
            settings.outbox_retry_base_s,
            settings.outbox_claim_s,
            concurrency=settings.outbox_concurrency,
            observer=observer,
        )
        jobs = sync_jobs()

        async def widget_notifications(_ctx: Context, _integration: dict[str, Any] | None) -> dict[str, int]:
            return await check_subscriptions(app)

        jobs[WIDGETS] = Job(widget_notifications, per_integration=False)
        app[JOBS] = Context(app[ENGINE], settings, vendors, delivery, jobs, observer)
        yield


async def widget_http(app: web.Application) -> AsyncIterator[None]:
    """Calls to city widget endpoints: a session of their own, whose resolver refuses internal addresses."""
    guard = Guard(app[SETTINGS].widget_allow, app[SETTINGS].widget_allow_only)
    connector = aiohttp.TCPConnector(resolver=GuardedResolver(guard), limit=50)
    async with aiohttp.ClientSession(connector=connector, headers={"User-Agent": "civic-harness-portal"}) as s:
        app[GUARD], app[WIDGET_HTTP] = guard, s
        yield


async def background_jobs(app: web.Application) -> AsyncIterator[None]:
    stop = asyncio.Event()
    task = asyncio.create_task(scheduler(app[JOBS], stop)) if app[SETTINGS].scheduler_tick_s > 0 else None
    app[SCHEDULER] = task
    yield
    if task is not None:
        stop.set()  # let a job under way finish; cancel only one that will not
        try:
            await asyncio.wait_for(asyncio.shield(task), SHUTDOWN_GRACE_S)
        except TimeoutError:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def _failure(request: web.Request, status: int, message: str) -> web.Response:
    """An answer in the format of the API the path belongs to; never a stack trace."""
    if request.path.startswith(open311.PREFIX):
        return open311.error_response(request, 400 if status >= 500 else status, [message])
    code = {404: "not_found", 405: "method_not_allowed", 408: "timeout", 413: "too_large"}.get(status, "error")
    return jsonapi.error_response(status, code if status < 500 else "internal_error", message)


@web.middleware
async def errors(request: web.Request, handler: Any) -> web.StreamResponse:
    if declared_too_large(request):
        return _failure(request, 413, f"the request body is larger than {body_limit(request)} bytes")
    try:
        return await handler(request)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        answer = _failure(request, exc.status, exc.reason)
        for name in CARRIED_HEADERS:  # e.g. a 405's Allow (RFC 9110 15.5.6): the status alone is not the answer
            if name in exc.headers:
                answer.headers[name] = exc.headers[name]
        return answer
    except BodyTimeout as exc:
        answer = _failure(request, 408, str(exc))
        answer.force_close()  # the rest of the body is not waited for
        return answer
    except Exception:
        log.exception("gateway failed on %s %s", request.method, request.path)  # no body: it may hold secrets
        # Open311's status for a general service error is 400 (spec 1.6); the admin API says 500.
        return _failure(request, 500, "General service error")


async def tracer(app: web.Application) -> AsyncIterator[None]:
    yield
    app[OBSERVER].tracing.shutdown()  # the spans still batched are exported before the process ends


def create_app(settings: Settings | None = None, *, tracer_provider: Any = None) -> web.Application:
    """`tracer_provider`: an OpenTelemetry TracerProvider for this gateway's spans (tests hand one with an
    in-memory exporter); by default the OTEL_* variables decide, and tracing is off unless they turn it on."""
    settings = settings if settings is not None else Settings.load()
    provider = tracer_provider if tracer_provider is not None else provider_from_environment()
    observer = Observer(GatewayMetrics(enabled=settings.metrics, instance=HOLDER), Tracing(provider))
    # measured outermost (the status the client got), then errors (every refusal in the API's format), then the
    # body deadline, then the query as declared
    middlewares = [errors, body_deadline, query.by_contract]
    if settings.metrics or observer.tracing.enabled or observe.log.isEnabledFor(logging.INFO):
        middlewares.insert(0, observe.observed)  # nothing to measure, trace or log: not a layer more per request
    app = web.Application(middlewares=middlewares, client_max_size=settings.max_body_bytes)
    app[SETTINGS] = settings
    app[OBSERVER] = observer
    app[GEOMETRIES] = GeometryCache()
    app[SIGN_IN] = SignInGuard(settings)
    app.cleanup_ctx.extend([tracer, database, vendor_http, widget_http, background_jobs])
    routes.setup(app)
    return app
