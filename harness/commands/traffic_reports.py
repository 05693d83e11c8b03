"""What `proxy` and `verify-traffic` share: the traffic options the rules read, and writing the scorecard the
way `conformance` does (JUnit XML, JSON, HTML, and the scorecard on the terminal)."""

from __future__ import annotations

import argparse
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from conformance.writers import html, json_file, junit, terminal

from .common import EXIT_FAILED, EXIT_OK
from .reports import add_report_arguments

# --og-* options -> the names the rules read (harness/traffic/rules/writes.py), with the gateway's defaults.
OPENGOV_NAMES = {
    "requests_class": "cgRequestsClass",
    "requester_class": "cgRequestersClass",
    "comment_class": "cgRequests_cgCommentsClass",
    "id_field": "IntegrationIDField",
}


def add_traffic_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--version",
        dest="api_version",
        metavar="VERSION",
        help="Cityworks: the version behind the proxy (2013, 2014, 2015, 15.x, 23; default 23): which operations "
        "it serves and which auth scheme CW-VER-2 expects",
    )
    og = p.add_argument_group("OpenGov names (the integration's, if not the defaults)")
    for name, default in OPENGOV_NAMES.items():
        og.add_argument(f"--og-{name.replace('_', '-')}", dest=f"og_{name}", metavar="NAME", help=f"default {default}")
    add_report_arguments(p)
    p.add_argument("--report", metavar="DIR", help="write junit.xml, report.json, report.html (and the HAR) into DIR")


def options_of(args: argparse.Namespace) -> dict[str, str]:
    return {name: value for name in OPENGOV_NAMES if (value := getattr(args, f"og_{name}", None))}


class Terminal:
    """The writer's terminal (pytest's `section` and `line`) on standard output."""

    def section(self, title: str) -> None:
        print(f"\n{'=' * 8} {title} {'=' * max(4, 70 - len(title))}")

    def line(self, text: str, **markup: Any) -> None:
        print(text)


def write_reports(args: argparse.Namespace, model: Mapping[str, Any], name: str) -> list[str]:
    """Every report asked for; the paths written."""
    written: list[str] = []
    targets: list[tuple[str | None, Any]] = [
        (args.junit, lambda path: junit.write(path, model, name)),
        (args.json, lambda path: json_file.write(path, model)),
        (args.html, lambda path: html.write(path, model)),
    ]
    if args.report:
        out = Path(args.report)
        out.mkdir(parents=True, exist_ok=True)
        targets += [
            (str(out / "junit.xml"), lambda path: junit.write(path, model, name)),
            (str(out / "report.json"), lambda path: json_file.write(path, model)),
            (str(out / "report.html"), lambda path: html.write(path, model)),
        ]
    for path, write in targets:
        if path:
            write(path)
            written.append(path)
    return written


def finish(args: argparse.Namespace, model: Mapping[str, Any], name: str) -> int:
    out = Terminal()
    terminal.write(out, model)
    gaps = [c for c in model["checks"] if c["outcome"] == "not covered"]
    if gaps:  # what traffic would cover them: the conversation to have before judging again
        out.section("not covered: the traffic each rule needs")
        for c in gaps:
            out.line(f"{', '.join(c['requirements']):<22} {c['id'].split('::', 1)[-1]}: {c['message']}")
    for path in write_reports(args, model, name):
        print(f"wrote {path}")
    return EXIT_FAILED if model["totals"]["fail"] else EXIT_OK


def command_line(argv: Sequence[str]) -> str:
    return shlex.join(["civic-harness", *argv])
