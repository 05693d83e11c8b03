"""The web server in front of a vendor's API: its request limits, answered with its own error page.

An on-premise Cityworks or OpenGov sits behind IIS. IIS request filtering refuses an over-long URL, query string
or body before the application sees it, with IIS's own HTML page: a client (or a conformance suite) that sends
such a call fails against the real deployment whatever the API would have said. A simulator models that as a
setting, `front_door`: "none", or "iis" with IIS's defaults, optionally overridden by IIS's own attribute
names as a city's web.config sets them: "iis:maxQueryString=8192,maxUrl=8192,maxAllowedContentLength=50000000".
"""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

# IIS request filtering defaults (<requestLimits> in applicationHost.config).
IIS_DEFAULTS = {"maxUrl": 4096, "maxQueryString": 2048, "maxAllowedContentLength": 30_000_000}

# What IIS sends a remote client for every 404.x sub-status (errorMode DetailedLocalOnly, the default): the
# sub-status (404.13 content too large, 404.14 URL too long, 404.15 query string too long) is only in its log.
IIS_404_PAGE = (
    '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" "http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n'
    '<html xmlns="http://www.w3.org/1999/xhtml">\r\n<head>\r\n'
    '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>\r\n'
    "<title>404 - File or directory not found.</title>\r\n</head>\r\n<body>\r\n"
    '<div id="header"><h1>Server Error</h1></div>\r\n<div id="content">\r\n'
    ' <div class="content-container"><fieldset>\r\n  <h2>404 - File or directory not found.</h2>\r\n'
    "  <h3>The resource you are looking for might have been removed, had its name changed, or is temporarily "
    "unavailable.</h3>\r\n </fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n"
)
SUB_STATUS = {"maxAllowedContentLength": "404.13", "maxUrl": "404.14", "maxQueryString": "404.15"}


@dataclass(frozen=True, slots=True)
class FrontDoor:
    server: str
    max_url: int
    max_query_string: int
    max_content_length: int

    @classmethod
    def parse(cls, text: str) -> FrontDoor | None:
        """None for "none"; ValueError, naming what is wrong, for anything not understood."""
        server, _, overrides = text.strip().partition(":")
        if server == "none" and not overrides:
            return None
        if server != "iis":
            raise ValueError(f"front door must be none or iis[:name=value,...], got {text!r}")
        limits = dict(IIS_DEFAULTS)
        for item in filter(None, (part.strip() for part in overrides.split(","))):
            name, sep, value = item.partition("=")
            if not sep or name not in limits or not value.isdigit() or int(value) < 1:
                raise ValueError(
                    f"front door setting {item!r} not understood: use name=bytes with a name among "
                    f"{', '.join(IIS_DEFAULTS)}"
                )
            limits[name] = int(value)
        return cls(server, limits["maxUrl"], limits["maxQueryString"], limits["maxAllowedContentLength"])

    def exceeded(self, request: web.Request) -> tuple[str, int, int] | None:
        """(IIS attribute, its limit, the request's size) of the first limit the request breaks."""
        url = request.rel_url
        checks = (
            ("maxUrl", self.max_url, len(url.raw_path)),
            ("maxQueryString", self.max_query_string, len(url.raw_query_string)),
            ("maxAllowedContentLength", self.max_content_length, request.content_length or 0),
        )
        return next(((name, limit, size) for name, limit, size in checks if size > limit), None)

    def refusal(self) -> web.Response:
        return web.Response(
            status=404, text=IIS_404_PAGE, content_type="text/html", headers={"Server": "Microsoft-IIS/10.0"}
        )

    def describe(self) -> dict[str, int | str]:
        return {
            "server": self.server,
            "maxUrl": self.max_url,
            "maxQueryString": self.max_query_string,
            "maxAllowedContentLength": self.max_content_length,
        }
