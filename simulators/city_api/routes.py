"""The city widget API on the wire: one widget per path prefix (`/{widget}/v1/...`), every call signed."""

from __future__ import annotations

import html
from typing import Any

from aiohttp import web

from contracts.widget_signing import HEADERS, NONCE, SignatureError, Verified, verify
from simulators.kit import CONFIG, Operation, backend
from simulators.kit.lenient import loads

from .config import CityApiConfig
from .content import WIDGETS, describe
from .dialect import WidgetError, answer
from .state import CityState, clock, now_iso

BROWSER_TAG = "simulator-browser"


def widget_of(request: web.Request) -> str:
    return request.path.split("/", 2)[1]


def guard(request: web.Request, op: Operation, body: bytes) -> web.StreamResponse | None:
    """Signature first, before the request is even read against the contract (as a real server would)."""
    config: CityApiConfig = request.app[CONFIG]  # type: ignore[assignment]
    widget = widget_of(request)
    if widget not in config.widgets:
        return WidgetError(404, "not_found", f"no widget {widget[:64]!r} here").response()
    if BROWSER_TAG in op.spec.get("tags", ()):
        return None
    defects = config.defects
    if "accept-unsigned" in defects and not any(h in request.headers for h in HEADERS):
        return None
    now = clock()
    try:
        verified = verify(
            request.headers,
            request.method,
            request.raw_path,
            body,
            {widget: config.secrets_for(widget)},
            now,
            10**12 if "no-timestamp-window" in defects else config.window_s,
        )
    except SignatureError as err:
        if not (err.code == "bad_signature" and "accept-bad-signature" in defects):
            return WidgetError(401, err.code, err.message).response()
        verified = Verified(widget, request.headers.get(NONCE, ""), 0)
    state: CityState = backend(request)
    if not state.nonces.remember(verified.key_id, verified.nonce, now) and "no-replay-check" not in defects:
        return WidgetError(401, "replayed_request", "this nonce was already used").response()
    return None


def _state(request: web.Request) -> tuple[CityState, str]:
    return backend(request), request.match_info["widget"]


async def _json(request: web.Request) -> dict[str, Any]:
    # The contract check has passed, so the body is a JSON object of the operation's shape.
    return loads(await request.read())


async def describe_widget(request: web.Request) -> web.Response:
    return answer(describe(request.match_info["widget"]))


async def get_content(request: web.Request) -> web.Response:
    state, widget = _state(request)
    try:
        value = state.content(widget, request.query["view"], request.query)
    except WidgetError as err:
        return err.response()
    etag = f'"{value["version"]}"'
    wanted = [t.strip() for t in request.headers.get("If-None-Match", "").split(",")]
    if etag in wanted or "*" in wanted:
        return web.Response(status=304, headers={"ETag": etag})
    return answer(value, headers={"ETag": etag, "Cache-Control": "private, no-cache"})


def _needs_linking(widget: str, kind: str) -> None:
    if not WIDGETS[widget]["linking"][kind]:
        raise WidgetError(404, "not_found", f"the {widget} widget does not link accounts this way")


async def list_links(request: web.Request) -> web.Response:
    state, widget = _state(request)
    return answer({"links": state.links_of(widget, request.query["user"])})


async def create_link(request: web.Request) -> web.Response:
    state, widget = _state(request)
    payload = await _json(request)
    try:
        _needs_linking(widget, "account")
        now = clock()
        account = state.check_account(payload["account_number"], payload["verification"], now)
        link, new = state.link(widget, payload["user"], account["number"], "account", now)
    except WidgetError as err:
        return err.response()
    return answer(link, 201 if new else 200)


async def delete_link(request: web.Request) -> web.Response:
    state, widget = _state(request)
    try:
        state.unlink(widget, request.query["user"], request.match_info["link_id"])
    except WidgetError as err:
        return err.response()
    return web.Response(status=204)


async def start_external(request: web.Request) -> web.Response:
    state, widget = _state(request)
    payload = await _json(request)
    try:
        _needs_linking(widget, "external")
        now = clock()
        session, expires = state.start_external(widget, payload["user"], payload["return_url"], payload["state"], now)
    except WidgetError as err:
        return err.response()
    url = request.url.origin().with_path(f"/{widget}/external/authorize").with_query(session=session)
    return answer({"authorize_url": str(url), "expires_at": now_iso(expires)}, 201)


async def complete_external(request: web.Request) -> web.Response:
    state, widget = _state(request)
    payload = await _json(request)
    try:
        _needs_linking(widget, "external")
        link, new = state.complete_external(widget, payload["user"], payload["code"], clock())
    except WidgetError as err:
        return err.response()
    return answer(link, 201 if new else 200)


SIGN_IN = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Sign in: {name}</title></head>
<body><h1>Harnessville: {name}</h1>{problem}
<form method="post" action="authorize">
<input type="hidden" name="session" value="{session}">
<label>{account_label} <input name="account_number" autocomplete="off" required></label>
<label>{verification_label} <input name="verification" type="password" autocomplete="off" required></label>
<button type="submit">Sign in and link</button>
</form><p>civic-harness simulator: this page stands in for the city's own sign-in.</p></body></html>"""


def _page(widget: str, session: str, problem: str = "", status: int = 200) -> web.Response:
    linking = WIDGETS[widget]["linking"]
    text = SIGN_IN.format(
        name=html.escape(WIDGETS[widget]["name"]),
        problem=f'<p role="alert">{html.escape(problem)}</p>' if problem else "",
        session=html.escape(session),
        account_label=html.escape(linking.get("account_label", "Account number")),
        verification_label=html.escape(linking.get("verification_label", "Verification")),
    )
    return web.Response(text=text, status=status, content_type="text/html")


def _gone() -> web.Response:
    return web.Response(
        text="<p>This sign-in link is unknown or has expired.</p>", status=404, content_type="text/html"
    )


async def sign_in_page(request: web.Request) -> web.Response:
    state, widget = _state(request)
    session = request.query["session"]
    if not WIDGETS[widget]["linking"]["external"] or state.session(widget, session, clock()) is None:
        return _gone()
    return _page(widget, session)


async def sign_in(request: web.Request) -> web.Response:
    state, widget = _state(request)
    form = await request.post()
    session = str(form["session"])
    if not WIDGETS[widget]["linking"]["external"] or state.session(widget, session, clock()) is None:
        return _gone()
    try:
        location = state.sign_in(widget, session, str(form["account_number"]), str(form["verification"]), clock())
    except WidgetError as err:
        return _page(widget, session, err.message)
    return web.Response(status=303, headers={"Location": location})


ROUTES = [
    web.get("/{widget}/v1/widget", describe_widget),
    web.get("/{widget}/v1/content", get_content),
    web.get("/{widget}/v1/links", list_links),
    web.post("/{widget}/v1/links", create_link),
    web.delete("/{widget}/v1/links/{link_id}", delete_link),
    web.post("/{widget}/v1/external-links", start_external),
    web.post("/{widget}/v1/external-links/complete", complete_external),
    web.get("/{widget}/external/authorize", sign_in_page),
    web.post("/{widget}/external/authorize", sign_in),
]
