"""Open311 GeoReport v2 (https://wiki.open311.org/GeoReport_v2), JSON and XML, so standard clients work
unchanged; plus the widely used extensions: `updated_after`/`updated_before` and `page`/`page_size` on
request lists, multipart `media` uploads (v2.1 draft), `extensions=true`, and public comments per request."""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import re
import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl

import sqlalchemy as sa
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError
from multidict import MultiDict, MultiDictProxy

from ..appkeys import CATALOG, ENGINE, GEOMETRIES, REPORTS, SETTINGS
from ..catalog import Service
from ..domain import DomainError
from ..domain import open311 as shapes
from ..domain.media import image_type
from ..domain.questions import check_answer
from ..observability.tracing import current_traceparent
from ..storage import outbox, repo, reports
from ..storage import schema as t
from . import xml
from .bodies import TooLarge, budget

PREFIX = "/open311/v2"
FMT = "{fmt:(json|xml)}"
ATTRIBUTE = re.compile(r"^attribute\[([^\]]+)\](\[\])?$")
CONTACT = "civic-harness reference gateway"
MAX_PAGE = 1_000_000
MAX_FIELDS = 1000  # in a url-encoded form (aiohttp's own limit for the forms it reads)


class Open311Error(Exception):
    """One or more spec-shaped errors with the HTTP status the spec gives (404, 403 or 400)."""

    def __init__(self, status: int, *descriptions: str) -> None:
        super().__init__(descriptions[0])
        self.status, self.descriptions = status, descriptions


def answer(request: web.Request, root: str, value: Any, status: int = 200) -> web.Response:
    if request.match_info.get("fmt") == "xml":
        return web.Response(body=xml.render(root, value), status=status, content_type="text/xml", charset="utf-8")
    return web.Response(text=json.dumps(value), status=status, content_type="application/json", charset="utf-8")


def error_response(request: web.Request, status: int, descriptions: Sequence[str]) -> web.Response:
    body = [{"code": status, "description": d} for d in descriptions]
    if request.match_info.get("fmt") == "xml" or request.path.endswith(".xml"):
        return web.Response(body=xml.render("errors", body), status=status, content_type="text/xml", charset="utf-8")
    return web.Response(text=json.dumps(body), status=status, content_type="application/json", charset="utf-8")


def refuse_nul(params: Mapping[str, Any], what: str) -> None:
    """U+0000 cannot be stored or looked up (PostgreSQL text cannot hold it): a clear 400, not a failure later."""
    for name, value in params.items():
        if "\x00" in name or (isinstance(value, str) and "\x00" in value):
            raise Open311Error(400, f"{what} {name[:64].replace(chr(0), '')!r} holds U+0000 (NUL), which is not text")


def handler(fn: Any) -> Any:
    async def wrapped(request: web.Request) -> web.StreamResponse:
        try:
            refuse_nul(request.match_info, "the path's")  # before a lookup fails on it
            refuse_nul(request.query, "argument")
            return await fn(request)
        except Open311Error as err:
            return error_response(request, err.status, err.descriptions)
        except DomainError as err:
            return error_response(request, 400, [err.message])

    return wrapped


def arg(params: Mapping[str, Any], name: str) -> str | None:
    """An empty optional argument is treated exactly like one not sent (spec 1.1)."""
    value = params.get(name)
    if value is None or not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def check_jurisdiction(request: web.Request, params: Mapping[str, Any]) -> None:
    given = arg(params, "jurisdiction_id")
    if given is not None and given != request.app[SETTINGS].jurisdiction_id:
        raise Open311Error(404, f"jurisdiction_id {given[:100]!r} not found")


def base_url(request: web.Request) -> str:
    configured = request.app[SETTINGS].public_url
    return (configured or str(request.url.origin())).rstrip("/")


# -- discovery and services ------------------------------------------------------------------------


