"""The requirement catalogue (docs/REQUIREMENTS.md), parsed: every ID with its section and texts."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

_PACKAGED = Path(__file__).with_name("REQUIREMENTS.md")  # in a wheel (see pyproject force-include)
_CHECKOUT = Path(__file__).resolve().parent.parent / "docs" / "REQUIREMENTS.md"
ID_PATTERN = re.compile(r"^[A-Z]+(?:-[A-Z]+)*-\d+$")


@dataclass(frozen=True, slots=True)
class Requirement:
    id: str
    section: str
    seed_text: str  # what the seed document says ("" for harness-wide requirements)
    interpretation: str  # what must hold


def catalogue_path() -> Path:
    return _CHECKOUT if _CHECKOUT.is_file() else _PACKAGED


def parse(text: str) -> dict[str, Requirement]:
    reqs: dict[str, Requirement] = {}
    section = ""
    for line in text.splitlines():
        if line.startswith("## "):
            section = line[3:].strip()
            continue
        if not line.startswith("|"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not cells or not ID_PATTERN.match(cells[0]):
            continue
        rid = cells[0]
        if rid in reqs:
            raise ValueError(f"requirement {rid} is defined twice")
        seed, rule = (cells[1], cells[2]) if len(cells) >= 3 else ("", cells[1] if len(cells) > 1 else "")
        reqs[rid] = Requirement(rid, section, seed, rule)
    return reqs


@functools.cache
def load() -> dict[str, Requirement]:
    return parse(catalogue_path().read_text(encoding="utf-8"))
