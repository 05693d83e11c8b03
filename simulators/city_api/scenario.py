"""A scenario's city API section (contracts/scenario.schema.json `$defs/city_api`): which widgets the city offers,
properties with their tax records, utility accounts with their bills and usage, the public listings (programs,
jobs, volunteer and engagement opportunities, or the engagement widget's own HTML) and the accounts citizens
have already linked, as the city's own systems hold them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.kit import city as demo_city
from simulators.kit.seeding import EPOCH
from simulators.kit.spec import ScenarioSupport

from .config import WIDGETS
from .state import CityState, now_iso

LISTED_LINK_TIME = now_iso(EPOCH.timestamp())  # a fixed moment, so the same file gives the same state


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
    for widget, listing in (section.get("listings") or {}).items():
        state.listings[widget] = [dict(record) for record in listing]
    if "engagement_html" in section:
        state.html_override = section["engagement_html"]
    for i, listed in enumerate(section.get("links", ())):
        if listed["account_number"] not in state.accounts:
            raise ValueError(f"links[{i}].account_number: no account {listed['account_number']!r}")
        link_id = listed.get("link_id") or f"lnk_scenario-{i + 1}"
        if link_id in state.links:
            raise ValueError(f"links[{i}].link_id: {link_id!r} is also an earlier link's")
        state.links[link_id] = {
            "link_id": link_id,
            "widget": "utilities",  # the one widget that links accounts
            "user": listed["user"],
            "account": listed["account_number"],
            "linked_at": listed.get("linked_at", LISTED_LINK_TIME),
            "method": listed.get("method", "account"),
        }


def config_from(section: Mapping[str, Any]) -> dict[str, Any]:
    """The widgets offered, in the simulator's order (so all six equal the default)."""
    if "widgets" not in section:
        return {}
    return {"widgets": tuple(w for w in WIDGETS if w in section["widgets"])}


SUPPORT = ScenarioSupport(apply=apply, config_from=config_from)
