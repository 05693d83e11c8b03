"""Reading what a recorded call meant in each vendor's terms: Cityworks' `data` parameter and envelope, OpenGov's
class-keyed bodies. Values in, values out; the rules ask here rather than each parse the wire itself."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from multidict import MultiDict

from simulators.kit.contract import media_type
from simulators.kit.journal import query_pairs
from simulators.kit.lenient import lenient_loads, loads

from .. import forms
from ..analysis import body_of
from ..exchange import Exchange


def _json(text: str | bytes) -> Any:
    try:
        return loads(text)
    except ValueError:
        try:
            return lenient_loads(text if isinstance(text, str) else text.decode("utf-8", errors="replace"))
        except ValueError:
            return None


def parameters(ex: Exchange) -> MultiDict[Any]:
    """Query and form fields together, the form's last (ASP.NET binds either; files as forms.Upload)."""
    out: MultiDict[Any] = MultiDict(query_pairs(ex.query))
    if media_type(ex.content_type) in (forms.URLENCODED, forms.MULTIPART):
        found = forms.form(ex.content_type, body_of(ex.request_body, ex.header("Content-Encoding")))
        if found is not None:
            out.extend(found)
    return out


def parameter(ex: Exchange, name: str) -> Any:
    """A parameter by name in any casing (ASP.NET's binding), the last one given; None when absent."""
    wanted = name.lower()
    found = [v for k, v in parameters(ex).items() if k.lower() == wanted]
    return found[-1] if found else None


def json_body(ex: Exchange) -> Any:
    if not ex.request_body:
        return None
    return _json(body_of(ex.request_body, ex.header("Content-Encoding")))


def json_answer(ex: Exchange) -> Any:
    if not ex.response_body or ex.status is None:
        return None
    return _json(body_of(ex.response_body, ex.header("Content-Encoding", "response")))


def member(record: Any, name: str) -> Any:
    """A JSON member by name in any casing (Json.NET reads members so)."""
    if not isinstance(record, dict):
        return None
    wanted = name.lower()
    return next((v for k, v in record.items() if str(k).lower() == wanted), None)


# -- Cityworks ---------------------------------------------------------------------------------------------------


def cw_data(ex: Exchange) -> dict[str, Any]:
    """A Cityworks call's `data` object ({} when none or unreadable)."""
    raw = parameter(ex, "data")
    value = _json(raw) if isinstance(raw, str) else None
    return value if isinstance(value, dict) else {}


def cw_status(ex: Exchange) -> int | None:
    """The envelope's Status (0 is success); None when the answer is no envelope."""
    status = member(json_answer(ex), "Status")
    return status if isinstance(status, int) else None


def cw_ok(ex: Exchange) -> bool:
    return ex.status == 200 and cw_status(ex) == 0


def cw_value(ex: Exchange) -> Any:
    return member(json_answer(ex), "Value")


def is_operation(ex: Exchange, *names: str) -> bool:
    """The exchange's operation is one of `names`, by either of Cityworks' forms (POST, or GET with `_get`)."""
    op = ex.operation or ""
    return op in names or op.removesuffix("_get") in names


# -- OpenGov -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClassCall:
    """An OpenGov call on a class: `classes/{class}`, `classes/{class}/{oid}` or `classes/{parent}/{oid}/{child}`."""

    class_name: str  # the class written or read (the child's, for a child call)
    parent_oid: str | None  # the parent record, for a child call


def og_class_call(ex: Exchange) -> ClassCall | None:
    parts = [p for p in ex.path.split("/") if p]
    try:
        at = [p.lower() for p in parts].index("classes")
    except ValueError:
        return None
    rest = parts[at + 1 :]
    if len(rest) == 1:
        return ClassCall(rest[0], None)
    if len(rest) == 3:
        return ClassCall(rest[2], rest[1])
    return None


def og_records(value: Any, class_name: str) -> list[dict[str, Any]]:
    """The records of `{className: [...]}` (the class name in any casing)."""
    found = member(value, class_name)
    return [r for r in found if isinstance(r, dict)] if isinstance(found, list) else []


def og_ok(ex: Exchange) -> bool:
    return ex.status is not None and 200 <= ex.status < 300


def og_filter(ex: Exchange) -> str:
    found = [v for k, v in query_pairs(ex.query) if k.lower() == "filter"]
    return found[-1] if found else ""


def first(items: Iterable[Any]) -> Any:
    return next(iter(items), None)
