"""OpenGov EAM: errors are `{"Message": ...}` with the HTTP status; HTTP Basic or the session cookie."""

from __future__ import annotations

import base64
from typing import Any

from ..exchange import Request, Response
from ..mutation import ISO_DATE, WRITTEN, Mutation, date_keys, map_key
from .base import Vendor

LOGIN, PASSWORD = "harness", "harness"
REQUIREMENTS = {
    "listRecords": ("OG-API-1", "OG-API-3"),
    "createRecords": ("OG-API-2",),
    "updateRecords": ("OG-API-3",),
    "getRecord": ("OG-API-2",),
    "listChildren": ("OG-API-4",),
    "createChildren": ("OG-API-4",),
    "uploadAttachment": ("OG-API-6",),
    "downloadAttachment": ("OG-API-6",),
    "discover": ("OG-API-7",),
    "classMeta": ("OG-API-7",),
    "classMetaOne": ("OG-API-7",),
    "authenticate": ("OG-API-5", "OG-API-8"),
    "session": ("OG-API-8",),
    "signout": ("OG-API-8",),
    "user": ("OG-API-8",),
}


def basic(login: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{login}:{password}".encode()).decode()


class Opengov(Vendor):
    name = "opengov"
    contract = "opengov"
    case_insensitive = True
    catch_all = ("OG-API-5",)
    by_family = REQUIREMENTS

    def family(self, operation_id: str) -> str:
        return operation_id.removesuffix("Slash")

    def simulator_options(self, version: str | None) -> dict[str, Any]:
        return {"seed": 5}

    def authorize(self, req: Request, memo: dict[str, Any], missing: bool) -> Request:
        auth = req.header("Authorization")
        if req.header("Cookie") and auth is None:
            return req  # a session: the server judges the cookie, which a proxy cannot mend
        right = basic(LOGIN, PASSWORD)
        if (auth is None) != missing or auth == right:
            return req
        return req.with_header("Authorization", right)

    def written(self, version: str | None) -> list[Mutation]:
        return [
            Mutation(
                "written:comments-newest-first",
                WRITTEN,
                frozenset({"listChildren"}),
                "a request's comments come back newest first",
                ("OG-API-4",),
                response=_newest_first,
            ),
            Mutation(
                "written:search-loses-last-id",
                WRITTEN,
                frozenset({"listRecords"}),
                "a filtered listing leaves out its last record (and counts one fewer)",
                ("OG-API-3",),
                response=_lose_last,
            ),
            Mutation(
                "written:attachment-one-byte",
                WRITTEN,
                frozenset({"downloadAttachment"}),
                "a downloaded attachment differs from the upload by one byte",
                ("OG-API-6",),
                response=_flip_byte,
            ),
            Mutation(
                "written:dates-us-format",
                WRITTEN,
                frozenset({"listRecords", "getRecord", "createRecords"}),
                "dates come back as MM/DD/YYYY hh:mm:ss instead of ISO 8601",
                ("OG-API-3",),
                response=_us_dates,
            ),
            Mutation(
                "written:fields-ignored",
                WRITTEN,
                frozenset({"listRecords", "listChildren"}),
                "`fields` is ignored: every field of every record comes back",
                ("OG-API-1",),
                request=lambda req, memo: self.strip(req, "param", "fields"),
            ),
            Mutation(
                "written:any-password",
                WRITTEN,
                frozenset(),
                "HTTP Basic takes any password for a known user",
                ("OG-API-5",),
                request=lambda req, memo: self.authorize(req, memo, missing=False),
            ),
            Mutation(
                "written:signout-keeps-session",
                WRITTEN,
                frozenset({"signout"}),
                "sign-out answers 200 but the session stays open on the server",
                ("OG-API-8",),
                simulator={"defects": frozenset({"signout-keeps-session"})},
            ),
        ]


def _records(body: Any) -> tuple[str, list[Any]] | None:
    if not isinstance(body, dict):
        return None
    key = next((k for k, v in body.items() if k != "_metadata" and isinstance(v, list)), None)
    return (key, body[key]) if key else None


def _newest_first(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    found = _records(body) if resp.status == 200 else None
    if not found:
        return resp
    key, rows = found
    ordered = sorted(rows, key=lambda r: -(r.get("Oid") or 0) if isinstance(r, dict) else 0)
    return resp.with_json({**body, key: ordered})


def _lose_last(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    found = _records(body) if resp.status == 200 and any(k == "filter" for k, _ in req.params()) else None
    if not found or not found[1]:
        return resp
    key, rows = found
    meta = dict(body.get("_metadata") or {})
    if isinstance(meta.get("totalCount"), int):
        meta["totalCount"] -= 1
    return resp.with_json({**body, key: rows[:-1], "_metadata": meta})


def _flip_byte(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    if resp.status != 200 or not resp.body:
        return resp
    middle = len(resp.body) // 2
    return resp.with_body(resp.body[:middle] + bytes([resp.body[middle] ^ 0x01]) + resp.body[middle + 1 :])


def _us_date(text: Any) -> Any:
    m = ISO_DATE.match(text) if isinstance(text, str) else None
    if not m:
        return text
    y, mo, d, h, mi, s = m.groups()
    return f"{mo}/{d}/{y} {h}:{mi}:{s}"


def _us_dates(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if resp.status not in (200, 201) or not isinstance(body, dict):
        return resp
    for key in date_keys(body):
        body = map_key(body, key, _us_date)
    return resp.with_json(body)
