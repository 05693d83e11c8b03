"""Parsed, prepared geometries by geography id. Geographies are never edited in place (an upload makes a
new one), so an id's geometry never goes stale; deleting one drops it."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import shapely
from shapely.geometry import shape


class GeometryCache:
    def __init__(self) -> None:
        self._by_id: dict[int, Any] = {}

    def get(self, geography_id: int, geojson: str) -> Any:
        geom = self._by_id.get(geography_id)
        if geom is None:
            geom = shape(json.loads(geojson))
            shapely.prepare(geom)
            self._by_id[geography_id] = geom
        return geom

    def drop(self, geography_id: int) -> None:
        self._by_id.pop(geography_id, None)

    def containing(self, agencies: list[Mapping[str, Any]], lon: float, lat: float) -> list[int]:
        """Ids of the agencies whose geography contains the point (AGY-1)."""
        out = []
        for a in agencies:
            if not (a["min_lon"] <= lon <= a["max_lon"] and a["min_lat"] <= lat <= a["max_lat"]):
                continue
            if shapely.contains_xy(self.get(a["geography_id"], a["geometry"]), lon, lat):
                out.append(a["id"])
        return out
