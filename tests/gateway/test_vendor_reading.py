"""How the gateway reads what vendors write, as pure rules (issue 21): Cityworks answer formats -> questions and
back (CW-QA-1, CW-SUB-1), a vendor's date text -> UTC and back (CW-ICM-1, OG-COM-2), the public address (GEO-5)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from gateway.domain import DomainError
from gateway.domain.open311 import public_address
from gateway.domain.questions import check_answer, vendor_answers
from gateway.domain.vendor_time import VendorClock, zone
from gateway.vendors.cityworks import questions_from_qa


def qa(*questions: tuple[str, list[tuple[str, str]]]) -> dict:
    """A problem's QA as Cityworks answers it: each question with its answers as (text, AnswerFormat)."""
    out: dict = {"Questions": [], "Answers": []}
    answer_id = 100
    for qid, (text, answers) in enumerate(questions, start=1):
        out["Questions"].append({"QuestionId": qid, "Question": text, "QuestionSequence": qid})
        for seq, (answer, fmt) in enumerate(answers, start=1):
            answer_id += 1
            out["Answers"].append(
                {"AnswerId": answer_id, "QuestionId": qid, "Answer": answer, "AnswerFormat": fmt, "AnswerSequence": seq}
            )
    return out


def stored(row: dict, value: str) -> dict:
    """A question row with an answer as the gateway stores them, as delivery reads them."""
    choices = json.loads(row["choices"])
    return {"value": check_answer(row["datatype"], [value], choices), "synced": True, "integration_key": None} | {
        k: row[k] for k in ("vendor_ref", "datatype")
    }


@pytest.mark.req("CW-QA-1", "CW-SUB-1")
def test_a_yes_no_question_is_a_choice_and_no_means_no():
    (row,) = questions_from_qa(qa(("Is anyone hurt?", [("Yes", "YES"), ("No", "NO")])))
    assert row["datatype"] == "singlevaluelist"
    choices = json.loads(row["choices"])
    assert choices == [{"key": "101", "name": "Yes"}, {"key": "102", "name": "No"}]
    assert vendor_answers([stored(row, "102")]) == [{"AnswerId": 102}], "the answer chosen, never the first"


@pytest.mark.req("CW-QA-1")
@pytest.mark.parametrize(
    ("fmt", "datatype"),
    [("FREETEXT", "text"), ("NUMERIC", "number"), ("DATE", "datetime"), ("THISTEXT", "singlevaluelist")],
)
def test_each_format_becomes_its_datatype(fmt, datatype):
    (row,) = questions_from_qa(qa(("Q", [("A", fmt)])))
    assert row["datatype"] == datatype


@pytest.mark.req("CW-QA-1")
def test_the_format_is_read_by_name_in_any_case_or_by_number_and_calculated_is_never_asked():
    answers = qa(("Hurt?", [("", "yes"), ("", "no")]), ("Cost", [("", "CALCULATED")]), ("Days", [("", "x")]))
    answers["Answers"][3] = {**answers["Answers"][3], "AnswerFormat": None, "AnswerFormatEnum": 11}
    rows = questions_from_qa(answers)
    assert [r["text"] for r in rows] == ["Hurt?", "Days"]
    assert [c["name"] for c in json.loads(rows[0]["choices"])] == ["Yes", "No"], "labels of answers with no text"
    assert rows[1]["datatype"] == "number", "AnswerFormatEnum 11 is NUMERIC"


@pytest.mark.req("CW-SUB-1")
def test_typed_values_travel_with_their_answer_id_and_dates_in_the_sites_time():
    rows = questions_from_qa(qa(("Days", [("", "NUMERIC")]), ("Since", [("", "DATE")]), ("Note", [("", "FREETEXT")])))
    given = [stored(rows[0], "4"), stored(rows[1], "2024-03-05T10:00:00Z"), stored(rows[2], "two\nlines")]
    denver = VendorClock(zone("America/Denver"))
    assert vendor_answers(given, denver) == [
        {"AnswerId": 101, "AnswerValue": "4"},
        {"AnswerId": 102, "AnswerValue": "2024-03-05T03:00:00"},
        {"AnswerId": 103, "AnswerValue": "two\nlines"},
    ]


