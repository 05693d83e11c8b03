"""The gateway against contracts/gateway.yaml with schemathesis' every check (`st run --checks all`: server
errors, status codes, content types, response schemas and headers, valid data accepted and invalid data
refused, undeclared methods a 405 with Allow, missing auth refused, deleted resources gone, and the stateful
phase following the contract's links), one API at a time, on a running gateway with a seeded city. A bounded
run of harness.contract_fuzz (which runs the long version, minutes per API, for RELIABILITY.md)."""

from __future__ import annotations

import subprocess

import pytest

from harness.contract_fuzz import APIS, seeded_gateway, st_command, st_env

EXAMPLES = 8  # per operation and phase, on top of the coverage phase's boundary cases (the long run: RELIABILITY.md)
SEED = 22  # a fixed seed keeps CI reproducible; the long runs take fresh ones


@pytest.mark.slow
@pytest.mark.req("H-REL-3")
@pytest.mark.parametrize("api", list(APIS))
def test_the_gateway_answers_by_its_contract_with_every_check(tmp_path, api):
    with seeded_gateway(f"sqlite:///{tmp_path / 'gateway.db'}") as seeded:
        options = [f"--max-examples={EXAMPLES}", f"--seed={SEED}", "--workers=1"]
        done = subprocess.run(
            st_command(seeded, api, options), env=st_env(seeded), capture_output=True, text=True, timeout=600
        )
    summary = done.stdout[done.stdout.find("=== FAILURES ===") :] if done.returncode else ""
    assert done.returncode == 0, (summary or done.stdout)[-12000:] + done.stderr[-2000:]
