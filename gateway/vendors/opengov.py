"""OpenGov Enterprise Asset Management as the gateway sees it: every rule of how a public request maps onto
OpenGov's records lives here. Requests are `cgRequestsClass` records found again by the gateway's reference
in the integration-id field; requesters are matched as OpenGov's intake matches them (OG-RQR-1..3); a
comment is public when its PublicField says so (OG-COM-2); the poll reads by modification time (OG-UPD-1)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Collection
from datetime import datetime
from typing import Any

from ..connectors.http import Http, Rejected
from ..connectors.opengov import Opengov, quoted
from ..domain.questions import requester_answers
from ..domain.requesters import requester_fields
from ..domain.vendor_time import VendorClock
from .side import APP_NAME, Candidate, Comment, Counts, Image, Seen

REQUESTS = "cgRequestsClass"
ISSUES = "cgRequestIssuesClass"
BATCH = 100  # Oids per `in (...)` read
# Per vendor and e-mail: held while a requester is looked up and, if missing, created (weakly kept: a lock
# nobody holds or waits for is dropped).
_REQUESTER_LOCKS: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()


class OpengovSide:
    versions = ("v1",)
    default_status_map = (
        {"vendor": "Open", "public": "open"},
        {"vendor": "In Progress", "public": "acknowledged"},
        {"vendor": "Closed", "public": "closed"},
        {"vendor": "Canceled", "public": "closed"},
        {"vendor": "Duplicate", "public": "duplicate"},
    )
    category_key = "name"  # an OpenGov request names its issue by name
    category_mode = None
    incremental = True
    has_questions = False  # request issues carry no questions (question sync is not scheduled for OpenGov)

    def __init__(self, og: Opengov, clock: VendorClock) -> None:
        self.og, self.clock = og, clock

    @classmethod
    def of(cls, http: Http, integration: dict[str, Any]) -> OpengovSide:
        og = Opengov(http, integration["base_url"], integration["username"] or "", integration["secret"] or "")
        return cls(og, VendorClock.of(integration))

    # -- delivery ------------------------------------------------------------------------------------

    async def find_request(self, request: dict[str, Any], category: dict[str, Any]) -> str | None:
        field = self.og.id_field.removesuffix("Field")
        found, _ = await self.og.records(REQUESTS, filter=f"(([{field}] is equal to {quoted(request['public_id'])}))")
        return str(found[0]["Oid"]) if found else None

    async def requester(self, request: dict[str, Any], answers: list[dict[str, Any]]) -> dict[str, Any] | None:
        """OG-RQR-1..3: matched as OpenGov's intake does (e-mail case-insensitively, first and last name as
        sent), created only when none matches. One delivery run at a time (the job's lease), and inside it one
        lookup-then-create per e-mail at a time, so two requests from one e-mail never race to create two."""
        fields = requester_fields(request, requester_answers(answers))
        if fields is None:
            return None
        lock = _REQUESTER_LOCKS.setdefault(f"{self.og.base}|{fields['EmailField'].lower()}", asyncio.Lock())
        async with lock:
            return await self._match_or_create(fields)

    async def _match_or_create(self, fields: dict[str, Any]) -> dict[str, Any]:
        query = (
            f"(([Email] is equal to {quoted(fields['EmailField'])}) AND ([FirstName] is equal to "
            f"{quoted(fields['FirstNameField'])}) AND ([LastName] is equal to {quoted(fields['LastNameField'])}))"
        )
        found, _ = await self.og.records(self.og.requester_class, filter=query, sort="Oid:asc")
        if found:
            return found[0]  # the oldest match: duplicates made elsewhere do not multiply
        return await self.og.create(self.og.requester_class, fields)

    async def create_request(
        self, request: dict[str, Any], category: dict[str, Any], answers: list[dict[str, Any]]
    ) -> str:
        requester = await self.requester(request, answers)
        record: dict[str, Any] = {
            "IssueField": category["name"],
            "DescriptionField": request["description"],
            self.og.id_field: request["public_id"],
            "StatusField": "Open",
        }
        if request["lat"] is not None:
            record.update(lat=request["lat"], long=request["long"])
        # GEO-2: the user's address and the geocoder's, both kept
        if request["address"]:
            record["LocationDescriptionField"] = request["address"]
        if request["validated_address"]:
            record["AddressField"] = request["validated_address"]
        if request["zipcode"]:
            record["ZipCodeField"] = request["zipcode"]
        if requester is not None:
            record["RequesterOidField"] = requester["Oid"]
            record["RequesterField"] = (
                f"{requester.get('FirstNameField', '')} {requester.get('LastNameField', '')}".strip()
            )
        return str((await self.og.create(REQUESTS, record))["Oid"])

    async def find_comment(self, vendor_id: str, text: str, taken: Collection[str] = ()) -> str | None:
        existing = await self.og.children(REQUESTS, int(vendor_id), self.og.comment_class)
        match = next(
            (
                c
                for c in existing
                if (c.get("CommentField") or "").strip() == text.strip() and str(c.get("Oid")) not in taken
            ),
            None,
        )
        return str(match["Oid"]) if match else None

    async def add_comment(self, vendor_id: str, text: str) -> str:
        record = {"CommentField": text, "PublicField": True, "AuthorField": APP_NAME}
        return str((await self.og.add_child(REQUESTS, int(vendor_id), self.og.comment_class, record))["Oid"])

    async def find_attachment(self, vendor_id: str, filename: str) -> str | None:
        existing = await self.og.children(REQUESTS, int(vendor_id), self.og.attachment_class(REQUESTS))
        match = next((a for a in existing if a.get("FileNameField") == filename), None)
        return str(match["Oid"]) if match else None

    async def add_attachment(self, vendor_id: str, filename: str, content: bytes) -> str:
        return str((await self.og.upload(REQUESTS, int(vendor_id), filename, content))["Oid"])

    # -- configuration -------------------------------------------------------------------------------

    async def categories(self) -> dict[str, tuple[str, str]]:
        """OG-CAT-1: the public, active request issues, paged to exhaustion (AGY-4)."""
        issues = await self.og.all_records(
            ISSUES, filter="(([Inactive] is equal to false) AND ([Public] is equal to true))"
        )
        return {str(i["Oid"]): (i.get("CodeField") or str(i["Oid"]), i.get("IssueField") or "") for i in issues}

    async def questions(self, category: dict[str, Any]) -> list[dict[str, Any]]:
        raise Rejected("question sync reads Cityworks QA; OpenGov request issues have no questions to sync")

    # -- reading back --------------------------------------------------------------------------------

    async def candidates(self, since: datetime | None) -> list[Candidate]:
        query = f'(([EntryDate] is greater than "{self.clock.since_text(since)}"))' if since is not None else None
        out = []
        for r in await self.og.all_records(REQUESTS, filter=query):
            point = ((r.get("CgShape") or {}).get("Points") or [{}])[0]
            out.append(
                Candidate(
                    vendor_id=str(r["Oid"]),
                    ours=bool(r.get(self.og.id_field)),
                    x=point.get("Lng"),
                    y=point.get("Lat"),
                    category=str(r.get("IssueField") or ""),
                    closed=r.get("CompletedField") in (True, "true", "True", 1),
                    description=r.get("DescriptionField") or "",
                    address=r.get("LocationDescriptionField") or r.get("AddressField") or None,
                    zipcode=r.get("ZipCodeField") or None,
                    created=self.clock.utc(r.get("EntryDateField")),
                )
            )
        return out

    async def read_back(self, linked: list[str], since: datetime | None, counts: Counts) -> list[Seen]:
        """`since` given: the requests modified since then (any, linked or not: the poll's cursor follows them
        all); otherwise the linked ones by Oid, a hundred per call. Comments are read per request on demand."""
        calls = self.og.calls
        if since is None:
            oids = sorted(int(v) for v in linked)
            records = []
            for start in range(0, len(oids), BATCH):
                records += await self.og.by_oids(REQUESTS, oids[start : start + BATCH])
        else:
            records = await self.og.modified_since(REQUESTS, self.clock.since_text(since))
        counts["vendor_calls"] += self.og.calls - calls  # every page, however many the server cut the list into
        return [
            Seen(
                str(r["Oid"]),
                r.get("StatusField"),
                r.get("ResponseNotesField") or None,
                r.get("cgLastModifiedField"),
                self.clock.utc(r.get("cgLastModifiedField")),
                r,
            )
            for r in records
        ]

    async def comments(self, seen: Seen, counts: Counts) -> list[Comment]:
        counts["vendor_calls"] += 1
        found = await self.og.children(REQUESTS, int(seen.vendor_id), self.og.comment_class)
        return [
            # OG-COM-2: public comments only; when: the vendor's time, not the poll's
            Comment(str(c["Oid"]), _public(c), self.clock.utc(c.get("EntryDateField")))
            for c in found
        ]

    async def download(self, image: Image, counts: Counts) -> bytes:
        raise Rejected("the OpenGov poll imports no attachments")


def _public(comment: dict[str, Any]) -> str | None:
    text = (comment.get("CommentField") or "").strip()
    return text if text and comment.get("PublicField") else None
