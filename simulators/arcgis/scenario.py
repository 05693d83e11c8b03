"""A scenario's ArcGIS section (contracts/scenario.schema.json `$defs/arcgis`): the city's address points,
answered before the demo city's seeded points and the World synthesis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.kit import city as demo_city
from simulators.kit.spec import ScenarioSupport

from .state import GeocoderState


def apply(state: GeocoderState, section: Mapping[str, Any]) -> None:
    points = [
        (a["number"], a["street"], a.get("postal", demo_city.POSTAL_CODES[0]), a["lon"], a["lat"])
        for a in section.get("addresses", ())
    ]
    if points:
        state.add_addresses(points)


SUPPORT = ScenarioSupport(apply=apply)
