"""A HAR file judged offline: read, analysed afresh from its bytes (the verdicts a proxy stored in it are not
trusted, so a HAR from any tool judges alike), and every rule applied. The API kind and version come from the
file when the proxy wrote it, else from the caller."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

from . import har, rules
from .analysis import KINDS, Profile, analyse_safely, profile
from .exchange import Exchange
from .rules.model import Finding


@dataclass(frozen=True, slots=True)
class Verified:
    profile: Profile
    exchanges: list[Exchange]
    findings: list[Finding]


def verify(
    doc: Any, kind: str | None = None, version: str | None = None, options: Mapping[str, str] | None = None
) -> Verified:
    """Raises har.NotHar for a file that is not HAR, ValueError for an unknown or missing API kind."""
    meta, recorded = har.exchanges(doc)
    kind = kind or meta.get("kind")
    if kind not in KINDS:
        raise ValueError(f"which API is this traffic? give --api ({', '.join(KINDS)})" if kind is None
                         else f"unknown API {kind!r}; one of {', '.join(KINDS)}")  # fmt: skip
    version = version or meta.get("version")
    merged = {**(meta.get("options") or {}), **(options or {})}
    p = profile(kind, version if kind == "cityworks" else None, merged)
    judged = [analyse_safely(p, replace(ex, analysed=False)) for ex in recorded]
    return Verified(p, judged, rules.judge(p, judged))
