"""Configurations of bundled parts by name, for callers that must not import simulator or gateway internals
(the conformance suites start the bundled simulators and gateway through here)."""

from __future__ import annotations

from typing import Any

from simulators.kit import SimConfig

from .registry import load_simulator


def simulator_config(name: str, **options: Any) -> SimConfig:
    return load_simulator(name).config_type(**options)


def gateway_settings(**options: Any) -> Any:
    """The bundled gateway's settings (gateway.settings.Settings) from their fields."""
    from gateway.settings import Settings

    return Settings(**options)
