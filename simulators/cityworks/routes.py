"""Cityworks on the wire: one route for `/Services/...`, dispatched by the contract's `x-rpc` name.

The kit has already matched the call to its contract operation (case-insensitively) and checked it in
strict mode; here the `data` JSON is decoded (leniently), the caller authenticated by the version's
rules, the licence checked, and the backend asked.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from aiohttp import web

from simulators.kit import CONFIG, OPERATION, backend
from simulators.kit.binding import arguments

from .auth import check_password, expiry_ttl, token_from_request, unauthorized
from .config import CityworksConfig
from .dialect import (
    IIS_NOT_FOUND,
    CityworksError,
    failure,
    lenient_loads,
    obsolete_envelope,
    ok,
)
from .errors import ErrorItemNotFound, InvalidField, NotLicensed, RequiredFields
from .state import ACTIVITY_SR, ACTIVITY_WO, STATUSES, CityworksState, Employee

LICENCE_NAMES = {"sr": "Service Request", "wo": "Work Order"}


@dataclass(slots=True)
class Call:
    request: web.Request
    config: CityworksConfig
    state: CityworksState
    data: dict[str, Any]
    employee: Employee | None
    form: Any


@dataclass(frozen=True, slots=True)
class Method:
    run: Callable[[Call], Any]
    auth: bool = True


METHODS: dict[str, Method] = {}


def rpc(name: str, *, auth: bool = True) -> Callable[[Callable[[Call], Any]], Callable[[Call], Any]]:
    def register(fn: Callable[[Call], Any]) -> Callable[[Call], Any]:
        METHODS[name.lower()] = Method(fn, auth)
        return fn

    return register


def id_list(data: dict[str, Any], key: str, kind: type = int) -> list[Any]:
    values = data.get(key)
    if not isinstance(values, list) or not values:
        raise RequiredFields(f"{key} is required (a non-empty list)")
    if not all(isinstance(v, kind) and not isinstance(v, bool) for v in values):
        raise InvalidField(f"{key} must be a list of {'integers' if kind is int else 'strings'}")
    return values


def one_id(data: dict[str, Any], key: str, kind: type = int) -> Any:
    value = data.get(key)
    if value is None:
        raise RequiredFields(f"{key} is required")
    if not isinstance(value, kind) or isinstance(value, bool):
        raise InvalidField(f"{key} must be {'an integer' if kind is int else 'a string'}")
    return value


# -- authentication -------------------------------------------------------------------------------


@rpc("General/Authentication/Authenticate", auth=False)
def authenticate(c: Call) -> Any:
    employee = check_password(c.state, c.data.get("LoginName"), c.data.get("Password"), c.state.signer)
    ttl = expiry_ttl(c.config, c.data.get("Expires"))
    return {"Token": c.state.signer.issue(employee["LoginName"], employee["EmployeeSid"], ttl)}


@rpc("General/Authentication/CityworksOnlineAuthenticate", auth=False)
def online_authenticate(c: Call) -> Any:
    if not c.config.online_login:
        raise unauthorized("Cityworks Online login is not enabled for this site")
    employee = check_password(c.state, c.data.get("LoginName"), c.data.get("Password"), c.state.signer)
    return {"Token": c.state.signer.issue(employee["LoginName"], employee["EmployeeSid"], 300, kind="online")}


@rpc("General/Authentication/Validate", auth=False)
def validate(c: Call) -> Any:
    token = c.data.get("Token")
    claims = c.state.signer.verify(token) if isinstance(token, str) else None
    return claims is not None and claims.kind == "site"


@rpc("General/Authentication/User")
def user(c: Call) -> Any:
    assert c.employee is not None
    return {k: v for k, v in c.employee.items() if k != "password"}


# -- service requests ---------------------------------------------------------------------------


@rpc("Ams/ServiceRequest/Problems")
def problems(c: Call) -> Any:
    return c.state.list_problems(bool(c.data.get("ForPublicOnly")))


@rpc("Ams/ServiceRequest/QA")
def qa(c: Call) -> Any:
    return c.state.problem_qa(one_id(c.data, "ProblemSid"))


@rpc("Ams/ServiceRequestTemplate/QA")
def template_qa(c: Call) -> Any:
    return [c.state.problem_qa(sid) for sid in id_list(c.data, "ProblemSids")]


@rpc("Ams/ServiceRequest/Statuses")
def statuses(c: Call) -> Any:
    return [dict(s) for s in c.state.statuses]


@rpc("Ams/ServiceRequest/Create")
def create_request(c: Call) -> Any:
    assert c.employee is not None
    return c.state.create_request(c.data, c.employee)


@rpc("Ams/ServiceRequest/Update")
def update_request(c: Call) -> Any:
    one_id(c.data, "RequestId")
    return c.state.update_request(c.data)


@rpc("Ams/ServiceRequest/ById")
def request_by_id(c: Call) -> Any:
    return c.state.get_requests([one_id(c.data, "RequestId")])[0]


@rpc("Ams/ServiceRequest/ByIds")
def requests_by_ids(c: Call) -> Any:
    return c.state.get_requests(id_list(c.data, "RequestIds"))


@rpc("Ams/ServiceRequest/ByOtherSystemId")
def request_by_other_id(c: Call) -> Any:
    return c.state.by_other_system_id(one_id(c.data, "OtherSystemId", str))


@rpc("Ams/ServiceRequest/Search")
def search_requests(c: Call) -> Any:
    return c.state.search_requests(c.data)


@rpc("Ams/ServiceRequest/Answers")
def request_answers(c: Call) -> Any:
    return c.state.request_answers(one_id(c.data, "RequestId"))


@rpc("Ams/ServiceRequest/Close")
def close_requests(c: Call) -> Any:
    return c.state.close_requests(id_list(c.data, "RequestIds"))


@rpc("Ams/ServiceRequest/Reopen")
def reopen_requests(c: Call) -> Any:
    return c.state.reopen_requests(id_list(c.data, "RequestIds"))


@rpc("Ams/ServiceRequest/Cancel")
def cancel_requests(c: Call) -> Any:
    return c.state.cancel_requests(id_list(c.data, "RequestIds"), str(c.data.get("CancelReason") or ""))


@rpc("Ams/ServiceRequest/Uncancel")
def uncancel_requests(c: Call) -> Any:
    return c.state.uncancel_requests(id_list(c.data, "RequestIds"))


@rpc("Ams/ServiceRequest/AddComments")
def sr_add_comments(c: Call) -> Any:
    assert c.employee is not None
    return c.state.add_comment(ACTIVITY_SR, one_id(c.data, "RequestId"), c.data.get("Comments"), c.employee)


@rpc("Ams/ServiceRequest/Comments")
def sr_comments(c: Call) -> Any:
    rid = one_id(c.data, "RequestId")
    return c.state.comments_for(ACTIVITY_SR, [rid])[str(rid)]


# -- comments on any activity -------------------------------------------------------------------


def _activity_type(c: Call) -> int:
    kind = one_id(c.data, "ActivityType")
    if kind not in (ACTIVITY_SR, ACTIVITY_WO):
        raise InvalidField(f"ActivityType {kind} is not supported (1 service request, 2 work order)")
    need = "sr" if kind == ACTIVITY_SR else "wo"
    require_licence(c.config, need)
    return kind


@rpc("Ams/Comment/Add")
def comment_add(c: Call) -> Any:
    assert c.employee is not None
    kind = _activity_type(c)
    return c.state.add_comment(kind, one_id(c.data, "ActivitySid"), c.data.get("Comments"), c.employee)


@rpc("Ams/Comment/ByActivitySids")
def comments_by_activity(c: Call) -> Any:
    kind = _activity_type(c)
    return c.state.comments_for(kind, id_list(c.data, "ActivitySids"))


# -- customer calls (the callers of a request) ---------------------------------------------------


@rpc("Ams/CustomerCall/AddToRequest")
def customer_call_add(c: Call) -> Any:
    assert c.employee is not None
    return c.state.add_customer_call({**c.data, "RequestId": one_id(c.data, "RequestId")}, c.employee)


@rpc("Ams/CustomerCall/ByRequestId")
def customer_calls_by_request(c: Call) -> Any:
    return c.state.customer_calls(one_id(c.data, "RequestId"))


# -- preferences -------------------------------------------------------------------------------


def _names(c: Call, key: str) -> list[str] | None:
    values = c.data.get(key)
    if values is None:
        return None
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise InvalidField(f"{key} must be a list of strings")
    return values


@rpc("Ams/Preferences/User")
def user_preferences(c: Call) -> Any:
    """The signed-in employee's (or, given EmployeeSid, that employee's: inferred) preferences."""
    assert c.employee is not None
    employee = c.employee
    if c.data.get("EmployeeSid") is not None:
        employee = c.state.employee_by_sid(c.data["EmployeeSid"])
        if employee is None:
            raise ErrorItemNotFound(f"EmployeeSid {c.data['EmployeeSid']} not found")
    return c.state.user_preferences(employee, _names(c, "Categories"), _names(c, "PreferenceNames"))


@rpc("Ams/Preferences/UserSave")
def user_preference_save(c: Call) -> Any:
    assert c.employee is not None
    element = c.data.get("Element")
    if not isinstance(element, str) or not element:
        raise RequiredFields("Element is required")
    value = c.data.get("DefaultValue")
    if value is not None and not isinstance(value, str):
        raise InvalidField("DefaultValue must be a string (a preference is text)")
    return c.state.save_user_preference(c.employee, str(c.data.get("Category") or ""), element, value or "")


# -- attachments -------------------------------------------------------------------------------


def _upload(c: Call) -> tuple[str, bytes]:
    upload = c.form.get("file") if c.form is not None else None
    if upload is None or isinstance(upload, str):
        raise RequiredFields("a file part named 'file' is required")
    content = upload.file.read()
    name = str(c.data.get("Filename") or upload.filename or "attachment")
    return name, content


@rpc("Ams/Attachments/AddRequestAttachment")
def add_request_attachment(c: Call) -> Any:
    rid = one_id(c.data, "RequestId")
    name, content = _upload(c)
    return c.state.add_attachment(
        ACTIVITY_SR, rid, name, content, str(c.data.get("Comments") or ""), str(c.data.get("Title") or "")
    )


@rpc("Ams/Attachments/AddWorkOrderAttachment")
def add_work_order_attachment(c: Call) -> Any:
    wo = c.state.get_work_orders([one_id(c.data, "WorkOrderId", str)])[0]
    name, content = _upload(c)
    return c.state.add_attachment(
        ACTIVITY_WO,
        wo["WorkOrderSid"],
        name,
        content,
        str(c.data.get("Comments") or ""),
        str(c.data.get("Title") or ""),
    )


@rpc("Ams/Attachments/RequestAttachments")
def request_attachments(c: Call) -> Any:
    return c.state.attachments_for(ACTIVITY_SR, id_list(c.data, "RequestIds"))


@rpc("Ams/Attachments/WorkOrderAttachments")
def work_order_attachments(c: Call) -> Any:
    wos = c.state.get_work_orders(id_list(c.data, "WorkOrderIds", str))
    return c.state.attachments_for(ACTIVITY_WO, [w["WorkOrderSid"] for w in wos])


def _download(c: Call, kind: int) -> web.Response:
    record, content = c.state.attachment_content(one_id(c.data, "AttachmentId"), kind)
    name = record["Attachment"]
    return web.Response(
        body=content,
        content_type=mimetypes.guess_type(name)[0] or "application/octet-stream",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}"},
    )


@rpc("Ams/Attachments/DownloadRequestAttachment")
def download_request_attachment(c: Call) -> Any:
    return _download(c, ACTIVITY_SR)


@rpc("Ams/Attachments/DownloadWorkOrderAttachment")
def download_work_order_attachment(c: Call) -> Any:
    return _download(c, ACTIVITY_WO)


# -- work orders -------------------------------------------------------------------------------


@rpc("Ams/WorkOrder/Templates")
def wo_templates(c: Call) -> Any:
    entity = c.data.get("EntityType")
    entities = entity if isinstance(entity, list) else ([entity] if entity else None)
    return c.state.list_templates(entities, bool(c.data.get("ForPublicOnly")))


@rpc("Ams/WorkOrder/Create")
def wo_create(c: Call) -> Any:
    assert c.employee is not None
    return [c.state.create_work_order(c.data, c.employee)]


@rpc("Ams/WorkOrder/ById")
def wo_by_id(c: Call) -> Any:
    return c.state.get_work_orders([one_id(c.data, "WorkOrderId", str)])[0]


@rpc("Ams/WorkOrder/ByIds")
def wo_by_ids(c: Call) -> Any:
    return c.state.get_work_orders(id_list(c.data, "WorkOrderIds", str))


@rpc("Ams/WorkOrder/Search")
def wo_search(c: Call) -> Any:
    return c.state.search_work_orders(c.data)


@rpc("Ams/WorkOrder/Close")
def wo_close(c: Call) -> Any:
    return c.state.close_work_orders(id_list(c.data, "WorkOrderIds", str))


@rpc("Ams/WorkOrder/ReOpen")
def wo_reopen(c: Call) -> Any:
    return c.state.reopen_work_orders(id_list(c.data, "WorkOrderIds", str))


@rpc("Ams/WorkOrder/Cancel")
def wo_cancel(c: Call) -> Any:
    return c.state.cancel_work_orders(id_list(c.data, "WorkOrderIds", str), str(c.data.get("CancelReason") or ""))


@rpc("Ams/WorkOrder/Statuses")
def wo_statuses(c: Call) -> Any:
    return [dict(s) for s in STATUSES if s["Code"] not in ("WOCREATE", "REFERRED")]  # work orders' own


# -- dispatch ----------------------------------------------------------------------------------


def require_licence(config: CityworksConfig, licence: str | None) -> None:
    if licence and licence not in config.licences and "ignore-licences" not in config.defects:
        raise NotLicensed(
            f"This site is not licensed for the {LICENCE_NAMES[licence]} API",
        )


def decode_data(raw: Any) -> dict[str, Any]:
    if raw is None or raw == "":
        return {}
    if not isinstance(raw, str):
        raise InvalidField("data must be a JSON object")
    try:
        data = lenient_loads(raw)
    except ValueError as exc:
        raise InvalidField(f"data is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidField("data must be a JSON object")
    return data


def param(form: Any, query: Any, name: str) -> Any:
    """A call's argument as the kit bound it (dialect.bind: from the query or the form, whatever the method)."""
    if form and name in form:
        return form[name]
    return query.get(name)


