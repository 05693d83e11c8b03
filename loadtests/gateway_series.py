"""The gateway's /metrics sampled during a run, turned into time series and run figures (pure: no I/O).

A `Sample` keeps, of one scrape, only what the plots and thresholds read: citizens' reports taken, outbox
rows by state, the oldest pending row's age, the report-to-vendor histogram's buckets and vendor calls by
outcome and fault. Counters are per gateway process, so a restart (a campaign's kill) resets them: every
difference between two samples treats a counter that went down as started again from zero, as Prometheus'
`rate()` does.

Run figures (what thresholds judge, `FIGURES`): report-to-vendor latency quantiles over the run, the outbox's
deepest and oldest, the share of vendor calls that failed, submissions per second."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

CREATE_ROUTE = "/open311/v2/requests.{fmt}"
M = "civic_gateway_"
# figure -> (unit, what it is); every threshold on one is an upper bound
FIGURES: dict[str, tuple[str, str]] = {
    "outbox_lag_p50": ("s", "report-to-vendor latency, median over the run"),
    "outbox_lag_p95": ("s", "report-to-vendor latency, 95th percentile over the run"),
    "outbox_lag_p99": ("s", "report-to-vendor latency, 99th percentile over the run"),
    "outbox_oldest_max": ("s", "the oldest pending outbox row's age, at its highest"),
    "outbox_pending_max": ("rows", "pending outbox rows, at their most"),
    "outbox_dead_max": ("rows", "dead letters, at their most"),
    "vendor_error_ratio": ("", "vendor calls that did not succeed, over all vendor calls"),
}


@dataclass(frozen=True, slots=True)
class Sample:
    t: float  # seconds since the run started
    submissions: float  # reports taken (Open311 POST requests answered 201), this process's counter
    pending: float
    dead: float
    oldest_s: float
    lag_buckets: Mapping[str, float]  # upper bound ("+Inf" included) -> cumulative count
    vendor: Mapping[str, float]  # "outcome" or "outcome:fault" -> calls

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def parse_exposition(text: str, t: float) -> Sample:
    """The parts of a /metrics answer the series need."""
    submissions = pending = dead = oldest = 0.0
    buckets: dict[str, float] = {}
    vendor: dict[str, float] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            name, labels = s.name, s.labels
            if name == f"{M}http_request_duration_seconds_count":
                if labels.get("route") == CREATE_ROUTE and labels.get("method") == "POST" and labels["status"] == "201":
                    submissions += s.value
            elif name == f"{M}outbox_rows":
                if labels.get("state") == "pending":
                    pending += s.value
                elif labels.get("state") == "dead":
                    dead += s.value
            elif name == f"{M}outbox_oldest_pending_age_seconds":
                oldest = s.value
            elif name == f"{M}report_to_vendor_seconds_bucket":
                buckets[_bound(labels["le"])] = s.value
            elif name == f"{M}vendor_calls_total":
                kind = labels.get("outcome", "?") + (f":{labels['fault']}" if labels.get("fault") else "")
                vendor[kind] = vendor.get(kind, 0.0) + s.value
    return Sample(t, submissions, pending, dead, oldest, buckets, vendor)


def _bound(le: str) -> str:
    return "+Inf" if le in ("+Inf", "inf") else repr(float(le))


def _delta(now: float, before: float) -> float:
    """A counter's increase; one that went down was reset (a new process) and counts from zero."""
    return now - before if now >= before else now


def _deltas(now: Mapping[str, float], before: Mapping[str, float]) -> dict[str, float]:
    reset = any(v < before.get(k, 0.0) for k, v in now.items())  # one process's counters reset together
    return {k: (v if reset else v - before.get(k, 0.0)) for k, v in now.items()}


def quantile(q: float, buckets: Mapping[str, float]) -> float | None:
    """Prometheus' histogram_quantile over cumulative buckets; None with no observation."""
    bounds = sorted(((math.inf if b == "+Inf" else float(b)), c) for b, c in buckets.items())
    if not bounds or bounds[-1][1] <= 0:
        return None
    rank = q * bounds[-1][1]
    lower, below = 0.0, 0.0
    for upper, count in bounds:
        if count >= rank:
            if math.isinf(upper):
                return lower  # past the highest finite bound: that bound, as Prometheus answers
            if count == below:
                return upper
            return lower + (upper - lower) * (rank - below) / (count - below)
        lower, below = upper, count
    return lower


