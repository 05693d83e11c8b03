"""A simulator's wall clock: the real one, moved by a scenario's `clock` steps (set to a moment, jump by a
duration), so a timeline can put the vendor on the night of a daylight-saving change. A fresh backend's clock
is the real one, so reset brings the real time back."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone_named(name: str) -> ZoneInfo:
    """A simulator's time zone from its IANA name: the one check of it, for a `--timezone` option and a
    scenario section's `timezone` alike (both reach it through the simulator's configuration)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"timezone: unknown time zone {name!r}; an IANA name such as America/New_York") from None


class Clock:
    __slots__ = ("offset_s",)

    def __init__(self) -> None:
        self.offset_s = 0.0

    def time(self) -> float:
        return time.time() + self.offset_s

    def now(self) -> datetime:
        """The moment, aware (UTC)."""
        return datetime.fromtimestamp(self.time(), UTC)

    def jump(self, seconds: float) -> None:
        self.offset_s += seconds

    def set(self, moment: datetime) -> None:
        """From now on the clock reads `moment` (aware) and runs on from it."""
        self.offset_s = moment.timestamp() - time.time()
