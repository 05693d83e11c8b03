"""OpenGov EAM on the wire: `/api/v1/authenticate[/signout]`, `/api/v1/user`, `/api/v1/discover`,
`/api/v1/meta/Classes`, `/api/v1/classes/...` and `/api/v1/attachments/...`. HTTP Basic on every call, or the
session cookie from authenticate."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Mapping
from typing import Any

from aiohttp import web

from simulators.kit import CONFIG, OPERATION, backend

from .config import OpengovConfig
from .dialect import AUTH_REQUIRED, OpengovError, answer, lenient_loads
from .meta import class_meta, class_names, discover
from .state import OpengovState

COOKIE = "CGAPI"
MAX_LIMIT = 100_000
IN_URL = "Cannot pass user name or password through the URL."
NO_IDENTIFIER = "Identifier cannot be empty. Please specify an identifier."


def current_user(request: web.Request, state: OpengovState) -> str:
    auth = request.headers.get("Authorization", "")
    if auth.lower().startswith("basic "):
        try:
            user, _, password = base64.b64decode(auth[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise OpengovError(401, AUTH_REQUIRED) from None
        found = state.check_basic(user, password)
        if found is None:
            raise OpengovError(401, "The user name or password is incorrect.")
        return found
    found = state.session_user(session_cookie(request))
    if found is None:
        raise OpengovError(401, AUTH_REQUIRED)
    return found


def session_cookie(request: web.Request) -> str:
    """The session's token: the cookie a browser keeps, or the `cgkey` header older clients sent."""
    return request.cookies.get(COOKIE) or request.headers.get("cgkey") or ""


async def body_json(request: web.Request) -> Any:
    raw = await request.text()
    if not raw.strip():
        raise OpengovError(400, "The request body is empty.")
    try:
        return lenient_loads(raw)
    except ValueError:
        raise OpengovError(400, "The request body is not valid JSON.") from None


def wrapped_items(body: Any, class_name: str) -> list[Any]:
    """`{"cgTasksClass": [...]}`: the class-keyed wrapper (the key matched case-insensitively)."""
    if isinstance(body, dict):
        for key, value in body.items():
            if key.lower() == class_name.lower() and isinstance(value, list) and value:
                return value
    raise OpengovError(400, f'The body must be {{"{class_name}": [ ... ]}} with at least one record.')


