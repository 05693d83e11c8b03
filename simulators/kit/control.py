"""The `/_sim/` control plane: reset, seed, journal, faults, operator actions, state.

Never part of a vendor contract. Its own error shape is `{"error": {"code", "message", "details"}}`.
"""

from __future__ import annotations

import asyncio
import difflib
import inspect
import time
from collections.abc import Mapping
from typing import Any

import jsonschema_rs
from aiohttp import web

from .appkeys import BACKEND, CONFIG, FAULTS, JOURNAL, SCENARIO, SPEC, VALIDATOR
from .faults import FaultSpecError, parse_rule
from .lenient import loads
from .seeding import canonical_digest
from .spec import ActionError, SimConfig, SimulatorSpec

MAX_SEED_SIZE = 5_000_000
FLAGS = {"1": True, "true": True, "yes": True, "0": False, "false": False, "no": False}
_ACTION_VALIDATORS: dict[int, Any] = {}


def control_error(status: int, code: str, message: str, details: Any = None) -> web.Response:
    body: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        body["details"] = details
    return web.json_response({"error": body}, status=status)


class BadJson(Exception):
    pass


async def _json_payload(request: web.Request) -> Any:
    """The JSON body; an empty body counts as `{}`."""
    raw = await request.read()
    if not raw.strip():
        return {}
    try:
        return loads(raw)
    except ValueError as exc:
        raise BadJson(f"body is not JSON: {exc}") from exc


def build_backend(spec: SimulatorSpec, config: SimConfig, seed: int, sizes: Mapping[str, int]) -> Any:
    backend = spec.new_backend(config)
    spec.seed(backend, seed, {**backend.seed_sizes, **config.seed_sizes, **sizes})
    return backend


async def rebuild(app: web.Application, seed: int, sizes: Mapping[str, int]) -> None:
    """A fresh backend swapped in. A large seed takes seconds, so it is built off the event loop and the
    simulator keeps answering (from the old state) meanwhile."""
    loop = asyncio.get_running_loop()
    app[BACKEND].current = await loop.run_in_executor(None, build_backend, app[SPEC], app[CONFIG], seed, sizes)


def check_sizes(backend_sizes: Mapping[str, int], payload: Mapping[str, Any]) -> dict[str, int]:
    sizes: dict[str, int] = {}
    problems = []
    for key, value in payload.items():
        if key == "seed":
            continue
        if key not in backend_sizes:
            problems.append(f"{key}: unknown size (known: {', '.join(sorted(backend_sizes)) or 'none'})")
        elif not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= MAX_SEED_SIZE:
            problems.append(f"{key}: must be an integer from 0 to {MAX_SEED_SIZE}")
        else:
            sizes[key] = value
    if problems:
        raise ValueError("; ".join(problems))
    return sizes


async def info(request: web.Request) -> web.Response:
    app = request.app
    spec, config = app[SPEC], app[CONFIG]
    return web.json_response(
        {
            "simulator": spec.name,
            "description": spec.description,
            "config": config.describe(),
            "seed_sizes": dict(app[BACKEND].current.seed_sizes),
            "actions": [a.name for a in spec.actions],
            "journal": dict(app[JOURNAL].stats()),
            "scenario": scenario.name if (scenario := app[SCENARIO].scenario) is not None else None,
        }
    )


async def state(request: web.Request) -> web.Response:
    """Counts and a digest of everything; where the backend tells its configuration apart from its records
    (`configuration()`), a digest of that alone: what a captured scenario must reproduce."""
    backend = request.app[BACKEND].current
    body = {"counts": dict(backend.counts()), "digest": canonical_digest(backend.snapshot())}
    if hasattr(backend, "configuration"):
        body["configuration_digest"] = canonical_digest(backend.configuration())
    return web.json_response(body)


async def counts(request: web.Request) -> web.Response:
    """Record counts alone: cheap enough to poll while a load runs (the digest reads the whole state)."""
    return web.json_response({"counts": dict(request.app[BACKEND].current.counts())})


