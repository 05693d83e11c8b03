"""What the proxy keeps of the conversation: a bounded ring of exchanges. Recording is the only work on the
forwarding path; matching, judging and masking happen when somebody reads (the journal, the HAR file, the
scorecard), once per exchange, as the simulators' journal defers its work to the reader."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from harness.traffic import forms
from harness.traffic.analysis import Profile, analyse_safely
from harness.traffic.exchange import Exchange
from harness.traffic.masking import Masking
from simulators.kit.contract import Violation
from simulators.kit.journal import HEADER_SEP, Entry, Journal, header_pairs

from .forward import Capture

BATCH = 50


@dataclass(slots=True)
class Held:
    """An exchange as the ring keeps it: strings, bytes and numbers only, headers as one text (as the simulators'
    journal keeps them). A ring of full `Exchange`s holds a tuple per header, tens of objects per exchange that
    Python's collector walks on every full collection: pauses of a tenth of a second in a long run's latency."""

    id: int
    started: float
    ended: float
    method: str
    path: str
    query: str
    request_headers: str
    request_body: bytes
    request_size: int
    request_sha256: str
    status: int | None
    reason: str
    response_headers: str
    response_body: bytes
    response_size: int
    response_sha256: str
    outcome: str
    verdict: tuple[str | None, tuple[Violation, ...], tuple[Violation, ...]] | None = None  # once judged

    @property
    def size(self) -> int:
        return len(self.request_body) + len(self.response_body)

    def exchange(self) -> Exchange:
        ex = Exchange(
            self.id, self.started, self.ended, self.method, self.path, self.query,
            tuple(header_pairs(self.request_headers)), self.request_body, self.request_size, self.request_sha256,
            self.status, self.reason, tuple(header_pairs(self.response_headers)), self.response_body,
            self.response_size, self.response_sha256, self.outcome,
        )  # fmt: skip
        if self.verdict is None:
            return ex
        operation, violations, warnings = self.verdict
        return replace(ex, operation=operation, violations=violations, warnings=warnings, analysed=True)


class Recorder:
    def __init__(
        self, profile: Profile, masking: Masking, size: int = 10_000, body_limit: int = 4096,
        max_bytes: int = 512 * 1024 * 1024,
    ) -> None:  # fmt: skip
        self.profile = profile
        self.masking = masking
        self.size = size
        self.max_bytes = max_bytes  # bodies held, all exchanges together: the oldest go first beyond it
        self._held: deque[Held] = deque()
        self._ids = itertools.count(1)
        self.total = 0
        self.held_bytes = 0
        self.dropped = 0  # exchanges that fell off the ring (by count or by bytes): the rules judge the rest
        self.listeners: list[Callable[[Exchange], None]] = []  # told of each exchange as it is recorded
        # The journal's own renderer (secrets masked as the simulators mask them), over entries built on reading.
        self._journal = Journal(1, body_limit, masking.secret_keys)

    def record(
        self, method: str, path: str, query: str, headers: Iterable[tuple[str, str]], started: float, ended: float,
        capture: Capture,
    ) -> Held:  # fmt: skip
        held = Held(
            next(self._ids), started, ended, method, path, query,
            HEADER_SEP.join(map(": ".join, headers)), bytes(capture.request_body), capture.request_size,
            capture.request_hash.hexdigest(), capture.status, capture.reason,
            HEADER_SEP.join(map(": ".join, capture.response_headers)), bytes(capture.response_body),
            capture.response_size, capture.response_hash.hexdigest(), capture.outcome,
        )  # fmt: skip
        self._held.append(held)
        self.total += 1
        if self.listeners:
            ex = held.exchange()
            for listener in self.listeners:
                listener(ex)
        self.held_bytes += held.size
        while len(self._held) > 1 and (len(self._held) > self.size or self.held_bytes > self.max_bytes):
            self.held_bytes -= self._held.popleft().size
            self.dropped += 1
        return held

    def clear(self) -> None:
        self._held.clear()
        self.held_bytes = 0

    def __len__(self) -> int:
        return len(self._held)

    def judged(self, since: int = 0) -> list[Exchange]:
        """Every exchange held (after id `since`), analysed; a verdict is kept, so each costs once."""
        return [self._judged(held) for held in list(self._held) if held.id > since]

    async def judged_soon(self, since: int = 0) -> list[Exchange]:
        """The same, yielding to the event loop every BATCH analyses: a reader of a full ring must not hold up the
        calls being forwarded meanwhile."""
        out = []
        for n, held in enumerate(list(self._held)):
            if held.id <= since:
                continue
            if held.verdict is None and n % BATCH == 0:
                await asyncio.sleep(0)
            out.append(self._judged(held))
        return out

    def stats(self) -> dict[str, int]:
        return {"size": self.size, "held": len(self), "total": self.total, "dropped": self.dropped,
                "held_bytes": self.held_bytes, "max_bytes": self.max_bytes}  # fmt: skip

    def _judged(self, held: Held) -> Exchange:
        ex = held.exchange()
        if held.verdict is not None:
            return ex
        done = analyse_safely(self.profile, ex)
        held.verdict = (done.operation, tuple(done.violations), tuple(done.warnings))
        return done

    def journal(self, exchanges: Sequence[Exchange]) -> list[dict[str, Any]]:
        """Exchanges in the simulators' journal shape (`GET /_sim/journal`), plus how each ended."""
        return [{**self._journal.render(self._entry(ex)), "outcome": ex.outcome} for ex in exchanges]

    def _entry(self, ex: Exchange) -> Entry:
        limit = self._journal.body_limit
        body = ex.request_body
        summary = forms.summary(ex.content_type, body)
        if summary is not None:  # a multipart body as the simulators journal one: its fields, files described
            body = json.dumps(summary).encode()
        masking = self.masking
        if masking.redact_key is not None:
            body = masking.body(ex.content_type, body) if summary is None else masking.text(body.decode()).encode()
        answer = masking.body(ex.response_content_type, ex.response_body) if masking.redact_key else ex.response_body
        return Entry(
            id=ex.id,
            time=ex.started,
            source="client",
            method=ex.method,
            path=ex.path,
            query=masking.query(ex.query) if masking.redact_key is not None else ex.query,
            headers=HEADER_SEP.join(map(": ".join, ex.request_headers)),
            content_type=ex.content_type,
            body=body[:limit],
            body_size=ex.request_size,
            operation=ex.operation,
            status=ex.status,
            response_content_type=ex.response_content_type,
            response_body=answer[:limit],
            response_size=ex.response_size,
            duration_ms=(ex.ended - ex.started) * 1000,
            violations=ex.violations,
            warnings=ex.warnings,
        )
