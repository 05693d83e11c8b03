"""What a JSON request body must be besides well-formed: text the gateway can store (no U+0000, which
PostgreSQL text cannot hold, and no lone UTF-16 surrogate such as `\\ud800`, which is not a character and
cannot be encoded as UTF-8), nested no deeper than any schema of the contract needs; and how a schema
violation is told back. A violation names the field and the rule it broke, never the value that broke it:
the value may be a password, a secret or a verification value (H-REL-3: a secret never appears in an
answer, valid or not)."""

from __future__ import annotations

import re
from typing import Any

import jsonschema_rs

MAX_DEPTH = 32  # the contract's deepest body (a widget's layout, an integration's status map) is 4 deep
NOT_TEXT = re.compile("[\x00\ud800-\udfff]")
_KIND = jsonschema_rs.ValidationErrorKind


class NotStorable(ValueError):
    """400 for a body nested too deep (not JSON the gateway reads), 422 naming the field for a string that is
    not storable text."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.field = status, message, field


def _name(char: str) -> str:
    return "U+0000 (NUL)" if char == "\x00" else f"a lone surrogate (U+{ord(char):04X})"


def _refuse(path: tuple[str, ...], what: str) -> NotStorable:
    field = ".".join(path) or None
    return NotStorable(422, f"{field or 'the body'}: {what}", field)


def check_storable(value: Any) -> None:
    """Walk the decoded body (iteratively: no recursion to exhaust) for depth and for strings that are not text."""
    stack: list[tuple[Any, tuple[str, ...]]] = [(value, ())]
    while stack:
        item, path = stack.pop()
        if len(path) > MAX_DEPTH:
            raise NotStorable(400, f"the body is nested more than {MAX_DEPTH} levels deep")
        if isinstance(item, str):
            if found := NOT_TEXT.search(item):
                raise _refuse(path, f"holds {_name(found.group())}, which is not text")
        elif isinstance(item, dict):
            for key, sub in item.items():
                if found := NOT_TEXT.search(key):
                    raise _refuse(path, f"a property name holds {_name(found.group())}")
                stack.append((sub, (*path, key)))
        elif isinstance(item, list):
            stack.extend((sub, (*path, str(i))) for i, sub in enumerate(item))


def _quoted(names: Any, limit: int = 5) -> str:
    shown = [repr(str(n)[:64]) for n in list(names)[:limit]]
    more = len(list(names)) - limit
    return ", ".join(shown) + (f" and {more} more" if more > 0 else "")


def _listed(values: Any) -> str:
    return ", ".join("null" if v is None else str(v).lower() if isinstance(v, bool) else str(v) for v in values)


def _types(kind: Any) -> list[str]:
    return [kind.types] if isinstance(kind.types, str) else list(kind.types)


def _rule(err: Any) -> str:
    """The rule, from the schema alone: the submitted value is never part of it."""
    k = err.kind
    if isinstance(k, _KIND.Type):
        return f"must be of type {' or '.join(_types(k))}"
    if isinstance(k, _KIND.MinLength):
        return f"shorter than {k.limit} characters"
    if isinstance(k, _KIND.MaxLength):
        return f"longer than {k.limit} characters"
    if isinstance(k, _KIND.Pattern):
        return f"does not match the pattern {k.pattern}"
    if isinstance(k, _KIND.Format):
        return f"is not a valid {k.format}"
    if isinstance(k, _KIND.Enum):
        return f"must be one of: {_listed(k.options)}"[:300]
    if isinstance(k, _KIND.Constant):
        return f"must be {_listed([k.expected_value])}"[:300]
    if isinstance(k, _KIND.Minimum):
        return f"must be at least {k.limit}"
    if isinstance(k, _KIND.Maximum):
        return f"must be at most {k.limit}"
    if isinstance(k, _KIND.ExclusiveMinimum):
        return f"must be more than {k.limit}"
    if isinstance(k, _KIND.ExclusiveMaximum):
        return f"must be less than {k.limit}"
    if isinstance(k, _KIND.MultipleOf):
        return f"must be a multiple of {k.multiple_of}"
    if isinstance(k, _KIND.MinItems):
        return f"needs at least {k.limit} item(s)"
    if isinstance(k, _KIND.MaxItems):
        return f"has more than {k.limit} items"
    if isinstance(k, _KIND.UniqueItems):
        return "has items that appear twice"
    if isinstance(k, _KIND.MinProperties):
        return f"needs at least {k.limit} propert{'y' if k.limit == 1 else 'ies'}"
    if isinstance(k, _KIND.MaxProperties):
        return f"has more than {k.limit} properties"
    if isinstance(k, _KIND.AdditionalProperties | _KIND.UnevaluatedProperties):
        return f"unexpected propert{'y' if len(k.unexpected) == 1 else 'ies'} {_quoted(k.unexpected)}"
    if isinstance(k, _KIND.AdditionalItems | _KIND.UnevaluatedItems):
        return "has more items than allowed"
    if isinstance(k, _KIND.OneOfMultipleValid):
        return "matches more than one of the allowed forms"
    return "is not allowed here"


def _best(err: Any) -> Any:
    """For oneOf/anyOf, the branch error that says most: the deepest one that is not just 'not of this type'."""
    context = getattr(err.kind, "context", None)
    if not isinstance(err.kind, _KIND.AnyOf | _KIND.OneOfNotValid) or not context:
        return err
    here = len(list(err.instance_path))
    candidates = [e for branch in context for e in branch]
    deeper = [e for e in candidates if len(list(e.instance_path)) > here or not isinstance(e.kind, _KIND.Type)]
    if not deeper:
        return err
    return _best(max(deeper, key=lambda e: len(list(e.instance_path))))


def describe(err: Any) -> tuple[str | None, str]:
    """(field, message) for a jsonschema_rs error; the message quotes no submitted value."""
    chosen = _best(err)
    path = [str(p) for p in chosen.instance_path]
    if isinstance(chosen.kind, _KIND.Required):
        field = ".".join([*path, str(chosen.kind.property)])
        return field, f"{field}: is required"
    if chosen is err and isinstance(err.kind, _KIND.AnyOf | _KIND.OneOfNotValid):
        field = ".".join(path) or None
        branches = [e for branch in err.kind.context or [] for e in branch]
        if branches and all(isinstance(e.kind, _KIND.Type) for e in branches):  # each branch is another type
            types = sorted(
                {t for e in branches for t in ([e.kind.types] if isinstance(e.kind.types, str) else e.kind.types)}
            )
            return field, f"{field or 'the body'}: must be of type {' or '.join(types)}"
        return field, f"{field or 'the body'}: matches none of the allowed forms"
    field = ".".join(path) or None
    return field, f"{field or 'the body'}: {_rule(chosen)}"
