"""How a vendor's web framework binds a request: what its server accepts beyond the documented shape.

Real servers accept more than their documentation shows. ASP.NET binds a parameter from the query string or
the form body whatever the method, and its names case-insensitively; ASP.NET Web API reads a JSON body
whatever Content-Type the client declared. Real, unmodified clients rely on both. A dialect's binder rewrites
such a request into the shape the contract documents, so strict checks judge what the real server would judge,
and names each rewrite as a *warning*: served, as the real server serves it, but a client relying on it is
fragile (the next server version or a stricter proxy may refuse it). A binder returns None for a request that
is already in the documented shape: the common case costs one look at the parameter names.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from .contract import FORM_TYPES, ContractValidator, Operation, Violation
from .jsonnet import read_as
from .lenient import lenient_loads

URLENCODED = "application/x-www-form-urlencoded"


@dataclass(frozen=True, slots=True)
class Incoming:
    """A request as it crossed the wire, as a binder sees it."""

    method: str
    query: MultiDictProxy[str]
    media_type: str  # the declared Content-Type's media type, lower case; "" when none
    body: bytes
    form: MultiDictProxy[Any] | None  # parsed by aiohttp for a form type (empty unless a POST-like method)


@dataclass(slots=True)
class Bound:
    """The same request in the documented shape, and what was rewritten to get there."""

    query: MultiDictProxy[str]
    content_type: str
    body: bytes
    form: MultiDictProxy[Any] | None
    warnings: list[Violation] = field(default_factory=list)


Binder = Callable[[Operation, Incoming], Bound | None]
# Asked only when the bound request breaks the contract: a reading of it the vendor's deserializer would make.
Relaxer = Callable[[Operation, Bound, ContractValidator], Bound | None]

BOUND = web.RequestKey("sim_bound", Bound)


def warning(location: str, message: str) -> Violation:
    return Violation("request", location, message)


async def arguments(request: web.Request) -> tuple[MultiDictProxy[str], MultiDictProxy[Any] | None]:
    """(query, form) as the vendor's server bound them: a handler reads its parameters here, not from the raw
    request, so what the binder accepted reaches the handler too."""
    bound = request.get(BOUND)
    if bound is not None:
        return bound.query, bound.form
    form = await request.post() if request.method in request.POST_METHODS else None
    return request.query, form


def form_pairs(incoming: Incoming) -> list[tuple[str, Any]]:
    """The form fields of a request body, for any method: aiohttp parses forms only for POST-like methods, while
    ASP.NET binds a urlencoded body on a GET too."""
    if incoming.form:
        return list(incoming.form.items())
    if incoming.body and incoming.media_type == URLENCODED:
        try:
            return parse_qsl(incoming.body.decode("utf-8"), keep_blank_values=True)
        except UnicodeDecodeError:
            return []
    return []


# -- ASP.NET: parameters from the query string and the form alike ----------------------------------------


class AspNetParameters:
    """ASP.NET's binding of named parameters (Cityworks' `data` and `token`): from the query string or the form
    body (a GET's too), names in any casing.

    `names`: the parameters the service reads, in their documented spelling. Where each is documented for an
    operation is read from the contract: its query parameters, and the properties of its form body.
    `precedence`: where a name sent both in the query and in the form is read from. ASP.NET's `Request[name]`
    looks in the query string first; which accessor the vendor's code uses is not public, so it is a setting.
    """

    def __init__(self, names: Iterable[str], precedence: str = "query") -> None:
        if precedence not in ("query", "form"):
            raise ValueError(f"precedence must be query or form, got {precedence!r}")
        self.precedence = precedence
        self._by_lower = {n.lower(): n for n in names}
        self._places: dict[int, dict[str, tuple[str, ...]]] = {}  # id(operation) -> name -> documented places

    def __call__(self, op: Operation, incoming: Incoming) -> Bound | None:
        places = self._places.get(id(op))
        if places is None:
            places = self._places[id(op)] = _documented_places(op, self._by_lower.values())
        if self._documented_shape(places, incoming):
            return None
        return self._bind(op, places, incoming)

    def _documented_shape(self, places: dict[str, tuple[str, ...]], incoming: Incoming) -> bool:
        for source, names in (("query", incoming.query), ("form", incoming.form or ())):
            for name in names:
                if name in places:
                    if source not in places[name]:
                        return False
                elif name.lower() in self._by_lower:
                    return False
        # A urlencoded body aiohttp did not parse (a GET's): its fields are bound too.
        return bool(incoming.form) or not incoming.body or incoming.media_type != URLENCODED

    def _bind(self, op: Operation, places: dict[str, tuple[str, ...]], incoming: Incoming) -> Bound:
        warnings: list[Violation] = []
        found: dict[str, dict[str, Any]] = {}  # documented name -> {source: value}
        query: MultiDict[str] = MultiDict()
        form: MultiDict[Any] = MultiDict()
        for source, pairs in (("query", incoming.query.items()), ("form", form_pairs(incoming))):
            for name, value in pairs:
                canonical = self._by_lower.get(name.lower())
                if canonical is None:  # not a parameter the service reads: left where it came
                    (query if source == "query" else form).add(name, value)
                    continue
                if name != canonical:
                    message = f"parameter names bind case-insensitively (ASP.NET); documented as {canonical!r}"
                    warnings.append(warning(f"{source}.{name}", message))
                found.setdefault(canonical, {}).setdefault(source, value)
        for canonical, by_source in found.items():
            if len(by_source) > 1 and by_source["query"] != by_source["form"]:
                warnings.append(
                    warning(
                        canonical,
                        f"{canonical!r} sent in the query string and in the form with different values; the "
                        f"{self.precedence} one is read (inferred)",
                    )
                )
            source = self.precedence if self.precedence in by_source else next(iter(by_source))
            allowed = places.get(canonical) or (source,)
            place = source if source in allowed else allowed[0]
            if place != source:
                warnings.append(warning(f"{source}.{canonical}", _moved(op.method, canonical, source, place)))
            (query if place == "query" else form).add(canonical, by_source[source])
        if op.method == "GET" or not form:
            query.extend(form)  # no form body is documented here: whatever came in one is read like the query
            return Bound(MultiDictProxy(query), "", b"", None, warnings)
        content_type = incoming.media_type if incoming.media_type in FORM_TYPES else URLENCODED
        return Bound(MultiDictProxy(query), content_type, incoming.body, MultiDictProxy(form), warnings)


def _documented_places(op: Operation, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
    """Where the contract documents each parameter for this operation: "query", "form" or both."""
    in_query = {p.name for p in op.query}
    in_form: set[str] = set()
    for media, schema in op.body.items():
        if media in FORM_TYPES and isinstance(schema, dict):
            in_form |= set(schema.get("properties") or ())
    out: dict[str, tuple[str, ...]] = {}
    for name in names:
        where = tuple(place for place, held in (("form", in_form), ("query", in_query)) if name in held)
        if where:
            out[name] = where
    return out


def _moved(method: str, name: str, source: str, place: str) -> str:
    where = {"query": "the query string", "form": "the form body"}
    return (
        f"{method} with {name!r} in {where[source]}: ASP.NET binds it from either; the contract documents it in "
        f"{where[place]} for {method}"
    )


# -- ASP.NET Web API: a body read by the action's type, whatever its declared type ------------------------

OCTET_STREAM = "application/octet-stream"


def web_api_body(op: Operation, incoming: Incoming) -> Bound | None:
    """A body the action reads by its own type rather than by the declared Content-Type (OpenGov):
    - JSON sent as text/plain (a browser's type for a string body when the client sets none), with no type or
      any other type is read as the JSON the operation takes; sent as a urlencoded form (libcurl's default type
      for a POST body, so R's httr declares it) it is read as JSON when it is JSON;
    - an upload streamed with no type is read as the raw file."""
    if not op.body or not incoming.body or incoming.media_type in op.body:
        return None
    declared = incoming.media_type or "no Content-Type"
    json_type = next((mt for mt in op.body if mt.endswith("json")), None)
    if json_type is not None and incoming.media_type != "multipart/form-data":
        if incoming.media_type == URLENCODED and incoming.body.lstrip()[:1] not in (b"{", b"["):
            return None  # a real form: refused as the contract says
        message = f"a JSON body declared as {declared}: the server reads it as JSON; documented as {json_type}"
        return Bound(incoming.query, json_type, incoming.body, None, [warning("header.Content-Type", message)])
    if OCTET_STREAM in op.body and not incoming.media_type:
        message = f"a file streamed with no Content-Type: the server reads the raw body; documented as {OCTET_STREAM}"
        return Bound(incoming.query, OCTET_STREAM, incoming.body, None, [warning("header.Content-Type", message)])
    return None


# -- Json.NET: the JSON inside a parameter, read into a .NET type ------------------------------------------


class JsonNetParameter:
    """A parameter holding JSON (Cityworks' `data`) as Json.NET binds it (jsonnet.py): member names in any casing,
    unknown members ignored, "12" for a number, null for an unset member. Each change is a warning; the value is
    re-encoded so the strict checks and the handler see what the server's code would."""

    def __init__(self, name: str, loads: Callable[[str], Any] = lenient_loads) -> None:
        self.name, self.loads = name, loads

    def __call__(self, op: Operation, bound: Bound, validator: ContractValidator) -> Bound | None:
        in_form = bound.form is not None and self.name in bound.form
        source = bound.form if in_form else bound.query
        schema = self._schema(op, in_form, validator)
        if source is None or self.name not in source or schema is None:
            return None
        try:
            value = self.loads(source[self.name])
        except (ValueError, TypeError):
            return None  # not JSON at all: the strict checks say so
        read, notes = read_as(schema, value, validator.resolve)
        if not notes:
            return None
        where = "form" if in_form else "query"
        warnings = [warning(f"{where}.{self.name}{path[1:]}", note) for path, note in notes]
        replaced: MultiDict[Any] = MultiDict((k, v) for k, v in source.items() if k != self.name)
        replaced.add(self.name, json.dumps(read))
        if in_form:
            return Bound(
                bound.query, bound.content_type, bound.body, MultiDictProxy(replaced), bound.warnings + warnings
            )
        return Bound(MultiDictProxy(replaced), bound.content_type, bound.body, bound.form, bound.warnings + warnings)

    def _schema(self, op: Operation, in_form: bool, validator: ContractValidator) -> Any:
        if not in_form:
            return next((p.schema for p in op.query if p.name == self.name and p.json), None)
        for media, schema in op.body.items():
            if media in FORM_TYPES:
                prop = validator.resolve(validator.resolve(schema).get("properties", {}).get(self.name, {}))
                if "contentSchema" in prop:
                    return prop["contentSchema"]
        return None
