"""The report options `conformance` and `certify` share."""

from __future__ import annotations

import argparse


def add_report_arguments(p: argparse.ArgumentParser) -> None:
    reports = p.add_argument_group("reports")
    reports.add_argument(
        "--junit", metavar="FILE", help="JUnit XML: one testcase per check, requirement IDs as properties"
    )
    reports.add_argument("--json", metavar="FILE", help="the run as JSON: verdict per requirement ID, every check")
    reports.add_argument(
        "--html", metavar="FILE", help="a self-contained scorecard page with the evidence of every failure"
    )
