"""What a certification run writes to the server it certifies, and a read-only mode that writes nothing.

Which calls write is the contracts' to say: a contract whose root says `x-writes: marked` (Cityworks, whose
RPC calls are all POSTs) writes only through operations marked `x-writes: true`; `x-writes: none` (ArcGIS)
never writes; otherwise (OpenGov, the city widget API) POST, PUT, PATCH and DELETE write unless the path is
marked `x-writes: false` (signing in). Every call to a `--target` goes through `Writes.send`: with
`--read-only` a write is not sent and its check is skipped ("writes to the target"); otherwise each write is
counted by operation, with the ids the server gave what it created, so the run can list what it left behind
for the city to find and remove. Calls to a simulator's control plane (`/_sim/`) are not the target's API.

Every record a check creates carries the run's tag (`tag()`) in the field a city searches by the creating
system's reference: Cityworks `OtherSystemId` (requests) and `Text1` (work orders), OpenGov `IntegrationID`."""

from __future__ import annotations

import itertools
import os
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests
from requests.adapters import HTTPAdapter

from contracts import load_contract

CONTRACTS = {"cityworks": "cityworks", "opengov": "opengov", "arcgis": "arcgis-geocode", "city-api": "city-widget"}
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
# The key that names what a write made, most specific first (an attachment's answer names its request too).
ID_KEYS = ("CommentId", "CallId", "Id", "Oid", "WorkOrderId", "RequestId", "link_id", "id")


RUN_ENV = "CIVIC_HARNESS_RUN"  # set once by the controlling process, read by its xdist workers
_serial = itertools.count(1)


def run_id() -> str:
    """This run's name: minute (UTC) and a random suffix, so two runs on one sandbox never share a tag."""
    if not os.environ.get(RUN_ENV):
        os.environ[RUN_ENV] = time.strftime("%Y%m%d%H%M", time.gmtime()) + "-" + secrets.token_hex(2)
    return os.environ[RUN_ENV]


def run_tag() -> str:
    return f"civic-harness-{run_id()}"


def tag() -> str:
    """A unique reference for one created record, starting with the run's tag (≤ 40 characters)."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return f"{run_tag()}-{worker}{next(_serial)}"


@dataclass(frozen=True, slots=True)
class Operation:
    pattern: re.Pattern[str]
    methods: frozenset[str]  # the methods whose calls write


def operations(contract: Mapping[str, Any]) -> list[Operation]:
    """Each path of a contract with the methods that write through it."""
    mode = contract.get("x-writes", "by-method")
    flags = re.IGNORECASE if mode == "marked" else 0  # Cityworks' paths are case-insensitive
    out = []
    for path, item in contract["paths"].items():
        methods = {m.upper() for m in item if m in ("get", "post", "put", "patch", "delete")}
        marked = item.get("x-writes")
        if mode == "none" or marked is False:
            writing: set[str] = set()
        elif mode == "marked":
            writing = methods if marked is True else set()
        else:
            writing = methods & WRITE_METHODS
        parts = re.split(r"(\{[^/]+?\})", path)
        regex = "".join("[^/]+" if part.startswith("{") else re.escape(part) for part in parts)
        out.append(Operation(re.compile(f"^{regex}/?$", flags), frozenset(writing)))
    return out


@dataclass
class Writes:
    """The targets of a run (name -> base URL) and what was written to them."""

    targets: Mapping[str, str]
    read_only: bool = False
    written: dict[str, list[str]] = field(default_factory=dict)  # "target METHOD /path" -> the ids it created
    calls: dict[str, int] = field(default_factory=dict)
    _ops: dict[str, list[Operation]] = field(default_factory=dict)

    def operation(self, url: str, method: str) -> str | None:
        """`target METHOD /path` of a call that writes to a target; None for anything else."""
        for name, base in self.targets.items():
            if name not in CONTRACTS or not url.startswith(base):
                continue
            path = url[len(base) :].split("?", 1)[0] or "/"
            if path.startswith("/_sim"):
                return None
            ops = self._ops.setdefault(name, operations(load_contract(CONTRACTS[name])))
            found = next((op for op in ops if op.pattern.match(path)), None)
            if found is not None and method.upper() in found.methods:
                return f"{name} {method.upper()} {path}"
            return None
        return None

    def send(self, original: Callable[..., requests.Response]) -> Callable[..., requests.Response]:
        def send(adapter: HTTPAdapter, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
            hit = self.operation(request.url or "", request.method or "GET")
            if hit is not None and self.read_only:
                pytest.skip(f"writes to the target ({hit}): not run with --read-only")
            response = original(adapter, request, *args, **kwargs)
            if hit is not None and (made := changed(response)) is not None:
                self.calls[hit] = self.calls.get(hit, 0) + 1
                self.written.setdefault(hit, []).extend(made)
            return response

        return send

    def summary(self) -> list[dict[str, Any]]:
        return [
            {"operation": op, "calls": self.calls[op], "ids": sorted({i for i in ids if i != "?"}, key=str)}
            for op, ids in sorted(self.written.items())
        ]


def changed(response: requests.Response) -> list[str] | None:
    """None when the write was refused (an HTTP error, a Cityworks envelope whose Status is not 0); else the
    ids its answer names (Cityworks' Value, OpenGov's class-keyed records, a JSON object's id)."""
    if response.status_code >= 300:
        return None
    try:
        body = response.json()
    except ValueError:
        return []
    if isinstance(body, dict) and "Status" in body and "Value" in body:  # a Cityworks envelope
        if body["Status"] != 0:
            return None
        body = body["Value"]
    elif isinstance(body, dict) and len(body) == 1 and isinstance(next(iter(body.values())), list):
        body = next(iter(body.values()))  # OpenGov: {"cgRequestsClass": [records]}
    items = body if isinstance(body, list) else [body]
    named = (
        next((item[k] for k in ID_KEYS if item.get(k) not in (None, "")), None)
        for item in items
        if isinstance(item, dict)
    )
    return [str(i) for i in named if i is not None][:50]


def install(writes: Writes) -> Callable[[], None]:
    """Route every requests call through `writes`; returns the undo."""
    original = HTTPAdapter.send
    HTTPAdapter.send = writes.send(original)  # type: ignore[method-assign]

    def undo() -> None:
        HTTPAdapter.send = original  # type: ignore[method-assign]

    return undo


# Where each suite that tags its records puts the run's tag (the city widget API's links and ArcGIS carry none).
TAG_FIELDS = {"cityworks": "Cityworks: OtherSystemId, work order Text1", "opengov": "OpenGov: IntegrationID"}


def tag_fields(summary: list[dict[str, Any]] | None) -> str | None:
    """Where the records this run wrote carry its tag ("Cityworks: OtherSystemId, ..."); None when it wrote
    nowhere that tags, so a report never promises a tag a record does not carry."""
    written = {item["operation"].split(" ", 1)[0] for item in summary or []}
    fields = [TAG_FIELDS[name] for name in sorted(written) if name in TAG_FIELDS]
    return "; ".join(fields) or None


def describe(summary: list[dict[str, Any]]) -> list[str]:
    """Lines for people: what the run created or changed at the target."""
    return [
        f"{item['operation']}: {item['calls']} call(s)" + (f", ids {', '.join(item['ids'])}" if item["ids"] else "")
        for item in summary
    ]
