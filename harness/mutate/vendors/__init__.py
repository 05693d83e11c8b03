"""Each provider suite's side of mutation testing, one module per vendor: how its wire says an error, where its
credentials go, how its operations pair up, the simulator and certify options a trial uses, and the mutations
written for behaviour its contract cannot express."""

from __future__ import annotations

from .base import Vendor


def vendor(name: str) -> Vendor:
    from . import arcgis, city_api, cityworks, opengov

    known: dict[str, Vendor] = {
        "cityworks": cityworks.Cityworks(),
        "opengov": opengov.Opengov(),
        "arcgis": arcgis.Arcgis(),
        "city-api": city_api.CityApi(),
    }
    if name not in known:
        raise LookupError(f"no mutation profile for {name!r}; known: {', '.join(known)}")
    return known[name]


__all__ = ["Vendor", "vendor"]
