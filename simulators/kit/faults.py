"""Fault rules (H-SIM-2): what to break, where, and how often.

A rule is scoped to a route (method + path glob, or an operationId) or global, and fires either with a
probability drawn from a seeded RNG (reproducible runs) or for the next N matching calls.
This module decides; `pipeline.py` carries the decision out on the wire.
"""

from __future__ import annotations

import fnmatch
import random
import re
from dataclasses import dataclass, field
from typing import Any

import jsonschema_rs

LATENCY = "latency"
ERROR = "error"
TIMEOUT = "timeout"
RESET = "reset"
MALFORMED = "malformed"
RATE_LIMIT = "rate_limit"
APPLY_THEN_FAIL = "apply_then_fail"
KINDS = (LATENCY, ERROR, TIMEOUT, RESET, MALFORMED, RATE_LIMIT, APPLY_THEN_FAIL)

FAULT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["kind"],
    "properties": {
        "kind": {"enum": list(KINDS)},
        "method": {"type": "string", "pattern": "^[A-Za-z]+$"},
        "path": {
            "type": "string",
            "minLength": 1,
            "description": "glob, case-insensitive, e.g. /Services/*/Create",
        },
        "operation": {"type": "string", "minLength": 1, "description": "operationId from the contract"},
        "probability": {"type": "number", "minimum": 0, "maximum": 1},
        "count": {"type": "integer", "minimum": 1},
        "latency_ms": {
            "oneOf": [
                {"type": "number", "minimum": 0, "maximum": 600_000},
                {
                    "type": "array",
                    "items": {"type": "number", "minimum": 0, "maximum": 600_000},
                    "minItems": 2,
                    "maxItems": 2,
                },
            ]
        },
        "after": {
            "type": "boolean",
            "description": "latency only: answer late, after the handler ran (its effect is committed)",
        },
        "status": {"type": "integer", "minimum": 100, "maximum": 599},
        "message": {"type": "string", "maxLength": 2000},
        "retry_after": {"type": "integer", "minimum": 0, "maximum": 86_400},
        "then": {"enum": ["reset", "status"]},
        "timeout_s": {"type": "number", "exclusiveMinimum": 0, "maximum": 3600},
    },
    "not": {"required": ["probability", "count"]},
}
_validator = jsonschema_rs.Draft202012Validator(FAULT_SCHEMA)


class FaultSpecError(ValueError):
    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(slots=True)
class FaultRule:
    id: int
    kind: str
    method: str | None = None
    path: str | None = None
    operation: str | None = None
    probability: float | None = None
    remaining: int | None = None  # "the next N matching calls"
    latency_ms: tuple[float, float] = (0.0, 0.0)
    after: bool = False  # latency only: after the handler, not before
    status: int | None = None
    message: str | None = None
    retry_after: int = 1
    then: str = "reset"
    timeout_s: float = 300.0
    applied: int = 0
    _path_re: re.Pattern[str] | None = field(default=None, repr=False)

    def matches(self, method: str, path: str, operation: str | None) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.operation is not None and (operation or "").lower() != self.operation.lower():
            return False
        return self._path_re is None or self._path_re.match(path) is not None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "kind": self.kind, "applied": self.applied}
        for key in ("method", "path", "operation", "probability", "status", "message"):
            if (value := getattr(self, key)) is not None:
                out[key] = value
        if self.remaining is not None:
            out["remaining"] = self.remaining
        if self.kind == LATENCY:
            lo, hi = self.latency_ms
            out["latency_ms"] = lo if lo == hi else [lo, hi]
            if self.after:
                out["after"] = True
        if self.kind == RATE_LIMIT:
            out["retry_after"] = self.retry_after
        if self.kind == APPLY_THEN_FAIL:
            out["then"] = self.then
        if self.kind == TIMEOUT:
            out["timeout_s"] = self.timeout_s
        return out

    def describe(self) -> dict[str, Any]:
        """What the journal records about an applied fault."""
        return {k: v for k, v in self.as_json().items() if k not in ("applied", "remaining")}


