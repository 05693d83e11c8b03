"""What vendor servers built on Json.NET accept: JSON, or JSON5-ish text (single quotes, trailing commas)."""

from __future__ import annotations

import json
from typing import Any

import json5


def lenient_loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return json5.loads(text)
