"""OpenGov's geometry field (`CgShape`) as its records carry it (vendor-notes/opengov.md)."""

from __future__ import annotations

from typing import Any


def point_shape(lat: float, lng: float) -> dict[str, Any]:
    return {"ShapeType": 1, "Points": [{"Lat": lat, "Lng": lng}], "Center": {"Lat": lat, "Lng": lng}, "Breaks": []}
