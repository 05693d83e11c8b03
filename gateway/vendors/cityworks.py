"""Cityworks as the gateway sees it: every rule of how a public request maps onto Cityworks lives here.

Service requests by default; a category in work-order mode (CW-MODE-1) becomes a work order, found again by
the gateway's reference in Text1 (work orders have no OtherSystemId). A work order's vendor id is
"wo:{WorkOrderId}:{WorkOrderSid}", and a work-order category's vendor id "wo:{WOTemplateId}". Comments and
attachments are public when they carry the "To SCF:" prefix (CW-ICM-1, CW-IMG-1); dates without an offset
are in the integration's time zone (VendorClock)."""

from __future__ import annotations

import json
from collections.abc import Collection
from datetime import datetime
from typing import Any

from ..connectors.cityworks import Cityworks
from ..connectors.http import Http, Rejected
from ..domain.answer_formats import shape
from ..domain.comments import public_text
from ..domain.questions import synced_is_public, synced_is_required, vendor_answers
from ..domain.vendor_time import VendorClock
from .side import APP_NAME, Candidate, Comment, Counts, Image, Seen

BATCH = 100  # ids per ByIds / comment / attachment call
SR, WO = 1, 2  # Cityworks' activity types
# Cityworks keeps no modification stamp the poll could use, and comment rules are OpenGov's: a Seen's
# modified, modified_at and record.
NO_STAMP = (None, None, None)


def _wo(vendor_id: str) -> tuple[str, int] | None:
    """(WorkOrderId, WorkOrderSid) of a work order's vendor id; None for a service request's."""
    if not vendor_id.startswith("wo:"):
        return None
    _, wo_id, sid = vendor_id.split(":", 2)
    return wo_id, int(sid)


def _wo_id(work_order: dict[str, Any]) -> str:
    return f"wo:{work_order['WorkOrderId']}:{work_order['WorkOrderSid']}"


def questions_from_qa(qa: dict[str, Any]) -> list[dict[str, Any]]:
    """Cityworks QA -> the gateway's question rows (CW-QA-1..4, pure): typed by their answers' formats
    (gateway.domain.answer_formats), private when the text mentions e-mail or phone, always required."""
    answers: dict[int, list[dict[str, Any]]] = {}
    for a in qa.get("Answers") or []:
        answers.setdefault(a["QuestionId"], []).append(a)
    out = []
    for q in sorted(qa.get("Questions") or [], key=lambda q: (q.get("QuestionSequence", 0), q["QuestionId"])):
        options = sorted(answers.get(q["QuestionId"], []), key=lambda a: (a.get("AnswerSequence", 0), a["AnswerId"]))
        asked = shape(options)
        if asked is None:
            continue  # no answers, or only ones Cityworks calculates: nothing to ask
        text = q["Question"][:1000]
        out.append(
            {
                "code": f"Q{q['QuestionId']}",
                "text": text,
                "datatype": asked.datatype,
                "required": synced_is_required(True),
                "public": synced_is_public(text),
                "position": len(out) + 1,
                "integration_key": None,
                "choices": json.dumps([{"key": str(key), "name": name[:200]} for key, name in asked.choices]),
                "synced": True,
                "vendor_ref": json.dumps(
                    {"question": q["QuestionId"], "answer": asked.free_answer, "format": asked.fmt}
                ),
            }
        )
    return out


