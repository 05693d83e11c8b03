"""Checks skipped for want of input: what the target's owner could give (test accounts, a token, problem types
kept from the public) for them to run. One phrasing, so the scorecard can list them apart from checks that
cannot run against this target at all, with the certify option that would run them."""

from __future__ import annotations

PREFIX = "for want of input: "


def wanting(what: str, certify: str, pytest_option: str) -> str:
    """A skip reason: `what` is missing; certify's option `certify` (the suite's `pytest_option`) gives it."""
    return f"{PREFIX}{what}; give certify {certify} (the suite's {pytest_option}) to run it"


def is_wanting(message: str | None) -> bool:
    return bool(message) and str(message).startswith(PREFIX)
