"""The web server in front of a vendor's API, as the simulators answer for it.

A simulator's `front_door` setting is a declaration in contracts/front_door.py's grammar ("none", "iis",
"iis:maxQueryString=8192,..."). A call over a limit gets the server's own page before anything else runs.
"""

from __future__ import annotations

from aiohttp import web

from contracts.front_door import SUB_STATUS, Limits, parse

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


def door(setting: str) -> Limits | None:
    """The limits a simulator enforces, None for no front door; ValueError for a setting not understood."""
    limits = parse(setting)
    return None if limits.server == "none" else limits


def exceeded(limits: Limits, request: web.Request) -> tuple[str, int, int] | None:
    """(IIS's name for the limit, the limit, the call's size) of the first limit the call is over."""
    url = request.rel_url
    over = limits.exceeded(len(url.raw_path), len(url.raw_query_string), request.content_length or 0)
    return over[0] if over else None


def refusal() -> web.Response:
    """IIS's answer to a call over a limit, as a remote client sees it."""
    return web.Response(
        status=404, text=IIS_404_PAGE, content_type="text/html", headers={"Server": "Microsoft-IIS/10.0"}
    )


__all__ = ["IIS_404_PAGE", "SUB_STATUS", "door", "exceeded", "refusal"]
