"""A city widget API (contracts/city-widget.yaml) as a scenario section, read as a signed portal reads it, with
GETs only: which of the known widgets the city offers (`/{widget}/v1/widget`), the public listings from their
expanded content, the properties asked for (through the property-taxes widget) and the utility accounts that
the citizens asked for have already linked (`/utilities/v1/links`, then content per link).

The contract has no call that lists the city's records, so what is written is what the content shows, turned
back into records (`city_api_content.py`). Where content does not show a field, it is assigned so that the same
content renders again; an account's number and PIN are never shown whole, so they are stand-ins (scrub.py)."""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from contracts.widget_signing import sign

from . import city_api_content as parse
from . import scrub

TIMEOUT_S = 30
KNOWN_WIDGETS = ("property-taxes", "utilities", "programs", "jobs", "volunteer", "engagement")
LISTINGS = ("programs", "jobs", "volunteer", "engagement")


class CaptureError(RuntimeError):
    """The server cannot be read as asked (one sentence for the user)."""


class Signer(requests.auth.AuthBase):
    """Signs each prepared request as the contract's `x-signing` says (the secret never leaves this object)."""

    def __init__(self, key_id: str, secret: str) -> None:
        self.key_id, self._secret = key_id, secret

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        body = r.body or b""
        body = body.encode() if isinstance(body, str) else body
        r.headers.update(sign(self.key_id, self._secret, r.method or "GET", r.path_url, body, time.time()))
        return r


@dataclass
class Reader:
    base: str
    key_id: str | None  # None: each widget's own id, the contract's default
    secret: str = field(repr=False)
    http: requests.Session = field(default_factory=requests.Session)
    calls: int = 0

    def get(self, widget: str, path: str, **params: str) -> tuple[int, Any]:
        auth = Signer(self.key_id or widget, self.secret)
        resp = self.http.get(f"{self.base}/{widget}/v1/{path}", params=params, auth=auth, timeout=TIMEOUT_S)
        self.calls += 1
        try:
            body = resp.json()
        except ValueError:
            body = None
        code = body.get("error", {}).get("code") if isinstance(body, dict) and "error" in body else None
        if resp.status_code == 401:
            raise CaptureError(
                f"the city API refused the signature of key id {auth.key_id!r} (HTTP 401 {code or ''}): "
                "check --key-id and the secret"
            )
        if resp.status_code == 404 and code in ("not_found", "property_unknown"):
            return 404, body
        if resp.status_code == 404:  # not the contract's 404: another site (a raw HTML page is no message)
            raise CaptureError(
                f"{self.base}/{widget}/v1/{path} answers HTTP 404 without the contract's error: is --url the city "
                "API's root (the part before /{widget})?"
            )
        if resp.status_code != 200 or not isinstance(body, dict):
            said = resp.text[:300] if body is not None else resp.headers.get("Content-Type", "no Content-Type")
            raise CaptureError(f"GET /{widget}/v1/{path} answered HTTP {resp.status_code}: {said}")
        return 200, body

    def content(self, widget: str, **params: str) -> tuple[int, Any]:
        return self.get(widget, "content", view="expanded", **params)


def _read_back(
    widget: str, reader: Callable[[dict[str, Any]], Any], body: dict[str, Any], what: str = "content"
) -> Any:
    """Content (or links) turned back into records, or one sentence: an answer shaped otherwise than the
    contract's rows, items, charts and links as the simulator writes them cannot be read back."""
    try:
        return reader(body)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError) as exc:
        raise CaptureError(
            f"the {widget} widget's {what} cannot be read back into records ({type(exc).__name__}: {exc})"
        ) from None