@handler
async def discovery(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    async with request.app[ENGINE].connect() as conn:
        changed = await conn.scalar(sa.select(sa.func.max(t.categories.c.updated_at)))
    changeset = shapes.iso(repo.aware(changed)) if changed else "1970-01-01T00:00:00Z"
    root = base_url(request)
    value = {
        "changeset": changeset,
        "contact": CONTACT,
        "key_service": f"Ask the administrator of {settings.jurisdiction_id} for an API key.",
        "endpoints": [
            {
                "specification": "http://wiki.open311.org/GeoReport_v2",
                "url": f"{root}{PREFIX}",
                "changeset": changeset,
                "type": "production",
                "formats": ["application/json", "text/xml"],
            }
        ],
    }
    return answer(request, "discovery", value)


def point(params: Mapping[str, Any], required: bool) -> tuple[float, float] | None:
    lat, lon = arg(params, "lat"), arg(params, "long")
    if lat is None and lon is None:
        if required:
            return None
        return None
    if lat is None or lon is None:
        raise Open311Error(400, "lat and long must be given together")
    try:
        la, lo = float(lat), float(lon)
    except ValueError:
        raise Open311Error(400, "lat and long must be numbers (WGS84)") from None
    if not (math.isfinite(la) and math.isfinite(lo) and -90 <= la <= 90 and -180 <= lo <= 180):
        raise Open311Error(400, "lat must be within -90..90 and long within -180..180")
    return la, lo


async def agencies_at(request: web.Request, where: tuple[float, float]) -> set[int]:
    cache = request.app[GEOMETRIES]
    candidates = cache.around(await request.app[CATALOG].agencies(), where[1], where[0])
    missing = cache.missing(a["geography_id"] for a in candidates)
    if missing:
        async with request.app[ENGINE].connect() as conn:
            for geography_id, geojson in (await repo.geometries(conn, missing)).items():
                cache.put(geography_id, geojson)
    return set(cache.containing(candidates, where[1], where[0]))


@handler
async def services(request: web.Request) -> web.Response:
    check_jurisdiction(request, request.query)
    where = point(request.query, required=False)
    listed = await request.app[CATALOG].listing()
    if where is not None:
        here = await agencies_at(request, where)
        listed = [s for s in listed if here & s.agency_ids]
    return answer(request, "services", [shapes.service(s.category, s.question_count) for s in listed])


async def public_service(request: web.Request, code: str) -> Service:
    found = await request.app[CATALOG].service(code)
    if found is None:
        raise Open311Error(404, f"service_code {code[:100]!r} not found")
    return found


@handler
async def service_definition(request: web.Request) -> web.Response:
    check_jurisdiction(request, request.query)
    service = await public_service(request, request.match_info["code"])
    return answer(request, "service_definition", shapes.definition(service.category, service.questions))


# -- creating a request ----------------------------------------------------------------------------


def check_api_key(request: web.Request, params: Mapping[str, Any]) -> None:
    given = arg(params, "api_key") or arg(request.query, "api_key")
    header = request.headers.get("Authorization", "")
    if given is None and header.lower().startswith("bearer "):
        given = header[7:].strip()
    if not given:
        raise Open311Error(403, "api_key is required to write")
    if not any(hmac.compare_digest(given.encode(), k.encode()) for k in request.app[SETTINGS].api_keys):
        raise Open311Error(403, "Invalid api_key received -- can't proceed with create_request.")


def attribute_values(form: MultiDictProxy[Any] | MultiDict[Any]) -> dict[str, list[str]]:
    values: dict[str, list[str]] = {}
    for key, value in form.items():
        m = ATTRIBUTE.match(key)
        if m and isinstance(value, str):
            values.setdefault(m.group(1), []).append(value)
    return values


def answers_for(questions: Sequence[Mapping[str, Any]], given: Mapping[str, list[str]]) -> dict[int, str]:
    by_code = {q["code"]: q for q in questions}
    problems = [f"attribute[{code[:64]}] is not an attribute of this service" for code in given if code not in by_code]
    out: dict[int, str] = {}
    for code, q in by_code.items():
        values = [v for v in given.get(code, []) if v.strip()]
        if not values:
            if q["required"]:
                problems.append(f"attribute[{code}] is required: {q['text']}")
            continue
        try:
            out[q["id"]] = check_answer(q["datatype"], values, json.loads(q["choices"]))
        except DomainError as err:
            problems.append(f"attribute[{code}]: {err.message}")
    if problems:
        raise Open311Error(400, *problems)
    return out


async def read_form(request: web.Request) -> tuple[MultiDict[Any], list[dict[str, Any]]]:
    """The form's text fields, and its uploaded images (field `media`, repeatable)."""
    try:
        return await _read_form(request)
    except TooLarge as exc:
        raise Open311Error(413, str(exc)) from None
    except (ValueError, HttpProcessingError):
        raise Open311Error(400, "the request body is malformed") from None


def text_of(data: bytes, name: str, charset: str = "utf-8") -> str:
    """A field's text, or a 400: bytes that are not text in the form's charset (UTF-8 unless it says) are refused
    rather than stored with replacement characters."""
    try:
        return data.decode(charset)
    except (UnicodeDecodeError, LookupError):
        raise Open311Error(400, f"field {name[:64]!r} is not {charset[:20]} text") from None


def form_pairs(data: bytes, charset: str) -> list[tuple[str, str]]:
    try:
        text = data.decode(charset)
        return parse_qsl(text, keep_blank_values=True, encoding=charset, errors="strict", max_num_fields=MAX_FIELDS)
    except (UnicodeDecodeError, LookupError):  # percent-escapes included: %ED%A0%80 is no character
        raise Open311Error(400, f"the form is not {charset[:20]} text") from None
    except ValueError:
        raise Open311Error(400, f"the form has more than {MAX_FIELDS} fields") from None


async def _read_form(request: web.Request) -> tuple[MultiDict[Any], list[dict[str, Any]]]:
    limit = request.app[SETTINGS].max_upload_bytes
    fields: MultiDict[Any] = MultiDict()
    uploads: list[dict[str, Any]] = []
    if request.content_type == "multipart/form-data":
        body = budget(request)
        reader = await request.multipart()
        async for part in reader:
            if part.name is None:
                continue
            if part.filename is None:
                fields.add(part.name, text_of(await body.read(part, "a field"), part.name))
                continue
            if part.name not in ("media", "media[]"):
                raise Open311Error(400, f"unexpected file field {part.name[:64]!r}; upload images as 'media'")
            data = await body.read(part, "media", limit)
            kind = image_type(data)
            if kind is None:
                raise Open311Error(400, "media must be a JPEG, PNG, GIF or WebP image")
            uploads.append(
                {
                    "public_id": secrets.token_hex(8),
                    "filename": (part.filename or "upload")[-255:],
                    "content_type": kind,
                    "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "content": data,
                    "created_at": repo.now(),
                }
            )
    elif request.content_type in ("application/x-www-form-urlencoded", ""):
        fields = MultiDict(form_pairs(await request.read(), request.charset or "utf-8"))
    else:
        raise Open311Error(400, "send application/x-www-form-urlencoded, or multipart/form-data with media")
    refuse_nul(fields, "field")
    refuse_nul({u["filename"]: "" for u in uploads}, "file name")
    return fields, uploads


def media_url_arg(form: Mapping[str, Any]) -> str | None:
    url = arg(form, "media_url")
    if url is not None and (not re.match(r"^https?://[^\s]+$", url) or len(url) > 2000):
        raise Open311Error(400, "media_url must be an http(s) URL")
    return url


@handler
async def create_request(request: web.Request) -> web.Response:
    form, uploads = await read_form(request)
    check_api_key(request, form)
    check_jurisdiction(request, form)
    code = arg(form, "service_code")
    if code is None:
        raise Open311Error(400, "service_code is required")
    where = point(form, required=False)
    address, address_id = arg(form, "address_string"), arg(form, "address_id")
    if where is None and address is None and address_id is None:
        raise Open311Error(400, "a location is required: lat and long, address_string or address_id")
    email = arg(form, "email")
    if email is not None and not re.match(r"^[^@\s]+@[^@\s]+$", email):
        raise Open311Error(400, "email is not an e-mail address")
    description = shapes.check_description(arg(form, "description") or "")
    service = await public_service(request, code)
    category, members = service.category, service.agency_ids
    answers = answers_for(service.questions, attribute_values(form))
    agency_id = members[0] if len(members) == 1 else None
    if where is not None:
        inside = await agencies_at(request, where)
        here = [a for a in members if a in inside]
        if not here:
            raise Open311Error(400, f"service {code[:64]!r} is not available at this location")
        agency_id = here[0]
    stamp = repo.now()
    new = reports.NewRequest(
        {
            "public_id": secrets.token_hex(6),
            "category_id": category["id"],
            "agency_id": agency_id,
            "status": "open",
            "status_detail": "open",
            "description": description,
            "lat": where[0] if where else None,
            "long": where[1] if where else None,
            "address": address,
            "address_id": address_id,
            "zipcode": arg(form, "zipcode"),
            "email": email,
            "phone": arg(form, "phone"),
            "first_name": arg(form, "first_name"),
            "last_name": arg(form, "last_name"),
            "device_id": arg(form, "device_id"),
            "account_id": arg(form, "account_id"),
            "media_url": media_url_arg(form),
            "token": secrets.token_hex(8),
            "requested_at": stamp,
            "updated_at": stamp,
        },
        answers,
        uploads,
        current_traceparent(),
    )
    stored = await request.app[REPORTS](new)  # committed with whatever other reports arrived meanwhile
    created = {"service_request_id": stored["public_id"], "service_notice": ""}
    if stored["account_id"]:
        created["account_id"] = stored["account_id"]
    return answer(request, "service_requests", [created], status=201)


# -- reading requests ------------------------------------------------------------------------------


async def records(
    request: web.Request, conn: Any, rows: list[dict[str, Any]], extensions: bool
) -> list[dict[str, Any]]:
    if not rows:
        return []
    c, a = t.categories, t.agencies
    cats = {r["id"]: r for r in await repo.many(conn, c.select().where(c.c.id.in_({r["category_id"] for r in rows})))}
    agency_ids = {r["agency_id"] for r in rows if r["agency_id"] is not None}
    names = {
        r["id"]: r["name"] for r in await repo.many(conn, sa.select(a.c.id, a.c.name).where(a.c.id.in_(agency_ids)))
    }
    media = await repo.media_urls(conn, [r["id"] for r in rows])
    extras = await public_extras(request, conn, [r["id"] for r in rows]) if extensions else {}
    root = base_url(request)
    out = []
    for r in rows:
        r = {**r, "requested_at": repo.aware(r["requested_at"]), "updated_at": repo.aware(r["updated_at"])}
        urls = [f"{root}{PREFIX}/media/{m}" for m in media[r["id"]]]
        out.append(
            shapes.request_record(
                r, cats[r["category_id"]], names.get(r["agency_id"]), urls, extras.get(r["id"]) if extensions else None
            )
        )
    return out


async def public_extras(request: web.Request, conn: Any, request_ids: list[int]) -> dict[int, dict[str, Any]]:
    """Public answers and public comments: what `extensions=true` may show, and nothing else."""
    an, q = t.answers, t.questions
    out: dict[int, dict[str, Any]] = {i: {"attributes": [], "comments": []} for i in request_ids}
    r = t.requests
    for row in await repo.many(conn, sa.select(r.c.id, r.c.status_detail, r.c.status).where(r.c.id.in_(request_ids))):
        out[row["id"]]["status_detail"] = row["status_detail"] or row["status"]
    query = (
        sa.select(an.c.request_id, q.c.code, an.c.value)
        .join(q, an.c.question_id == q.c.id)
        .where(an.c.request_id.in_(request_ids), q.c.public.is_(True))
        .order_by(q.c.position, q.c.id)
    )
    for r in await repo.many(conn, query):
        out[r["request_id"]]["attributes"].append({"code": r["code"], "value": json.loads(r["value"])})
    for rid, comments in (await public_comments(request, conn, request_ids)).items():
        out[rid]["comments"] = comments
    return out


def comment_record(r: Mapping[str, Any], media_url: str | None = None) -> dict[str, Any]:
    out = {"comment_id": r["id"], "description": r["body"], "datetime": shapes.iso(repo.aware(r["created_at"]))}
    if media_url is not None:
        out["media_url"] = media_url
    return out


async def public_comments(request: web.Request, conn: Any, request_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """Public comments per request, oldest first, each with its photo's URL."""
    cm, m = t.comments, t.media
    query = (
        sa.select(cm, m.c.public_id.label("media_public_id"))
        .outerjoin(m, cm.c.media_id == m.c.id)
        .where(cm.c.request_id.in_(request_ids), cm.c.public.is_(True))
        .order_by(cm.c.id)
    )
    out: dict[int, list[dict[str, Any]]] = {i: [] for i in request_ids}
    root = base_url(request)
    for r in await repo.many(conn, query):
        url = f"{root}{PREFIX}/media/{r['media_public_id']}" if r["media_public_id"] else None
        out[r["request_id"]].append(comment_record(r, url))
    return out


def page_args(request: web.Request) -> tuple[int, int]:
    settings = request.app[SETTINGS]
    try:
        page = int(arg(request.query, "page") or 1)
        size = int(arg(request.query, "page_size") or settings.default_page_size)
    except ValueError:
        raise Open311Error(400, "page and page_size are positive integers") from None
    if not 1 <= page <= MAX_PAGE or not 1 <= size <= settings.max_page_size:
        raise Open311Error(400, f"page between 1 and {MAX_PAGE}, page_size between 1 and {settings.max_page_size}")
    return page, size


def date_arg(params: Mapping[str, Any], name: str) -> datetime | None:
    raw = arg(params, name)
    return None if raw is None else shapes.parse_datetime(raw, name)


def list_arg(params: Mapping[str, Any], name: str) -> list[str]:
    raw = arg(params, name)
    return [v.strip() for v in raw.split(",") if v.strip()] if raw else []


@handler
async def list_requests(request: web.Request) -> web.Response:
    q = request.query
    check_jurisdiction(request, q)
    r, c = t.requests, t.categories
    page, size = page_args(request)
    query = sa.select(r).join(c, r.c.category_id == c.c.id).where(c.c.public.is_(True))
    ids = list_arg(q, "service_request_id")
    order = [r.c.requested_at.desc(), r.c.id.desc()]
    if ids:  # overrides every other argument (spec)
        query = query.where(r.c.public_id.in_(ids[:1000]))
    else:
        codes = list_arg(q, "service_code")
        statuses = list_arg(q, "status")
        if any(s not in shapes.STATUSES for s in statuses):
            raise Open311Error(400, "status is open, closed, or both comma-separated")
        if codes:
            query = query.where(c.c.code.in_(codes))
        if statuses:
            query = query.where(r.c.status.in_(statuses))
        for name, column, op in (
            ("start_date", r.c.requested_at, "ge"),
            ("end_date", r.c.requested_at, "le"),
            ("updated_after", r.c.updated_at, "gt"),
            ("updated_before", r.c.updated_at, "lt"),
        ):
            moment = date_arg(q, name)
            if moment is not None:
                query = query.where(getattr(column, f"__{op}__")(moment))
        if arg(q, "updated_after") is not None:
            order = [r.c.updated_at.asc(), r.c.id.asc()]  # a replica follows changes in order
    query = query.order_by(*order).limit(size).offset((page - 1) * size)
    extensions = arg(q, "extensions") == "true"
    async with request.app[ENGINE].connect() as conn:
        found = await records(request, conn, await repo.many(conn, query), extensions)
    return answer(request, "service_requests", found)


async def visible_request(conn: Any, public_id: str) -> dict[str, Any]:
    r, c = t.requests, t.categories
    query = sa.select(r).join(c, r.c.category_id == c.c.id).where(r.c.public_id == public_id, c.c.public.is_(True))
    found = await repo.one(conn, query)
    if found is None:
        raise Open311Error(404, f"service_request_id {public_id[:64]!r} not found")
    return found


@handler
async def get_request(request: web.Request) -> web.Response:
    check_jurisdiction(request, request.query)
    extensions = arg(request.query, "extensions") == "true"
    async with request.app[ENGINE].connect() as conn:
        found = await visible_request(conn, request.match_info["id"])
        return answer(request, "service_requests", await records(request, conn, [found], extensions))


@handler
async def get_token(request: web.Request) -> web.Response:
    check_jurisdiction(request, request.query)
    r = t.requests
    async with request.app[ENGINE].connect() as conn:
        found = await repo.one(
            conn, sa.select(r.c.public_id, r.c.token).where(r.c.token == request.match_info["token"])
        )
    if found is None:
        raise Open311Error(404, "token not found")
    return answer(request, "service_requests", [{"service_request_id": found["public_id"], "token": found["token"]}])


@handler
async def get_media(request: web.Request) -> web.StreamResponse:
    m = t.media
    async with request.app[ENGINE].connect() as conn:
        found = await repo.one(conn, m.select().where(m.c.public_id == request.match_info["id"]))
    if found is None:
        raise Open311Error(404, "media not found")
    return web.Response(
        body=found["content"],
        content_type=found["content_type"],
        headers={"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"},
    )


# -- comments (extension) --------------------------------------------------------------------------


@handler
async def list_comments(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        found = await visible_request(conn, request.match_info["id"])
        comments = (await public_comments(request, conn, [found["id"]]))[found["id"]]
    return answer(request, "comments", comments)


@handler
async def add_comment(request: web.Request) -> web.Response:
    form, uploads = await read_form(request)
    check_api_key(request, form)
    description = shapes.check_description(arg(form, "description") or "")
    if not description:
        raise Open311Error(400, "description is required")
    async with request.app[ENGINE].begin() as conn:
        found = await visible_request(conn, request.match_info["id"])
        stamp = repo.now()
        if len(uploads) > 1:
            raise Open311Error(400, "a comment carries at most one image")
        media_id, media_url = None, None
        for upload in uploads:
            media_id = (await repo.insert(conn, t.media, {**upload, "request_id": found["id"]}))["id"]
            media_url = f"{base_url(request)}{PREFIX}/media/{upload['public_id']}"
        comment = await repo.insert(
            conn,
            t.comments,
            {
                "request_id": found["id"],
                "body": description,
                "public": True,
                "author": "citizen",
                "media_id": media_id,
                "created_at": stamp,
            },
        )
        await outbox.add(
            conn, [outbox.new_row(outbox.Kind.ADD_COMMENT, found["id"], comment["id"], stamp, current_traceparent())]
        )
        await repo.update(conn, t.requests, found["id"], {"updated_at": stamp})
    return answer(request, "comments", [comment_record(comment, media_url)], status=201)
