"""The Cityworks simulator's answers: the QA seed carries Cityworks' own answer formats (a Yes/No question is a
YES answer and a NO answer), and with the inferred `check_answer_values` switch Create refuses a value that does
not fit its format, as the vendor's own InvalidField error; without it any value is stored as text."""

from __future__ import annotations

import pytest

from simulators.cityworks import SPEC, CityworksConfig
from simulators.cityworks.dialect import CityworksError
from simulators.cityworks.state import CityworksState

KNOWN = {"THISTEXT", "DATE", "YES", "NO", "UNKNOWN", "FREETEXT", "CHECKED", "UNCHECK", "NUMERIC", "CALCULATED"}


def backend(check: bool) -> tuple[CityworksState, dict[str, int]]:
    state = CityworksState(CityworksConfig(check_answer_values=check))
    sid = state.add_problem("POTHOLE", "Pothole", public=True)["ProblemSid"]
    ids = {"problem": sid}
    questions = (("Hurt?", [("Yes", "YES"), ("No", "NO")]), ("Days", [("", "NUMERIC")]), ("Since", [("", "DATE")]))
    for text, answers in questions:
        qid = state.add_question(sid, text, answers)["QuestionId"]
        for a in state.qa[sid]["Answers"]:
            if a["QuestionId"] == qid:
                ids[a["Answer"] or text] = a["AnswerId"]
    return state, ids


def create(state: CityworksState, sid: int, answers: list[dict]) -> dict:
    clerk = next(iter(state.employees.values()))
    return state.create_request({"ProblemSid": sid, "Answers": answers}, clerk)


@pytest.mark.req("CW-QA-1")
def test_the_seed_speaks_cityworks_answer_formats():
    state = CityworksState(CityworksConfig())
    SPEC.seed(state, 3, {**CityworksState.seed_sizes, "problems": 60, "requests": 50})
    formats = {a["AnswerFormat"] for qa in state.qa.values() for a in qa["Answers"]}
    assert formats <= KNOWN and {"YES", "NO", "THISTEXT", "FREETEXT", "NUMERIC", "DATE"} <= formats
    for qa in state.qa.values():
        for question in qa["Questions"]:
            mine = [a["AnswerFormat"] for a in qa["Answers"] if a["QuestionId"] == question["QuestionId"]]
            if "YES" in mine:
                assert "NO" in mine, "a Yes/No question has both answers"


@pytest.mark.req("CW-SUB-1")
def test_answers_that_do_not_fit_their_format_are_refused_only_with_the_switch():
    state, ids = backend(check=True)
    sid = ids["problem"]
    fine = create(state, sid, [{"AnswerId": ids["No"]}, {"AnswerId": ids["Days"], "AnswerValue": "4"}])
    assert [a["Answer"] for a in state.request_details[fine["RequestId"]]["Answers"]] == ["No", ""]
    for wrong in (
        [{"AnswerId": ids["Days"], "AnswerValue": "four"}],
        [{"AnswerId": ids["Since"], "AnswerValue": "last week"}],
        [{"AnswerId": ids["Yes"]}, {"AnswerId": ids["No"]}],
    ):
        with pytest.raises(CityworksError) as refused:
            create(state, sid, wrong)
        assert refused.value.item["Name"] == "InvalidField"
    lenient, ids = backend(check=False)
    kept = create(lenient, ids["problem"], [{"AnswerId": ids["Days"], "AnswerValue": "four"}])
    assert lenient.request_details[kept["RequestId"]]["Answers"][0]["AnswerValue"] == "four"
