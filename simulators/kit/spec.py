"""What a simulator hands the kit: its configuration, its vendor dialect, its backend and its actions."""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from aiohttp import web

from .binding import Binder, Relaxer
from .contract import JsonLoads, Operation, Violation
from .lenient import loads

DEFAULT_USERS: tuple[tuple[str, str], ...] = (("harness", "harness"),)


@dataclass(frozen=True, slots=True, kw_only=True)
class SimConfig:
    """Options every simulator has. A simulator subclasses it for its own (version, licences, ...)."""

    seed: int = 0
    strict: bool = True
    validate_responses: bool = True
    journal_size: int = 10_000
    journal_body_limit: int = 4096
    max_body_bytes: int = 32 * 1024 * 1024
    users: tuple[tuple[str, str], ...] = DEFAULT_USERS
    seed_sizes: Mapping[str, int] = field(default_factory=dict)
    # The web server in front of the vendor's API and its limits (frontdoor.py): "none", or "iis[:name=value,...]".
    front_door: str = "none"

    def describe(self) -> dict[str, Any]:
        """The configuration as the control plane shows it: user names, never passwords."""
        out: dict[str, Any] = {}
        for name in _field_names(self):
            value = getattr(self, name)
            if name == "users":
                value = [login for login, _ in value]
            elif isinstance(value, Mapping):
                value = dict(value)
            elif isinstance(value, (tuple, frozenset, set)):
                value = sorted(value) if isinstance(value, (frozenset, set)) else list(value)
            out[name] = value
        return out


def check_defects(defects: Iterable[str], known: Iterable[str]) -> None:
    """Deliberately wrong modes must be ones the simulator has: a typo would silently test nothing."""
    unknown = sorted(set(defects) - set(known))
    if unknown:
        raise ValueError(f"unknown defects {unknown}; known: {', '.join(sorted(known))}")


def _field_names(obj: Any) -> list[str]:
    names: list[str] = []
    for klass in reversed(type(obj).__mro__):
        names += [n for n in getattr(klass, "__dataclass_fields__", {}) if n not in names]
    return names


class Backend(Protocol):
    """A simulator's state and rules, no HTTP in it (moto's `models.py`). It does not know how it is seeded:
    the spec's `seed` fills it."""

    seed_sizes: Mapping[str, int]  # the sizes the spec's `seed` understands, with their defaults

    def counts(self) -> Mapping[str, int]: ...

    def snapshot(self) -> Any: ...


class ActionError(Exception):
    """An operator action that cannot be done as asked (unknown record, wrong state)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass(frozen=True, slots=True)
class Action:
    """What a city worker does in the vendor's own UI, exposed as `POST /_sim/actions/{name}`."""

    name: str
    run: Callable[[Any, dict[str, Any]], Any | Awaitable[Any]]  # (backend, payload) -> JSON-able result
    schema: dict[str, Any] = field(default_factory=lambda: {"type": "object"})
    description: str = ""


@dataclass(frozen=True, slots=True)
class Dialect:
    """How the vendor shapes its errors; the kit answers faults and strict-mode rejections with it."""

    # (HTTP status, short code, message) -> the vendor's error response
    error: Callable[[int, str, str], web.Response]
    # (violations, operation or None when no operation matched) -> the vendor's rejection
    reject: Callable[[list[Violation], Operation | None], web.Response] | None = None
    malformed_body: bytes = b'{"status": "ok", "data": {"items": [{"id": 1, "na'
    malformed_content_type: str = "application/json"
    case_insensitive_paths: bool = False
    json_loads: JsonLoads = loads
    secret_keys: frozenset[str] = frozenset()
    # How the vendor's web framework binds what the documentation does not show (see binding.py); None: as is.
    bind: Binder | None = None
    # How its deserializer reads a value the contract's schema refuses (see binding.JsonNetParameter); asked only
    # when the request breaks the contract.
    relax: Relaxer | None = None

    def rejection(self, violations: list[Violation], op: Operation | None) -> web.Response:
        if self.reject is not None:
            return self.reject(violations, op)
        if op is None:
            return self.error(404, "not_found", violations[0].message)
        return self.error(400, "invalid_request", "; ".join(f"{v.location}: {v.message}" for v in violations))


