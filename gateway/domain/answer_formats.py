"""Cityworks answer formats, the one place that says what each means to the gateway: which Open311 datatype a
Cityworks question becomes, and how the citizen's answer travels back in `Answers` (CW-QA-1, CW-SUB-1).

What is known (public sources, listed in contracts/cityworks.yaml, schema Answer): an answer of a problem's QA
carries `AnswerFormat`, a string, and in newer APIs also `AnswerFormatEnum`, a number of Cityworks'
QuestAnswerFormat enumeration: THISTEXT 0, DATE 1, YES 2, NO 3, UNKNOWN 4, FREETEXT 5, CHECKED 6, UNCHECK 7,
CODEDESC 8, DESCSCORE 9, CALCULATED 10, NUMERIC 11 (Designer: "This Text", "Yes", "No", "Unknown", "Date",
"Free-form Response", "Checkbox (Default Checked/Unchecked)", "Numeric", "Calculated"). A Yes/No question is
one question with a YES answer and a NO answer.

Inferred (no public client shows it): the `AnswerFormat` string is the enumeration's name; a fixed answer
(THISTEXT, YES, NO, UNKNOWN, the checkboxes, the code lists) is chosen by sending its own `AnswerId`; a
free answer (FREETEXT, NUMERIC, DATE) is sent as its `AnswerId` with the citizen's `AnswerValue`; a CALCULATED
answer is Cityworks' own to fill and never asked; a DATE's value is Cityworks' date text in the site's local
time; a format the gateway does not know is taken as a fixed answer (a choice never invents a value)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

# name -> (enumeration number, kind): "choice" (the answer is picked), a datatype (the citizen types a value),
# or "computed" (Cityworks fills it).
FORMATS: dict[str, tuple[int, str]] = {
    "THISTEXT": (0, "choice"),
    "DATE": (1, "datetime"),
    "YES": (2, "choice"),
    "NO": (3, "choice"),
    "UNKNOWN": (4, "choice"),
    "FREETEXT": (5, "text"),
    "CHECKED": (6, "choice"),
    "UNCHECK": (7, "choice"),
    "CODEDESC": (8, "choice"),
    "DESCSCORE": (9, "choice"),
    "CALCULATED": (10, "computed"),
    "NUMERIC": (11, "number"),
}
BY_NUMBER = {number: name for name, (number, _) in FORMATS.items()}
# What a fixed answer with no text of its own is called on a public form.
LABELS = {"YES": "Yes", "NO": "No", "UNKNOWN": "Unknown", "CHECKED": "Checked", "UNCHECK": "Unchecked"}


def format_of(answer: dict[str, Any]) -> str:
    """The answer's format name: `AnswerFormat` as written (any case), else `AnswerFormatEnum`, else ''."""
    text = str(answer.get("AnswerFormat") or "").strip().upper().replace(" ", "").replace("-", "")
    if text.isdigit():
        return BY_NUMBER.get(int(text), text)
    if text:
        return text
    number = answer.get("AnswerFormatEnum")
    return BY_NUMBER.get(number, "") if isinstance(number, int) else ""


def kind_of(fmt: str) -> str:
    return FORMATS.get(fmt, (-1, "choice"))[1]


@dataclass(frozen=True)
class Shape:
    """A Cityworks question as the gateway asks it: an Open311 datatype, its choices (AnswerId, label) for a
    list, and for a typed value the AnswerId it is sent with. None for a question nobody is asked."""

    datatype: str
    choices: list[tuple[int, str]]
    free_answer: int | None
    fmt: str


def shape(answers: Sequence[dict[str, Any]]) -> Shape | None:
    """One question's answers (in sequence) -> how it is asked. Fixed answers make a single-value list; a
    question with fixed answers and a free one lists the free one too (Open311 has no "other, please say"),
    sent by its AnswerId alone. A question of free answers only is its first free answer's datatype."""
    asked = [(a, format_of(a)) for a in answers if kind_of(format_of(a)) != "computed"]
    if not asked:
        return None
    fixed = [(a, f) for a, f in asked if kind_of(f) == "choice"]
    if not fixed:
        answer, fmt = asked[0]
        return Shape(kind_of(fmt), [], int(answer["AnswerId"]), fmt)
    choices = [(int(a["AnswerId"]), label(a, f)) for a, f in asked]
    return Shape("singlevaluelist", choices, None, ",".join(sorted({f for _, f in asked})))


def label(answer: dict[str, Any], fmt: str) -> str:
    return (answer.get("Answer") or "").strip() or LABELS.get(fmt) or fmt.title() or "Answer"


def wire_answer(ref: dict[str, Any], datatype: str, value: Any, to_vendor_date: Any) -> dict[str, Any] | None:
    """A stored answer -> one Cityworks `Answers` item. `to_vendor_date` turns an aware datetime text into the
    site's date text (gateway.domain.vendor_time)."""
    if datatype in ("singlevaluelist", "multivaluelist"):
        keys = value if isinstance(value, list) else [value]
        return {"AnswerId": int(keys[0])} if keys and keys[0] not in ("", None) else None
    if ref.get("answer") is None:
        return None
    text = "" if value is None else str(value)
    if datatype == "datetime" and text:
        text = to_vendor_date(text)
    return {"AnswerId": int(ref["answer"]), "AnswerValue": text}
