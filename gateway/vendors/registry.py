"""The app-wide registry of vendor sides: one signed-in side per integration, shared by delivery and every
job, kept while the integration is unchanged (its connector keeps the vendor's session, a Cityworks token,
as a real client does) and renewed when it changes. The one place that chooses a vendor's module."""

from __future__ import annotations

from typing import Any

from ..connectors.http import Http, Rejected
from .cityworks import CityworksSide
from .opengov import OpengovSide
from .side import Factory, VendorSide

KINDS: dict[str, type[CityworksSide] | type[OpengovSide]] = {"cityworks": CityworksSide, "opengov": OpengovSide}
SIDES: dict[str, Factory] = {name: kind.of for name, kind in KINDS.items()}
NO_VENDOR = "none"  # an integration that keeps its reports in the gateway


def versions() -> dict[str, tuple[str, ...]]:
    """Each vendor an integration may name, with its versions (the admin API's check)."""
    return {**{name: kind.versions for name, kind in KINDS.items()}, NO_VENDOR: ()}


def default_status_map(vendor: str) -> list[dict[str, str]]:
    kind = KINDS.get(vendor)
    return [dict(e) for e in kind.default_status_map] if kind is not None else []


def has_questions(vendor: str) -> bool:
    """Whether the vendor's categories carry questions: question sync is scheduled only for those."""
    kind = KINDS.get(vendor)
    return kind is not None and kind.has_questions


class Vendors:
    def __init__(self, http: Http, sides: dict[str, Factory] | None = None) -> None:
        self.http = http
        self.sides = SIDES if sides is None else sides
        self._held: dict[int, tuple[Any, VendorSide]] = {}

    def side(self, integration: dict[str, Any]) -> VendorSide:
        key = integration["updated_at"]
        held = self._held.get(integration["id"])
        if held is None or held[0] != key:
            factory = self.sides.get(integration["vendor"])
            if factory is None:
                raise Rejected(f"no connector for vendor {integration['vendor']!r}")
            held = (key, factory(self.http, integration))
            self._held[integration["id"]] = held
        return held[1]
