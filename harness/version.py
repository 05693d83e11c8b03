"""The installed version of civic-harness, for `--version` and for what the harness writes (HAR files)."""

from __future__ import annotations

from importlib import metadata


def version() -> str:
    try:
        return metadata.version("civic-harness")
    except metadata.PackageNotFoundError:  # run from a checkout that was never installed
        return "unknown (not installed)"
