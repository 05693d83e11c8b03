"""The report of a conformance run, one model for every format (conformance/writers/): per requirement ID
its verdict, the seed text it comes from and the checks behind it; per check its outcome, duration and, for
a failure, the evidence."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from .requirements import Requirement
from .scorecard import FAIL, NOT_COVERED, PASS, SKIPPED, Verdict, totals
from .wanting import is_wanting, state_of

FORMAT = "civic-harness-report/1"
MAX_DETAIL = 12_000
EXAMPLE = re.compile(r"^Falsifying example: .*?(?=^\S|\Z)", re.MULTILINE | re.DOTALL)


@dataclass(slots=True)
class Check:
    id: str
    suite: str
    outcome: str  # passed | failed | skipped | not run
    duration_s: float = 0.0
    requirements: list[str] = field(default_factory=list)
    message: str | None = None  # the first line of why it failed or was skipped
    details: str | None = None  # the failure as pytest tells it (truncated)
    example: str | None = None  # hypothesis' falsifying example, when there is one
    evidence: list[dict[str, Any]] = field(default_factory=list)  # journal excerpts of the simulators involved
    # calls the real vendor accepts outside its documented contract (the simulators' journal warnings)
    warnings: list[dict[str, Any]] = field(default_factory=list)
    # what the check reports beside its outcome, e.g. generated calls the vendor's web server refused
    # before the API (conformance/frontdoor.py): shown, never counted as the API passing or failing
    notes: list[str] = field(default_factory=list)


def falsifying_example(text: str) -> str | None:
    found = EXAMPLE.search(text)
    return found.group(0).strip()[:4000] if found else None


def first_line(text: str) -> str:
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("E "):
            return line[2:].strip()[:300]
    return (text.strip().splitlines() or [""])[-1][:300]


def model(
    verdicts: Sequence[Verdict],
    checks: Mapping[str, Check],
    *,
    seed: int | None,
    command: str,
    started: str,
    duration_s: float,
    scope: str = "all",
    writes: list[dict[str, Any]] | None = None,
    power: list[dict[str, Any]] | None = None,
    run_tag: str | None = None,
    tagged: str | None = None,
) -> dict[str, Any]:
    """`writes`: what the run created or changed at its target(s) (conformance/writes.py); None when it ran
    against the bundled stack only. `power`: the recorded mutation scores of the provider suites that ran
    (conformance/power.py). `tagged`: the fields the written records carry `run_tag` in (writes.tag_fields)."""
    counts = totals(verdicts)
    shown = {v.requirement.id for v in verdicts}  # a state's IDs as the scorecard's scope shows them
    return {
        "format": FORMAT,
        "command": command,
        "seed": seed,
        "replay": command if seed is not None else None,
        "started": started,
        "duration_s": round(duration_s, 2),
        "scope": scope,
        "totals": {
            "requirements": len(verdicts),
            "pass": counts[PASS],
            "fail": counts[FAIL],
            "skipped": counts[SKIPPED],
            "not_covered": counts[NOT_COVERED],
            "checks": len(checks),
            "checks_failed": sum(1 for c in checks.values() if c.outcome == "failed"),
            "warnings": sum(len(c.warnings) for c in checks.values()),
        },
        "requirements": [_requirement(v, checks) for v in verdicts],
        "checks": [asdict(c) for c in checks.values()],
        "writes": writes,
        "power": power or [],
        # checks skipped until the target's owner gives what they need (conformance/wanting.py)
        "wanting": [
            {"check": c.id, "requirements": c.requirements, "message": c.message}
            for c in checks.values()
            if c.outcome == "skipped" and is_wanting(c.message)
        ],
        # checks skipped because the target cannot play the provider state they need (conformance/providers/states.py)
        "provider_states": [
            {"state": state, "check": c.id, "requirements": [rid for rid in c.requirements if rid in shown]}
            for c in checks.values()
            if c.outcome == "skipped" and (state := state_of(c.message)) is not None
        ],
        "run_tag": run_tag,  # what every record the run created carries (conformance/writes.py)
        "tagged": tagged,  # where those records carry it ("Cityworks: OtherSystemId, ..."); None: no record does
    }


def _requirement(v: Verdict, checks: Mapping[str, Check]) -> dict[str, Any]:
    r: Requirement = v.requirement
    return {
        "id": r.id,
        "section": r.section,
        "seed_text": r.seed_text,
        "interpretation": r.interpretation,
        "status": v.status,
        "checks": [
            {"id": cid, "outcome": checks[cid].outcome if cid in checks else outcome}
            for cid, outcome in v.checks.items()
        ],
    }


def suite_of(nodeid: str) -> str:
    """`providers/cityworks` for a check in conformance/providers/cityworks/..., else its file's folder."""
    path = nodeid.split("::", 1)[0]
    parts = path.split("/")
    if "providers" in parts:
        i = parts.index("providers")
        return "/".join(parts[i : i + 2])
    if "gateway" in parts:
        return "gateway"
    return "/".join(parts[:-1]) or parts[0]
