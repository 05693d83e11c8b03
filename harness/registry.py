"""Where each bundled part lives. Imported lazily so one part's absence never breaks another."""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

from simulators.kit import SimulatorSpec

# CLI name -> "module:attribute" of its SimulatorSpec.
SIMULATORS: dict[str, str] = {
    "cityworks": "simulators.cityworks:SPEC",
    "opengov": "simulators.opengov:SPEC",
    "arcgis": "simulators.arcgis:SPEC",
    "city-api": "simulators.city_api:SPEC",
}


class NotBuilt(LookupError):
    """A part of the harness that exists in the design but not yet in this version."""


def _import(ref: str) -> Any:
    module_name, _, attr = ref.partition(":")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # so `tests.kit_sim:SPEC` works from a checkout, as uvicorn does
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise NotBuilt(f"{ref} is not built yet") from None


def load_simulator(name: str) -> SimulatorSpec:
    """A bundled simulator by name, or any spec by `module:attribute`."""
    ref = SIMULATORS.get(name) or (name if ":" in name else None)
    if ref is None:
        raise LookupError(f"unknown simulator {name!r}; bundled: {', '.join(SIMULATORS)}")
    spec = _import(ref)
    if not isinstance(spec, SimulatorSpec):
        raise TypeError(f"{ref} is a {type(spec).__name__}, not a SimulatorSpec")
    return spec


def built_simulators() -> list[str]:
    out = []
    for name in SIMULATORS:
        try:
            load_simulator(name)
        except NotBuilt:
            continue
        out.append(name)
    return out
