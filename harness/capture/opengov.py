"""An OpenGov EAM site as a scenario section, read with GETs only: the class meta (which names this server gives
the requester and comment classes, the integration reference and its own request fields), every request issue,
and up to `max_records` requesters and requests with their comments. Names, e-mails, phones and free text are
scrubbed (scrub.py)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import requests

from simulators.kit.secrets import personal_kind

from . import scrub

TIMEOUT_S = 30
PAGE = 500
REQUESTS, ISSUES = "cgRequestsClass", "cgRequestIssuesClass"
SYSTEM = {"Oid", "IDField", "EntryDateField", "cgLastModifiedField", "EnteredBy"}
# The request fields every OpenGov site has (the simulator's, from the vendor's documentation and clients);
# any other text field ending in Field is the city's own.
STANDARD_REQUEST_FIELDS = {
    "StatusField", "IssueField", "DescriptionField", "LocationDescriptionField", "AddressField", "ZipCodeField",
    "CgShape", "CompletedField", "TasksField", "RequesterField", "RequesterOidField", "ResponseNotesField",
    "PriorityField", "CloseDateField", "DueDateField", "CommentsField", "AttachmentField", "LinkedField",
}  # fmt: skip
ISSUE_FIELDS = (
    "IssueField",
    "CodeField",
    "PublicField",
    "InactiveField",
    "InternalRequestCategoryField",
    "ResponseField",
)
FREE_TEXT = ("DescriptionField", "ResponseNotesField", "CommentsField", "CommentField")
REQUEST_KEPT = (
    "StatusField",
    "IssueField",
    "LocationDescriptionField",
    "AddressField",
    "ZipCodeField",
    "CompletedField",
    "PriorityField",
)


class CaptureError(RuntimeError):
    """The server cannot be read as asked (one sentence for the user)."""


class Reader:
    def __init__(self, base: str, username: str, password: str) -> None:
        self.base = base.rstrip("/") + "/api/v1"
        self.http = requests.Session()
        self.http.auth = (username, password)
        self.calls = 0

    def get(self, path: str, **params: str) -> Any:
        resp = self.http.get(f"{self.base}/{path}", params=params, timeout=TIMEOUT_S)
        self.calls += 1
        if resp.status_code in (401, 403):
            raise CaptureError(f"OpenGov answered HTTP {resp.status_code}: wrong user name or password")
        if resp.status_code != 200:
            raise CaptureError(f"GET {path} answered HTTP {resp.status_code}: {resp.text[:300]}")
        return resp.json()

    def records(self, class_name: str, most: int | None = None) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        while most is None or len(out) < most:
            page = self.get(f"classes/{class_name}", limit=str(PAGE), offset=str(len(out)), sort="Oid:asc")
            items = page.get(class_name) or []
            out += items
            if len(items) < PAGE:
                break
        return out if most is None else out[:most]


def capture(base: str, username: str, password: str, max_records: int = 1000) -> tuple[dict[str, Any], Counter[str]]:
    """(the scenario's `opengov` section, how many of each thing was read)."""
    r = Reader(base, username, password)
    read: Counter[str] = Counter()
    meta = {c["ClassName"]: c for c in (r.get("meta/Classes").get("Classes") or [])}
    classes = _class_names(meta)
    section: dict[str, Any] = {"classes": classes, "issues": []}
    for issue in r.records(ISSUES):
        section["issues"].append({k: issue[k] for k in ISSUE_FIELDS if issue.get(k) is not None})
        read["request issues"] += 1
    if max_records:
        section["requesters"] = [_scrubbed(q) for q in r.records(classes["requester_class"], max_records)]
        read["requesters"] = len(section["requesters"])
        section["requests"] = []
        comment_class = classes["comment_class"]
        for request in r.records(REQUESTS, max_records):
            listed = {k: request[k] for k in REQUEST_KEPT if request.get(k) not in (None, "")}
            listed.update({k: scrub.free_text(request[k]) for k in FREE_TEXT if request.get(k)})
            listed.update(_point(request.get("CgShape")))
            children = r.get(f"classes/{REQUESTS}/{request['Oid']}/{comment_class}").get(comment_class) or []
            comments = [
                {"text": scrub.free_text(c.get("CommentField")), "public": bool(c.get("PublicField"))}
                for c in children
                if (c.get("CommentField") or "").strip()
            ]
            if comments:
                listed["comments"] = comments
            section["requests"].append(listed)
            read["requests"] += 1
            read["comments"] += len(comments)
    read["calls"] = r.calls
    return section, read


def _class_names(meta: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The names this server gives what no public source fixes: its requester class, its comment child class,
    its integration reference field and its own request fields."""
    requester = next((n for n in sorted(meta) if "requester" in n.lower() and not meta[n].get("Children")), None)
    children = meta.get(REQUESTS, {}).get("Children") or []
    comment = next((n for n in children if "comment" in n.lower()), None)
    if requester is None or comment is None:
        raise CaptureError("meta/Classes names no requester class or no comment child class of cgRequestsClass")
    fields = [f["FieldName"] for f in meta[REQUESTS].get("Fields") or []]
    integration = next((f for f in fields if f.lower().startswith("integration") and f.endswith("Field")), None)
    custom = [
        f
        for f in fields
        if f not in SYSTEM and f not in STANDARD_REQUEST_FIELDS and f != integration and f.endswith("Field")
    ]
    out: dict[str, Any] = {"requester_class": requester, "comment_class": comment, "custom_fields": custom}
    if integration is not None:
        out["integration_id_field"] = integration
    return out


def _scrubbed(record: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        if key in SYSTEM or value in (None, ""):
            continue
        kind = personal_kind(key)  # by the name alone: a phone sent as a number is a phone all the same
        if kind is not None:
            out[key] = scrub.BY_KIND[kind](value if isinstance(value, str) else json.dumps(value, sort_keys=True))
        elif isinstance(value, str) and key not in ("CityField", "StateField", "ZipCodeField"):
            out[key] = scrub.free_text(value)
        else:
            out[key] = value
    return out


def _point(shape: Any) -> dict[str, float]:
    """A request's point shape as lat/long (what the scenario takes back); nothing for another shape."""
    try:
        points = shape["Points"] if isinstance(shape, dict) else None
        if points:
            return {"lat": float(points[0]["Lat"]), "long": float(points[0]["Lng"])}
    except (KeyError, TypeError, ValueError, IndexError):
        pass
    return {}
