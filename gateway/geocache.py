"""Parsed, prepared geometries by geography id. Geographies are never edited in place (an upload makes a
new one), so an id's geometry never goes stale; deleting one drops it. A geometry's text is read from the
database only when its id is not here yet: a city boundary can be megabytes, and every report tests it."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

import shapely
from shapely.geometry import shape


class GeometryCache:
    def __init__(self) -> None:
        self._by_id: dict[int, Any] = {}

    def put(self, geography_id: int, geojson: str) -> None:
        geom = shape(json.loads(geojson))
        shapely.prepare(geom)
        self._by_id[geography_id] = geom

    def missing(self, geography_ids: Iterable[int]) -> set[int]:
        return {g for g in geography_ids if g not in self._by_id}

    def drop(self, geography_id: int) -> None:
        self._by_id.pop(geography_id, None)

    @staticmethod
    def around(agencies: list[Mapping[str, Any]], lon: float, lat: float) -> list[Mapping[str, Any]]:
        """The agencies whose geography's bounding box holds the point: the only ones worth a real test."""
        return [a for a in agencies if a["min_lon"] <= lon <= a["max_lon"] and a["min_lat"] <= lat <= a["max_lat"]]

    def containing(self, candidates: list[Mapping[str, Any]], lon: float, lat: float) -> list[int]:
        """Ids of the agencies whose geography contains the point (AGY-1). Geometries are put here first;
        one deleted meanwhile contains nothing."""
        found = ((a["id"], self._by_id.get(a["geography_id"])) for a in candidates)
        return [ident for ident, geom in found if geom is not None and shapely.contains_xy(geom, lon, lat)]
