"""The front door: the web server in front of a vendor's API, and its limits.

An on-premise Cityworks or OpenGov sits behind IIS, whose request filtering refuses a call over its limits
with IIS's own HTML page (HTTP 404 on the wire) before the vendor's code sees it. Those are the site's web
server settings, not the vendor's API: a suite must not fail a vendor for them. So each generated call is
measured as sent against the limits the certified deployment declares (`--front-door`); a call beyond them
that gets an HTML refusal is reported as a front-door refusal and not judged as the API's answer. A call
within the limits is judged as always, and an HTML refusal of it fails, saying so.

`--front-door` takes a declaration in contracts/front_door.py's grammar: `iis` (IIS's defaults: maxQueryString
2048 bytes, maxUrl 4096 bytes, maxAllowedContentLength 30,000,000 bytes), `iis:maxQueryString=8192,...` (the
site's own values, as its web.config names them) or `none`; the simulators take the same. The default is `iis`
for the Cityworks and OpenGov suites, `none` for the others (ArcGIS and a city's widget endpoint are not assumed
to sit behind IIS).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest

from contracts import front_door
from contracts.front_door import Limits

# Defaults per provider suite (the suite's folder name): the vendors whose on-premise servers run on IIS.
DEFAULTS = {"cityworks": "iis", "opengov": "iis"}
PROPERTY = "front-door"  # the check's user property holding what the front door refused
NOTE = re.compile(r"^front door refused (\d+) generated call")


def beyond(limits: Limits, path_url: str, body_len: int) -> list[str]:
    """The limits a call as sent exceeds, each named as IIS names the setting, with its value."""
    path, _, query = path_url.partition("?")
    over = limits.exceeded(len(path.encode()), len(query.encode()), body_len)
    return [f"{name} {limit:,}" for name, limit, _ in over]


def parse(text: str) -> Limits:
    """The suite's `--front-door`: contracts/front_door.py's grammar, its error prefixed with the option."""
    try:
        return front_door.parse(text)
    except ValueError as exc:
        raise ValueError(f"--front-door: {exc}") from None


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
        over = beyond(self.limits, path_url, body_len)
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
