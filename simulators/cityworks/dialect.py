"""How Cityworks speaks: the response envelope, its message items and codes, its lenient JSON.

Everything answers HTTP 200 with `Status` telling the outcome (0 Ok, 1 Error, 2 Unauthorized,
3 InvalidCredentials); an unknown service path is an IIS/ASP.NET HTML 404.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from aiohttp import web

from simulators.kit import Dialect, Operation, Violation
from simulators.kit.answers import json_answer
from simulators.kit.binding import AspNetParameters, JsonNetParameter
from simulators.kit.lenient import lenient_loads

from .config import CityworksConfig

OK, ERROR, UNAUTHORIZED, INVALID_CREDENTIALS = 0, 1, 2, 3
MSG_SUCCESS, MSG_WARNING, MSG_ERROR = 0, 1, 2

NULL_DATE = "0001-01-01T00:00:00"  # how Cityworks writes "no date"
UNSET_NUMBER = -9999.0  # how Cityworks writes "no number"

# Error codes (vendor-notes/cityworks.md). Auth service:
AUTH_UNKNOWN, EMPLOYEE_NOT_FOUND, INACTIVE_USER, INVALID_CREDENTIALS_CODE = 1, 2, 3, 4
# Service request / work order services:
INVALID_REQUEST_ID = 2
NOT_AUTHORIZED_TO_VIEW, NOT_AUTHORIZED_TO_UPDATE, NOT_AUTHORIZED_TO_CREATE = 3, 4, 5
NOT_AUTHORIZED_TO_CANCEL, NOT_AUTHORIZED_TO_DELETE, NOT_AUTHORIZED_TO_CLOSE = 6, 7, 8
INVALID_FIELD = 30
STATUS_CANT_BE_CLOSED, STATUS_CANT_BE_CANCELED = 31, 32
REQUIRED_FIELDS, REQUIRED_CUSTOM_FIELDS, ITEM_NOT_FOUND = 33, 34, 35

IIS_NOT_FOUND = (
    "<!DOCTYPE html><html><head><title>The resource cannot be found.</title></head><body>"
    "<h1>Server Error in '/' Application.</h1><h2><i>The resource cannot be found.</i></h2>"
    "</body></html>"
)


class CityworksError(Exception):
    """A failure the handler reports in the envelope (HTTP 200, Status != 0)."""

    def __init__(self, status: int, code: int, name: str, text: str, service: str = "") -> None:
        super().__init__(text)
        self.status = status
        self.item = message_item(code, name, text, service)


def message_item(code: int, name: str, text: str, service: str = "", kind: int = MSG_ERROR) -> dict[str, Any]:
    return {
        "Code": code,
        "DebugDetails": None,
        "DisplayText": text,
        "InnerMessage": None,
        "MessageType": kind,
        "Name": name,
        "Service": service,
    }


def envelope(
    value: Any,
    *,
    legacy: bool,
    status: int = OK,
    message: str | None = None,
    errors: list[dict[str, Any]] | None = None,
    warnings: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    if legacy:
        return {"Status": status, "Message": message, "Value": value}
    return {
        "Value": value,
        "Status": status,
        "Message": message,
        "ErrorMessages": errors or [],
        "WarningMessages": warnings or [],
        "SuccessMessages": [],
    }


def ok(
    config: CityworksConfig,
    value: Any,
    warnings: list[dict[str, Any]] | None = None,
    *,
    legacy: bool = False,
) -> web.Response:
    """`legacy`: this service answers {Status, Message, Value} on every version (its response type derives from
    the SDK's CoreResponseBase_obsolete, e.g. Preferences/User)."""
    return _json(envelope(value, legacy=legacy or config.uses_legacy_envelope, warnings=warnings))


def failure(
    config: CityworksConfig, err: CityworksError, http_status: int = 200, *, legacy: bool = False
) -> web.Response:
    legacy = legacy or config.uses_legacy_envelope
    body = envelope(None, legacy=legacy, status=err.status, message=err.item["DisplayText"])
    if not legacy:
        body["ErrorMessages"] = [err.item]
    return _json(body, http_status)


def _json(body: dict[str, Any], status: int = 200) -> web.Response:
    return json_answer(body, status)


def obsolete_envelope(op: Operation) -> bool:
    """The contract's `x-envelope: obsolete`: the service's response type derives from the SDK's
    CoreResponseBase_obsolete, so it answers {Status, Message, Value} whatever the version."""
    return op.spec.get("x-envelope") == "obsolete"


def cw_date(when: datetime | None) -> str:
    """Cityworks' date text. isoformat pads the year to four digits (strftime's %Y does not below
    1000), which keeps the text sortable: searches compare dates as text."""
    if when is None:
        return NULL_DATE
    return when.replace(tzinfo=None, microsecond=0).isoformat(timespec="seconds")


def make_dialect(config: CityworksConfig) -> Dialect:
    def error(http_status: int, code: str, text: str) -> web.Response:
        item = message_item(1, code, text)
        body = envelope(None, legacy=config.uses_legacy_envelope, status=ERROR, message=text)
        if not config.uses_legacy_envelope:
            body["ErrorMessages"] = [item]
        return _json(body, http_status)

    def reject(violations: list[Violation], op: Operation | None) -> web.Response:
        if op is None:
            return web.Response(status=404, text=IIS_NOT_FOUND, content_type="text/html")
        items = [message_item(INVALID_FIELD, "InvalidField", f"{v.location}: {v.message}") for v in violations]
        legacy = config.uses_legacy_envelope or obsolete_envelope(op)
        body = envelope(None, legacy=legacy, status=ERROR, message=items[0]["DisplayText"])
        if not legacy:
            body["ErrorMessages"] = items
        return _json(body)

    return Dialect(
        error=error,
        reject=reject,
        malformed_body=b'{"Value":{"RequestId":1,"Status":"OP',
        case_insensitive_paths=True,
        json_loads=lenient_loads,
        secret_keys=frozenset({"password", "token"}),
        # ASP.NET: `data` and `token` from the query string or the form, any method, any casing.
        bind=AspNetParameters(("data", "token"), precedence=config.parameter_precedence),
        # Json.NET reads `data`: names in any casing, unknown members ignored, "12" for 12, null for unset.
        relax=JsonNetParameter("data", lenient_loads),
    )
