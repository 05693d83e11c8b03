"""Cityworks: errors are HTTP 200 envelopes with Status not 0; arguments are JSON in `data` (form or query);
the token travels as `token` before 23 and as `Authorization: cityworks <token>` from 23 on."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from typing import Any

from gateway.connectors.cityworks import family as version_family

from ..exchange import NOT_JSON, Request, Response
from ..mutation import ISO_DATE, WRITTEN, Mutation, date_keys, map_key
from .base import Vendor

# operation family prefix -> the requirement IDs whose checks should catch a defect there
REQUIREMENTS = (
    ("General_Authentication", ("CW-VER-2",)),
    ("Authentication_", ("CW-VER-2",)),
    ("AMS_Authentication", ("CW-VER-2",)),
    ("Ams_ServiceRequest_Problems", ("CW-CAT-1",)),
    ("Ams_ServiceRequest_QA", ("CW-QA-1",)),
    ("Ams_ServiceRequestTemplate_QA", ("CW-QA-1",)),
    ("Ams_ServiceRequest_Search", ("CW-API-3",)),
    ("Ams_ServiceRequest_Close", ("CW-API-4",)),
    ("Ams_ServiceRequest_Reopen", ("CW-API-4",)),
    ("Ams_ServiceRequest_Cancel", ("CW-API-4",)),
    ("Ams_ServiceRequest_Uncancel", ("CW-API-4",)),
    ("Ams_ServiceRequest_AddComments", ("CW-API-2",)),
    ("Ams_ServiceRequest_Comments", ("CW-API-2",)),
    ("Ams_Comment", ("CW-API-2",)),
    ("Ams_Attachments", ("CW-SUB-2",)),
    ("Ams_ServiceRequest", ("CW-API-1",)),
    ("Ams_WorkOrder_Templates", ("CW-CAT-1",)),
    ("Ams_WorkOrder", ("CW-API-1",)),
    ("Ams_Preferences", ("CW-API-6",)),
    ("Ams_CustomerCall", ("CW-API-6",)),
)


# the `data` part of a multipart upload: its headers, its value, and what follows it
DATA_PART = re.compile(rb'(name="data"\r\n(?:[^\r\n]+\r\n)*\r\n)(.*?)(\r\n--)', re.DOTALL | re.IGNORECASE)


def data_of(req: Request) -> tuple[str, Any] | None:
    """(where, the decoded `data` argument) — from the form, a multipart upload's part, else the query."""
    part = DATA_PART.search(req.body) if "multipart/" in (req.header("Content-Type") or "") else None
    if part is not None:
        try:
            return "multipart", json.loads(part.group(2))
        except ValueError:
            return None
    for where, pairs in (("form", req.form()), ("query", req.params())):
        for k, v in pairs:
            if k.lower() == "data":
                try:
                    return where, json.loads(v)
                except ValueError:
                    return None
    return None


def with_data(req: Request, where: str, value: Any) -> Request:
    text = json.dumps(value, separators=(",", ":"))
    if where == "multipart":
        body = DATA_PART.sub(lambda m: m.group(1) + text.encode() + m.group(3), req.body, count=1)
        return replace(req, body=body)
    if where == "form":
        return req.with_form([(k, text if k.lower() == "data" else v) for k, v in req.form()])
    return req.with_params([(k, text if k.lower() == "data" else v) for k, v in req.params()])


def token_of(req: Request) -> str | None:
    auth = req.header("Authorization") or ""
    if auth.lower().startswith("cityworks "):
        return auth.split(" ", 1)[1].strip()
    part = TOKEN_VALUE.search(req.body) if "multipart/" in (req.header("Content-Type") or "") else None
    if part is not None:
        return part.group(1).decode("latin-1")
    return next((v for k, v in [*req.form(), *req.params()] if k.lower() == "token"), None)


TOKEN_VALUE = re.compile(rb'name="token"\r\n\r\n(.*?)\r\n--', re.DOTALL)
TOKEN_PART = re.compile(rb'--[^\r\n]+\r\nContent-Disposition: form-data; name="token"\r\n\r\n.*?\r\n(?=--)', re.DOTALL)


def without_token(req: Request) -> Request:
    if "multipart/" in (req.header("Content-Type") or ""):  # an upload's token part
        req = replace(req, body=TOKEN_PART.sub(b"", req.body, count=1))
    req = req.with_header("Authorization", None)
    req = req.with_params([(k, v) for k, v in req.params() if k.lower() != "token"])
    return req.with_form([(k, v) for k, v in req.form() if k.lower() != "token"]) if req.is_form() else req


