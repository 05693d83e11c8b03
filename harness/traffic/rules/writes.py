"""The writes a gateway makes at a vendor, read from the conversation in each vendor's terms: creates under the
gateway's own reference, comments on a record, requesters, attachment uploads and downloads, and the reads that
look each of them up. The delivery rules (delivery.py) judge these; this module only reads."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from .. import forms
from ..analysis import Profile
from ..exchange import ANSWERED, UNREACHABLE, Exchange
from .reading import (
    cw_data,
    cw_ok,
    cw_status,
    cw_value,
    is_operation,
    json_answer,
    json_body,
    member,
    og_class_call,
    og_filter,
    og_ok,
    og_records,
)


@dataclass(frozen=True, slots=True)
class Write:
    key: str  # the record written to (a comment's request), or the reference a create carries
    value: str  # what was written: the comment's text, the reference, the requester's identity
    ex: Exchange
    ok: bool  # the vendor answered that it took effect

    @property
    def uncertain(self) -> bool:
        """It may have taken effect without the client learning it: no answer (but for a refused connection) or a
        server error. A refusal (4xx, 429, a Cityworks envelope with Status not 0) is certain: nothing happened."""
        ex = self.ex
        if ex.status is None:
            return ex.outcome != UNREACHABLE
        return ex.status >= 500


@dataclass(frozen=True, slots=True)
class Lookup:
    key: str  # what was looked up: a reference, a record's comments, a filter's text
    ex: Exchange
    found: tuple[str, ...] = ()  # what the read answered (comment texts, in the order given)


def _ok(p: Profile, ex: Exchange) -> bool:
    return cw_ok(ex) if p.kind == "cityworks" else og_ok(ex)


def _text(value: Any) -> str:
    return value if isinstance(value, str) else "" if value is None else str(value)


def _is_class(ex: Exchange, name: str, parent: bool, method: str) -> Any:
    call = og_class_call(ex)
    if ex.method != method or call is None or call.class_name.lower() != name.lower():
        return None
    return call if (call.parent_oid is not None) == parent else None


# -- creates under the gateway's reference -----------------------------------------------------------------------


def creates(p: Profile, exchanges: Sequence[Exchange]) -> list[Write]:
    out: list[Write] = []
    requests_class, id_field = p.option("requests_class", "cgRequestsClass"), p.option("id_field", "IntegrationIDField")
    for ex in exchanges:
        if p.kind == "cityworks":
            field = "OtherSystemId" if is_operation(ex, "Ams_ServiceRequest_Create") else None
            field = "Text1" if is_operation(ex, "Ams_WorkOrder_Create") else field
            reference = _text(member(cw_data(ex), field)) if field else ""
            if reference:
                out.append(Write(reference, reference, ex, cw_ok(ex)))
        elif p.kind == "opengov" and _is_class(ex, requests_class, False, "POST"):
            for record in og_records(json_body(ex), requests_class):
                reference = _text(member(record, id_field))
                if reference:
                    out.append(Write(reference, reference, ex, og_ok(ex)))
    return out


def reference_lookups(p: Profile, exchanges: Sequence[Exchange]) -> list[Lookup]:
    out: list[Lookup] = []
    requests_class = p.option("requests_class", "cgRequestsClass")
    for ex in exchanges:
        if p.kind == "cityworks":
            data = cw_data(ex)
            if is_operation(ex, "Ams_ServiceRequest_ByOtherSystemId"):
                out.append(Lookup(_text(member(data, "OtherSystemId")), ex))
            elif is_operation(ex, "Ams_WorkOrder_Search", "Ams_ServiceRequest_Search"):
                for name in ("Text1", "OtherSystemId"):
                    found = member(data, name)
                    for value in found if isinstance(found, list) else [found]:
                        if value:
                            out.append(Lookup(_text(value), ex))
        elif p.kind == "opengov" and _is_class(ex, requests_class, False, "GET") and og_filter(ex):
            out.append(Lookup(og_filter(ex), ex))
    return out


# -- comments on a record ----------------------------------------------------------------------------------------


def _cw_comment_key(ex: Exchange) -> str | None:
    data = cw_data(ex)
    if is_operation(ex, "Ams_ServiceRequest_AddComments", "Ams_ServiceRequest_Comments"):
        return f"1:{_text(member(data, 'RequestId'))}"
    if is_operation(ex, "Ams_Comment_Add"):
        return f"{_text(member(data, 'ActivityType'))}:{_text(member(data, 'ActivitySid'))}"
    return None


def comments(p: Profile, exchanges: Sequence[Exchange]) -> list[Write]:
    out: list[Write] = []
    comment_class = p.option("comment_class", "cgRequests_cgCommentsClass")
    for ex in exchanges:
        if p.kind == "cityworks" and is_operation(ex, "Ams_ServiceRequest_AddComments", "Ams_Comment_Add"):
            key = _cw_comment_key(ex)
            if key is not None:
                out.append(Write(key, _text(member(cw_data(ex), "Comments")).strip(), ex, cw_ok(ex)))
        elif p.kind == "opengov" and (call := _is_class(ex, comment_class, True, "POST")):
            for record in og_records(json_body(ex), comment_class):
                out.append(Write(call.parent_oid, _text(member(record, "CommentField")).strip(), ex, og_ok(ex)))
    return out


def comment_reads(p: Profile, exchanges: Sequence[Exchange]) -> list[Lookup]:
    """Successful reads of a record's comments, with the texts answered in order."""
    out: list[Lookup] = []
    comment_class = p.option("comment_class", "cgRequests_cgCommentsClass")
    for ex in exchanges:
        if p.kind == "cityworks" and cw_ok(ex):
            value = cw_value(ex)
            if is_operation(ex, "Ams_ServiceRequest_Comments") and (key := _cw_comment_key(ex)):
                out.append(Lookup(key, ex, _texts(value, "Comments")))
            elif is_operation(ex, "Ams_Comment_ByActivitySids") and isinstance(value, dict):
                kind = _text(member(cw_data(ex), "ActivityType"))
                out += [Lookup(f"{kind}:{sid}", ex, _texts(found, "Comments")) for sid, found in value.items()]
        elif p.kind == "opengov" and og_ok(ex) and (call := _is_class(ex, comment_class, True, "GET")):
            found = og_records(json_answer(ex), comment_class)
            out.append(Lookup(call.parent_oid, ex, _texts(found, "CommentField")))
    return out