async def seed(request: web.Request) -> web.Response:
    app = request.app
    payload = await _json_payload(request)
    if not isinstance(payload, dict):
        return control_error(422, "invalid_seed", 'body must be a JSON object like {"seed": 7, ...sizes}')
    seed_value = payload.get("seed", app[CONFIG].seed)
    if not isinstance(seed_value, int) or isinstance(seed_value, bool):
        return control_error(422, "invalid_seed", "seed: must be an integer")
    try:
        sizes = check_sizes(app[BACKEND].current.seed_sizes, payload)
    except ValueError as exc:
        return control_error(422, "invalid_seed", str(exc))
    started = time.perf_counter()
    await rebuild(app, seed_value, sizes)
    return web.json_response(
        {
            "seed": seed_value,
            "counts": dict(app[BACKEND].current.counts()),
            "seconds": round(time.perf_counter() - started, 3),
        }
    )


async def get_journal(request: web.Request) -> web.Response:
    journal = request.app[JOURNAL]
    q = request.query
    try:
        since = int(q["since"]) if "since" in q else None
        limit = int(q["limit"]) if "limit" in q else None
    except ValueError:
        return control_error(400, "invalid_filter", "since and limit must be integers")
    if limit is not None and limit < 1:
        return control_error(400, "invalid_filter", "limit must be at least 1")
    flags: dict[str, bool] = {}
    for name in ("violations", "warnings"):
        flag = q.get(name, "false").lower()
        if flag not in FLAGS:
            return control_error(400, "invalid_filter", f"{name} must be true or false, got {q[name]!r}")
        flags[name] = FLAGS[flag]
    if q.get("source") not in (None, "client", "operator"):
        return control_error(400, "invalid_filter", f"source must be client or operator, got {q['source']!r}")
    operation = q.get("operation") or q.get("route")
    # A filter naming nothing the simulator records would read as "no such call was made".
    if operation is not None and operation.lower() not in (names := _operations(request.app, actions=True)):
        problem = _unknown_operation(operation, request.app[SPEC].name, names, also=" nor action:<name> of an action")
        return control_error(400, "invalid_filter", problem)
    entries = journal.select(
        operation=operation,
        path=q.get("path"),
        method=q.get("method"),
        since=since,
        violations_only=flags["violations"],
        warnings_only=flags["warnings"],
        source=q.get("source"),
        limit=limit,
    )
    return web.json_response({**journal.stats(), "entries": [journal.render(e) for e in entries]})


async def clear_journal(request: web.Request) -> web.Response:
    request.app[JOURNAL].clear()
    return web.json_response({"cleared": True})


async def list_faults(request: web.Request) -> web.Response:
    return web.json_response({"faults": [r.as_json() for r in request.app[FAULTS].rules()]})


async def add_faults(request: web.Request) -> web.Response:
    """One rule as an object, or several as a list (all or none are added)."""
    payload = await _json_payload(request)
    items = payload if isinstance(payload, list) else [payload]
    faults = request.app[FAULTS]
    problems: list[str] = []
    operations = _operations(request.app, actions=False)  # faults touch vendor calls, never operator actions
    for i, item in enumerate(items):
        try:
            rule = parse_rule(item, 0)
            if rule.operation is not None and rule.operation.lower() not in operations:
                raise FaultSpecError([_unknown_operation(rule.operation, request.app[SPEC].name, operations)])
        except FaultSpecError as exc:
            problems += [f"[{i}] {p}" if len(items) > 1 else p for p in exc.problems]
    if problems:
        return control_error(422, "invalid_fault", "; ".join(problems), details=problems)
    added = [faults.add(item).as_json() for item in items]
    return web.json_response({"faults": added}, status=201)


def _operations(app: web.Application, *, actions: bool) -> dict[str, str]:
    """What an entry's `operation` can be, by its lower-case form: the contract's operationIds and, for
    operator entries, `action:<name>`."""
    names = [op.operation_id for op in app[VALIDATOR].operations]
    if actions:
        names += [f"action:{a.name}" for a in app[SPEC].actions]
    return {n.lower(): n for n in names}


