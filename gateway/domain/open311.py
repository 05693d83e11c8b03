"""Open311 GeoReport v2 shapes of the gateway's records. Public answers only: requester e-mail, phone and
names, private answers and private comments are never part of anything built here."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from . import DomainError

STATUSES = ("open", "closed")
MAX_DESCRIPTION = 4000


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


# A date-time whose offset's '+' arrived as a space: Open311 clients commonly put `…T10:00:00+02:00` in a query
# string unencoded, and a query string's '+' decodes to a space.
PLUS_AS_SPACE = re.compile(r"^(\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?) (\d{2}(?::?\d{2})?)$")


def parse_datetime(raw: str, field: str) -> datetime:
    """W3C-DTF with its timezone, which Open311 makes mandatory; an offset's '+' may arrive as a space."""
    text = PLUS_AS_SPACE.sub(r"\1+\2", raw.strip())
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise DomainError(f"{field} is not an ISO 8601 date-time", field) from None
    if moment.tzinfo is None:
        raise DomainError(f"{field} needs a timezone (Z or ±HH:MM)", field)
    # In UTC, as stamps are stored: SQLite keeps a stamp's wall time without its offset, so a -06:00 bound
    # compared as given would be six hours off (chicagorequests sends the city's offset).
    try:
        return moment.astimezone(UTC)
    except OverflowError:  # within an offset of year 1 or 9999: in UTC before or after what a datetime holds
        return (datetime.min if moment.year == 1 else datetime.max).replace(tzinfo=UTC)


def service(category: Mapping[str, Any], question_count: int) -> dict[str, Any]:
    return {
        "service_code": category["code"],
        "service_name": category["name"],
        "description": category["description"],
        "metadata": question_count > 0,
        "type": "realtime",
        "keywords": category["keywords"],
        "group": category["group_name"],
    }


def definition(category: Mapping[str, Any], questions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    attributes = []
    for q in sorted(questions, key=lambda q: (q["position"], q["id"])):
        attributes.append(
            {
                "variable": True,
                "code": q["code"],
                "datatype": q["datatype"],
                "required": q["required"],
                "datatype_description": "",
                "order": q["position"],
                "description": q["text"],
                "values": [{"key": c["key"], "name": c["name"]} for c in json.loads(q["choices"])],
            }
        )
    return {"service_code": category["code"], "attributes": attributes}


def public_address(request: Mapping[str, Any]) -> str | None:
    """GeoReport v2 `address`, "human readable address or description of location": the locator's address for
    the point when the gateway has one (the address the vendor got too, GEO-3), else the address the citizen
    gave (or the vendor's, for an imported request)."""
    return request.get("validated_address") or request.get("address") or None


def request_record(
    request: Mapping[str, Any],
    category: Mapping[str, Any],
    agency: str | None,
    media_urls: Sequence[str],
    extensions: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The public record: every GeoReport v2 field, null when the gateway has no value (as the spec's own example
    writes them; clients with strict models need each present). `extensions` (only when asked) adds public
    answers and public comments."""
    record: dict[str, Any] = {
        "service_request_id": request["public_id"],
        "status": request["status"],
        "status_notes": request["status_notes"],
        "service_name": category["name"],
        "service_code": category["code"],
        "description": request["description"],
        "agency_responsible": agency,
        "service_notice": None,
        "requested_datetime": iso(request["requested_at"]),
        "updated_datetime": iso(request["updated_at"]),
        "expected_datetime": None,
        "address": public_address(request),
        "address_id": request["address_id"],
        "zipcode": request["zipcode"],
        "lat": request["lat"],
        "long": request["long"],
        "media_url": media_urls[0] if media_urls else request["media_url"],
    }
    if extensions is not None:
        record["extended_attributes"] = dict(extensions)
    return record


def check_description(text: str) -> str:
    if len(text) > MAX_DESCRIPTION:
        raise DomainError(f"description is longer than {MAX_DESCRIPTION} characters", "description")
    return text
