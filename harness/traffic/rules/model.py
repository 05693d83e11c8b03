"""What a traffic rule is: a pure function over the recorded exchanges, the requirement IDs it proves for each
API kind, and what traffic it needs. A rule that found nothing to judge says NOT COVERED, never passed."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

from ..analysis import Profile
from ..exchange import Exchange

PASSED, FAILED, NOT_COVERED = "passed", "failed", "not covered"
MAX_EVIDENCE = 20  # exchanges named per finding: enough to find the rest
log = logging.getLogger("civic_harness.traffic")


@dataclass(frozen=True, slots=True)
class Judgement:
    """What a rule's function returns."""

    outcome: str
    message: str
    evidence: tuple[int, ...] = ()  # the ids of the exchanges that show it
    judged: int = 0  # how many exchanges (or calls, records) the rule had to judge


def passed(message: str, judged: int, evidence: Sequence[int] = ()) -> Judgement:
    return Judgement(PASSED, message, tuple(evidence)[:MAX_EVIDENCE], judged)


def failed(message: str, judged: int, evidence: Sequence[int]) -> Judgement:
    return Judgement(FAILED, message, tuple(dict.fromkeys(evidence))[:MAX_EVIDENCE], judged)


def not_covered(needs: str) -> Judgement:
    return Judgement(NOT_COVERED, f"no traffic to judge: {needs}")


@dataclass(frozen=True, slots=True)
class Rule:
    name: str
    side: str  # "client" (what the client sent) or "server" (what the API answered)
    requirements: Mapping[str, tuple[str, ...]]  # API kind -> the IDs this rule proves there
    needs: str  # the traffic it needs, in words
    judge: Callable[[Profile, Sequence[Exchange]], Judgement] = field(repr=False)

    def applies(self, kind: str) -> bool:
        return kind in self.requirements


@dataclass(frozen=True, slots=True)
class Finding:
    rule: str
    side: str
    requirements: tuple[str, ...]
    needs: str
    outcome: str
    message: str
    evidence: tuple[int, ...]
    judged: int


def apply(rule: Rule, profile: Profile, exchanges: Sequence[Exchange]) -> Finding:
    try:
        j = rule.judge(profile, exchanges)
    except Exception as exc:  # a rule's bug is a gap in the verdicts, never a pass, and never costs the others
        log.exception("traffic rule %s failed", rule.name)
        j = Judgement(NOT_COVERED, f"the rule could not judge this traffic ({type(exc).__name__}: {exc})"[:300])
    return Finding(
        rule.name, rule.side, rule.requirements[profile.kind], rule.needs, j.outcome, j.message, j.evidence, j.judged
    )