def _unknown_operation(name: str, simulator: str, operations: Mapping[str, str], also: str = "") -> str:
    """A fault rule or a journal filter naming an operation the simulator lacks would never match: refused,
    naming the likeliest."""
    close = difflib.get_close_matches(name.lower(), operations, n=3, cutoff=0.6)
    hint = f" (did you mean {', '.join(operations[c] for c in close)}?)" if close else ""
    return f"operation: {name!r} is no operationId of the {simulator} contract{also}{hint}"


async def delete_faults(request: web.Request) -> web.Response:
    request.app[FAULTS].clear()
    return web.json_response({"cleared": True})


async def delete_fault(request: web.Request) -> web.Response:
    try:
        rule_id = int(request.match_info["fault_id"])
    except ValueError:
        return control_error(404, "no_such_fault", "fault ids are integers")
    if not request.app[FAULTS].remove(rule_id):
        return control_error(404, "no_such_fault", f"no active fault {rule_id}")
    return web.json_response({"deleted": rule_id})


async def list_actions(request: web.Request) -> web.Response:
    spec = request.app[SPEC]
    return web.json_response(
        {"actions": [{"name": a.name, "description": a.description, "schema": a.schema} for a in spec.actions]}
    )


async def run_action(request: web.Request) -> web.Response:
    app = request.app
    name = request.match_info["name"]
    action = next((a for a in app[SPEC].actions if a.name == name), None)
    if action is None:
        known = ", ".join(a.name for a in app[SPEC].actions)
        return control_error(404, "no_such_action", f"no action {name!r}; known: {known}")
    journal = app[JOURNAL]
    started = time.perf_counter()
    raw = await request.read()
    entry = journal.start(
        source="operator",
        method=request.method,
        path=request.path,
        query=request.rel_url.raw_query_string,
        headers=request.headers.items(),
        content_type=request.content_type,
        body=raw,
    )
    entry.operation = f"action:{name}"
    try:
        response = await _run_action(request, action)
    except BadJson as exc:
        response = control_error(400, "invalid_json", str(exc))
    journal.finish(
        entry, status=response.status, content_type=response.content_type, body=response.body, started=started
    )
    return response


async def _run_action(request: web.Request, action: Any) -> web.Response:
    payload = await _json_payload(request)
    validator = _ACTION_VALIDATORS.get(id(action.schema))
    if validator is None:
        validator = _ACTION_VALIDATORS[id(action.schema)] = jsonschema_rs.Draft202012Validator(action.schema)
    errors = [
        f"{'/'.join(map(str, e.instance_path)) or 'payload'}: {e.message}" for e in validator.iter_errors(payload)
    ]
    if errors:
        return control_error(422, "invalid_payload", "; ".join(errors), details=errors)
    try:
        result = action.run(request.app[BACKEND].current, payload)
        if inspect.isawaitable(result):
            result = await result
    except ActionError as exc:
        return control_error(exc.status, exc.code, exc.message)
    return web.json_response({"action": action.name, "result": result})


def answering_bad_json(handler: Any) -> Any:
    """A control handler whose unreadable JSON body is answered in the control plane's error shape."""

    async def call(request: web.Request) -> web.StreamResponse:
        try:
            return await handler(request)
        except BadJson as exc:
            return control_error(400, "invalid_json", str(exc))

    return call


CONTROL_ROUTES = [
    web.get("/_sim/", info),
    web.get("/_sim/state", state),
    web.get("/_sim/counts", counts),
    web.post("/_sim/seed", seed),
    web.get("/_sim/journal", get_journal),
    web.delete("/_sim/journal", clear_journal),
    web.get("/_sim/faults", list_faults),
    web.post("/_sim/faults", add_faults),
    web.delete("/_sim/faults", delete_faults),
    web.delete("/_sim/faults/{fault_id}", delete_fault),
    web.get("/_sim/actions", list_actions),
    web.post("/_sim/actions/{name}", run_action),
]
