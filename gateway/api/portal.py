"""The citizens' side of the portal (`/portal/v1`, JSON; `/portal/...` HTML pages): sign-up and sign-in
(bearer tokens; a cookie for the pages), the citizen's address from the city's address setup, the dashboard
of published widgets (WID-5, WID-16), each widget's dashboard and expanded views (WID-2, WID-10..13), account
linking through the city API (WID-14), subscriptions and notifications (WID-15). A citizen only ever reaches
the city as their per-widget pseudonym, so a city can only show them the accounts they linked."""

from __future__ import annotations

import asyncio
import functools
import re
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from ..appkeys import ENGINE, SETTINGS
from ..connectors.city_widget import Unreachable
from ..connectors.guard import Refused
from ..domain import DomainError
from ..domain import citizens as rules
from ..portal import city, render, store, views
from ..storage import repo
from ..storage import schema as t
from .admin import AdminError, body, error_response, key

PREFIX = "/portal/v1"
COOKIE = "civic_portal"
VIEWS = ("dashboard", "expanded")
STATE_TTL = timedelta(minutes=10)
MAX_ID = 2**31 - 1
LINK_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # the city contract's LinkId


def citizen_out(c: dict[str, Any], address: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "id": c["id"],
        "email": c["email"],
        "name": c["name"],
        "address": {k: address[k] for k in ("id", "property_id", "line")} if address else None,
    }


def _errors(fn: Callable[..., Any]) -> Callable[..., Any]:
    """Refusals as JSON in the admin API's shape, never a stack trace."""

    @functools.wraps(fn)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request)
        except AdminError as err:
            return error_response(err.status, err.code, err.message, err.field)
        except DomainError as err:
            return error_response(422, err.code, err.message, err.field)

    return wrapped


