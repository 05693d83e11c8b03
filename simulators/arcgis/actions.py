"""What a GIS administrator does to the locator: add an address point."""

from __future__ import annotations

from typing import Any

from simulators.kit import Action, ActionError
from simulators.kit import city as demo_city

from .state import GeocoderState


def add_address(state: GeocoderState, payload: dict[str, Any]) -> Any:
    if not (-180 <= payload["lon"] <= 180 and -90 <= payload["lat"] <= 90):
        raise ActionError(422, "invalid_payload", "lon/lat out of range")
    postal = payload.get("postal", demo_city.POSTAL_CODES[0])
    return state.add_address(payload["number"], payload["street"], postal, payload["lon"], payload["lat"])


ACTIONS = (
    Action(
        "add-address",
        add_address,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["number", "street", "lon", "lat"],
            "properties": {
                "number": {"type": "integer", "minimum": 1},
                "street": {"type": "string", "minLength": 1},
                "postal": {"type": "string"},
                "lon": {"type": "number"},
                "lat": {"type": "number"},
            },
        },
        "Add an address point to the locator.",
    ),
)
