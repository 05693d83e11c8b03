"""Deterministic seeding: the same seed gives byte-identical data.

Faker is slow per call, so a seeder draws a pool of fake values once and then picks from it with a seeded
RNG; that keeps a 100,000-record seed within seconds and still fully reproducible.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from faker import Faker

# Every simulator's clock for seeded data starts here, so dates do not depend on when a test runs.
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)


def make_rng(seed: int, stream: str) -> random.Random:
    """One independent, reproducible random stream per purpose (string seeds hash with SHA-512)."""
    return random.Random(f"{stream}:{seed}")


class Seeder:
    def __init__(self, seed: int, locale: str = "en_US", pool_size: int = 512) -> None:
        self.seed = seed
        self.rng = make_rng(seed, "seeder")
        self.faker = Faker(locale)
        self.faker.seed_instance(seed)
        self._pool_size = pool_size
        self._pools: dict[str, list[Any]] = {}

    def pick(self, provider: str, make: Callable[[Faker], Any] | None = None) -> Any:
        """A value from a pool of `pool_size` values made by `faker.<provider>()` (or `make`)."""
        pool = self._pools.get(provider)
        if pool is None:
            maker = make or getattr(self.faker, provider)
            pool = self._pools[provider] = [
                maker() if make is None else maker(self.faker) for _ in range(self._pool_size)
            ]
        return pool[self.rng.randrange(len(pool))]

    def timestamp(self, days_back: int = 365) -> datetime:
        return EPOCH - timedelta(seconds=self.rng.randrange(days_back * 86_400))


def canonical_digest(value: Any) -> str:
    """SHA-256 of a canonical JSON dump: two states are equal exactly when their digests are."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str, ensure_ascii=False)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()
