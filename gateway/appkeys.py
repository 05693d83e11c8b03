"""Typed application state of the gateway."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .catalog import Catalog
from .connectors.guard import Guard
from .connectors.http import Http
from .geocache import GeometryCache
from .observability import Observer
from .portal.auth import SignInGuard
from .settings import Settings
from .storage.group_commit import GroupCommit

if TYPE_CHECKING:  # the application's state knows the jobs' context by name only: sync sits above this
    from .sync.jobs import Context

SETTINGS = web.AppKey("gateway_settings", Settings)
ENGINE = web.AppKey("gateway_engine", AsyncEngine)
# Citizens' new requests, committed in groups (storage/group_commit.py).
REPORTS = web.AppKey("gateway_reports", GroupCommit)
CATALOG = web.AppKey("gateway_catalog", Catalog)  # public services and agency boxes, in memory
GEOMETRIES = web.AppKey("gateway_geometries", GeometryCache)
HTTP = web.AppKey("gateway_http", Http)
# What the jobs run with: the engine, settings, the vendor sides (one signed-in side per integration, shared
# by delivery and every job) and one Delivery for the process.
JOBS: web.AppKey[Context] = web.AppKey("gateway_jobs")
WIDGET_HTTP = web.AppKey("gateway_widget_http", aiohttp.ClientSession)  # through the SSRF guard's resolver
GUARD = web.AppKey("gateway_guard", Guard)
SIGN_IN = web.AppKey("gateway_sign_in", SignInGuard)  # failure limits, the hash bound, the forms' key
OBSERVER = web.AppKey("gateway_observer", Observer)  # metrics registry and tracer of this application
# The scheduler's task while it runs (None: the scheduler is off, scheduler_tick_s = 0): readiness asks it.
SCHEDULER: web.AppKey[asyncio.Task[None] | None] = web.AppKey("gateway_scheduler")
