"""What a city worker does in OpenGov EAM's own UI, as `POST /_sim/actions/{name}`."""

from __future__ import annotations

from typing import Any

from simulators.kit import Action, ActionError

from .dialect import OpengovError
from .shapes import point_shape
from .state import OpengovState

REQUESTS, ISSUES, TASKS = "cgRequestsClass", "cgRequestIssuesClass", "cgTasksClass"
OID = {"type": "integer"}


def _vendor(fn: Any) -> Any:
    def run(state: OpengovState, payload: dict[str, Any]) -> Any:
        try:
            return fn(state, payload)
        except OpengovError as err:
            raise ActionError(err.status if err.status in (400, 404) else 409, "rejected", err.message) from None

    return run


def _clerk(state: OpengovState) -> str:
    return "cityworker"


def create_request(state: OpengovState, p: dict[str, Any]) -> Any:
    fields = {k: v for k, v in p.items() if k not in ("lat", "long")}
    if "lat" in p and "long" in p:
        fields["CgShape"] = point_shape(p["lat"], p["long"])
    return state.create(REQUESTS, [fields], _clerk(state))[0]


def close_request(state: OpengovState, p: dict[str, Any]) -> Any:
    return state.update(
        REQUESTS, [{"Oid": p["Oid"], "StatusField": "Closed", "CompletedField": True, "CloseDateField": state.now()}]
    )[0][0]


def delete_request(state: OpengovState, p: dict[str, Any]) -> Any:
    return {"DeletedRecordCount": state.delete(REQUESTS, p["Oid"])}


def set_fields(state: OpengovState, p: dict[str, Any]) -> Any:
    cls = p.pop("class", REQUESTS)
    return state.update(cls, [p])[0][0]


def add_task(state: OpengovState, p: dict[str, Any]) -> Any:
    request = state.get(REQUESTS, p["Oid"])
    (task,) = state.create(
        TASKS,
        [{"ActivityField": p.get("activity", "Inspect"), "StatusField": "Planned", "RequestOidField": p["Oid"]}],
        _clerk(state),
    )
    state.update(REQUESTS, [{"Oid": p["Oid"], "TasksField": (request["TasksField"] or 0) + 1}])
    return task


def add_comment(state: OpengovState, p: dict[str, Any]) -> Any:
    item = {"CommentField": p["text"], "PublicField": p.get("public", True), "AuthorField": _clerk(state)}
    return state.create(state.config.comment_class, [item], _clerk(state), parent=(REQUESTS, p["Oid"]))[0]


def add_issue(state: OpengovState, p: dict[str, Any]) -> Any:
    item = {
        "IssueField": p["name"],
        "CodeField": p.get("code", p["name"].upper()[:10]),
        "InactiveField": False,
        "PublicField": p.get("public", True),
        "InternalRequestCategoryField": p.get("group", ""),
    }
    return state.create(ISSUES, [item], _clerk(state))[0]


def retire_issue(state: OpengovState, p: dict[str, Any]) -> Any:
    return state.update(ISSUES, [{"Oid": p["Oid"], "InactiveField": True}])[0][0]


def _schema(props: dict[str, Any], required: list[str], extra: bool = False) -> dict[str, Any]:
    return {"type": "object", "properties": props, "required": required, "additionalProperties": extra}


ACTIONS = (
    Action(
        "create-request",
        _vendor(create_request),
        _schema({"lat": {"type": "number"}, "long": {"type": "number"}}, [], True),
        "Create a request directly in OpenGov (any request fields; lat/long become the shape).",
    ),
    Action("close-request", _vendor(close_request), _schema({"Oid": OID}, ["Oid"]), "Close a request."),
    Action(
        "delete-request",
        _vendor(delete_request),
        _schema({"Oid": OID}, ["Oid"]),
        "Delete a request (one entered twice, or by mistake).",
    ),
    Action(
        "set-fields",
        _vendor(set_fields),
        _schema({"Oid": OID, "class": {"type": "string"}}, ["Oid"], True),
        "Change any fields of a record (default class cgRequestsClass).",
    ),
    Action(
        "add-task",
        _vendor(add_task),
        _schema({"Oid": OID, "activity": {"type": "string"}}, ["Oid"]),
        "Add a work task to a request (its TasksField goes up).",
    ),
    Action(
        "add-comment",
        _vendor(add_comment),
        _schema(
            {"Oid": OID, "text": {"type": "string", "minLength": 1}, "public": {"type": "boolean"}}, ["Oid", "text"]
        ),
        "Comment on a request, public or not.",
    ),
    Action(
        "add-issue",
        _vendor(add_issue),
        _schema(
            {
                "name": {"type": "string", "minLength": 1},
                "code": {"type": "string"},
                "public": {"type": "boolean"},
                "group": {"type": "string"},
            },
            ["name"],
        ),
        "Add a request issue (category).",
    ),
    Action("retire-issue", _vendor(retire_issue), _schema({"Oid": OID}, ["Oid"]), "Retire a request issue (Inactive)."),
)
