"""What the server says about its classes: `GET /api/v1/discover` (the top-level classes by area) and
`GET /api/v1/meta/Classes` (each class's business-object type, children, default sort and fields).

Seen (vendor-notes/opengov.md): discover's five areas and `{SingularName, PluralName, ClassName}` (VG); the
class meta keys `BOType` (0 library or child, 1 asset, 2 work, 3 resource, 4 request), `CachedColor`,
`CachedGisInfo {IsIntegrated, HasZ, HasM}`, `Children`, `DefaultSort` in the legacy `[ID] Ascending` form
(CAMP-11); `?classNames=a,b` and `meta/Classes/` for every class (CR). Inferred: the envelope of the meta
answer (`{"Classes": [...]}`), the `ClassName`/`SingularName`/`PluralName` and `Fields` keys of a class and
the `DataType` names, marked so in the contract.
"""

from __future__ import annotations

from typing import Any

from .dialect import OpengovError
from .state import BOOL, DATE, INT, NUMBER, SHAPE, TEXT, ClassDef, OpengovState

AREAS = ("Library", "Asset", "Resource", "Request", "Work")
BO_TYPES = {"Library": 0, "Asset": 1, "Work": 2, "Resource": 3, "Request": 4}
DATA_TYPES = {TEXT: "Text", INT: "Integer", NUMBER: "Number", BOOL: "Boolean", DATE: "Date", SHAPE: "Shape"}
SYSTEM_TYPES = {"Oid": INT, "IDField": TEXT, "EntryDateField": DATE, "cgLastModifiedField": DATE, "EnteredBy": TEXT}


def discover(state: OpengovState) -> dict[str, list[dict[str, str]]]:
    """Every top-level class the server holds, under its area; an area with none is an empty list."""
    out: dict[str, list[dict[str, str]]] = {area: [] for area in AREAS}
    misfile = "discover-all-library" in state.config.defects
    for cls in state.defs.values():
        if cls.area is not None:
            entry = {"SingularName": cls.singular, "PluralName": cls.plural, "ClassName": cls.name}
            out["Library" if misfile else cls.area].append(entry)
    for listed in out.values():
        listed.sort(key=lambda c: c["PluralName"])
    return out


def class_meta(state: OpengovState, names: list[str] | None) -> dict[str, list[dict[str, Any]]]:
    """The meta of the named classes (case-insensitive, in the order asked), or of every class."""
    chosen = [state.class_def(n) for n in names] if names else sorted(state.defs.values(), key=lambda c: c.name)
    return {"Classes": [_meta(state, cls) for cls in chosen]}


def class_names(text: str) -> list[str]:
    names = [n.strip() for n in text.split(",") if n.strip()]
    if not names:
        raise OpengovError(400, "classNames must name at least one class.")
    return names


def _meta(state: OpengovState, cls: ClassDef) -> dict[str, Any]:
    fields = {**SYSTEM_TYPES, **cls.fields}
    return {
        "ClassName": cls.name,
        "SingularName": cls.singular,
        "PluralName": cls.plural,
        "BOType": BO_TYPES.get(cls.area or "", 0),  # a child class is 0, as a library is
        "CachedColor": None,
        "CachedGisInfo": {"IsIntegrated": False, "HasZ": False, "HasM": False},
        "Children": sorted(c.name for c in state.defs.values() if c.parent == cls.name),
        "DefaultSort": "[ID] Ascending" if cls.id_prefix else "[Oid] Ascending",
        "Fields": [{"FieldName": name, "DataType": DATA_TYPES[kind]} for name, kind in fields.items()],
    }
