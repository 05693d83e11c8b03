"""The front door: the web server in front of a vendor's API, and its limits.

An on-premise Cityworks or OpenGov sits behind IIS, whose request filtering refuses a call over its limits
with IIS's own HTML page (HTTP 404 on the wire) before the vendor's code sees it. Those are the site's web
server settings, not the vendor's API: a suite must not fail a vendor for them. So each generated call is
measured as sent against the limits the certified deployment declares (`--front-door`); a call beyond them
that gets an HTML refusal is reported as a front-door refusal and not judged as the API's answer. A call
within the limits is judged as always, and an HTML refusal of it fails, saying so.

`--front-door` takes `iis` (the IIS defaults: maxQueryString 2048 bytes, maxUrl 4096 bytes,
maxAllowedContentLength 30,000,000 bytes), `none`, or explicit limits `query=N,url=N,body=N` (each optional;
a limit left out is unlimited). The default is `iis` for the Cityworks and OpenGov suites, `none` for the
others (ArcGIS and a city's widget endpoint are not assumed to sit behind IIS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

# Defaults per provider suite (the suite's folder name): the vendors whose on-premise servers run on IIS.
DEFAULTS = {"cityworks": "iis", "opengov": "iis"}
PROPERTY = "front-door"  # the check's user property holding what the front door refused
NOTE = re.compile(r"^front door refused (\d+) generated call")
SETTINGS = {"query": "maxQueryString", "url": "maxUrl", "body": "maxAllowedContentLength"}


@dataclass(frozen=True, slots=True)
class Limits:
    """A deployment's front-door limits in bytes (None: unlimited), as IIS request filtering counts them."""

    name: str
    query: int | None = None  # the raw query string after `?`
    url: int | None = None  # the raw path, without the query
    body: int | None = None  # the request body (Content-Length)

    def beyond(self, path_url: str, body_len: int) -> list[str]:
        """The limits a call as sent exceeds, each named as IIS names the setting, with its value."""
        path, _, query = path_url.partition("?")
        sizes = {"query": len(query.encode()), "url": len(path.encode()), "body": body_len}
        return [f"{SETTINGS[key]} {limit:,}" for key, limit in self._set() if sizes[key] > limit]

    def _set(self) -> list[tuple[str, int]]:
        return [(k, v) for k, v in (("query", self.query), ("url", self.url), ("body", self.body)) if v is not None]

    def describe(self) -> str:
        return f"{self.name} ({', '.join(f'{SETTINGS[k]} {v:,} bytes' for k, v in self._set()) or 'no limits'})"


IIS = Limits("iis", query=2048, url=4096, body=30_000_000)
NONE = Limits("none")


def parse(text: str) -> Limits:
    """`iis`, `none` or `query=N,url=N,body=N`; a ValueError names what is wrong."""
    text = text.strip().lower()
    if text == "iis":
        return IIS
    if text == "none":
        return NONE
    given: dict[str, int] = {}
    for part in text.split(","):
        key, sep, value = part.strip().partition("=")
        if not sep or key not in SETTINGS or not value.isdigit() or int(value) < 1:
            raise ValueError(f"--front-door expects iis, none or query=N,url=N,body=N (bytes), got {text!r}")
        given[key] = int(value)
    return Limits("explicit", **given)


def limits_for(config: pytest.Config, suite: str) -> Limits:
    chosen = config.getoption("front_door", None) or DEFAULTS.get(suite, "none")
    try:
        return parse(chosen)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


def _sent(request: Any) -> tuple[str, int]:
    """(path and query, body length) of a requests.PreparedRequest, as it went on the wire."""
    body = request.body or b""
    return request.path_url, len(body.encode() if isinstance(body, str) else body)


def _content_type(response: Any) -> str:
    value = response.headers.get("content-type") or response.headers.get("Content-Type") or ""
    if isinstance(value, list):  # schemathesis keeps every header as a list
        value = value[0] if value else ""
    return value.split(";")[0].strip().lower()


def is_refusal_page(response: Any) -> bool:
    """An HTML error page: what a web server answers in place of the vendor's JSON."""
    return response.status_code >= 400 and _content_type(response) == "text/html"


@dataclass
class FrontDoor:
    """One check's view of the front door: judges each answer, counts the refusals, reports them."""

    limits: Limits
    refused: dict[str, int] = field(default_factory=dict)  # the limit exceeded -> calls refused

    def refusal(self, response: Any) -> bool:
        """True when `response` is the front door refusing a call beyond the limits: not the API's answer,
        so not judged. An HTML refusal of a call within the limits fails here, naming the front door."""
        path_url, body_len = _sent(response.request)
        over = self.limits.beyond(path_url, body_len)
        if not is_refusal_page(response):
            return False
        if over:
            for limit in over:
                self.refused[limit] = self.refused.get(limit, 0) + 1
            return True
        path, _, query = path_url.partition("?")
        raise AssertionError(
            f"HTTP {response.status_code} text/html answered a call within the front-door limits "
            f"{self.limits.describe()} (path {len(path.encode()):,} bytes, query {len(query.encode()):,}, "
            f"body {body_len:,}): a web server's page, not the API's answer; if the deployment's limits are "
            "lower, declare them with --front-door"
        )

    def report(self, record_property: Any) -> None:
        """Put the refusals on the check's record (the scorecard and reports show them)."""
        if self.refused:
            counts = ", ".join(f"{n} over {limit} bytes" for limit, n in sorted(self.refused.items()))
            record_property(
                PROPERTY, f"front door refused {sum(self.refused.values())} generated call(s), not the API: {counts}"
            )


def refused_in(note: str) -> int:
    """How many calls a check's front-door note says were refused (0 for any other note)."""
    found = NOTE.match(note)
    return int(found.group(1)) if found else 0
