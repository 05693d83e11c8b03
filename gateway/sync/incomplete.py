"""How a job says it did part of its work."""

from __future__ import annotations


class Incomplete(Exception):
    """A job did its work but some of it could not be done (recorded as the run's errors, with its counts)."""

    def __init__(self, errors: list[str], counts: dict[str, int]) -> None:
        super().__init__("; ".join(errors))
        self.errors, self.counts = errors, counts
