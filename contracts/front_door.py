"""The web server in front of a vendor's API: its request limits, and the one way to declare them.

An on-premise Cityworks or OpenGov sits behind IIS, whose request filtering refuses a call over its limits with
IIS's own page before the vendor's code sees it. The simulators answer such a call as IIS does; the provider
suites measure each generated call against the limits the certified deployment declares. Both read the
declaration here, in IIS's own names (what a city sets in web.config):

    none                                               no limits
    iis                                                IIS's defaults (below)
    iis:maxQueryString=8192,maxUrl=8192,maxAllowedContentLength=104857600
                                                       IIS with the site's own values (names in any case)
"""

from __future__ import annotations

from dataclasses import dataclass

# IIS request filtering's defaults (<requestLimits> in applicationHost.config), in bytes.
IIS_DEFAULTS = {"maxUrl": 4096, "maxQueryString": 2048, "maxAllowedContentLength": 30_000_000}
# The sub-status IIS logs for each (the wire shows a plain 404).
SUB_STATUS = {"maxAllowedContentLength": "404.13", "maxUrl": "404.14", "maxQueryString": "404.15"}
GRAMMAR = "none, iis or iis:name=bytes,... with names " + ", ".join(IIS_DEFAULTS)


@dataclass(frozen=True, slots=True)
class Limits:
    """A deployment's front door: its server and each limit in bytes (None: unlimited)."""

    server: str
    max_url: int | None = None  # the raw path, without the query
    max_query_string: int | None = None  # the raw query string after `?`
    max_content_length: int | None = None  # the request body (Content-Length)

    def exceeded(self, path_bytes: int, query_bytes: int, body_bytes: int) -> list[tuple[str, int, int]]:
        """(IIS's name for the limit, the limit, the call's size) of every limit the call is over."""
        checks = (
            ("maxUrl", self.max_url, path_bytes),
            ("maxQueryString", self.max_query_string, query_bytes),
            ("maxAllowedContentLength", self.max_content_length, body_bytes),
        )
        return [(name, limit, size) for name, limit, size in checks if limit is not None and size > limit]

    def settings(self) -> dict[str, int]:
        values = (self.max_url, self.max_query_string, self.max_content_length)
        return {name: v for name, v in zip(IIS_DEFAULTS, values, strict=True) if v is not None}

    def describe(self) -> str:
        return f"{self.server} ({', '.join(f'{k} {v:,} bytes' for k, v in self.settings().items()) or 'no limits'})"


NONE = Limits("none")
IIS = Limits("iis", *IIS_DEFAULTS.values())


def parse(text: str) -> Limits:
    """The limits a declaration names; a ValueError says what is wrong and what is understood."""
    server, sep, overrides = text.strip().partition(":")
    server = server.strip().lower()
    if server == "none" and not sep:
        return NONE
    if server != "iis" or (sep and not overrides.strip()):
        raise ValueError(f"front door must be {GRAMMAR}; got {text!r}")
    by_lower = {name.lower(): name for name in IIS_DEFAULTS}
    values = dict(IIS_DEFAULTS)
    for item in filter(None, (part.strip() for part in overrides.split(","))):
        name, eq, value = item.partition("=")
        key = by_lower.get(name.strip().lower())
        if not eq or key is None or not value.strip().isdigit() or int(value) < 1:
            raise ValueError(f"front door setting {item!r} not understood: {GRAMMAR}")
        values[key] = int(value)
    return Limits("iis", values["maxUrl"], values["maxQueryString"], values["maxAllowedContentLength"])
