"""Configurations of bundled parts by name, for callers that must not import simulator or gateway internals
(the conformance suites start the bundled simulators and gateway through here)."""

from __future__ import annotations

from typing import Any

from simulators.kit import SimConfig

from .registry import load_simulator


def simulator_config(name: str, **options: Any) -> SimConfig:
    return load_simulator(name).config_type(**options)


def gateway_settings(**options: Any) -> Any:
    """The settings (gateway.settings.Settings) of a bundled gateway under a suite's checks: the timings of
    `civic-harness gateway --under-test`, then the given fields."""
    from gateway.settings import UNDER_TEST, Settings

    return Settings(**{**UNDER_TEST, **options})