@dataclass(frozen=True, slots=True)
class ScenarioSupport:
    """How a simulator reads its section of a scenario (contracts/scenario.py) and plays its timeline."""

    # (backend, section) -> the section's listed configuration and records added to a fresh backend
    apply: Callable[[Any, Mapping[str, Any]], None]
    # (section) -> SimConfig fields the section sets (users, class names, time zone); applied when the simulator
    # starts, and checked by the configuration's own rules (its __post_init__)
    config_from: Callable[[Mapping[str, Any]], dict[str, Any]] | None = None
    # Of those, the ones a scenario loaded into a running simulator may set otherwise: they shape only the
    # backend its scenario builds (the time zone its records are written in), so that backend is built with
    # them, and before it is seeded. Any other setting that differs is refused: it needs a restart.
    live_settings: frozenset[str] = frozenset()
    # (backend, fields) -> the action target naming the newest record whose fields match (kit.scenario.matches),
    # e.g. {"RequestId": 7}, or None: a step's `when: {created: ...}`, asked after each of the client's creates
    find_created: Callable[[Any, Mapping[str, Any]], dict[str, Any] | None] | None = None
    # operationIds that create the records `find_created` looks for, lower case
    creates: frozenset[str] = frozenset()
    # operationIds whose answered calls count as a client's poll (a step's `after: {polls: N}`), lower case
    polls: frozenset[str] = frozenset()
    # (backend) -> every token or session issued so far stops working: a step's `expire_sessions`
    expire_sessions: Callable[[Any], None] | None = None
    # (backend, operation, path, query pairs) -> the page an answered client call read: the listing's values a
    # step's `when: {listed: ...}` is matched against (OpenGov: class, filter, sort) and the records on the page
    # as action targets ([{"Oid": 7}, ...]); None for a call that lists nothing. Asked right after the call's
    # answer is made, before anything else changes the backend, so it sees the page the client got.
    page_read: (
        Callable[[Any, str, str, Sequence[tuple[str, str]]], tuple[Mapping[str, Any], list[dict[str, Any]]] | None]
        | None
    ) = None


@dataclass(frozen=True, slots=True)
class SimulatorSpec:
    name: str
    contract: str | Path
    # One dialect, or a function of the configuration when the wire format depends on it (versions).
    dialect: Dialect | Callable[[Any], Dialect]
    new_backend: Callable[[Any], Backend]  # (config) -> a fresh, empty backend
    # (backend, seed, sizes) -> fills a fresh backend with a city's records, deterministic from the seed
    seed: Callable[[Any, int, Mapping[str, int]], None]
    # The vendor's routes (aiohttp route definitions: web.get(...), web.route(...)); the kit puts each
    # handler behind its checks (journal, contract, faults) when it builds the app.
    routes: Sequence[web.RouteDef]
    config_type: type[SimConfig] = SimConfig
    actions: tuple[Action, ...] = ()
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    # (parsed CLI arguments) -> keyword arguments for config_type beyond the kit's own
    config_from_args: Callable[[argparse.Namespace], dict[str, Any]] | None = None
    description: str = ""
    # Resources a simulator opens and closes with its app (aiohttp cleanup contexts).
    cleanup_ctx: tuple[Callable[[web.Application], Any], ...] = ()
    # (config, operation) -> whether this configuration serves it (e.g. a vendor version without it).
    # An operation it does not serve is treated like a path the contract does not have.
    available: Callable[[Any, Operation], bool] | None = None
    # Path prefix in front of every contract path (see ContractValidator.mount).
    mount: str = ""
    # (request, operation, raw body) -> a refusal, or None to go on. Runs before the contract checks, as a
    # server's authentication does: an unsigned request is refused for that, whatever else is wrong with it.
    guard: Callable[[web.Request, Operation, bytes], web.StreamResponse | None] | None = None
    # How it reads a scenario's section and plays its timeline; None: only the timeline's faults and actions.
    scenario: ScenarioSupport | None = None

    def dialect_for(self, config: SimConfig) -> Dialect:
        return self.dialect if isinstance(self.dialect, Dialect) else self.dialect(config)
