"""The `--target NAME=URL` option, read the same way by every suite."""

from __future__ import annotations

from typing import Any

import pytest
import requests


def target_urls(config: pytest.Config) -> dict[str, str]:
    out = {}
    for item in config.getoption("target"):
        name, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise pytest.UsageError(f"--target expects NAME=URL, got {item!r}")
        out[name] = url.rstrip("/")
    return out


def simulator_at(control_url: str, name: str) -> bool:
    """Whether `control_url` (`.../_sim/`) is the control plane of a civic-harness `name` simulator. Anything
    else — a 404, an HTML page, a login redirect, JSON of another shape, no answer — is a real server, whose
    checks that need the control plane then skip."""
    try:
        resp = requests.get(control_url, timeout=5, allow_redirects=False)
        body: Any = resp.json() if resp.status_code == 200 else None
    except (requests.RequestException, ValueError):
        return False
    return isinstance(body, dict) and body.get("simulator") == name
