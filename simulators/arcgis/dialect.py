"""How ArcGIS REST answers: JSON (or pretty JSON for f=pjson), and errors as an `error` object with
HTTP 200, as ArcGIS Server does."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.kit import Dialect, Operation, Violation
from simulators.kit.answers import json_answer

NO_ADDRESS = "Unable to find address for the specified location."
CANNOT_QUERY = "Cannot perform query. Invalid query parameters."
INVALID_INPUT = "Invalid or missing input parameters."


class ArcgisError(Exception):
    def __init__(self, code: int, message: str, details: list[str] | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.details = code, message, details or []

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


def answer(value: dict[str, Any], pretty: bool = False, status: int = 200) -> web.Response:
    return json_answer(value, status, pretty=pretty)


def error(http_status: int, code: str, message: str) -> web.Response:
    """Faults: the HTTP status asked for, with ArcGIS's error object (some servers do answer non-2xx)."""
    return answer(ArcgisError(http_status, message, [code]).body(), status=http_status)


def reject(violations: list[Violation], op: Operation | None) -> web.Response:
    if op is None:
        return answer(ArcgisError(400, "Invalid URL", ["Invalid URL"]).body())
    details = [f"{v.location}: {v.message}" for v in violations]
    return answer(ArcgisError(400, "Unable to complete operation.", [INVALID_INPUT, *details]).body())


DIALECT = Dialect(
    error=error,
    reject=reject,
    malformed_body=b'{"address":{"Match_addr":"380 New York St, Redl',
    case_insensitive_paths=True,
    secret_keys=frozenset({"token", "x-esri-authorization"}),
)
