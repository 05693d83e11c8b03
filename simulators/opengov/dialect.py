"""How OpenGov EAM answers: JSON records under their class name, `{"Message": ...}` errors with real HTTP
status codes, Json.NET-lenient request bodies."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from simulators.kit import Dialect, Operation, Violation
from simulators.kit.answers import json_answer
from simulators.kit.binding import web_api_body
from simulators.kit.lenient import lenient_loads

AUTH_REQUIRED = "Authentication Required for API Access."
BAD_CREDENTIALS = "The user name or password is incorrect."


class OpengovError(Exception):
    def __init__(self, status: int, message: str, errors: list[dict[str, str]] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.errors = status, message, errors or []

    def response(self) -> web.Response:
        body: dict[str, Any] = {"Message": self.message}
        if self.errors:
            body["Errors"] = self.errors
        return answer(body, self.status)


def answer(value: Any, status: int = 200) -> web.Response:
    return json_answer(value, status)


def _error(status: int, code: str, message: str) -> web.Response:
    return OpengovError(status, message).response()


def _reject(violations: list[Violation], op: Operation | None) -> web.Response:
    if op is None:
        return OpengovError(404, "The requested URL was not recognized.").response()
    errors = [{"FieldName": v.location, "Message": v.message} for v in violations]
    return OpengovError(
        400, f"The request is invalid: {violations[0].location}: {violations[0].message}", errors
    ).response()


DIALECT = Dialect(
    error=_error,
    reject=_reject,
    malformed_body=b'{"cgRequestsClass":[{"Oid":1,"IDField":"R-',
    case_insensitive_paths=True,
    json_loads=lenient_loads,
    secret_keys=frozenset({"password", "cookie", "cgkey"}),
    # ASP.NET Web API reads a body by the action's type whatever its declared type: a browser client that sets none
    # sends JSON as text/plain;charset=UTF-8, VG sends none at all, R's httr declares it a form (WIRE-NOTES.md).
    bind=web_api_body,
)
