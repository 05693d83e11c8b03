"""Personal data out of a captured scenario, deterministically: the same value always becomes the same stand-in
(a digest of it), so records that shared a caller still share one, and a capture run twice writes the same file.
Pure: values in, values out."""

from __future__ import annotations

import hashlib
import re

SCF = re.compile(r"^(\s*To SCF:\s*)")  # Cityworks' public prefix: semantics, kept
NAME_STAND_IN = re.compile(r"^Person [0-9a-f]{8}$")  # what name() writes: kept, so a re-capture is a fixpoint


def _tag(kind: str, value: str) -> str:
    return hashlib.sha256(f"{kind}\0{value}".encode()).hexdigest()[:8]


def name(value: object) -> str:
    text = "" if value is None else str(value)
    if NAME_STAND_IN.match(text):
        return text
    return f"Person {_tag('name', text)}" if text.strip() else text


def email(value: object) -> str:
    text = "" if value is None else str(value)
    return f"person-{_tag('email', text.lower())}@example.invalid" if text.strip() else text


def phone(value: object) -> str:
    text = "" if value is None else str(value)
    if not text.strip():
        return text
    digits = int(_tag("phone", text), 16) % 10_000
    return f"555-01{digits // 100:02d}"  # 555-0100..555-0199: the numbers set aside for fiction


def free_text(value: object) -> str:
    """Free text replaced; a leading `To SCF:` (what makes a Cityworks comment public) kept."""
    text = "" if value is None else str(value)
    if not text.strip():
        return text
    prefix = SCF.match(text)
    kept = prefix.group(1) if prefix else ""
    return f"{kept}Text {_tag('text', text)}."


def account_number(key: str, last_four: str) -> str:
    """A stand-in for an account number a capture never sees whole: a digest of what identifies the account
    to the capture (what the account shows), then the last four characters the city shows."""
    return f"STANDIN-{_tag('account', key)[:6]}-{last_four}"


def verification(key: str) -> str:
    """A stand-in for a verification value (PIN) a capture never learns."""
    return f"standin-{_tag('verification', key)}"


# A stand-in for each kind of personal field (simulators/kit/secrets.py `personal_kind` says which a field is).
BY_KIND = {"name": name, "email": email, "phone": phone}
