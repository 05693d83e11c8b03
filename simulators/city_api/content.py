"""What each widget shows: pure functions from records to the contract's Content (no HTTP, no clock).

The dashboard view is the short one; the expanded view has everything, including the tables."""

from __future__ import annotations

import html
from datetime import date
from decimal import Decimal
from typing import Any

from .seed import TODAY, money, public_url

USD = "USD"
DASHBOARD_ROWS = 3

WIDGETS: dict[str, dict[str, Any]] = {
    "property-taxes": {
        "name": "Property taxes",
        "format": "formatted",
        "property_dependent": True,
        "linking": {"account": False, "external": False},
    },
    "utilities": {
        "name": "Utility account",
        "format": "formatted",
        "property_dependent": False,
        "linking": {
            "account": True,
            "external": True,
            "account_label": "Account number",
            "verification_label": "Customer PIN (on your bill)",
        },
    },
    "programs": {
        "name": "Programs and recreation",
        "format": "formatted",
        "property_dependent": False,
        "linking": {"account": False, "external": False},
    },
    "jobs": {
        "name": "Job opportunities",
        "format": "formatted",
        "property_dependent": False,
        "linking": {"account": False, "external": False},
    },
    "volunteer": {
        "name": "Volunteer opportunities",
        "format": "formatted",
        "property_dependent": False,
        "linking": {"account": False, "external": False},
    },
    "engagement": {
        "name": "Get involved",
        "format": "html",
        "property_dependent": False,
        "linking": {"account": False, "external": False},
    },
}


def describe(widget: str) -> dict[str, Any]:
    return {"contract": "1.0", "id": widget, "domain": widget, **WIDGETS[widget]}


def usd(amount: str | Decimal) -> dict[str, str]:
    return {"amount": money(Decimal(amount)), "currency": USD}


def item(key: str, label: str, kind: str, value: Any, group: str | None = None) -> dict[str, Any]:
    out = {"key": key, "label": label, "type": kind, "value": value}
    if group:
        out["group"] = group
    return out


def status(code: str, label: str, tone: str) -> dict[str, str]:
    return {"code": code, "label": label, "tone": tone}


def link(url: str, label: str) -> dict[str, str]:
    return {"url": url, "label": label}


def table(title: str, columns: list[tuple[str, str, str]], rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": "table",
        "title": title,
        "columns": [{"key": k, "label": label, "type": t} for k, label, t in columns],
        "rows": rows,
    }


def chart(kind: str, title: str, unit: str, labels: list[str], series: dict[str, list[float]]) -> dict[str, Any]:
    return {
        "type": "chart",
        "chart": kind,
        "title": title,
        "unit": unit,
        "labels": labels,
        "series": [{"name": name, "values": values} for name, values in series.items()],
    }


def masked(number: str) -> str:
    return "••••" + number[-4:]


