"""Pacing. Retry-After honoured (TRF-2): after an answer that names a time to wait, the client does not send the
same call again before that time has passed. Back-off (TRF-4): after failures that name no wait, retries of a
call do not come as a loop without pause. "The same call" is the same method, path, query and body bytes (a
retry); other calls are not held back by these rules, since a vendor's Retry-After may concern one resource."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC
from email.utils import parsedate_to_datetime
from itertools import pairwise

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


def backs_off(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    """TRF-4: after failures that name no wait, a retry loop must slow down. Judged over runs of the same call
    where each attempt failed and the next came: RUN attempts in a row each sent within GAP_S of the previous
    failure is a loop without back-off (full jitter may draw one short wait, hardly RUN - 1 in a row)."""
    by_call: dict[tuple[str, str, str, str], list[Exchange]] = {}
    for ex in exchanges:
        by_call.setdefault(_call(ex), []).append(ex)
    retried = 0
    problems: list[str] = []
    evidence: list[int] = []
    for attempts in by_call.values():
        quick = [attempts[0]]
        for prev, nxt in pairwise(attempts):
            if not (prev.failed and retry_after_seconds(prev) is None):
                quick = [nxt]
                continue
            retried += 1
            quick = [*quick, nxt] if nxt.started - prev.ended < GAP_S else [nxt]
            if len(quick) == RUN:
                gaps = ", ".join(f"{(b.started - a.ended) * 1000:.1f}" for a, b in pairwise(quick))
                problems.append(f"{nxt.method} {nxt.path}: {RUN} attempts in a row after failures, gaps {gaps} ms")
                evidence += [ex.id for ex in quick]
    if not retried:
        return not_covered(NEEDS_RETRIES)
    if problems:
        return failed("; ".join(problems[:5]), retried, evidence)
    return passed(f"{retried} retr(ies) after failures, none in a loop without back-off", retried)


# Full jitter (uniform in [0, base * 2^n]) draws three waits under 50 ms in a row rarely: with the reference
# gateway's base of 0.2 s, about once in 4,000 failing calls; a loop without back-off, every time.
GAP_S = 0.05
RUN = 4
NEEDS = "an answer carrying Retry-After (429 or 503)"
NEEDS_RETRIES = "a call retried after a failure that named no wait (no answer, a 5xx, a 429 without Retry-After)"
ALL = ("cityworks", "opengov", "arcgis", "city-api", "open311")
RULES = (
    Rule("retry-after-honoured", "client", dict.fromkeys(ALL, ("TRF-2",)), NEEDS, retry_after_honoured),
    Rule("backs-off-after-failures", "client", dict.fromkeys(ALL, ("TRF-4",)), NEEDS_RETRIES, backs_off),
)
