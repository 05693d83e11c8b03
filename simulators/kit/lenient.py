"""JSON as the simulators read it. `loads` is the standard parser with one difference: text nested too
deeply to parse is an error like any other (ValueError), not a RecursionError that would crash a handler.
`lenient_loads` is what vendor servers built on Json.NET accept: JSON, or JSON5-ish text (single quotes,
trailing commas).

orjson reads strict JSON about seven times faster and is asked first (every vendor call's `data=` or body
goes through here). What it refuses (NaN, lone surrogates, bytes not in UTF-8, depth over 1,024) and text with
a run of 19 digits or more (orjson reads an integer beyond 64 bits as a float; the standard parser keeps it
exact) are read by the standard parser, so what is accepted, and as what, is the standard library's.
"""

from __future__ import annotations

import json
import re
from typing import Any

import json5
import orjson

TOO_DEEP = "JSON nested too deeply"
_LONG_DIGITS = re.compile(r"\d{19}")
_LONG_DIGITS_BYTES = re.compile(rb"\d{19}")


def loads(text: str | bytes) -> Any:
    long_digits = _LONG_DIGITS_BYTES if isinstance(text, bytes | bytearray) else _LONG_DIGITS
    if long_digits.search(text) is None:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError(TOO_DEEP) from None


def lenient_loads(text: str) -> Any:
    try:
        return loads(text)
    except ValueError:
        try:
            return json5.loads(text)
        except RecursionError:
            raise ValueError(TOO_DEEP) from None