def int_param(query: Mapping[str, str], name: str, default: int, upper: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise OpengovError(400, f"{name} must be a whole number.") from None
    if not 0 <= value <= upper:
        raise OpengovError(400, f"{name} must be between 0 and {upper}.")
    return value


def window(
    state: OpengovState, class_name: str, query: Mapping[str, str], parent: tuple[str, int] | None
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int, int]:
    """(every matching row, the rows this call answers, offset, limit): the listing in its order and the window
    `limit`/`offset` cut from it, `limit` at most the server's page limit. A timeline step on a page reads the
    same window (simulators/opengov/scenario.py)."""
    cls = state.class_def(class_name)
    rows = state.list(cls.name, filter_text=query.get("filter"), sort=query.get("sort"), parent=parent)
    limit = int_param(query, "limit", state.config.default_limit, MAX_LIMIT)
    if state.config.page_limit is not None:
        limit = min(limit, state.config.page_limit)
    offset = int_param(query, "offset", 0, 10**9)
    return rows, rows[offset : offset + limit], offset, limit


def page(request: web.Request, state: OpengovState, class_name: str, parent: tuple[str, int] | None) -> web.Response:
    cls = state.class_def(class_name)
    rows, chosen, offset, limit = window(state, cls.name, request.query, parent)
    wanted = [f.strip() for f in request.query.get("fields", "").split(",") if f.strip()]
    if wanted:
        lower = {w.lower() for w in wanted} | {"oid"}
        chosen = [{k: v for k, v in r.items() if k.lower() in lower} for r in chosen]
    else:
        chosen = [dict(r) for r in chosen]
    if request.query.get("ignoreNullFields", "").lower() == "true":
        chosen = [{k: v for k, v in r.items() if v not in (None, "")} for r in chosen]
    metadata: dict[str, Any] = {"totalCount": len(rows), "offset": offset, "limit": limit}
    if "no-total-count" in state.config.defects:
        del metadata["totalCount"]
    return answer({cls.name: chosen, "_metadata": metadata})


def parse_oid(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise OpengovError(404, f"Oid '{text}' is not a record id.") from None


async def handle(request: web.Request) -> web.StreamResponse:
    op = request[OPERATION]
    state: OpengovState = backend(request)
    config: OpengovConfig = request.app[CONFIG]  # type: ignore[assignment]
    try:
        if op is None:
            raise OpengovError(404, "The requested URL was not recognized.")
        name = op.spec["x-operation"]
        if request.query_string and {"password", "username"} & {k.lower() for k in request.query}:
            raise OpengovError(400, IN_URL)  # seen on sign-in; inferred for every call
        if name == "login":
            return await login(request, state, config)
        if name == "session":
            return session_info(request, state)
        if name == "signout":
            return signout(request, state)
        user = current_user(request, state)
        segments = [s for s in request.path.split("/") if s]
        return await run(name, request, state, user, segments)
    except OpengovError as err:
        return err.response()


async def run(name: str, request: web.Request, state: OpengovState, user: str, seg: list[str]) -> web.StreamResponse:
    # seg: api, v1, classes|attachments|user, ...
    if name == "user":
        return answer(
            {
                "UserName": user,
                "EsriUsername": "",
                "FirstName": user.title(),
                "LastName": "",
                "Email": f"{user}@city.example",
                "Role": "Administrator",
                "IdentityLevel": 0,
            }
        )
    if name == "discover":
        return answer(discover(state))
    if name == "class_meta":
        names = [seg[4]] if len(seg) > 4 else None
        if "classNames" in request.query:
            names = class_names(request.query["classNames"])
        return answer(class_meta(state, names))
    if name == "list":
        return page(request, state, seg[3], None)
    if name == "children":
        return page(request, state, seg[5], (seg[3], parse_oid(seg[4])))
    if name == "get":
        record = state.get(seg[3], parse_oid(seg[4]))
        return answer({state.class_def(seg[3]).name: [record]})
    if name == "create":
        cls = state.class_def(seg[3])
        created = state.create(cls.name, wrapped_items(await body_json(request), cls.name), user)
        return answer({cls.name: created}, state.config.create_status)
    if name == "create_child":
        cls = state.class_def(seg[5])
        items = wrapped_items(await body_json(request), cls.name)
        created = state.create(cls.name, items, user, parent=(seg[3], parse_oid(seg[4])))
        return answer({cls.name: created}, state.config.create_status)
    if name in ("update", "update_one"):
        cls = state.class_def(seg[3])
        oid = parse_oid(seg[4]) if name == "update_one" else None
        records, modified = state.update(cls.name, wrapped_items(await body_json(request), cls.name), oid)
        if not modified:
            return web.Response(status=304)
        return answer({cls.name: records})
    if name == "update_children":
        cls = state.class_def(seg[5])
        items = wrapped_items(await body_json(request), cls.name)
        records, modified = state.update(cls.name, items, parent=(seg[3], parse_oid(seg[4])))
        if not modified:
            return web.Response(status=304)
        return answer({cls.name: records})
    if name == "delete":
        return answer({"DeletedRecordCount": state.delete(seg[3], parse_oid(seg[4]))})
    if name == "delete_matching":
        filter_text = request.query.get("filter", "")
        if not filter_text.strip():  # inferred: a delete of every record is refused, not done
            raise OpengovError(400, "A filter is required to delete records of a class.")
        return answer({"DeletedRecordCount": state.delete_matching(seg[3], filter_text)})
    if name == "upload":
        # /api/v1/attachments/{parentClass}/{parentOid}/{attachClass}?fileName=
        content, filename = await upload_content(request)
        record = state.attach(seg[3], parse_oid(seg[4]), seg[5], filename, content, user)
        return answer({state.class_def(seg[5]).name: [record]}, state.config.create_status)
    if name in ("download", "thumbnail"):  # .../attachments[/thumbnail]/{attachClass}/{attachOid}
        record, content = state.attachment(seg[-2], parse_oid(seg[-1]))
        return file_answer(record, content)
    if name in ("primary", "primary_thumbnail"):  # .../attachments/primary[/thumbnail]/{class}/{oid}
        record, content = state.primary_attachment(seg[-2], parse_oid(seg[-1]))
        return file_answer(record, content)
    if name == "no_identifier":
        raise OpengovError(400, NO_IDENTIFIER)
    if name == "too_many_segments":
        raise OpengovError(400, f"Invalid URI path. {request.path} has more URI segments than is allowed.")
    raise OpengovError(404, "The requested URL was not recognized.")


def file_answer(record: dict[str, Any], content: bytes) -> web.Response:
    # The simulator keeps one copy of a file: a thumbnail is the file itself (inferred; no scaling).
    return web.Response(body=content, content_type=record["ContentTypeField"] or "application/octet-stream")


async def upload_content(request: web.Request) -> tuple[bytes, str]:
    filename = request.query.get("fileName") or request.query.get("filename") or ""
    if request.content_type == "multipart/form-data":
        form = await request.post()
        part = form.get("file")
        if part is None or isinstance(part, str):
            raise OpengovError(400, "A file part named 'file' is required.")
        return part.file.read(), filename or part.filename or ""
    return await request.read(), filename


async def login(request: web.Request, state: OpengovState, config: OpengovConfig) -> web.Response:
    body = await body_json(request)
    if not isinstance(body, dict):
        raise OpengovError(400, "The body must be a JSON object.")
    fields = {k.lower(): v for k, v in body.items()}
    cookie = state.login(fields.get("username"), fields.get("password"))
    response = answer({"LogOnStatus": 0, "Expires": config.session_ttl_s})
    response.set_cookie(COOKIE, cookie, httponly=True, max_age=config.session_ttl_s)
    return response


def session_info(request: web.Request, state: OpengovState) -> web.Response:
    """`GET authenticate`: VG reads a truthy `Cookie` as signed in, so a caller without a session gets 200
    with an empty one, not 401 (inferred from that reading). HTTP Basic is not a session: its `Cookie` is
    empty too, but wrong Basic credentials are refused as on any call."""
    if request.headers.get("Authorization", "").lower().startswith("basic "):
        current_user(request, state)
    cookie = session_cookie(request)
    left = state.session_left(cookie)
    return answer(
        {
            "Expires": left,
            "Cookie": cookie if left else "",
            "CurrentAuthTokenExpiration": left,
            "MaintenanceLevel": 0,
            "MaintenanceMessage": "",
            "MaintenanceUser": "",
            "MaintenanceUserFullName": "",
            "RestrictUsersDuringMaintenance": False,
        }
    )


def signout(request: web.Request, state: OpengovState) -> web.Response:
    """Ends the cookie session (its token no longer signs anything in) and clears the cookie. Without a
    session it is still 200: there is nothing to end (inferred, as is the empty object answered)."""
    if "signout-keeps-session" not in state.config.defects:
        state.logout(session_cookie(request))
    response = answer({})
    response.del_cookie(COOKIE)
    return response


# One route: the kit matched the contract operation case-insensitively; its x-operation names the action.
ROUTES = [web.route(method, "/{path:.*}", handle) for method in ("GET", "POST", "PUT", "DELETE")]
