"""What the proxy keeps of the conversation: a bounded ring of exchanges. Recording is the only work on the
forwarding path; matching, judging and masking happen when somebody reads (the journal, the HAR file, the
scorecard), once per exchange, as the simulators' journal defers its work to the reader."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from harness.traffic import forms
from harness.traffic.analysis import Profile, analyse_safely
from harness.traffic.exchange import Exchange
from harness.traffic.masking import Masking
from simulators.kit.journal import HEADER_SEP, Entry, Journal

from .forward import Capture

BATCH = 50


class Recorder:
    def __init__(
        self, profile: Profile, masking: Masking, size: int = 10_000, body_limit: int = 4096,
        max_bytes: int = 512 * 1024 * 1024,
    ) -> None:  # fmt: skip
        self.profile = profile
        self.masking = masking
        self.size = size
        self.max_bytes = max_bytes  # bodies held, all exchanges together: the oldest go first beyond it
        self._exchanges: deque[Exchange] = deque()
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
    ) -> Exchange:  # fmt: skip
        ex = Exchange(
            id=next(self._ids),
            started=started,
            ended=ended,
            method=method,
            path=path,
            query=query,
            request_headers=tuple(headers),
            request_body=bytes(capture.request_body),
            request_size=capture.request_size,
            request_sha256=capture.request_hash.hexdigest(),
            status=capture.status,
            reason=capture.reason,
            response_headers=capture.response_headers,
            response_body=bytes(capture.response_body),
            response_size=capture.response_size,
            response_sha256=capture.response_hash.hexdigest(),
            outcome=capture.outcome,
        )
        self._exchanges.append(ex)
        self.total += 1
        for listener in self.listeners:
            listener(ex)
        self.held_bytes += _bytes(ex)
        while len(self._exchanges) > 1 and (len(self._exchanges) > self.size or self.held_bytes > self.max_bytes):
            self.held_bytes -= _bytes(self._exchanges.popleft())
            self.dropped += 1
        return ex

    def clear(self) -> None:
        self._exchanges.clear()
        self.held_bytes = 0

    def __len__(self) -> int:
        return len(self._exchanges)

    def judged(self, since: int = 0) -> list[Exchange]:
        """Every exchange held (after id `since`), analysed; an analysis is kept, so each costs once."""
        out = []
        for i, ex in enumerate(list(self._exchanges)):
            if ex.id <= since:
                continue
            if not ex.analysed:
                ex = self._analysed(i, ex)
            out.append(ex)
        return out

    async def judged_soon(self, since: int = 0) -> list[Exchange]:
        """The same, yielding to the event loop every BATCH analyses: a reader of a full ring must not hold up the
        calls being forwarded meanwhile."""
        out = []
        for n, (i, ex) in enumerate(enumerate(list(self._exchanges))):
            if ex.id <= since:
                continue
            if not ex.analysed:
                ex = self._analysed(i, ex)
                if n % BATCH == 0:
                    await asyncio.sleep(0)
            out.append(ex)
        return out

    def stats(self) -> dict[str, int]:
        return {"size": self.size, "held": len(self), "total": self.total, "dropped": self.dropped,
                "held_bytes": self.held_bytes, "max_bytes": self.max_bytes}  # fmt: skip

    def _analysed(self, i: int, ex: Exchange) -> Exchange:
        done = analyse_safely(self.profile, ex)
        # The ring may have moved on while a reader yielded: keep the analysis only where the exchange still is.
        if i < len(self._exchanges) and self._exchanges[i] is ex:
            self._exchanges[i] = done
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


def _bytes(ex: Exchange) -> int:
    return len(ex.request_body) + len(ex.response_body)
