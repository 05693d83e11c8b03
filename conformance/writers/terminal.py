"""The scorecard at the end of a run, on pytest's terminal: a line per requirement ID (its verdict and the
suites of its checks), the wire warnings, the totals, and what the vendor's front door refused."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .. import frontdoor, power, writes
from ..report import suite_of
from ..scorecard import FAIL, NOT_COVERED, PASS, SKIPPED

COLOURS = {PASS: "green", FAIL: "red", SKIPPED: "yellow", NOT_COVERED: "yellow"}


def write(tw: Any, report: Mapping[str, Any]) -> None:
    """`tw`: pytest's terminal reporter (its `section` and `line`)."""
    checks = {c["id"]: c for c in report["checks"]}
    tw.section("requirement scorecard")
    for r in report["requirements"]:
        ids = [c["id"] for c in r["checks"]]
        detail = f"{len(ids)} check(s) in {', '.join(sorted({suite_of(i) for i in ids}))}" if ids else "no check"
        refused = sum(frontdoor.refused_in(n) for i in ids if i in checks for n in checks[i]["notes"])
        if refused:
            detail += f"; the front door refused {refused} generated call(s), reported below"
        tw.line(f"{r['id']:<10} {r['status'].upper():<12} {detail}", **{COLOURS[r["status"]]: True})
    failed = [c for c in report["checks"] if c["outcome"] == "failed"]
    if failed:
        tw.section("failed checks (tracebacks with -v; evidence in the JSON and HTML reports)")
        for c in failed:
            ids = ", ".join(c["requirements"]) or "no ID"
            tw.line(f"{ids}  {c['id'].split('::', 1)[-1]}", red=True, bold=True)
            tw.line(f"    {c['message'] or 'failed'}")
    totals = report["totals"]
    warned = [c for c in report["checks"] if c["warnings"]]
    if warned:
        tw.line(
            f"{totals['warnings']} wire warning(s) in {len(warned)} check(s): calls the real vendor accepts "
            "outside its documented contract (listed per check in the JSON and HTML reports)",
            yellow=True,
        )
    tw.line(
        f"{totals['pass']} pass, {totals['fail']} fail, {totals['skipped']} skipped, "
        f"{totals['not_covered']} not covered (gaps, not passes) of {totals['requirements']} requirement IDs"
        + (" in this suite's scope" if report["scope"] == "covered" else "")
    )
    unplayed = states_line(report.get("provider_states") or [])
    if unplayed:
        tw.line(unplayed, yellow=True)
    wanting = report.get("wanting") or []
    if wanting:
        tw.section("skipped for want of input (give it to run them)")
        by_reason: dict[str, list[dict[str, Any]]] = {}
        for w in wanting:
            by_reason.setdefault(w["message"], []).append(w)
        for message, items in by_reason.items():
            ids = ", ".join(sorted({rid for w in items for rid in w["requirements"]})) or "no ID"
            tw.line(f"{ids}: {len(items)} check(s) {message}", yellow=True)
    if report.get("power") is not None and any(suite_of(c["id"]).startswith("providers/") for c in report["checks"]):
        tw.section("the suite's power (mutation score of its last recorded run)")
        for record in report["power"]:
            tw.line(power.describe(record))
        if not report["power"]:
            tw.line("no mutation score recorded for this suite (civic-harness mutate NAME --record)", yellow=True)
    if report.get("writes") == [] and any(c["outcome"] == "passed" for c in report["checks"]):
        # certify warned up front that the run writes; which checks write shows only as they run
        tw.line("the run wrote nothing to the target (the checks that ran only read)")
    if report.get("writes"):
        tw.section("written to the target (find and remove these on a shared sandbox)")
        for line in writes.describe(report["writes"]):
            tw.line(line, yellow=True)
        if report.get("run_tag") and report.get("tagged"):  # only suites that tag their records say so
            tw.line(
                f"every record it created carries the tag {report['run_tag']} ({report['tagged']}): search for it "
                "to find them",
                yellow=True,
            )
    noted = [(c["id"], note) for c in report["checks"] for note in c["notes"]]
    if noted:
        tw.section("front door (reported, not judged)")
        for nodeid, note in noted:
            tw.line(f"{nodeid.split('::', 1)[-1]}: {note}", yellow=True)


def states_line(held: list[dict[str, Any]]) -> str | None:
    """`needs a simulator (provider states): NAME — IDs; ...`: the states the run could not play (a target
    without /_sim/) and the requirement IDs whose checks they held, which may read PASS on their other checks."""
    by_state: dict[str, set[str]] = {}
    for item in held:
        by_state.setdefault(item["state"], set()).update(item["requirements"])
    if not by_state:
        return None
    parts = [f"{state} — {', '.join(sorted(ids, key=_natural)) or 'no ID'}" for state, ids in sorted(by_state.items())]
    return "needs a simulator (provider states): " + "; ".join(parts)


def _natural(rid: str) -> tuple[str, int]:
    """OG-API-2 before OG-API-10."""
    head, _, number = rid.rpartition("-")
    return (head, int(number)) if number.isdigit() else (rid, 0)