def us_date(text: Any) -> Any:
    """An ISO date-time as Cityworks' US desktop format would show it (another format, same instant)."""
    if not isinstance(text, str):
        return text
    m = ISO_DATE.match(text)
    if not m:
        return text
    y, mo, d, h, mi, s = m.groups()
    hour = int(h) % 12 or 12
    return f"{int(mo)}/{int(d)}/{y} {hour}:{mi}:{s} {'PM' if int(h) >= 12 else 'AM'}"


class Cityworks(Vendor):
    name = "cityworks"
    contract = "cityworks"
    case_insensitive = True
    catch_all = ("CW-API-5",)

    def family(self, operation_id: str) -> str:
        return operation_id.removesuffix("_get")

    def serves(self, versions: list[str] | None, version: str | None) -> bool:
        return (
            versions is None
            or version_family(version or "23") in versions
            or ((version or "").startswith("15.") and "15" in versions)
        )

    def requirements(self, family: str) -> tuple[str, ...]:
        return next((ids for prefix, ids in REQUIREMENTS if family.startswith(prefix)), self.catch_all)

    def default_version(self) -> str | None:
        return "23"

    def simulator_options(self, version: str | None) -> dict[str, Any]:
        return {"seed": 3, "version": version or "23"}

    def certify_args(self, version: str | None, sim_url: str) -> list[str]:
        import requests

        action = {"ProblemCode": "STAFFONLY", "Description": "Staff only", "public": False}
        resp = requests.post(f"{sim_url}/_sim/actions/add-problem", json=action, timeout=30)
        resp.raise_for_status()
        hidden = str(resp.json()["result"]["ProblemSid"])  # what a site's administrator tells certify
        action = {"Description": "Staff only", "public": False}
        resp = requests.post(f"{sim_url}/_sim/actions/add-template", json=action, timeout=30)
        resp.raise_for_status()
        template = str(resp.json()["result"]["WOTemplateId"])
        return ["--version", version or "23", "--hidden-problems", hidden, "--hidden-templates", template]

    # -- the envelope -------------------------------------------------------------------------------------

    def is_error(self, resp: Response) -> bool:
        body = resp.json()
        return isinstance(body, dict) and body.get("Status") not in (0, None)

    def error_status(self, resp: Response) -> Response:
        return resp.with_status(500)  # Cityworks answers every failure with HTTP 200

    def error_shape(self, resp: Response) -> Response:
        body = resp.json()
        return resp.with_json({"Status": body.get("Status"), "Message": body.get("Message"), "Value": None})

    def as_success(self, req: Request, resp: Response, example: Any) -> Response:
        value = example.get("Value") if isinstance(example, dict) and example.get("Status") == 0 else None
        envelope = {"Value": value, "Status": 0, "Message": None}
        body = resp.json()
        if isinstance(body, dict) and "ErrorMessages" in body:
            envelope |= {"ErrorMessages": [], "WarningMessages": [], "SuccessMessages": []}
        return resp.with_json(envelope)

    def strip(self, req: Request, where: str, name: str) -> Request:
        if where != "data":
            return super().strip(req, where, name)
        found = data_of(req)
        if found is None or not isinstance(found[1], dict):
            return req
        kept = {k: v for k, v in found[1].items() if k.lower() != name.lower()}
        return with_data(req, found[0], kept) if len(kept) != len(found[1]) else req

    # -- credentials --------------------------------------------------------------------------------------

    def learn(self, req: Request, resp: Response, memo: dict[str, Any]) -> None:
        body = resp.json()
        if _signs_in(req) and isinstance(body, dict) and body.get("Status") == 0:
            value = body.get("Value")
            if isinstance(value, dict) and isinstance(value.get("Token"), str):
                memo.setdefault("tokens", []).append(value["Token"])

    def authorize(self, req: Request, memo: dict[str, Any], missing: bool) -> Request:
        tokens = memo.get("tokens") or []
        if not tokens or _signs_in(req):
            return req
        token = token_of(req)
        if (token is None) != missing or token in tokens:
            return req
        fixed = without_token(req)
        if memo.get("version", "23").startswith("23"):
            return fixed.with_header("Authorization", f"cityworks {tokens[-1]}")
        if fixed.is_form():
            return fixed.with_form([*fixed.form(), ("token", tokens[-1])])
        return fixed.with_params([*fixed.params(), ("token", tokens[-1])])

    # -- written ------------------------------------------------------------------------------------------

    def written(self, version: str | None) -> list[Mutation]:
        out = [
            Mutation(
                "written:comments-newest-first",
                WRITTEN,
                _ops("Ams_ServiceRequest_Comments", "Ams_Comment_ByActivitySids"),
                "comments come back newest first",
                ("CW-API-2",),
                response=_newest_first,
            ),
            Mutation(
                "written:search-loses-last-id",
                WRITTEN,
                _ops("Ams_ServiceRequest_Search", "Ams_WorkOrder_Search"),
                "a search answers every matching id but the last",
                ("CW-API-3",),
                response=_lose_last,
            ),
            Mutation(
                "written:attachment-one-byte",
                WRITTEN,
                _ops("Ams_Attachments_DownloadRequestAttachment", "Ams_Attachments_DownloadWorkOrderAttachment"),
                "a downloaded attachment differs from the upload by one byte",
                ("CW-SUB-2",),
                response=_flip_byte,
            ),
            Mutation(
                "written:dates-us-format",
                WRITTEN,
                frozenset(),
                "dates come back as M/D/YYYY h:mm:ss AM/PM instead of ISO 8601",
                ("CW-API-1",),
                response=_us_dates,
            ),
            Mutation(
                "written:licence-not-enforced",
                WRITTEN,
                frozenset(),
                "a site licensed for service requests only serves work orders too",
                ("CW-MODE-1",),
                simulator={"licences": frozenset({"sr"}), "defects": frozenset({"ignore-licences"})},
                certify_args=("--licences", "sr"),
            ),
        ]
        if (version or "23").startswith("23"):
            out.append(
                Mutation(
                    "written:token-parameter-on-23",
                    WRITTEN,
                    frozenset(),
                    "Cityworks 23 takes the token as a parameter, as before 23, not only in the header",
                    ("CW-VER-2",),
                    request=_token_to_header,
                )
            )
        else:
            out.append(
                Mutation(
                    "written:header-before-23",
                    WRITTEN,
                    frozenset(),
                    f"Cityworks {version} takes the token in an Authorization header, as 23 does",
                    ("CW-VER-2",),
                    request=_header_to_token,
                )
            )
        return out


