"""What every vendor call passes through: journal, strict contract checks, faults.

Each vendor route's handler is wrapped (`behind_kit`) rather than the app given a middleware: aiohttp runs
a middleware through a chain built around every handler plus one layer of its own, which cost a hot route
about 5 % of its time; the wrapped handler does the same work without it. A vendor path or method no route
takes lands on a catch-all whose handler is wrapped the same way (see routing.py).
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import struct
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from contracts.front_door import Limits

from . import faults as fk
from . import frontdoor
from .appkeys import CONFIG, DIALECT, FAULTS, JOURNAL, OPERATION, SPEC, VALIDATOR
from .binding import BOUND, Bound, Incoming
from .contract import FORM_TYPES, JSON_VALUE, NOT_DECODED, ContractValidator, Operation, Violation, media_type
from .journal import Entry, Journal
from .secrets import MASK, is_secret
from .spec import Dialect, SimConfig, SimulatorSpec

log = logging.getLogger("civic_harness.simulators")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def reset_connection(request: web.Request) -> None:
    """Drop the connection with a TCP RST, as a crashed or overloaded server would."""
    transport = request.transport
    if transport is not None:
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()


async def hold_until_client_gives_up(request: web.Request, limit_s: float) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + limit_s
    while loop.time() < deadline:
        transport = request.transport
        if transport is None or transport.is_closing():
            return
        await asyncio.sleep(0.05)


async def read_body(request: web.Request, journal: Journal, mt: str) -> tuple[bytes, Any]:
    """(bytes for the journal, parsed form or None). A multipart body is journaled as a summary."""
    if mt == "multipart/form-data":
        form = await request.post()
        summary: dict[str, Any] = {}
        for name, value in form.items():
            if isinstance(value, str):
                summary[name] = MASK if is_secret(name, journal.secret_keys) else value
            else:
                summary[name] = f"<file {value.filename!r}, {value.content_type}>"
        return json.dumps(summary).encode(), form
    body = await request.read() if request.body_exists else b""
    form = await request.post() if mt in FORM_TYPES else None
    return body, form


@dataclass(frozen=True, slots=True)
class Kit:
    """One simulator app's parts, read once when its routes are wrapped instead of on every call."""

    spec: SimulatorSpec
    config: SimConfig
    dialect: Dialect
    journal: Journal
    faults: fk.FaultSet
    validator: ContractValidator
    front_door: Limits | None

    @classmethod
    def of(cls, app: web.Application) -> Kit:
        config = app[CONFIG]
        door = frontdoor.door(config.front_door)
        return cls(app[SPEC], config, app[DIALECT], app[JOURNAL], app[FAULTS], app[VALIDATOR], door)


def behind_kit(handler: Handler, kit: Kit) -> Handler:
    """A vendor route's handler, called only through the kit's checks."""

    async def call(request: web.Request) -> web.StreamResponse:
        return await vendor_call(kit, request, handler)

    return call


