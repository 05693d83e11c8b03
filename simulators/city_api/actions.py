"""What city staff do in their own systems, so a portal's change detection and notifications can be tested:
a new utility bill, a payment, new HTML for the engagement widget, a new account with known credentials."""

from __future__ import annotations

from typing import Any

from simulators.kit import Action, ActionError

from .state import CityState


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
)
