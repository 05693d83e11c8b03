"""What every vendor offers the gateway's jobs, in the gateway's own terms: `VendorSide`, and the neutral
shapes it answers in. A job in `gateway/sync` talks to this protocol only; each vendor's module in this
package maps it onto that vendor's records, ids, dates and rules of what is public."""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

APP_NAME = "civic-harness"  # how the gateway names itself to a vendor (Cityworks' InitiatedByApp, authors)
Counts = dict[str, int]


@dataclass(frozen=True, slots=True)
class Candidate:
    """A request entered at the vendor, as the importer sees it."""

    vendor_id: str
    ours: bool  # the gateway's own (or another integration's): never imported back
    x: float | None
    y: float | None
    category: str  # matched against the integration's categories by `VendorSide.category_key`
    closed: bool
    description: str
    address: str | None
    zipcode: str | None
    created: datetime | None


@dataclass(frozen=True, slots=True)
class Comment:
    """A comment at the vendor. `text` is what the public may read of it, None when it is not public."""

    id: str
    text: str | None
    when: datetime | None


@dataclass(frozen=True, slots=True)
class Image:
    """An attachment at the vendor; `text` (None: not public) goes with the image as its comment."""

    id: str
    text: str | None
    filename: str
    when: datetime | None


@dataclass(slots=True)
class Seen:
    """One request as the vendor holds it now, read back by the poll."""

    vendor_id: str  # as the gateway linked it
    status: str | None
    notes: str | None  # the vendor's closing notes
    modified: str | None  # the vendor's modification stamp, as it sent it (None: it keeps none)
    modified_at: datetime | None
    record: dict[str, Any] | None  # what comment rules are judged against (None: the vendor has no rules)
    comments: list[Comment] | None = None  # None: read on demand (`VendorSide.comments`)
    images: list[Image] = field(default_factory=list)


class VendorSide(Protocol):
    """A signed-in vendor for one integration (see registry.Vendors)."""

    versions: tuple[str, ...]  # the versions an integration may name
    default_status_map: tuple[dict[str, str], ...]  # vendor status -> public status, until the city sets its own

    category_key: str  # which category column a vendor request's `Candidate.category` names
    category_mode: str | None  # the mode new categories get (Cityworks: sr or wo)
    incremental: bool  # the poll may read only what changed since a time
    has_questions: bool  # the vendor's categories carry questions to sync (else question_sync is not scheduled)

    # -- delivery: each effect can be looked up by the gateway's own reference before it is done again
    async def find_request(self, request: dict[str, Any], category: dict[str, Any]) -> str | None: ...

    async def create_request(
        self, request: dict[str, Any], category: dict[str, Any], answers: list[dict[str, Any]]
    ) -> str: ...

    async def find_comment(self, vendor_id: str, text: str, taken: Collection[str] = ()) -> str | None:
        """A comment with this text that is none of `taken` (the vendor comments already linked to others of
        the request's comments: two comments may say the same)."""
        ...

    async def add_comment(self, vendor_id: str, text: str) -> str: ...

    async def find_attachment(self, vendor_id: str, filename: str) -> str | None: ...

    async def add_attachment(self, vendor_id: str, filename: str, content: bytes) -> str: ...

    # -- configuration
    async def categories(self) -> dict[str, tuple[str, str]]:
        """vendor id -> (vendor code, name) of the public, active categories."""
        ...

    async def questions(self, category: dict[str, Any]) -> list[dict[str, Any]]:
        """The question rows of one synced category."""
        ...

    # -- reading back
    async def candidates(self, since: datetime | None) -> list[Candidate]:
        """Requests created at the vendor since `since` (None: all)."""
        ...

    async def read_back(self, linked: list[str], since: datetime | None, counts: Counts) -> list[Seen]:
        """The linked requests as the vendor holds them (those modified since `since` when the side is
        incremental and `since` is given; then others may come too)."""
        ...

    async def comments(self, seen: Seen, counts: Counts) -> list[Comment]: ...

    async def download(self, image: Image, counts: Counts) -> bytes: ...


Factory = Callable[[Any, dict[str, Any]], VendorSide]
