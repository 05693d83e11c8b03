"""OpenGov Enterprise Asset Management (formerly Cartegraph): class-keyed REST with HTTP Basic, the bracketed
filter language, lists paged on Oid (the vendor's limit/offset paging only cuts pages), `{"Message": ...}` errors
with real HTTP statuses."""

from __future__ import annotations

import re
from typing import Any

import aiohttp

from .http import Http, Rejected, Uncertain

PAGE = 1000
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
        """Every matching record, each once, paged on Oid to exhaustion (AGY-4, OG-PAGE-1).

        Not by offset: other users write between the pages (an issue retired, a request deleted, a record
        modified), and every such write shifts an offset window, so a record slides back onto a page already
        read and is never seen, or another is read twice. Oid never changes: each page asks for the records
        after the last Oid read, in Oid order, so every record that matches throughout is read exactly once
        (one written meanwhile is read in its new state, or by the next run). The end: a page holding no more
        than the server says are left (`totalCount`), or fewer than a page holds (`_metadata.limit`, for a
        server that caps `limit`).

        A page that does not move past the last Oid read (a server that ignores the filter's Oid clause or the
        sort) is Uncertain: reading on would loop for ever.
        """
        out: list[dict[str, Any]] = []
        after: int | None = None
        while True:
            clauses = [c for c in (filter, f"([Oid] is greater than {after})" if after is not None else None) if c]
            params: dict[str, Any] = {"limit": PAGE, "sort": "Oid:asc"}
            if clauses:
                params["filter"] = clauses[0] if len(clauses) == 1 else f"({' AND '.join(clauses)})"
            page, meta = await self.records(class_name, **params)
            out += page
            total, limit = meta.get("totalCount"), meta.get("limit")
            holds = min(PAGE, limit) if isinstance(limit, int) and not isinstance(limit, bool) and limit > 0 else PAGE
            if not page or (len(page) >= total if isinstance(total, int) else len(page) < holds):
                return out
            last = max(_oid(r, class_name) for r in page)
            if after is not None and last <= after:
                raise Uncertain(
                    f"OpenGov {class_name}: a page after Oid {after} ends at Oid {last}: the server did not narrow "
                    "the list by Oid, so paging cannot go on",
                    fault="paging",
                )
            after = last

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


def _oid(record: Any, class_name: str) -> int:
    oid = record.get("Oid") if isinstance(record, dict) else None
    if not isinstance(oid, int) or isinstance(oid, bool):
        raise Uncertain(f"OpenGov {class_name}: a listed record without an integer Oid", fault="envelope")
    return oid
