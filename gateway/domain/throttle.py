"""Limits on guessing (H-AUTH-1): a sliding-window counter of failures per key (an e-mail address, a client
address), and a bound on the password-hashing work in flight. Both are in memory, per gateway instance: with
N instances an attacker gets N times the attempts. A shared store would make a flood of failures a flood of
database writes; the per-instance limit already stops a single machine's guessing at a few attempts a minute."""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator, Callable, Iterator


class Window:
    """At most `limit` events per key in any `window_s` seconds. A key over its limit waits until its oldest
    counted event leaves the window (bounded: an attacker who stops cannot keep an account shut for longer than
    one window). Only the last `limit` events of a key are kept, and at most `max_keys` keys (the least recently
    used go first), so an attacker who rotates keys costs memory bounded by the settings."""

    def __init__(
        self, limit: int, window_s: float, max_keys: int = 100_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("a window needs a limit of at least 1 and a positive length")
        self.limit, self.window_s, self.max_keys, self.clock = limit, window_s, max_keys, clock
        self._events: OrderedDict[str, deque[float]] = OrderedDict()

    def wait(self, key: str) -> float:
        """Seconds until `key` may try again; 0 if it may now."""
        events = self._events.get(key)
        if events is None:
            return 0.0
        now = self.clock()
        while events and events[0] <= now - self.window_s:
            events.popleft()
        if not events:
            del self._events[key]
            return 0.0
        if len(events) < self.limit:
            return 0.0
        return events[0] + self.window_s - now

    def add(self, key: str) -> float:
        """Counts an event now; returns its time (to `forgive` it)."""
        events = self._events.get(key)
        if events is None:
            events = self._events[key] = deque(maxlen=self.limit)
            while len(self._events) > self.max_keys:
                self._events.popitem(last=False)
        else:
            self._events.move_to_end(key)
        stamp = self.clock()
        events.append(stamp)
        return stamp

    def forgive(self, key: str, stamp: float) -> None:
        """Uncounts one event (an attempt counted before it was known to succeed)."""
        events = self._events.get(key)
        if events is not None:
            with contextlib.suppress(ValueError):
                events.remove(stamp)

    def clear(self, key: str) -> None:
        self._events.pop(key, None)


class InProgress:
    """How many attempts each key has under way; `enter` says whether one more may start."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._count: dict[str, int] = {}

    @contextlib.contextmanager
    def held(self, key: str) -> Iterator[bool]:
        if self._count.get(key, 0) >= self.limit:
            yield False
            return
        self._count[key] = self._count.get(key, 0) + 1
        try:
            yield True
        finally:
            self._count[key] -= 1
            if not self._count[key]:
                del self._count[key]


def retry_after(seconds: float) -> str:
    """A Retry-After value: whole seconds, at least 1."""
    return str(max(1, math.ceil(seconds)))


class Busy(Exception):
    """More password hashes are waiting than the bound lets wait: answer 503 now rather than queue."""


class Bound:
    """At most `at_once` password hashes run at a time (each holds its memory: 32 MiB at the current scrypt
    cost, 128 MiB for an older hash), at most `waiting` more wait for a turn, each at most `wait_s`; beyond
    that `Busy`. `in_flight` and `peak` are the real counts, read by the tests and the benchmark."""

    def __init__(self, at_once: int, waiting: int, wait_s: float = 1.0) -> None:
        if at_once < 1 or waiting < 0 or wait_s <= 0:
            raise ValueError("at least one hash at once, a waiting room of zero or more, a positive wait")
        self.at_once, self.waiting, self.wait_s = at_once, waiting, wait_s
        self._slots = asyncio.Semaphore(at_once)
        self.queued = 0
        self.in_flight = 0
        self.peak = 0
        self.refused = 0

    @contextlib.asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        if self._slots.locked() and self.queued >= self.waiting:
            self.refused += 1
            raise Busy
        self.queued += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait_s)
        except TimeoutError:
            self.refused += 1
            raise Busy from None
        finally:
            self.queued -= 1
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1
            self._slots.release()