def _signs_in(req: Request) -> bool:
    """Authenticate and CityworksOnlineAuthenticate: the calls that take no token and give one."""
    return req.path.lower().rstrip("/").endswith("authenticate")


def _ops(*families: str) -> frozenset[str]:
    return frozenset(name for f in families for name in (f, f + "_get"))


def _newest_first(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if not isinstance(body, dict) or body.get("Status") != 0:
        return resp

    def order(value: Any) -> Any:
        if isinstance(value, list):
            return sorted(value, key=lambda c: -(c.get("CommentId") or 0) if isinstance(c, dict) else 0)
        if isinstance(value, dict):
            return {k: order(v) for k, v in value.items()}
        return value

    return resp.with_json({**body, "Value": order(body.get("Value"))})


def _lose_last(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if isinstance(body, dict) and body.get("Status") == 0 and isinstance(body.get("Value"), list) and body["Value"]:
        return resp.with_json({**body, "Value": body["Value"][:-1]})
    return resp


def _flip_byte(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    if not resp.body or (resp.json() is not NOT_JSON and "json" in (resp.header("Content-Type") or "")):
        return resp
    middle = len(resp.body) // 2
    return resp.with_body(resp.body[:middle] + bytes([resp.body[middle] ^ 0x01]) + resp.body[middle + 1 :])


def _us_dates(req: Request, resp: Response, memo: dict[str, Any]) -> Response:
    body = resp.json()
    if not isinstance(body, dict) or body.get("Status") != 0:
        return resp
    value = body.get("Value")
    for key in date_keys(value):
        value = map_key(value, key, us_date)
    return resp.with_json({**body, "Value": value})


def _token_to_header(req: Request, memo: dict[str, Any]) -> Request:
    token = next((v for k, v in [*req.form(), *req.params()] if k.lower() == "token"), None)
    if token is None or req.header("Authorization"):
        return req
    return without_token(req).with_header("Authorization", f"cityworks {token}")


def _header_to_token(req: Request, memo: dict[str, Any]) -> Request:
    auth = req.header("Authorization") or ""
    if not auth.lower().startswith("cityworks "):
        return req
    token = auth.split(" ", 1)[1].strip()
    fixed = req.with_header("Authorization", None)
    if fixed.is_form():
        return fixed.with_form([*fixed.form(), ("token", token)])
    return fixed.with_params([*fixed.params(), ("token", token)])
