"""`civic-harness load` (H-LOAD-1): each profile runs briefly against the bundled stack with real locust, and
the exit code follows the thresholds — one that must hold holds, one that cannot hold fails the run."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest

from loadtests.thresholds import AGGREGATED, Row, Thresholds, judge, read_stats

ROOT = Path(__file__).resolve().parent.parent


def load(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", "load", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


@pytest.mark.req("H-LOAD-1")
def test_citizens_profile_passes_generous_thresholds_and_fails_an_impossible_one(tmp_path):
    thresholds = tmp_path / "limits.toml"
    thresholds.write_text('fail_ratio = 0.05\n[p95]\n"*" = 5000\n"GET /services" = 3000\n')
    run = load(
        "citizens", "--users", "4", "--spawn-rate", "4", "--run-time", "5s", "--thresholds", str(thresholds),
        "--csv", str(tmp_path / "run"), "--html", str(tmp_path / "run.html"),
        "--gateway-threshold", "outbox_oldest_max=120",
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    # beside locust's report, the gateway's own time series (H-OBS-4)
    series = json.loads((tmp_path / "run.gateway.json").read_text())
    assert series["samples"] >= 3 and series["thresholds"] == {"outbox_oldest_max": 120} and not series["broken"]
    assert "<svg" in (tmp_path / "run.gateway.html").read_text()
    rows = {r.name: r for r in read_stats(tmp_path / "run_stats.csv")}
    assert {"GET /services", "POST /requests", "GET /requests"} <= set(rows), sorted(rows)
    assert rows[AGGREGATED].requests > 10 and rows[AGGREGATED].failures == 0
    assert (tmp_path / "run.html").stat().st_size > 1000, "locust's own HTML report"
    impossible = load("citizens", "--users", "2", "--run-time", "4s", "--p50", "GET /services=0.001")
    assert impossible.returncode == 1, impossible.stdout[-3000:] + impossible.stderr[-3000:]
    assert "THRESHOLD BROKEN  p50 GET /services" in impossible.stdout


@pytest.mark.slow
@pytest.mark.req("H-OBS-4")
def test_a_gateway_threshold_alone_decides_the_exit_code(tmp_path):
    """Every request threshold holds; the gateway's report-to-vendor latency cannot: exit 1, said why."""
    run = load(
        "citizens", "--users", "4", "--spawn-rate", "4", "--run-time", "8s", "--max-fail-ratio", "0.05",
        "--gateway-threshold", "outbox_lag_p50=0.001", "--plots", str(tmp_path / "gw.html"),
    )  # fmt: skip
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    assert "THRESHOLD BROKEN  outbox_lag_p50: " in run.stdout
    assert json.loads((tmp_path / "gw.json").read_text())["broken"][0].startswith("outbox_lag_p50: ")


@pytest.mark.req("H-LOAD-1")
def test_vendor_api_profile_runs_against_both_vendor_simulators(tmp_path):
    run = load("vendor-api", "--users", "4", "--run-time", "4s", "--max-fail-ratio", "0", "--csv", str(tmp_path / "v"))
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    names = {r.name for r in read_stats(tmp_path / "v_stats.csv")}
    assert {"POST Authenticate", "POST Problems"} <= names and any(n.startswith("GET requests") for n in names), names


@pytest.mark.req("H-LOAD-1")
def test_sync_profile_runs_on_two_locust_workers(tmp_path):
    run = load(
        "sync", "--users", "4", "--run-time", "6s", "--backlog", "2000", "--workers", "2", "--max-fail-ratio", "0",
        "--csv", str(tmp_path / "s"),
    )  # fmt: skip
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    names = {r.name for r in read_stats(tmp_path / "s_stats.csv")}
    assert "JOB category_sync" in names and "GET /services" in names, names


def test_usage_errors_exit_2():
    assert load("no-such-profile").returncode == 2
    assert load("citizens", "--p95", "no-equals-sign").returncode == 2


def rows(*specs: tuple[str, int, int, float]) -> list[Row]:
    return [Row(name, n, fails, {"50%": p, "95%": p, "99%": p}) for name, n, fails, p in specs]


def test_judging_thresholds():
    limits = Thresholds(fail_ratio=0.1)
    limits.add_option("p95", "GET /a=100")
    limits.add_option("p99", "*=500")
    ok = rows(("GET /a", 10, 0, 90.0), ("GET /b", 10, 1, 400.0), (AGGREGATED, 20, 1, 400.0))
    assert judge(limits, ok) == []
    slow = rows(("GET /a", 10, 0, 120.0), (AGGREGATED, 10, 5, 600.0))
    broken = judge(limits, slow)
    assert any("failure ratio" in b for b in broken) and any("p95 GET /a" in b for b in broken)
    assert any("p99 Aggregated" in b for b in broken)
    assert judge(limits, rows((AGGREGATED, 0, 0, 0.0))) == ["no request was made: the run proves nothing"]
    assert any("no such request" in b for b in judge(limits, rows(("GET /b", 1, 0, 1.0), (AGGREGATED, 1, 0, 1.0))))
    with pytest.raises(ValueError):
        limits.add_option("p95", "GET /a")
    with pytest.raises(ValueError):
        limits.add("p42", "x", 1)


def test_reading_locust_csv(tmp_path):
    path = tmp_path / "x_stats.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["Type", "Name", "Request Count", "Failure Count", "50%", "95%", "99%"])
        w.writerow(["GET", "GET /a", "3", "1", "10", "20", "N/A"])
        w.writerow(["", "Aggregated", "3", "1", "10", "20", "30"])
    found = read_stats(path)
    assert found[0] == Row("GET /a", 3, 1, {"50%": 10.0, "95%": 20.0, "99%": 0.0})
    assert found[1].name == AGGREGATED
