"""The `--target NAME=URL` option, read the same way by every suite."""

from __future__ import annotations

import pytest


def target_urls(config: pytest.Config) -> dict[str, str]:
    out = {}
    for item in config.getoption("target"):
        name, sep, url = item.partition("=")
        if not sep or not url.startswith(("http://", "https://")):
            raise pytest.UsageError(f"--target expects NAME=URL, got {item!r}")
        out[name] = url.rstrip("/")
    return out