def _texts(records: Any, field: str) -> tuple[str, ...]:
    if not isinstance(records, list):
        return ()
    return tuple(_text(member(r, field)).strip() for r in records if isinstance(r, dict))


# -- requesters (OpenGov) ------------------------------------------------------------------------------------------


def requesters(p: Profile, exchanges: Sequence[Exchange]) -> list[Write]:
    """Requester creates; `key` the e-mail (lower case), `value` e-mail, first and last name as OpenGov matches."""
    out: list[Write] = []
    requester_class = p.option("requester_class", "cgRequestersClass")
    for ex in exchanges:
        if p.kind == "opengov" and _is_class(ex, requester_class, False, "POST"):
            for r in og_records(json_body(ex), requester_class):
                email = _text(member(r, "EmailField")).lower()
                who = f"{email} / {_text(member(r, 'FirstNameField'))} / {_text(member(r, 'LastNameField'))}"
                out.append(Write(email, who, ex, og_ok(ex)))
    return out


def requester_lookups(p: Profile, exchanges: Sequence[Exchange]) -> list[Lookup]:
    requester_class = p.option("requester_class", "cgRequestersClass")
    return [
        Lookup(og_filter(ex).lower(), ex)
        for ex in exchanges
        if p.kind == "opengov" and _is_class(ex, requester_class, False, "GET") and og_filter(ex)
    ]


# -- attachments -----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Upload:
    attachment_id: str
    filename: str
    sha256: str
    size: int
    ex: Exchange


def uploads(p: Profile, exchanges: Sequence[Exchange]) -> Iterator[Upload]:
    for ex in exchanges:
        if not (_ok(p, ex) and ex.request_complete):
            continue
        if p.kind == "cityworks" and is_operation(
            ex, "Ams_Attachments_AddRequestAttachment", "Ams_Attachments_AddWorkOrderAttachment"
        ):
            attachment_id = _text(member(cw_value(ex), "Id"))
        elif p.kind == "opengov" and ex.method == "POST" and "/attachments/" in ex.path.lower():
            attachment_class = ex.path.rstrip("/").split("/")[-1]
            created = og_records(json_answer(ex), attachment_class)
            attachment_id = _text(member(created[0], "Oid")) if created else ""
        else:
            continue
        files = [part for part in forms.parts(ex.content_type, ex.request_body) or () if part.filename is not None]
        if attachment_id and files:
            f = files[0]
            yield Upload(attachment_id, f.filename or "", hashlib.sha256(f.content).hexdigest(), len(f.content), ex)


def downloads(p: Profile, exchanges: Sequence[Exchange]) -> Iterator[tuple[str, Exchange]]:
    """(attachment id, the exchange whose answer is the file)."""
    for ex in exchanges:
        if ex.status != 200 or ex.outcome != ANSWERED:
            continue
        if p.kind == "cityworks" and is_operation(
            ex, "Ams_Attachments_DownloadRequestAttachment", "Ams_Attachments_DownloadWorkOrderAttachment"
        ):
            if cw_status(ex) is None:  # a file, not an envelope refusing it
                yield _text(member(cw_data(ex), "AttachmentId")), ex
        elif p.kind == "opengov" and ex.method == "GET" and ex.operation == "downloadAttachment":
            yield ex.path.rstrip("/").split("/")[-1], ex