def _formatted(widget: str, view: str, title: str, items: list, blocks: list, texts: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {"widget": widget, "view": view, "format": "formatted", "title": title, "items": items}
    if blocks:
        out["blocks"] = blocks
    if texts:
        out["texts"] = texts
    return out


# -- property taxes (property dependent) -------------------------------------------------------------


def property_taxes(prop: dict[str, Any], view: str, defects: frozenset[str] = frozenset()) -> dict[str, Any]:
    bills = prop["bills"]
    balance = sum(Decimal(b["amount"]) - Decimal(b["paid"]) for b in bills)
    latest = bills[-1]
    if balance == 0:
        state = status("paid", "Paid in full", "ok")
    elif latest["due"] < TODAY.isoformat() and "ignore-due-dates" not in defects:
        state = status("delinquent", "Past due", "critical")
    else:
        state = status("due", "Due", "warning")
    items = [
        item("balance", "Balance due", "money", usd(balance)),
        item("due", "Due date", "date", latest["due"]),
        item("status", "Status", "status", state),
        item("pay", "Pay online", "link", link(public_url("taxes/pay", prop["parcel_id"]), "Pay property taxes")),
    ]
    blocks: list[dict[str, Any]] = []
    if view == "expanded":
        items[:0] = [
            item("parcel", "Parcel", "text", prop["parcel_id"]),
            item("address", "Address", "text", prop["address"]),
            item("assessed", "Assessed value", "money", usd(prop["assessed"][-1][1])),
        ]
        rows = [
            {
                "year": str(b["year"]),
                "amount": usd(b["amount"]),
                "paid": usd(b["paid"]),
                "status": status("paid", "Paid", "ok")
                if b["paid"] == b["amount"]
                else status("open", "Open", "warning"),
            }
            for b in reversed(bills)
        ]
        blocks.append(
            table(
                "Tax bills",
                [
                    ("year", "Year", "text"),
                    ("amount", "Billed", "money"),
                    ("paid", "Paid", "money"),
                    ("status", "Status", "status"),
                ],
                rows,
            )
        )
    blocks.append(
        chart(
            "line" if view == "expanded" else "bar",
            "Assessed value",
            "USD",
            [str(y) for y, _ in prop["assessed"]],
            {"Assessed value": [float(v) for _, v in prop["assessed"]]},
        )
    )
    return _formatted("property-taxes", view, f"Property taxes: {prop['address']}", items, blocks, [])


# -- utilities (linked accounts) ---------------------------------------------------------------------


def utilities(accounts: list[dict[str, Any]], view: str, defects: frozenset[str] = frozenset()) -> dict[str, Any]:
    items: list[dict[str, Any]] = []
    blocks: list[dict[str, Any]] = []
    texts: list[str] = []
    for n, account in enumerate(accounts, 1):
        group = f"Account {masked(account['number'])}"
        key = f"account-{n}"  # the full number never leaves the city, not even in a key
        open_bills = [b for b in account["bills"] if not b["paid"]]
        balance = sum(Decimal(b["amount"]) for b in open_bills)
        due = min((b["due"] for b in open_bills), default=None)
        if not open_bills:
            state = status("paid", "Paid", "ok")
        elif due is not None and due < TODAY.isoformat() and "ignore-due-dates" not in defects:
            state = status("past_due", "Past due", "critical")
        else:
            state = status("due", "Due", "warning")
        items.append(item(f"{key}.balance", "Balance due", "money", usd(balance), group))
        if due is not None:
            items.append(item(f"{key}.due", "Due date", "date", due, group))
        items.append(item(f"{key}.status", "Status", "status", state, group))
        if account["autopay"] and "no-autopay-text" not in defects:
            texts.append(f"Autopay is on for account {masked(account['number'])}.")
        if view == "expanded":
            items.append(item(f"{key}.holder", "Account holder", "text", account["holder"], group))
            rows = [
                {
                    "period": b["period"],
                    "amount": usd(b["amount"]),
                    "due": b["due"],
                    "status": status("paid", "Paid", "ok") if b["paid"] else status("open", "Open", "warning"),
                }
                for b in reversed(account["bills"])
            ]
            blocks.append(
                table(
                    f"Bills, {group.lower()}",
                    [
                        ("period", "Period", "text"),
                        ("amount", "Amount", "money"),
                        ("due", "Due", "date"),
                        ("status", "Status", "status"),
                    ],
                    rows,
                )
            )
        usage = account["usage"] if view == "expanded" else account["usage"][-6:]
        blocks.append(
            chart("bar", f"Water use, {group.lower()}", "gal", [m for m, _ in usage], {"Water": [g for _, g in usage]})
        )
    items.append(item("pay", "Pay online", "link", link(public_url("utilities", "pay"), "Pay my bill")))
    return _formatted("utilities", view, "Your utility account", items, blocks, texts)


# -- listings (public) -----------------------------------------------------------------------------


def _rows(view: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return rows[:DASHBOARD_ROWS] if view == "dashboard" else rows


def programs(listing: list[dict[str, Any]], view: str) -> dict[str, Any]:
    upcoming = sorted(listing, key=lambda p: (p["start"], p["id"]))
    rows = [
        {
            "program": p["title"],
            "dates": f"{p['start']} to {p['end']}",
            "place": p["place"],
            "fee": usd(p["fee"]),
            "spots": status("full", "Full", "critical")
            if p["spots"] == 0
            else status("open", f"{p['spots']} left", "ok"),
            "register": link(public_url("programs", p["id"]), "Register"),
        }
        for p in _rows(view, upcoming)
    ]
    items = [item("count", "Upcoming programs", "text", str(len(upcoming)))]
    if upcoming:
        items.append(item("next", "Next start", "date", upcoming[0]["start"]))
    columns = [
        ("program", "Program", "text"),
        ("dates", "Dates", "text"),
        ("place", "Place", "text"),
        ("fee", "Fee", "money"),
        ("spots", "Spots", "status"),
        ("register", "", "link"),
    ]
    blocks = [table("Programs", columns, rows)]
    if view == "expanded":
        kinds: dict[str, int] = {}
        for p in upcoming:
            kinds[p["kind"]] = kinds.get(p["kind"], 0) + 1
        blocks.append(chart("pie", "Programs by kind", "programs", list(kinds), {"Programs": list(kinds.values())}))
    return _formatted("programs", view, "Programs and recreation", items, blocks, [])


def jobs(listing: list[dict[str, Any]], view: str) -> dict[str, Any]:
    open_jobs = sorted(listing, key=lambda j: (j["closes"], j["id"]))
    rows = [
        {
            "title": j["title"],
            "department": j["department"],
            "salary": j["salary"],
            "closes": j["closes"],
            "apply": link(public_url("jobs", j["id"]), "Apply"),
        }
        for j in _rows(view, open_jobs)
    ]
    columns = [
        ("title", "Position", "text"),
        ("department", "Department", "text"),
        ("salary", "Salary", "text"),
        ("closes", "Closes", "date"),
        ("apply", "", "link"),
    ]
    items = [
        item("count", "Open positions", "text", str(len(open_jobs))),
        item("all", "All openings", "link", link(public_url("jobs", "all"), "See all jobs")),
    ]
    return _formatted("jobs", view, "Job opportunities", items, [table("Open positions", columns, rows)], [])


def volunteer(listing: list[dict[str, Any]], view: str) -> dict[str, Any]:
    upcoming = sorted(listing, key=lambda v: (v["date"], v["id"]))
    rows = [
        {
            "title": v["title"],
            "date": v["date"],
            "place": v["place"],
            "hours": f"{v['hours']} h",
            "signup": link(public_url("volunteer", v["id"]), "Sign up"),
        }
        for v in _rows(view, upcoming)
    ]
    columns = [
        ("title", "Opportunity", "text"),
        ("date", "Date", "date"),
        ("place", "Place", "text"),
        ("hours", "Hours", "text"),
        ("signup", "", "link"),
    ]
    items = [item("count", "Opportunities", "text", str(len(upcoming)))]
    return _formatted("volunteer", view, "Volunteer opportunities", items, [table("Opportunities", columns, rows)], [])


def _day(iso: str) -> str:
    """A date as the city's own HTML shows it to people ("20 Jan 2026")."""
    day = date.fromisoformat(iso)
    return f"{day.day} {day:%b %Y}"


def engagement(listing: list[dict[str, Any]], view: str, override: str | None) -> dict[str, Any]:
    """An HTML widget: a fragment the portal must sanitise (it is never trusted)."""
    if override is not None:
        fragment = override
    else:
        upcoming = _rows(view, sorted(listing, key=lambda e: (e["date"], e["id"])))
        lines = "".join(
            f'<li><a href="{html.escape(public_url("engage", e["id"]))}">{html.escape(e["title"])}</a>'
            f' <span class="when">{_day(e["date"])}</span>, {html.escape(e["place"])}</li>'
            for e in upcoming
        )
        fragment = f"<section><h3>Get involved</h3><ul>{lines}</ul></section>"
    return {"widget": "engagement", "view": view, "format": "html", "title": "Get involved", "html": fragment}
