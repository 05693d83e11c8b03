"""The gateway suite against a gateway running as its own process: one with production timings is refused
up front in one sentence naming the settings to change; `civic-harness gateway --under-test` passes."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .certify_runner import ROOT

TOKEN, KEY = "under-test-admin-token-000", "under-test-key-000"


@contextmanager
def gateway(tmp: Path, *options: str) -> Iterator[str]:
    env = {**os.environ, "CIVIC_HARNESS_ADMIN_TOKEN": TOKEN, "CIVIC_HARNESS_API_KEYS": KEY}
    argv = [sys.executable, "-m", "harness.cli", "gateway", "--port", "0", "--database-url", f"sqlite:///{tmp}/g.db"]
    proc = subprocess.Popen([*argv, *options], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline() if proc.stdout else ""
        assert line.startswith("listening on "), line
        yield line.split()[-1]
    finally:
        proc.terminate()
        proc.wait(30)


def suite(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CIVIC_HARNESS_GW_ADMIN_TOKEN": TOKEN}
    argv = [sys.executable, "-m", "harness.cli", "conformance", "--suite", "gateway", "--target", f"gateway={url}"]
    return subprocess.run(
        [*argv, "--gw-api-key", KEY, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.mark.req("H-CON-1")
def test_a_gateway_with_production_timings_is_refused_up_front(tmp_path):
    with gateway(tmp_path) as url:
        shown = requests.get(f"{url}/admin/v1/settings", headers={"Authorization": f"Bearer {TOKEN}"}, timeout=10)
        body = shown.json()
        assert body["under_test"]["ready"] is False and TOKEN not in shown.text and KEY not in shown.text
        assert body["settings"]["database_url"] == "sqlite", "the database by its kind only"
        result = suite(url)
    assert result.returncode == 2, result.stdout[-2000:]
    assert result.stderr.strip() == (
        "civic-harness: --target gateway: the gateway runs with production timings, which the suite's checks "
        "cannot wait for: start it with CIVIC_HARNESS_SCHEDULER_TICK_S=0 (now 5.0), "
        "CIVIC_HARNESS_OUTBOX_RETRY_BASE_S=0.001 (now 2.0), CIVIC_HARNESS_VENDOR_TIMEOUT_S=2 (now 15.0), "
        "or as `civic-harness gateway --under-test`"
    )


@pytest.mark.heavy
@pytest.mark.req("H-CON-1")
def test_the_suite_passes_against_a_gateway_under_test(tmp_path):
    with gateway(tmp_path, "--under-test") as url:
        result = suite(url, "-k", "status_map")  # a job run, a poll and a map through the admin API; all: README
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert re.search(r"=+ [1-9]\d* passed", result.stdout), result.stdout[-2000:]  # checks ran, none failed (exit 0)
