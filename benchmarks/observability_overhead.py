"""What metrics and traces cost the gateway's hottest write: Open311 submissions per second with metrics on vs
off and traces on vs off, measured in one run (ratios, not absolute numbers).

    python benchmarks/observability_overhead.py [--runs 5] [--duration 8] [--connections 16]

Five gateway processes, one per mode, each on core 0 in turn (`taskset`), on its own SQLite file with the
scheduler off (the accept path only: parse, check, geography, group commit of the request and its outbox row):

- `off`: metrics off, no tracer, logging at WARNING: no measuring middleware at all;
- `metrics`: Prometheus metrics on (the default), scraped once a second during the run as Prometheus would;
- `traces`: metrics off, the OpenTelemetry SDK on (always-on sampler, batch span processor) with an exporter
  that drops the spans, so the SDK's own cost is measured and not a collector's;
- `traces10`: the same with one trace in ten sampled (`OTEL_TRACES_SAMPLER=parentbased_traceidratio`,
  `OTEL_TRACES_SAMPLER_ARG=0.1`): what an operator does when every trace costs too much;
- `both`: metrics and traces (all sampled).

wrk on core 1 POSTs form-encoded reports (no photo). Runs of the four modes alternate, so the shared machine's
drift falls on all alike; the medians and each mode's ratio to `off` are printed, of throughput and of the
gateway process's own CPU time per submission (which another tenant of a shared machine moves far less than
throughput). Needs `wrk` and `taskset`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MODES = ("off", "metrics", "traces", "traces10", "both")
ADMIN = "bench-admin-token-0123456789"
KEY = "bench-api-key-0001"


def serve(mode: str, database: str) -> None:
    """One gateway in this process, in `mode`; prints its URL once ready."""
    sys.path.insert(0, str(ROOT))
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
    from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

    from gateway.settings import Settings
    from harness.stack import Stack

    class Dropped(SpanExporter):
        def export(self, spans: Any) -> SpanExportResult:
            return SpanExportResult.SUCCESS

    provider = None
    if mode in ("traces", "traces10", "both"):
        sampler = ParentBased(TraceIdRatioBased(0.1)) if mode == "traces10" else None
        provider = TracerProvider(sampler=sampler)
        provider.add_span_processor(BatchSpanProcessor(Dropped()))
    settings = Settings(
        database_url=f"sqlite:///{database}",
        admin_token=ADMIN,
        api_keys=(KEY,),
        scheduler_tick_s=0,
        metrics=mode in ("metrics", "both"),
    )

    async def main() -> None:
        import gateway.app

        original = gateway.app.create_app
        gateway.app.create_app = lambda s=None: original(s, tracer_provider=provider)  # type: ignore[assignment]
        async with Stack({}, gateway=settings) as stack:
            print(stack.url("gateway"), flush=True)
            await asyncio.Event().wait()

    asyncio.run(main())


def http(method: str, url: str, body: Any = None, files: bytes | None = None) -> Any:
    headers = {"Authorization": f"Bearer {ADMIN}"}
    data = None
    if files is not None:
        boundary = "benchboundary"
        data = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="name"\r\n\r\nCity\r\n'
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="city.geojson"\r\n\r\n'
            ).encode()
            + files
            + f"\r\n--{boundary}--\r\n".encode()
        )
        headers["Content-Type"] = f"multipart/form-data; boundary={boundary}"
    elif body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    with urllib.request.urlopen(urllib.request.Request(url, data, headers, method=method), timeout=30) as resp:
        return json.load(resp)


class Gateway:
    def __init__(self, mode: str, scratch: str) -> None:
        self.mode = mode
        self.proc = subprocess.Popen(
            ["taskset", "-c", "0", sys.executable, __file__, "serve", mode, f"{scratch}/{mode}.db"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        self.url = self.proc.stdout.readline().strip()
        from shapely.geometry import mapping

        sys.path.insert(0, str(ROOT))
        from simulators.kit import city

        geography = http("POST", f"{self.url}/admin/v1/geographies", files=json.dumps(mapping(city.BOUNDARY)).encode())
        agency = http("POST", f"{self.url}/admin/v1/agencies", {"name": "Works", "geography_id": geography["id"]})
        http(
            "POST", f"{self.url}/admin/v1/categories", {"code": "POT", "name": "Pothole", "agency_ids": [agency["id"]]}
        )
        point = city.SAMPLE_POINT
        self.form = urllib.parse.urlencode(
            {"api_key": KEY, "service_code": "POT", "lat": point["lat"], "long": point["long"], "description": "b"}
        )

    def run(self, duration: int, connections: int) -> dict[str, float]:
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as lua:
            lua.write(
                f'wrk.method = "POST"\nwrk.body = {json.dumps(self.form)}\n'
                'wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"\n'
            )
        stop = threading.Event()
        cpu_before = self.cpu_s()
        scraper = threading.Thread(target=self._scrape, args=(stop,), daemon=True)
        if self.mode in ("metrics", "both"):
            scraper.start()
        try:
            out = subprocess.run(
                ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", lua.name,
                 f"{self.url}/open311/v2/requests.json"],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
        finally:
            stop.set()
            os.unlink(lua.name)
        cpu = self.cpu_s() - cpu_before
        errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        p50 = re.search(r"^\s+50%\s+([\d.]+)(\w+)", out, re.M)
        return {
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": float(p50.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[p50.group(2)],
            "non2xx": int(errors.group(1)) if errors else 0,
            "cpu_us": cpu / int(re.search(r"(\d+) requests in", out).group(1)) * 1e6,
        }

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def _scrape(self, stop: threading.Event) -> None:
        while not stop.wait(1.0):  # as a Prometheus server would, once a second
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"{self.url}/metrics", timeout=5).read()

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "serve":
        serve(sys.argv[2], sys.argv[3])
        return
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")
    results: dict[str, list[dict[str, float]]] = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory(prefix="civic-obs-bench-") as scratch:
        gateways = [Gateway(mode, scratch) for mode in MODES]
        try:
            for g in gateways:
                g.run(2, args.connections)  # warm-up
            for n in range(args.runs):
                order = gateways[n % len(gateways) :] + gateways[: n % len(gateways)]  # rotate who goes first
                for g in order:
                    results[g.mode].append(g.run(args.duration, args.connections))
        finally:
            for g in gateways:
                g.stop()
    assert all(r["non2xx"] == 0 for runs in results.values() for r in runs), "a run had non-2xx answers"
    print(f"# observability overhead, {started}, {args.runs} alternated runs x {args.duration}s, "
          f"{args.connections} connections, Open311 POST (no photo), SQLite, scheduler off")  # fmt: skip
    print("# medians; cpu = the gateway process's CPU time per submission (the /metrics scrapes included)")
    base = {k: statistics.median(r[k] for r in results["off"]) for k in ("rps", "cpu_us")}
    for mode in MODES:
        rps, p50, cpu = (statistics.median(r[k] for r in results[mode]) for k in ("rps", "p50_ms", "cpu_us"))
        each = ", ".join(f"{r['rps']:.0f}" for r in results[mode])
        print(
            f"{mode:<8} {rps:6.0f} submissions/s ({rps / base['rps']:5.3f} of off)  p50 {p50:5.1f} ms  "
            f"cpu {cpu:5.0f} us ({cpu / base['cpu_us']:5.3f} of off)   runs: {each}"
        )


if __name__ == "__main__":
    main()
