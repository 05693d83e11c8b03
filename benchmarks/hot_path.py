"""Simulator hot path vs a bare aiohttp handler, measured in one run (ratios, not absolute numbers).

    python benchmarks/hot_path.py [--runs 3] [--duration 10] [--connections 64]

Each server runs in its own process on core 0; wrk runs on core 1 (`taskset`). The Cityworks call is
`GET /Services/Ams/ServiceRequest/ById?data={"RequestId":1}` with `Authorization: cityworks <token>`:
token check, contract match and validation of request and answer, journal entry. Needs `wrk`
(Debian package) and `taskset`.
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BY_ID = "/Services/Ams/ServiceRequest/ById?data=" + urllib.parse.quote(json.dumps({"RequestId": 1}))


def start(mode: str) -> tuple[subprocess.Popen, str]:
    proc = subprocess.Popen(
        ["taskset", "-c", "0", sys.executable, str(ROOT / "benchmarks" / "serve.py"), mode],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    return proc, proc.stdout.readline().strip()


def token(url: str) -> str:
    data = urllib.parse.urlencode({"data": json.dumps({"LoginName": "harness", "Password": "harness"})}).encode()
    with urllib.request.urlopen(f"{url}/Services/General/Authentication/Authenticate", data, timeout=10) as resp:
        return json.load(resp)["Value"]["Token"]


def wrk(url: str, headers: list[str], duration: int, connections: int) -> dict[str, float]:
    cmd = ["taskset", "-c", "1", "wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency"]
    for h in headers:
        cmd += ["-H", h]
    out = subprocess.run([*cmd, url], capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    lat = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", out, re.M))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {
        "rps": rps,
        "p50_ms": to_ms(lat["50"]),
        "p99_ms": to_ms(lat["99"]),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def measure(mode: str, args: argparse.Namespace, latency_ms: float = 0) -> list[dict[str, float]]:
    proc, url = start(mode)
    try:
        headers = []
        if mode == "cityworks":
            headers.append(f"Authorization: cityworks {token(url)}")
            if latency_ms:
                fault = json.dumps({"kind": "latency", "latency_ms": latency_ms}).encode()
                req = urllib.request.Request(f"{url}/_sim/faults", fault, {"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=10).read()
        wrk(url + BY_ID, headers, 2, args.connections)  # warm-up
        return [wrk(url + BY_ID, headers, args.duration, args.connections) for _ in range(args.runs)]
    finally:
        proc.terminate()
        proc.wait(10)


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")
    bare = measure("bare", args)
    sim = measure("cityworks", args)
    slow = measure("cityworks", args, latency_ms=50)
    assert all(r["non2xx"] == 0 for r in bare + sim + slow), "a run had non-2xx answers"
    print(f"# hot path, {started}, {args.runs} runs x {args.duration}s, {args.connections} connections, medians")
    for name, runs in (
        ("bare aiohttp handler", bare),
        ("cityworks ById (kit)", sim),
        ("cityworks ById + 50 ms latency", slow),
    ):
        print(
            f"{name:<32} {median(runs, 'rps'):>9.0f} req/s  p50 {median(runs, 'p50_ms'):6.2f} ms"
            f"  p99 {median(runs, 'p99_ms'):6.2f} ms"
        )
    print(f"kit / bare throughput ratio: {median(sim, 'rps') / median(bare, 'rps'):.2f}")


if __name__ == "__main__":
    main()
