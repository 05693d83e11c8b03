"""The report as a self-contained HTML scorecard (templates/scorecard.html; works offline, phone layout); a
mutation run's report (civic-harness mutate) as templates/mutation.html, in the same style."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import jinja2

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).resolve().parents[1] / "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
)


def render(report: Mapping[str, Any]) -> str:
    checks = {c["id"]: c for c in report["checks"]}
    return _TEMPLATES.get_template("scorecard.html").render(r=report, checks=checks)


def write(path: str | Path, report: Mapping[str, Any]) -> None:
    Path(path).write_text(render(report), encoding="utf-8")


def write_mutation(path: str | Path, report: Mapping[str, Any]) -> None:
    Path(path).write_text(_TEMPLATES.get_template("mutation.html").render(r=report), encoding="utf-8")