@dataclass
class Series:
    """Time series for the plots: each a list of (t, value or None)."""

    submissions_per_s: list[tuple[float, float | None]] = field(default_factory=list)
    outbox_pending: list[tuple[float, float | None]] = field(default_factory=list)
    outbox_dead: list[tuple[float, float | None]] = field(default_factory=list)
    outbox_oldest_s: list[tuple[float, float | None]] = field(default_factory=list)
    lag_p50_s: list[tuple[float, float | None]] = field(default_factory=list)
    lag_p95_s: list[tuple[float, float | None]] = field(default_factory=list)
    vendor_errors_per_s: dict[str, list[tuple[float, float | None]]] = field(default_factory=dict)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def series(samples: Sequence[Sample], window_s: float = 10.0) -> Series:
    """Rates between consecutive samples; latency quantiles over the samples of the last `window_s`."""
    out = Series()
    for s in samples:
        out.outbox_pending.append((s.t, s.pending))
        out.outbox_dead.append((s.t, s.dead))
        out.outbox_oldest_s.append((s.t, s.oldest_s))
    steps = [(b, a) for a, b in itertools.pairwise(samples) if b.t > a.t]
    kinds = sorted({k for s in samples for k in s.vendor if not k.startswith("ok")})
    for kind in kinds:
        out.vendor_errors_per_s[kind] = []
    window: list[tuple[float, dict[str, float]]] = []
    for now, before in steps:
        dt = now.t - before.t
        out.submissions_per_s.append((now.t, _delta(now.submissions, before.submissions) / dt))
        calls = _deltas(now.vendor, before.vendor)
        for kind in kinds:
            out.vendor_errors_per_s[kind].append((now.t, calls.get(kind, 0.0) / dt))
        window.append((now.t, _deltas(now.lag_buckets, before.lag_buckets)))
        window = [(t, d) for t, d in window if t > now.t - window_s]
        summed: dict[str, float] = {}
        for _, d in window:
            for k, v in d.items():
                summed[k] = summed.get(k, 0.0) + v
        out.lag_p50_s.append((now.t, quantile(0.5, summed)))
        out.lag_p95_s.append((now.t, quantile(0.95, summed)))
    return out


def figures(samples: Sequence[Sample]) -> dict[str, float | None]:
    """The run's figures (`FIGURES`, plus submissions_per_s); None where the run gives no value (no report
    reached the vendor, no vendor call was made)."""
    lag: dict[str, float] = {}
    calls: dict[str, float] = {}
    submitted = 0.0
    for before, now in itertools.pairwise(samples):
        for k, v in _deltas(now.lag_buckets, before.lag_buckets).items():
            lag[k] = lag.get(k, 0.0) + v
        for k, v in _deltas(now.vendor, before.vendor).items():
            calls[k] = calls.get(k, 0.0) + v
        submitted += _delta(now.submissions, before.submissions)
    all_calls = sum(calls.values())
    failed = sum(v for k, v in calls.items() if not k.startswith("ok"))
    duration = samples[-1].t - samples[0].t if len(samples) > 1 else 0.0
    return {
        "outbox_lag_p50": quantile(0.5, lag),
        "outbox_lag_p95": quantile(0.95, lag),
        "outbox_lag_p99": quantile(0.99, lag),
        "outbox_oldest_max": max((s.oldest_s for s in samples), default=None),
        "outbox_pending_max": max((s.pending for s in samples), default=None),
        "outbox_dead_max": max((s.dead for s in samples), default=None),
        "vendor_error_ratio": failed / all_calls if all_calls else None,
        "submissions_per_s": submitted / duration if duration else None,
    }


def judge(limits: Mapping[str, float], found: Mapping[str, float | None]) -> list[str]:
    """Every gateway threshold the run broke, one line each (a figure the run could not measure breaks its
    threshold: it proves nothing)."""
    broken = []
    for name, limit in limits.items():
        unit = FIGURES[name][0]
        value = found.get(name)
        if value is None:
            broken.append(f"{name}: not measured in this run ({FIGURES[name][1]}: nothing to measure)")
        elif value > limit:
            broken.append(f"{name}: {value:.3g}{' ' + unit if unit else ''} > {limit:g}{' ' + unit if unit else ''}")
    return broken


@dataclass(frozen=True, slots=True)
class Event:
    """A moment (`end` None) or a window on the time axis: a gateway kill, vendor faults switched on."""

    label: str
    t: float
    end: float | None = None


def report(
    title: str,
    samples: Sequence[Sample],
    limits: Mapping[str, float],
    events: Iterable[Event] = (),
    interval_s: float = 1.0,
) -> dict[str, Any]:
    """Everything the page shows, as JSON: the series, the run's figures, the thresholds and what broke."""
    found = figures(samples)
    return {
        "title": title,
        "interval_s": interval_s,
        "samples": len(samples),
        "series": series(samples, window_s=max(10.0, 5 * interval_s)).as_json(),
        "figures": found,
        "thresholds": dict(limits),
        "broken": judge(limits, found) if samples else ["no sample of the gateway's metrics was taken"],
        "events": [asdict(e) for e in events],
    }
