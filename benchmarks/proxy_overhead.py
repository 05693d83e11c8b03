"""Latency the recording proxy adds, at a fixed request rate: `python benchmarks/proxy_overhead.py [--rate 1000]
[--duration 10] [--runs 3]`.

The upstream (`serve.py bare`: Cityworks' ServiceRequest/ById bytes from a bare aiohttp handler) and this
script's open-loop load generator share core 1; the proxy (`civic-harness proxy cityworks`, recording every
exchange) runs alone on core 0 (`taskset`). Requests leave on a fixed schedule (`--rate` per second, whatever
came back), and each latency is measured from its scheduled time, so a stall shows as the queue it causes
(no coordinated omission). Runs alternate direct and through the proxy; the added latency is the difference of
the percentiles of each pair of runs. The proxy's CPU time per request and the share of the run it spent runnable
but waiting for a CPU (other tenants on its core: the latency is theirs then) are read from /proc.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.parse
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
BY_ID = "/Services/Ams/ServiceRequest/ById?data=" + urllib.parse.quote(json.dumps({"RequestId": 1}))
WARMUP_S = 1.5


def start(cmd: list[str], core: int, announce: str = "http") -> tuple[subprocess.Popen[str], str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(["taskset", "-c", str(core), *cmd], cwd=ROOT, stdout=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    while True:
        line = proc.stdout.readline()
        if not line:
            raise RuntimeError(f"{cmd} ended before it said where it listens")
        if announce in line:
            return proc, next(w for w in line.split() if w.startswith("http"))


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def waited_seconds(pid: int) -> float:
    """Time the process spent runnable but waiting for a CPU (/proc/PID/schedstat): other tenants on its core."""
    return int(Path(f"/proc/{pid}/schedstat").read_text().split()[1]) / 1e9


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


async def run(url: str, rate: int, duration: float) -> dict[str, float]:
    """Open loop: request i leaves at start + i / rate; its latency counts from then."""
    latencies: list[float] = []
    errors = 0
    headers = {"Authorization": "cityworks benchmark-token"}
    connector = aiohttp.TCPConnector(limit=256)
    async with aiohttp.ClientSession(connector=connector) as http:
        loop = asyncio.get_running_loop()
        begin = loop.time() + 0.2
        total = int((duration + WARMUP_S) * rate)

        async def one(i: int) -> None:
            nonlocal errors
            due = begin + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            try:
                async with http.get(url + BY_ID, headers=headers) as resp:
                    await resp.read()
                    ok = resp.status == 200
            except aiohttp.ClientError:
                ok = False
            if i >= WARMUP_S * rate:
                if ok:
                    latencies.append((loop.time() - due) * 1000)
                else:
                    errors += 1

        await asyncio.gather(*(one(i) for i in range(total)))
    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "p999_ms": percentile(latencies, 0.999),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=int, default=1000, help="requests per second (default 1000)")
    parser.add_argument("--duration", type=float, default=10.0, help="measured seconds per run (default 10)")
    parser.add_argument("--runs", type=int, default=3, help="pairs of runs, direct and proxied (default 3)")
    args = parser.parse_args()
    os.sched_setaffinity(0, {1})
    upstream, upstream_url = start([sys.executable, "benchmarks/serve.py", "bare"], 1)
    proxy, proxy_url = start(
        [sys.executable, "-m", "harness.cli", "proxy", "cityworks", "--upstream", upstream_url, "--listen",
         "127.0.0.1:0", "--journal-size", "100000"],
        0,
        announce="proxying",
    )  # fmt: skip
    try:
        pairs = []
        for n in range(args.runs):
            direct = asyncio.run(run(upstream_url, args.rate, args.duration))
            cpu, waited = cpu_seconds(proxy.pid), waited_seconds(proxy.pid)
            began = time.monotonic()
            proxied = asyncio.run(run(proxy_url, args.rate, args.duration))
            spent = cpu_seconds(proxy.pid) - cpu
            # how long the proxy sat runnable with no CPU to run on, as a share of the run: above a few per cent, the
            # latency measures the host's other tenants, not the proxy
            proxied["proxy_waiting_share"] = (waited_seconds(proxy.pid) - waited) / (time.monotonic() - began)
            total = int((args.duration + WARMUP_S) * args.rate)
            proxied["proxy_cpu_us_per_request"] = spent / total * 1e6
            proxied["proxy_cpu_share"] = spent / (args.duration + WARMUP_S + 0.2)
            pairs.append((direct, proxied))
            print(f"run {n + 1}: direct {json.dumps(direct)}", flush=True)
            print(f"run {n + 1}: proxied {json.dumps({k: round(v, 3) for k, v in proxied.items()})}", flush=True)
        for q in ("p50_ms", "p99_ms", "p999_ms"):
            added = [p[q] - d[q] for d, p in pairs]
            runs = ", ".join(f"{a:.3f}" for a in added)
            print(f"added {q[:-3]}: median {statistics.median(added):.3f} ms (runs: {runs})")
        cpu = statistics.median(p["proxy_cpu_us_per_request"] for _, p in pairs)
        print(f"proxy CPU per request: {cpu:.0f} us (one core at {args.rate} req/s: {cpu * args.rate / 1e4:.0f} %)")
    finally:
        for proc in (proxy, upstream):
            proc.terminate()
            proc.wait(10)


if __name__ == "__main__":
    main()
