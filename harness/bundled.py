"""Configurations of bundled parts by name, for callers that must not import simulator internals
(the conformance suites start the bundled simulators through here)."""

from __future__ import annotations

from typing import Any

from simulators.kit import SimConfig

from .registry import load_simulator


def simulator_config(name: str, **options: Any) -> SimConfig:
    return load_simulator(name).config_type(**options)
