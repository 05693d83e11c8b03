"""Pass/fail thresholds for a load run, judged from locust's own CSV statistics (`PREFIX_stats.csv`).

A threshold file is TOML:

    fail_ratio = 0.01                 # failed / all requests, over the whole run
    [p95]                             # milliseconds, per request name as locust names it
    "GET /services" = 300
    "*" = 1500                        # every request name, and the aggregate
    [p99]
    "POST /requests" = 2000
    [gateway]                         # the gateway's own figures, from its /metrics sampled during the run
    outbox_lag_p95 = 5                # seconds from a report to its creation at the vendor
    outbox_oldest_max = 30            # (loadtests/gateway_series.py: FIGURES lists them, each an upper bound)

`p50`, `p95`, `p99` and `gateway` tables are read; options on the command line add to (and override) the file.
"""

from __future__ import annotations

import csv
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .gateway_series import FIGURES

PERCENTILES = {"p50": "50%", "p95": "95%", "p99": "99%"}
AGGREGATED = "Aggregated"


@dataclass
class Thresholds:
    fail_ratio: float | None = None
    latency: dict[str, dict[str, float]] = field(default_factory=dict)  # p95 -> request name -> ms
    gateway: dict[str, float] = field(default_factory=dict)  # a gateway figure -> its upper bound

    @classmethod
    def load(cls, path: str | Path) -> Thresholds:
        with open(path, "rb") as fh:
            data = tomllib.load(fh)
        unknown = set(data) - {"fail_ratio", "gateway", *PERCENTILES}
        if unknown:
            raise ValueError(f"unknown thresholds: {', '.join(sorted(unknown))} (fail_ratio, p50, p95, p99, gateway)")
        out = cls(fail_ratio=float(data["fail_ratio"]) if "fail_ratio" in data else None)
        for p in PERCENTILES:
            for name, ms in (data.get(p) or {}).items():
                out.add(p, name, float(ms))
        for name, limit in (data.get("gateway") or {}).items():
            out.add_gateway(name, float(limit))
        return out

    def add_gateway(self, name: str, limit: float) -> None:
        if name not in FIGURES:
            raise ValueError(f"no gateway figure {name!r}; the figures: {', '.join(FIGURES)}")
        if limit < 0:
            raise ValueError(f"gateway {name}: a limit is not negative")
        self.gateway[name] = limit

    def add_gateway_option(self, text: str) -> None:
        """`NAME=VALUE` from the command line, e.g. `outbox_lag_p95=5`."""
        name, sep, value = text.partition("=")
        if not sep:
            raise ValueError(f"--gateway-threshold expects NAME=VALUE, got {text!r}")
        self.add_gateway(name.strip(), float(value))

    def add(self, percentile: str, name: str, ms: float) -> None:
        if percentile not in PERCENTILES:
            raise ValueError(f"percentiles are {', '.join(PERCENTILES)}, not {percentile!r}")
        if ms <= 0:
            raise ValueError(f"{percentile} {name!r}: a latency limit is positive milliseconds")
        self.latency.setdefault(percentile, {})[name] = ms

    def add_option(self, percentile: str, text: str) -> None:
        """`NAME=MS` from the command line (`*=MS` for every request)."""
        name, sep, ms = text.rpartition("=")
        if not sep or not name:
            raise ValueError(f"--{percentile} expects NAME=MS, got {text!r}")
        self.add(percentile, name, float(ms))


@dataclass(frozen=True)
class Row:
    name: str
    requests: int
    failures: int
    percentiles: Mapping[str, float]  # "50%" -> ms


def read_stats(path: str | Path) -> list[Row]:
    rows = []
    with open(path, newline="") as fh:
        for record in csv.DictReader(fh):  # the profiles name every request "METHOD /path"
            rows.append(
                Row(
                    name=record["Name"],
                    requests=int(record["Request Count"]),
                    failures=int(record["Failure Count"]),
                    percentiles={k: _ms(record.get(k)) for k in PERCENTILES.values()},
                )
            )
    return rows


def _ms(value: str | None) -> float:
    try:
        return float(value) if value not in (None, "", "N/A") else 0.0
    except ValueError:
        return 0.0


def judge(thresholds: Thresholds, rows: Iterable[Row]) -> list[str]:
    """Every threshold the run broke, one line each; empty when the run passed."""
    rows = list(rows)
    broken: list[str] = []
    total = next((r for r in rows if r.name == AGGREGATED), None)
    if total is None or total.requests == 0:
        return ["no request was made: the run proves nothing"]
    if thresholds.fail_ratio is not None:
        ratio = total.failures / total.requests
        if ratio > thresholds.fail_ratio:
            broken.append(
                f"failure ratio {ratio:.2%} > {thresholds.fail_ratio:.2%} ({total.failures} of {total.requests})"
            )
    by_name = {r.name: r for r in rows}
    for percentile, limits in thresholds.latency.items():
        column = PERCENTILES[percentile]
        for name, limit in limits.items():
            targets = rows if name == "*" else [by_name[name]] if name in by_name else []
            if not targets:
                broken.append(f"{percentile} {name!r}: no such request in this run (names: {', '.join(by_name)})")
            for row in targets:
                if row.percentiles[column] > limit:
                    broken.append(f"{percentile} {row.name}: {row.percentiles[column]:.0f} ms > {limit:.0f} ms")
    return broken
