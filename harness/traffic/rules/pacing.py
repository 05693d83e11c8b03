"""Retry-After honoured (TRF-2): after an answer that names a time to wait, the client does not send the same
call again before that time has passed. "The same call" is the same method, path, query and body bytes (a
retry); other calls are not held back by this rule, since a vendor's Retry-After may concern one resource."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime

from ..analysis import Profile
from ..exchange import Exchange
from .model import Judgement, Rule, failed, not_covered, passed

TOLERANCE_S = 0.05  # the proxy's two timestamps (answer sent, retry received) are taken on either side of the wire


def retry_after_seconds(ex: Exchange) -> float | None:
    """The wait an answer names: delta-seconds, or an HTTP-date against the answer's Date (or its end)."""
    value = ex.header("Retry-After", "response")
    if value is None or ex.status is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    date = ex.header("Date", "response")
    try:
        now = parsedate_to_datetime(date).timestamp() if date else ex.ended
    except (TypeError, ValueError):
        now = ex.ended
    return max(0.0, when.timestamp() - now)


def _call(ex: Exchange) -> tuple[str, str, str, str]:
    return ex.method, ex.path, ex.query, ex.request_sha256


def retry_after_honoured(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    asked = [(ex, wait) for ex in exchanges if (wait := retry_after_seconds(ex)) is not None]
    if not asked:
        return not_covered(NEEDS)
    problems: list[str] = []
    evidence: list[int] = []
    for ex, wait in asked:
        again = next((n for n in exchanges if n.started > ex.started and n.id != ex.id and _call(n) == _call(ex)), None)
        if again is not None and again.started - ex.ended < wait - TOLERANCE_S:
            problems.append(
                f"#{again.id} {ex.method} {ex.path} sent again {again.started - ex.ended:.3f} s after #{ex.id} "
                f"asked to wait {wait:g} s (HTTP {ex.status})"
            )
            evidence += [ex.id, again.id]
    if problems:
        return failed("; ".join(problems[:5]), len(asked), evidence)
    return passed(f"{len(asked)} answer(s) with Retry-After, none retried early", len(asked))


NEEDS = "an answer carrying Retry-After (429 or 503)"
ALL = ("cityworks", "opengov", "arcgis", "city-api", "open311")
RULES = (Rule("retry-after-honoured", "client", dict.fromkeys(ALL, ("TRF-2",)), NEEDS, retry_after_honoured),)
