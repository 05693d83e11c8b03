"""What the gateway's JSON APIs share (the admin API and the citizens' `/portal/v1`): one error shape,
`{"error": {"code", "message", "field"?}}`, the refusals every handler may raise (`ApiError`, and a domain
rule's `DomainError` as 422), request bodies read and checked against the contract's schemas
(contracts/gateway.yaml) without ever quoting a submitted value, ids in paths, timestamps out, and the plain
read and delete handlers of a table."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

import jsonschema_rs
import sqlalchemy as sa
from aiohttp import web
from sqlalchemy.exc import IntegrityError

from contracts import load_contract

from ..appkeys import ENGINE
from ..domain import DomainError
from ..storage import repo
from .json_input import NotStorable, check_storable, describe

MAX_ID = 2**31 - 1
Handler = Callable[[web.Request], Any]


class ApiError(Exception):
    """A refusal in the JSON APIs' shape; `headers` go with it (Retry-After, say)."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.field = status, code, message, field
        self.headers: dict[str, str] = {}


def error_response(status: int, code: str, message: str, field: str | None = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if field:
        body["field"] = field
    headers = {"WWW-Authenticate": 'Bearer realm="civic-harness"'} if status == 401 else None
    return web.json_response({"error": body}, status=status, headers=headers)


def refusal(err: ApiError) -> web.Response:
    answer = error_response(err.status, err.code, err.message, err.field)
    answer.headers.update(err.headers)
    return answer


def guarded(fn: Handler, check: Callable[[web.Request], None] | None = None) -> Handler:
    """A handler whose refusals (and a failed `check`, e.g. the admin token) answer in the error shape."""

    @functools.wraps(fn)
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            if check is not None:
                check(request)
            return await fn(request)
        except ApiError as err:
            return refusal(err)
        except DomainError as err:
            return error_response(422, err.code, err.message, err.field)
        except IntegrityError:
            return error_response(409, "conflict", "a record with that name or code exists, or it is still in use")

    return wrapped


@functools.cache
def _validator(name: str) -> Any:
    contract = load_contract("gateway")
    return jsonschema_rs.Draft202012Validator(
        {"$ref": f"#/components/schemas/{name}", "components": contract["components"]}
    )


async def body(request: web.Request, schema: str, optional: bool = False) -> dict[str, Any]:
    """The JSON body, checked against the contract's schema `schema`."""
    raw = await request.read()
    if optional and not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):  # nested too deeply to parse is not JSON either
        raise ApiError(400, "invalid_json", "the body is not JSON") from None
    try:
        check_storable(value)  # before the schema check: its validator cannot take either
    except NotStorable as exc:
        raise ApiError(exc.status, "invalid_json" if exc.status == 400 else "invalid", exc.message, exc.field) from None
    try:
        first = next(iter(_validator(schema).iter_errors(value)), None)
    except ValueError:  # what the validator cannot take; check_storable refuses all of it known first
        raise ApiError(400, "invalid_json", "the body cannot be checked against its schema") from None
    if first is not None:
        field, message = describe(first)  # never the submitted value: it may be a secret
        raise ApiError(422, "invalid", message[:500], field)
    return value


VIEWS = ("dashboard", "expanded")  # a widget's two views (WID-13)


def view_of(request: web.Request) -> str:
    """The widget view a `?view=` names (the citizens' API and the admin preview)."""
    view = request.query.get("view", "dashboard")
    if view not in VIEWS:
        raise ApiError(400, "invalid", "view is dashboard or expanded", "view")
    return view


def key(request: web.Request, name: str = "id", what: str = "record") -> int:
    try:
        ident = int(request.match_info[name])
    except ValueError:
        ident = 0
    if not 1 <= ident <= MAX_ID:  # ids are positive 32-bit; anything else names no record
        raise ApiError(404, "not_found", f"no such {what}")
    return ident


async def fetch(conn: Any, table: sa.Table, ident: int) -> dict[str, Any]:
    found = await repo.one(conn, table.select().where(table.c.id == ident))
    if found is None:
        raise ApiError(404, "not_found", f"no {table.name[:-1]} {ident}")
    return found


async def must_exist(conn: Any, table: sa.Table, ident: int | None, field: str) -> None:
    if ident is not None and not await repo.existing_ids(conn, table, [ident]):
        raise ApiError(422, "invalid", f"no {table.name[:-1]} {ident}", field)


def stamp(record: dict[str, Any]) -> dict[str, Any]:
    return {k: (repo.aware(v).isoformat() if k.endswith("_at") and v is not None else v) for k, v in record.items()}


def reader(
    table: sa.Table, shape: Callable[[dict[str, Any]], dict[str, Any]], wrap: Callable[[Handler], Handler]
) -> tuple[Handler, Handler]:
    """GET one record by id and GET them all, each shaped by `shape`, behind `wrap` (the API's guard)."""

    @wrap
    async def get_one(request: web.Request) -> web.Response:
        async with request.app[ENGINE].connect() as conn:
            return web.json_response(shape(await fetch(conn, table, key(request))))

    @wrap
    async def get_all(request: web.Request) -> web.Response:
        async with request.app[ENGINE].connect() as conn:
            found = await repo.many(conn, table.select().order_by(table.c.id))
        return web.json_response({"items": [shape(x) for x in found]})

    return get_one, get_all


def deleter(table: sa.Table, wrap: Callable[[Handler], Handler]) -> Handler:
    @wrap
    async def delete_one(request: web.Request) -> web.Response:
        ident = key(request)
        async with request.app[ENGINE].begin() as conn:
            if not await repo.delete(conn, table, ident):
                raise ApiError(404, "not_found", f"no {table.name[:-1]} {ident}")
        return web.Response(status=204)

    return delete_one