async def services(request: web.Request) -> web.StreamResponse:
    op = request[OPERATION]
    config: CityworksConfig = request.app[CONFIG]  # type: ignore[assignment]
    method = METHODS.get(op.spec.get("x-rpc", "").lower()) if op is not None else None
    if method is None:
        return web.Response(status=404, text=IIS_NOT_FOUND, content_type="text/html")
    state: CityworksState = backend(request)
    legacy = obsolete_envelope(op)
    try:
        query, form = await arguments(request)
        data = decode_data(param(form, query, "data"))
        employee = None
        if method.auth:
            token_param = param(form, query, "token")
            token = token_from_request(config, token_param or None, request.headers.get("Authorization"))
            claims = state.signer.verify(token)
            if "accept-any-token" in config.defects:
                employee = next(iter(state.employees.values()))
            elif claims is None or claims.kind != "site":
                raise unauthorized("Invalid or expired token")
            else:
                employee = state.employee(claims.login)
            if employee is None:
                raise unauthorized("Invalid or expired token")
        require_licence(config, op.spec.get("x-licence"))
        result = method.run(Call(request, config, state, data, employee, form))
    except CityworksError as err:
        return failure(config, err, legacy=legacy)
    return result if isinstance(result, web.StreamResponse) else ok(config, result, legacy=legacy)


# One route for every service; the contract (matched by the kit, case-insensitively) names the method.
ROUTES = [web.route("GET", "/{path:.*}", services), web.route("POST", "/{path:.*}", services)]
