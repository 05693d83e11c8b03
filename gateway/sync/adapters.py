"""One vendor-neutral face for the outbox: find by the gateway's own reference, create, comment, attach.
Each vendor's adapter maps the public request onto that vendor's records."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Protocol

from ..connectors.cityworks import Cityworks
from ..connectors.http import Http, Rejected
from ..connectors.opengov import Opengov, quoted
from ..domain.questions import requester_answers, vendor_answers
from ..domain.requesters import requester_fields
from ..domain.vendor_time import VendorClock
from .vendors import connector, opengov_connector

APP_NAME = "civic-harness"
# Per vendor and e-mail: held while a requester is looked up and, if missing, created (weakly kept: a lock
# nobody holds or waits for is dropped).
_REQUESTER_LOCKS: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()
REQUESTS = "cgRequestsClass"


class Adapter(Protocol):
    async def find_request(self, request: dict[str, Any], category: dict[str, Any]) -> str | None: ...

    async def create_request(
        self, request: dict[str, Any], category: dict[str, Any], answers: list[dict[str, Any]]
    ) -> str: ...

    async def find_comment(self, vendor_id: str, text: str) -> str | None: ...

    async def add_comment(self, vendor_id: str, text: str) -> str: ...

    async def find_attachment(self, vendor_id: str, filename: str) -> str | None: ...

    async def add_attachment(self, vendor_id: str, filename: str, content: bytes) -> str: ...


class CityworksAdapter:
    """Service requests by default; a category in work-order mode (CW-MODE-1) becomes a work order, found
    again by the gateway's reference in Text1 (work orders have no OtherSystemId). A work order's vendor id
    is "wo:{WorkOrderId}:{WorkOrderSid}"."""

    def __init__(self, cw: Cityworks, clock: VendorClock | None = None) -> None:
        self.cw = cw
        self.clock = clock or VendorClock()

    @staticmethod
    def _wo(vendor_id: str) -> tuple[str, int] | None:
        if not vendor_id.startswith("wo:"):
            return None
        _, wo_id, sid = vendor_id.split(":", 2)
        return wo_id, int(sid)

    async def find_request(self, request: dict[str, Any], category: dict[str, Any]) -> str | None:
        if (category["vendor_id"] or "").startswith("wo:"):
            found = await self.cw.work_orders_by_text1(request["public_id"])
            return f"wo:{found[0]['WorkOrderId']}:{found[0]['WorkOrderSid']}" if found else None
        found = await self.cw.by_other_system_id(request["public_id"])
        return str(found[0]["RequestId"]) if found else None

    def _location(self, request: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {"InitiatedByApp": APP_NAME}
        if request["lat"] is not None:
            fields.update(X=request["long"], Y=request["lat"])
        address = request["validated_address"] or request["address"]  # GEO-3: the locator's address first
        if address:
            fields["Address"] = address
        return fields

    async def create_request(
        self, request: dict[str, Any], category: dict[str, Any], answers: list[dict[str, Any]]
    ) -> str:
        if not category["vendor_id"]:
            raise Rejected(f"category {category['code']} has no vendor id")
        if category["vendor_id"].startswith("wo:"):
            template_id = category["vendor_id"].removeprefix("wo:")
            template = next((t for t in await self.cw.templates() if t["WOTemplateId"] == template_id), None)
            if template is None:
                raise Rejected(f"Cityworks has no public work order template {template_id}")
            fields = {
                **self._location(request),
                "WOTemplateId": template_id,
                "EntityType": template["ApplyToEntity"],
                "Text1": request["public_id"],
                "Comments": request["description"],
            }
            created = await self.cw.create_work_order(fields)
            return f"wo:{created['WorkOrderId']}:{created['WorkOrderSid']}"
        fields = {
            **self._location(request),
            "ProblemSid": int(category["vendor_id"]),
            "Details": request["description"],
            "OtherSystemId": request["public_id"],
        }
        optional = {
            "Zip": request["zipcode"],
            "CallerEmail": request["email"],
            "CallerFirstName": request["first_name"],
            "CallerLastName": request["last_name"],
            "CallerHomePhone": request["phone"],
        }
        fields.update({k: v for k, v in optional.items() if v})
        if given := vendor_answers(answers, self.clock):
            fields["Answers"] = given
        return str((await self.cw.create_request(fields))["RequestId"])

    async def find_comment(self, vendor_id: str, text: str) -> str | None:
        wo = self._wo(vendor_id)
        existing = await (self.cw.activity_comments(2, wo[1]) if wo else self.cw.comments(int(vendor_id)))
        sent = next((c for c in existing if (c.get("Comments") or "").strip() == text.strip()), None)
        return str(sent["CommentId"]) if sent else None

    async def add_comment(self, vendor_id: str, text: str) -> str:
        wo = self._wo(vendor_id)
        added = await (
            self.cw.add_activity_comment(2, wo[1], text) if wo else self.cw.add_comment(int(vendor_id), text)
        )
        return str((added or {}).get("CommentId", ""))

    async def find_attachment(self, vendor_id: str, filename: str) -> str | None:
        wo = self._wo(vendor_id)
        existing = await (self.cw.work_order_attachments(wo[0]) if wo else self.cw.attachments(int(vendor_id)))
        match = next((x for x in existing if (x.get("Attachment") or "").endswith(filename)), None)
        return str(match.get("Id", "")) if match else None

    async def add_attachment(self, vendor_id: str, filename: str, content: bytes) -> str:
        wo = self._wo(vendor_id)
        if wo:
            added = await self.cw.add_work_order_attachment(wo[0], filename, content)
        else:
            added = await self.cw.add_attachment(int(vendor_id), filename, content)
        return str(added.get("Id", ""))


class OpengovAdapter:
    def __init__(self, og: Opengov) -> None:
        self.og = og

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

    async def find_comment(self, vendor_id: str, text: str) -> str | None:
        existing = await self.og.children(REQUESTS, int(vendor_id), self.og.comment_class)
        match = next((c for c in existing if (c.get("CommentField") or "").strip() == text.strip()), None)
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


def adapter(http: Http, integration: dict[str, Any]) -> Adapter:
    if integration["vendor"] == "cityworks":
        return CityworksAdapter(connector(http, integration), VendorClock.of(integration))
    if integration["vendor"] == "opengov":
        return OpengovAdapter(opengov_connector(http, integration))
    raise Rejected(f"no connector for vendor {integration['vendor']!r}")
