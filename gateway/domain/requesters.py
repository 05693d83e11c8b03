"""The OpenGov requester for a public request (OG-RQR-2, OG-RQR-3): the citizen's e-mail with exactly the
defaults "SeeClickFix" / "User", overridden only by answers to private questions carrying requester
integration keys."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

DEFAULT_FIRST, DEFAULT_LAST = "SeeClickFix", "User"


def requester_fields(request: Mapping[str, Any], keyed_answers: Mapping[str, str]) -> dict[str, str] | None:
    """The requester record to find or create, or None when the citizen gave no e-mail (nothing to match)."""
    email = (request.get("email") or "").strip()
    if not email:
        return None
    fields = {"EmailField": email, "FirstNameField": DEFAULT_FIRST, "LastNameField": DEFAULT_LAST}
    fields.update({key: value for key, value in keyed_answers.items() if value})  # OG-RQR-3 overrides
    return fields
