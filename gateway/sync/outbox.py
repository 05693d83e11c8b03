"""Outbox delivery, exactly once in effect.

A row is claimed (attempts + 1, committed) before the vendor is called, so after a crash or an uncertain
failure the next attempt knows it may already have happened and looks the effect up at the vendor by the
gateway's own reference before doing it again. Rows of one request are delivered in order."""

from __future__ import annotations

import asyncio
import json
import random
import time
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncEngine

from ..connectors.geocoder import Geocoder
from ..connectors.http import Http, Rejected, VendorError
from ..storage import repo
from ..storage import schema as t
from .adapters import adapter

MAX_ATTEMPTS = 10
BATCH = 100


def retry_delay(attempts: int, base_s: float, rng: random.Random) -> float:
    return rng.uniform(0, min(600.0, base_s * 2 ** (attempts - 1)))


class Delivery:
    def __init__(
        self,
        engine: AsyncEngine,
        http: Http,
        retry_base_s: float = 2.0,
        claim_s: float = 120.0,
        rng: random.Random | None = None,
        concurrency: int = 8,
    ) -> None:
        self.engine, self.http, self.retry_base_s, self.claim_s = engine, http, retry_base_s, claim_s
        self.concurrency = concurrency
        self.rng = rng or random.Random()
        self._adapters: dict[int, tuple[tuple[int, Any], Any]] = {}

    async def run(self, budget_s: float = 20.0) -> dict[str, int]:
        """Deliver what is due, batch after batch, until nothing due is left or the time budget is spent.
        Each row is tried at most once per run (a failed row waits for its backoff and a later run). Requests
        go `concurrency` at a time; the rows of one request go in order. One run at a time (the job's
        lease), so a process-local lock is enough to keep two requests of one citizen from racing to create
        two OpenGov requesters."""
        counts = {"delivered": 0, "skipped": 0, "retry": 0, "dead": 0}
        o = t.outbox
        deadline = time.monotonic() + budget_s
        after = 0  # rows up to this id were taken in this run
        gate = asyncio.Semaphore(self.concurrency)

        async def one_request(rows: list[dict[str, Any]], pending: set[int]) -> None:
            done: set[int] = set()
            async with gate:
                for row in rows:
                    if any(p < row["id"] and p not in done for p in pending):
                        return  # an earlier row of this request is still on its way
                    outcome = await self._deliver(row)
                    counts[outcome] += 1
                    if outcome not in ("delivered", "skipped"):
                        return
                    done.add(row["id"])

        while time.monotonic() < deadline:
            async with self.engine.connect() as conn:
                due = await repo.many(
                    conn,
                    o.select()
                    .where(
                        o.c.delivered_at.is_(None),
                        o.c.dead_at.is_(None),
                        o.c.next_attempt_at <= repo.now(),
                        o.c.id > after,
                    )
                    .order_by(o.c.id)
                    .limit(BATCH),
                )
                if not due:
                    break
                after = due[-1]["id"]
                by_request: dict[int, list[dict[str, Any]]] = {}
                for row in due:
                    by_request.setdefault(row["request_id"], []).append(row)
                pending = await self._pending(conn, by_request, after)
            await asyncio.gather(*(one_request(rows, pending[r]) for r, rows in by_request.items()))
        return counts

    @staticmethod
    async def _pending(conn: Any, by_request: dict[int, list[dict[str, Any]]], upto: int) -> dict[int, set[int]]:
        """Per request, the ids of its undelivered rows up to `upto`, due or waiting for a retry: a row goes
        only once every earlier one is delivered (one query per batch, not one per row). A dead letter
        waits for the reconcile job, not the rows after it."""
        o = t.outbox
        out: dict[int, set[int]] = {r: set() for r in by_request}
        rows = await conn.execute(
            sa.select(o.c.request_id, o.c.id).where(
                o.c.request_id.in_(list(by_request)),
                o.c.id <= upto,
                o.c.delivered_at.is_(None),
                o.c.dead_at.is_(None),
            )
        )
        for request_id, ident in rows:
            out[request_id].add(ident)
        return out

    async def _claim(self, row: dict[str, Any]) -> int | None:
        o = t.outbox
        now = repo.now()
        async with self.engine.begin() as conn:
            result = await conn.execute(
                o.update()
                .where(o.c.id == row["id"], o.c.delivered_at.is_(None), o.c.next_attempt_at <= now)
                .values(attempts=o.c.attempts + 1, next_attempt_at=now + timedelta(seconds=self.claim_s))
            )
        return row["attempts"] + 1 if result.rowcount == 1 else None

    async def _deliver(self, row: dict[str, Any]) -> str:
        attempts = await self._claim(row)
        if attempts is None:
            return "retry"  # another instance has it
        try:
            context = await self._context(row)
            if context is None:
                await self._finish(row, "not sent: the request's category or agency has no vendor integration")
                return "skipped"
            effects = await self._perform(row, attempts, *context)
        except VendorError as err:
            return await self._failed(row, attempts, err)
        await self._finish(row, None, effects)
        return "delivered"

    async def _context(self, row: dict[str, Any]) -> tuple[dict, dict, dict] | None:
        """The request, its category and its agency's integration (none: the request stays here)."""
        r, c, a, i = t.requests, t.categories, t.agencies, t.integrations
        async with self.engine.connect() as conn:
            request = await repo.one(conn, r.select().where(r.c.id == row["request_id"]))
            category = await repo.one(conn, c.select().where(c.c.id == request["category_id"]))
            integration = await repo.one(
                conn, i.select().join(a, a.c.integration_id == i.c.id).where(a.c.id == request["agency_id"])
            )
        if not category["integrated"] or integration is None or integration["vendor"] == "none":
            return None
        return request, category, integration

    def _adapter(self, integration: dict[str, Any]) -> Any:
        """One adapter per integration while it is unchanged: its connector keeps the vendor's session
        (a Cityworks token), as a real client does, instead of logging in for every row."""
        key = (integration["id"], integration["updated_at"])
        cached = self._adapters.get(integration["id"])
        if cached is None or cached[0] != key:
            cached = (key, adapter(self.http, integration, self.engine))
            self._adapters[integration["id"]] = cached
        return cached[1]

    async def _perform(
        self, row: dict[str, Any], attempts: int, request: dict, category: dict, integration: dict
    ) -> list[dict[str, Any]]:
        """The vendor call(s); returns rows to write on success (vendor records, follow-up outbox rows).
        From the second attempt on, each effect is looked up at the vendor before it is done again."""
        vendor = self._adapter(integration)
        retry = attempts > 1
        payload = json.loads(row["payload"])
        kind = row["kind"]
        if kind == "create_request":
            vendor_id = await vendor.find_request(request, category) if retry else None
            if vendor_id is None:
                request = await self._geocode(request, integration)
                vendor_id = await vendor.create_request(request, category)
            effects: list[dict[str, Any]] = [self._record(integration, "request", request["id"], vendor_id)]
            async with self.engine.connect() as conn:
                media = await repo.many(conn, sa.select(t.media.c.id).where(t.media.c.request_id == request["id"]))
            taken = await self._comment_media_ids(request["id"])
            for m in media:
                if m["id"] not in taken:
                    effects.append({"outbox": {"kind": "add_attachment", "payload": json.dumps({"media_id": m["id"]})}})
            return effects
        vendor_request = await self._vendor_request(integration, request)
        if kind == "add_comment":
            comment = await self._row(t.comments, payload["comment_id"])
            if not comment["public"]:
                return []  # private comments are never sent
            sent = await vendor.find_comment(vendor_request, comment["body"]) if retry else None
            if sent is None:
                sent = await vendor.add_comment(vendor_request, comment["body"])
            # Recorded by the vendor's id, so the comment poll never imports our own comment back (CW-ICM-1).
            effects = [self._record(integration, "comment", comment["id"], sent)]
            if comment["media_id"]:
                media_payload = json.dumps({"media_id": comment["media_id"]})
                effects.append({"outbox": {"kind": "add_attachment", "payload": media_payload}})
            return effects
        if kind == "add_attachment":
            media = await self._row(t.media, payload["media_id"])
            filename = f"{media['public_id']}-{media['filename']}"
            attached = await vendor.find_attachment(vendor_request, filename) if retry else None
            if attached is None:
                attached = await vendor.add_attachment(vendor_request, filename, media["content"])
            return [self._record(integration, "attachment", media["id"], attached)]
        raise Rejected(f"unknown outbox kind {kind!r}")

    async def _geocode(self, request: dict[str, Any], integration: dict[str, Any]) -> dict[str, Any]:
        """GEO-3/4: the integration's locator names the point's address; a failure is recorded, never fatal."""
        if not integration["geocoder_url"] or request["lat"] is None or request["validated_address"]:
            return request
        values: dict[str, Any]
        try:
            address = await Geocoder(self.http, integration["geocoder_url"]).reverse(request["long"], request["lat"])
            values = {"validated_address": address, "geocode_error": None}
        except VendorError as err:
            values = {"validated_address": None, "geocode_error": f"{err.kind}: {err.message}"[:500]}
        async with self.engine.begin() as conn:
            await conn.execute(t.requests.update().where(t.requests.c.id == request["id"]).values(**values))
        return {**request, **values}

    async def _comment_media_ids(self, request_id: int) -> set[int]:
        cm = t.comments
        async with self.engine.connect() as conn:
            rows = await repo.many(
                conn, sa.select(cm.c.media_id).where(cm.c.request_id == request_id, cm.c.media_id.is_not(None))
            )
        return {r["media_id"] for r in rows}

    async def _vendor_request(self, integration: dict[str, Any], request: dict[str, Any]) -> str:
        v = t.vendor_records
        async with self.engine.connect() as conn:
            vendor_id = await conn.scalar(
                sa.select(v.c.vendor_id).where(
                    v.c.integration_id == integration["id"], v.c.kind == "request", v.c.local_id == request["id"]
                )
            )
        if vendor_id is None:
            raise Rejected("the request is not at the vendor yet")
        return str(vendor_id)

    async def _row(self, table: sa.Table, ident: int) -> dict[str, Any]:
        async with self.engine.connect() as conn:
            found = await repo.one(conn, table.select().where(table.c.id == ident))
        if found is None:
            raise Rejected(f"{table.name} {ident} is gone")
        return found

    def _record(self, integration: dict[str, Any], kind: str, local_id: int, vendor_id: Any) -> dict[str, Any]:
        return {
            "record": {
                "integration_id": integration["id"],
                "kind": kind,
                "local_id": local_id,
                "vendor_id": str(vendor_id),
                "created_at": repo.now(),
            }
        }

    async def _finish(self, row: dict[str, Any], note: str | None, effects: list[dict[str, Any]] = ()) -> None:
        o, v = t.outbox, t.vendor_records
        now = repo.now()
        async with self.engine.begin() as conn:
            for effect in effects:
                if "record" in effect:
                    rec = effect["record"]
                    exists = await conn.scalar(
                        sa.select(v.c.id).where(
                            v.c.integration_id == rec["integration_id"],
                            v.c.kind == rec["kind"],
                            v.c.local_id == rec["local_id"],
                        )
                    )
                    if exists is None:
                        await conn.execute(v.insert().values(**rec))
                else:
                    follow = effect["outbox"]
                    await conn.execute(
                        o.insert().values(
                            **follow,
                            request_id=row["request_id"],
                            created_at=now,
                            attempts=0,
                            next_attempt_at=now,
                        )
                    )
            await conn.execute(o.update().where(o.c.id == row["id"]).values(delivered_at=now, last_error=note))

    async def _failed(self, row: dict[str, Any], attempts: int, err: VendorError) -> str:
        o = t.outbox
        now = repo.now()
        values: dict[str, Any] = {"last_error": f"{err.kind}: {err.message}"[:2000]}
        if attempts >= MAX_ATTEMPTS:
            values["dead_at"] = now
        else:
            values["next_attempt_at"] = now + timedelta(seconds=retry_delay(attempts, self.retry_base_s, self.rng))
        async with self.engine.begin() as conn:
            await conn.execute(o.update().where(o.c.id == row["id"]).values(**values))
        return "dead" if "dead_at" in values else "retry"
