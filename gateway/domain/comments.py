"""Which vendor comments are meant for the public (CW-ICM-1, CW-IMG-1)."""

from __future__ import annotations

PUBLIC_PREFIX = "To SCF:"


def public_text(comment: str | None) -> str | None:
    """The public text of a comment marked "To SCF:" (after leading whitespace, case-sensitive as written),
    prefix stripped; None for every other comment and for one with nothing after the prefix (an empty public
    comment says nothing)."""
    if not comment:
        return None
    stripped = comment.lstrip()
    if not stripped.startswith(PUBLIC_PREFIX):
        return None
    return stripped[len(PUBLIC_PREFIX) :].strip() or None
