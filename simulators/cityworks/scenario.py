"""A scenario's Cityworks section (contracts/scenario.schema.json `$defs/cityworks`): users, problem types with
their public flags and QA (answer formats, branching), work-order templates and service requests; and what a
timeline needs: the request a client created, the calls that read requests back, tokens expiring."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from simulators.kit.scenario import matches
from simulators.kit.seeding import EPOCH
from simulators.kit.spec import ScenarioSupport

from .auth import TokenSigner
from .dialect import cw_date
from .state import ACTIVITY_SR, CityworksState

# Listed records carry a fixed date, not the wall clock, so the same file gives the same state. Like the
# generated ones (seed.py), it is local text whatever the site's zone: a zone changes no record.
LISTED_DATE = cw_date(EPOCH.replace(tzinfo=None))
POLLS = frozenset(
    op.lower()
    for op in (
        "Ams_ServiceRequest_ById",
        "Ams_ServiceRequest_ById_get",
        "Ams_ServiceRequest_ByIds",
        "Ams_ServiceRequest_ByIds_get",
    )
)


def apply(state: CityworksState, section: Mapping[str, Any]) -> None:
    """The listed configuration and records, after the generated ones. The site's zone is the section's
    already (config_from, a live setting)."""
    if "statuses" in section:
        _statuses(state, section["statuses"])
    with state.seeding():
        for index, problem in enumerate(section.get("problems", ())):
            _problem(state, problem, index)
        for template in section.get("templates", ()):
            state.add_template(
                template["WOTemplateId"],
                template["Description"],
                template.get("ApplyToEntity", "STREET"),
                "MAINT",
                public=template.get("public", True),
            )
        codes = {p["ProblemCode"]: sid for sid, p in state.problems.items()}
        clerk = next(iter(state.employees.values()))
        for i, listed in enumerate(section.get("requests", ())):
            fields = {k: v for k, v in listed.items() if k not in ("ProblemCode", "comments")}
            if listed["ProblemCode"] not in codes:
                raise ValueError(f"requests[{i}].ProblemCode: no problem type {listed['ProblemCode']!r}")
            sr = state.create_request({**fields, "ProblemSid": codes[listed["ProblemCode"]]}, clerk, when=LISTED_DATE)
            for text in listed.get("comments", ()):
                state.add_comment(ACTIVITY_SR, sr["RequestId"], text, clerk, when=LISTED_DATE)


def _statuses(state: CityworksState, listed: list[dict[str, str]]) -> None:
    """A city's own request statuses. The simulator's rules set OPEN (create), CLOSED and CANCEL, and generated
    records carry the default mix: those must stay listed."""
    codes = [s["Code"] for s in listed]
    needed = {"OPEN", "CLOSED", "CANCEL"} | {sr["Status"] for sr in state.requests.values()}
    missing = sorted(needed - set(codes))
    if missing:
        raise ValueError(f"statuses: must list {', '.join(missing)} (set by the simulator's rules or its records)")
    if len(set(codes)) != len(codes):
        raise ValueError("statuses: a Code is listed twice")
    state.statuses = [{"Code": s["Code"], "CodeDesc": s.get("CodeDesc", s["Code"])} for s in listed]
    state.status_codes = frozenset(codes)


def _problem(state: CityworksState, listed: Mapping[str, Any], index: int) -> None:
    problem = state.add_problem(listed["ProblemCode"], listed["Description"], public=listed.get("public", True))
    sid = problem["ProblemSid"]
    questions = listed.get("questions", ())
    for q in questions:
        state.add_question(sid, q["text"], [(a.get("text", ""), a["format"]) for a in q["answers"]])
    qa = state.qa[sid]
    ids = [q["QuestionId"] for q in qa["Questions"]]
    answers = iter(qa["Answers"])
    for n, q in enumerate(questions, start=1):
        for k, (given, stored) in enumerate(zip(q["answers"], answers, strict=False)):
            if "next" in given:
                if not n < given["next"] <= len(ids):
                    raise ValueError(
                        f"problems[{index}].questions[{n - 1}].answers[{k}].next: {given['next']} must name a "
                        f"later question of this problem type ({n + 1}..{len(ids)})"
                    )
                stored["NextQuestionId"] = ids[given["next"] - 1]
                qa["BranchingModel"] = True


def config_from(section: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if section.get("users"):
        out["users"] = tuple((u["login"], u["password"]) for u in section["users"])
    if "timezone" in section:  # the site's zone: Cityworks writes its local time
        out["timezone"] = section["timezone"]
    return out


def find_created(state: CityworksState, fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest request with these fields (asked after each client create, so it is the one just made)."""
    for rid in reversed(state.requests):
        if matches(state.requests[rid], fields):
            return {"RequestId": rid}
    return None


def expire_sessions(state: CityworksState) -> None:
    state.signer = TokenSigner(state.clock)  # a new key: every token issued so far fails to verify, as an expired one


SUPPORT = ScenarioSupport(
    apply=apply,
    config_from=config_from,
    live_settings=frozenset(("timezone",)),
    find_created=find_created,
    creates=frozenset(("ams_servicerequest_create", "ams_servicerequest_create_get")),
    polls=POLLS,
    expire_sessions=expire_sessions,
)
