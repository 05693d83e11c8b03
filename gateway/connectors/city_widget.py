"""Calls to a city's widget API (contracts/city-widget.yaml): every call signed with the widget's secret
(WID-3), through the SSRF guard, with a timeout. Redirects are followed by hand, at most three, each hop
checked by the guard and signed again for its own path, and only within the endpoint's origin: a signed
request is never handed to another host, which could replay it to the city."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from contracts.widget_signing import sign

from .guard import Guard, Refused

MAX_REDIRECTS = 3
MAX_BODY = 2 * 1024 * 1024


class Unreachable(Exception):
    """The endpoint could not be reached or did not answer in time; the message says how."""


@dataclass(frozen=True, slots=True)
class Reply:
    status: int
    headers: CIMultiDict[str]  # case-insensitive, as HTTP header names are
    body: Any  # decoded JSON, or None
    raw: bytes
    latency_ms: float

    def error_code(self) -> str | None:
        """The contract's error code of an error answer."""
        if isinstance(self.body, dict) and isinstance(self.body.get("error"), dict):
            code = self.body["error"].get("code")
            return code if isinstance(code, str) else None
        return None


class CityWidget:
    def __init__(
        self,
        session: aiohttp.ClientSession,
        guard: Guard,
        endpoint: str,
        key_id: str,
        secret: str,
        timeout_s: float = 10.0,
    ) -> None:
        self.session, self.guard = session, guard
        self.base = URL(endpoint.rstrip("/"))
        self.key_id, self.secret, self.timeout = key_id, secret, aiohttp.ClientTimeout(total=timeout_s)

    def url(self, path: str, query: dict[str, str] | None = None) -> URL:
        target = self.base.raw_path.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
        return self.base.with_path("/", encoded=True).join(URL(target, encoded=True))

    async def call(
        self,
        method: str,
        path: str,
        query: dict[str, str] | None = None,
        body: Any = None,
        etag: str | None = None,
    ) -> Reply:
        url = self.url(path, query)
        data = json.dumps(body, separators=(",", ":")).encode() if body is not None else b""
        started = time.perf_counter()
        for _ in range(MAX_REDIRECTS + 1):
            await self.guard.check_url(url)
            headers = sign(self.key_id, self.secret, method, url.raw_path_qs, data, time.time())
            if data:
                headers["Content-Type"] = "application/json"
            if etag:
                headers["If-None-Match"] = etag
            try:
                async with self.session.request(
                    method, url, data=data or None, headers=headers, allow_redirects=False, timeout=self.timeout
                ) as resp:
                    raw = await resp.content.read(MAX_BODY + 1)
                    status, answer_headers = resp.status, CIMultiDict(resp.headers)
                    location = resp.headers.get("Location")
            except Refused:
                raise
            except (aiohttp.ClientError, TimeoutError) as err:
                raise Unreachable(_describe(err)) from None
            if status in (301, 302, 303, 307, 308) and location:
                nxt = url.join(URL(location))
                if nxt.origin() != url.origin():
                    raise Refused(f"the endpoint redirects to another origin ({nxt.origin()}); not followed")
                url = nxt
                if status == 303:
                    method, data = "GET", b""
                continue
            if len(raw) > MAX_BODY:
                raise Unreachable(f"the answer is larger than {MAX_BODY} bytes")
            try:
                decoded = json.loads(raw) if raw else None
            except (ValueError, UnicodeDecodeError, RecursionError):
                decoded = None
            latency = (time.perf_counter() - started) * 1000
            return Reply(status, answer_headers, decoded, raw, latency)
        raise Unreachable(f"more than {MAX_REDIRECTS} redirects")


def _describe(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "no answer in time"
    if isinstance(err, aiohttp.ClientConnectorError):
        return f"cannot connect: {err.os_error.strerror or err.os_error}"
    return f"{type(err).__name__}: {err}"[:300]
