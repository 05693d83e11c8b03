"""An OpenGov EAM site as a scenario section, read with GETs only: the class meta (which names this server gives
the requester and comment classes, the integration reference and its own request fields), every request issue,
and up to `max_records` requesters and requests with their comments. Names, e-mails, phones and free text are
scrubbed (scrub.py)."""

from __future__ import annotations

import json
import sys
from collections import Counter
from typing import Any

import requests

from contracts import opengov_paging as paging
from simulators.kit.secrets import personal_kind

from .. import preflight
from . import scrub

TIMEOUT_S = 30
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
        self.username = username
        self.calls = 0
        self.warnings: list[str] = []

    def get(self, path: str, gone: bool = False, **params: str) -> Any:
        """The answer's JSON; with `gone`, None for a 404 (a record deleted since it was listed)."""
        resp = self.http.get(f"{self.base}/{path}", params=params, timeout=TIMEOUT_S)
        self.calls += 1
        if resp.status_code in (401, 403):
            raise CaptureError(preflight.opengov_refusal(resp.status_code, self.username))
        if gone and resp.status_code == 404:
            return None
        if resp.status_code == 404 and self.calls == 1:  # the first read: a wrong --url, as certify says it
            where = "the part before /api/v1"
            raise CaptureError(preflight.site_root_404(f"{self.base}/{path}", resp, where))
        if resp.status_code != 200:
            raise CaptureError(f"GET {path} answered HTTP {resp.status_code}: {resp.text[:300]}")
        try:
            return resp.json()
        except ValueError:
            raise CaptureError(f"{self.base}/{path} does not answer like OpenGov (HTTP 200, not JSON)") from None

    def records(self, class_name: str, most: int | None = None) -> list[dict[str, Any]]:
        """Up to `most` records in Oid order, paged on Oid as the gateway pages (contracts/opengov_paging.py): a
        server that caps its pages, or users writing meanwhile, make no record go unread. What was read of a whole
        listing differs from the server's count: a warning."""
        out: list[dict[str, Any]] = []
        after: int | None = None
        total: int | None = None
        while most is None or len(out) < most:
            body = self.get(f"classes/{class_name}", **paging.params(after))
            page = body.get(class_name) if isinstance(body, dict) else None
            if not isinstance(page, list):
                raise CaptureError(f"GET classes/{class_name} answered without a {class_name} list")
            meta = body.get("_metadata") if isinstance(body.get("_metadata"), dict) else {}
            if after is None:
                total = paging.total_count(meta)
            out += page
            try:
                after = paging.next_after(class_name, page, meta, after)
            except paging.PagingError as exc:
                raise CaptureError(str(exc)) from None
            if after is None:
                if total is not None and len(out) != total:
                    self.warnings.append(
                        f"read {len(out)} {class_name} records where OpenGov counted {total} "
                        "(records written while reading?)"
                    )
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
        read["requests"] = read["comments"] = 0
        for request in r.records(REQUESTS, max_records):
            listed = {k: request[k] for k in REQUEST_KEPT if request.get(k) not in (None, "")}
            listed.update({k: scrub.free_text(request[k]) for k in FREE_TEXT if request.get(k)})
            listed.update(_point(request.get("CgShape")))
            answer = r.get(f"classes/{REQUESTS}/{request['Oid']}/{comment_class}", gone=True)
            if answer is None:  # deleted since it was listed (a shared sandbox): skipped, and said
                read["requests deleted while reading, skipped"] += 1
                continue
            children = answer.get(comment_class) or []
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
    gone = read.pop("requests deleted while reading, skipped", 0)
    if gone:
        read["requests deleted while reading, skipped"] = gone  # said after what was read
    read["calls"] = r.calls
    for warning in r.warnings:
        print(f"civic-harness: warning: {warning}", file=sys.stderr)
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
