"""The conversation written to a HAR file as it happens: every exchange the proxy records is appended within a
second (secrets masked, bodies as captured), so a long pilot keeps all of it whatever the ring in memory still
holds, and the file is complete HAR 1.2 once the proxy stops. The exchanges are written before they are judged:
`verify-traffic` judges them from their bytes, as it judges any HAR."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TextIO

from harness.traffic import har
from harness.traffic.exchange import Exchange
from harness.traffic.masking import Masking

INTERVAL_S = 1.0


class HarFile:
    def __init__(
        self, path: str | Path, upstream: str, masking: Masking, profile: Mapping[str, Any], version: str
    ) -> None:
        self.path = Path(path)
        self.upstream, self.masking = upstream, masking
        self.head = har.document([], upstream, masking, profile, version)
        self._pending: list[Exchange] = []
        self._written = 0
        self._file: TextIO | None = None
        self._tail = ""
        self._lock = threading.Lock()

    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._file = self.path.open("w", encoding="utf-8")
        text = json.dumps(self.head, indent=1)
        # everything up to the (empty) entries list, which the exchanges then fill
        self._file.write(text[: text.rindex('"entries": [') + len('"entries": [')] + "\n")
        self._tail = text[text.rindex('"entries": [') + len('"entries": [') :].lstrip("]")
        self._file.flush()

    def add(self, ex: Exchange) -> None:
        """On the event loop, as each exchange ends."""
        self._pending.append(ex)

    def _take(self) -> list[Exchange]:  # on the event loop, so no exchange is added to a list already written
        pending, self._pending = self._pending, []
        return pending

    def _write(self, exchanges: list[Exchange]) -> None:
        with self._lock:  # a writing thread and the final close never interleave
            if self._file is None:
                return
            for ex in exchanges:
                entry = json.dumps(har.entry(ex, self.upstream, self.masking))
                self._file.write((",\n" if self._written else "") + entry)
                self._written += 1
            self._file.flush()

    async def run(self) -> None:
        """Write what came every INTERVAL_S until cancelled; encoding and writing happen in a thread, so the loop
        keeps forwarding meanwhile."""
        while True:
            await asyncio.sleep(INTERVAL_S)
            await asyncio.to_thread(self._write, self._take())

    def close(self) -> None:
        self._write(self._take())
        with self._lock:
            if self._file is not None:
                self._file.write("\n]" + self._tail + "\n")
                self._file.close()
                self._file = None
