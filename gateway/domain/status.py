"""Status mapping (per integration, both ways): the vendor's statuses <-> the public status. Open311 itself
knows only open and closed; the public status is finer (acknowledged, closed as a duplicate) and maps onto it.
An unknown vendor status maps to nothing: it is recorded, never guessed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from . import DomainError

PUBLIC = ("open", "acknowledged", "closed", "duplicate")
OPEN311 = {"open": "open", "acknowledged": "open", "closed": "closed", "duplicate": "closed"}


@dataclass(frozen=True)
class StatusMap:
    entries: tuple[tuple[str, str], ...]  # (vendor status, public status), the first per public status canonical

    @classmethod
    def of(cls, entries: Sequence[Mapping[str, str]]) -> StatusMap:
        check(entries)
        return cls(tuple((e["vendor"], e["public"]) for e in entries))

    def to_public(self, vendor_status: str | None) -> str | None:
        wanted = (vendor_status or "").strip().lower()
        return next((public for vendor, public in self.entries if vendor.lower() == wanted), None)

    def to_vendor(self, public_status: str) -> str | None:
        return next((vendor for vendor, public in self.entries if public == public_status), None)


def check(entries: Sequence[Mapping[str, str]]) -> None:
    seen: set[str] = set()
    for n, entry in enumerate(entries):
        if entry.get("public") not in PUBLIC:
            raise DomainError(f"public status must be one of {', '.join(PUBLIC)}", f"status_map.{n}.public")
        vendor = (entry.get("vendor") or "").strip().lower()
        if not vendor or vendor in seen:
            raise DomainError("each vendor status once, not empty", f"status_map.{n}.vendor")
        seen.add(vendor)
    if entries and not any(e["public"] == "open" for e in entries):
        raise DomainError("some vendor status must map to open", "status_map")
