"""Each recorded exchange matched to its contract operation and judged on both sides, by the simulators' own
code: `ContractValidator` (simulators/kit/contract.py) and `judge_request` (the vendor's binding and relaxing
rules, simulators/kit/pipeline.py). No second validator: what the proxy calls a violation is what the simulator
would have journaled as one."""

from __future__ import annotations

import logging
import zlib
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

from contracts import load_contract
from contracts.front_door import Limits
from contracts.front_door import parse as parse_front_door
from simulators.kit.binding import Incoming
from simulators.kit.contract import ContractValidator, Operation, Violation, media_type
from simulators.kit.journal import query_pairs
from simulators.kit.pipeline import judge_request
from simulators.kit.spec import Dialect

from . import forms
from .exchange import Exchange

log = logging.getLogger("civic_harness.traffic")
# The APIs the proxy can stand in front of: the bundled simulators' vendors, and the gateway's Open311 API.
KINDS = ("cityworks", "opengov", "arcgis", "city-api", "open311")


@dataclass(frozen=True, slots=True)
class Profile:
    """What the analysis and the rules know of the API behind the proxy."""

    kind: str
    validator: ContractValidator
    dialect: Dialect | None  # the vendor's binding rules; None for an API served as documented (open311)
    serves: Callable[[Operation], bool] | None = None  # whether this version serves an operation
    version: str | None = None  # Cityworks: the version family whose auth scheme CW-VER-2 judges
    front_door: Limits | None = None  # the web server's limits in front of the API
    options: tuple[tuple[str, str], ...] = ()  # what the rules may need besides (OpenGov class names, ...)

    def option(self, name: str, default: str) -> str:
        return dict(self.options).get(name, default)

    def describe(self) -> dict[str, Any]:
        return {"kind": self.kind, "version": self.version, "options": dict(self.options)}


def profile(kind: str, version: str | None = None, options: dict[str, str] | None = None) -> Profile:
    """The profile of one API kind; `version` only for Cityworks (default: 23)."""
    if kind not in KINDS:
        raise ValueError(f"unknown API {kind!r}; one of {', '.join(KINDS)}")
    extra = tuple(sorted((options or {}).items()))
    if kind == "open311":
        return Profile(kind, ContractValidator(load_contract("gateway")), None, options=extra)
    from ..registry import load_simulator  # the vendors' dialects live with their simulators

    spec = load_simulator(kind)
    settings: dict[str, Any] = {}
    if kind == "cityworks":
        settings["version"] = version or "23"
    elif version is not None:
        raise ValueError(f"{kind} has no versions to choose from")
    config = spec.config_type(**settings)
    dialect = spec.dialect_for(config)
    validator = ContractValidator(
        load_contract(spec.contract),
        case_insensitive=dialect.case_insensitive_paths,
        json_loads=dialect.json_loads,
        mount=spec.mount,
    )
    available = spec.available
    serves = (lambda op: available(config, op)) if available is not None else None
    door = parse_front_door(config.front_door) if config.front_door != "none" else None
    return Profile(kind, validator, dialect, serves, settings.get("version"), door, extra)


def body_of(data: bytes, encoding: str | None) -> bytes:
    """A body as its reader sees it: gzip and deflate undone (the proxy passes them on as sent)."""
    coding = (encoding or "").strip().lower()
    try:
        if coding in ("gzip", "x-gzip"):
            return zlib.decompress(data, 16 + zlib.MAX_WBITS)
        if coding == "deflate":
            return zlib.decompress(data)
    except zlib.error:
        return data
    return data


def analyse(p: Profile, ex: Exchange) -> Exchange:
    """The exchange with its operation, violations and warnings (once: a judged exchange is returned as is)."""
    if ex.analysed:
        return ex
    violations: list[Violation] = []
    warnings: list[Violation] = []
    op, path_params, known = p.validator.match(ex.method, ex.path)
    problem = "method not allowed for this path" if known else "no such operation in the contract"
    if op is not None and p.serves is not None and not p.serves(op):
        op, problem = None, f"not served by version {p.version} (see the operation's x-versions)"
    refused_at_door = _front_door(p, ex, violations)
    if op is None:
        violations.append(Violation("request", "path", f"{ex.method} {ex.path}: {problem}"))
        return replace(ex, violations=violations, analysed=True)
    if not ex.request_complete:
        warnings.append(Violation("request", "body", f"only {len(ex.request_body)} of {ex.request_size} bytes kept"))
    else:
        violations += _request(p, op, path_params, ex, warnings)
    if ex.status is not None and not refused_at_door:
        if ex.response_complete:
            body = body_of(ex.response_body, ex.header("Content-Encoding", "response"))
            violations += p.validator.validate_response(op, ex.status, ex.response_content_type, body)
        else:
            warnings.append(Violation("response", "body", f"only {len(ex.response_body)} bytes kept"))
    return replace(ex, operation=op.operation_id, violations=violations, warnings=warnings, analysed=True)


def analyse_safely(p: Profile, ex: Exchange) -> Exchange:
    """`analyse`, but an exchange the judge cannot read is kept with a warning saying so (and logged) instead of
    costing the judgement of every other one."""
    try:
        return analyse(p, ex)
    except Exception as exc:
        log.exception("traffic: exchange %s (%s %s) could not be judged", ex.id, ex.method, ex.path)
        problem = Violation("request", "proxy", f"not judged: the judge failed on it ({type(exc).__name__})")
        return replace(ex, warnings=[*ex.warnings, problem], analysed=True)


def _front_door(p: Profile, ex: Exchange, violations: list[Violation]) -> bool:
    """A call over the web server's limits is refused before the API sees it, as the simulator journals it."""
    if p.front_door is None:
        return False
    over = p.front_door.exceeded(len(ex.path.encode()), len(ex.query.encode()), ex.request_size)
    for name, limit, size in over:
        violations.append(Violation("request", f"front-door.{name}", f"{size} bytes over the limit of {limit}"))
    return bool(over)


def _request(
    p: Profile, op: Operation, path_params: dict[str, str], ex: Exchange, warnings: list[Violation]
) -> list[Violation]:
    declared = ex.content_type
    mt = media_type(declared)
    body = body_of(ex.request_body, ex.header("Content-Encoding"))
    form = forms.form(declared, body) if mt in (forms.URLENCODED, forms.MULTIPART) else None
    if mt == forms.MULTIPART and form is None:
        return [Violation("request", "body", f"the {mt} body cannot be parsed")]
    query = MultiDictProxy(MultiDict(query_pairs(ex.query)))
    headers = CIMultiDictProxy(CIMultiDict(ex.request_headers))
    if p.dialect is None:
        return list(p.validator.validate_request(op, path_params, query, headers, declared, body, form))
    _, found, warned = judge_request(
        p.validator, p.dialect, p.kind, op, path_params, Incoming(ex.method, query, mt, body, form), declared, headers
    )
    warnings += warned
    return list(found)
