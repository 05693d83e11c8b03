"""What a city worker does in Cityworks' own UI, as `POST /_sim/actions/{name}`."""

from __future__ import annotations

import base64
import hashlib
import struct
import zlib
from typing import Any

from simulators.kit import Action, ActionError

from .dialect import INVALID_FIELD, INVALID_REQUEST_ID, ITEM_NOT_FOUND, REQUIRED_FIELDS, CityworksError
from .state import ACTIVITY_SR, ACTIVITY_WO, CityworksState

SCF_PREFIX = "To SCF: "
_HTTP_FOR_CODE = {INVALID_REQUEST_ID: 404, ITEM_NOT_FOUND: 404, INVALID_FIELD: 422, REQUIRED_FIELDS: 422}


def _obj(props: dict[str, Any], required: list[str], extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": extra}


INT, STR, BOOL = {"type": "integer"}, {"type": "string"}, {"type": "boolean"}
TARGET = {"RequestId": INT, "WorkOrderId": STR}
ONE_TARGET = {"oneOf": [{"required": ["RequestId"]}, {"required": ["WorkOrderId"]}]}


def _clerk(state: CityworksState) -> Any:
    return next(iter(state.employees.values()))


def _vendor(fn: Any) -> Any:
    """Backend rule failures become 4xx answers of the control plane."""

    def run(state: CityworksState, payload: dict[str, Any]) -> Any:
        try:
            return fn(state, payload)
        except CityworksError as err:
            raise ActionError(_HTTP_FOR_CODE.get(err.item["Code"], 409), err.item["Name"], str(err)) from None

    return run


def _target(state: CityworksState, payload: dict[str, Any]) -> tuple[int, int]:
    if "RequestId" in payload:
        state.get_requests([payload["RequestId"]])
        return ACTIVITY_SR, payload["RequestId"]
    wo = state.get_work_orders([payload["WorkOrderId"]])[0]
    return ACTIVITY_WO, wo["WorkOrderSid"]


def create_request(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.create_request({"InitiatedByApp": "CityworksUI", **payload}, _clerk(state))


def update_request(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.update_request(payload)


def close_request(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.close_requests([payload["RequestId"]])[0]


def reopen_request(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.reopen_requests([payload["RequestId"]])[0]


def cancel_request(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.cancel_requests([payload["RequestId"]], payload.get("reason", ""))[0]


def close_work_order(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.close_work_orders([payload["WorkOrderId"]])[0]


def cancel_work_order(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.cancel_work_orders([payload["WorkOrderId"]], payload.get("reason", ""))[0]


def add_comment(state: CityworksState, payload: dict[str, Any]) -> Any:
    kind, sid = _target(state, payload)
    text = (SCF_PREFIX if payload.get("to_scf") else "") + payload["text"]
    return state.add_comment(kind, sid, text, _clerk(state), when=payload.get("DateCreated"))


def delete_comment(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.delete_comment(payload["CommentId"])


def tiny_png(seed_text: str) -> bytes:
    """A valid 1x1 PNG whose colour comes from the text, so each attachment has its own bytes."""
    r, g, b = hashlib.sha256(seed_text.encode()).digest()[:3]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0)
    pixels = zlib.compress(bytes([0, r, g, b]))
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def attach(state: CityworksState, payload: dict[str, Any]) -> Any:
    kind, sid = _target(state, payload)
    filename = payload.get("filename", "photo.png")
    try:
        content = base64.b64decode(payload["content_base64"], validate=True) if "content_base64" in payload else None
    except ValueError:
        raise ActionError(422, "invalid_payload", "content_base64 is not base64") from None
    if content is None:
        content = tiny_png(f"{kind}:{sid}:{filename}:{len(state.attachments)}")
    comments = payload.get("comments", "")
    if payload.get("to_scf"):
        comments = SCF_PREFIX + comments
    record = state.add_attachment(kind, sid, filename, content, comments, payload.get("title", ""))
    return {**record, "sha256": hashlib.sha256(content).hexdigest()}


def add_problem(state: CityworksState, payload: dict[str, Any]) -> Any:
    return state.add_problem(payload["ProblemCode"], payload["Description"], public=payload.get("public", True))


def remove_problem(state: CityworksState, payload: dict[str, Any]) -> Any:
    sid = payload["ProblemSid"]
    if sid not in state.problems:
        raise ActionError(404, "not_found", f"ProblemSid {sid} not found")
    state.public_problems.discard(sid)
    state.qa.pop(sid, None)
    return state.problems.pop(sid)


def set_problem_public(state: CityworksState, payload: dict[str, Any]) -> Any:
    sid = payload["ProblemSid"]
    if sid not in state.problems:
        raise ActionError(404, "not_found", f"ProblemSid {sid} not found")
    (state.public_problems.add if payload["public"] else state.public_problems.discard)(sid)
    return {**state.problems[sid], "public": payload["public"]}


def add_template(state: CityworksState, payload: dict[str, Any]) -> Any:
    template_id = payload.get("WOTemplateId") or str(101 + len(state.templates) + 1000)
    if template_id in state.templates:
        raise ActionError(409, "exists", f"WOTemplateId {template_id} exists")
    return state.add_template(
        template_id,
        payload["Description"],
        payload.get("EntityType", "STREET"),
        "MAINT",
        public=payload.get("public", True),
    )


def remove_template(state: CityworksState, payload: dict[str, Any]) -> Any:
    tid = payload["WOTemplateId"]
    if tid not in state.templates:
        raise ActionError(404, "not_found", f"WOTemplateId {tid} not found")
    state.public_templates.discard(tid)
    return state.templates.pop(tid)


def add_question(state: CityworksState, payload: dict[str, Any]) -> Any:
    if payload["ProblemSid"] not in state.qa:
        raise ActionError(404, "not_found", f"ProblemSid {payload['ProblemSid']} not found")
    texts = payload.get("answers", [])
    formats = payload.get("formats") or [payload.get("format", "THISTEXT")] * len(texts)
    if len(formats) != len(texts):
        raise ActionError(422, "invalid", "formats: one AnswerFormat per answer")
    # Cityworks' formats (THISTEXT, YES, NO, FREETEXT, NUMERIC, DATE ...); no answers: one free-text answer.
    answers = list(zip(texts, formats, strict=True)) or [("", payload.get("format", "FREETEXT"))]
    return state.add_question(payload["ProblemSid"], payload["Question"], answers)


def change_question(state: CityworksState, payload: dict[str, Any]) -> Any:
    for qa in state.qa.values():
        for question in qa["Questions"]:
            if question["QuestionId"] == payload["QuestionId"]:
                question["Question"] = payload["Question"]
                return dict(question)
    raise ActionError(404, "not_found", f"QuestionId {payload['QuestionId']} not found")


def remove_question(state: CityworksState, payload: dict[str, Any]) -> Any:
    for qa in state.qa.values():
        for question in qa["Questions"]:
            if question["QuestionId"] == payload["QuestionId"]:
                qa["Questions"].remove(question)
                qa["Answers"] = [a for a in qa["Answers"] if a["QuestionId"] != question["QuestionId"]]
                for answer in qa["Answers"]:  # branches into the removed question now lead nowhere
                    if answer["NextQuestionId"] == question["QuestionId"]:
                        answer["NextQuestionId"] = 0
                qa["BranchingModel"] = any(a["NextQuestionId"] for a in qa["Answers"])
                return question
    raise ActionError(404, "not_found", f"QuestionId {payload['QuestionId']} not found")


def get_request(state: CityworksState, payload: dict[str, Any]) -> Any:
    """Everything the Cityworks UI shows of a request, including what the API does not return."""
    rid = payload["RequestId"]
    sr = state.get_requests([rid])[0]
    details = state.request_details[rid]
    return {
        "request": sr,
        "answers": details["Answers"],
        "caller": details["Caller"],
        "custom_fields": details["CustomFieldValues"],
        "comments": state.comments_for(ACTIVITY_SR, [rid])[str(rid)],
        "attachments": [
            {**a, "sha256": hashlib.sha256(state.attachment_bytes[a["Id"]]).hexdigest()}
            for a in state.attachments_for(ACTIVITY_SR, [rid])
        ],
    }


def get_work_order(state: CityworksState, payload: dict[str, Any]) -> Any:
    wo = state.get_work_orders([payload["WorkOrderId"]])[0]
    sid = wo["WorkOrderSid"]
    return {
        "work_order": wo,
        "comments": state.comments_for(ACTIVITY_WO, [sid])[str(sid)],
        "attachments": [
            {**a, "sha256": hashlib.sha256(state.attachment_bytes[a["Id"]]).hexdigest()}
            for a in state.attachments_for(ACTIVITY_WO, [sid])
        ],
    }


REQUEST_ID = _obj({"RequestId": INT}, ["RequestId"])
WORK_ORDER_ID = _obj({"WorkOrderId": STR}, ["WorkOrderId"])
WITH_REASON = {"reason": STR}

ACTIONS = (
    Action(
        "create-request",
        _vendor(create_request),
        _obj({"ProblemSid": INT}, ["ProblemSid"], extra=True),
        "Create a service request in Cityworks directly (InitiatedByApp defaults to CityworksUI); any Create field.",
    ),
    Action(
        "update-request",
        _vendor(update_request),
        _obj({"RequestId": INT}, ["RequestId"], extra=True),
        "Change any field.",
    ),
    Action("close-request", _vendor(close_request), REQUEST_ID, "Close a service request."),
    Action("reopen-request", _vendor(reopen_request), REQUEST_ID, "Reopen a service request."),
    Action(
        "cancel-request",
        _vendor(cancel_request),
        _obj({"RequestId": INT, **WITH_REASON}, ["RequestId"]),
        "Cancel a service request.",
    ),
    Action("close-work-order", _vendor(close_work_order), WORK_ORDER_ID, "Close a work order."),
    Action(
        "cancel-work-order",
        _vendor(cancel_work_order),
        _obj({"WorkOrderId": STR, **WITH_REASON}, ["WorkOrderId"]),
        "Cancel a work order.",
    ),
    Action(
        "add-comment",
        _vendor(add_comment),
        {
            **_obj(
                {**TARGET, "text": {"type": "string", "minLength": 1}, "to_scf": BOOL, "DateCreated": STR}, ["text"]
            ),
            **ONE_TARGET,
        },
        "Comment on a request or work order; to_scf prefixes 'To SCF: ' (meant for the public); DateCreated "
        "(Cityworks' date text, site time) dates it as written then, e.g. entered later from a field note.",
    ),
    Action(
        "delete-comment",
        _vendor(delete_comment),
        _obj({"CommentId": INT}, ["CommentId"]),
        "Delete a comment (staff removing one, whoever wrote it).",
    ),
    Action(
        "attach",
        _vendor(attach),
        {
            **_obj(
                {**TARGET, "filename": STR, "content_base64": STR, "comments": STR, "to_scf": BOOL, "title": STR},
                [],
            ),
            **ONE_TARGET,
        },
        "Attach a file (default: a small PNG) with an optional comment; to_scf prefixes 'To SCF: '.",
    ),
    Action(
        "add-problem",
        _vendor(add_problem),
        _obj({"ProblemCode": STR, "Description": STR, "public": BOOL}, ["ProblemCode", "Description"]),
        "Add a problem type (service request category).",
    ),
    Action(
        "remove-problem", _vendor(remove_problem), _obj({"ProblemSid": INT}, ["ProblemSid"]), "Remove a problem type."
    ),
    Action(
        "set-problem-public",
        _vendor(set_problem_public),
        _obj({"ProblemSid": INT, "public": BOOL}, ["ProblemSid", "public"]),
        "Show or hide a problem type for the public.",
    ),
    Action(
        "add-template",
        _vendor(add_template),
        _obj({"WOTemplateId": STR, "Description": STR, "EntityType": STR, "public": BOOL}, ["Description"]),
        "Add a work order template.",
    ),
    Action(
        "remove-template", _vendor(remove_template), _obj({"WOTemplateId": STR}, ["WOTemplateId"]), "Remove a template."
    ),
    Action(
        "add-question",
        _vendor(add_question),
        _obj(
            {
                "ProblemSid": INT,
                "Question": STR,
                "answers": {"type": "array", "items": STR},
                "format": STR,
                "formats": {"type": "array", "items": STR},
            },
            ["ProblemSid", "Question"],
        ),
        "Add a question to a problem type: its answers' texts, with one AnswerFormat for all (`format`, default "
        "THISTEXT) or one each (`formats`, e.g. YES, NO); no answers: one FREETEXT answer.",
    ),
    Action(
        "change-question",
        _vendor(change_question),
        _obj({"QuestionId": INT, "Question": {"type": "string", "minLength": 1}}, ["QuestionId", "Question"]),
        "Change a question's text.",
    ),
    Action(
        "remove-question", _vendor(remove_question), _obj({"QuestionId": INT}, ["QuestionId"]), "Remove a question."
    ),
    Action("get-request", _vendor(get_request), REQUEST_ID, "Everything Cityworks holds on a request."),
    Action("get-work-order", _vendor(get_work_order), WORK_ORDER_ID, "Everything Cityworks holds on a work order."),
)
