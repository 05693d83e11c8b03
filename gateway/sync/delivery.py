"""Outbox delivery, exactly once in effect (the rows themselves: storage/outbox.py).

A row is claimed (attempts + 1, committed) before the vendor is called, so after a crash or an uncertain
failure the next attempt knows it may already have happened and looks the effect up at the vendor by the
gateway's own reference before doing it again. Rows of one request are delivered in order."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.geocoder import Geocoder
from ..connectors.http import Http, Rejected, VendorError
from ..observability import Observer
from ..observability.logs import event
from ..storage import outbox, repo
from ..storage import schema as t
from ..storage.group_commit import GroupCommit
from ..storage.outbox import Kind, Record
from ..vendors import Vendors
from .questions import answers_of

MAX_ATTEMPTS = 10
BATCH = 100
log = logging.getLogger("civic_harness.gateway.delivery")


@dataclass(slots=True)
class Facts:
    """Read once per batch of due rows (see Delivery._facts)."""

    # request id -> (request, category, integration); a request with no vendor to go to is not here
    context: dict[int, tuple[dict, dict, dict]] = field(default_factory=dict)
    media: dict[int, list[int]] = field(default_factory=dict)  # request id -> its media ids
    comment_media: set[int] = field(default_factory=set)  # media sent with a comment, not as the request's own
    answers: dict[int, list[dict[str, Any]]] = field(default_factory=dict)  # request id -> its answers


@dataclass(frozen=True, slots=True)
class Finish:
    """A row done (`note`: why it was not sent) and what its delivery leaves to write: vendor records, rows
    to follow it (kind, subject), the request's geocoded address."""

    row: dict[str, Any]
    note: str | None
    records: list[dict[str, Any]] = field(default_factory=list)
    follow: list[tuple[Kind, int]] = field(default_factory=list)
    geocoded: dict[str, Any] | None = None


def retry_delay(attempts: int, base_s: float, rng: random.Random) -> float:
    return rng.uniform(0, min(600.0, base_s * 2 ** (attempts - 1)))


