"""The admin API (`/admin/v1`, bearer token): agencies, geographies (shapefile or GeoJSON upload),
integrations (credentials write-only), categories with agency membership, questions, comment rules, jobs,
the outbox and a request's trail, settings, mail. The JSON toolkit it shares with the portal is jsonapi.py;
rules live in gateway.domain."""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from .. import settings as settings_rules
from ..appkeys import ENGINE, GEOMETRIES, JOBS, SETTINGS
from ..domain import DomainError, rules, vendor_time
from ..domain import geography as geo
from ..domain import questions as qrules
from ..domain import status as status_rules
from ..observability.tracing import trace_id_of
from ..storage import outbox, repo
from ..storage import schema as t
from ..vendors import registry
from .bodies import MAX_GEOGRAPHY_BYTES, TooLarge, budget
from .jsonapi import (
    ApiError,
    body,
    deleter,
    fetch,
    guarded,
    key,
    must_exist,
    reader,
    stamp,
)

PREFIX = "/admin/v1"


def authorize(request: web.Request) -> None:
    header = request.headers.get("Authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token or not hmac.compare_digest(token.encode(), request.app[SETTINGS].admin_token.encode()):
        raise ApiError(401, "unauthorized", "a valid admin bearer token is required")


def handler(fn: Callable[[web.Request], Any]) -> Callable[[web.Request], Any]:
    """An admin API handler: the admin bearer token first, refusals in the API's error shape."""
    return guarded(fn, check=authorize)


# -- agencies --------------------------------------------------------------------------------------


async def check_agency(conn: Any, values: dict[str, Any], current: dict[str, Any] | None) -> None:
    await must_exist(conn, t.integrations, values.get("integration_id"), "integration_id")
    await must_exist(conn, t.geographies, values.get("geography_id"), "geography_id")
    merged = {**(current or {}), **values}
    if merged.get("importer_enabled"):
        if merged.get("geography_id") is None:
            raise DomainError("the importer needs the agency's geography", "importer_enabled")
        g = await fetch(conn, t.geographies, merged["geography_id"])
        if g["has_cutouts"]:
            raise DomainError(
                f"the importer needs a polygon without cutouts; geography {g['id']} ({g['name']}) has "
                f"{geo.cutout_count(json.loads(g['geometry']))} cutout(s)",
                "importer_enabled",
            )


@handler
async def create_agency(request: web.Request) -> web.Response:
    values = await body(request, "AgencyInput")
    values.setdefault("importer_enabled", False)
    async with request.app[ENGINE].begin() as conn:
        await check_agency(conn, values, None)
        now = repo.now()
        created = await repo.insert(conn, t.agencies, {**values, "created_at": now, "updated_at": now})
    return web.json_response(stamp(created), status=201)


@handler
async def update_agency(request: web.Request) -> web.Response:
    values = await body(request, "AgencyPatch")
    async with request.app[ENGINE].begin() as conn:
        current = await fetch(conn, t.agencies, key(request))
        await check_agency(conn, values, current)
        updated = await repo.update(conn, t.agencies, current["id"], {**values, "updated_at": repo.now()})
    return web.json_response(stamp(updated or {}))


# -- geographies -----------------------------------------------------------------------------------


def geography_out(g: dict[str, Any], with_geometry: bool = False) -> dict[str, Any]:
    out = stamp({k: v for k, v in g.items() if k not in ("geometry", "min_lon", "min_lat", "max_lon", "max_lat")})
    out["bbox"] = [g["min_lon"], g["min_lat"], g["max_lon"], g["max_lat"]]
    if with_geometry:
        out["geometry"] = json.loads(g["geometry"])
    return out


@handler
async def upload_geography(request: web.Request) -> web.Response:
    if request.content_type != "multipart/form-data":
        raise ApiError(415, "unsupported_media_type", "upload the file as multipart/form-data (fields file, name)")
    name, filename, data = None, None, b""
    body = budget(request)
    try:
        async for part in await request.multipart():
            if part.name == "name":
                name = (await body.read(part, "name", 1024)).decode("utf-8", errors="replace").strip()
            elif part.name == "file":
                filename = part.filename or ""
                data = await body.read(part, "the file", MAX_GEOGRAPHY_BYTES)
    except TooLarge as exc:
        raise ApiError(413, "too_large", str(exc), "name" if exc.what == "name" else "file") from None
    except (ValueError, HttpProcessingError):
        raise ApiError(400, "invalid_multipart", "the multipart body is malformed") from None
    if not filename or not data:
        raise ApiError(422, "invalid", "a file is required", "file")
    if not name or len(name) > 200:
        raise ApiError(422, "invalid", "a name of 1-200 characters is required", "name")
    if "\x00" in name:  # PostgreSQL text cannot hold it
        raise ApiError(422, "invalid", "name: holds U+0000 (NUL), which is not text", "name")
    parsed = geo.parse_upload(filename, data)
    minx, miny, maxx, maxy = parsed.geometry.bounds
    async with request.app[ENGINE].begin() as conn:
        created = await repo.insert(
            conn,
            t.geographies,
            {
                "name": name,
                "geometry": json.dumps(parsed.geojson()),
                "has_cutouts": parsed.has_cutouts,
                "min_lon": minx,
                "min_lat": miny,
                "max_lon": maxx,
                "max_lat": maxy,
                "source": parsed.source,
                "source_crs": parsed.source_crs,
                "created_at": repo.now(),
            },
        )
    return web.json_response(geography_out(created), status=201)


@handler
async def get_geography(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        return web.json_response(geography_out(await fetch(conn, t.geographies, key(request)), with_geometry=True))


@handler
async def list_geographies(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(conn, t.geographies.select().order_by(t.geographies.c.id))
    return web.json_response({"items": [geography_out(g) for g in found]})


@handler
async def delete_geography(request: web.Request) -> web.Response:
    ident = key(request)
    async with request.app[ENGINE].begin() as conn:
        if not await repo.delete(conn, t.geographies, ident):
            raise ApiError(404, "not_found", f"no geography {ident}")
    request.app[GEOMETRIES].drop(ident)
    return web.Response(status=204)


# -- integrations ----------------------------------------------------------------------------------


def integration_out(i: dict[str, Any]) -> dict[str, Any]:
    out = stamp({k: v for k, v in i.items() if k != "secret"})
    out["has_secret"] = bool(i["secret"])  # the secret itself is write-only
    out["intervals"] = json.loads(i["intervals"])
    out["status_map"] = json.loads(i["status_map"]) if i["status_map"] else registry.default_status_map(i["vendor"])
    return out


def check_integration_values(merged: dict[str, Any]) -> None:
    rules.check_integration(merged["vendor"], merged.get("version"), merged.get("base_url"), registry.versions())
    rules.check_intervals(merged.get("intervals") or {})
    vendor_time.zone(merged.get("timezone"))
    if merged.get("status_map") is not None:
        status_rules.check(merged["status_map"])


@handler
async def create_integration(request: web.Request) -> web.Response:
    values = await body(request, "IntegrationInput")
    values.setdefault("default_mode", "sr")
    values["intervals"] = values.get("intervals") or {}
    check_integration_values(values)
    values["intervals"] = json.dumps(values["intervals"])
    if values.get("status_map") is not None:
        values["status_map"] = json.dumps(values["status_map"])
    async with request.app[ENGINE].begin() as conn:
        now = repo.now()
        created = await repo.insert(
            conn, t.integrations, {**values, "status_map_version": 1, "created_at": now, "updated_at": now}
        )
    return web.json_response(integration_out(created), status=201)


@handler
async def update_integration(request: web.Request) -> web.Response:
    values = await body(request, "IntegrationPatch")
    async with request.app[ENGINE].begin() as conn:
        current = await fetch(conn, t.integrations, key(request))
        merged = {**current, "intervals": json.loads(current["intervals"]), "status_map": None, **values}
        check_integration_values(merged)
        if "intervals" in values:
            values["intervals"] = json.dumps(values["intervals"])
        if "status_map" in values:  # versioned with the integration: a change is a new version
            new_map = json.dumps(values["status_map"]) if values["status_map"] is not None else None
            if new_map != current["status_map"]:
                values["status_map_version"] = current["status_map_version"] + 1
            values["status_map"] = new_map
        updated = await repo.update(conn, t.integrations, current["id"], {**values, "updated_at": repo.now()})
    return web.json_response(integration_out(updated or {}))


# -- categories ------------------------------------------------------------------------------------


def category_out(c: dict[str, Any], agency_ids: list[int]) -> dict[str, Any]:
    out = stamp(dict(c))
    out["group"] = out.pop("group_name")
    out["agency_ids"] = agency_ids
    return out


def category_columns(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if k not in ("agency_ids", "group")}
    if "group" in values:
        out["group_name"] = values["group"]
    return out


async def check_agencies(conn: Any, agency_ids: list[int]) -> None:
    missing = sorted(set(agency_ids) - await repo.existing_ids(conn, t.agencies, agency_ids))
    if missing:
        raise ApiError(422, "invalid", f"no agencies {missing}", "agency_ids")


@handler
async def create_category(request: web.Request) -> web.Response:
    values = await body(request, "CategoryInput")
    defaults = {"description": "", "group": "", "keywords": "", "public": True, "active": True, "integrated": False}
    values = {**defaults, "auto_sync_questions": False, **values}
    async with request.app[ENGINE].begin() as conn:
        await check_agencies(conn, values["agency_ids"])
        now = repo.now()
        created = await repo.insert(
            conn, t.categories, {**category_columns(values), "created_at": now, "updated_at": now}
        )
        await repo.set_category_agencies(conn, created["id"], values["agency_ids"])
    return web.json_response(category_out(created, sorted(values["agency_ids"])), status=201)


@handler
async def update_category(request: web.Request) -> web.Response:
    values = await body(request, "CategoryPatch")
    async with request.app[ENGINE].begin() as conn:
        current = await fetch(conn, t.categories, key(request))
        if "agency_ids" in values:
            await check_agencies(conn, values["agency_ids"])
            await repo.set_category_agencies(conn, current["id"], values["agency_ids"])
        updated = await repo.update(
            conn, t.categories, current["id"], {**category_columns(values), "updated_at": repo.now()}
        )
        members = (await repo.category_agency_ids(conn, [current["id"]]))[current["id"]]
    return web.json_response(category_out(updated or {}, members))


@handler
async def get_category(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        found = await fetch(conn, t.categories, key(request))
        members = (await repo.category_agency_ids(conn, [found["id"]]))[found["id"]]
    return web.json_response(category_out(found, members))


@handler
async def list_categories(request: web.Request) -> web.Response:
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(conn, t.categories.select().order_by(t.categories.c.id))
        members = await repo.category_agency_ids(conn, [c["id"] for c in found])
    return web.json_response({"items": [category_out(c, members[c["id"]]) for c in found]})


# -- questions -------------------------------------------------------------------------------------


def question_out(q: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in q.items() if k != "vendor_ref"}
    out["order"] = out.pop("position")
    out["choices"] = json.loads(q["choices"])
    return out


def question_columns(values: dict[str, Any]) -> dict[str, Any]:
    out = {k: v for k, v in values.items() if k not in ("order", "choices")}
    if "order" in values:
        out["position"] = values["order"]
    if "choices" in values:
        out["choices"] = json.dumps(values["choices"])
    return out


@handler
async def create_question(request: web.Request) -> web.Response:
    values = await body(request, "QuestionInput")
    values = {"required": False, "public": True, "choices": [], "integration_key": None, **values}
    qrules.check_question(values["datatype"], values["public"], values["integration_key"], values["choices"])
    async with request.app[ENGINE].begin() as conn:
        category = await fetch(conn, t.categories, key(request))
        if "order" not in values:
            q = t.questions
            last = await conn.scalar(sa.select(sa.func.max(q.c.position)).where(q.c.category_id == category["id"]))
            values["order"] = (last or 0) + 1
        created = await repo.insert(
            conn, t.questions, {**question_columns(values), "category_id": category["id"], "synced": False}
        )
        await repo.update(conn, t.categories, category["id"], {"updated_at": repo.now()})
    return web.json_response(question_out(created), status=201)


@handler
async def update_question(request: web.Request) -> web.Response:
    values = await body(request, "QuestionPatch")
    async with request.app[ENGINE].begin() as conn:
        current = question_out(await fetch(conn, t.questions, key(request)))
        merged = {**current, **values}
        qrules.check_question(merged["datatype"], merged["public"], merged["integration_key"], merged["choices"])
        updated = await repo.update(conn, t.questions, current["id"], question_columns(values))
        await repo.update(conn, t.categories, current["category_id"], {"updated_at": repo.now()})
    return web.json_response(question_out(updated or {}))


@handler
async def list_questions(request: web.Request) -> web.Response:
    q = t.questions
    async with request.app[ENGINE].connect() as conn:
        category = await fetch(conn, t.categories, key(request))
        query = q.select().where(q.c.category_id == category["id"]).order_by(q.c.position, q.c.id)
        found = await repo.many(conn, query)
    return web.json_response({"items": [question_out(x) for x in found]})


# -- comment rules ---------------------------------------------------------------------------------


@handler
async def create_rule(request: web.Request) -> web.Response:
    values = await body(request, "CommentRuleInput")
    rules.check_rule(values["operator"], values["value"])
    async with request.app[ENGINE].begin() as conn:
        integration = await fetch(conn, t.integrations, key(request))
        created = await repo.insert(conn, t.comment_rules, {**values, "integration_id": integration["id"]})
    return web.json_response(created, status=201)


@handler
async def list_rules(request: web.Request) -> web.Response:
    r = t.comment_rules
    async with request.app[ENGINE].connect() as conn:
        integration = await fetch(conn, t.integrations, key(request))
        found = await repo.many(conn, r.select().where(r.c.integration_id == integration["id"]).order_by(r.c.id))
    return web.json_response({"items": found})


# -- jobs and the outbox ----------------------------------------------------------------------------


@handler
async def run_job_now(request: web.Request) -> web.Response:
    from ..sync.jobs import JobBusy, run_job

    ctx = request.app[JOBS]
    job = request.match_info["job"]
    if job not in ctx.jobs:
        raise ApiError(404, "not_found", f"no job {job[:40]!r}; jobs: {', '.join(ctx.jobs)}")
    values = await body(request, "JobRunInput", optional=True)
    integration = None
    if ctx.jobs[job].per_integration:
        if values.get("integration_id") is None:
            raise ApiError(422, "invalid", f"{job} runs for one integration: give integration_id", "integration_id")
        async with request.app[ENGINE].connect() as conn:
            integration = await fetch(conn, t.integrations, values["integration_id"])
        if integration["vendor"] == "none":
            raise ApiError(422, "invalid", "this integration has no vendor to sync with", "integration_id")
    try:
        run = await run_job(ctx, job, integration, "admin")
    except JobBusy as err:
        raise ApiError(409, "busy", str(err)) from None
    return web.json_response(run)


@handler
async def list_job_runs(request: web.Request) -> web.Response:
    from ..sync.jobs import run_out

    r = t.job_runs
    query = r.select().order_by(r.c.id.desc()).limit(100)
    if request.query.get("job"):
        if "\x00" in request.query["job"]:  # no job is named so, and PostgreSQL text cannot hold it
            return web.json_response({"items": []})
        query = query.where(r.c.job == request.query["job"])
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(conn, query)
    return web.json_response({"items": [run_out(x) for x in found]})


@handler
async def list_outbox(request: web.Request) -> web.Response:
    o, r = t.outbox, t.requests
    state = request.query.get("state", "pending")
    conditions = outbox.STATES
    if state not in conditions:
        raise ApiError(422, "invalid", "state is pending, dead or delivered", "state")
    query = (
        sa.select(o, r.c.public_id)
        .join(r, o.c.request_id == r.c.id)
        .where(conditions[state])
        .order_by(o.c.id)
        .limit(500)
    )
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(conn, query)
    items = [
        stamp(
            {
                "id": x["id"],
                "kind": x["kind"],
                "service_request_id": x["public_id"],
                "attempts": x["attempts"],
                "last_error": x["last_error"],
                "created_at": x["created_at"],
                "delivered_at": x["delivered_at"],
                "dead_at": x["dead_at"],
            }
        )
        for x in found
    ]
    return web.json_response({"items": items})


@handler
async def get_settings(request: web.Request) -> web.Response:
    """The gateway's operational settings (no secret), and whether it can be put under a conformance suite."""
    shown = settings_rules.shown(request.app[SETTINGS])
    gaps = settings_rules.under_test_gaps(shown)
    return web.json_response({"settings": shown, "under_test": {"ready": not gaps, "missing": gaps}})


def _trail_row(row: dict[str, Any]) -> dict[str, Any]:
    state = outbox.state_of(row)
    return stamp(
        {
            "id": row["id"],
            "trace_id": trace_id_of(row["traceparent"]),
            "kind": row["kind"],
            "state": state,
            "attempts": row["attempts"],
            "last_error": row["last_error"],
            "created_at": row["created_at"],
            "next_attempt_at": row["next_attempt_at"] if state == "pending" else None,
            "delivered_at": row["delivered_at"],
            "dead_at": row["dead_at"],
        }
    )


@handler
async def get_request_trail(request: web.Request) -> web.Response:
    """One public request as the gateway holds it, where it went: its category and the integration it goes
    to, its vendor records (sent and imported) and every outbox row with its state."""
    r, c, a, i = t.requests, t.categories, t.agencies, t.integrations
    public_id = request.match_info["id"]
    async with request.app[ENGINE].connect() as conn:
        found = await repo.one(conn, r.select().where(r.c.public_id == public_id))
        if found is None:
            raise ApiError(404, "not_found", "no public request with that service_request_id")
        category = await repo.one(conn, sa.select(c.c.id, c.c.code, c.c.name).where(c.c.id == found["category_id"]))
        integration = await repo.one(
            conn,
            sa.select(i.c.id, i.c.name, i.c.vendor)
            .join(a, a.c.integration_id == i.c.id)
            .where(a.c.id == found["agency_id"]),
        )
        records = await outbox.records_of(conn, found["id"])
        rows = await outbox.rows_of(conn, found["id"])
    return web.json_response(
        {
            "service_request_id": public_id,
            "status": found["status"],
            "status_detail": found["status_detail"],
            "category": category,
            "integration": integration,
            "requested_at": stamp(found)["requested_at"],
            "updated_at": stamp(found)["updated_at"],
            "vendor_records": [
                stamp({k: rec[k] for k in ("kind", "local_id", "vendor_id", "created_at")}) for rec in records
            ],
            "outbox": [_trail_row(row) for row in rows],
        }
    )


@handler
async def list_mail(request: web.Request) -> web.Response:
    """The mail the gateway queued for citizens (sign-up confirmations), newest first: what a mail relay
    delivers, and what a development setup reads instead of a mailbox. `to` narrows to one address."""
    m = t.mail
    query = m.select().order_by(m.c.id.desc()).limit(100)
    to = request.query.get("to", "").strip().lower()
    if to:
        query = query.where(m.c.to_address == to[:254])
    async with request.app[ENGINE].connect() as conn:
        found = await repo.many(conn, query)
    items = [
        stamp(
            {
                "id": x["id"],
                "to": x["to_address"],
                "subject": x["subject"],
                "body": x["body"],
                "created_at": x["created_at"],
            }
        )
        for x in found
    ]
    return web.json_response({"items": items})


# -- generic reads and deletes ---------------------------------------------------------------------


# the plain reads and deletes of a table, behind the admin token
get_agency, list_agencies = reader(t.agencies, stamp, handler)
get_integration, list_integrations = reader(t.integrations, integration_out, handler)
get_question, _ = reader(t.questions, question_out, handler)
delete_agency = deleter(t.agencies, handler)
delete_integration = deleter(t.integrations, handler)
delete_comment_rule = deleter(t.comment_rules, handler)
delete_category = deleter(t.categories, handler)
delete_question = deleter(t.questions, handler)
