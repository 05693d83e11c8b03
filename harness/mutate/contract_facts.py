"""What a contract documents about an operation, read for mutation: the fields its success answer always
carries (and their types), the parameters it takes, whether it documents an order, its errors and its
success example. Pure: a contract document in, plain values out."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from simulators.kit.contract import ContractValidator, Operation

ORDER_WORDS = re.compile(r"\b(oldest first|newest first|ascending|descending|in order|sorted|in the order)\b", re.I)


@dataclass(slots=True)
class Facts:
    family: str
    operations: list[str]  # the operationIds of the family (GET and POST twins, path variants)
    required: dict[str, list[str]] = field(default_factory=dict)  # field -> its declared JSON types ([] unknown)
    params: list[tuple[str, str]] = field(default_factory=list)  # (where: param (query or form)|json|data, name)
    ordered: bool = False
    errors: list[str] = field(default_factory=list)  # documented non-2xx statuses
    success_example: Any = None
    secured: bool = True  # the operation needs credentials (its `security`, else the document's, is not empty)
    versions: list[str] | None = None  # `x-versions`: the version families that serve it (None: all)


def _types(schema: dict[str, Any]) -> list[str]:
    t = schema.get("type")
    return [t] if isinstance(t, str) else list(t or [])


class Reader:
    def __init__(self, document: dict[str, Any]) -> None:
        self.contract = ContractValidator(document)

    def resolve(self, node: Any) -> Any:
        return self.contract.resolve(node)

    def required_fields(self, schema: Any, depth: int = 0) -> dict[str, list[str]]:
        """Fields every valid answer carries where the schema puts them: required in each branch of an
        anyOf/oneOf (intersection), in any part of an allOf (union), nested through properties and items."""
        schema = self.resolve(schema)
        if not isinstance(schema, dict) or depth > 8:
            return {}
        out: dict[str, list[str]] = {}
        for part in schema.get("allOf", []):
            out.update(self.required_fields(part, depth + 1))
        branches = [self.required_fields(b, depth + 1) for b in schema.get("anyOf", []) + schema.get("oneOf", [])]
        if branches:
            common = set.intersection(*(set(b) for b in branches))
            out.update({k: branches[0][k] for k in common})
        props = schema.get("properties", {})
        for name in schema.get("required", []):
            out[name] = _types(self.resolve(props.get(name, {})))
        for sub in props.values():
            out.update(self.required_fields(sub, depth + 1))
        if "items" in schema:
            out.update(self.required_fields(schema["items"], depth + 1))
        extra = schema.get("additionalProperties")
        if isinstance(extra, dict):
            out.update(self.required_fields(extra, depth + 1))
        return out

    def body_params(self, op: Operation) -> list[tuple[str, str]]:
        out: list[tuple[str, str]] = []
        for media, schema in op.body.items():
            schema = self.resolve(schema)
            where = "param" if media in ("application/x-www-form-urlencoded", "multipart/form-data") else "json"
            for name, prop in (schema.get("properties") or {}).items():
                prop = self.resolve(prop)
                inner = self.resolve(prop.get("contentSchema") or {})
                if where == "param" and inner.get("properties"):  # JSON text in a form field (Cityworks' data)
                    out += [("data", member) for member in inner["properties"]]
                elif prop.get("format") != "binary":
                    out.append((where, name))
        return out

    def facts(self, family: str, ops: list[Operation]) -> Facts:
        first = ops[0]
        ok = next((s for s in ("200", "201") if s in first.responses), None)
        schema = next(iter(first.responses.get(ok, {}).values()), {}) if ok else {}
        params: list[tuple[str, str]] = []
        for op in ops:  # a parameter is ignored wherever a client sends it: the query or the form
            params += [("param", p.name) for p in op.query] + self.body_params(op)
        spec = first.spec
        text = " ".join(str(spec.get(k, "")) for k in ("summary", "description"))
        return Facts(
            family=family,
            operations=[op.operation_id for op in ops],
            # a success that may be a file (a download) is not held to its JSON schema, which is its errors'
            required=self.required_fields(schema) if schema and not self.file_answer(first, ok) else {},
            params=list(dict.fromkeys(params)),
            ordered=bool(ORDER_WORDS.search(text)),
            errors=[s for s in first.responses if s[:1] in "45"],
            success_example=self.example(first, ok),
            secured=bool(spec.get("security", self.contract.document.get("security", [{}]))),
            versions=[str(v) for v in spec["x-versions"]] if "x-versions" in spec else None,
        )

    def file_answer(self, op: Operation, status: str | None) -> bool:
        return any("json" not in media for media in op.responses.get(status or "", {}))

    def example(self, op: Operation, status: str | None) -> Any:
        if status is None:
            return None
        answer = self.resolve((op.spec.get("responses") or {}).get(status, {}))
        for media in (answer.get("content") or {}).values():
            if "example" in media:
                return media["example"]
            for ex in (media.get("examples") or {}).values():
                ex = self.resolve(ex)
                if "value" in ex:
                    return ex["value"]
        return None

    def families(self, family_of: Any) -> dict[str, Facts]:
        grouped: dict[str, list[Operation]] = {}
        for op in sorted(self.contract.operations, key=lambda o: (o.path_template, o.method != "POST")):
            grouped.setdefault(family_of(op.operation_id), []).append(op)
        return {name: self.facts(name, ops) for name, ops in grouped.items()}
