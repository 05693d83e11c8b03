"""The gateway's pure rules, directly: question privacy (CW-QA-2), required synced questions (CW-QA-4),
answer checks, comment rules."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import DomainError
from gateway.domain.comments import public_text
from gateway.domain.questions import check_answer, synced_is_public, synced_is_required
from gateway.domain.rules import check_rule

MARKERS = ["email", "e-mail", "phone"]


def any_case(word: str) -> st.SearchStrategy[str]:
    return st.tuples(*[st.sampled_from([c.lower(), c.upper()]) for c in word]).map("".join)


@pytest.mark.req("CW-QA-2")
@given(before=st.text(max_size=30), marker=st.sampled_from(MARKERS).flatmap(any_case), after=st.text(max_size=30))
def test_a_question_mentioning_email_or_phone_is_private(before, marker, after):
    assert synced_is_public(before + marker + after) is False


@pytest.mark.req("CW-QA-2")
@given(st.text(alphabet=st.characters(blacklist_characters="eEpP"), max_size=60))
def test_other_questions_are_public(text):
    assert synced_is_public(text) is True  # no e or p: cannot contain any marker


@pytest.mark.req("CW-QA-2")
@pytest.mark.parametrize(
    ("text", "public"),
    [
        ("Phone", False),
        ("EMAIL", False),
        ("Your smartphone model?", False),
        ("E-Mail address", False),
        ("Where is it?", True),
        ("Mail box damaged?", True),
        ("e mail", True),
    ],
)
def test_the_seed_examples(text, public):
    assert synced_is_public(text) is public


@pytest.mark.req("CW-QA-4")
@pytest.mark.parametrize("upstream", [True, False])
def test_synced_questions_are_required(upstream):
    assert synced_is_required(upstream) is True


@pytest.mark.parametrize(
    ("datatype", "values", "stored"),
    [
        ("number", ["12.5"], "12.5"),
        ("datetime", ["2026-03-01T10:00:00Z"], "2026-03-01T10:00:00Z"),
        ("multivaluelist", ["a", "b", "a"], ["a", "b"]),
        ("singlevaluelist", ["b"], "b"),
        ("text", ["two\nlines"], "two\nlines"),
    ],
)
def test_answers_are_stored_as_json(datatype, values, stored):
    choices = [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}]
    assert json.loads(check_answer(datatype, values, choices)) == stored


@pytest.mark.parametrize(
    ("datatype", "values"),
    [
        ("number", ["NaN"]),
        ("number", ["ten"]),
        ("datetime", ["2026-03-01T10:00:00"]),
        ("datetime", ["soon"]),
        ("singlevaluelist", ["c"]),
        ("multivaluelist", ["a", "c"]),
        ("string", ["two\nlines"]),
        ("string", ["a", "b"]),
    ],
)
def test_bad_answers_are_refused(datatype, values):
    with pytest.raises(DomainError):
        check_answer(datatype, values, [{"key": "a", "name": "A"}, {"key": "b", "name": "B"}])


def test_ordering_rules_compare_numbers():
    check_rule(">=", "1")
    check_rule("contains", "crew")
    for operator, value in (("~", "1"), (">", "many")):
        with pytest.raises(DomainError):
            check_rule(operator, value)


@pytest.mark.req("OG-UPD-2")
@pytest.mark.parametrize(
    ("operator", "expected", "actual", "holds"),
    [
        (">=", "1", 1, True),
        (">=", "1", 0, False),
        (">", "1", "2", True),
        ("<", "10", "9.5", True),
        ("<=", "1", None, False),
        ("=", "Closed", "closed", True),
        ("=", "1", "1.0", True),
        ("!=", "Closed", "Open", True),
        ("!=", "x", None, True),
        ("contains", "crew", "Crew dispatched", True),
        ("contains", "crew", "nobody", False),
        ("=", "true", True, True),
        (">", "1", "many", False),
    ],
)
def test_comment_rules_compare_as_documented(operator, expected, actual, holds):
    from gateway.domain.rules import rule_holds

    assert rule_holds(operator, expected, actual) is holds


def test_the_status_map_works_both_ways():
    from gateway.domain.status import OPEN311, StatusMap
    from gateway.vendors.registry import default_status_map

    mapping = StatusMap.of(default_status_map("cityworks"))
    for entry in default_status_map("cityworks"):
        assert mapping.to_public(entry["vendor"].lower()) == entry["public"]  # vendor -> public, any case
    for public in ("open", "acknowledged", "closed"):
        vendor = mapping.to_vendor(public)
        assert vendor is not None and mapping.to_public(vendor) == public  # public -> vendor -> public
    assert mapping.to_public("SOMETHING-NEW") is None, "unknown statuses are never guessed"
    assert {OPEN311[p] for p in ("open", "acknowledged")} == {"open"}
    assert {OPEN311[p] for p in ("closed", "duplicate")} == {"closed"}


@pytest.mark.parametrize(
    "entries",
    [
        [{"vendor": "OPEN", "public": "pending"}],
        [{"vendor": "OPEN", "public": "open"}, {"vendor": "open", "public": "closed"}],
        [{"vendor": "", "public": "open"}],
        [{"vendor": "CLOSED", "public": "closed"}],
    ],
    ids=["unknown-public", "vendor-twice", "empty-vendor", "nothing-open"],
)
def test_bad_status_maps_are_refused(entries):
    from gateway.domain.status import check

    with pytest.raises(DomainError):
        check(entries)


@pytest.mark.req("CW-ICM-1")
@given(padding=st.text(alphabet=" \t\n", max_size=3), rest=st.text(max_size=30))
def test_to_scf_prefix_after_leading_whitespace_only(padding, rest):
    assert public_text(f"{padding}To SCF:{rest}") == (rest.strip() or None)  # an empty public comment is none
    assert public_text(f"{padding}to scf:{rest}") is None  # case-sensitive
    assert public_text(f"Note {padding}To SCF:{rest}") is None  # only at the start
