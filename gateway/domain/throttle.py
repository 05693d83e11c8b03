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

    def count(self, key: str) -> int:
        """Events of `key` in the window now."""
        self.wait(key)  # drops what left the window
        return len(self._events.get(key, ()))

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
    """No turn for a password hash: too many wait (`waited` False: refused at once) or the wait ran out."""

    def __init__(self, waited: bool) -> None:
        super().__init__("busy")
        self.waited = waited


class Bound:
    """At most `at_once` password hashes run at a time (each holds its memory: 32 MiB at the current scrypt
    cost, 128 MiB for an older hash), at most `waiting` more wait for a turn, each at most `wait_s`; beyond
    that `Busy`. A waiter marked `first` (a client with no failure counted against it) gets the next turn
    before any other: a flood from addresses that already failed cannot stand in front of a citizen.
    `in_flight` and `peak` are the real counts, read by the tests and the benchmark."""

    def __init__(self, at_once: int, waiting: int, wait_s: float = 1.0) -> None:
        if at_once < 1 or waiting < 0 or wait_s <= 0:
            raise ValueError("at least one hash at once, a waiting room of zero or more, a positive wait")
        self.at_once, self.waiting, self.wait_s = at_once, waiting, wait_s
        self._free = at_once
        self._first: deque[asyncio.Future[None]] = deque()
        self._rest: deque[asyncio.Future[None]] = deque()
        self.in_flight = 0
        self.peak = 0
        self.refused = 0

    @property
    def queued(self) -> int:
        return len(self._first) + len(self._rest)

    async def _turn(self, first: bool) -> None:
        if self._free > 0 and not self.queued:
            self._free -= 1
            return
        if (len(self._first) if first else self.queued) >= self.waiting:
            self.refused += 1
            raise Busy(waited=False)
        turn: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        line = self._first if first else self._rest
        line.append(turn)
        try:
            await asyncio.wait({turn}, timeout=self.wait_s)
        except asyncio.CancelledError:  # the request went away while it waited
            if turn.done():
                self._release()  # it was handed a turn: pass it on
            else:
                line.remove(turn)
                turn.cancel()
            raise
        if not turn.done():
            line.remove(turn)
            turn.cancel()
            self.refused += 1
            raise Busy(waited=True)

    def _release(self) -> None:
        for line in (self._first, self._rest):
            while line:
                turn = line.popleft()
                if not turn.done():
                    turn.set_result(None)  # the turn passes on: the slot stays taken
                    return
        self._free += 1

    @contextlib.asynccontextmanager
    async def slot(self, first: bool = False) -> AsyncIterator[None]:
        await self._turn(first)
        self.in_flight += 1
        self.peak = max(self.peak, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1
            self._release()
