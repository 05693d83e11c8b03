"""Checks skipped for want of input: what the target's owner could give (test accounts, a token, problem types
kept from the public) for them to run. One phrasing, so the scorecard can list them apart from checks that
cannot run against this target at all, with the certify option that would run them."""

from __future__ import annotations

import re

PREFIX = "for want of input: "


def wanting(what: str, certify: str, pytest_option: str) -> str:
    """A skip reason: `what` is missing; certify's option `certify` (the suite's `pytest_option`) gives it."""
    return f"{PREFIX}{what}; give certify {certify} (the suite's {pytest_option}) to run it"


def is_wanting(message: str | None) -> bool:
    return bool(message) and str(message).startswith(PREFIX)


# A check that needs a provider state (conformance/providers/states.py) on a target without a control plane:
# skipped with this phrasing, so the scorecard can name the states the run could not play and the IDs they held.
STATE_PREFIX = "needs the provider state "
_STATE = re.compile(r"^needs the provider state '([^']+)'")


def needs_state(name: str, why: str) -> str:
    """A skip reason: the check needs the provider state `name`, which this target cannot play (`why`, said
    after the name)."""
    return f"{STATE_PREFIX}{name!r}{why}"


def state_of(message: str | None) -> str | None:
    """The provider state a skip reason says the check needed, or None."""
    found = _STATE.match(str(message or ""))
    return found.group(1) if found else None
