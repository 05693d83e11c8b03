"""A provider suite's statement of power: the mutation score `civic-harness mutate NAME --record` last wrote
beside the suite (`mutation-score.json`: date, harness version, the vendor version, killed per source), which
certify's scorecard and reports show, so a green certificate says how much a green run is worth."""

from __future__ import annotations

import json
from typing import Any

from .suites import ROOT

FILE = "mutation-score.json"


def recorded(suite: str, version: str | None = None) -> dict[str, Any] | None:
    """The recorded score of `suite` (`providers/opengov`) for `version` when one was recorded for it, else the
    suite's default one; None when there is none."""
    own = ROOT / suite / f"mutation-score-{version}.json"
    path = own if version and own.is_file() else ROOT / suite / FILE
    if not path.is_file():
        return None
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None
    return {"suite_path": suite, **record} if isinstance(record, dict) and "totals" in record else None


def describe(record: dict[str, Any]) -> str:
    """One line: the score, per source, and where it comes from."""
    t = record["totals"]

    def pct(source: str) -> str:
        score = t[source]["score"]
        return f"{score} %" if score is not None else "-"

    sample = f", a sample of {record['sample']} generated" if record.get("sample") else ""
    version = f" {record['version']}" if record.get("version") else ""
    every = t["all"]
    judged = every["mutations"] - every.get("unobservable", 0) - every.get("void", 0)
    return (
        f"{record['suite']}{version}: {pct('all')} of {judged} mutations killed (generated {pct('generated')}, "
        f"written {pct('written')}; {len(record.get('survivors', []))} survivor(s), "
        f"{every.get('unobservable', 0)} declared unobservable{sample}), "
        f"recorded {record['date'][:10]} with civic-harness {record['harness']}"
    )
