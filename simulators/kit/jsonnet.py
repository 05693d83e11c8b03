"""How Json.NET reads JSON into a .NET type: what a .NET vendor's server accepts beyond the JSON Schema of its
contract.

Json.NET, with the defaults ASP.NET services run it with, matches member names case-insensitively, ignores
members the type does not have (MissingMemberHandling.Ignore), converts a string to the number or boolean a
member is typed as ("12" -> 12, "true" -> true) and a number to the string a member is typed as. A null for a
member the contract types as a number or string is read as "not set": whether the vendor's type is nullable
is not public (inferred). `read_as` applies these rules to a value, guided by the contract's schema, and says
what it changed: the call is served and each change is a journal warning. Anything else the schema refuses is
left for the strict checks to refuse.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Resolve = Callable[[Any], Any]
UNSET: Any = object()  # a member read as not set: dropped from its object


def read_as(schema: Any, value: Any, resolve: Resolve, path: str = "$") -> tuple[Any, list[tuple[str, str]]]:
    """(the value as Json.NET would bind it, [(JSON path, what changed)])."""
    notes: list[tuple[str, str]] = []
    read = _read(schema, value, resolve, path, notes)
    if read is UNSET:  # the whole value null: nothing to bind, and nothing Json.NET would change
        return value, []
    return read, notes


def _read(schema: Any, value: Any, resolve: Resolve, path: str, notes: list[tuple[str, str]]) -> Any:
    schema = resolve(schema)
    if not isinstance(schema, dict):
        return value
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else list(types)
    if not types:  # anyOf, oneOf, untyped: no single .NET type to read as
        return value
    if value is None:
        if "null" in types:
            return value
        article = "an" if types[0][0] in "aeiou" else "a"
        notes.append((path, f"null for {article} {types[0]} member: read as not set (inferred: a nullable member)"))
        return UNSET
    if isinstance(value, dict) and "object" in types:
        return _object(schema, value, resolve, path, notes)
    if isinstance(value, list) and "array" in types:
        items = schema.get("items", {})
        read = [_read(items, v, resolve, f"{path}[{i}]", notes) for i, v in enumerate(value)]
        return [v for v in read if v is not UNSET]
    if isinstance(value, str):
        return _from_text(types, value, path, notes)
    if isinstance(value, (int, float)) and not isinstance(value, bool) and types == ["string"]:
        notes.append((path, "a number for a string member: Json.NET converts it"))
        return str(value)
    return value


def _object(
    schema: dict[str, Any], value: dict[str, Any], resolve: Resolve, path: str, notes: list[tuple[str, str]]
) -> dict[str, Any]:
    props: dict[str, Any] = schema.get("properties") or {}
    by_lower = {name.lower(): name for name in props}
    closed = schema.get("additionalProperties") is False
    out: dict[str, Any] = {}
    for key, item in value.items():
        name = key if key in props else by_lower.get(key.lower())
        if name is None:
            if closed:
                notes.append((f"{path}.{key}", "a member the type does not have: Json.NET ignores it"))
            else:
                out[key] = item
            continue
        if name != key:
            notes.append((f"{path}.{key}", f"member names match case-insensitively (Json.NET): read as {name!r}"))
        read = _read(props[name], item, resolve, f"{path}.{name}", notes)
        if read is not UNSET:
            out[name] = read
    return out


def _from_text(types: list[str], text: str, path: str, notes: list[tuple[str, str]]) -> Any:
    if "string" in types:
        return text
    stripped = text.strip()
    for t in types:
        if t == "boolean" and stripped.lower() in ("true", "false"):
            notes.append((path, "a string for a boolean member: Json.NET converts it"))
            return stripped.lower() == "true"
        if t in ("integer", "number"):
            try:
                number: Any = int(stripped) if t == "integer" else float(stripped)
            except ValueError:
                continue
            notes.append((path, f"a string for a{'n' if t == 'integer' else ''} {t} member: Json.NET converts it"))
            return number
    return text
