"""Cityworks over its RPC-style API, every version family: `{site}/Services/{Area}/{Service}/{Method}`, the
request as a `data` form field, the token as a form field before 23 and as `Authorization: cityworks <token>`
from 23 on, and an envelope whose Status (not the HTTP status) says whether the call worked."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from .http import Http, Rejected, Uncertain

NEW_AUTH = "/Services/General/Authentication/Authenticate"
ONLINE_AUTH = "/Services/General/Authentication/CityworksOnlineAuthenticate"
OLD_AUTH = "/Services/Authentication/Authenticate"
OK, ERROR, UNAUTHORIZED, INVALID_CREDENTIALS = 0, 1, 2, 3
READS = {
    "Templates",
    "ByActivitySids",
    "WorkOrderAttachments",
    "Problems",
    "QA",
    "ById",
    "ByIds",
    "ByOtherSystemId",
    "Search",
    "Comments",
    "RequestAttachments",
    "DownloadRequestAttachment",
    "Statuses",
}


def operation_of(path: str) -> str:
    """A call's name for metrics and spans: its service and method (`ServiceRequest/Create`)."""
    return "/".join(path.rstrip("/").split("/")[-2:])


def family(version: str) -> str:
    if version.startswith("15."):
        return "15"
    return version


class Cityworks:
    def __init__(
        self, http: Http, base_url: str, version: str, login: str, password: str, login_url: str | None = None
    ) -> None:
        self.http, self.base_url = http, base_url.rstrip("/")
        self.login_url = login_url.rstrip("/") if login_url else None
        self.family = family(version)
        self.login, self._password = login, password
        self._token: str | None = None
        # One sign-in at a time: calls made together while there is no good token wait for the same one.
        self._signing_in = asyncio.Lock()

    @property
    def header_auth(self) -> bool:
        return self.family == "23"

    async def _authenticate(self) -> str:
        path = OLD_AUTH if self.family in ("2013", "2014") else NEW_AUTH
        password = self._password
        if self.login_url:  # Cityworks Online: log in there; its token is the site's password
            online = await self._call(
                ONLINE_AUTH, {"LoginName": self.login, "Password": password}, token=None, read=True, base=self.login_url
            )
            password = (online or {}).get("Token") or ""
            if not password:
                raise Rejected("Cityworks Online answered the login without a token")
        value = await self._call(path, {"LoginName": self.login, "Password": password}, token=None, read=True)
        token = (value or {}).get("Token")
        if not token:
            raise Rejected("Cityworks answered the login without a token")
        return token

    async def call(
        self, path: str, data: Any = None, *, files: dict[str, tuple[str, bytes]] | None = None, raw: bool = False
    ) -> Any:
        """The envelope's Value (or, with `raw`, a file's bytes); a lapsed token is renewed once."""
        read = path.rsplit("/", 1)[-1] in READS
        token = await self._token_other_than(None)
        try:
            return await self._call(path, data, token=token, read=read, files=files, raw=raw)
        except Rejected as err:
            if err.status != UNAUTHORIZED:
                raise
        token = await self._token_other_than(token)
        return await self._call(path, data, token=token, read=read, files=files, raw=raw)

    async def _token_other_than(self, stale: str | None) -> str:
        """A token that is not `stale`: the one held, or a new sign-in if the held one is `stale` (another
        call may have signed in again already while this one waited)."""
        async with self._signing_in:
            if self._token is None or self._token == stale:
                self._token = await self._authenticate()
            return self._token

    async def _call(
        self,
        path: str,
        data: Any,
        *,
        token: str | None,
        read: bool,
        files: dict[str, tuple[str, bytes]] | None = None,
        raw: bool = False,
        base: str | None = None,
    ) -> Any:
        headers = {}
        fields: dict[str, str] = {}
        if data is not None:
            fields["data"] = json.dumps(data)
        if token is not None:
            if self.header_auth:
                headers["Authorization"] = f"cityworks {token}"
            else:
                fields["token"] = token
        body: Any = fields
        if files:
            form = aiohttp.FormData()
            for name, value in fields.items():
                form.add_field(name, value)
            for name, (filename, content) in files.items():
                form.add_field(name, content, filename=filename, content_type="application/octet-stream")
            body = form
        url = (base or self.base_url) + path
        async with self.http.observed("cityworks", operation_of(path)):
            reply = await self.http.request("POST", url, idempotent=read, data=body, headers=headers)
            if raw and reply.status == 200 and reply.content_type != "application/json":
                return reply.body
            if reply.status == 404:
                raise Rejected(f"Cityworks has no {path} (HTTP 404)", reply.status)
            if reply.status >= 400:
                raise Rejected(f"Cityworks answered HTTP {reply.status} to {path}", reply.status)
            envelope = reply.json()
            if not isinstance(envelope, dict) or "Status" not in envelope:
                raise Uncertain(f"Cityworks answered {path} without an envelope", fault="no_envelope")
            status = envelope["Status"]
            if status != OK:
                items = envelope.get("ErrorMessages") or []
                detail = "; ".join(
                    str(i.get("DisplayText") or i.get("Name") or "") for i in items if isinstance(i, dict)
                )
                message = envelope.get("Message") or detail or "no message"
                # A Status 1 envelope with HTTP 200 is an error, never a success.
                raise Rejected(
                    f"Cityworks {path}: Status {status}: {message}",
                    UNAUTHORIZED if status == 2 else status,
                    fault="envelope",
                )
            return envelope.get("Value")

    # -- service requests --------------------------------------------------------------------------

    async def problems(self) -> list[dict[str, Any]]:
        return await self.call("/Services/Ams/ServiceRequest/Problems", {"ForPublicOnly": True}) or []

    async def create_request(self, fields: dict[str, Any]) -> dict[str, Any]:
        return await self.call("/Services/Ams/ServiceRequest/Create", fields)

    async def by_other_system_id(self, reference: str) -> list[dict[str, Any]]:
        return await self.call("/Services/Ams/ServiceRequest/ByOtherSystemId", {"OtherSystemId": reference}) or []

    async def add_comment(self, request_id: int, text: str) -> Any:
        return await self.call("/Services/Ams/ServiceRequest/AddComments", {"RequestId": request_id, "Comments": text})

    async def comments(self, request_id: int) -> list[dict[str, Any]]:
        return await self.call("/Services/Ams/ServiceRequest/Comments", {"RequestId": request_id}) or []

    async def add_attachment(self, request_id: int, filename: str, content: bytes) -> dict[str, Any]:
        data = {"RequestId": request_id, "Filename": filename}
        return await self.call(
            "/Services/Ams/Attachments/AddRequestAttachment", data, files={"file": (filename, content)}
        )

    async def attachments(self, request_id: int) -> list[dict[str, Any]]:
        return await self.attachments_of([request_id])

    async def attachments_of(self, request_ids: list[int]) -> list[dict[str, Any]]:
        """The attachments of many SRs in one call (each names its RequestId)."""
        return await self.call("/Services/Ams/Attachments/RequestAttachments", {"RequestIds": request_ids}) or []

    async def requests_by_ids(self, request_ids: list[int]) -> list[dict[str, Any]]:
        return await self.call("/Services/Ams/ServiceRequest/ByIds", {"RequestIds": request_ids}) or []

    async def search_requests(self, query: dict[str, Any]) -> list[int]:
        """The ids of the SRs a Search matches (its fields as Cityworks names them)."""
        return await self.call("/Services/Ams/ServiceRequest/Search", query) or []

    async def qa(self, problem_sid: int) -> dict[str, Any]:
        """A problem type's questions and their answers."""
        return await self.call("/Services/Ams/ServiceRequest/QA", {"ProblemSid": problem_sid}) or {}

    async def download_attachment(self, attachment_id: int) -> bytes:
        data = await self.call(
            "/Services/Ams/Attachments/DownloadRequestAttachment", {"AttachmentId": attachment_id}, raw=True
        )
        if not isinstance(data, bytes):
            raise Rejected(f"attachment {attachment_id}: no file in the answer")
        return data

    # -- work orders (the Work Order Basic API) ------------------------------------------------------

    async def templates(self) -> list[dict[str, Any]]:
        return await self.call("/Services/Ams/WorkOrder/Templates", {"ForPublicOnly": True}) or []

    async def create_work_order(self, fields: dict[str, Any]) -> dict[str, Any]:
        created = await self.call("/Services/Ams/WorkOrder/Create", fields)
        return created[0] if isinstance(created, list) else created

    async def work_orders_by_text1(self, reference: str) -> list[dict[str, Any]]:
        ids = await self.call("/Services/Ams/WorkOrder/Search", {"Text1": [reference]}) or []
        return await self.work_orders_by_ids([str(i) for i in ids]) if ids else []

    async def work_orders_by_ids(self, work_order_ids: list[str]) -> list[dict[str, Any]]:
        return await self.call("/Services/Ams/WorkOrder/ByIds", {"WorkOrderIds": work_order_ids}) or []

    async def activity_comments(self, activity_type: int, sid: int) -> list[dict[str, Any]]:
        return (await self.comments_of(activity_type, [sid])).get(str(sid), [])

    async def comments_of(self, activity_type: int, sids: list[int]) -> dict[str, list[dict[str, Any]]]:
        """The comments of many activities (1 SR by RequestId, 2 WO by WorkOrderSid) in one call, by sid."""
        found = await self.call(
            "/Services/Ams/Comment/ByActivitySids", {"ActivityType": activity_type, "ActivitySids": sids}
        )
        if not isinstance(found, dict):
            return {}
        return {str(k): v or [] for k, v in found.items()}

    async def add_activity_comment(self, activity_type: int, sid: int, text: str) -> dict[str, Any]:
        data = {"ActivityType": activity_type, "ActivitySid": sid, "Comments": text}
        return await self.call("/Services/Ams/Comment/Add", data) or {}

    async def add_work_order_attachment(self, work_order_id: str, filename: str, content: bytes) -> dict[str, Any]:
        data = {"WorkOrderId": work_order_id, "Filename": filename}
        return await self.call(
            "/Services/Ams/Attachments/AddWorkOrderAttachment", data, files={"file": (filename, content)}
        )

    async def work_order_attachments(self, work_order_id: str) -> list[dict[str, Any]]:
        return (
            await self.call("/Services/Ams/Attachments/WorkOrderAttachments", {"WorkOrderIds": [work_order_id]}) or []
        )
