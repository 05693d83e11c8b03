"""`civic-harness mutate NAME`: how many defects the provider suite NAME would catch. The bundled simulator
sits behind a mutating proxy that hides `/_sim`; for each mutation (generated from the contract, or written
for the vendor) certify runs against it: killed when it fails, survived when it passes."""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

NAME = "mutate"
HELP = "measure a provider suite's power: certify against the simulator with one defect at a time"
EPILOG = """\
exit codes:
  0  every written mutation was killed (and the score is at least --fail-under, when given)
  1  a written mutation survived (or the score is below --fail-under)
  2  a usage error, or certify does not pass against the unmutated simulator

Survivors are listed with the mutation and the exchange it changed. A survivor the suite declares not
observable from outside (conformance/providers/<suite>/unobservable.toml, with why) is left out of the score.
"""
DEFAULT_EXAMPLES = 3  # generated calls per operation and mode in each trial's contract checks


def add_arguments(p: argparse.ArgumentParser, argv: Sequence[str] = ()) -> None:
    p.add_argument("name", help="which provider suite: cityworks, opengov, arcgis or city-api")
    p.add_argument("--version", help="the vendor version the simulator speaks (Cityworks: 2013 ... 23; default 23)")
    p.add_argument("--jobs", type=int, default=2, help="trials at once, one process each (default 2)")
    p.add_argument(
        "--sample", type=int, metavar="N", help="N generated mutations drawn by --seed (every written one runs)"
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the sample (default 0)")
    p.add_argument("--only", action="append", default=[], metavar="PREFIX", help="mutations whose id starts so")
    p.add_argument("--examples", type=int, default=DEFAULT_EXAMPLES, help="certify --examples in each trial")
    p.add_argument("--fail-under", type=float, metavar="PERCENT", help="exit 1 when the score is lower")
    p.add_argument(
        "--record",
        action="store_true",
        help="write the score beside the suite: mutation-score.json (mutation-score-VERSION.json for another version)",
    )
    p.add_argument("--list", action="store_true", help="list the catalogue and run nothing")
    p.add_argument("--json", metavar="FILE", help="the run as JSON (civic-harness-mutation/1)")
    p.add_argument("--html", metavar="FILE", help="the run as a self-contained HTML page")


def run(args: argparse.Namespace, passthrough: Sequence[str] = (), argv: Sequence[str] = ()) -> int:
    from conformance import suites
    from conformance.writers import html, json_file

    from ..mutate import runner, score
    from ..mutate.catalogue import catalogue
    from ..mutate.vendors import vendor
    from .common import complain

    available = suites.provider_suites()
    if args.name not in available:
        return complain(f"no provider suite {args.name!r}; built: {', '.join(available)}")
    if args.jobs < 1 or args.examples < 1 or (args.sample is not None and args.sample < 0):
        return complain("--jobs and --examples must be at least 1, --sample at least 0")
    v = vendor(args.name)
    if args.list:
        for m in catalogue(v, args.version or v.default_version()):
            print(f"{m.id:<70} {m.source:<9} {', '.join(m.requirements):<20} {m.description}")
        return 0
    plan = runner.Plan(
        args.name,
        args.version,
        jobs=args.jobs,
        certify=("--examples", str(args.examples), "--no-shrink", "-x"),
        only=tuple(args.only),
        sample=args.sample,
        seed=args.seed,
    )
    folder = available[args.name]
    try:
        entries = score.declared(folder / "unobservable.toml")
        result = asyncio.run(runner.execute(plan, progress=lambda line: print(f"mutate: {line}", flush=True)))
    except (runner.BaselineFailed, ValueError) as exc:
        return complain(str(exc))
    command = shlex.join(["civic-harness", *(argv or sys.argv[1:])])
    now = datetime.now(UTC).isoformat(timespec="seconds")
    report = score.model(result, entries, date=now, harness=_harness_version(), command=command)
    print_summary(report)
    if args.json:
        json_file.write(args.json, report)
    if args.html:
        html.write_mutation(args.html, report)
    if args.record:
        own = args.version and args.version != v.default_version()
        path = folder / (f"mutation-score-{args.version}.json" if own else "mutation-score.json")
        path.write_text(json.dumps(score.record(report), indent=2) + "\n", encoding="utf-8")
        print(f"recorded: {path}")
    written = report["totals"]["written"]
    if written["survived"] + written["not reached"]:
        return 1
    overall = report["totals"]["all"]["score"]
    if args.fail_under is not None and (overall is None or overall < args.fail_under):
        return 1
    return 0


def _harness_version() -> str:
    from importlib import metadata

    try:
        return metadata.version("civic-harness")
    except metadata.PackageNotFoundError:
        return "unknown (not installed)"


def print_summary(report: dict) -> None:
    for source in ("all", "generated", "written"):
        t = report["totals"][source]
        print(
            f"{source:<10} {t['score'] if t['score'] is not None else '-':>6} %  {t['killed']} killed, "
            f"{t['preflight']} by pre-flight, {t['survived']} survived, {t['not reached']} not reached, "
            f"{t['unobservable']} unobservable, {t['void']} void, of {t['mutations']}"
        )
    for r in report["survivors"]:
        if r["changes"]:
            where = r["changes"][0]["call"]
        elif r["outcome"] == "not reached":
            where = "no check calls " + ", ".join(r["operations"][:3])
        else:  # called, but never in the case the defect changes (e.g. no error for error-as-success to turn)
            where = "never triggered: no check made a call this defect changes"
        print(f"  SURVIVED {r['id']} ({r['outcome']}): {r['description']}; {where}")
    for r in report["void"]:
        print(f"  VOID {r['id']}: {'; '.join(r['errors'])[:300]}")
    print(f"{report['suite']}: {report['duration_s']} s")
