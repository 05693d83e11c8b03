"""Typed application state of the gateway."""

from __future__ import annotations

from aiohttp import web
from sqlalchemy.ext.asyncio import AsyncEngine

from .connectors.http import Http
from .geocache import GeometryCache
from .settings import Settings

SETTINGS = web.AppKey("gateway_settings", Settings)
ENGINE = web.AppKey("gateway_engine", AsyncEngine)
GEOMETRIES = web.AppKey("gateway_geometries", GeometryCache)
HTTP = web.AppKey("gateway_http", Http)
