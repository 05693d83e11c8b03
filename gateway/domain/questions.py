"""Question rules: which synced questions are private (CW-QA-2) and required (CW-QA-4), which integration
keys a question may carry and that they keep answers private (OG-RQR-3/4), answer checks, and how answers
travel to the vendors (Cityworks `Answers`, the OpenGov requester's fields)."""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from . import DomainError
from .answer_formats import wire_answer
from .vendor_time import VendorClock

DATATYPES = ("string", "number", "datetime", "text", "singlevaluelist", "multivaluelist")
LIST_TYPES = ("singlevaluelist", "multivaluelist")
# CW-QA-2: a synced question is private when its text mentions one of these (case-insensitive substring).
PRIVATE_MARKERS = ("email", "e-mail", "phone")
# OG-RQR-3: answers to questions with these keys go onto the OpenGov requester.
REQUESTER_KEYS = frozenset(
    {
        "FirstNameField",
        "LastNameField",
        "AddressNumberField",
        "UnitField",
        "StreetField",
        "CityField",
        "StateField",
        "ZipCodeField",
        "PrimaryPhoneField",
        "SecondaryPhoneField",
    }
)
MAX_ANSWER = 4000


def synced_is_public(text: str) -> bool:
    """CW-QA-2: public unless the text mentions e-mail or phone ("smartphone" too: a substring match)."""
    lowered = text.lower()
    return not any(marker in lowered for marker in PRIVATE_MARKERS)


def synced_is_required(_upstream_required: bool) -> bool:
    """CW-QA-4: questions imported by the automatic sync are always required, whatever upstream says."""
    return True


def check_question(datatype: str, public: bool, integration_key: str | None, choices: Sequence[Any]) -> None:
    """OG-RQR-3/4 and the datatype's own needs; raises DomainError naming the field."""
    if datatype not in DATATYPES:
        raise DomainError(f"datatype must be one of {', '.join(DATATYPES)}", "datatype")
    if integration_key is not None:
        if integration_key not in REQUESTER_KEYS:
            raise DomainError(
                f"unknown integration key {integration_key!r}; known: {', '.join(sorted(REQUESTER_KEYS))}",
                "integration_key",
            )
        if public:
            raise DomainError("a question with an integration key must be private (OG-RQR-4)", "public")
    if datatype in LIST_TYPES:
        keys = [c.get("key") for c in choices if isinstance(c, dict)]
        if not keys or len(keys) != len(choices) or len(set(keys)) != len(keys):
            raise DomainError("list questions need answer choices with unique keys", "choices")
    elif choices:
        raise DomainError("only list questions have answer choices", "choices")


def check_answer(datatype: str, values: list[str], choices: Sequence[dict[str, str]]) -> str:
    """The answer as stored (JSON text), or DomainError. `values` are the form values sent for it."""
    values = [v for v in values if v != ""]  # an empty optional argument is one not sent (Open311 1.1)
    if datatype == "multivaluelist":
        allowed = {c["key"] for c in choices}
        if any(v not in allowed for v in values):
            raise DomainError("not one of the answer choices")
        return json.dumps(sorted(set(values), key=values.index))
    if len(values) > 1:
        raise DomainError("one value expected")
    value = values[0] if values else ""
    if len(value) > MAX_ANSWER:
        raise DomainError(f"at most {MAX_ANSWER} characters")
    if datatype == "number":
        try:
            number = float(value)
        except ValueError:
            raise DomainError("not a number") from None
        if not math.isfinite(number):
            raise DomainError("not a number")
    elif datatype == "datetime":
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            raise DomainError("not an ISO 8601 date-time") from None
        if parsed.tzinfo is None and "T" in value:
            raise DomainError("a date-time needs its timezone")
    elif datatype == "singlevaluelist" and value not in {c["key"] for c in choices}:
        raise DomainError("not one of the answer choices")
    elif datatype == "string" and ("\n" in value or "\r" in value):
        raise DomainError("a single line is expected")
    return json.dumps(value)


def vendor_answers(answers: list[dict[str, Any]], clock: VendorClock | None = None) -> list[dict[str, Any]]:
    """The request's answers to synced questions, as Cityworks `Answers` (answer_formats.wire_answer): a
    choice by the chosen answer's own AnswerId, a typed value with its question's AnswerId; dates in the
    site's local time (`clock`)."""
    clock = clock or VendorClock()
    out = []
    for r in answers:
        if not r["synced"] or r["vendor_ref"] is None:
            continue
        item = wire_answer(json.loads(r["vendor_ref"]), r["datatype"], json.loads(r["value"]), clock.text_of_iso)
        if item is not None:
            out.append(item)
    return out


def requester_answers(answers: list[dict[str, Any]]) -> dict[str, str]:
    """Answers to questions carrying an OpenGov requester integration key (OG-RQR-3), by key."""
    return {r["integration_key"]: str(json.loads(r["value"])) for r in answers if r["integration_key"] is not None}