def parse_rule(payload: Any, rule_id: int) -> FaultRule:
    problems = [f"{_where(e.instance_path)}: {e.message}" for e in _validator.iter_errors(payload)]
    if problems:
        raise FaultSpecError(problems)
    kind = payload["kind"]
    if kind == LATENCY and "latency_ms" not in payload:
        raise FaultSpecError(["latency_ms: required for a latency fault"])
    if payload.get("after") and kind != LATENCY:
        raise FaultSpecError(["after: only a latency fault can come after the handler"])
    lat = payload.get("latency_ms", 0)
    lo, hi = (float(lat), float(lat)) if not isinstance(lat, list) else (float(lat[0]), float(lat[1]))
    if lo > hi:
        raise FaultSpecError(["latency_ms: the range must be [min, max] with min <= max"])
    default_status = {ERROR: 500, APPLY_THEN_FAIL: 502, RATE_LIMIT: 429}.get(kind)
    rule = FaultRule(
        id=rule_id,
        kind=kind,
        method=payload["method"].upper() if "method" in payload else None,
        path=payload.get("path"),
        operation=payload.get("operation"),
        probability=payload.get("probability"),
        remaining=payload.get("count"),
        latency_ms=(lo, hi),
        after=bool(payload.get("after", False)),
        status=payload.get("status", default_status),
        message=payload.get("message"),
        retry_after=payload.get("retry_after", 1),
        then=payload.get("then", "reset"),
        timeout_s=payload.get("timeout_s", 300.0),
    )
    if rule.path is not None:
        rule._path_re = re.compile(fnmatch.translate(rule.path), re.IGNORECASE)
    return rule


def _where(parts: list[str | int]) -> str:
    return "/".join(str(p) for p in parts) or "fault"


class FaultSet:
    """The active rules of one simulator, with the seeded RNG their probabilities draw from."""

    def __init__(self, seed: int = 0) -> None:
        self.seed = seed
        self._rng = random.Random(f"faults:{seed}")
        self._rules: list[FaultRule] = []
        self._next_id = 1

    def __bool__(self) -> bool:
        return bool(self._rules)

    def add(self, payload: Any) -> FaultRule:
        rule = parse_rule(payload, self._next_id)
        self._next_id += 1
        self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        before = len(self._rules)
        self._rules = [r for r in self._rules if r.id != rule_id]
        return len(self._rules) != before

    def clear(self) -> None:
        self._rules.clear()
        self._rng = random.Random(f"faults:{self.seed}")

    def rules(self) -> list[FaultRule]:
        return list(self._rules)

    def pick(
        self, method: str, path: str, operation: str | None
    ) -> tuple[float, list[FaultRule], FaultRule | None, float]:
        """(latency before the handler in ms, latency rules applied, the one terminal fault to apply or None,
        latency after the handler in ms)."""
        delay = after = 0.0
        delays: list[FaultRule] = []
        terminal: FaultRule | None = None
        for rule in self._rules:
            if rule.kind != LATENCY and terminal is not None:
                continue
            if not rule.matches(method, path, operation) or not self._fires(rule):
                continue
            rule.applied += 1
            if rule.kind == LATENCY:
                lo, hi = rule.latency_ms
                drawn = lo if lo == hi else self._rng.uniform(lo, hi)
                if rule.after:
                    after += drawn
                else:
                    delay += drawn
                delays.append(rule)
            else:
                terminal = rule
        self._rules = [r for r in self._rules if r.remaining != 0]
        return delay, delays, terminal, after

    def _fires(self, rule: FaultRule) -> bool:
        if rule.remaining is not None:
            rule.remaining -= 1
            return True
        if rule.probability is not None:
            return self._rng.random() < rule.probability
        return True
