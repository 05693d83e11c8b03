"""The traffic rules, each a pure function over the recorded exchanges (model.py): by the contract (contract.py),
by what a gateway must do when it writes to a vendor (delivery.py), by pacing (pacing.py) and by the version's
auth (auth.py)."""

from __future__ import annotations

from collections.abc import Sequence

from ..analysis import Profile
from ..exchange import Exchange
from . import auth, contract, delivery, pacing
from .model import FAILED, NOT_COVERED, PASSED, Finding, Rule, apply

RULES: tuple[Rule, ...] = (*contract.RULES, *delivery.RULES, *pacing.RULES, *auth.RULES)


def rules_for(kind: str) -> list[Rule]:
    return [r for r in RULES if r.applies(kind)]


def judge(profile: Profile, exchanges: Sequence[Exchange]) -> list[Finding]:
    """Every rule for the profile's API over the exchanges (analysed, in the order they started)."""
    ordered = sorted(exchanges, key=lambda ex: (ex.started, ex.id))
    return [apply(rule, profile, ordered) for rule in rules_for(profile.kind)]


__all__ = ["FAILED", "NOT_COVERED", "PASSED", "RULES", "Finding", "Rule", "judge", "rules_for"]
