"""What a simulator answers for a call no route takes, as aiohttp's router would (404, or 405 with the
methods the path takes), in the right plane's format.

Two catch-all routes, registered by `create_app`: one for the control plane (`/_sim` and below), before the
vendor's routes so a vendor catch-all never sees a control path, answering in the control plane's JSON
error shape; one for everything else, after them, which the kit's pipeline runs like any vendor call
(journaled, then the vendor's 404/405 format).
"""

from __future__ import annotations

from aiohttp import web

from .control import control_error

CONTROL_PREFIX = "/_sim"
UNROUTED = "kit-unrouted"  # the names of the catch-alls start with this
# (name, path). Two routes for the control plane's, so the router files both under "/_sim": a pattern starting
# at the prefix would be filed under "/" and tried (and missed) before the vendor's route on every vendor call.
CONTROL_CATCH_ALLS = (
    (f"{UNROUTED}-control-root", CONTROL_PREFIX),
    (f"{UNROUTED}-control-below", CONTROL_PREFIX + r"/{tail:[\s\S]*}"),
)
VENDOR_CATCH_ALL = r"/{tail:[\s\S]*}"


def is_control(path: str) -> bool:
    return path == CONTROL_PREFIX or path.startswith(CONTROL_PREFIX + "/")


async def allowed_methods(request: web.Request, *, control: bool) -> set[str]:
    """The methods the routes of one plane take for this request's path (what a 405 lists)."""
    allowed: set[str] = set()
    for resource in request.app.router.resources():
        unrouted = (resource.name or "").startswith(UNROUTED)
        if not unrouted and is_control(resource.canonical) == control:
            allowed |= (await resource.resolve(request))[1]
    return allowed


async def control_no_route(request: web.Request) -> web.StreamResponse:
    allowed = await allowed_methods(request, control=True)
    if not allowed:
        return control_error(404, "not_found", f"no control route {request.path}")
    response = control_error(405, "method_not_allowed", f"{request.path} takes {', '.join(sorted(allowed))}")
    response.headers["Allow"] = ",".join(sorted(allowed))
    return response


async def vendor_no_route(request: web.Request) -> web.StreamResponse:
    """The vendor catch-all's handler, behind the kit like any vendor handler: raised as aiohttp's own
    errors, which the pipeline journals and answers in the vendor's format."""
    allowed = await allowed_methods(request, control=False)
    if allowed:
        raise web.HTTPMethodNotAllowed(request.method, allowed)
    raise web.HTTPNotFound()
