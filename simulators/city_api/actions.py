"""What city staff do in their own systems, so a portal's change detection and notifications can be tested:
a new utility bill, a payment, new HTML for the engagement widget, a new account with known credentials, and
a test citizen's link to it (what a capture's `--user` reads)."""

from __future__ import annotations

from typing import Any

from contracts import load_contract
from simulators.kit import Action, ActionError

from .content import WIDGETS
from .state import CityState, clock


def _account(state: CityState, number: str) -> None:
    if number not in state.accounts:
        raise ActionError(404, "unknown_account", f"no account {number!r}")


def issue_bill(state: CityState, payload: dict[str, Any]) -> Any:
    _account(state, payload["account_number"])
    return state.issue_bill(payload["account_number"], payload.get("amount"), payload.get("period"))


def record_payment(state: CityState, payload: dict[str, Any]) -> Any:
    number, parcel = payload.get("account_number"), payload.get("parcel_id")
    if (number is None) == (parcel is None):
        raise ActionError(422, "invalid_payload", "give exactly one of account_number and parcel_id")
    if number is not None:
        _account(state, number)
    elif parcel not in state.properties:
        raise ActionError(404, "property_unknown", f"no parcel {parcel!r}")
    return state.pay(number, parcel)


def set_html(state: CityState, payload: dict[str, Any]) -> Any:
    state.html_override = payload.get("html")
    return {"html": state.html_override}


def create_account(state: CityState, payload: dict[str, Any]) -> Any:
    number = payload["account_number"]
    if number in state.accounts:
        raise ActionError(409, "exists", f"account {number!r} exists")
    parcel = payload.get("parcel_id") or next(iter(state.properties), None)
    state.add_account(
        {
            "number": number,
            "pin": payload["verification"],
            "holder": payload.get("holder", "Test Citizen"),
            "parcel_id": parcel,
            "autopay": False,
            "bills": [],
            "usage": [[period, gallons] for period, gallons in payload.get("usage", [])],
        }
    )
    return {"account_number": number, "parcel_id": parcel}


def link_account(state: CityState, payload: dict[str, Any]) -> Any:
    """What the citizen's signed POST /{widget}/v1/links does, without the signing and the verification
    value: staff set up a test citizen (the number need not be known to them, only to exist)."""
    widget = payload.get("widget", "utilities")
    if widget not in state.config.widgets or not WIDGETS[widget]["linking"]["account"]:
        linking = [w for w in state.config.widgets if WIDGETS[w]["linking"]["account"]]
        raise ActionError(404, "unknown_widget", f"no widget {widget!r} that links accounts; known: {linking}")
    _account(state, payload["account_number"])
    link, new = state.link(widget, payload["user"], payload["account_number"], "account", clock())
    return {**link, "user": payload["user"], "widget": widget, "new": new}


ACCOUNT_NUMBER = {"type": "string", "minLength": 1, "maxLength": 64}
ACTIONS = (
    Action(
        "issue-bill",
        issue_bill,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["account_number"],
            "properties": {
                "account_number": ACCOUNT_NUMBER,
                "amount": {"type": "string", "pattern": r"^[0-9]{1,9}(\.[0-9]{1,2})?$"},
                "period": {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"},
            },
        },
        "A new utility bill on an account (content and its ETag change).",
    ),
    Action(
        "record-payment",
        record_payment,
        {
            "type": "object",
            "additionalProperties": False,
            "properties": {"account_number": ACCOUNT_NUMBER, "parcel_id": {"type": "string", "minLength": 1}},
        },
        "Pay everything open on a utility account or a parcel's tax bills.",
    ),
    Action(
        "set-html",
        set_html,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["html"],
            "properties": {"html": {"type": ["string", "null"], "maxLength": 200000}},
        },
        "Replace the engagement widget's HTML fragment (null restores the seeded one), e.g. with hostile markup.",
    ),
    Action(
        "create-account",
        create_account,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["account_number", "verification"],
            "properties": {
                "account_number": ACCOUNT_NUMBER,
                "verification": {"type": "string", "minLength": 1, "maxLength": 64},
                "holder": {"type": "string", "maxLength": 120},
                "parcel_id": {"type": "string"},
                "usage": {
                    "type": "array",
                    "maxItems": 36,
                    "description": "monthly water use, oldest first: [period YYYY-MM, gallons]",
                    "items": {
                        "type": "array",
                        "prefixItems": [
                            {"type": "string", "pattern": r"^[0-9]{4}-(0[1-9]|1[0-2])$"},
                            {"type": "integer", "minimum": 0, "maximum": 10_000_000},
                        ],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
            },
        },
        "A utility account with known credentials, to link in a test.",
    ),
    Action(
        "link-account",
        link_account,
        {
            "type": "object",
            "additionalProperties": False,
            "required": ["user", "account_number"],
            "properties": {
                # the contract's User: an id a portal could send, or the link could never be read back
                "user": load_contract("city-widget")["components"]["schemas"]["User"],
                "account_number": ACCOUNT_NUMBER,
                "widget": {"type": "string", "default": "utilities"},
            },
        },
        "Link an account to a test citizen (`user`) as a signed POST /{widget}/v1/links would, without the "
        "verification value (widget defaults to utilities); linking twice returns the same link.",
    ),
)
