"""Simulator hot path vs a bare aiohttp handler, measured in one run (ratios, not absolute numbers).

    python benchmarks/hot_path.py [--runs 5] [--duration 8] [--connections 64]

Each server runs in its own process on core 0; wrk runs on core 1 (`taskset`). Runs against the bare handler
and the simulator alternate, and the server's own CPU time per request is reported beside the throughput
(it moves less than throughput when another tenant takes the machine). The Cityworks call is
`GET /Services/Ams/ServiceRequest/ById?data={"RequestId":1}` with `Authorization: cityworks <token>`:
token check, contract match and validation of request and answer, journal entry. Needs `wrk`
(Debian package) and `taskset`.
"""

from __future__ import annotations

import argparse
import json
import os
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
        "requests": int(re.search(r"(\d+) requests in", out).group(1)),
        "p50_ms": to_ms(lat["50"]),
        "p99_ms": to_ms(lat["99"]),
        "non2xx": int(errors.group(1)) if errors else 0,
    }


def to_ms(text: str) -> float:
    value, unit = re.fullmatch(r"([\d.]+)(\w+)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


class Server:
    """One server process on core 0, ready for wrk; `cpu_s()` is the CPU time it has used so far."""

    def __init__(self, mode: str, latency_ms: float = 0) -> None:
        self.proc, self.url = start(mode)
        self.headers: list[str] = []
        try:
            self._prepare(mode, latency_ms)
        except BaseException:
            self.stop()
            raise

    def _prepare(self, mode: str, latency_ms: float) -> None:
        if mode == "cityworks":
            self.headers.append(f"Authorization: cityworks {token(self.url)}")
            if latency_ms:
                fault = json.dumps({"kind": "latency", "latency_ms": latency_ms}).encode()
                req = urllib.request.Request(f"{self.url}/_sim/faults", fault, {"Content-Type": "application/json"})
                urllib.request.urlopen(req, timeout=10).read()

    def cpu_s(self) -> float:
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime

    def run(self, duration: int, connections: int) -> dict[str, float]:
        before = self.cpu_s()
        result = wrk(self.url + BY_ID, self.headers, duration, connections)
        result["cpu_us"] = (self.cpu_s() - before) / result["requests"] * 1e6
        return result

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)


def median(runs: list[dict[str, float]], key: str) -> float:
    return statistics.median(r[key] for r in runs)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--duration", type=int, default=8)
    parser.add_argument("--connections", type=int, default=64)
    args = parser.parse_args()
    started = time.strftime("%Y-%m-%d %H:%M")
    servers: list[Server] = []
    try:
        for mode, latency_ms in (("bare", 0), ("cityworks", 0), ("cityworks", 50)):
            servers.append(Server(mode, latency_ms))
        for server in servers:
            server.run(2, args.connections)  # warm-up
        # Bare and kit runs alternate, so the machine's drift (it is shared) falls on both alike.
        bare: list[dict[str, float]] = []
        sim: list[dict[str, float]] = []
        for _ in range(args.runs):
            bare.append(servers[0].run(args.duration, args.connections))
            sim.append(servers[1].run(args.duration, args.connections))
        slow = [servers[2].run(args.duration, args.connections) for _ in range(max(1, args.runs // 2))]
    finally:
        for server in servers:
            server.stop()
    assert all(r["non2xx"] == 0 for r in bare + sim + slow), "a run had non-2xx answers"
    print(f"# hot path, {started}, {args.runs} alternated runs x {args.duration}s, {args.connections} connections")
    print("# medians; cpu = the server's CPU time per request")
    for name, runs in (
        ("bare aiohttp handler", bare),
        ("cityworks ById (kit)", sim),
        ("cityworks ById + 50 ms latency", slow),
    ):
        print(
            f"{name:<32} {median(runs, 'rps'):>9.0f} req/s  p50 {median(runs, 'p50_ms'):6.2f} ms"
            f"  p99 {median(runs, 'p99_ms'):6.2f} ms  cpu {median(runs, 'cpu_us'):6.1f} us"
        )
    pairs = ", ".join(f"{k['rps'] / b['rps']:.2f}" for b, k in zip(bare, sim, strict=True))
    print(f"kit / bare throughput: {median(sim, 'rps') / median(bare, 'rps'):.2f} (each pair in order: {pairs})")


if __name__ == "__main__":
    main()
