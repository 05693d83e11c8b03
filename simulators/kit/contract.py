"""Strict-mode contract checks: match a request to its OpenAPI operation, validate it, validate the answer.

Schemas are compiled once (jsonschema-rs, Draft 2020-12) because every vendor call goes through here.
`$ref`s point into the contract's `components`, so each compiled schema carries them along at its root.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs
from aiohttp import web

from contracts import deref

from .lenient import loads

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")
# Stands in for an uploaded file when a multipart form is validated against a `format: binary` string.
UPLOADED_FILE = "<uploaded file>"

JsonLoads = Callable[[str], Any]
NOT_DECODED: Any = object()
# A handler that builds its JSON answer itself may put the value here (`response[JSON_VALUE] = value`),
# so strict mode checks it without parsing the bytes it just wrote.
JSON_VALUE: web.ResponseKey[Any] = web.ResponseKey("sim_json_value", object)


@dataclass(frozen=True, slots=True)
class Violation:
    where: str  # "request" or "response"
    location: str  # e.g. "query.limit", "body.data$.ProblemSid", "status"
    message: str

    def as_json(self) -> dict[str, str]:
        return {"where": self.where, "location": self.location, "message": self.message}


@dataclass(slots=True)
class Param:
    name: str
    required: bool
    schema: dict[str, Any]
    json: bool = False  # `content: {application/json: ...}`: the value is JSON text to decode first
    array: bool = False  # repeated in the query string (read once, when the contract is loaded)


@dataclass(slots=True)
class Operation:
    operation_id: str
    method: str
    path_template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]
    query: list[Param] = field(default_factory=list)
    headers: list[Param] = field(default_factory=list)
    path_params: dict[str, Param] = field(default_factory=dict)
    body_required: bool = False
    body: dict[str, dict[str, Any]] = field(default_factory=dict)  # media type -> schema
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)  # status -> {media: schema}

    @property
    def extensions(self) -> dict[str, Any]:
        return {k: v for k, v in self.spec.items() if k.startswith("x-")}


def json_path(parts: list[str | int]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


@functools.lru_cache(maxsize=256)  # on every call and answer; a server sees a handful of distinct values
def media_type(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


class ContractValidator:
    """One per contract document; shared by every request of a simulator."""

    def __init__(
        self,
        document: Mapping[str, Any],
        *,
        case_insensitive: bool = False,
        json_loads: JsonLoads = loads,
        mount: str = "",
    ) -> None:
        self.document = document
        # A prefix in front of every contract path, for a simulator that serves the contract several times
        # (e.g. "/{widget}": one city serves many widget endpoints, each a base URL of the contract).
        self.mount = mount.rstrip("/")
        self.json_loads = json_loads
        self._components = document.get("components", {})
        self._flags = re.IGNORECASE if case_insensitive else 0
        self._compiled: dict[int, Any] = {}
        # Checking is a pure function of its text input, and a simulator answers the same call with the same
        # bytes until its state changes: remembered results spare a hot route the schema walk (see _remember).
        self._seen_values: dict[tuple[int, str, Any], list[Violation]] = {}
        self._declared: dict[tuple[str, int], dict[str, Any] | None] = {}  # bounded: operations x statuses
        self._seen_answers: dict[tuple[str, int, str, bytes], list[Violation]] = {}
        self.operations = self._build_operations()
        self._case_insensitive = case_insensitive
        # Concrete paths resolve by one dict lookup; only templated ones need the regex scan.
        self._literal: dict[str, dict[str, Operation]] = {}
        self._templated = [op for op in self.operations if "{" in op.path_template]
        for op in self.operations:
            if "{" not in op.path_template:
                self._literal.setdefault(self._key(op.path_template), {})[op.method] = op

    def _key(self, path: str) -> str:
        return path.lower() if self._case_insensitive else path

    # -- building ---------------------------------------------------------------------------------

    def resolve(self, node: Any) -> Any:
        """Follow local `$ref`s (only at this node) so a parameter's type can be read."""
        return deref(self.document, node)

    def _build_operations(self) -> list[Operation]:
        ops: list[Operation] = []
        for template, item in (self.document.get("paths") or {}).items():
            item = self.resolve(item)
            shared = item.get("parameters", [])
            template = self.mount + template
            regex = re.sub(r"\\\{([^}]+)\\\}", lambda m: f"(?P<{_group(m.group(1))}>[^/]+)", re.escape(template))
            pattern = re.compile(f"^{regex}$", self._flags)
            for method in HTTP_METHODS:
                spec = item.get(method)
                if spec is None:
                    continue
                op = Operation(
                    operation_id=spec.get("operationId", f"{method} {template}"),
                    method=method.upper(),
                    path_template=template,
                    pattern=pattern,
                    spec=spec,
                )
                for raw in [*shared, *spec.get("parameters", [])]:
                    p = self.resolve(raw)
                    content = p.get("content") or {}
                    json_media = next((c for mt, c in content.items() if media_type(mt).endswith("json")), None)
                    schema = json_media.get("schema", {}) if json_media is not None else p.get("schema", {})
                    param = Param(p["name"], bool(p.get("required")), schema, json=json_media is not None)
                    param.array = self._is_array(schema)
                    if p["in"] == "query":
                        op.query.append(param)
                    elif p["in"] == "header":
                        op.headers.append(param)
                    elif p["in"] == "path":
                        op.path_params[_group(p["name"])] = param
                body = self.resolve(spec.get("requestBody") or {})
                op.body_required = bool(body.get("required"))
                op.body = {media_type(mt): c.get("schema", {}) for mt, c in body.get("content", {}).items()}
                for status, resp in (spec.get("responses") or {}).items():
                    resp = self.resolve(resp)
                    op.responses[str(status).upper()] = {
                        media_type(mt): c.get("schema", {}) for mt, c in (resp.get("content") or {}).items()
                    }
                ops.append(op)
        # Concrete paths win over templated ones, as OpenAPI specifies.
        ops.sort(key=lambda o: o.path_template.count("{"))
        return ops

    def _validator(self, schema: dict[str, Any]) -> Any:
        key = id(schema)
        v = self._compiled.get(key)
        if v is None:
            root = {**schema, "components": self._components} if "components" not in schema else schema
            v = jsonschema_rs.Draft202012Validator(root)
            self._compiled[key] = v
        return v

    # -- matching ---------------------------------------------------------------------------------

    def match(self, method: str, path: str) -> tuple[Operation | None, dict[str, str], bool]:
        """(operation, path parameters, whether the path exists under any method)."""
        method = method.upper()
        by_method = self._literal.get(self._key(path))
        if by_method is not None:
            op = by_method.get(method)
            return op, {}, True
        path_known = False
        for op in self._templated:
            m = op.pattern.match(path)
            if m is None:
                continue
            path_known = True
            if op.method == method:
                return op, m.groupdict(), True
        return None, {}, path_known

    # -- checking ---------------------------------------------------------------------------------

    def check_schema(self, schema: dict[str, Any], instance: Any, where: str, location: str) -> list[Violation]:
        validator = self._validator(schema)
        if validator.is_valid(instance):  # the common case, without collecting errors
            return []
        return [
            Violation(where, f"{location}{json_path(e.instance_path)[1:]}", e.message)
            for e in validator.iter_errors(instance)
        ]

    def validate_request(
        self,
        op: Operation,
        path_params: Mapping[str, str],
        query: Any,  # a MultiDict
        headers: Mapping[str, str],
        content_type: str | None,
        body: bytes,
        form: Mapping[str, Any] | None,
    ) -> list[Violation]:
        out: list[Violation] = []
        for name, param in op.path_params.items():
            if name in path_params:
                out += self._check_value(param, path_params[name], "path")
        for param in op.query:
            values = query.getall(param.name, [])
            if not values:
                if param.required:
                    out.append(Violation("request", f"query.{param.name}", "required parameter is missing"))
                continue
            out += self._check_value(param, values if param.array else values[-1], "query")
        for param in op.headers:
            if param.required and param.name not in headers:
                out.append(Violation("request", f"header.{param.name}", "required header is missing"))
        out += self._check_body(op, content_type, body, form)
        return out

    def _check_body(
        self, op: Operation, content_type: str | None, body: bytes, form: Mapping[str, Any] | None
    ) -> list[Violation]:
        mt = media_type(content_type)
        if not body and form is None:
            if op.body_required:
                return [Violation("request", "body", "a request body is required")]
            return []
        if not op.body:
            return []  # the operation takes no body; extra bytes are ignored as servers do
        schema = op.body.get(mt)
        if schema is None and not mt:
            # No content type at all: servers sniff the body; read it as the operation's JSON if it takes one.
            mt = next((m for m in op.body if m.endswith("json")), "")
            schema = op.body.get(mt)
        if schema is None:
            allowed = ", ".join(op.body)
            return [Violation("request", "body", f"content type {mt or '(none)'!r} not accepted; use {allowed}")]
        if mt in FORM_TYPES:
            return self._check_form(schema, form or {})
        if mt.endswith("json"):
            try:
                instance = self.json_loads(body.decode("utf-8"))
            except (ValueError, UnicodeDecodeError) as exc:
                return [Violation("request", "body", f"body is not valid JSON: {exc}")]
            return self.check_schema(schema, instance, "request", "body")
        return []

    def _check_form(self, schema: dict[str, Any], form: Mapping[str, Any]) -> list[Violation]:
        schema = self.resolve(schema)
        props = schema.get("properties", {})
        out: list[Violation] = []
        flat: dict[str, Any] = {}
        for name in set(form):
            values = form.getall(name) if hasattr(form, "getall") else [form[name]]
            values = [v if isinstance(v, str) else UPLOADED_FILE for v in values]
            prop = self.resolve(props.get(name, {}))
            # Form values are text, like query strings: read them as the property's type says.
            flat[name] = self._coerce(prop, values if self._is_array(prop) else values[-1])
            inner = prop.get("contentSchema")
            if inner is not None and prop.get("contentMediaType", "").endswith("json"):
                try:
                    decoded = self.json_loads(flat[name])
                except (ValueError, TypeError) as exc:
                    out.append(Violation("request", f"body.{name}", f"field is not valid JSON: {exc}"))
                    continue
                out += self.check_schema(inner, decoded, "request", f"body.{name}$")
        return out + self.check_schema(schema, flat, "request", "body")

    def _check_value(self, param: Param, raw: Any, where: str) -> list[Violation]:
        key = (id(param), where, tuple(raw) if isinstance(raw, list) else raw)
        seen = self._seen_values.get(key)
        if seen is None:
            seen = _remember(self._seen_values, key, self._check_value_text(param, raw, where))
        return list(seen)

    def _check_value_text(self, param: Param, raw: Any, where: str) -> list[Violation]:
        if param.json:
            try:
                value = self.json_loads(raw[-1] if isinstance(raw, list) else raw)
            except (ValueError, TypeError) as exc:
                return [Violation("request", f"{where}.{param.name}", f"parameter is not valid JSON: {exc}")]
            return self.check_schema(param.schema, value, "request", f"{where}.{param.name}$")
        value = self._coerce(param.schema, raw)
        return self.check_schema(param.schema, value, "request", f"{where}.{param.name}")

    def _is_array(self, schema: dict[str, Any]) -> bool:
        return "array" in _types(self.resolve(schema))

    def _coerce(self, schema: dict[str, Any], raw: Any) -> Any:
        """Query strings are text; turn them into what the schema's type says, when they can be."""
        schema = self.resolve(schema)
        if isinstance(raw, list):
            items = schema.get("items", {})
            return [self._coerce(items, r) for r in raw]
        types = _types(schema)
        for t in types:
            try:
                if t == "integer":
                    return int(raw)
                if t == "number":
                    return float(raw)
            except ValueError:
                continue
            if t == "boolean" and raw.lower() in ("true", "false"):
                return raw.lower() == "true"
        return raw

    def validate_response(
        self, op: Operation, status: int, content_type: str | None, body: bytes | None, decoded: Any = NOT_DECODED
    ) -> list[Violation]:
        """`decoded`: the body as the handler built it, when known, to spare parsing it again."""
        declared = self._declared.get((op.operation_id, status), MISSING)
        if declared is MISSING:
            declared = self._declared[(op.operation_id, status)] = _declared(op, status)
        if declared is None:
            return [Violation("response", "status", f"status {status} is not declared for {op.operation_id}")]
        if not declared:
            return []
        mt = media_type(content_type)
        schema = declared.get(mt)
        if schema is None:
            if "*/*" in declared or any(m.endswith("/*") and mt.startswith(m[:-1]) for m in declared):
                return []
            return [Violation("response", "content-type", f"{mt!r} is not declared for status {status}")]
        if not mt.endswith("json") or body is None:
            return []
        if len(body) <= MEMO_MAX_BYTES:
            key = (op.operation_id, status, mt, body)
            seen = self._seen_answers.get(key)
            if seen is None:
                seen = _remember(self._seen_answers, key, self._check_answer(schema, body, decoded))
            return list(seen)
        return self._check_answer(schema, body, decoded)

    def _check_answer(self, schema: dict[str, Any], body: bytes, decoded: Any) -> list[Violation]:
        instance = decoded
        if instance is NOT_DECODED:
            try:
                instance = loads(body)
            except ValueError as exc:
                return [Violation("response", "body", f"body is not valid JSON: {exc}")]
        return self.check_schema(schema, instance, "response", "body")


def _declared(op: Operation, status: int) -> dict[str, Any] | None:
    """What the operation declares for a status: exact, else its class (2XX), else default. A status declared
    without content is {}: present, not missing."""
    keys = (str(status), f"{str(status)[0]}XX", "DEFAULT")
    return next((op.responses[k] for k in keys if k in op.responses), None)


MISSING = object()
MEMO_MAX_BYTES = 16_384  # answers larger than this are checked every time, not kept
MEMO_ENTRIES = 4_096


def _remember(memo: dict[Any, list[Violation]], key: Any, result: list[Violation]) -> list[Violation]:
    """Keep a check's result; a full memo starts over (cheap, and it bounds memory)."""
    if len(memo) >= MEMO_ENTRIES:
        memo.clear()
    memo[key] = result
    return result


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type", [])
    return [t] if isinstance(t, str) else list(t)


def _group(name: str) -> str:
    return re.sub(r"\W", "_", name)
