"""Every operation of contracts/opengov.yaml, called once as an integration calls it: it answers by the contract
(the documented status, every required field with its type), refuses a call without credentials or with a wrong
password (401, the documented message), and answers its error — an unknown class, record or field — with the
status OG-API-5 names and the `{"Message"}` shape. A server that skips authentication on one operation, or
answers one operation's errors in another way, fails here even where no behaviour check looks (OG-API-5)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import pytest
import requests

from conformance import answers
from contracts import load_contract

from .conftest import Eam

REQUESTS, ATTACHMENTS = "cgRequestsClass", "cgRequests_cgAttachmentsClass"
AUTH_REQUIRED = "Authentication Required for API Access."
NO_SUCH = 999_999_999


@dataclass(frozen=True)
class Call:
    method: str
    path: str  # after /api/v1/; {oid}, {child}, {comment}, {attachment}, {doomed}, ... filled from `made`
    status: tuple[int, ...]
    kwargs: dict[str, Any] = field(default_factory=dict)


def _comment(text: str) -> dict[str, Any]:
    return {"json": {"{child}": [{"CommentField": text, "PublicField": True}]}}


UPLOAD = {"params": {"fileName": "photo.jpg"}, "files": {"file": ("photo.jpg", b"\xff\xd8\xff-photo", "image/jpeg")}}
# operationId -> a call that succeeds (or, for the operations that exist to refuse, the documented refusal)
CALLS = {
    "authenticate": Call("POST", "authenticate", (200,), {"json": {"userName": "{login}", "password": "{password}"}}),
    "session": Call("GET", "authenticate", (200,)),
    "signout": Call("POST", "authenticate/signout", (200,)),
    "user": Call("GET", "user", (200,)),
    "discover": Call("GET", "discover", (200,)),
    "classMeta": Call("GET", "meta/Classes", (200,), {"params": {"classNames": REQUESTS}}),
    "classMetaSlash": Call("GET", "meta/Classes/", (200,), {"params": {"classNames": REQUESTS}}),
    "classMetaOne": Call("GET", f"meta/Classes/{REQUESTS}", (200,)),
    "listRecords": Call("GET", f"classes/{REQUESTS}", (200,), {"params": {"limit": 2}}),
    "createRecords": Call("POST", f"classes/{REQUESTS}", (200, 201), {"json": {REQUESTS: [{"IssueField": "Litter"}]}}),
    "updateRecords": Call(
        "PUT", f"classes/{REQUESTS}", (200,), {"json": {REQUESTS: [{"Oid": "{oid}", "DescriptionField": "{ref}"}]}}
    ),
    "deleteMatching": Call(
        "DELETE", f"classes/{REQUESTS}", (200,), {"params": {"filter": '(([IntegrationID] is equal to "{gone}"))'}}
    ),
    "getRecord": Call("GET", f"classes/{REQUESTS}/{{oid}}", (200,)),
    "updateRecord": Call(
        "PUT", f"classes/{REQUESTS}/{{oid}}", (200,), {"json": {REQUESTS: [{"DescriptionField": "{ref} again"}]}}
    ),
    "deleteRecord": Call("DELETE", f"classes/{REQUESTS}/{{doomed}}", (200,)),
    "listChildren": Call("GET", f"classes/{REQUESTS}/{{oid}}/{{child}}", (200,)),
    "createChildren": Call("POST", f"classes/{REQUESTS}/{{oid}}/{{child}}", (200, 201), _comment("Thanks!")),
    "updateChildren": Call(
        "PUT",
        f"classes/{REQUESTS}/{{oid}}/{{child}}",
        (200,),
        {"json": {"{child}": [{"Oid": "{comment}", "CommentField": "{ref}"}]}},
    ),
    "uploadAttachment": Call("POST", f"attachments/{REQUESTS}/{{oid}}/{ATTACHMENTS}", (200, 201), UPLOAD),
    "uploadAttachmentSlash": Call("POST", f"attachments/{REQUESTS}/{{oid}}/{ATTACHMENTS}/", (200, 201), UPLOAD),
    "attachmentPathTooLong": Call("GET", f"attachments/{REQUESTS}/{{oid}}/{ATTACHMENTS}", (400,)),
    "downloadAttachment": Call("GET", f"attachments/{ATTACHMENTS}/{{attachment}}", (200,)),
    "attachmentWithoutIdentifier": Call("GET", "attachments", (400,)),
    "attachmentWithoutOid": Call("GET", f"attachments/{ATTACHMENTS}", (400,)),
    "primaryAttachment": Call("GET", f"attachments/primary/{REQUESTS}/{{oid}}", (200,)),
    "primaryThumbnail": Call("GET", f"attachments/primary/thumbnail/{REQUESTS}/{{oid}}", (200,)),
    "attachmentThumbnail": Call("GET", f"attachments/thumbnail/{ATTACHMENTS}/{{attachment}}", (200,)),
}
# operationId -> a call that must fail, and the status OG-API-5 names for it
ERRORS = {
    "session": Call("GET", "authenticate", (401,), {"auth": ("{login}", "{password}-wrong")}),
    "classMetaOne": Call("GET", "meta/Classes/cgNoSuchClass", (404,)),
    "listRecords": Call("GET", "classes/cgNoSuchClass", (404,)),
    "createRecords": Call("POST", f"classes/{REQUESTS}", (400,), {"json": {REQUESTS: [{"NoSuchField": 1}]}}),
    "updateRecords": Call("PUT", f"classes/{REQUESTS}", (400,), {"json": {REQUESTS: [{"StatusField": "Open"}]}}),
    "deleteMatching": Call(
        "DELETE", "classes/cgNoSuchClass", (404,), {"params": {"filter": '(([Status] is equal to "x"))'}}
    ),
    "getRecord": Call("GET", f"classes/{REQUESTS}/{NO_SUCH}", (404,)),
    "updateRecord": Call("PUT", f"classes/{REQUESTS}/{NO_SUCH}", (404,), {"json": {REQUESTS: [{"LinkedField": True}]}}),
    "deleteRecord": Call("DELETE", f"classes/{REQUESTS}/{NO_SUCH}", (404,)),
    "listChildren": Call("GET", "classes/cgNoSuchClass/{oid}/{child}", (404,)),
    "createChildren": Call("POST", "classes/cgNoSuchClass/{oid}/{child}", (404,), _comment("x")),
    "updateChildren": Call("PUT", "classes/cgNoSuchClass/{oid}/{child}", (404,), _comment("x")),
    "uploadAttachment": Call("POST", f"attachments/cgNoSuchClass/{{oid}}/{ATTACHMENTS}", (404,), UPLOAD),
    "uploadAttachmentSlash": Call("POST", f"attachments/cgNoSuchClass/{{oid}}/{ATTACHMENTS}/", (404,), UPLOAD),
    "downloadAttachment": Call("GET", f"attachments/{ATTACHMENTS}/{NO_SUCH}", (404,)),
    "primaryAttachment": Call("GET", "attachments/primary/cgNoSuchClass/{oid}", (404,)),
    "primaryThumbnail": Call("GET", "attachments/primary/thumbnail/cgNoSuchClass/{oid}", (404,)),
    "attachmentThumbnail": Call("GET", f"attachments/thumbnail/{ATTACHMENTS}/{NO_SUCH}", (404,)),
    "attachmentPathTooLong": CALLS["attachmentPathTooLong"],
    "attachmentWithoutIdentifier": CALLS["attachmentWithoutIdentifier"],
    "attachmentWithoutOid": CALLS["attachmentWithoutOid"],
}


def _secured() -> list[str]:
    doc = load_contract("opengov")
    specs = [s for item in doc["paths"].values() for s in item.values() if isinstance(s, dict) and "operationId" in s]
    return [s["operationId"] for s in specs if s.get("security", doc.get("security", [{}]))]


@pytest.fixture(scope="module")
def made(og: Eam) -> dict[str, Any]:
    """What the calls act on: a request with a comment and a photo, and two requests to delete."""
    ref = f"scf-{uuid.uuid4()}"
    (request,) = og.create(REQUESTS, {"IssueField": "Pothole", "IntegrationIDField": ref})
    (doomed,) = og.create(REQUESTS, {"IssueField": "Pothole"})
    gone = f"scf-{uuid.uuid4()}"
    og.create(REQUESTS, {"IssueField": "Pothole", "IntegrationIDField": gone})
    child = og.comment_class
    (comment,) = og.create(
        child, {"CommentField": "First", "PublicField": True}, path=f"classes/{REQUESTS}/{request['Oid']}/{child}"
    )
    upload = og.call("POST", f"attachments/{REQUESTS}/{request['Oid']}/{ATTACHMENTS}", **UPLOAD)
    assert upload.status_code in (200, 201), upload.text[:300]
    return {
        "oid": request["Oid"],
        "doomed": doomed["Oid"],
        "child": child,
        "comment": comment["Oid"],
        "attachment": upload.json()[ATTACHMENTS][0]["Oid"],
        "ref": ref,
        "gone": gone,
        "login": og.login,
        "password": og.password,
    }


def _fill(value: Any, made: dict[str, Any]) -> Any:
    if isinstance(value, str):
        whole = value[1:-1] if value.startswith("{") and value.endswith("}") and value[1:-1] in made else None
        if whole is not None and not isinstance(made[whole], str):
            return made[whole]  # an Oid stays a number
        for key, given in made.items():
            value = value.replace("{" + key + "}", str(given))
        return value
    if isinstance(value, dict):
        return {_fill(k, made): _fill(v, made) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_fill(v, made) for v in value)
    return value


def send(og: Eam, call: Call, made: dict[str, Any], http: requests.Session | None = None) -> requests.Response:
    kwargs = {k: v if k == "files" else _fill(v, made) for k, v in call.kwargs.items()}
    return og.call(call.method, _fill(call.path, made), http=http, **kwargs)


@pytest.mark.req("OG-API-5")
@pytest.mark.parametrize("operation", list(CALLS))
def test_each_operation_answers_by_the_contract(og, made, operation):
    call = CALLS[operation]
    resp = send(og, call, made)
    assert resp.status_code in call.status, (
        f"{operation}: expected {call.status}, got {resp.status_code}: {resp.text[:300]}"
    )
    assert answers.problems("opengov", operation, resp) == []


@pytest.mark.req("OG-API-5")
@pytest.mark.parametrize("operation", [op for op in CALLS if op in _secured()])
def test_each_operation_refuses_a_call_without_credentials(og, made, operation):
    for credentials in (None, (og.login, og.password + "-wrong")):
        http = requests.Session()
        http.auth = credentials
        resp = send(og, CALLS[operation], made, http)
        shown = "no credentials" if credentials is None else "a wrong password"
        assert resp.status_code == 401, f"{operation} with {shown}: {resp.status_code} {resp.text[:200]}"
        assert (
            resp.json()["Message"] == AUTH_REQUIRED if credentials is None else isinstance(resp.json()["Message"], str)
        )
        assert answers.problems("opengov", operation, resp) == []


@pytest.mark.req("OG-API-5")
@pytest.mark.parametrize("operation", list(ERRORS))
def test_each_operation_answers_its_errors_by_the_contract(og, made, operation):
    call = ERRORS[operation]
    resp = send(og, call, made)
    assert resp.status_code in call.status, (
        f"{operation}: expected {call.status}, got {resp.status_code}: {resp.text[:300]}"
    )
    assert isinstance(resp.json().get("Message"), str), resp.text[:300]
    assert answers.problems("opengov", operation, resp) == []


@pytest.mark.req("OG-API-5")
def test_every_operation_of_the_contract_is_called_here():
    assert set(CALLS) == {
        s["operationId"]
        for item in load_contract("opengov")["paths"].values()
        for s in item.values()
        if isinstance(s, dict) and "operationId" in s
    }
