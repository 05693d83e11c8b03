"""Comment rules (OG-UPD-2) and integration settings checks."""

from __future__ import annotations

from collections.abc import Mapping

from . import DomainError

OPERATORS = ("=", "!=", ">", ">=", "<", "<=", "contains")
JOBS = ("category_sync", "question_sync", "import", "status_poll", "reconcile")
MIN_INTERVAL_S = 60


def check_integration(
    vendor: str, version: str | None, base_url: str | None, versions: Mapping[str, tuple[str, ...]]
) -> None:
    """`versions`: each vendor the gateway knows, with its versions (gateway.vendors.registry.versions())."""
    if vendor not in versions:
        raise DomainError(f"vendor must be one of {', '.join(versions)}", "vendor")
    if not versions[vendor]:
        return  # "none": the gateway keeps the reports
    if version not in versions[vendor]:
        raise DomainError(f"{vendor} versions: {', '.join(versions[vendor])}", "version")
    if not base_url:
        raise DomainError(f"a {vendor} integration needs its base_url", "base_url")


def check_intervals(intervals: Mapping[str, int]) -> None:
    for job, seconds in intervals.items():
        if job not in JOBS:
            raise DomainError(f"unknown job {job!r}; jobs: {', '.join(JOBS)}", f"intervals.{job}")
        if seconds < MIN_INTERVAL_S:
            raise DomainError(f"{job} runs at most every {MIN_INTERVAL_S} s", f"intervals.{job}")


def check_rule(operator: str, value: str) -> None:
    if operator not in OPERATORS:
        raise DomainError(f"operator must be one of {' '.join(OPERATORS)}", "operator")
    if operator in (">", ">=", "<", "<=") and not _is_number(value):
        raise DomainError("an ordering operator compares numbers: value must be a number", "value")


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def rule_holds(operator: str, expected: str, actual: object) -> bool:
    """Whether a vendor field's value meets a comment rule (OG-UPD-2). Ordering operators compare numbers;
    `=` and `!=` compare numbers when both sides are numbers, else text (case-insensitive); `contains` is a
    case-insensitive substring test. A missing value meets nothing but `!=`."""
    if actual is None:
        return operator == "!="
    text = str(actual).strip()
    if isinstance(actual, bool):
        text = "true" if actual else "false"
    if operator == "contains":
        return expected.lower() in text.lower()
    both_numbers = _is_number(text) and _is_number(expected)
    if operator in (">", ">=", "<", "<="):
        if not both_numbers:
            return False
        a, b = float(text), float(expected)
        return {">": a > b, ">=": a >= b, "<": a < b, "<=": a <= b}[operator]
    equal = float(text) == float(expected) if both_numbers else text.lower() == expected.lower()
    return equal if operator == "=" else not equal
