"""OpenGov Enterprise Asset Management (formerly Cartegraph): class-keyed REST with HTTP Basic, the bracketed
filter language, lists paged on Oid (the vendor's limit/offset paging only cuts pages), `{"Message": ...}` errors
with real HTTP statuses."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from contracts import opengov_paging as paging

from .http import Http, Rejected, Uncertain

OID = re.compile(r"/\d+(?=/|$)")


def quoted(value: str) -> str:
    """A string for the filter language (double quotes inside escaped by doubling, as the vendor reads them)."""
    return '"' + value.replace('"', '""') + '"'


def operation_of(method: str, path: str) -> str:
    """A call's name for metrics and spans: the method and the path with record ids as `{oid}`."""
    return f"{method} {OID.sub('/{oid}', path)}"


class Opengov:
    def __init__(
        self,
        http: Http,
        base_url: str,
        login: str,
        password: str,
        *,
        requester_class: str = "cgRequestersClass",
        comment_class: str = "cgRequests_cgCommentsClass",
        id_field: str = "IntegrationIDField",
        modified_filter: str = "cgLastModified",  # inferred: the bracket name of the system field in filters
    ) -> None:
        self.http, self.base = http, base_url.rstrip("/") + "/api/v1"
        self.headers = {"Authorization": aiohttp.encode_basic_auth(login, password)}
        self.requester_class, self.comment_class, self.id_field = requester_class, comment_class, id_field
        self.modified_filter = modified_filter
        self.calls = 0  # calls made through this connector (a job's cost at the vendor)

    async def _call(self, method: str, path: str, *, idempotent: bool, **kwargs: Any) -> Any:
        self.calls += 1
        async with self.http.observed("opengov", operation_of(method, path)):
            reply = await self.http.request(
                method, f"{self.base}/{path}", idempotent=idempotent, headers=self.headers, **kwargs
            )
            if reply.status == 304:
                return None
            body = reply.json() if reply.body else None
            if reply.status >= 400:
                message = body.get("Message") if isinstance(body, dict) else None
                raise Rejected(f"OpenGov {method} {path}: HTTP {reply.status}: {message or 'no message'}", reply.status)
            if body is None:
                raise Uncertain(f"OpenGov {method} {path}: an empty answer", fault="empty")
            return body

    @staticmethod
    def _records(body: Any, class_name: str) -> list[dict[str, Any]]:
        key = next((k for k in body if k.lower() == class_name.lower()), None) if isinstance(body, dict) else None
        if key is None:
            raise Uncertain(f"OpenGov answered without {class_name}")
        return body[key]

    async def records(self, class_name: str, **params: Any) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        body = await self._call("GET", f"classes/{class_name}", idempotent=True, params=params)
        records = self._records(body, class_name)  # Uncertain unless a mapping holding the class
        meta = body.get("_metadata")
        return records, meta if isinstance(meta, dict) else {}

    async def all_records(self, class_name: str, filter: str | None = None) -> list[dict[str, Any]]:
        """Every matching record, each once, paged on Oid to exhaustion (AGY-4, OG-PAGE-1): the rule and why
        are contracts/opengov_paging.py, which `capture opengov` shares. A page that does not move past the
        last Oid read, or a record without an Oid, is Uncertain."""
        out: list[dict[str, Any]] = []
        after: int | None = None
        while True:
            page, meta = await self.records(class_name, **paging.params(after, filter))
            out += page
            try:
                after = paging.next_after(class_name, page, meta, after)
            except paging.NoProgress as exc:
                raise Uncertain(str(exc), fault="paging") from None
            except paging.NoOid as exc:
                raise Uncertain(str(exc), fault="envelope") from None
            if after is None:
                return out

    async def get(self, class_name: str, oid: int) -> dict[str, Any] | None:
        try:
            body = await self._call("GET", f"classes/{class_name}/{oid}", idempotent=True)
        except Rejected as err:
            if err.status == 404:
                return None
            raise
        found = self._records(body, class_name)
        return found[0] if found else None

    async def create(self, class_name: str, record: dict[str, Any], path: str | None = None) -> dict[str, Any]:
        body = await self._call(
            "POST", path or f"classes/{class_name}", idempotent=False, json_body={class_name: [record]}
        )
        return self._records(body, class_name)[0]

    async def modified_since(self, class_name: str, since: str) -> list[dict[str, Any]]:
        """Records modified at or after a vendor timestamp (an incremental poll), in Oid order: sorted by the
        modification time, a record modified while the poll pages would jump to the end and push one unread
        record back onto a page already read (OG-PAGE-1)."""
        clause = f"(([{self.modified_filter}] is greater than or equal to {quoted(since)}))"
        return await self.all_records(class_name, clause)

    async def by_oids(self, class_name: str, oids: list[int]) -> list[dict[str, Any]]:
        """Many records by Oid in one call (the `in (...)` form of the filter language)."""
        if not oids:
            return []
        return await self.all_records(class_name, f"(([Oid] in ({','.join(str(int(o)) for o in oids)})))")

    async def children(self, parent: str, oid: int, child: str) -> list[dict[str, Any]]:
        body = await self._call("GET", f"classes/{parent}/{oid}/{child}", idempotent=True)
        return self._records(body, child)

    async def add_child(self, parent: str, oid: int, child: str, record: dict[str, Any]) -> dict[str, Any]:
        return await self.create(child, record, path=f"classes/{parent}/{oid}/{child}")

    @staticmethod
    def attachment_class(parent: str) -> str:
        """cgRequestsClass -> cgRequests_cgAttachmentsClass, as the vendor names child classes."""
        return f"{parent.removesuffix('Class')}_cgAttachmentsClass"

    async def upload(self, parent: str, oid: int, filename: str, content: bytes) -> dict[str, Any]:
        attachment_class = self.attachment_class(parent)
        form = aiohttp.FormData()
        form.add_field("file", content, filename=filename, content_type="application/octet-stream")
        body = await self._call(
            "POST",
            f"attachments/{parent}/{oid}/{attachment_class}",
            idempotent=False,
            data=form,
            params={"fileName": filename},
        )
        return self._records(body, attachment_class)[0]
