"""Rules judged by the contract alone, on either side of the wire: the client's calls (TRF-1), the server's
answers (TRF-3) and, among them, its failures in the vendor's own error envelope (the vendors' `*-API-*` IDs)."""

from __future__ import annotations

from collections.abc import Sequence

from ..analysis import Profile
from ..exchange import Exchange
from .model import Judgement, Rule, failed, not_covered, passed
from .reading import cw_status, json_answer, member

ALL = ("cityworks", "opengov", "arcgis", "city-api", "open311")


def _listed(found: Sequence[tuple[Exchange, str]]) -> str:
    shown = "; ".join(f"#{ex.id} {ex.method} {ex.path}: {text}" for ex, text in found[:3])
    return shown + (f" (and {len(found) - 3} more)" if len(found) > 3 else "")


def client_calls(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    judged = [ex for ex in exchanges if ex.analysed]
    if not judged:
        return not_covered(NEEDS_CALLS)
    bad = [(ex, f"{v.location}: {v.message}") for ex in judged for v in ex.violations if v.where == "request"]
    if bad:
        return failed(f"{len(bad)} refusable call problem(s): {_listed(bad)}", len(judged), [ex.id for ex, _ in bad])
    warned = sum(1 for ex in judged if ex.warnings)
    note = f"; {warned} accepted outside the documented contract (warnings)" if warned else ""
    return passed(f"{len(judged)} call(s), none the API would refuse{note}", len(judged))


def answers(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    judged = [ex for ex in exchanges if ex.status is not None and ex.operation is not None]
    if not judged:
        return not_covered(NEEDS_ANSWERS)
    bad = [(ex, f"{v.location}: {v.message}") for ex in judged for v in ex.violations if v.where == "response"]
    if bad:
        return failed(f"{len(bad)} answer(s) outside the contract: {_listed(bad)}", len(judged), [e.id for e, _ in bad])
    return passed(f"{len(judged)} answer(s), each one the contract declares", len(judged))


def _is_failure(p: Profile, ex: Exchange) -> bool:
    if ex.status is None or ex.operation is None:
        return False
    if p.kind == "cityworks":
        status = cw_status(ex)
        return ex.status != 200 or (status is not None and status != 0)
    if p.kind == "arcgis":  # ArcGIS answers its failures as HTTP 200 with an `error` object
        return ex.status >= 400 or member(json_answer(ex), "error") is not None
    return ex.status >= 400


def error_envelope(p: Profile, exchanges: Sequence[Exchange]) -> Judgement:
    failures = [ex for ex in exchanges if _is_failure(p, ex)]
    if not failures:
        return not_covered(NEEDS_FAILURES)
    bad: list[tuple[Exchange, str]] = []
    for ex in failures:
        assert ex.status is not None
        if ex.status >= 500:
            bad.append((ex, f"HTTP {ex.status}: a server error"))
        elif p.kind == "cityworks" and ex.status != 200 and ex.status != 404:
            bad.append((ex, f"HTTP {ex.status}: Cityworks answers its failures as HTTP 200 envelopes"))
        bad += [(ex, f"{v.location}: {v.message}") for v in ex.violations if v.where == "response"]
    if bad:
        return failed(f"{len(bad)} failure(s) not in the vendor's envelope: {_listed(bad)}", len(failures),
                      [ex.id for ex, _ in bad])  # fmt: skip
    return passed(f"{len(failures)} failure answer(s), each in the vendor's own envelope", len(failures))


NEEDS_CALLS = "any call through the proxy"
NEEDS_ANSWERS = "any answered call to an operation of the contract"
NEEDS_FAILURES = "an answer that refuses or fails a call (an error status, or a Cityworks envelope with Status not 0)"

RULES = (
    Rule("client-calls-within-contract", "client", dict.fromkeys(ALL, ("TRF-1",)), NEEDS_CALLS, client_calls),
    Rule("answers-within-contract", "server", dict.fromkeys(ALL, ("TRF-3",)), NEEDS_ANSWERS, answers),
    Rule(
        "failures-in-error-envelope",
        "server",
        {"cityworks": ("CW-API-5",), "opengov": ("OG-API-5",), "arcgis": ("GEO-API-2",), "city-api": ("WID-API-7",)},
        NEEDS_FAILURES,
        error_envelope,
    ),
)