async def vendor_call(kit: Kit, request: web.Request, handler: Handler) -> web.StreamResponse:
    path = request.path
    spec, config, journal, dialect = kit.spec, kit.config, kit.journal, kit.dialect
    started = time.perf_counter()
    if kit.front_door is not None and (exceeded := frontdoor.exceeded(kit.front_door, request)) is not None:
        return _front_door_refusal(kit, request, exceeded, started)
    too_large = malformed = False
    # A declared form type is parsed even without a body: a handler would parse it anyway, and a multipart
    # type without its boundary is malformed whatever follows.
    content_type = request.content_type if request.body_exists or "Content-Type" in request.headers else ""
    mt = media_type(content_type)
    try:
        # Most calls have neither a body nor a form type: no reading (and no coroutine) for those.
        body, form = await read_body(request, journal, mt) if mt or request.body_exists else (b"", None)
    except web.HTTPRequestEntityTooLarge:
        body, form, too_large = b"", None, True
    except ValueError:  # a form that cannot be parsed (no boundary, broken parts): nothing to pass on
        body, form, malformed = b"", None, True

    entry = journal.start(
        source="client",
        method=request.method,
        path=path,
        query=request.rel_url.raw_query_string,
        headers=request.headers.items(),
        content_type=content_type,
        body=body,
    )
    if mt == "multipart/form-data" or too_large:
        entry.body_size = request.content_length or len(body)
    if too_large:
        message = f"request body exceeds {config.max_body_bytes} bytes"
        entry.violations = [Violation("request", "body", message)]
        return _finish(journal, entry, dialect.error(413, "too_large", message), started)
    if malformed:  # refused in lenient mode too: a handler could only fail on it
        message = f"the {mt} body cannot be parsed"
        entry.violations = [Violation("request", "body", message)]
        return _finish(journal, entry, dialect.error(400, "bad_request", message), started)

    validator = kit.validator
    op, path_params, path_known = validator.match(request.method, path)
    if op is not None and spec.available is not None and not spec.available(config, op):
        op, path_known = None, False
        problem = "not served by this configuration (see the operation's x-versions)"
    else:
        problem = "method not allowed for this path" if path_known else "no such operation in the contract"
    request[OPERATION] = op
    if op is not None and spec.guard is not None:
        refusal = spec.guard(request, op, body)
        if refusal is not None:
            entry.operation = op.operation_id
            return _finish(journal, entry, refusal, started)
    if op is None:
        entry.violations = [Violation("request", "path", f"{request.method} {path}: {problem}")]
    else:
        entry.operation = op.operation_id
        declared = request.headers.get("Content-Type", "")
        call = Incoming(request.method, request.query, media_type(declared), body, form)
        bound, entry.violations, entry.warnings = judge_request(
            validator, dialect, spec.name, op, path_params, call, declared, request.headers
        )
        if bound is not None:
            request[BOUND] = bound
    if entry.violations and config.strict:
        return _finish(journal, entry, dialect.rejection(entry.violations, op), started)

    fault_set = kit.faults
    fault: fk.FaultRule | None = None
    after_ms = 0.0
    if fault_set:
        delay_ms, delays, fault, after_ms = fault_set.pick(request.method, path, entry.operation)
        if delays:
            entry.fault = {
                "kind": fk.LATENCY,
                "rules": [r.id for r in delays],
                "added_latency_ms": round(delay_ms + after_ms, 3),
            }
            await asyncio.sleep(delay_ms / 1000)
        if fault is not None:
            entry.fault = {**fault.describe(), **({"added_latency_ms": round(delay_ms, 3)} if delays else {})}
            early = await _apply_fault_before(request, fault, dialect, journal, entry, started)
            if early is not None:
                return early

    try:
        response = await handler(request)
    except web.HTTPException as exc:
        if exc.status >= 400:  # e.g. the router's own 404/405: answered in the vendor's format, not aiohttp's
            code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status, "bad_request")
            return _finish(journal, entry, dialect.error(exc.status, code, exc.reason), started)
        _finish(journal, entry, exc, started)
        raise
    except asyncio.CancelledError:
        raise
    except Exception:
        log.exception("simulator %s failed on %s %s", spec.name, request.method, path)
        entry.violations = [*entry.violations, Violation("response", "server", "the simulator raised an exception")]
        return _finish(journal, entry, dialect.error(500, "internal_error", "Internal server error"), started)

    if fault is not None and fault.kind == fk.APPLY_THEN_FAIL:
        # The effect is committed; the client never learns it.
        if fault.then == "reset":
            _finish(journal, entry, None, started)
            reset_connection(request)
            raise asyncio.CancelledError
        return _finish(journal, entry, dialect.error(fault.status or 502, "fault", _fault_message(fault)), started)

    if after_ms:  # the effect is committed; the answer is late (a client may give up and retry)
        await asyncio.sleep(after_ms / 1000)

    if op is not None and config.validate_responses and isinstance(response, web.Response):
        body_bytes = response.body if isinstance(response.body, bytes) else None
        decoded = response.get(JSON_VALUE, NOT_DECODED)
        problems = validator.validate_response(op, response.status, _content_type(response), body_bytes, decoded)
        if problems:
            log.error("simulator %s broke its contract on %s: %s", spec.name, op.operation_id, problems)
            entry.violations = [*entry.violations, *problems]
    return _finish(journal, entry, response, started)


