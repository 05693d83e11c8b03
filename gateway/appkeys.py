"""Typed application state of the gateway."""

from __future__ import annotations

import aiohttp
from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .catalog import Catalog
from .connectors.guard import Guard
from .connectors.http import Http
from .geocache import GeometryCache
from .settings import Settings
from .storage.group_commit import GroupCommit
from .sync.delivery import Delivery
from .vendors import Vendors

SETTINGS = web.AppKey("gateway_settings", Settings)
ENGINE = web.AppKey("gateway_engine", AsyncEngine)
# Citizens' new requests, committed in groups (storage/group_commit.py).
REPORTS = web.AppKey("gateway_reports", GroupCommit)
CATALOG = web.AppKey("gateway_catalog", Catalog)  # public services and agency boxes, in memory
GEOMETRIES = web.AppKey("gateway_geometries", GeometryCache)
HTTP = web.AppKey("gateway_http", Http)
# One signed-in side per integration, shared by delivery and every job (gateway/vendors/registry.py).
VENDORS = web.AppKey("gateway_vendors", Vendors)
DELIVERY = web.AppKey("gateway_delivery", Delivery)
WIDGET_HTTP = web.AppKey("gateway_widget_http", aiohttp.ClientSession)  # through the SSRF guard's resolver
GUARD = web.AppKey("gateway_guard", Guard)
