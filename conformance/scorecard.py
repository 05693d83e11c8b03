"""Per requirement ID: pass, fail, skipped or not covered, from the outcomes of the checks behind it."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .requirements import Requirement

PASS, FAIL, SKIPPED, NOT_COVERED = "pass", "fail", "skipped", "not covered"


@dataclass(slots=True)
class Verdict:
    requirement: Requirement
    status: str
    checks: dict[str, str] = field(default_factory=dict)  # test id -> outcome


def verdicts(
    catalogue: Mapping[str, Requirement],
    covers: Mapping[str, Sequence[str]],  # test id -> requirement IDs
    outcomes: Mapping[str, str],  # test id -> "passed" | "failed" | "skipped"
) -> list[Verdict]:
    """A failed check fails its IDs; an ID passes when a check behind it passed and none failed."""
    by_id: dict[str, dict[str, str]] = {rid: {} for rid in catalogue}
    for test, ids in covers.items():
        for rid in ids:
            by_id[rid][test] = outcomes.get(test, "not run")
    out = []
    for rid, checks in by_id.items():
        results = set(checks.values())
        if "failed" in results:
            status = FAIL
        elif "passed" in results:
            status = PASS
        elif "skipped" in results:
            status = SKIPPED
        else:
            status = NOT_COVERED  # no check, or none ran
        out.append(Verdict(catalogue[rid], status, checks))
    return out


def totals(items: Sequence[Verdict]) -> dict[str, int]:
    counts = {PASS: 0, FAIL: 0, SKIPPED: 0, NOT_COVERED: 0}
    for v in items:
        counts[v.status] += 1
    return counts
