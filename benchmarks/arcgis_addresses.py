"""A city's worth of address points in the ArcGIS simulator: how long 500,000 OpenAddresses points take to
load, and what reverse geocoding costs with them, against a one-point file in the same run (an empty file
is refused). The simulator runs as `civic-harness sim arcgis` (a city locator, so every answer comes from
the file) on core 0; an aiohttp client with a few connections drives it from core 1 with random points
near loaded ones.

    python benchmarks/arcgis_addresses.py [--points 500000] [--requests 5000] [--connections 8] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from simulators.arcgis import addresses  # noqa: E402

BOX = (-122.75, 45.45, -122.55, 45.60)  # a city-sized box (Portland, Oregon), far from the demo city
PATH = "/server/rest/services/Locators/City/GeocodeServer/reverseGeocode"


def near(lon: float, lat: float, rng: random.Random) -> tuple[float, float]:
    return lon + rng.uniform(-0.0004, 0.0004), lat + rng.uniform(-0.0004, 0.0004)  # within ~50 m


def write_csv(path: Path, n: int, rng: random.Random, keep: int = 0) -> list[tuple[float, float]]:
    """Writes n points; returns `keep` of them, chosen at random (reservoir sampling)."""
    streets = [f"{name} {kind}" for name in ("Oak", "Elm", "Main", "Hawthorne", "Division", "Burnside", "Alder")
               for kind in ("St", "Ave", "Blvd")]  # fmt: skip
    kept: list[tuple[float, float]] = []
    with path.open("w") as f:
        f.write("LON,LAT,NUMBER,STREET,UNIT,CITY,DISTRICT,REGION,POSTCODE,ID,HASH\n")
        for i in range(n):
            lon, lat = rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3])
            street = streets[i % len(streets)]
            f.write(f"{lon:.7f},{lat:.7f},{i + 1},{street},,Portland,,OR,97{i % 300:03d},,{i:016x}\n")
            if i < keep:
                kept.append((round(lon, 7), round(lat, 7)))
            elif keep and (j := rng.randrange(i + 1)) < keep:
                kept[j] = (round(lon, 7), round(lat, 7))
    return kept


def pin(core: int) -> list[str]:
    return ["taskset", "-c", str(core)] if shutil.which("taskset") else []


async def drive(url: str, points: list[tuple[float, float]], connections: int) -> tuple[list[float], float]:
    """(latencies, lookups/s answered with an address)."""
    latencies: list[float] = []
    found = 0

    async def worker(session: aiohttp.ClientSession, mine: list[tuple[float, float]]) -> None:
        nonlocal found
        for lon, lat in mine:
            started = time.perf_counter()
            async with session.get(url, params={"location": f"{lon},{lat}", "f": "json"}) as resp:
                body = await resp.json()
            latencies.append(time.perf_counter() - started)
            found += "address" in body

    async with aiohttp.ClientSession() as session:
        await worker(session, points[:50])  # warm up: the first answer waits for the towns to be read
        latencies.clear()
        found = 0
        started = time.perf_counter()
        await asyncio.gather(*(worker(session, points[50 + i :: connections]) for i in range(connections)))
        elapsed = time.perf_counter() - started
    if found < len(latencies):
        raise RuntimeError(f"only {found} of {len(latencies)} lookups found an address")
    return latencies, found / elapsed


def serve(path: Path) -> tuple[subprocess.Popen, str, float]:
    started = time.perf_counter()
    proc = subprocess.Popen(
        [*pin(0), sys.executable, "-m", "harness.cli", "sim", "arcgis", "--instance", "server",
         "--service", "Locators/City", "--addresses", str(path), "--no-response-validation"],
        cwd=ROOT, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    line = proc.stdout.readline()
    match = re.fullmatch(r"listening on (http://\S+)\n", line)
    if not match:
        proc.kill()
        raise RuntimeError(f"the simulator did not start: {line!r}")
    return proc, match.group(1), time.perf_counter() - started


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--points", type=int, default=500_000)
    parser.add_argument("--requests", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    rng = random.Random(21)
    with tempfile.TemporaryDirectory(prefix="arcgis-bench-") as tmp:
        big, one = Path(tmp) / "city.csv", Path(tmp) / "one.csv"
        count = args.requests + 50
        t = time.perf_counter()
        sample = write_csv(big, args.points, rng, keep=count)
        (only,) = write_csv(one, 1, rng, keep=1)
        print(f"# ArcGIS address file, {time.strftime('%Y-%m-%d %H:%M')}")
        print(f"wrote {args.points:,} points ({big.stat().st_size / 1e6:.0f} MB) in {time.perf_counter() - t:.1f} s")
        # Every lookup answers an address in both cases: around the one point, or near the city's points.
        cases = {
            "one-point file": (one, [near(*only, rng) for _ in range(count)]),
            f"{args.points:,}-point file": (big, [near(*p, rng) for p in sample]),
        }
        results: dict[str, list[float]] = {name: [] for name in cases}
        for round_ in range(args.rounds):  # alternating, so drift of the shared host hits both alike
            for name, (path, points) in cases.items():
                proc, url, ready = serve(path)
                try:
                    latencies, rate = asyncio.run(drive(url + PATH, points, args.connections))
                finally:
                    proc.terminate()
                    proc.wait(10)
                results[name].append(rate)
                print(
                    f"round {round_ + 1}, {name}: ready in {ready:.1f} s; {rate:,.0f} lookups/s, "
                    f"p50 {percentile(latencies, 50):.2f} ms, p90 {percentile(latencies, 90):.2f} ms, "
                    f"p99 {percentile(latencies, 99):.2f} ms"
                )
        small, large = results.values()
        paired = sorted(b / a for a, b in zip(small, large, strict=True))
        print(
            f"lookups/s, {args.points:,} points to one, per round: {', '.join(f'{r:.2f}x' for r in paired)}; "
            f"median {statistics.median(paired):.2f}x; ratio of medians "
            f"{statistics.median(large) / statistics.median(small):.2f}x"
        )
        # In this process, last: a client holding the index would slow the HTTP rounds with its collections.
        t = time.perf_counter()
        index = addresses.load(str(big))
        print(f"load in-process (read, grid, text index): {time.perf_counter() - t:.2f} s for {len(index):,}")
        t, n = time.perf_counter(), 20_000
        for _ in range(n):
            index.nearest(rng.uniform(BOX[0], BOX[2]), rng.uniform(BOX[1], BOX[3]), 150.0)
        print(f"index lookup in-process: {(time.perf_counter() - t) / n * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
