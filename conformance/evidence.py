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


def collect(per_simulator: int = 4, timeout_s: float = 3.0) -> list[dict[str, Any]]:
    """The newest client exchanges of every watched simulator, oldest first."""
    out: list[dict[str, Any]] = []
    for url in list(_watched):
        try:
            if url in _journals:
                name, journal = _journals[url]
                entries = [journal.render(e) for e in journal.select(source="client")][-per_simulator:]
            else:
                name = requests.get(f"{url}/_sim/", timeout=timeout_s).json().get("simulator", url)
                entries = requests.get(f"{url}/_sim/journal", params={"source": "client"}, timeout=timeout_s).json()[
                    "entries"
                ][-per_simulator:]
        except (requests.RequestException, ValueError, KeyError, AttributeError):
            continue  # not a simulator, or gone: nothing to show
        for e in entries:
            query = "&".join(f"{k}={v}" for k, v in (e.get("query") or {}).items())
            out.append(
                {
                    "simulator": name,
                    "time": e.get("time"),
                    "method": e.get("method"),
                    "path": e.get("path") + (f"?{query}" if query else ""),
                    "status": e.get("status"),
                    "request": _excerpt(e.get("body")),
                    "response": _excerpt(e.get("response_body")),
                }
            )
    return out
