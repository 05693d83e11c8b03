"""What the mutating proxy does to each call: name its contract operation, apply the mutation (if it names
the operation), and remember which check made which calls (coverage) and which exchanges the mutation
changed (the report's evidence)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from contracts import load_contract
from simulators.kit.contract import ContractValidator
from simulators.kit.secrets import mask_body, mask_query

from .exchange import Request, Response, excerpt
from .mutation import Mutation
from .vendors import Vendor

MAX_CHANGES = 5  # changed exchanges kept as evidence per trial; all are counted


@dataclass
class Tap:
    vendor: Vendor
    mutation: Mutation | None = None
    version: str | None = None
    check: str | None = None  # the check running now (set by the trial's pytest plugin)
    calls: dict[str, Counter[str]] = field(default_factory=dict)  # check -> operation -> calls
    changes: list[dict[str, Any]] = field(default_factory=list)
    changed: int = 0  # exchanges the mutation changed
    memo: dict[str, Any] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)  # a mutation that raised: the trial is void, not a kill

    def __post_init__(self) -> None:
        self.matcher = ContractValidator(
            load_contract(self.vendor.contract),
            case_insensitive=self.vendor.case_insensitive,
            mount=self.vendor.mount,
        )
        self.memo["version"] = self.version or "23"

    def operation(self, method: str, path: str) -> str | None:
        op, _, _ = self.matcher.match(method, path)
        return op.operation_id if op is not None else None

    def request(self, req: Request) -> Request:
        self.calls.setdefault(self.check or "", Counter())[req.operation or "?"] += 1
        m = self.mutation
        if m is None or m.request is None or not m.applies(req.operation):
            return req
        try:
            return m.request(req, self.memo)
        except Exception as exc:  # a catalogue bug must not read as the suite killing the mutation
            self.errors.append(f"request: {exc.__class__.__name__}: {exc}")
            return req

    def response(self, sent: Request, original: Request, resp: Response) -> Response:
        self.vendor.learn(sent, resp, self.memo)
        m = self.mutation
        out = resp
        if m is not None and m.response is not None and m.applies(sent.operation):
            try:
                out = m.response(sent, resp, self.memo)
            except Exception as exc:
                self.errors.append(f"response: {exc.__class__.__name__}: {exc}")
        if sent != original or out != resp:
            self.changed += 1
            if len(self.changes) < MAX_CHANGES:
                self.changes.append(describe(self.check, original, sent, resp, out))
        return out


def describe(check: str | None, original: Request, sent: Request, resp: Response, out: Response) -> dict[str, Any]:
    """One changed exchange as the report shows it: the call, and what the mutation did to it, with every
    credential (tokens, passwords, signatures in a query, a form, JSON or a header) masked by the kit's rules."""
    entry: dict[str, Any] = {
        "check": check,
        "operation": original.operation,
        "call": f"{original.method} {_target(original)}"[:300],
    }
    if sent != original:
        entry["request_sent"] = f"{sent.method} {_target(sent)}"
        if sent.body != original.body:
            entry["request_body_before"] = _body(original.body, original.header("Content-Type"))
            entry["request_body_after"] = _body(sent.body, sent.header("Content-Type"))
        changed = sorted({k for k, _ in {*sent.headers} ^ {*original.headers}})
        if changed:
            entry["request_headers_changed"] = changed
    if out != resp:
        entry["answer_before"] = f"{resp.status} {_body(resp.body, resp.header('Content-Type'))}"
        entry["answer_after"] = f"{out.status} {_body(out.body, out.header('Content-Type'))}"
    return entry


def _target(request: Request) -> str:
    if not request.query:
        return request.path
    masked = mask_query(request.params(), frozenset())
    return f"{request.path}?{urlencode(masked, doseq=True, safe='*')}"


def _body(body: bytes, content_type: str | None) -> str:
    shown = mask_body(body, content_type or "", frozenset(), len(body))
    text = shown if isinstance(shown, str) else json.dumps(shown, ensure_ascii=False)
    return excerpt(text.encode()) if shown is not None else ""
