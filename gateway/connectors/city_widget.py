"""Calls to a city's widget API (contracts/city-widget.yaml): every call signed with the widget's secret
(WID-3), through the SSRF guard, with a timeout. Redirects are followed by hand, at most three, each hop
checked by the guard and signed again for its own path, and only within the endpoint's origin: a signed
request is never handed to another host, which could replay it to the city.

Whatever the endpoint or a city's answer holds, a call ends in a Reply, `Refused` or `Unreachable`, never in
another exception: an endpoint that is not a URL the gateway can call (gateway.domain.widgets.parse_endpoint,
the rule the admin API enforces at save; a row stored before it may still hold one) and a redirect to a
Location that is not such a URL (another scheme, malformed, a bad port) are refusals of that one widget."""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import aiohttp
from multidict import CIMultiDict
from yarl import URL

from contracts.widget_signing import sign

from ..domain import DomainError
from ..domain.widgets import parse_endpoint, url_problem
from .guard import Guard, Refused

MAX_REDIRECTS = 3
USERINFO = re.compile(r"(//)[^/?#]*@")
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
        self.endpoint = endpoint
        self.key_id, self.secret, self.timeout = key_id, secret, aiohttp.ClientTimeout(total=timeout_s)

    def url(self, path: str, query: dict[str, str] | None = None) -> URL:
        """The URL of one call: the endpoint's path, then the call's. Refused if the endpoint cannot be called."""
        try:
            base = parse_endpoint(self.endpoint.rstrip("/"))
            target = base.raw_path.rstrip("/") + path + (f"?{urlencode(query)}" if query else "")
            url = base.with_path("/", encoded=True).join(URL(target, encoded=True))
        except DomainError as err:
            raise Refused(f"the endpoint cannot be called: {err.message}") from None
        except ValueError as err:  # UnicodeError too
            raise Refused(f"the endpoint cannot be called: {str(err)[:200]}") from None
        problem = url_problem(url)
        if problem is not None:
            raise Refused(f"the endpoint cannot be called: {problem}")
        return url

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
            except ValueError as err:  # a URL aiohttp will not send (UnicodeError included); parse_endpoint
                raise Unreachable(f"the request could not be sent: {str(err)[:200]}") from None  # keeps them out
            if status in (301, 302, 303, 307, 308) and location:
                nxt = redirect_target(url, location)
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


def redirect_target(url: URL, location: str) -> URL:
    """Where a redirect from `url` points, held to the rule of endpoints; else Refused (not followed)."""
    bare = USERINFO.sub(r"\1…@", location)  # a password in a Location is not repeated to anyone
    shown = repr(bare if len(bare) <= 100 else bare[:100] + "…")
    try:
        nxt = url.join(URL(location))
    except ValueError as err:  # yarl: a bad port, an unclosed IPv6 bracket, an IDNA failure (UnicodeError)
        why = str(err)[:120]
        raise Refused(f"the endpoint redirects to {shown}, which is not a URL ({why}); not followed") from None
    problem = url_problem(nxt)
    if problem is not None:
        raise Refused(f"the endpoint redirects to {shown}: {problem}; not followed")
    return nxt


def _describe(err: BaseException) -> str:
    if isinstance(err, TimeoutError):
        return "no answer in time"
    if isinstance(err, aiohttp.ClientConnectorError):
        return f"cannot connect: {err.os_error.strerror or err.os_error}"
    return f"{type(err).__name__}: {err}"[:300]
