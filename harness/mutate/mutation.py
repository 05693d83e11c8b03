"""A mutation: a defect a vendor's server could have, as a pure function over the exchanges of one operation.

The proxy (proxy.py) hands each call whose contract operation the mutation names to `request` before it
goes upstream (e.g. strip a parameter: the server then behaves as one that ignores it) and the answer to
`response` before it goes back (e.g. drop a field). `memo` is the one piece of state a mutation may keep,
one dict per trial, for what only the conversation tells (a Cityworks token the server issued)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .exchange import Request, Response

GENERATED, WRITTEN = "generated", "written"

RequestFn = Callable[[Request, dict[str, Any]], Request]
ResponseFn = Callable[[Request, Response, dict[str, Any]], Response]


@dataclass(frozen=True, slots=True)
class Mutation:
    id: str  # stable across runs: `<kind>:<operation>[:<detail>]`, what unobservable.toml and --only name
    source: str  # GENERATED (from the contract) or WRITTEN (per vendor, behaviour a contract cannot say)
    operations: frozenset[str]  # the operationIds it acts on (twins of one operation together); empty: every call
    description: str
    requirements: tuple[str, ...] = ()  # the requirement IDs whose checks should kill it
    request: RequestFn | None = None
    response: ResponseFn | None = None
    simulator: dict[str, Any] = field(default_factory=dict)  # simulator options this defect needs, if any
    certify_args: tuple[str, ...] = ()  # what the site says of itself for this defect (e.g. --licences sr)

    def applies(self, operation: str | None) -> bool:
        return not self.operations or operation in self.operations


# -- pure JSON rewrites the catalogues share ------------------------------------------------------------


def drop_key(value: Any, key: str) -> Any:
    """`value` without `key` in any object, at any depth."""
    if isinstance(value, dict):
        return {k: drop_key(v, key) for k, v in value.items() if k != key}
    if isinstance(value, list):
        return [drop_key(v, key) for v in value]
    return value


def map_key(value: Any, key: str, change: Callable[[Any], Any]) -> Any:
    """`value` with every `key`'s value passed through `change`, at any depth."""
    if isinstance(value, dict):
        return {k: change(v) if k == key else map_key(v, key, change) for k, v in value.items()}
    if isinstance(value, list):
        return [map_key(v, key, change) for v in value]
    return value


def reverse_lists(value: Any) -> Any:
    """Every list of two or more items reversed, at any depth."""
    if isinstance(value, dict):
        return {k: reverse_lists(v) for k, v in value.items()}
    if isinstance(value, list):
        items = [reverse_lists(v) for v in value]
        return items[::-1] if len(items) > 1 else items
    return value


ISO_DATE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})")


def date_keys(value: Any) -> set[str]:
    """The keys holding an ISO 8601 date-time anywhere in `value`."""
    found: set[str] = set()
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(v, str) and ISO_DATE.match(v):
                found.add(k)
            found |= date_keys(v)
    elif isinstance(value, list):
        for v in value:
            found |= date_keys(v)
    return found


# A value of each JSON type, to put where the contract declares another.
WRONG_VALUES: tuple[tuple[str, Any], ...] = (
    ("string", "mutated"),
    ("integer", 7),
    ("boolean", True),
    ("array", []),
    ("object", {}),
)


def wrong_value(types: list[str]) -> Any:
    """A value of a type the declared `types` exclude ("integer" is a "number" too)."""
    allowed = set(types) | ({"number"} if "integer" in types else set())
    for name, value in WRONG_VALUES:
        if name not in allowed and not (name == "integer" and "number" in allowed):
            return value
    return None
