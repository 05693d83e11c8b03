"""Group commit: the same kind of write from many concurrent callers, committed together.

A write through SQLAlchemy's async drivers costs several loop-to-driver hand-offs per statement and one
commit per transaction; sixteen citizens reporting at once paid for sixteen transactions of three
statements each. Here each caller hands over its item and waits; one flusher writes every item waiting at
that moment with multi-row statements in one transaction, and each caller returns once that transaction
has committed, exactly as if it had committed alone. If the batch fails, each of its items is written
again on its own, so one bad item fails only its own caller.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

Item = TypeVar("Item")
Result = TypeVar("Result")
Write = Callable[[AsyncConnection, Sequence[Item]], Awaitable[Sequence[Result]]]


class GroupCommit(Generic[Item, Result]):
    """`await group(item)` -> what `write(conn, items)` returned for that item, once it is committed.
    `write` must return one result per item, in order, and write all of them or raise. Never await it inside
    a write transaction of the same engine: on SQLite the flusher would wait for that transaction's turn."""

    def __init__(self, engine: AsyncEngine, write: Write, most: int = 200) -> None:
        self.engine, self.write, self.most = engine, write, most
        self._waiting: list[tuple[Item, asyncio.Future[Result]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self.transactions = 0  # committed, for tests and benchmarks

    async def __call__(self, item: Item) -> Result:
        done: asyncio.Future[Result] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.create_task(self._flush())
        # A caller that gives up (its client went away) does not take the batch down with it.
        return await asyncio.shield(done)

    async def _flush(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self.most], self._waiting[self.most :]
            if not await self._commit(batch) and len(batch) > 1:
                for one in batch:  # find the item that failed; the others commit on their own
                    await self._commit([one])

    async def _commit(self, batch: list[tuple[Item, asyncio.Future[Result]]]) -> bool:
        """True once committed; a failure is handed to the caller of a lone item."""
        try:
            async with self.engine.begin() as conn:
                results = await self.write(conn, [item for item, _ in batch])
                if len(results) != len(batch):
                    raise RuntimeError(f"{self.write!r} returned {len(results)} results for {len(batch)} items")
        except Exception as exc:
            if len(batch) == 1 and not batch[0][1].done():
                batch[0][1].set_exception(exc)
            return False
        self.transactions += 1
        for (_, done), result in zip(batch, results, strict=True):
            if not done.done():
                done.set_result(result)
        return True
