"""Query parameters as contracts/gateway.yaml states them, checked in one place before any handler runs: each
declared parameter's value is read as the contract's type (`page=2` is the integer 2) and validated against
its schema, formats included. A bad value is a 400 in the API's own error format that names the parameter
and says what it must be, without quoting what was sent. Parameters the contract does not declare are left
to the handler (Open311 clients send extras such as `api_key`). `allowEmptyValue: true` is the Open311 rule
that an empty argument is the same as one not sent (GeoReport v2, 1.1)."""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs
from aiohttp import web

from contracts import load_contract

from . import jsonapi, open311

JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
TEMPLATE = re.compile(r"\{[^}]*\}")
METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True, slots=True)
class Parameter:
    name: str
    schema: Mapping[str, Any]
    allow_empty: bool
    validator: Any

    def problem(self, raw: str) -> str | None:
        """What is wrong with this value, or None."""
        if raw == "" and self.allow_empty:
            return None
        if self.validator.is_valid(wire_value(raw, self.schema)):
            return None
        return f"{self.name} must be {expected(self.schema)}"


def wire_value(raw: str, schema: Mapping[str, Any]) -> Any:
    """A query string's text as the value the schema's type reads (form style, one value)."""
    types = schema.get("type", [])
    types = [types] if isinstance(types, str) else types
    if ("integer" in types or "number" in types) and JSON_NUMBER.fullmatch(raw):
        return json.loads(raw)
    if "boolean" in types and raw in ("true", "false"):
        return raw == "true"
    return raw


def expected(schema: Mapping[str, Any]) -> str:
    """The constraint in words (never the value sent: it could be anything, a secret included)."""
    if "enum" in schema:
        return "one of " + ", ".join(str(v) for v in schema["enum"])
    kind = schema.get("type")
    if kind == "integer":
        low, high = schema.get("minimum"), schema.get("maximum")
        return f"an integer from {low} to {high}" if low is not None and high is not None else "an integer"
    if kind == "number":
        return "a number"
    if schema.get("format") == "date-time" or str(schema.get("$ref", "")).endswith("DateTime"):
        return "an RFC 3339 date-time with its timezone (Z or ±HH:MM), e.g. 2026-01-31T09:30:00Z"
    if "pattern" in schema and "description" in schema:
        return str(schema["description"])
    if "maxLength" in schema:
        return f"at most {schema['maxLength']} characters"
    return "a valid value"


def route_key(method: str, path: str) -> tuple[str, str]:
    return method.upper(), TEMPLATE.sub("{}", path)


@functools.cache
def declared() -> dict[tuple[str, str], tuple[Parameter, ...]]:
    """Every operation's query parameters, by (method, path with its templates blanked)."""
    contract = load_contract("gateway")
    shared = contract["components"].get("parameters", {})
    out: dict[tuple[str, str], tuple[Parameter, ...]] = {}
    for path, item in contract["paths"].items():
        for method in METHODS:
            if method not in item:
                continue
            found = []
            for p in [*item.get("parameters", []), *item[method].get("parameters", [])]:
                if "$ref" in p:
                    p = shared[p["$ref"].rsplit("/", 1)[1]]
                if p["in"] != "query":
                    continue
                schema = p.get("schema", {})
                validator = jsonschema_rs.Draft202012Validator(
                    {**schema, "components": contract["components"]}, validate_formats=True
                )
                found.append(Parameter(p["name"], schema, bool(p.get("allowEmptyValue")), validator))
            if found:
                out[route_key(method, path)] = tuple(found)
    return out


def parameters_of(request: web.Request) -> tuple[Parameter, ...]:
    resource = request.match_info.route.resource
    if resource is None:
        return ()
    method = "GET" if request.method == "HEAD" else request.method
    return declared().get(route_key(method, resource.canonical), ())


def _failure(request: web.Request, parameter: str, message: str) -> web.Response:
    if request.path.startswith(open311.PREFIX):
        return open311.error_response(request, 400, [message])
    return jsonapi.error_response(400, "invalid", message, parameter)


@web.middleware
async def by_contract(request: web.Request, handler: Any) -> web.StreamResponse:
    for parameter in parameters_of(request):
        for raw in request.query.getall(parameter.name, ()):
            problem = parameter.problem(raw)
            if problem is not None:
                return _failure(request, parameter.name, problem)
    return await handler(request)
