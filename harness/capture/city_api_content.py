"""Widget content (contracts/city-widget.yaml `Content`, expanded view) turned back into the records a scenario's
city API section lists. Pure: content in, records out.

What content does not show is assigned so the same content renders again: a program's kind (the pie chart
shows only counts per kind: kinds are handed out in the chart's order, as many as it counts), a tax bill's due
date other than the latest one's (as many years after its tax year as the latest one's, on the latest one's
day), a property's point (the demo city's sample point), an engagement opportunity's kind (none)."""

from __future__ import annotations

import calendar
import html
import re
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from contracts.scenario import demo_city

ENGAGEMENT_ITEM = re.compile(r'<li><a href="([^"<>]*)">([^<>]*)</a> <span class="when">([^<>]*)</span>, ([^<>]*)</li>')
ENGAGEMENT_FRAGMENT = re.compile(r"^<section><h3>Get involved</h3><ul>((?:<li>.*?</li>)*)</ul></section>$", re.S)


def _items(body: dict[str, Any]) -> dict[str, Any]:
    return {i["label"]: i["value"] for i in body.get("items") or []}


def _blocks(body: dict[str, Any], kind: str) -> list[dict[str, Any]]:
    return [b for b in body.get("blocks") or [] if b.get("type") == kind]


def _rows(body: dict[str, Any]) -> list[dict[str, Any]]:
    tables = _blocks(body, "table")
    return tables[0]["rows"] if tables else []


def _chart(body: dict[str, Any]) -> list[tuple[Any, Any]]:
    """The first chart's first series as (label, value) pairs."""
    charts = _blocks(body, "chart")
    if not charts or not charts[0]["series"]:
        return []
    return list(zip(charts[0]["labels"], charts[0]["series"][0]["values"], strict=False))


def _id(link: dict[str, Any]) -> str:
    """A record's id: the last segment of its public page's URL (`.../programs/P0007`)."""
    return urlsplit(link["url"]).path.rstrip("/").rsplit("/", 1)[-1]


def programs(body: dict[str, Any]) -> list[dict[str, Any]]:
    rows = _rows(body)
    kinds: list[str] = []
    for label, count in _chart(body):
        kinds += [label] * int(count)
    kinds += ["General"] * (len(rows) - len(kinds))  # no chart: one kind for all
    out = []
    for row, kind in zip(rows, kinds, strict=False):
        start, _, end = row["dates"].partition(" to ")
        spots = row["spots"]
        out.append(
            {
                "id": _id(row["register"]),
                "title": row["program"],
                "kind": kind,
                "place": row["place"],
                "start": start,
                "end": end,
                "fee": row["fee"]["amount"],
                "spots": 0 if spots["code"] == "full" else int(spots["label"].split()[0]),
            }
        )
    return out


def jobs(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": _id(row["apply"]),
            "title": row["title"],
            "department": row["department"],
            "salary": row["salary"],
            "closes": row["closes"],
        }
        for row in _rows(body)
    ]


def volunteer(body: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": _id(row["signup"]),
            "title": row["title"],
            "place": row["place"],
            "date": row["date"],
            "hours": int(row["hours"].split()[0]),
        }
        for row in _rows(body)
    ]


def engagement(body: dict[str, Any]) -> list[dict[str, Any]] | None:
    """The opportunities of a fragment shaped as the simulator writes it, or None: the city's own HTML, to be
    kept as it is (a list read back must render to the very same fragment)."""
    from simulators.city_api.content import engagement as render

    fragment = body.get("html") or ""
    whole = ENGAGEMENT_FRAGMENT.match(fragment)
    if whole is None:
        return None
    out = []
    for url, title, when, place in ENGAGEMENT_ITEM.findall(whole.group(1)):
        try:
            day = datetime.strptime(when, "%d %b %Y").date().isoformat()
        except ValueError:
            return None
        link = {"url": html.unescape(url)}
        out.append({"id": _id(link), "title": html.unescape(title), "place": html.unescape(place), "date": day})
    return out if render(out, "expanded", None)["html"] == fragment else None


def _due_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"the latest tax bill's due date {text!r} is not a date") from None


def earlier_due(latest_year: int, latest_due: str, year: int) -> str:
    """An earlier tax bill's due date, which content does not show: as many years after its tax year as the latest
    bill's (`latest_due`, shown) is after that bill's, on the same day; 29 February is 28 February in other years.
    A latest due date that is not a date raises ValueError (a sentence through `_read_back`)."""
    latest = _due_date(latest_due)
    due_year = year + latest.year - latest_year
    day = 28 if (latest.month, latest.day) == (2, 29) and not calendar.isleap(due_year) else latest.day
    return latest.replace(year=due_year, day=day).isoformat()


def property_record(body: dict[str, Any]) -> dict[str, Any]:
    items = _items(body)
    bills = list(reversed(_rows(body)))  # the table is newest first
    latest_due = str(items.get("Due date") or "")
    latest_year = int(bills[-1]["year"]) if bills else 0
    if bills:
        _due_date(latest_due)  # none shown (or not a date): refused, not written as a bill due on ""
    point = demo_city().point()
    return {
        "parcel_id": items["Parcel"],
        "address": items["Address"],
        "lon": point["long"],
        "lat": point["lat"],
        "assessed": [[int(year), f"{value:.2f}"] for year, value in _chart(body)],
        "bills": [
            {
                "year": int(row["year"]),
                "amount": row["amount"]["amount"],
                "paid": row["paid"]["amount"],
                "due": latest_due if n == len(bills) - 1 else earlier_due(latest_year, latest_due, int(row["year"])),
            }
            for n, row in enumerate(bills)
        ],
    }


def links(body: dict[str, Any]) -> list[dict[str, str]]:
    """A citizen's links (`/utilities/v1/links`): each one's id, how and when it was made, the last four characters
    of the account's number and its label (`Service at 12 Elm St`), as the contract's `Link` gives them."""
    return [
        {
            "link_id": str(link["link_id"]),
            "method": str(link["method"]),
            "linked_at": str(link["linked_at"]),
            "last_four": str(link["account"]["masked_number"])[-4:],
            "label": str(link["account"].get("label") or ""),
        }
        for link in body.get("links") or []
    ]


def account(body: dict[str, Any]) -> dict[str, Any]:
    """One linked account's content (`link_id` given) as the record's shown fields: holder (not yet scrubbed),
    autopay, bills oldest first, usage."""
    items = _items(body)
    return {
        "holder": str(items.get("Account holder") or ""),
        "autopay": any(t.startswith("Autopay is on") for t in body.get("texts") or []),
        "bills": [
            {
                "period": row["period"],
                "amount": row["amount"]["amount"],
                "due": row["due"],
                "paid": row["status"]["code"] == "paid",
            }
            for row in reversed(_rows(body))
        ],
        "usage": [[period, int(gallons)] for period, gallons in _chart(body)],
    }
