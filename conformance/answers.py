"""Whether an answer is one its contract operation documents: the status among the operation's responses and,
for a JSON answer, the body valid against that response's schema. The suites' per-operation checks use it, so
a field left out or of another type, or an error in another status or shape, fails whichever check saw it."""

from __future__ import annotations

import functools
from typing import Any

import jsonschema_rs
import requests

from contracts import deref, load_contract


@functools.cache
def _operations(contract: str) -> dict[str, dict[str, Any]]:
    doc = load_contract(contract)
    return {
        spec["operationId"]: spec
        for item in doc["paths"].values()
        for spec in item.values()
        if isinstance(spec, dict) and "operationId" in spec
    }


@functools.cache
def _validator(contract: str, operation: str, status: str) -> Any:
    doc = load_contract(contract)
    answer = deref(doc, (_operations(contract)[operation].get("responses") or {})[status])
    for media, content in (answer.get("content") or {}).items():
        if "json" in media and "schema" in content:
            return jsonschema_rs.Draft202012Validator({**content["schema"], "components": doc["components"]})
    return None


@functools.cache
def _by_path(contract: str) -> dict[tuple[str, str], str]:
    """(METHOD, lower-cased path) -> operationId, for contracts whose paths are literal (Cityworks)."""
    doc = load_contract(contract)
    return {
        (method.upper(), path.lower()): spec["operationId"]
        for path, item in doc["paths"].items()
        for method, spec in item.items()
        if isinstance(spec, dict) and "operationId" in spec and "{" not in path
    }


def extension(contract: str, operation: str, name: str) -> Any:
    """An operation's `x-` extension (None when it has none)."""
    return _operations(contract)[operation].get(name)


def operation_at(contract: str, method: str, path: str) -> str | None:
    return _by_path(contract).get((method.upper(), path.lower()))


def problems(contract: str, operation: str, resp: requests.Response) -> list[str]:
    """What about `resp` the operation does not document (empty: it is a documented answer)."""
    documented = _operations(contract)[operation].get("responses") or {}
    status = str(resp.status_code)
    key = next((k for k in (status, f"{status[0]}XX", "default") if k in documented), None)
    if key is None:
        return [f"{operation}: HTTP {status} is not among the documented answers ({', '.join(documented)})"]
    validator = _validator(contract, operation, key)
    if validator is None or resp.status_code == 304 or not resp.content:
        return []
    try:
        body = resp.json()
    except ValueError:
        return [f"{operation}: HTTP {status} is documented as JSON, got {resp.headers.get('Content-Type')}"]
    return [f"{operation}: HTTP {status}: {e.message}" for e in list(validator.iter_errors(body))[:5]]
