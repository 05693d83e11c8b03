"""What a citizen may report, and where: the public services with their questions and agencies, the
listing of them all (Open311 `services`), and the agencies' bounding boxes, read from memory on the hot
path instead of several queries per call.

A copy is dropped when a transaction of this process that wrote a catalog table ends (the engine's
`catalog_version`, see storage/engine.py) and, for changes made by another instance sharing the
database, once it is `max_age_s` old. Entries are loaded on first use, per service code.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from .storage import repo
from .storage import schema as t
from .storage.engine import GatewayEngine

MAX_AGE_S = 5.0
LISTING_MOST = 5_000  # a longer listing is read per call rather than held


@dataclass(frozen=True, slots=True)
class Service:
    category: dict[str, Any]
    questions: list[dict[str, Any]]
    agency_ids: list[int]


@dataclass(frozen=True, slots=True)
class Listed:
    """One public service as the Open311 listing shows it."""

    category: dict[str, Any]
    question_count: int
    agency_ids: frozenset[int]


class Catalog:
    def __init__(self, engine: GatewayEngine, max_age_s: float = MAX_AGE_S, most: int = 1024) -> None:
        self.engine, self.max_age_s, self.most = engine, max_age_s, most
        self._services: dict[str, Service | None] = {}
        self._agencies: list[dict[str, Any]] | None = None
        self._listing: list[Listed] | None = None
        self._version = -1
        self._born = 0.0

    def _generation(self) -> tuple[int, float]:
        """Drops everything held when it may be stale; returns what identifies the copy now held."""
        if self.engine.catalog_version != self._version or time.monotonic() - self._born > self.max_age_s:
            self._services.clear()
            self._agencies = self._listing = None
            self._version, self._born = self.engine.catalog_version, time.monotonic()
        return self._version, self._born

    async def service(self, code: str) -> Service | None:
        """The public, active service with this code (None: there is none)."""
        generation = self._generation()
        if code in self._services:
            return self._services[code]
        async with self.engine.connect() as conn:
            found = await _load_service(conn, code)
        if self._generation() == generation:  # nothing changed while it loaded: keep it
            if len(self._services) >= self.most:
                self._services.clear()
            self._services[code] = found
        return found

    async def listing(self) -> list[Listed]:
        """Every public, active service in the listing's order, with its question count and agencies."""
        generation = self._generation()
        if self._listing is not None:
            return self._listing
        async with self.engine.connect() as conn:
            categories = await repo.public_categories(conn)
            counts = await repo.question_counts(conn)
            membership = await repo.category_agency_ids(conn, [c["id"] for c in categories])
        found = [Listed(c, counts.get(c["id"], 0), frozenset(membership[c["id"]])) for c in categories]
        if self._generation() == generation and len(found) <= LISTING_MOST:
            self._listing = found
        return found

    async def agencies(self) -> list[dict[str, Any]]:
        """Every agency with a geography, and the geography's bounding box."""
        generation = self._generation()
        if self._agencies is not None:
            return self._agencies
        async with self.engine.connect() as conn:
            found = await repo.agencies_with_geography(conn)
        if self._generation() == generation:
            self._agencies = found
        return found


async def _load_service(conn: Any, code: str) -> Service | None:
    c, q = t.categories, t.questions
    category = await repo.one(conn, c.select().where(c.c.code == code))
    if category is None or not category["public"] or not category["active"]:
        return None
    questions = await repo.many(
        conn, q.select().where(q.c.category_id == category["id"]).order_by(q.c.position, q.c.id)
    )
    members = (await repo.category_agency_ids(conn, [category["id"]]))[category["id"]]
    return Service(category, questions, members)
