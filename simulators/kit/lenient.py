"""JSON as the simulators read it. `loads` is the standard parser with one difference: text nested too
deeply to parse is an error like any other (ValueError), not a RecursionError that would crash a handler.
`lenient_loads` is what vendor servers built on Json.NET accept: JSON, or JSON5-ish text (single quotes,
trailing commas)."""

from __future__ import annotations

import json
from typing import Any

import json5


def loads(text: str | bytes) -> Any:
    try:
        return json.loads(text)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def lenient_loads(text: str) -> Any:
    try:
        return loads(text)
    except ValueError:
        try:
            return json5.loads(text)
        except RecursionError:
            raise ValueError("JSON nested too deeply") from None
