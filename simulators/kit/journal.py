"""The request journal: a bounded ring buffer of what crossed the wire.

The hot path only appends a slotted record holding references and byte slices; masking secrets,
decoding and JSON shaping happen when somebody reads the journal, not on every request. An entry keeps the
query as its raw text and the headers as one string, not as tuples of pairs: every object an entry holds is
freed, cold, when the entry falls off the ring ten thousand calls later (tuples of pairs cost a hot route ~8 %).
"""

from __future__ import annotations

import itertools
import re
import time
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from yarl import URL

from .contract import Violation
from .secrets import mask_body, mask_headers, mask_query


@dataclass(slots=True)
class Entry:
    id: int
    time: float
    source: str  # "client" for vendor-API calls, "operator" for /_sim/actions
    method: str
    path: str
    query: str  # the raw (still encoded) query string
    headers: str  # "Name: value" lines joined by HEADER_SEP
    content_type: str
    body: bytes
    body_size: int
    operation: str | None = None
    status: int | None = None  # None when no answer was sent (reset, timeout)
    response_content_type: str = ""
    response_body: bytes = b""
    response_size: int = 0
    duration_ms: float = 0.0
    violations: Sequence[Violation] = ()  # the real server would refuse this
    warnings: Sequence[Violation] = ()  # the real server accepts it, outside its documented contract
    fault: dict[str, Any] | None = None


HEADER_SEP = "\n"  # no header name or value holds a line break: the HTTP parser refuses them
# W3C Trace Context: version-traceid-parentid-flags; the trace id joins this exchange to the caller's trace
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")


def trace_of(pairs: Iterable[tuple[str, str]]) -> tuple[str | None, str | None]:
    """(traceparent, trace id) of a request's headers; (None, None) without a well-formed one."""
    for name, value in pairs:
        if name.lower() == "traceparent":
            value = value.strip().lower()
            found = TRACEPARENT.match(value)
            if found is not None and set(found.group(1)) != {"0"}:
                return value, found.group(1)
            return None, None
    return None, None


def header_pairs(text: str) -> list[tuple[str, str]]:
    # partition, not split: a line without ": " (were a parser ever to let a line break through) still reads
    pairs = (line.partition(": ") for line in text.split(HEADER_SEP)) if text else ()
    return [(name, value) for name, _, value in pairs]


def query_pairs(raw: str) -> Iterable[tuple[str, str]]:
    """The query as aiohttp's `request.query` read it (yarl, from the same raw text)."""
    return URL.build(query_string=raw, encoded=True).query.items() if raw else ()


class Journal:
    def __init__(self, size: int = 10_000, body_limit: int = 4096, secret_keys: Iterable[str] = ()) -> None:
        if size < 1:
            raise ValueError("journal size must be at least 1")
        self.size = size
        self.body_limit = body_limit
        self.secret_keys = frozenset(k.lower() for k in secret_keys)
        self._entries: deque[Entry] = deque(maxlen=size)
        self._ids = itertools.count(1)
        self.total = 0  # every entry ever recorded, including those that fell off the ring
        # Told of every finished entry (a scenario's timeline watching what the client does); None: nobody.
        self.listener: Callable[[Entry], None] | None = None

    def start(
        self,
        *,
        source: str,
        method: str,
        path: str,
        query: str,
        headers: Iterable[tuple[str, str]],
        content_type: str,
        body: bytes,
    ) -> Entry:
        entry = Entry(
            id=next(self._ids),
            time=time.time(),
            source=source,
            method=method,
            path=path,
            query=query,
            headers=HEADER_SEP.join(map(": ".join, headers)),
            content_type=content_type,
            body=body[: self.body_limit],
            body_size=len(body),
        )
        return entry

    def finish(
        self,
        entry: Entry,
        *,
        status: int | None,
        content_type: str = "",
        body: bytes | None = None,
        started: float,
    ) -> None:
        entry.status = status
        entry.response_content_type = content_type
        if body is not None:
            entry.response_body = body[: self.body_limit]
            entry.response_size = len(body)
        entry.duration_ms = (time.perf_counter() - started) * 1000  # rounded when read: round() costs per call
        self._entries.append(entry)
        self.total += 1
        if self.listener is not None:
            self.listener(entry)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def select(
        self,
        *,
        operation: str | None = None,
        path: str | None = None,
        method: str | None = None,
        since: int | None = None,
        violations_only: bool = False,
        warnings_only: bool = False,
        source: str | None = None,
        limit: int | None = None,
    ) -> list[Entry]:
        out = []
        for e in self._entries:
            if since is not None and e.id <= since:
                continue
            if method is not None and e.method != method.upper():
                continue
            if operation is not None and (e.operation or "").lower() != operation.lower():
                continue
            if path is not None and path.lower() not in e.path.lower():
                continue
            if violations_only and not e.violations:
                continue
            if warnings_only and not e.warnings:
                continue
            if source is not None and e.source != source:
                continue
            out.append(e)
        return out[-limit:] if limit else out

    def render(self, entry: Entry) -> dict[str, Any]:
        """The JSON shape of one entry, secrets masked."""
        keys = self.secret_keys
        headers = header_pairs(entry.headers)
        traceparent, trace_id = trace_of(headers)
        return {
            "id": entry.id,
            "time": datetime.fromtimestamp(entry.time, UTC).isoformat(timespec="milliseconds"),
            "source": entry.source,
            "method": entry.method,
            "path": entry.path,
            "operation": entry.operation,
            "query": mask_query(query_pairs(entry.query), keys),
            "headers": mask_headers(headers, keys),
            "traceparent": traceparent,
            "trace_id": trace_id,
            "body": mask_body(entry.body, entry.content_type, keys, entry.body_size),
            "body_size": entry.body_size,
            "body_truncated": entry.body_size > len(entry.body),
            "status": entry.status,
            "response_body": mask_body(entry.response_body, entry.response_content_type, keys, entry.response_size),
            "response_size": entry.response_size,
            "response_truncated": entry.response_size > len(entry.response_body),
            "duration_ms": round(entry.duration_ms, 3),
            "violations": [v.as_json() for v in entry.violations],
            "warnings": [w.as_json() for w in entry.warnings],
            "fault": entry.fault,
        }

    def stats(self) -> Mapping[str, int]:
        return {"size": self.size, "held": len(self._entries), "total": self.total}
