"""How a client reads a whole OpenGov listing (contracts/opengov.yaml, `listRecords`): the one rule the
gateway's connector and `capture opengov` share. Pure: no I/O.

Not by offset: other users write between the pages (an issue retired, a request deleted, a record modified),
and every such write shifts an offset window, so a record slides back onto a page already read and is never
seen, or another is read twice. Oid never changes: each page asks for the records after the last Oid read, in
Oid order, so every record that matches throughout is read exactly once (one written meanwhile is read in its
new state, or by the next read). The end: an empty page, a page holding all the server says are left
(`_metadata.totalCount`), or fewer than a page holds (`min(limit asked, _metadata.limit)`, for a server that
caps `limit`). A page that does not move past the last Oid read (a server that ignores the filter's Oid clause
or the sort) is NoProgress: reading on would loop for ever.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

PAGE = 1000


class PagingError(ValueError):
    """The listing cannot be paged on: the message is one sentence naming the class."""


class NoProgress(PagingError):
    def __init__(self, class_name: str, after: int, last: int) -> None:
        super().__init__(
            f"OpenGov {class_name}: a page after Oid {after} ends at Oid {last}: the server did not narrow "
            "the list by Oid, so paging cannot go on"
        )


class NoOid(PagingError):
    def __init__(self, class_name: str) -> None:
        super().__init__(f"OpenGov {class_name}: a listed record without an integer Oid")


def params(after: int | None, filter: str | None = None, limit: int = PAGE) -> dict[str, str]:
    """The query of the page after Oid `after` (None: the first page), narrowed by `filter` if given."""
    clauses = [c for c in (filter, f"([Oid] is greater than {after})" if after is not None else None) if c]
    out = {"limit": str(limit), "sort": "Oid:asc"}
    if clauses:
        out["filter"] = clauses[0] if len(clauses) == 1 else f"({' AND '.join(clauses)})"
    return out


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def next_after(
    class_name: str,
    page: Sequence[Any],
    meta: Mapping[str, Any],
    after: int | None,
    limit: int = PAGE,
) -> int | None:
    """After this page (asked with `params(after, ..., limit)`, answered with `_metadata` `meta`): None when
    the listing is read to its end, else the Oid to ask after next. NoProgress or NoOid when it cannot go on."""
    if not page:
        return None
    total, capped = _int(meta.get("totalCount")), _int(meta.get("limit"))
    holds = min(limit, capped) if capped is not None and capped > 0 else limit
    if len(page) >= total if total is not None else len(page) < holds:
        return None
    oids = [_int(r.get("Oid")) if isinstance(r, Mapping) else None for r in page]
    if any(o is None for o in oids):
        raise NoOid(class_name)
    last = max(o for o in oids if o is not None)
    if after is not None and last <= after:
        raise NoProgress(class_name, after, last)
    return last


def total_count(meta: Mapping[str, Any]) -> int | None:
    """How many records the server says match (on the first page: the whole listing), if it says."""
    return _int(meta.get("totalCount"))
