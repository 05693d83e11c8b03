"""How the city widget API answers: `{"error": {"code", "message"}}` with the HTTP status the contract gives."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from contracts.widget_signing import SIGNATURE
from simulators.kit import Dialect, Operation, Violation
from simulators.kit.answers import json_answer

# The kit's short codes for its own answers (faults, limits) -> the contract's codes.
KIT_CODES = {
    "rate_limited": "rate_limited",
    "too_large": "invalid_request",
    "bad_request": "invalid_request",
    "not_found": "not_found",
}


class WidgetError(Exception):
    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field

    def response(self) -> web.Response:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field:
            body["field"] = self.field
        return answer({"error": body}, self.status)


def answer(value: Any, status: int = 200, headers: dict[str, str] | None = None) -> web.Response:
    return json_answer(value, status, headers)


def error(status: int, code: str, message: str) -> web.Response:
    if code in KIT_CODES:
        code = KIT_CODES[code]
    elif status >= 500:
        code = "unavailable" if status == 503 else "internal_error"
    elif status == 429:
        code = "rate_limited"
    elif status >= 400:
        code = "invalid_request"
    return WidgetError(status, code, message).response()


def reject(violations: list[Violation], op: Operation | None) -> web.Response:
    if op is None:
        return WidgetError(404, "not_found", violations[0].message).response()
    first = violations[0]
    field = first.location.split(".", 1)[1] if "." in first.location else first.location
    # Bounded: a violation message quotes the input, and the contract caps messages at 1000 characters.
    text = "; ".join(f"{v.location}: {_clip(v.message, 160)}" for v in violations[:4])
    return WidgetError(400, "invalid_request", text, field.split("$")[0] or None).response()


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


DIALECT = Dialect(
    error=error,
    reject=reject,
    malformed_body=b'{"widget":"utilities","view":"dashboard","items":[{"key":"bal',
    secret_keys=frozenset({SIGNATURE.lower(), "verification"}),
)
