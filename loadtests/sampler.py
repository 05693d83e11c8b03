"""Scraping a gateway's /metrics every few seconds while a run goes (a thread, so the load command's locust
subprocess and a synchronous caller need no event loop), and writing what it saw: the page
(`loadtests/plots.py`) and the same data as JSON."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import requests

from .gateway_series import Event, Sample, parse_exposition, report
from .plots import page


class Sampler:
    """`start()`, then `stop()` -> the samples. `url` is called each time (a campaign's gateway moves to a new
    port when it is started again); a scrape that fails (the gateway down, killed) is skipped."""

    def __init__(self, url: str | Callable[[], str], interval_s: float = 1.0, timeout_s: float = 5.0) -> None:
        self.url = url if callable(url) else (lambda: url)
        self.interval_s, self.timeout_s = interval_s, timeout_s
        self.samples: list[Sample] = []
        self.failures = 0
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="metrics-sampler", daemon=True)

    def start(self) -> Sampler:
        self.started = time.monotonic()
        self._thread.start()
        return self

    def stop(self) -> list[Sample]:
        self._stop.set()
        self._thread.join(self.timeout_s + self.interval_s + 1)
        self.scrape()  # the state at the end, so the last interval counts too
        return self.samples

    def scrape(self) -> None:
        t = time.monotonic() - self.started
        try:
            resp = requests.get(f"{self.url()}/metrics", timeout=self.timeout_s)
            if resp.status_code != 200:
                self.failures += 1
                return
            self.samples.append(parse_exposition(resp.text, round(t, 3)))
        except (requests.RequestException, ValueError):
            self.failures += 1

    def _run(self) -> None:
        while not self._stop.is_set():
            self.scrape()
            self._stop.wait(self.interval_s)


def write(
    path: str | Path,
    title: str,
    samples: list[Sample],
    limits: Mapping[str, float],
    events: Iterable[Event] = (),
    interval_s: float = 1.0,
) -> dict[str, Any]:
    """The page at `path` (.html) and its data beside it (.json); returns the data."""
    data = report(title, samples, limits, events, interval_s)
    data["raw_samples"] = [s.as_json() for s in samples]
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(page(data), encoding="utf-8")
    target.with_suffix(".json").write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    return data
