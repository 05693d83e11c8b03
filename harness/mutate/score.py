"""The score of a mutation run (pure): per suite, per source and per requirement ID, with every survivor and
what it changed. A survivor the suite's `unobservable.toml` declares not observable from outside is listed with
the reason and left out of the score; any other survivor counts against it."""

from __future__ import annotations

import fnmatch
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .mutation import GENERATED, WRITTEN, Mutation
from .trial import KILLED, NOT_REACHED, PREFLIGHT, SURVIVED, VOID

FORMAT = "civic-harness-mutation/1"
UNOBSERVABLE = "unobservable"


def declared(path: Path) -> list[dict[str, Any]]:
    """The suite's declared survivors: `[[mutation]] id = "glob"  why = "..."`, and `versions = [...]` where the
    reason holds on some versions only (Cityworks families: "2013", "15" for 15.x, ...)."""
    if not path.exists():
        return []
    entries = tomllib.loads(path.read_text(encoding="utf-8")).get("mutation", [])
    for e in entries:
        if not e.get("id") or not e.get("why"):
            raise ValueError(f"{path}: every [[mutation]] needs an id and a why")
    return entries


def _on(version: str | None, versions: Sequence[str] | None) -> bool:
    if not versions:
        return True
    return version is not None and any(version == v or version.startswith(f"{v}.") for v in versions)


def why_unobservable(mutation_id: str, entries: Sequence[dict[str, Any]], version: str | None = None) -> str | None:
    return next(
        (e["why"] for e in entries if fnmatch.fnmatchcase(mutation_id, e["id"]) and _on(version, e.get("versions"))),
        None,
    )


def percent(killed: int, total: int) -> float | None:
    return round(100.0 * killed / total, 1) if total else None


def _tally(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts = {k: sum(1 for r in rows if r["outcome"] == k) for k in (KILLED, PREFLIGHT, SURVIVED, NOT_REACHED)}
    counts[UNOBSERVABLE] = sum(1 for r in rows if r["outcome"] == UNOBSERVABLE)
    counts[VOID] = sum(1 for r in rows if r["outcome"] == VOID)
    judged = len(rows) - counts[UNOBSERVABLE] - counts[VOID]
    return {"mutations": len(rows), **counts, "score": percent(counts[KILLED] + counts[PREFLIGHT], judged)}


def model(
    run: dict[str, Any], entries: Sequence[dict[str, Any]], *, date: str, harness: str, command: str
) -> dict[str, Any]:
    rows: list[dict[str, Any]] = []
    for m, result in run["mutations"]:
        m: Mutation  # type: ignore[no-redef]
        outcome = result["outcome"]
        why = why_unobservable(m.id, entries, run["version"]) if outcome in (SURVIVED, NOT_REACHED) else None
        rows.append(
            {
                "id": m.id,
                "source": m.source,
                "description": m.description,
                "operations": sorted(m.operations),
                "requirements": list(m.requirements),
                "outcome": UNOBSERVABLE if why else outcome,
                "why": why,
                "killed_by": result.get("killed_by") or {"requirements": [], "checks": []},
                "changed": result.get("changed", 0),
                "changes": result.get("changes", []),
                "errors": result.get("errors", []),
                "duration_s": result.get("duration_s"),
            }
        )
    ids = sorted({rid for r in rows for rid in r["requirements"]})
    return {
        "format": FORMAT,
        "suite": run["vendor"],
        "version": run["version"],
        "date": date,
        "harness": harness,
        "command": command,
        "duration_s": run["duration_s"],
        "jobs": run["jobs"],
        "sample": run["sample"],
        "totals": {
            "all": _tally(rows),
            GENERATED: _tally([r for r in rows if r["source"] == GENERATED]),
            WRITTEN: _tally([r for r in rows if r["source"] == WRITTEN]),
        },
        "requirements": [{"id": rid, **_tally([r for r in rows if rid in r["requirements"]])} for rid in ids],
        "survivors": [r for r in rows if r["outcome"] in (SURVIVED, NOT_REACHED)],
        "unobservable": [r for r in rows if r["outcome"] == UNOBSERVABLE],
        "void": [r for r in rows if r["outcome"] == VOID],
        "mutations": rows,
    }


def record(report: dict[str, Any]) -> dict[str, Any]:
    """What the suite's checked-in `mutation-score.json` keeps of a run: the certificate's statement of power."""
    return {
        "format": FORMAT,
        "suite": report["suite"],
        "version": report["version"],
        "date": report["date"],
        "harness": report["harness"],
        "command": report["command"],
        "sample": report["sample"],
        "totals": report["totals"],
        "survivors": [r["id"] for r in report["survivors"]],
    }