class CityworksSide:
    versions = ("2013", "2014", "2015", *(f"15.{n}" for n in range(9)), "23")
    # the status codes of a default Cityworks site (ServiceRequest/Statuses), as the public sees them
    default_status_map = (
        {"vendor": "OPEN", "public": "open"},
        {"vendor": "PENDING", "public": "open"},
        {"vendor": "INPROG", "public": "acknowledged"},
        {"vendor": "WOCREATE", "public": "acknowledged"},
        {"vendor": "REFERRED", "public": "acknowledged"},
        {"vendor": "CLOSED", "public": "closed"},
        {"vendor": "CANCEL", "public": "closed"},
    )
    category_key = "vendor_id"  # a Cityworks SR names its problem type by ProblemSid
    incremental = False  # its search has no modification-time filter: every linked request is read back
    has_questions = True  # Cityworks QA

    def __init__(self, cw: Cityworks, clock: VendorClock, default_mode: str | None = None) -> None:
        self.cw, self.clock = cw, clock
        self.category_mode = default_mode

    @classmethod
    def of(cls, http: Http, integration: dict[str, Any]) -> CityworksSide:
        cw = Cityworks(
            http,
            integration["base_url"],
            integration["version"],
            integration["username"] or "",
            integration["secret"] or "",
            integration["login_url"],
        )
        return cls(cw, VendorClock.of(integration), integration.get("default_mode"))

    # -- delivery ------------------------------------------------------------------------------------

    async def find_request(self, request: dict[str, Any], category: dict[str, Any]) -> str | None:
        if (category["vendor_id"] or "").startswith("wo:"):
            found = await self.cw.work_orders_by_text1(request["public_id"])
            return _wo_id(found[0]) if found else None
        found = await self.cw.by_other_system_id(request["public_id"])
        return str(found[0]["RequestId"]) if found else None

    @staticmethod
    def _location(request: dict[str, Any]) -> dict[str, Any]:
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
            return _wo_id(await self.cw.create_work_order(fields))
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

    async def find_comment(self, vendor_id: str, text: str, taken: Collection[str] = ()) -> str | None:
        wo = _wo(vendor_id)
        existing = await (self.cw.activity_comments(WO, wo[1]) if wo else self.cw.comments(int(vendor_id)))
        sent = next(
            (
                c
                for c in existing
                if (c.get("Comments") or "").strip() == text.strip() and str(c.get("CommentId")) not in taken
            ),
            None,
        )
        return str(sent["CommentId"]) if sent else None

    async def add_comment(self, vendor_id: str, text: str) -> str:
        wo = _wo(vendor_id)
        added = await (
            self.cw.add_activity_comment(WO, wo[1], text) if wo else self.cw.add_comment(int(vendor_id), text)
        )
        return str((added or {}).get("CommentId", ""))

    async def find_attachment(self, vendor_id: str, filename: str) -> str | None:
        wo = _wo(vendor_id)
        existing = await (self.cw.work_order_attachments(wo[0]) if wo else self.cw.attachments(int(vendor_id)))
        match = next((x for x in existing if (x.get("Attachment") or "").endswith(filename)), None)
        return str(match.get("Id", "")) if match else None

    async def add_attachment(self, vendor_id: str, filename: str, content: bytes) -> str:
        wo = _wo(vendor_id)
        if wo:
            added = await self.cw.add_work_order_attachment(wo[0], filename, content)
        else:
            added = await self.cw.add_attachment(int(vendor_id), filename, content)
        return str(added.get("Id", ""))

    # -- configuration -------------------------------------------------------------------------------

    async def categories(self) -> dict[str, tuple[str, str]]:
        if self.category_mode == "wo":  # CW-MODE-1: the Work Order Basic API's public templates
            return {
                f"wo:{t['WOTemplateId']}": (f"WO-{t['WOTemplateId']}", t.get("Description") or "")
                for t in await self.cw.templates()
            }
        return {
            str(p["ProblemSid"]): (p.get("ProblemCode") or str(p["ProblemSid"]), p.get("Description") or "")
            for p in await self.cw.problems()
        }

    async def questions(self, category: dict[str, Any]) -> list[dict[str, Any]]:
        return questions_from_qa(await self.cw.qa(int(category["vendor_id"])))

    # -- reading back --------------------------------------------------------------------------------

    async def candidates(self, since: datetime | None) -> list[Candidate]:
        """SRs only: work orders are never imported."""
        query: dict[str, Any] = {"Canceled": False}
        if since is not None:
            query["DateTimeInitBegin"] = self.clock.since_text(since)
        ids = await self.cw.search_requests(query)
        out = []
        for start in range(0, len(ids), BATCH):
            for sr in await self.cw.requests_by_ids(ids[start : start + BATCH]):
                out.append(
                    Candidate(
                        vendor_id=str(sr["RequestId"]),
                        ours=sr.get("InitiatedByApp") == APP_NAME or bool(sr.get("OtherSystemId")),
                        x=sr.get("SRX"),
                        y=sr.get("SRY"),
                        category=str(sr.get("ProblemSid")),
                        closed=bool(sr.get("IsClosed")),
                        description=sr.get("Details") or sr.get("Description") or "",
                        address=sr.get("ProbAddress") or None,
                        zipcode=sr.get("ProbZip") or None,
                        created=self.clock.utc(sr.get("DateTimeInit")),
                    )
                )
        return out

    async def read_back(self, linked: list[str], since: datetime | None, counts: Counts) -> list[Seen]:
        """In batches: per hundred work orders one ByIds and one comment call; per hundred SRs one ByIds, one
        Comment/ByActivitySids and one RequestAttachments call (a download only for an image the poll wants)."""
        work_orders = {v.split(":")[1]: v for v in linked if _wo(v)}
        requests = {int(v): v for v in linked if not _wo(v)}
        out: list[Seen] = []
        ids = sorted(work_orders)
        for start in range(0, len(ids), BATCH):
            found = [
                wo
                for wo in await self.cw.work_orders_by_ids(ids[start : start + BATCH])
                if str(wo["WorkOrderId"]) in work_orders
            ]
            counts["vendor_calls"] += 1
            if not found:
                continue
            comments = await self.cw.comments_of(WO, [wo["WorkOrderSid"] for wo in found])
            counts["vendor_calls"] += 1
            for wo in found:
                seen = Seen(work_orders[str(wo["WorkOrderId"])], wo.get("Status"), None, *NO_STAMP)
                seen.comments = self._comments(comments.get(str(wo["WorkOrderSid"]), []))
                out.append(seen)
        rids = sorted(requests)
        for start in range(0, len(rids), BATCH):
            found = [
                sr for sr in await self.cw.requests_by_ids(rids[start : start + BATCH]) if sr["RequestId"] in requests
            ]
            counts["vendor_calls"] += 1
            if not found:
                continue
            present = [sr["RequestId"] for sr in found]
            comments = await self.cw.comments_of(SR, present)
            attachments: dict[int, list[dict[str, Any]]] = {}
            for attachment in await self.cw.attachments_of(present):
                attachments.setdefault(int(attachment["RequestId"]), []).append(attachment)
            counts["vendor_calls"] += 2
            for sr in found:
                seen = Seen(requests[sr["RequestId"]], sr.get("Status"), sr.get("Resolution") or None, *NO_STAMP)
                seen.comments = self._comments(comments.get(str(sr["RequestId"]), []))
                seen.images = [self._image(a) for a in attachments.get(sr["RequestId"], [])]
                out.append(seen)
        return out

    def _comments(self, found: list[dict[str, Any]]) -> list[Comment]:
        # when: the vendor's time, not the poll's
        return [
            Comment(str(c["CommentId"]), public_text(c.get("Comments")), self.clock.utc(c.get("DateCreated")))
            for c in found
        ]

    def _image(self, attachment: dict[str, Any]) -> Image:
        return Image(
            str(attachment["Id"]),
            public_text(attachment.get("Comments")),  # attachments without the prefix stay private
            (attachment.get("Attachment") or "image").rsplit("/", 1)[-1][-255:],
            self.clock.utc(attachment.get("DateTimeAttached")),
        )

    async def comments(self, seen: Seen, counts: Counts) -> list[Comment]:
        return seen.comments or []

    async def download(self, image: Image, counts: Counts) -> bytes:
        counts["vendor_calls"] += 1
        return await self.cw.download_attachment(int(image.id))