def public(fn: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    return _errors(fn)


def citizen_only(fn: Callable[[web.Request, dict[str, Any]], Any]) -> Callable[[web.Request], Any]:
    """A handler for a signed-in citizen, who is passed to it."""

    async def with_citizen(request: web.Request) -> web.StreamResponse:
        return await fn(request, await signed_in(request))

    return _errors(functools.wraps(fn)(with_citizen))


async def signed_in(request: web.Request) -> dict[str, Any]:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else request.cookies.get(COOKIE, "")
    if token:
        async with request.app[ENGINE].connect() as conn:
            found = await repo.one(conn, t.citizens.select().where(t.citizens.c.token_hash == rules.token_hash(token)))
        if found is not None:
            return found
    raise AdminError(401, "unauthorized", "sign in first (a bearer token from POST /portal/v1/sessions)")


async def visible_widget(request: web.Request, citizen: dict[str, Any]) -> dict[str, Any]:
    """A published widget (WID-16: an unpublished one does not exist for citizens)."""
    async with request.app[ENGINE].connect() as conn:
        found = await repo.one(
            conn,
            t.widgets.select().where(t.widgets.c.id == key(request, what="widget"), t.widgets.c.published.is_(True)),
        )
    if found is None:
        raise AdminError(404, "not_found", "no such widget")
    return found


def view_of(request: web.Request) -> str:
    view = request.query.get("view", "dashboard")
    if view not in VIEWS:
        raise AdminError(400, "invalid", "view is dashboard or expanded", "view")
    return view


# -- sign-up, sign-in, the citizen's address -------------------------------------------------------------


async def _token_for(engine: Any, citizen_id: int) -> str:
    token, hashed = rules.new_token()
    async with engine.begin() as conn:
        await repo.update(conn, t.citizens, citizen_id, {"token_hash": hashed})
    return token


@public
async def sign_up(request: web.Request) -> web.Response:
    values = await body(request, "SignUp")
    email = rules.email(values["email"])
    loop = asyncio.get_running_loop()
    hashed = await loop.run_in_executor(None, rules.hash_password, values["password"])
    try:
        async with request.app[ENGINE].begin() as conn:
            created = await repo.insert(
                conn,
                t.citizens,
                {"email": email, "name": values.get("name"), "password_hash": hashed, "created_at": repo.now()},
            )
    except IntegrityError:
        raise AdminError(409, "conflict", "that e-mail address has an account; sign in") from None
    token = await _token_for(request.app[ENGINE], created["id"])
    return web.json_response({"token": token, "citizen": citizen_out(created)}, status=201)


async def _sign_in(request: web.Request, email: str, password: str) -> tuple[str, dict[str, Any]]:
    async with request.app[ENGINE].connect() as conn:
        found = await repo.one(conn, t.citizens.select().where(t.citizens.c.email == email.strip().lower()))
    loop = asyncio.get_running_loop()
    stored = found["password_hash"] if found else rules.dummy_hash()  # the same work whether or not it exists
    matches = await loop.run_in_executor(None, rules.password_matches, password, stored)
    if found is None or not matches:
        raise AdminError(401, "unauthorized", "that e-mail address and password do not match")
    return await _token_for(request.app[ENGINE], found["id"]), found


@public
async def sign_in(request: web.Request) -> web.Response:
    values = await body(request, "SignIn")
    token, found = await _sign_in(request, values["email"], values["password"])
    return web.json_response({"token": token, "citizen": citizen_out(found)})


async def _me(request: web.Request, citizen: dict[str, Any]) -> dict[str, Any]:
    async with request.app[ENGINE].connect() as conn:
        address = None
        if citizen["address_id"] is not None:
            address = await repo.one(conn, t.addresses.select().where(t.addresses.c.id == citizen["address_id"]))
    return citizen_out(citizen, address)


@citizen_only
async def get_me(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    return web.json_response(await _me(request, citizen))


@citizen_only
async def update_me(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    values = await body(request, "CitizenPatch")
    changes: dict[str, Any] = {}
    if "name" in values:
        changes["name"] = values["name"]
    async with request.app[ENGINE].begin() as conn:
        if "property_id" in values:
            if values["property_id"] is None:
                changes["address_id"] = None
            else:
                address = await repo.one(
                    conn, t.addresses.select().where(t.addresses.c.property_id == str(values["property_id"]))
                )
                if address is None:
                    raise AdminError(422, "invalid", "choose an address of the city's address setup", "property_id")
                changes["address_id"] = address["id"]
        updated = await repo.update(conn, t.citizens, citizen["id"], changes) or citizen
    return web.json_response(await _me(request, updated))


@citizen_only
async def find_addresses(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    words = request.query.get("q", "").strip()[:100]
    a = t.addresses
    query = a.select().order_by(a.c.line).limit(20)
    if words:
        query = query.where(a.c.line.ilike(f"%{words.replace('%', '').replace('_', '').replace(chr(0), '')}%"))
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(conn, query)
    return web.json_response({"items": [{k: x[k] for k in ("id", "property_id", "line")} for x in found]})


# -- the dashboard and its widgets -------------------------------------------------------------------


@citizen_only
async def get_dashboard(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    return web.json_response({"widgets": await views.dashboard(request.app, citizen, view_of(request))})


@citizen_only
async def get_widget(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await visible_widget(request, citizen)
    async with request.app[ENGINE].connect() as conn:
        property_id = await views.citizen_property(conn, citizen)
    return web.json_response(await views.widget_view(request.app, widget, citizen, view_of(request), property_id))


@citizen_only
async def remove_from_dashboard(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await visible_widget(request, citizen)
    if widget["fixed"]:  # WID-5
        raise AdminError(409, "fixed_widget", "a fixed widget stays on every dashboard")
    async with request.app[ENGINE].begin() as conn:
        rm = t.dashboard_removals
        await conn.execute(rm.delete().where(rm.c.citizen_id == citizen["id"], rm.c.widget_id == widget["id"]))
        await conn.execute(rm.insert().values(citizen_id=citizen["id"], widget_id=widget["id"]))
    return web.Response(status=204)


@citizen_only
async def add_to_dashboard(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await visible_widget(request, citizen)
    async with request.app[ENGINE].begin() as conn:
        rm = t.dashboard_removals
        await conn.execute(rm.delete().where(rm.c.citizen_id == citizen["id"], rm.c.widget_id == widget["id"]))
    return web.Response(status=204)


# -- account linking (WID-14) ------------------------------------------------------------------------


async def _city_call(request: web.Request, widget: dict[str, Any], method: str, path: str, **kwargs: Any) -> Any:
    """A call to the widget's city API; its refusals keep their code, its failures become 502."""
    try:
        reply = await city.client(request.app, widget).call(method, path, **kwargs)
    except (Refused, Unreachable):
        raise AdminError(502, "city_unavailable", "the city's service cannot be reached") from None
    if reply.status >= 500 or reply.status == 401:
        raise AdminError(502, "city_unavailable", f"the city's service answered {reply.status}")
    if reply.status >= 400:
        code = reply.error_code() or "invalid"
        message = (reply.body or {}).get("error", {}).get("message", "refused") if isinstance(reply.body, dict) else ""
        raise AdminError(422 if reply.status in (400, 422) else reply.status, code, str(message)[:300])
    return reply


async def _user(request: web.Request, widget: dict[str, Any], citizen: dict[str, Any]) -> str:
    return store.pseudonym(await store.user_key(request.app[ENGINE]), widget["id"], citizen["id"])


async def _linking_widget(request: web.Request, citizen: dict[str, Any], kind: str | None = None) -> dict:
    widget = await visible_widget(request, citizen)
    if widget["link_account_id"] is None:
        raise AdminError(404, "not_found", "this widget does not link accounts")
    if kind is not None:
        async with request.app[ENGINE].connect() as conn:
            found = await conn.scalar(
                sa.select(t.link_accounts.c.kind).where(t.link_accounts.c.id == widget["link_account_id"])
            )
        if found != kind:
            raise AdminError(409, "wrong_link_kind", f"this widget links accounts by {found} linking")
    return widget


@citizen_only
async def list_links(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await _linking_widget(request, citizen)
    reply = await _city_call(request, widget, "GET", "/v1/links", query={"user": await _user(request, widget, citizen)})
    return web.json_response({"links": (reply.body or {}).get("links", [])})


@citizen_only
async def create_link(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await _linking_widget(request, citizen, "account")
    values = await body(request, "AccountLinkInput")
    payload = {
        "user": await _user(request, widget, citizen),
        "account_number": values["account_number"],
        "verification": values["verification"],
    }
    reply = await _city_call(request, widget, "POST", "/v1/links", body=payload)
    return web.json_response(reply.body, status=reply.status)


@citizen_only
async def delete_link(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await _linking_widget(request, citizen)
    link_id = request.match_info["link_id"]
    if not LINK_ID.fullmatch(link_id):
        raise AdminError(404, "not_linked", "no such link")
    user = await _user(request, widget, citizen)
    await _city_call(request, widget, "DELETE", f"/v1/links/{link_id}", query={"user": user})
    return web.Response(status=204)


@citizen_only
async def start_external_link(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await _linking_widget(request, citizen, "external")
    state = secrets.token_urlsafe(24)
    async with request.app[ENGINE].begin() as conn:
        await conn.execute(
            t.link_states.insert().values(
                state=state, citizen_id=citizen["id"], widget_id=widget["id"], created_at=repo.now()
            )
        )
    base = request.app[SETTINGS].public_url or f"{request.scheme}://{request.host}"
    payload = {
        "user": await _user(request, widget, citizen),
        "return_url": f"{base}/portal/link-return",
        "state": state,
    }
    reply = await _city_call(request, widget, "POST", "/v1/external-links", body=payload)
    return web.json_response({"authorize_url": (reply.body or {}).get("authorize_url")}, status=201)


async def link_return(request: web.Request) -> web.StreamResponse:
    """Where the city's sign-in page sends the browser back: the state names the citizen (one use, 10 min)."""
    state, code = request.query.get("state", ""), request.query.get("code", "")
    async with request.app[ENGINE].begin() as conn:
        ls = t.link_states
        found = await repo.one(conn, ls.select().where(ls.c.state == state)) if state and state.isprintable() else None
        if found is not None:
            await conn.execute(ls.delete().where(ls.c.state == state))
    if found is None or repo.aware(found["created_at"]) + STATE_TTL < repo.now() or not code:
        return _page_message("That link did not work", "The sign-in took too long or was already used. Try again.", 400)
    async with request.app[ENGINE].connect() as conn:
        widget = await repo.one(conn, t.widgets.select().where(t.widgets.c.id == found["widget_id"]))
    if widget is None:
        return _page_message("That link did not work", "The widget is gone.", 404)
    user = store.pseudonym(await store.user_key(request.app[ENGINE]), widget["id"], found["citizen_id"])
    try:
        await _city_call(request, widget, "POST", "/v1/external-links/complete", body={"user": user, "code": code})
    except AdminError as err:
        return _page_message("The account was not linked", err.message, 400)
    raise web.HTTPSeeOther(f"/portal/dashboard?{urlencode({'linked': widget['id']})}")


# -- subscriptions and notifications (WID-15) -------------------------------------------------------------


@citizen_only
async def subscribe(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await visible_widget(request, citizen)
    if not widget["notifications"]:
        raise AdminError(409, "notifications_off", "this widget does not send notifications")
    s = t.subscriptions
    async with request.app[ENGINE].begin() as conn:
        exists = await conn.scalar(
            sa.select(s.c.widget_id).where(s.c.citizen_id == citizen["id"], s.c.widget_id == widget["id"])
        )
        if exists is None:
            await conn.execute(s.insert().values(citizen_id=citizen["id"], widget_id=widget["id"]))
    return web.Response(status=204)


@citizen_only
async def unsubscribe(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget_id = key(request, what="widget")
    s = t.subscriptions
    async with request.app[ENGINE].begin() as conn:
        await conn.execute(s.delete().where(s.c.citizen_id == citizen["id"], s.c.widget_id == widget_id))
    return web.Response(status=204)


@citizen_only
async def list_notifications(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    n = t.notifications
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(
            conn, n.select().where(n.c.citizen_id == citizen["id"]).order_by(n.c.id.desc()).limit(100)
        )
    return web.json_response(
        {
            "items": [
                {
                    "id": x["id"],
                    "widget_id": x["widget_id"],
                    "message": x["message"],
                    "created_at": repo.aware(x["created_at"]).isoformat(),
                }
                for x in found
            ]
        }
    )


# -- the pages ------------------------------------------------------------------------------------


def _page_message(title: str, text: str, status: int) -> web.Response:
    html = render.TEMPLATES.get_template("message.html").render(title=title, text=text)
    return web.Response(
        text=html, content_type="text/html", status=status, headers={"Content-Security-Policy": render.CSP}
    )


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    if request.method == "POST":
        form = await request.post()
        try:
            token, _ = await _sign_in(request, str(form.get("email", "")), str(form.get("password", "")))
        except AdminError:
            html = render.TEMPLATES.get_template("sign_in.html").render(
                error="That e-mail address and password do not match."
            )
            return web.Response(text=html, content_type="text/html", status=401)
        response = web.HTTPSeeOther("/portal/dashboard")
        response.set_cookie(COOKIE, token, httponly=True, samesite="Lax", secure=request.secure, path="/portal")
        raise response
    html = render.TEMPLATES.get_template("sign_in.html").render(error=None)
    return web.Response(text=html, content_type="text/html", headers={"Content-Security-Policy": render.CSP})


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    try:
        citizen = await signed_in(request)
    except AdminError:
        raise web.HTTPSeeOther("/portal/sign-in") from None
    view = request.query.get("view", "dashboard")
    if view not in VIEWS:
        view = "dashboard"
    cards = await views.dashboard(request.app, citizen, view)
    me = await _me(request, citizen)
    html = render.html_page(
        "Your dashboard", cards, citizen=me["name"] or me["email"], address=(me["address"] or {}).get("line")
    )
    return web.Response(text=html, content_type="text/html", headers={"Content-Security-Policy": render.CSP})


def setup(app: web.Application) -> None:
    r = app.router
    r.add_post(f"{PREFIX}/citizens", sign_up)
    r.add_post(f"{PREFIX}/sessions", sign_in)
    r.add_get(f"{PREFIX}/me", get_me)
    r.add_patch(f"{PREFIX}/me", update_me)
    r.add_get(f"{PREFIX}/addresses", find_addresses)
    r.add_get(f"{PREFIX}/dashboard", get_dashboard)
    r.add_get(f"{PREFIX}/widgets/{{id}}", get_widget)
    r.add_delete(f"{PREFIX}/dashboard/widgets/{{id}}", remove_from_dashboard)
    r.add_put(f"{PREFIX}/dashboard/widgets/{{id}}", add_to_dashboard)
    r.add_get(f"{PREFIX}/widgets/{{id}}/links", list_links)
    r.add_post(f"{PREFIX}/widgets/{{id}}/links", create_link)
    r.add_delete(f"{PREFIX}/widgets/{{id}}/links/{{link_id}}", delete_link)
    r.add_post(f"{PREFIX}/widgets/{{id}}/external-links", start_external_link)
    r.add_put(f"{PREFIX}/widgets/{{id}}/subscription", subscribe)
    r.add_delete(f"{PREFIX}/widgets/{{id}}/subscription", unsubscribe)
    r.add_get(f"{PREFIX}/notifications", list_notifications)
    r.add_get("/portal/link-return", link_return)
    r.add_route("*", "/portal/sign-in", sign_in_page)
    r.add_get("/portal/dashboard", dashboard_page)
