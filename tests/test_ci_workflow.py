"""The CI workflow a city copies (docs/ci/certify.yml), checked as far as this machine allows: it is valid
YAML with a trigger, a time limit, the harness pinned to a release and checked out beside the caller's code,
Python with a cache, a JUnit reporter and the password from a secret; and every civic-harness command it runs
is one the CLI accepts as written."""

from __future__ import annotations

import shlex
from pathlib import Path

import yaml

from harness.cli import build_parser, did_you_mean

WORKFLOW = Path(__file__).resolve().parents[1] / "docs" / "ci" / "certify.yml"


def test_the_workflow_has_what_a_ci_engineer_expects():
    flow = yaml.safe_load(WORKFLOW.read_text())
    triggers = flow[True] if True in flow else flow["on"]  # YAML 1.1 reads a bare `on` as true
    assert {"workflow_dispatch", "schedule"} <= set(triggers)
    (job,) = flow["jobs"].values()
    assert 0 < job["timeout-minutes"] <= 60
    checkout = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/checkout"))
    assert checkout["with"]["ref"].startswith("v") and checkout["with"]["path"], "pinned, beside the caller's code"
    python = next(s for s in job["steps"] if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["cache"] == "pip" and "requirements.lock" in python["with"]["cache-dependency-path"]
    assert any("junit" in s.get("uses", "") for s in job["steps"])
    certify = next(s for s in job["steps"] if "certify" in s.get("run", ""))
    assert "secrets." in certify["env"]["CIVIC_HARNESS_CW_PASSWORD"] and "--password" not in certify["run"]


def test_every_command_it_runs_is_one_the_cli_accepts():
    flow = yaml.safe_load(WORKFLOW.read_text())
    commands = [
        shlex.split(part.strip())
        for step in next(iter(flow["jobs"].values()))["steps"]
        for part in step.get("run", "").split("&&")
        if ".venv/bin/civic-harness" in part
    ]
    assert len(commands) == 2
    for words in commands:
        argv = words[words.index(".venv/bin/civic-harness") + 1 :]
        if argv == ["--version"]:
            continue
        parser = build_parser(argv)
        args, rest = parser.parse_known_args(argv)
        assert rest == [] and did_you_mean(args.parsers[args.command], args.command, rest) is None
        assert args.command == "certify" and args.junit and args.json and args.html
