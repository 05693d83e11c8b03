"""WID-API-8: the content tells what the city's records hold — a property whose latest tax bill is long past due
and unpaid shows the status `delinquent`, and a utility account on autopay says so. Which records hold that is
the city's business, not the suite's: each check names the provider state it needs (a library scenario the
target simulator plays, conformance/providers/states.py) and is skipped, naming it, on a city's own server."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest

from .client import WidgetEndpoint, error_code

STATE = "city-api-bill-standing"
AUTOPAY_ON = re.compile(r"\bautopay is on\b", re.IGNORECASE)


def _widget(endpoint: WidgetEndpoint, wanted: str) -> WidgetEndpoint:
    info = endpoint.describe()
    if info["id"] != wanted:
        pytest.skip(f"the {info['id']} widget is not the {wanted} widget")
    return endpoint


@pytest.fixture
def taxes(endpoint: WidgetEndpoint) -> WidgetEndpoint:
    return _widget(endpoint, "property-taxes")


@pytest.fixture
def utilities(endpoint: WidgetEndpoint) -> WidgetEndpoint:
    return _widget(endpoint, "utilities")


def standing(bills: list[dict]) -> str:
    """What a property's tax bills say: paid in full, due, or delinquent (the latest unpaid past its date)."""
    balance = sum(Decimal(b["amount"]) - Decimal(b["paid"]) for b in bills)
    if balance == 0:
        return "paid"
    return "delinquent" if bills[-1]["due"] < date.today().isoformat() else "due"


@pytest.mark.req("WID-API-8", "H-SCN-6")
@pytest.mark.provider_state(STATE)
def test_a_property_with_a_long_unpaid_tax_bill_shows_delinquent(taxes, user, provider_state):
    for prop in provider_state.section("city-api")["properties"]:
        params = {"view": "dashboard", "user": user, "property_id": prop["parcel_id"]}
        resp = taxes.call("GET", "/v1/content", params=params)
        assert resp.status_code == 200, f"provider state {provider_state.name}: {prop['parcel_id']}: {resp.text[:300]}"
        shown = [i["value"] for i in resp.json()["items"] if i["type"] == "status"]
        wanted = standing(prop["bills"])
        codes = [s["code"] for s in shown]
        assert wanted in codes, (
            f"provider state {provider_state.name}: {prop['address']} ({prop['parcel_id']}) is {wanted}, "
            f"the widget shows {codes}"
        )
        if wanted == "delinquent":
            assert any(s["tone"] == "critical" for s in shown), f"a delinquent property is not critical: {shown}"


def says_autopay_is_on(texts: list[str], last4: str) -> bool:
    """Whether a text states that autopay is on for the account ending `last4`, as the contract's example does
    ("Autopay is on for account ••••0042."). A mere mention ("Set up autopay for ••••0043") is a city advertising
    autopay, not a statement about the account, so it does not count."""
    return any(last4 in t and AUTOPAY_ON.search(t) for t in texts)


@pytest.mark.req("WID-API-8", "H-SCN-6")
@pytest.mark.provider_state(STATE)
def test_an_account_on_autopay_says_so(utilities, user, provider_state):
    accounts = provider_state.section("city-api")["accounts"]
    for account in accounts:
        body = {"user": user, "account_number": account["number"], "verification": account["pin"]}
        resp = utilities.call("POST", "/v1/links", json=body)
        assert resp.status_code in (200, 201), (
            f"provider state {provider_state.name}: linking {account['number']}: {error_code(resp)} {resp.text[:200]}"
        )
    content = utilities.call("GET", "/v1/content", params={"view": "dashboard", "user": user}).json()
    said = [t for t in content.get("texts", []) if "autopay" in t.lower()]
    for account in accounts:
        last4 = account["number"][-4:]
        assert says_autopay_is_on(said, last4) == account["autopay"], (
            f"provider state {provider_state.name}: account ••••{last4} (autopay {account['autopay']}): "
            f"the texts say {said}"
        )