class Delivery:
    def __init__(
        self,
        engine: AsyncEngine,
        http: Http,
        vendors: Vendors,
        retry_base_s: float = 2.0,
        claim_s: float = 120.0,
        rng: random.Random | None = None,
        concurrency: int = 8,
        observer: Observer | None = None,
    ) -> None:
        self.engine, self.http, self.vendors = engine, http, vendors
        self.observer = observer or http.observer
        self.retry_base_s, self.claim_s, self.concurrency = retry_base_s, claim_s, concurrency
        self.rng = rng or random.Random()
        # Claims and finishes of the rows in flight, committed together (one transaction each, not per row).
        self._claims: GroupCommit[dict[str, Any], int | None] = GroupCommit(engine, self._claim_rows)
        self._finishes: GroupCommit[Finish, None] = GroupCommit(engine, self._finish_rows)
        self.cut_short = False  # the last run ran out of time with rows still due: run again at once

    async def run(self, budget_s: float = 20.0) -> dict[str, int]:
        """Deliver what is due, batch after batch, until nothing due is left or the time budget is spent.
        Each row is tried at most once per run (a failed row waits for its backoff and a later run). Requests
        go `concurrency` at a time; the rows of one request go in order. One run at a time (the job's
        lease), so a process-local lock is enough to keep two requests of one citizen from racing to create
        two OpenGov requesters."""
        counts = {"delivered": 0, "skipped": 0, "retry": 0, "dead": 0}
        self.cut_short = False
        deadline = time.monotonic() + budget_s
        after = 0  # rows up to this id were taken in this run
        gate = asyncio.Semaphore(self.concurrency)

        async def one_request(rows: list[dict[str, Any]], pending: set[int], facts: Facts) -> None:
            done: set[int] = set()
            async with gate:
                for row in rows:
                    if any(p < row["id"] and p not in done for p in pending):
                        return  # an earlier row of this request is still on its way
                    outcome = await self._deliver(row, facts)
                    counts[outcome] += 1
                    if outcome not in ("delivered", "skipped"):
                        return
                    done.add(row["id"])

        while time.monotonic() < deadline:
            async with self.engine.connect() as conn:
                due = await outbox.due_rows(conn, after, BATCH)
                if not due:
                    break
                after = due[-1]["id"]
                by_request: dict[int, list[dict[str, Any]]] = {}
                for row in due:
                    by_request.setdefault(row["request_id"], []).append(row)
                # a row goes only once every earlier row of its request is delivered (a dead letter waits
                # for the reconcile job, not the rows after it)
                pending = await outbox.pending_by_request(conn, list(by_request), after)
                facts = await self._facts(conn, list(by_request))
            await asyncio.gather(*(one_request(rows, pending[r], facts) for r, rows in by_request.items()))
        else:
            self.cut_short = True
        return counts

    async def _claim_rows(self, conn: Any, rows: Sequence[dict[str, Any]]) -> list[int | None]:
        """Attempt numbers of the rows claimed (None: another instance has the row, or it is done)."""
        claimed = await outbox.claim(conn, [r["id"] for r in rows], self.claim_s)
        return [claimed.get(r["id"]) for r in rows]

    async def _deliver(self, row: dict[str, Any], facts: Facts) -> str:
        """One attempt at one row, as a span in the trace of the public write that made the row."""
        tracing, metrics = self.observer.tracing, self.observer.metrics
        attributes = {"outbox.row": row["id"], "outbox.kind": row["kind"]}
        with tracing.span(
            f"outbox deliver {row['kind']}", parent=row.get("traceparent"), attributes=attributes
        ) as span:
            outcome = await self._attempt(row, facts)
            if span is not None:
                span.set_attribute("outbox.outcome", outcome)
        metrics.delivery(row["kind"], outcome)
        if outcome == "delivered" and row["kind"] == Kind.CREATE_REQUEST:
            metrics.reached_vendor((repo.now() - repo.aware(row["created_at"])).total_seconds())
        return outcome

    async def _attempt(self, row: dict[str, Any], facts: Facts) -> str:
        attempts = await self._claims(row)
        if attempts is None:
            return "retry"  # another instance has it
        try:
            context = facts.context.get(row["request_id"])
            if context is None:
                await self._finishes(
                    Finish(row, "not sent: the request's category or agency has no vendor integration")
                )
                return "skipped"
            finish = await self._perform(row, attempts, facts, *context)
        except VendorError as err:
            return await self._failed(row, attempts, err)
        await self._finishes(finish)
        return "delivered"

    async def _facts(self, conn: Any, request_ids: list[int]) -> Facts:
        """What delivering a batch's rows needs to know, read once for the batch: each request with its
        category and its agency's integration (none: the request stays here), and its media."""
        r, c, a, i, m, cm = t.requests, t.categories, t.agencies, t.integrations, t.media, t.comments
        requests = await repo.many(conn, r.select().where(r.c.id.in_(request_ids)))
        categories = {
            x["id"]: x
            for x in await repo.many(conn, c.select().where(c.c.id.in_(list({q["category_id"] for q in requests}))))
        }
        agency_ids = list({q["agency_id"] for q in requests if q["agency_id"] is not None})
        integrations = {
            x["agency_id"]: x
            for x in await repo.many(
                conn,
                sa.select(i, a.c.id.label("agency_id"))
                .join(a, a.c.integration_id == i.c.id)
                .where(a.c.id.in_(agency_ids)),
            )
        }
        facts = Facts()
        for request in requests:
            category, integration = categories[request["category_id"]], integrations.get(request["agency_id"])
            if category["integrated"] and integration is not None and integration["vendor"] != "none":
                integration = {k: v for k, v in integration.items() if k != "agency_id"}
                facts.context[request["id"]] = (request, category, integration)
            facts.media[request["id"]] = []
        for x in await repo.many(conn, sa.select(m.c.id, m.c.request_id).where(m.c.request_id.in_(request_ids))):
            facts.media[x["request_id"]].append(x["id"])
        taken = sa.select(cm.c.media_id).where(cm.c.request_id.in_(request_ids), cm.c.media_id.is_not(None))
        facts.comment_media = {x["media_id"] for x in await repo.many(conn, taken)}
        facts.answers = await answers_of(conn, request_ids)
        return facts

    async def _perform(
        self, row: dict[str, Any], attempts: int, facts: Facts, request: dict, category: dict, integration: dict
    ) -> Finish:
        """The vendor call(s); returns what to write on success (vendor records, follow-up outbox rows, the
        request's geocoded address). From the second attempt on, each effect is looked up at the vendor
        before it is done again."""
        vendor = self.vendors.side(integration)
        retry = attempts > 1
        payload = json.loads(row["payload"])
        kind = row["kind"]
        if kind == Kind.CREATE_REQUEST:
            vendor_id = await vendor.find_request(request, category) if retry else None
            geocoded = None
            if vendor_id is None:
                geocoded = await self._geocode(request, integration)
                answers = facts.answers.get(request["id"], [])
                vendor_id = await vendor.create_request({**request, **(geocoded or {})}, category, answers)
            records = [outbox.record(integration["id"], Record.REQUEST, request["id"], vendor_id)]
            photos = [m for m in facts.media.get(request["id"], []) if m not in facts.comment_media]
            return Finish(row, None, records, [(Kind.ADD_ATTACHMENT, m) for m in photos], geocoded)
        vendor_request = await self._vendor_request(integration, request)
        if kind == Kind.ADD_COMMENT:
            comment = await self._row(t.comments, payload["comment_id"])
            if not comment["public"]:
                return Finish(row, None)  # private comments are never sent
            sent = await vendor.find_comment(vendor_request, comment["body"]) if retry else None
            if sent is None:
                sent = await vendor.add_comment(vendor_request, comment["body"])
            # Recorded by the vendor's id, so the comment poll never imports our own comment back (CW-ICM-1).
            records = [outbox.record(integration["id"], Record.COMMENT, comment["id"], sent)]
            follow = [(Kind.ADD_ATTACHMENT, comment["media_id"])] if comment["media_id"] else []
            return Finish(row, None, records, follow)
        if kind == Kind.ADD_ATTACHMENT:
            media = await self._row(t.media, payload["media_id"])
            filename = f"{media['public_id']}-{media['filename']}"
            attached = await vendor.find_attachment(vendor_request, filename) if retry else None
            if attached is None:
                attached = await vendor.add_attachment(vendor_request, filename, media["content"])
            return Finish(row, None, [outbox.record(integration["id"], Record.ATTACHMENT, media["id"], attached)])
        raise Rejected(f"unknown outbox kind {kind!r}")

    async def _geocode(self, request: dict[str, Any], integration: dict[str, Any]) -> dict[str, Any] | None:
        """GEO-3/4: the integration's locator names the point's address; a failure is recorded (with the
        delivery), never fatal. None: nothing to look up."""
        if not integration["geocoder_url"] or request["lat"] is None or request["validated_address"]:
            return None
        try:
            address = await Geocoder(self.http, integration["geocoder_url"]).reverse(request["long"], request["lat"])
            return {"validated_address": address, "geocode_error": None}
        except VendorError as err:
            return {"validated_address": None, "geocode_error": f"{err.kind}: {err.message}"[:500]}

    async def _vendor_request(self, integration: dict[str, Any], request: dict[str, Any]) -> str:
        async with self.engine.connect() as conn:
            vendor_id = await outbox.vendor_id(conn, integration["id"], Record.REQUEST, request["id"])
        if vendor_id is None:
            raise Rejected("the request is not at the vendor yet")
        return vendor_id

    async def _row(self, table: sa.Table, ident: int) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            found = await repo.one(conn, table.select().where(table.c.id == ident))
        if found is None:
            raise Rejected(f"{table.name} {ident} is gone")
        return found

    async def _finish_rows(self, conn: Any, finishes: Sequence[Finish]) -> list[None]:
        """Rows done: their vendor records (each once), follow-up rows, geocoded addresses, delivered."""
        r = t.requests
        now = repo.now()
        await outbox.link(conn, [rec for f in finishes for rec in f.records])
        follow = [  # a photo's row joins the trace of the row that queued it
            outbox.new_row(kind, f.row["request_id"], subject, now, f.row.get("traceparent"))
            for f in finishes
            for kind, subject in f.follow
        ]
        await outbox.add(conn, follow)
        # Bound names differ from the columns': SQLAlchemy keeps a column's own name for its SET value.
        geocoded = [
            {
                "g_id": f.row["request_id"],
                "g_address": f.geocoded["validated_address"],
                "g_error": f.geocoded["geocode_error"],
            }
            for f in finishes
            if f.geocoded
        ]
        if geocoded:
            await conn.execute(
                r.update()
                .where(r.c.id == sa.bindparam("g_id"))
                .values(validated_address=sa.bindparam("g_address"), geocode_error=sa.bindparam("g_error")),
                geocoded,
            )
        by_note: dict[str | None, list[int]] = {}
        for f in finishes:
            by_note.setdefault(f.note, []).append(f.row["id"])
        for note, ids in by_note.items():
            await outbox.finish(conn, ids, note)
        return [None] * len(finishes)

    async def _failed(self, row: dict[str, Any], attempts: int, err: VendorError) -> str:
        retry_at = None
        if attempts < MAX_ATTEMPTS:
            retry_at = repo.now() + timedelta(seconds=retry_delay(attempts, self.retry_base_s, self.rng))
        async with self.engine.begin() as conn:
            await outbox.fail(conn, row["id"], f"{err.kind}: {err.message}", retry_at)
        outcome = "retry" if retry_at else "dead"
        event(  # a retry is the outbox doing its work; a dead letter needs someone to look
            log,
            logging.INFO if retry_at else logging.WARNING,
            f"outbox.{outcome}",
            row=row["id"],
            kind=row["kind"],
            attempt=attempts,
            error=err.kind,
            fault=err.fault,
        )
        return outcome
