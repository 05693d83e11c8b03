"""A scenario's city API section (contracts/scenario.schema.json `$defs/city_api`): properties with their tax
records and utility accounts with their bills and usage, as the city's own systems hold them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.kit import city as demo_city
from simulators.kit.spec import ScenarioSupport

from .state import CityState


def apply(state: CityState, section: Mapping[str, Any]) -> None:
    for listed in section.get("properties", ()):
        state.add_property(
            {"postal": demo_city.POSTAL_CODES[0], "assessed": [], "bills": [], **listed}  # as the seed shapes them
        )
    for i, listed in enumerate(section.get("accounts", ())):
        parcel = listed.get("parcel_id")
        if parcel is not None and parcel not in state.properties:
            raise ValueError(f"accounts[{i}].parcel_id: no property {parcel!r}")
        state.add_account({"holder": "", "parcel_id": None, "autopay": False, "bills": [], "usage": [], **listed})


SUPPORT = ScenarioSupport(apply=apply)
