"""Progress of a long command the way its users expect it: a rich progress bar on a terminal, a plain line every
few seconds in a log (a CI job that prints nothing for minutes reads as hung, and a bar's redraws garble a log)."""

from __future__ import annotations

import re
import time
from types import TracebackType

from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn

LOG_EVERY_S = 5.0  # in a log: one line this often at most
TERMINAL_EVERY_S = 0.5  # on a terminal: how often a caller that polls should look again
_SPAN = re.compile(r"^(?:(\d+)h)?\s*(?:(\d+)m(?!s))?\s*(?:(\d+)s)?$")


def seconds(timespan: str) -> float | None:
    """locust's `-t` timespan (`90`, `30s`, `2m`, `1h30m`) in seconds; None when it is not one."""
    text = timespan.strip().lower()
    if text.isdigit():
        return float(text)
    match = _SPAN.match(text)
    if not text or match is None:
        return None
    h, m, s = (int(g) if g else 0 for g in match.groups())
    return float(h * 3600 + m * 60 + s)


class Shown:
    """`update(done, detail)` as often as the caller likes; `total` None draws a pulsing bar."""

    def __init__(self, label: str, total: float | None, console: Console | None = None) -> None:
        self.label = label
        self.console = console or Console()
        self.terminal = self.console.is_terminal
        self.every_s = TERMINAL_EVERY_S if self.terminal else LOG_EVERY_S
        self._last_line = 0.0
        self._bar: Progress | None = None
        if self.terminal:
            self._bar = Progress(
                TextColumn(f"[bold]{label}"),
                BarColumn(),
                TaskProgressColumn(),
                TimeElapsedColumn(),
                TextColumn("{task.fields[detail]}"),
                console=self.console,
            )
            self._task = self._bar.add_task(label, total=total, detail="starting")

    def __enter__(self) -> Shown:
        if self._bar is not None:
            self._bar.start()
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        if self._bar is not None:
            self._bar.stop()

    def update(self, done: float, detail: str) -> None:
        if self._bar is not None:
            self._bar.update(self._task, completed=done, detail=detail)
            return
        now = time.monotonic()
        if now - self._last_line >= LOG_EVERY_S - 0.05:
            self._last_line = now
            print(f"{self.label}: {detail}", flush=True)
