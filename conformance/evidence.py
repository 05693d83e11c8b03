"""Evidence for a failed check: the last exchanges the simulators involved recorded in their journals (secrets
already masked by the simulator). The suites' fixtures `watch()` the simulators they start; when a check fails,
the plugin reads their journals before the fixtures stop them. An external target has no journal: its
evidence is the failure itself."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import requests

EXCERPT = 1_500
_watched: dict[str, str] = {}  # base URL -> scope ("session" or "function")
# In-process simulators, read directly: one served by the check's own event loop cannot answer HTTP while
# the loop is stopped between the check and its teardown, when the evidence is read.
_journals: dict[str, tuple[str, Any]] = {}  # base URL -> (simulator name, journal)


def watch(url: str, scope: str = "function", journal: Any = None, name: str | None = None) -> str:
    """Read this simulator's journal if a check fails (`session`: for every check; else the current one)."""
    key = url.rstrip("/")
    _watched.setdefault(key, scope)
    if journal is not None:
        _journals[key] = (name or key, journal)
    return url


def watch_if_simulator(url: str, scope: str = "session") -> str:
    """An external target that is a civic-harness simulator has a journal too (a vendor's server has not)."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    try:
        if requests.get(f"{origin}/_sim/", timeout=5).json().get("simulator"):
            watch(origin, scope)
    except (requests.RequestException, ValueError, AttributeError):
        pass
    return url


def forget_function_scoped() -> None:
    for url in [u for u, s in _watched.items() if s != "session"]:
        del _watched[url]
        _journals.pop(url, None)


def _excerpt(value: Any) -> str | None:
    if value in (None, "", {}, []):
        return None
    text = value if isinstance(value, str) else json.dumps(value, indent=1, default=str)
    return text if len(text) <= EXCERPT else text[:EXCERPT] + f"\n… ({len(text) - EXCERPT} more characters)"


def collect(
    since: dict[str, int] | None = None, per_simulator: int = 4, timeout_s: float = 3.0
) -> list[dict[str, Any]]:
    """The exchanges that explain a failure: those of the failing check (journaled after `since`), the ones
    that went wrong first (refused, an error status, no answer, a fault), then the rest newest first; without
    `since`, or when the check made no call, the newest `per_simulator` of each watched simulator."""
    out: list[dict[str, Any]] = []
    for url in list(_watched):
        try:
            if url in _journals:
                name, journal = _journals[url]
                entries = [journal.render(e) for e in journal.select(source="client")]
            else:
                name = requests.get(f"{url}/_sim/", timeout=timeout_s).json().get("simulator", url)
                entries = requests.get(f"{url}/_sim/journal", params={"source": "client"}, timeout=timeout_s).json()[
                    "entries"
                ]
        except (requests.RequestException, ValueError, KeyError, AttributeError):
            continue  # not a simulator, or gone: nothing to show
        # a simulator watched after the check began is the check's own from its start
        own = [] if since is None else [e for e in entries if (e.get("id") or 0) > since.get(url, 0)]
        for e in own[::-1] if own else entries[-per_simulator:]:
            out.append({"simulator": name, **_exchange(e), "own": bool(own)})
    # stable: within each rank the order above (the check's own newest first, else the newest last)
    out.sort(key=lambda e: (not e["own"], not e["wrong"]))
    return out[: max(per_simulator, 6)] if since is not None else out


def _exchange(e: dict[str, Any]) -> dict[str, Any]:
    query = "&".join(f"{k}={v}" for k, v in (e.get("query") or {}).items())
    status = e.get("status")
    return {
        "time": e.get("time"),
        "method": e.get("method"),
        "path": (e.get("path") or "") + (f"?{query}" if query else ""),
        "status": status if status is not None else "no answer",
        "wrong": bool(e.get("violations") or e.get("fault") or status is None or status >= 400),
        "request": _excerpt(e.get("body")),
        "response": _excerpt(e.get("response_body")),
        # the caller's trace (W3C traceparent), so the failure joins the gateway's trace and logs
        "trace_id": e.get("trace_id"),
    }


def marks(timeout_s: float = 3.0) -> dict[str, int]:
    """The newest journal entry of every watched simulator now: what a check's findings are counted from."""
    out: dict[str, int] = {}
    for url in list(_watched):
        entries = _client_entries(url, None, timeout_s, limit=1)
        out[url] = entries[-1].get("id", 0) if entries else 0
    return out


def findings(since: dict[str, int], timeout_s: float = 3.0) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(violations, warnings) of the client calls the watched simulators journaled after `since` (a simulator
    watched later counts from its start): what the real vendor would refuse, and what it accepts outside its
    documented contract."""
    violations: list[dict[str, Any]] = []
    warnings: list[dict[str, Any]] = []
    for url in list(_watched):
        name = _journals[url][0] if url in _journals else url
        for e in _client_entries(url, since.get(url, 0), timeout_s):
            call = {"simulator": name, "method": e.get("method"), "path": e.get("path"), "status": e.get("status")}
            violations += [{**call, **v} for v in e.get("violations") or ()]
            warnings += [{**call, **w} for w in e.get("warnings") or ()]
    return violations, warnings


def _client_entries(url: str, since: int | None, timeout_s: float, limit: int | None = None) -> list[dict[str, Any]]:
    try:
        if url in _journals:
            journal = _journals[url][1]
            return [journal.render(e) for e in journal.select(source="client", since=since, limit=limit)]
        params: dict[str, Any] = {"source": "client", **({"since": since} if since else {})}
        if limit:
            params["limit"] = limit
        return requests.get(f"{url}/_sim/journal", params=params, timeout=timeout_s).json()["entries"]
    except (requests.RequestException, ValueError, KeyError, AttributeError):
        return []  # not a simulator, or gone
