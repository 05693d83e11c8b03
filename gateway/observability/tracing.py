"""W3C Trace Context through the gateway with the OpenTelemetry SDK, off unless asked for.

On by the standard variables: `OTEL_TRACES_EXPORTER` (`otlp` or `console`; unset or `none`: off) and not
`OTEL_SDK_DISABLED=true`. The SDK itself reads the rest: `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`,
`OTEL_TRACES_SAMPLER(_ARG)`, `OTEL_BSP_*`, and the OTLP exporter its `OTEL_EXPORTER_OTLP_*` endpoint and
headers. A gateway's tracer comes from a provider of its own (`Tracing(provider)`), never the global one, so
tests give each gateway an in-memory exporter.

The path of one report: the Open311 request's server span -> its `traceparent` stored with the outbox row
(`current_traceparent`) -> the delivery span, a child of that stored context (`span(..., parent=...)`) ->
one client span per vendor call, whose `traceparent` header the vendor receives (`inject`)."""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator, Mapping, MutableMapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import SpanKind, Status, StatusCode
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACER = "civic_harness.gateway"
PROPAGATOR = TraceContextTextMapPropagator()
TRACEPARENT = re.compile(r"^[0-9a-f]{2}-([0-9a-f]{32})-[0-9a-f]{16}-[0-9a-f]{2}$")
EXPORTERS = ("otlp", "console")
SERVER, CLIENT, INTERNAL = SpanKind.SERVER, SpanKind.CLIENT, SpanKind.INTERNAL


def trace_id_of(traceparent: str | None) -> str | None:
    """The trace id a `traceparent` header names (None for a missing or malformed one, or the all-zero id)."""
    found = TRACEPARENT.match(traceparent.strip().lower()) if traceparent else None
    if found is None or set(found.group(1)) == {"0"}:
        return None
    return found.group(1)


def provider_from_environment(environ: Mapping[str, str] | None = None) -> Any:
    """A TracerProvider as the OTEL_* variables describe it, or None when tracing is off (the default)."""
    environ = os.environ if environ is None else environ
    exporter_name = environ.get("OTEL_TRACES_EXPORTER", "none").strip().lower()
    if exporter_name in ("", "none") or environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    if exporter_name not in EXPORTERS:
        raise ValueError(f"OTEL_TRACES_EXPORTER={exporter_name!r}: the gateway exports to {', '.join(EXPORTERS)}")
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

    if exporter_name == "otlp":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporter: Any = OTLPSpanExporter()
    else:
        exporter = ConsoleSpanExporter()
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES over this default name
    provider = TracerProvider(resource=Resource.create({"service.name": "civic-harness-gateway"}))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


class Tracing:
    """A gateway's tracer, or nothing at all when tracing is off: every method then costs one test."""

    def __init__(self, provider: Any = None) -> None:
        self.provider = provider
        self.enabled = provider is not None
        self._tracer = provider.get_tracer(TRACER) if provider is not None else None

    @contextlib.contextmanager
    def span(
        self,
        name: str,
        *,
        kind: SpanKind = INTERNAL,
        parent: str | None = None,
        carrier: Mapping[str, str] | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> Iterator[Any]:
        """A span made current for the block; its parent is the stored `parent` traceparent, the incoming
        headers' (`carrier`), or the current span. Yields None when tracing is off."""
        if self._tracer is None:
            yield None
            return
        context = None
        if parent is not None:
            context = PROPAGATOR.extract({"traceparent": parent})
        elif carrier is not None:
            context = PROPAGATOR.extract(carrier)
        with self._tracer.start_as_current_span(
            name, context=context, kind=kind, attributes=attributes, record_exception=False
        ) as span:
            yield span

    def inject(self, headers: MutableMapping[str, str]) -> None:
        """The current span's `traceparent` (and `tracestate`) into outgoing headers."""
        if self._tracer is not None:
            PROPAGATOR.inject(headers)

    def shutdown(self) -> None:
        if self.provider is not None:
            self.provider.shutdown()  # exports what the batch processor still holds


def current_traceparent() -> str | None:
    """The current span's context as a `traceparent` value, to store with an outbox row (None: no trace)."""
    carrier: dict[str, str] = {}
    PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")


def current_trace_id() -> str | None:
    context = trace.get_current_span().get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def failed(span: Any, description: str) -> None:
    """Mark a span as failed (no exception text: a vendor's message may quote what was sent)."""
    if span is not None:
        span.set_status(Status(StatusCode.ERROR, description))