def judge_request(
    validator: ContractValidator,
    dialect: Dialect,
    simulator: str,
    op: Operation,
    path_params: Mapping[str, str],
    call: Incoming,
    declared: str,
    headers: Mapping[str, str],
) -> tuple[Bound | None, Sequence[Violation], Sequence[Violation]]:
    """(the call as the vendor's server binds it, or None when it is in the documented shape; violations;
    warnings). The one judgement of a request, shared by the pipeline and whatever judges recorded calls (the
    traffic proxy). `declared`: the Content-Type header as sent."""
    query, body, form = call.query, call.body, call.form
    bound: Bound | None = None
    warnings: Sequence[Violation] = ()
    if dialect.bind is not None:  # what the vendor's server accepts beyond the documented shape
        bound = _safely(dialect.bind, simulator, op, call)
        if bound is not None:
            query, declared, body, form = bound.query, bound.content_type, bound.body, bound.form
            warnings = bound.warnings
    # the common case keeps no list of its own
    violations: Sequence[Violation] = (
        validator.validate_request(op, path_params, query, headers, declared, body, form) or ()
    )
    if violations and dialect.relax is not None:
        relaxed = _safely(dialect.relax, simulator, op, Bound(query, declared, body, form, list(warnings)), validator)
        if relaxed is not None:  # checked again as the vendor's deserializer reads it
            bound, warnings = relaxed, relaxed.warnings
            query, declared, body, form = relaxed.query, relaxed.content_type, relaxed.body, relaxed.form
            violations = validator.validate_request(op, path_params, query, headers, declared, body, form) or ()
    return bound, violations, warnings


def _safely(rule: Callable[..., Bound | None], simulator: str, *args: Any) -> Bound | None:
    """A binding rule that fails leaves the call as it came, for the strict checks to judge: a simulator bug
    must not become a 500 the real server would never send."""
    try:
        return rule(*args)
    except Exception:
        log.exception("simulator %s: binding rule %r failed; the call is judged as sent", simulator, rule)
        return None


def _front_door_refusal(
    kit: Kit, request: web.Request, exceeded: tuple[str, int, int], started: float
) -> web.StreamResponse:
    """The web server refuses before the API sees the call (its body unread): journaled as a violation, since the
    real deployment refuses it too."""
    assert kit.front_door is not None
    name, limit, size = exceeded
    entry = kit.journal.start(
        source="client",
        method=request.method,
        path=request.path,
        query=request.rel_url.raw_query_string,
        headers=request.headers.items(),
        content_type=request.headers.get("Content-Type", ""),
        body=b"",
    )
    entry.body_size = request.content_length or 0
    message = (
        f"{size} bytes over the front door's {name} of {limit} ({kit.front_door.server}, "
        f"answered as its {frontdoor.SUB_STATUS[name]} before the API sees the call)"
    )
    entry.violations = [Violation("request", f"front-door.{name}", message)]
    return _finish(kit.journal, entry, frontdoor.refusal(), started)


async def _apply_fault_before(
    request: web.Request, fault: fk.FaultRule, dialect: Any, journal: Journal, entry: Entry, started: float
) -> web.StreamResponse | None:
    kind = fault.kind
    if kind == fk.ERROR:
        return _finish(journal, entry, dialect.error(fault.status or 500, "fault", _fault_message(fault)), started)
    if kind == fk.RATE_LIMIT:
        resp = dialect.error(429, "rate_limited", fault.message or "Too many requests")
        resp.headers["Retry-After"] = str(fault.retry_after)
        return _finish(journal, entry, resp, started)
    if kind == fk.MALFORMED:
        resp = web.Response(
            status=fault.status or 200,
            body=dialect.malformed_body,
            content_type=dialect.malformed_content_type,
        )
        return _finish(journal, entry, resp, started)
    if kind in (fk.RESET, fk.TIMEOUT):
        if kind == fk.TIMEOUT:
            await hold_until_client_gives_up(request, fault.timeout_s)
        _finish(journal, entry, None, started)
        reset_connection(request)
        raise asyncio.CancelledError
    return None  # apply_then_fail runs the handler first


def _fault_message(fault: fk.FaultRule) -> str:
    return fault.message or f"Injected {fault.kind.replace('_', ' ')} (fault {fault.id})"


def _finish(journal: Journal, entry: Entry, response: web.StreamResponse | None, started: float) -> Any:
    if response is None:
        journal.finish(entry, status=None, started=started)
        return None
    body = getattr(response, "body", None)
    journal.finish(
        entry,
        status=response.status,
        content_type=_content_type(response),
        body=body if isinstance(body, bytes) else None,
        started=started,
    )
    return response


def _content_type(response: web.StreamResponse) -> str:
    # The header as written (aiohttp's parsed property costs a parse per answer); aiohttp's default when none.
    raw = response.headers.get("Content-Type")
    return raw if raw is not None else response.content_type