@pytest.mark.req("CW-QA-1", "CW-SUB-1")
def test_a_choice_with_a_free_answer_lists_it_and_sends_it_by_its_id():
    (row,) = questions_from_qa(qa(("Who owns it?", [("The city", "THISTEXT"), ("Other", "FREETEXT")])))
    assert row["datatype"] == "singlevaluelist"
    assert [c["name"] for c in json.loads(row["choices"])] == ["The city", "Other"]
    assert vendor_answers([stored(row, "102")]) == [{"AnswerId": 102}]


@pytest.mark.req("CW-ICM-1", "OG-COM-2")
def test_a_vendor_date_becomes_utc_in_the_vendors_zone():
    denver = VendorClock(zone("America/Denver"))
    assert denver.utc("2024-03-05T09:15:00") == datetime(2024, 3, 5, 16, 15, tzinfo=UTC)
    assert denver.utc("2024-07-05T09:15:00") == datetime(2024, 7, 5, 15, 15, tzinfo=UTC), "summer time"
    assert denver.utc("2024-03-05T09:15:00Z") == datetime(2024, 3, 5, 9, 15, tzinfo=UTC), "an offset wins"
    assert VendorClock().utc("2024-03-05T09:15:00.123") == datetime(2024, 3, 5, 9, 15, 0, 123000, tzinfo=UTC)
    for nothing in ("0001-01-01T00:00:00", "", None, "soon", 5):
        assert denver.utc(nothing) is None
    assert denver.text(datetime(2024, 3, 5, 16, 15, tzinfo=UTC)) == "2024-03-05T09:15:00"
    with pytest.raises(DomainError):
        zone("Mars/Base")


@pytest.mark.req("H-REL-6", "CW-IMP-1")
def test_a_changed_since_bound_in_the_hour_the_clock_repeats_misses_nothing():
    """Denver's clock goes from 01:59 MDT back to 01:00 MST on 3 Nov 2024: "01:53" names 07:53Z and 08:53Z.
    A bound of 07:53Z sent as "01:53" and read by the vendor as the later moment would skip an hour of
    records; the bound goes as the hour before. (Before: "2024-11-03T01:53:00".)"""
    denver = VendorClock(zone("America/Denver"))
    assert denver.since_text(datetime(2024, 11, 3, 7, 53, tzinfo=UTC)) == "2024-11-03T00:53:00"
    assert denver.since_text(datetime(2024, 11, 3, 8, 30, tzinfo=UTC)) == "2024-11-03T01:30:00"  # the later 01:30
    assert denver.since_text(datetime(2024, 11, 3, 9, 5, tzinfo=UTC)) == "2024-11-03T02:05:00"
    assert denver.since_text(datetime(2024, 3, 10, 9, 30, tzinfo=UTC)) == "2024-03-10T03:30:00"  # spring forward
    assert denver.since_text(datetime(2024, 7, 5, 15, 15, tzinfo=UTC)) == denver.text(
        datetime(2024, 7, 5, 15, 15, tzinfo=UTC)
    )
    assert VendorClock().since_text(datetime(2024, 11, 3, 7, 53, tzinfo=UTC)) == "2024-11-03T07:53:00"
    # every bound, every minute across both changes: however the vendor reads the text, never after the bound
    for start in (datetime(2024, 11, 3, 6, 0, tzinfo=UTC), datetime(2024, 3, 10, 8, 0, tzinfo=UTC)):
        for minute in range(0, 240, 7):
            bound = start + timedelta(minutes=minute)
            text = denver.since_text(bound)
            readings = {datetime.fromisoformat(text).replace(tzinfo=denver.local, fold=f) for f in (0, 1)}
            assert max(r.astimezone(UTC) for r in readings) <= bound, (bound, text)
            assert bound - min(r.astimezone(UTC) for r in readings) <= timedelta(hours=2), "not far before"


@pytest.mark.req("GEO-5")
def test_the_public_address_is_the_validated_one_else_the_citizens():
    assert public_address({"validated_address": "1 Main St", "address": "by the park"}) == "1 Main St"
    assert public_address({"validated_address": None, "address": "by the park"}) == "by the park"
    assert public_address({"validated_address": "", "address": None}) is None
