"""What an operator sees of a running gateway: Prometheus metrics (`metrics.py`), W3C trace context through
OpenTelemetry (`tracing.py`, off unless the OTEL_* variables turn it on) and structured log lines
(`logs.py`). `Observer` is the one object the API, the jobs and the connectors are handed; it imports no
aiohttp and no database, so every layer may hold it."""

from __future__ import annotations

from dataclasses import dataclass, field

from .metrics import GatewayMetrics
from .tracing import Tracing


@dataclass(frozen=True, slots=True)
class Observer:
    metrics: GatewayMetrics = field(default_factory=lambda: GatewayMetrics(enabled=False))
    tracing: Tracing = field(default_factory=Tracing)


__all__ = ["GatewayMetrics", "Observer", "Tracing"]