def capture(
    base: str, key_id: str | None, secret: str, properties: list[str], users: list[str]
) -> tuple[dict[str, Any], Counter[str]]:
    """(the scenario's `city-api` section, how many of each thing was read)."""
    r = Reader(base.rstrip("/"), key_id, secret)
    read: Counter[str] = Counter()
    offered = [w for w in KNOWN_WIDGETS if r.get(w, "widget")[0] == 200]
    if not offered:
        raise CaptureError(f"{base} offers none of the widgets {', '.join(KNOWN_WIDGETS)}")
    read["widgets"] = len(offered)
    section: dict[str, Any] = {"widgets": offered}
    listings: dict[str, Any] = {}
    for widget in (w for w in LISTINGS if w in offered):
        body = r.content(widget)[1]
        if widget == "engagement":
            records = _read_back(widget, parse.engagement, body)
            if records is None:  # not the simulator's fragment: kept as the city's own HTML
                section["engagement_html"] = body.get("html") or ""
                read["engagement HTML fragments"] += 1
                continue
        else:
            records = _read_back(widget, getattr(parse, widget), body)
        listings[widget] = records
        read["listings"] += len(records)
    if listings:
        section["listings"] = listings
    found: dict[str, dict[str, Any]] = {}
    for wanted in properties:
        prop = _property(r, offered, wanted)
        if prop is None:
            raise CaptureError(f"the city has no property {wanted!r} (by parcel id or address)")
        found.setdefault(prop["parcel_id"], prop)
    accounts, links = _linked_accounts(r, offered, users, found)
    if found:
        section["properties"] = list(found.values())
        read["properties"] = len(found)
    if accounts:
        section["accounts"], section["links"] = accounts, links
        read["accounts (numbers and PINs are stand-ins)"] = len(accounts)
    read["calls"] = r.calls
    return section, read


def _linked_accounts(
    r: Reader, offered: list[str], users: list[str], found: dict[str, dict[str, Any]]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(accounts, links) of the accounts these citizens have linked: what content shows, with stand-ins for the
    number and PIN and the holder scrubbed. The city never shows a number whole, so an account is known by what
    it shows: the last four, the label, the (scrubbed) holder and its bills and usage. An account two citizens
    linked is one account with two links, and its stand-ins come out the same from a simulator the file loads."""
    accounts: dict[str, dict[str, Any]] = {}
    links: list[dict[str, Any]] = []
    for user in users:
        if "utilities" not in offered:
            raise CaptureError("the city offers no utilities widget, so --user has nothing to read")
        linked = _read_back("utilities", parse.links, r.get("utilities", "links", user=user)[1], "links")
        if not linked:  # a misspelt citizen reads as one without links: said, like an unknown --property
            raise CaptureError(f"citizen {user!r} has linked no accounts")
        for link in linked:
            body = r.content("utilities", user=user, link_id=link["link_id"])[1]
            shown = _read_back("utilities", parse.account, body)
            shown["holder"] = scrub.name(shown["holder"])
            key = json.dumps([link["last_four"], link["label"], shown], sort_keys=True)
            if key not in accounts:
                accounts[key] = {
                    "number": scrub.account_number(key, link["last_four"]),
                    "pin": scrub.verification(key),
                    "holder": shown.pop("holder"),
                    "parcel_id": _parcel_of(r, offered, link["label"], found),
                    **shown,
                }
            links.append(
                {
                    "user": user,
                    "account_number": accounts[key]["number"],
                    "link_id": link["link_id"],
                    "method": link["method"],
                    "linked_at": link["linked_at"],
                }
            )
    return list(accounts.values()), links


def _property(r: Reader, offered: list[str], wanted: str) -> dict[str, Any] | None:
    """A property by parcel id, else by address; None when the city has neither."""
    if "property-taxes" not in offered:
        raise CaptureError("the city offers no property-taxes widget, so properties cannot be read")
    for name in ("property_id", "address"):
        status, body = r.content("property-taxes", **{name: wanted})
        if status == 200:
            return _read_back("property-taxes", parse.property_record, body)
    return None


def _parcel_of(r: Reader, offered: list[str], label: str, found: dict[str, dict[str, Any]]) -> str | None:
    """The parcel of an account's service address ("Service at 12 Elm St"): a property read already, else read
    now through the property-taxes widget; None for an address the city lists no property at."""
    address = label.removeprefix("Service at ").strip()
    known = next((p["parcel_id"] for p in found.values() if p["address"] == address), None)
    if known is not None or not address or "property-taxes" not in offered:
        return known
    status, body = r.content("property-taxes", address=address)
    if status != 200:
        return None
    prop = _read_back("property-taxes", parse.property_record, body)
    found.setdefault(prop["parcel_id"], prop)
    return prop["parcel_id"]
