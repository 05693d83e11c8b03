"""The gateway's Prometheus metrics, in a registry of its own per application (not the library's global
one), so several gateways in one process — tests, a benchmark — never count into each other.

Two kinds of figure:
- what this process did (HTTP requests, vendor calls, deliveries, job runs): counters and histograms,
  summed across instances by Prometheus;
- what the shared database holds (the outbox's backlog — pending and dead rows by kind —, the oldest pending
  row's age, who holds which job lease): gauges read from the database at scrape time (`set_store`), so every
  instance on one PostgreSQL reports the same figure.

Label values are bounded: a route's canonical path (never the raw path), a vendor operation's name, an
outcome from `OUTCOMES`, a fault kind from the connectors' small vocabulary."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.process_collector import ProcessCollector

PREFIX = "civic_gateway"
disable_created_metrics()  # no `_created` series beside every counter: half the exposition, read by nobody
CONTENT_TYPE = CONTENT_TYPE_LATEST
# ok: the vendor did it; the rest are the connectors' failure kinds (gateway/connectors/http.py)
OUTCOMES = ("ok", "rejected", "uncertain", "unavailable", "error")
# seconds: an HTTP answer and a vendor call (ms to a timeout), a report's way to the vendor (seconds to hours
# while a vendor is down), a job (a poll of thousands of requests)
FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
LAG = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0, 3600.0)
JOB = (0.01, 0.05, 0.1, 0.5, 1.0, 5.0, 10.0, 30.0, 60.0, 300.0)


@dataclass(frozen=True, slots=True)
class StoreFigures:
    """What the shared database says at scrape time."""

    rows: Mapping[tuple[str, str], int]  # (state, kind) -> outbox rows
    oldest_pending_s: float  # 0 when nothing is pending
    leases: Iterable[tuple[str, str]]  # (job key, holder)


class GatewayMetrics:
    def __init__(self, *, enabled: bool = True, instance: str = "") -> None:
        self.enabled = enabled
        self.registry = registry = CollectorRegistry(auto_describe=True)
        if enabled:
            ProcessCollector(registry=registry)  # CPU, memory, open files of this process (Linux)

        def counter(name: str, doc: str, labels: tuple[str, ...]) -> Counter:
            return Counter(f"{PREFIX}_{name}", doc, labels, registry=registry)

        def histogram(name: str, doc: str, labels: tuple[str, ...], buckets: tuple[float, ...]) -> Histogram:
            return Histogram(f"{PREFIX}_{name}", doc, labels, buckets=buckets, registry=registry)

        def gauge(name: str, doc: str, labels: tuple[str, ...] = ()) -> Gauge:
            return Gauge(f"{PREFIX}_{name}", doc, labels, registry=registry)

        self.http = histogram(
            "http_request_duration_seconds",
            "HTTP requests served, by route (its canonical path), method and status",
            ("route", "method", "status"),
            FAST,
        )
        self.vendor_calls = counter(
            "vendor_calls",
            "vendor calls by vendor, operation, outcome and the fault met (empty when none is known)",
            ("vendor", "operation", "outcome", "fault"),
        )
        self.vendor_seconds = histogram(
            "vendor_call_duration_seconds",
            "vendor call time, retries included",
            ("vendor", "operation", "outcome"),
            FAST,
        )
        self.deliveries = counter(
            "outbox_deliveries", "outbox delivery attempts by row kind and outcome", ("kind", "outcome")
        )
        self.report_lag = histogram(
            "report_to_vendor_seconds",
            "from a citizen's report being taken to its creation at the vendor",
            (),
            LAG,
        )
        self.job_runs = counter("job_runs", "job runs by job and status (ok, failed)", ("job", "status"))
        self.job_errors = counter("job_errors", "errors recorded by job runs", ("job",))
        self.job_seconds = histogram("job_duration_seconds", "job run time", ("job",), JOB)
        self.outbox_rows = gauge(
            "outbox_rows",
            "outbox rows not delivered, in the database, by state (pending, dead) and kind",
            ("state", "kind"),
        )
        self.outbox_oldest = gauge(
            "outbox_oldest_pending_age_seconds", "age of the oldest pending outbox row (0: none pending)"
        )
        self.lease_holder = gauge(
            "job_lease_holder", "1 for each job lease and the instance holding it", ("job", "holder")
        )
        self.database_up = gauge("database_up", "1 when the last scrape could read the database")
        self.info = gauge("instance_info", "1, labelled with this instance's name (a lease holder's)", ("instance",))
        self.info.labels(instance).set(1)

    # -- what this process did -----------------------------------------------------------------------

    def request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.http.labels(route, method, str(status)).observe(seconds)

    def vendor_call(self, vendor: str, operation: str, outcome: str, fault: str | None, seconds: float) -> None:
        if not self.enabled:
            return
        self.vendor_calls.labels(vendor, operation, outcome, fault or "").inc()
        self.vendor_seconds.labels(vendor, operation, outcome).observe(seconds)

    def delivery(self, kind: str, outcome: str) -> None:
        if self.enabled:
            self.deliveries.labels(kind, outcome).inc()

    def reached_vendor(self, seconds: float) -> None:
        if self.enabled:
            self.report_lag.observe(max(0.0, seconds))

    def job_run(self, job: str, status: str, errors: int, seconds: float) -> None:
        if not self.enabled:
            return
        self.job_runs.labels(job, status).inc()
        self.job_seconds.labels(job).observe(seconds)
        if errors:
            self.job_errors.labels(job).inc(errors)

    # -- what the shared database holds ----------------------------------------------------------------

    def set_store(self, figures: StoreFigures | None) -> None:
        """The database's figures for this scrape; None when it could not be read (the gauges that came from
        it are dropped rather than left stale)."""
        self.outbox_rows.clear()
        self.lease_holder.clear()
        if figures is None:
            self.database_up.set(0)
            return
        self.database_up.set(1)
        for (state, kind), n in figures.rows.items():
            self.outbox_rows.labels(state, kind).set(n)
        self.outbox_oldest.set(figures.oldest_pending_s)
        for job, holder in figures.leases:
            self.lease_holder.labels(job, holder).set(1)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
