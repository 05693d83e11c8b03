"""One trial: a fresh simulator, the mutating proxy in front of it with one mutation (none for the baseline),
and `civic-harness certify` against the proxy, in this process as certify itself runs its suite. The runner
keeps a few workers (`python -m harness.mutate.trial --serve`), each running trial after trial: every trial
starts its own simulator and its own pytest session, so they share nothing but imported code — which is
what a process per trial would spend most of its time loading.

The outcome: `killed` when certify exits 1, `survived` when it exits 0, `preflight` when it refused the
target before any check ran (exit 2), `void` when the mutation itself broke (a catalogue bug, never a kill)."""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
import traceback
from pathlib import Path
from typing import Any

from . import coverage
from .catalogue import catalogue
from .proxy import behind_proxy
from .tap import Tap
from .vendors import vendor

KILLED, SURVIVED, PREFLIGHT, VOID, NOT_REACHED = "killed", "survived", "preflight", "void", "not reached"
OUTCOMES = {0: SURVIVED, 1: KILLED, 2: PREFLIGHT}


def simulator_options(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = {**base, **extra}
    if "defects" in base and "defects" in extra:
        out["defects"] = frozenset(base["defects"]) | frozenset(extra["defects"])
    return out


def run(spec: dict[str, Any]) -> dict[str, Any]:
    """`spec`: vendor, version, mutation (an id, or None for the baseline), select (node ids or None),
    certify (extra certify arguments)."""
    from harness.bundled import simulator_config
    from harness.stack import ThreadedStack

    v = vendor(spec["vendor"])
    version = spec.get("version")
    mutation = None
    if spec.get("mutation"):
        mutation = next(m for m in catalogue(v, version) if m.id == spec["mutation"])
    options = simulator_options(v.simulator_options(version), mutation.simulator if mutation else {})
    tap = Tap(v, mutation, version)
    coverage.TAP = tap
    coverage.SELECT = frozenset(spec["select"]) if spec.get("select") is not None else None
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as tmp, ThreadedStack({v.name: simulator_config(v.name, **options)}) as stack:
        sim = stack.urls[v.name]
        report = Path(tmp) / "report.json"
        with behind_proxy(sim, tap=tap) as proxy:
            args = [*v.certify_args(version, sim), *(mutation.certify_args if mutation else ())]
            argv = ["certify", v.name, "--url", v.url_of(proxy), *args, *spec.get("certify", [])]
            code = certify([*argv, "--json", str(report), "-p", "harness.mutate.coverage"])
        failed = _failures(report)
    outcome = VOID if tap.errors else OUTCOMES.get(code, VOID)
    return {
        "mutation": spec.get("mutation"),
        "outcome": outcome,
        "exit": code,
        "duration_s": round(time.monotonic() - started, 2),
        "killed_by": failed,
        "changed": tap.changed,
        "changes": tap.changes,
        "errors": tap.errors[:5],
        "calls": {check: dict(ops) for check, ops in tap.calls.items()} if mutation is None else None,
    }


def certify(argv: list[str]) -> int:
    """`civic-harness certify ...` in this process, as the command line runs it."""
    import argparse

    from harness.commands import certify as command

    parser = argparse.ArgumentParser(prog="civic-harness certify")
    command.add_arguments(parser, argv)
    args, passthrough = parser.parse_known_args(argv[1:])
    return command.run(args, passthrough, argv)


def _failures(report: Path) -> dict[str, Any]:
    """The requirement IDs and checks that failed, from certify's JSON report."""
    if not report.exists():
        return {"requirements": [], "checks": []}
    model = json.loads(report.read_text())
    return {
        "requirements": [r["id"] for r in model["requirements"] if r["status"] == "fail"],
        "checks": [{"id": c["id"], "message": c["message"]} for c in model["checks"] if c["outcome"] == "failed"][:5],
    }


def run_file(spec_path: str) -> None:
    """Run the trial a spec file describes; its output goes to the spec's `log`, its result to `out`."""
    spec = json.loads(Path(spec_path).read_text())
    sys.stdout.flush()
    sys.stderr.flush()
    saved = os.dup(1), os.dup(2)
    with open(spec["log"], "wb") as log:
        os.dup2(log.fileno(), 1)
        os.dup2(log.fileno(), 2)
        try:
            result = run(spec)
        except Exception as exc:  # the trial's own failure (not the suite's): void, with why
            traceback.print_exc()
            result = {"mutation": spec.get("mutation"), "outcome": VOID, "errors": [f"{exc.__class__.__name__}: {exc}"]}
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            os.close(saved[0])
            os.close(saved[1])
    Path(spec["out"]).write_text(json.dumps(result, indent=1), encoding="utf-8")


def main(argv: list[str]) -> int:
    """`--serve`: read spec file paths from stdin, one a line; answer `done` on stdout after each."""
    if argv[:1] != ["--serve"]:
        run_file(argv[0])
        return 0
    for line in sys.stdin:
        run_file(line.strip())
        print("done", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
