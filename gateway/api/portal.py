"""The citizens' side of the portal (`/portal/v1`, JSON; `/portal/...` HTML pages): sign-up and sign-in
(bearer tokens; a cookie for the pages), the citizen's address from the city's address setup, the dashboard
of published widgets (WID-5, WID-16), each widget's dashboard and expanded views (WID-2, WID-10..13), account
linking through the city API (WID-14), subscriptions and notifications (WID-15). A citizen only ever reaches
the city as their per-widget pseudonym, so a city can only show them the accounts they linked."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import re
import secrets
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from ..appkeys import ENGINE, SETTINGS, SIGN_IN
from ..connectors.city_widget import Unreachable
from ..connectors.guard import Refused
from ..domain import DomainError, throttle
from ..domain import citizens as rules
from ..portal import auth, city, mail, render, store, views
from ..storage import repo
from ..storage import schema as t
from .jsonapi import ApiError, body, error_response, key, view_of

PREFIX = "/portal/v1"
COOKIE = "civic_portal"
STATE_TTL = timedelta(minutes=10)
CONFIRM_TTL = timedelta(hours=24)  # a sign-up's confirmation code
SESSION_MAX_AGE_S = 30 * 24 * 3600
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
    """Refusals as JSON in the APIs' shape (jsonapi.py), never a stack trace."""

    @functools.wraps(fn)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            return await fn(request)
        except Throttled as err:
            if err.hold:
                await request.app[SIGN_IN].hold_back(err.wait)
            answer = error_response(err.status, err.code, err.message, err.field)
            answer.headers["Retry-After"] = err.retry_after
            return answer
        except ApiError as err:
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


