"""The gateway conformance suite, run as CI runs it (`civic-harness conformance --suite gateway`) against the
bundled reference gateway, on a SQLite file and on the local PostgreSQL: the same checks pass on both."""

from __future__ import annotations

import subprocess
import sys

import pytest

from .certify_runner import ROOT, VERDICT

EXPECTED = {
    "AGY-1", "AGY-2", "AGY-3", "AGY-5", "GEO-3", "GEO-4", "OG-RQR-3", "OG-RQR-4", "CW-CAT-1", "CW-QA-1",
    "CW-QA-2", "CW-QA-3", "CW-QA-4", "CW-SUB-1", "CW-SUB-2", "CW-COM-1", "CW-ICM-1", "CW-UPD-1", "CW-IMG-1",
    "CW-VER-1", "CW-VER-2", "CW-COM-2", "AGY-4", "CW-IMP-1", "OG-CAT-1", "OG-REQ-1", "GEO-1", "GEO-2", "OG-RQR-1",
    "OG-RQR-2", "OG-COM-1", "OG-UPD-1", "OG-UPD-2", "OG-UPD-3", "OG-COM-2", "OG-REQ-2", "CW-MODE-1",
    *(f"WID-{n}" for n in range(1, 17)),
}  # fmt: skip


def run_suite(*args: str) -> tuple[int, str, dict[str, str]]:
    result = subprocess.run(
        [sys.executable, "-m", "harness.cli", "conformance", "--suite", "gateway", "-q", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result.returncode, result.stdout + result.stderr, dict(VERDICT.findall(result.stdout))


@pytest.mark.slow
@pytest.mark.req("H-CON-1")
@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_the_gateway_suite_passes_on_both_databases(backend, request):
    # SQLite: two xdist workers, each with its own bundled stack, the verdicts gathered by the controller;
    # PostgreSQL: one database every worker would share, so one process (what --workers auto picks).
    args = ["--workers", "2"]
    if backend == "postgres":
        args = [f"--gw-database-url={request.getfixturevalue('postgres_url')}"]
    code, output, verdicts = run_suite(*args)
    assert code == 0, output[-3000:]
    assert ("2 workers" if backend == "sqlite" else "1 worker") in output, output[:500]
    assert {rid for rid, verdict in verdicts.items() if verdict == "PASS"} >= EXPECTED, output[-3000:]
    assert "FAIL" not in verdicts.values()
