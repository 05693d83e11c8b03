"""The traffic rules' findings as the conformance report model (conformance/report.py), so `proxy --report` and
`verify-traffic` write the same JUnit, JSON and HTML scorecard as `conformance`: each rule is a check, its
requirement IDs get verdicts the same way (a failed rule fails its IDs; a rule with nothing to judge leaves them
NOT COVERED), and a failed rule's evidence is the exchanges that show it, by id, as the journal holds them."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from conformance import report, requirements
from conformance.scorecard import verdicts

from .exchange import Exchange
from .rules.model import FAILED, PASSED, Finding

EXCERPT = 1_500


def check_id(kind: str, finding: Finding) -> str:
    return f"traffic/{kind}::{finding.rule}"


def _excerpt(value: Any) -> str | None:
    if value in (None, "", {}, []):
        return None
    text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"\n… ({len(text) - EXCERPT} more characters)"


def evidence(kind: str, entries: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Journal entries (secrets already masked) in the shape the report writers show evidence in."""
    return [
        {
            "simulator": f"{kind} exchange #{e['id']}",
            "exchange": e["id"],
            "own": True,  # the exchanges the rule names, not a simulator's latest
            "wrong": True,  # each one shows the failure
            "time": e.get("time"),
            "method": e.get("method"),
            "path": e.get("path"),
            "status": e.get("status") if e.get("status") is not None else f"no answer ({e.get('outcome')})",
            "trace_id": e.get("trace_id"),  # the caller's W3C trace, when it sent one (the gateway does)
            "request": _excerpt(e.get("body")),
            "response": _excerpt(e.get("response_body")),
        }
        for e in entries
    ]


def model(
    kind: str,
    findings: Sequence[Finding],
    exchanges: Sequence[Exchange],
    render: Callable[[Sequence[Exchange]], list[dict[str, Any]]],
    *,
    command: str,
    started: float,
    duration_s: float,
    dropped: int = 0,
) -> dict[str, Any]:
    """`render`: exchanges -> journal entries with secrets masked (the recorder's, or a HAR reader's); `dropped`:
    older exchanges no longer held, so every verdict is about the rest (said in every check's message)."""
    by_id = {ex.id: ex for ex in exchanges}
    checks: dict[str, report.Check] = {}
    for f in findings:
        cid = check_id(kind, f)
        outcome = {PASSED: "passed", FAILED: "failed"}.get(f.outcome, "not covered")
        # What the rule judged and needs rides in the message and details, not in `notes`: the report writers show
        # a check's notes as the front door's refusals.
        window = f" (of the {len(exchanges)} newest exchanges: {dropped} older ones were dropped)" if dropped else ""
        check = report.Check(
            cid, f"traffic/{kind}", outcome, requirements=list(f.requirements), message=f.message + window
        )
        check.details = f"{f.message}{window}\n\n{f.side} side; judged {f.judged}; needs {f.needs}"
        if f.outcome == FAILED:
            shown = [by_id[i] for i in f.evidence if i in by_id]
            check.evidence = evidence(kind, render(shown))
        warned = [ex for ex in exchanges if ex.warnings] if f.rule == "client-calls-within-contract" else []
        check.warnings = [
            {"simulator": kind, "method": ex.method, "path": ex.path, "status": ex.status, **w.as_json()}
            for ex in warned[:50]
            for w in ex.warnings
        ]
        checks[cid] = check
    catalogue = requirements.load()
    covers = {cid: c.requirements for cid, c in checks.items()}
    results = [v for v in verdicts(catalogue, covers, {cid: c.outcome for cid, c in checks.items()}) if v.checks]
    return report.model(
        results,
        checks,
        seed=None,
        command=command,
        started=datetime.fromtimestamp(started, UTC).isoformat(timespec="seconds"),
        duration_s=duration_s,
        scope="covered",
    )