async def signed_in(request: web.Request, cookie: bool = False) -> dict[str, Any]:
    """The citizen of the bearer token; the session cookie counts only for the HTML pages (`cookie`), so the
    JSON API, which a browser never sends a bearer token to on its own, cannot be driven by a forged request."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("bearer "):
        token = header[7:].strip()
    else:
        token = request.cookies.get(COOKIE, "") if cookie else ""
    if token:
        async with request.app[ENGINE].connect() as conn:
            found = await repo.one(conn, t.citizens.select().where(t.citizens.c.token_hash == rules.token_hash(token)))
        if found is not None:
            return found
    raise ApiError(401, "unauthorized", "sign in first (a bearer token from POST /portal/v1/sessions)")


async def visible_widget(request: web.Request, citizen: dict[str, Any]) -> dict[str, Any]:
    """A published widget (WID-16: an unpublished one does not exist for citizens)."""
    async with request.app[ENGINE].connect() as conn:
        found = await repo.one(
            conn,
            t.widgets.select().where(t.widgets.c.id == key(request, what="widget"), t.widgets.c.published.is_(True)),
        )
    if found is None:
        raise ApiError(404, "not_found", "no such widget")
    return found


# -- sign-up, sign-in, the citizen's address -------------------------------------------------------------


async def _token_for(engine: Any, citizen_id: int) -> str:
    token, hashed = rules.new_token()
    async with engine.begin() as conn:
        await repo.update(conn, t.citizens, citizen_id, {"token_hash": hashed})
    return token


class Throttled(ApiError):
    """429 (too many failures) or 503 (too many hashes waiting), with the seconds to wait; answered after a
    delay (sign_in_refusal_delay_s) unless the request waited already."""

    def __init__(self, status: int, code: str, message: str, wait: float, hold: bool = True) -> None:
        super().__init__(status, code, message)
        self.wait, self.hold = wait, hold
        self.retry_after = throttle.retry_after(wait)


async def _hashed(request: web.Request, fn: Callable[..., Any], *args: Any, first: bool = False) -> Any:
    """A password hash in the executor, inside the bound (H-AUTH-1): its slot is held until the hash really
    ended, even when the client went away, so the count of hashes in flight is the truth. `first`: the client
    has no failure counted against it, and goes before those that have."""
    loop = asyncio.get_running_loop()
    try:
        async with request.app[SIGN_IN].hashing.slot(first):
            running = loop.run_in_executor(None, fn, *args)
            try:
                return await asyncio.shield(running)
            except asyncio.CancelledError:
                await asyncio.wait([running])
                raise
    except throttle.Busy as busy:
        raise Throttled(503, "busy", "too many sign-ins at once; try again in a moment", 1, not busy.waited) from None


@contextlib.contextmanager
def _client_turn(request: web.Request) -> Iterator[None]:
    """One of the few sign-ins and sign-ups a client address may have under way (sign_in_client_at_once)."""
    guard = request.app[SIGN_IN]
    with guard.in_progress.held(guard.client(request)) as allowed:
        if not allowed:
            raise Throttled(429, "too_many_attempts", "this address has sign-ins under way; try again shortly", 1)
        yield


@public
async def sign_up(request: web.Request) -> web.Response:
    """H-AUTH-3: the same answer whether or not the address has an account. The address gets a mail: a code
    to confirm it (POST /citizens/confirm makes the account), or a notice that it has an account already."""
    values = await body(request, "SignUp")
    email = rules.email(values["email"])
    rules.check_password(values["password"])
    with _client_turn(request):  # the same work either way
        first = request.app[SIGN_IN].first_in_line(request)
        hashed = await _hashed(request, rules.hash_password, values["password"], first=first)
    mails = request.app[SIGN_IN].mails
    async with request.app[ENGINE].begin() as conn:
        await conn.execute(t.sign_ups.delete().where(t.sign_ups.c.created_at < repo.now() - CONFIRM_TTL))
        exists = await conn.scalar(sa.select(t.citizens.c.id).where(t.citizens.c.email == email))
        if mails.wait(email) == 0:  # past the limit: no more mail to that address for a while (no mail bombs)
            mails.add(email)
            if exists is None:
                code, code_hash = rules.new_code()
                await conn.execute(
                    t.sign_ups.insert().values(
                        code_hash=code_hash,
                        email=email,
                        name=values.get("name"),
                        password_hash=hashed,
                        created_at=repo.now(),
                    )
                )
                subject, text = mail.confirm_sign_up(code)
            else:
                subject, text = mail.account_exists()
            await conn.execute(
                t.mail.insert().values(to_address=email, subject=subject, body=text, created_at=repo.now())
            )
    return web.json_response({"email": email, "message": mail.SIGN_UP_ANSWER}, status=202)


@public
async def confirm_sign_up(request: web.Request) -> web.Response:
    """The code from the sign-up mail: the account is made and signed in (what sign-up answered before)."""
    values = await body(request, "SignUpConfirm")
    wrong = ApiError(422, "invalid_code", "that code is unknown, used or expired; sign up again", "code")
    su = t.sign_ups
    async with request.app[ENGINE].begin() as conn:
        pending = await repo.one(conn, su.select().where(su.c.code_hash == rules.token_hash(values["code"])))
        if pending is None or repo.aware(pending["created_at"]) + CONFIRM_TTL < repo.now():
            raise wrong
        await conn.execute(su.delete().where(su.c.email == pending["email"]))
    try:
        async with request.app[ENGINE].begin() as conn:
            created = await repo.insert(
                conn,
                t.citizens,
                {
                    "email": pending["email"],
                    "name": pending["name"],
                    "password_hash": pending["password_hash"],
                    "created_at": repo.now(),
                },
            )
    except IntegrityError:  # confirmed twice at once: only the holder of the mailbox can learn this
        raise ApiError(409, "conflict", "that e-mail address has an account; sign in") from None
    token = await _token_for(request.app[ENGINE], created["id"])
    return web.json_response({"token": token, "citizen": citizen_out(created)}, status=201)


async def _sign_in(request: web.Request, email: str, password: str) -> tuple[str, dict[str, Any]]:
    """H-AUTH-1: a client or an account over its failure limit is refused before any hashing; an attempt is
    counted as a failure before its hash (so attempts at once cannot pass the limit together) and forgiven
    when it succeeds. A browser with the account's device cookie is held by its client's limit only."""
    guard = request.app[SIGN_IN]
    address, client = email.strip().lower(), guard.client(request)
    wait = guard.clients.wait(client)
    known_device = await guard.known_device(request, address)
    if not wait and not known_device:
        wait = guard.accounts.wait(address)
    if wait:
        raise Throttled(429, "too_many_attempts", "too many failed sign-ins; try again later", wait)
    with _client_turn(request):
        return await _check_password(request, address, client, password)


async def _check_password(request: web.Request, address: str, client: str, password: str) -> tuple[str, dict]:
    guard = request.app[SIGN_IN]
    first = guard.clients.count(client) == 0
    client_stamp = guard.clients.add(client)
    account_stamp = guard.accounts.add(address)
    async with request.app[ENGINE].connect() as conn:
        found = await repo.one(conn, t.citizens.select().where(t.citizens.c.email == address))
    try:  # the same work whether or not the address has an account
        stored = found["password_hash"] if found else await _hashed(request, rules.dummy_hash, first=first)
        matches = await _hashed(request, rules.password_matches, password, stored, first=first)
    except Throttled:  # not tried: not a failure
        guard.clients.forgive(client, client_stamp)
        guard.accounts.forgive(address, account_stamp)
        raise
    if found is None or not matches:
        # answered late, and still counted as under way for its client meanwhile: a guessing loop from one
        # address keeps the hashing busy a fraction of the time, not all of it
        await guard.hold_back(guard.refusal_delay_s)
        raise ApiError(401, "unauthorized", "that e-mail address and password do not match")
    guard.clients.forgive(client, client_stamp)
    guard.accounts.forgive(address, account_stamp)
    if rules.needs_rehash(stored):  # made at an older cost: re-hashed now that the password is known
        rehashed = await _hashed(request, rules.hash_password, password, first=True)
        async with request.app[ENGINE].begin() as conn:
            await repo.update(conn, t.citizens, found["id"], {"password_hash": rehashed})
    return await _token_for(request.app[ENGINE], found["id"]), found


@public
async def sign_in(request: web.Request) -> web.Response:
    guard = request.app[SIGN_IN]
    wait = guard.clients.wait(guard.client(request))
    if wait:  # before the body is read: a refused flood costs as little as it can
        raise Throttled(429, "too_many_attempts", "too many failed sign-ins; try again later", wait)
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
                    raise ApiError(422, "invalid", "choose an address of the city's address setup", "property_id")
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
        raise ApiError(409, "fixed_widget", "a fixed widget stays on every dashboard")
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
        raise ApiError(502, "city_unavailable", "the city's service cannot be reached") from None
    if reply.status >= 500 or reply.status == 401:
        raise ApiError(502, "city_unavailable", f"the city's service answered {reply.status}")
    if reply.status >= 400:
        code = reply.error_code() or "invalid"
        message = (reply.body or {}).get("error", {}).get("message", "refused") if isinstance(reply.body, dict) else ""
        raise ApiError(422 if reply.status in (400, 422) else reply.status, code, str(message)[:300])
    return reply


async def _user(request: web.Request, widget: dict[str, Any], citizen: dict[str, Any]) -> str:
    return store.pseudonym(await store.user_key(request.app[ENGINE]), widget["id"], citizen["id"])


async def _linking_widget(request: web.Request, citizen: dict[str, Any], kind: str | None = None) -> dict:
    widget = await visible_widget(request, citizen)
    if widget["link_account_id"] is None:
        raise ApiError(404, "not_found", "this widget does not link accounts")
    if kind is not None:
        async with request.app[ENGINE].connect() as conn:
            found = await conn.scalar(
                sa.select(t.link_accounts.c.kind).where(t.link_accounts.c.id == widget["link_account_id"])
            )
        if found != kind:
            raise ApiError(409, "wrong_link_kind", f"this widget links accounts by {found} linking")
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
        raise ApiError(404, "not_linked", "no such link")
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
    except ApiError as err:
        return _page_message("The account was not linked", err.message, 400)
    raise web.HTTPSeeOther(f"/portal/dashboard?{urlencode({'linked': widget['id']})}")


# -- subscriptions and notifications (WID-15) -------------------------------------------------------------


@citizen_only
async def subscribe(request: web.Request, citizen: dict[str, Any]) -> web.Response:
    widget = await visible_widget(request, citizen)
    if not widget["notifications"]:
        raise ApiError(409, "notifications_off", "this widget does not send notifications")
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


def _page_message(
    title: str, text: str, status: int, headers: dict[str, str] | None = None, back: bool = True
) -> web.Response:
    html = render.TEMPLATES.get_template("message.html").render(title=title, text=text, back=back)
    return web.Response(
        text=html,
        content_type="text/html",
        status=status,
        headers={"Content-Security-Policy": render.CSP, **(headers or {})},
    )


async def _sign_in_form(request: web.Request, error: str | None, status: int = 200, email: str = "") -> web.Response:
    """The form; after a failed try it says why and keeps the e-mail address typed (never the password)."""
    response = web.Response(content_type="text/html", status=status, headers={"Content-Security-Policy": render.CSP})
    token = await request.app[SIGN_IN].form_token(request, response, "sign-in")
    response.text = render.TEMPLATES.get_template("sign_in.html").render(error=error, csrf=token, email=email[:320])
    return response


def _https(request: web.Request) -> bool:
    return request.secure or (request.app[SETTINGS].public_url or "").lower().startswith("https:")


async def sign_in_page(request: web.Request) -> web.StreamResponse:
    """The sign-in form (H-AUTH-2): a post from another origin, or without the form's token, is refused with
    403 before any sign-in is tried and sets no cookie."""
    if request.method != "POST":
        return await _sign_in_form(request, None)
    guard = request.app[SIGN_IN]
    if guard.cross_origin(request):
        return _page_message("Not signed in", "This sign-in form was sent from another site.", 403, back=False)
    form = await request.post()
    if not await guard.form_token_ok(request, "sign-in", str(form.get("csrf", ""))):
        return _page_message(
            "Not signed in", "The sign-in form expired. Open the sign-in page again and retry.", 403, back=False
        )
    email = str(form.get("email", ""))
    try:
        token, found = await _sign_in(request, email, str(form.get("password", "")))
    except Throttled as err:
        if err.hold:
            await guard.hold_back(err.wait)
        text = (
            "Too many sign-ins failed. Wait a little, then try again."
            if err.status == 429
            else "Too many people are signing in right now. Try again in a moment."
        )
        return _page_message("Not signed in", text, err.status, {"Retry-After": err.retry_after}, back=False)
    except ApiError:
        return await _sign_in_form(request, "That e-mail address and password do not match.", 401, email)
    response = web.HTTPSeeOther("/portal/dashboard")
    secure = _https(request)
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Lax", secure=secure, path="/portal", max_age=SESSION_MAX_AGE_S
    )
    response.set_cookie(
        auth.DEVICE_COOKIE,
        await guard.device_cookie(request, found["email"]),
        httponly=True,
        samesite="Lax",
        secure=secure,
        path="/portal/sign-in",
        max_age=auth.DEVICE_TTL_S,
    )
    raise response


async def sign_out_page(request: web.Request) -> web.StreamResponse:
    """The dashboard's "Sign out" (a form with its CSRF token, like sign-in): the session's token stops
    working on the server, the cookie is dropped, and the browser goes to the sign-in page."""
    guard = request.app[SIGN_IN]
    if guard.cross_origin(request):
        return _page_message("Not signed out", "This sign-out form was sent from another site.", 403)
    form = await request.post()
    if not await guard.form_token_ok(request, "sign-out", str(form.get("csrf", ""))):
        return _page_message("Not signed out", "The sign-out form expired. Open your dashboard and retry.", 403)
    token = request.cookies.get(COOKIE, "")
    if token:
        async with request.app[ENGINE].begin() as conn:
            await conn.execute(
                t.citizens.update().where(t.citizens.c.token_hash == rules.token_hash(token)).values(token_hash=None)
            )
    response = web.HTTPSeeOther("/portal/sign-in")
    response.del_cookie(COOKIE, path="/portal")
    raise response


def _expand(request: web.Request) -> int | None:
    """?expand=<widget id>: the one widget the page shows expanded."""
    raw = request.query.get("expand", "")
    return int(raw) if raw.isdigit() and 0 < int(raw) <= MAX_ID else None


async def dashboard_page(request: web.Request) -> web.StreamResponse:
    """The citizen's dashboard: every widget in its dashboard view, at most one (`?expand=`) expanded."""
    try:
        citizen = await signed_in(request, cookie=True)
    except ApiError:
        raise web.HTTPSeeOther("/portal/sign-in") from None
    expand = _expand(request)
    cards = await views.dashboard(request.app, citizen, "dashboard", expand)
    if expand is not None:
        raw = request.query.get("page", "")
        page = int(raw) if raw.isdigit() and len(raw) < 7 else 1
        cards = [render.paged(card, page) for card in cards]
    me = await _me(request, citizen)
    response = web.Response(content_type="text/html", headers={"Content-Security-Policy": render.CSP})
    sign_out = await request.app[SIGN_IN].form_token(request, response, "sign-out")
    response.text = render.html_page(
        "Your dashboard",
        cards,
        citizen=me["name"] or me["email"],
        address=(me["address"] or {}).get("line"),
        sign_out=sign_out,
        links=True,
    )
    return response
