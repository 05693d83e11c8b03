"""The OpenGov filter language: every form client code shows parses, text and tree round-trip, evaluation
agrees with a plain Python reading, and bad filters fail with the position of the problem."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.opengov.filters import And, Clause, FilterError, Not, Or, matches, parse, render

RECORD = {
    "Oid": 42,
    "IDField": "R-101",
    "StatusField": "Open",
    "InactiveField": False,
    "RequestIssueField": "Pothole",
    "TasksField": 2,
    "ProgressField": {"Amount": 40.0, "Unit": "%"},
    "EntryDateField": "2026-05-01T09:12:00",
    "cgLastModifiedField": "2026-05-02T10:00:00",
    "EnteredBy": "APIAdmin",
    "MUTCDCodeField": {"Classification": "Regulatory"},
    "PrimaryAttachmentField": None,
    "MaterialTypeField": "Public Safety - Fire",
}

SEEN = [
    ("(([Inactive] is equal to false))", True),
    ("(([AppliesTocgFacilities] is equal to true AND [Inactive] is equal to false))", False),
    ('(([RequestIssue] is not equal to ""))', True),
    ('([EnteredBy] is equal to "APIAdmin")', True),
    ('(([id] is equal to "r-101"))', True),
    (
        '((([MaterialType] is equal to "Warehouse") OR ([MaterialType] is equal to "Public Safety - Fire")) '
        'AND ([RequestIssue] is not equal to ""))',
        True,
    ),
    ("([Inactive] = false)", True),
    ('([PrimaryAttachment] <> "")', False),
    ('([Status] in ("Closed","Open"))', True),
    ('([MUTCDCode\\Classification] is equal to "Regulatory")', True),
    ('(([cgLastModified] is greater than "2026-05-01T00:00:00"))', True),
    ('(([LastModified] is greater than "2026-05-03"))', False),
    ("([Tasks] is greater than or equal to 1)", True),
    ("([Progress] is less than 50)", True),
    ("([Oid] not in (1, 2, 3))", True),
    ('NOT ([Status] contains "clos")', True),
]


@pytest.mark.parametrize("text, expected", SEEN)
def test_filters_seen_in_client_code_parse_and_evaluate(text, expected):
    assert matches(parse(text), RECORD) is expected


@pytest.mark.parametrize(
    "text, position",
    [
        ("", 1),
        ("([Status] is equal to)", 22),
        ('([Status] is nearly "Open")', 11),
        ('([Status] = "Open"', 19),
        ('([Status] = "Open")) AND', 20),
        ("[] = 1", 1),
        ("([Status] = Open)", 13),
        ('([Status] = "Open" {)', 20),
    ],
)
def test_bad_filters_name_the_position(text, position):
    with pytest.raises(FilterError) as err:
        parse(text)
    assert err.value.position + 1 == position, str(err.value)


names = st.sampled_from(["Status", "IDField", "Tasks", "Inactive", "EntryDate", "Oid"])
scalars = st.one_of(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.integers(-1000, 1000),
    st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False),
    st.booleans(),
    st.none(),
)
clauses = st.one_of(
    st.builds(
        Clause,
        st.tuples(names),
        st.sampled_from(["=", "<>", ">", ">=", "<", "<=", "contains", "not contains"]),
        scalars,
    ),
    st.builds(Clause, st.tuples(names), st.sampled_from(["in", "not in"]), st.tuples(scalars, scalars)),
)
trees = st.recursive(
    clauses,
    lambda inner: st.one_of(
        st.builds(lambda p: And(tuple(p)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(lambda p: Or(tuple(p)), st.lists(inner, min_size=2, max_size=3)),
        st.builds(Not, inner),
    ),
    max_leaves=6,
)


@given(trees)
def test_render_then_parse_gives_the_same_tree(tree):
    assert parse(render(tree)) == tree


records = st.fixed_dictionaries(
    {
        "Oid": st.integers(1, 100),
        "StatusField": st.sampled_from(["Open", "Closed", "open", None]),
        "TasksField": st.integers(0, 3),
        "InactiveField": st.booleans(),
    }
)


@given(records, st.integers(0, 3), st.sampled_from(["Open", "Closed"]))
def test_evaluation_agrees_with_python(record, tasks, status):
    text = f'(([Tasks] is greater than or equal to {tasks}) AND ([Status] is equal to "{status}")) OR [Inactive] = true'
    expected = (record["TasksField"] >= tasks and (record["StatusField"] or "").lower() == status.lower()) or record[
        "InactiveField"
    ]
    assert matches(parse(text), record) is expected
