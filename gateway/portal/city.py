"""A widget row's connection to its city API: the signed, guarded client with the widget's own secret."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from ..appkeys import GUARD, SETTINGS, WIDGET_HTTP
from ..connectors.city_widget import CityWidget


def client(app: web.Application, widget: dict[str, Any]) -> CityWidget:
    return CityWidget(
        app[WIDGET_HTTP],
        app[GUARD],
        widget["endpoint"],
        widget["key_id"] or str(widget["id"]),  # the contract's default key id: the widget's id
        widget["secret"] or "",
        app[SETTINGS].widget_timeout_s,
    )
