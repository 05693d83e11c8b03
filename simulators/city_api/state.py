"""The city's backend: records of the six domains, account links, external sign-in sessions and codes,
the nonces seen. Rules raise WidgetError with the contract's codes; no HTTP here."""

from __future__ import annotations

import hmac
import re
import secrets
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from contracts.widget_signing import NonceMemory
from simulators.kit import canonical_digest

from . import content
from .config import CityApiConfig
from .dialect import WidgetError
from .seed import money

LOOPBACK_HOSTS = ("127.0.0.1", "localhost", "[::1]")
MAX_FAILED_VERIFICATIONS = 5  # per account, then the account is locked for LOCKOUT_S
LOCKOUT_S = 900


def normalise(address: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", re.sub(r"\s+", " ", address.lower())).strip()


def now_iso(now: float) -> str:
    return datetime.fromtimestamp(now, UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class CityState:
    seed_sizes: Mapping[str, int] = {
        "properties": 400,
        "accounts": 250,
        "programs": 30,
        "jobs": 20,
        "volunteer": 15,
        "engagement": 6,
    }

    def __init__(self, config: CityApiConfig) -> None:
        self.config = config
        self.properties: dict[str, dict[str, Any]] = {}
        self.by_address: dict[str, str] = {}
        self.accounts: dict[str, dict[str, Any]] = {}
        self.listings: dict[str, list[dict[str, Any]]] = {"programs": [], "jobs": [], "volunteer": [], "engagement": []}
        self.html_override: str | None = None
        self.links: dict[str, dict[str, Any]] = {}
        self.sessions: dict[str, dict[str, Any]] = {}
        self.codes: dict[str, dict[str, Any]] = {}
        self.failures: dict[str, list[float]] = {}
        self.nonces = NonceMemory(config.window_s)
        self._answers = 0  # for the unstable-etag defect

    # -- seeding -----------------------------------------------------------------------------------

    def add_property(self, prop: dict[str, Any]) -> None:
        self.properties[prop["parcel_id"]] = prop
        self.by_address[normalise(prop["address"])] = prop["parcel_id"]

    def add_account(self, account: dict[str, Any]) -> None:
        self.accounts[account["number"]] = account

    def counts(self) -> Mapping[str, int]:
        return {
            "properties": len(self.properties),
            "accounts": len(self.accounts),
            **{k: len(v) for k, v in self.listings.items()},
            "links": len(self.links),
        }

    def snapshot(self) -> Any:
        return {
            "properties": list(self.properties.values()),
            "accounts": list(self.accounts.values()),
            "listings": self.listings,
            "links": list(self.links.values()),
        }

    def configuration(self) -> Any:
        """What any signed client reads of the city, without a citizen or a property (`/_sim/state`'s
        configuration digest, what a captured scenario must reproduce): the widgets offered and each offered
        listing widget's expanded content. Content, not records: a program's kind shows only as counts."""
        return {
            "widgets": list(self.config.widgets),
            "listings": {w: self.body(w, "expanded", {}) for w in self.listings if w in self.config.widgets},
        }

    # -- content -----------------------------------------------------------------------------------

    def content(self, widget: str, view: str, params: Mapping[str, str]) -> dict[str, Any]:
        """The Content for one call, `version` included (a digest of everything else)."""
        body = self.body(widget, view, params)
        version = "c-" + canonical_digest(body)[:24]
        if "unstable-etag" in self.config.defects:
            self._answers += 1
            version += f"-{self._answers}"
        elif "static-etag" in self.config.defects:
            version = f"c-static-{widget}-{view}"
        return {**body, "version": version}

    def body(self, widget: str, view: str, params: Mapping[str, str]) -> dict[str, Any]:
        """The Content for one call without its `version`."""
        user = params.get("user")
        if widget == "property-taxes":
            return content.property_taxes(self.property_of(params), view, self.config.defects)
        if widget == "utilities":
            linked = self.linked_accounts(widget, user, params.get("link_id"))
            return content.utilities(linked, view, self.config.defects)
        if widget == "engagement":
            return content.engagement(self.listings["engagement"], view, self.html_override)
        return getattr(content, widget)(self.listings[widget], view)

    def property_of(self, params: Mapping[str, str]) -> dict[str, Any]:
        parcel, address = params.get("property_id"), params.get("address")
        if not parcel and not address:
            raise WidgetError(400, "property_required", "this widget needs the citizen's property_id or address")
        if parcel:
            prop = self.properties.get(parcel)
        else:
            found = self.by_address.get(normalise(address or ""))
            if found is None:  # "1 Civic Center Plaza, Harnessville, NC 27601": try the leading words
                words = normalise(address or "").split(" ")
                found = next(
                    (
                        self.by_address[" ".join(words[:n])]
                        for n in range(len(words), 1, -1)
                        if " ".join(words[:n]) in self.by_address
                    ),
                    None,
                )
            prop = self.properties.get(found) if found else None
        if prop is None:
            raise WidgetError(404, "property_unknown", "the city has no property by that parcel id or address")
        return prop

    def linked_accounts(self, widget: str, user: str | None, link_id: str | None) -> list[dict[str, Any]]:
        mine = [k for k in self.links.values() if k["widget"] == widget and k["user"] == user]
        if link_id is not None:
            mine = [k for k in mine if k["link_id"] == link_id]
        if not mine:
            raise WidgetError(
                403, "not_linked", "no linked account for this citizen" + (" and link_id" if link_id else "")
            )
        if "leak-other-links" in self.config.defects:
            mine = [k for k in self.links.values() if k["widget"] == widget]
        numbers = list(dict.fromkeys(k["account"] for k in mine))
        return [self.accounts[n] for n in numbers if n in self.accounts]

    # -- linking -----------------------------------------------------------------------------------

    def links_of(self, widget: str, user: str) -> list[dict[str, Any]]:
        return [self.public_link(k) for k in self.links.values() if k["widget"] == widget and k["user"] == user]

    def public_link(self, record: dict[str, Any]) -> dict[str, Any]:
        account = self.accounts.get(record["account"], {})
        return {
            "link_id": record["link_id"],
            "account": {
                "masked_number": content.masked(record["account"]),
                "label": f"Service at {self._service_address(account)}",
            },
            "linked_at": record["linked_at"],
            "method": record["method"],
        }

    def _service_address(self, account: Mapping[str, Any]) -> str:
        prop = self.properties.get(account.get("parcel_id") or "")
        return prop["address"] if prop else "an unlisted address"

    def check_account(self, number: str, verification: str, now: float) -> dict[str, Any]:
        account = self.accounts.get(number.strip())
        if account is None:
            raise WidgetError(404, "unknown_account", "the city has no account with that number")
        recent = [t for t in self.failures.get(account["number"], []) if now - t < LOCKOUT_S]
        if len(recent) >= MAX_FAILED_VERIFICATIONS:
            raise WidgetError(429, "rate_limited", "too many failed verifications for this account; try later")
        ok = hmac.compare_digest(account["pin"].encode(), verification.strip().encode())
        if not ok and "skip-verification" not in self.config.defects:
            self.failures[account["number"]] = [*recent, now]
            raise WidgetError(422, "verification_failed", "the verification value does not match the account")
        self.failures.pop(account["number"], None)
        return account

    def link(self, widget: str, user: str, number: str, method: str, now: float) -> tuple[dict[str, Any], bool]:
        """(the link, whether it is new). Linking an account twice is idempotent."""
        for record in self.links.values():
            if record["widget"] == widget and record["user"] == user and record["account"] == number:
                return self.public_link(record), False
        link_id = "lnk_" + secrets.token_urlsafe(12)
        record = {
            "link_id": link_id,
            "widget": widget,
            "user": user,
            "account": number,
            "linked_at": now_iso(now),
            "method": method,
        }
        self.links[link_id] = record
        return self.public_link(record), True

    def unlink(self, widget: str, user: str, link_id: str) -> None:
        record = self.links.get(link_id)
        if record is None or record["widget"] != widget or record["user"] != user:
            raise WidgetError(404, "not_linked", "no such link for this citizen")
        del self.links[link_id]

    def start_external(self, widget: str, user: str, return_url: str, state: str, now: float) -> tuple[str, float]:
        if not safe_return_url(return_url):
            raise WidgetError(400, "invalid_request", "return_url must be https (http only on loopback)", "return_url")
        session = secrets.token_urlsafe(16)
        expires = now + self.config.code_ttl_s
        self.sessions[session] = {
            "widget": widget,
            "user": user,
            "return_url": return_url,
            "state": state,
            "expires": expires,
        }
        return session, expires

    def session(self, widget: str, session: str, now: float) -> dict[str, Any] | None:
        found = self.sessions.get(session)
        if found is None or found["widget"] != widget or found["expires"] < now:
            return None
        return found

    def sign_in(self, widget: str, session_id: str, number: str, verification: str, now: float) -> str:
        """The citizen signed in on the city's page: a one-time code for the portal, bound to its user."""
        found = self.session(widget, session_id, now)
        if found is None:
            raise WidgetError(404, "not_found", "unknown or expired sign-in session")
        account = self.check_account(number, verification, now)
        del self.sessions[session_id]
        code = secrets.token_urlsafe(24)
        self.codes[code] = {
            "widget": widget,
            "user": found["user"],
            "account": account["number"],
            "expires": now + self.config.code_ttl_s,
        }
        return redirect_with(found["return_url"], state=found["state"], code=code)

    def complete_external(self, widget: str, user: str, code: str, now: float) -> tuple[dict[str, Any], bool]:
        found = self.codes.get(code)
        if found is None or found["widget"] != widget or found["user"] != user or found["expires"] < now:
            raise WidgetError(400, "invalid_code", "the code is unknown, expired, used, or not this citizen's")
        del self.codes[code]
        return self.link(widget, user, found["account"], "external", now)

    # -- operator actions --------------------------------------------------------------------------

    def issue_bill(self, number: str, amount: str | None, period: str | None) -> dict[str, Any]:
        account = self.accounts[number]
        last = account["bills"][-1]["period"] if account["bills"] else "2025-12"
        year, month = (int(x) for x in last.split("-"))
        period = period or (f"{year + 1}-01" if month == 12 else f"{year}-{month + 1:02d}")
        gallons = 4000
        value = Decimal(amount) if amount is not None else Decimal("18.50") + Decimal(gallons) * Decimal("0.0062")
        y, m = (int(x) for x in period.split("-"))
        due = f"{y + (m == 12)}-{(m % 12) + 1:02d}-15"
        bill = {"period": period, "amount": money(value), "due": due, "paid": False}
        account["bills"].append(bill)
        account["usage"].append([period, gallons])
        return bill

    def pay(self, number: str | None, parcel: str | None) -> dict[str, Any]:
        if number is not None:
            account = self.accounts[number]
            paid = [b for b in account["bills"] if not b["paid"]]
            for b in paid:
                b["paid"] = True
            return {"account": number, "bills_paid": len(paid)}
        prop = self.properties[parcel or ""]
        for b in prop["bills"]:
            b["paid"] = b["amount"]
        return {"parcel_id": parcel, "balance": "0.00"}


def safe_return_url(url: str) -> bool:
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme == "https" and host:
        return True
    return parts.scheme == "http" and (host in ("127.0.0.1", "localhost", "::1"))


def redirect_with(url: str, **params: str) -> str:
    from urllib.parse import urlencode

    return url + ("&" if "?" in url else "?") + urlencode(params)


def clock() -> float:
    return time.time()
