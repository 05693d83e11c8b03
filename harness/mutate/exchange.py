"""One call through the mutating proxy as plain values: the request as the client sent it and the answer as
the server gave it. Mutations (mutation.py) are pure functions over these; nothing here does I/O."""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, urlencode

FORM = "application/x-www-form-urlencoded"
NOT_JSON: Any = object()  # what `json()` gives for a body that is not JSON


Headers = tuple[tuple[str, str], ...]


def _header(headers: Headers, name: str) -> str | None:
    low = name.lower()
    return next((v for k, v in headers if k.lower() == low), None)


def _set_header(headers: Headers, name: str, value: str | None) -> Headers:
    low = name.lower()
    kept = tuple((k, v) for k, v in headers if k.lower() != low)
    return kept if value is None else (*kept, (name, value))


def _decode(body: bytes) -> Any:
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return NOT_JSON


def _encode(value: Any) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str  # as sent, percent-encoded, without the query
    query: str  # the raw query string
    headers: Headers
    body: bytes
    operation: str | None = None  # the contract's operationId, when the call matches one

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def with_header(self, name: str, value: str | None) -> Request:
        return replace(self, headers=_set_header(self.headers, name, value))

    def params(self) -> list[tuple[str, str]]:
        return parse_qsl(self.query, keep_blank_values=True)

    def with_params(self, pairs: list[tuple[str, str]]) -> Request:
        return replace(self, query=urlencode(pairs))

    def is_form(self) -> bool:
        return (self.header("Content-Type") or "").split(";", 1)[0].strip().lower() == FORM

    def form(self) -> list[tuple[str, str]]:
        return parse_qsl(self.body.decode("latin-1"), keep_blank_values=True) if self.is_form() else []

    def with_form(self, pairs: list[tuple[str, str]]) -> Request:
        return replace(self, body=urlencode(pairs).encode())

    def json(self) -> Any:
        return _decode(self.body)

    def with_json(self, value: Any) -> Request:
        return replace(self, body=_encode(value))


@dataclass(frozen=True, slots=True)
class Response:
    status: int
    headers: Headers
    body: bytes

    def header(self, name: str) -> str | None:
        return _header(self.headers, name)

    def with_header(self, name: str, value: str | None) -> Response:
        return replace(self, headers=_set_header(self.headers, name, value))

    def json(self) -> Any:
        return _decode(self.body)

    def with_json(self, value: Any) -> Response:
        return replace(self, body=_encode(value))

    def with_status(self, status: int) -> Response:
        return replace(self, status=status)

    def with_body(self, body: bytes) -> Response:
        return replace(self, body=body)


def excerpt(body: bytes, limit: int = 400) -> str:
    """A body as a report shows it: text, cut at `limit` characters."""
    text = body[: limit * 4].decode("utf-8", "replace")
    return text if len(text) <= limit else text[:limit] + "…"
