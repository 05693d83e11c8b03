"""The Cityworks backend: problems and their questions, service requests, work orders, comments and
attachments, with the vendor's rules. No HTTP here; failures are `CityworksError`s.

Records are kept in their wire shape (RequestBase, WorkOrderBase, CommentRecord ...) so reads are copies,
with indexes for the searches clients make, so 100,000 requests search without a scan per call.
"""

from __future__ import annotations

import bisect
import contextlib
import hashlib
import itertools
import math
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, tzinfo
from typing import Any

from simulators.kit.clock import Clock, zone_named

from .auth import TokenSigner
from .config import CityworksConfig
from .dialect import (
    NULL_DATE,
    UNSET_NUMBER,
    cw_date,
)
from .errors import (
    ErrorItemNotFound,
    InvalidField,
    InvalidRequestId,
    ItemNotFound,
    RequiredFields,
    StatusCantBeCanceled,
    StatusCantBeClosed,
)

SR_SERVICE, WO_SERVICE = "Ams/ServiceRequest", "Ams/WorkOrder"
ACTIVITY_SR, ACTIVITY_WO = 1, 2
STATUSES = [
    {"Code": "PENDING", "CodeDesc": "Pending"},
    {"Code": "OPEN", "CodeDesc": "Open"},
    {"Code": "INPROG", "CodeDesc": "In Progress"},
    {"Code": "WOCREATE", "CodeDesc": "Work Order Created"},
    {"Code": "REFERRED", "CodeDesc": "Referred"},
    {"Code": "CLOSED", "CodeDesc": "Closed"},
    {"Code": "CANCEL", "CodeDesc": "Canceled"},
]
STATUS_CODES = frozenset(s["Code"] for s in STATUSES)
SR_TEXT_FIELDS = (
    "Details",
    "Comments",
    "Priority",
    "Landmark",
    "Location",
    "InitiatedByApp",
    "OtherSystemId",
    *(f"Text{n}" for n in range(1, 21)),
)
SR_ADDRESS_FIELDS = {"Address": "ProbAddress", "City": "ProbCity", "Zip": "ProbZip", "State": "ProbState"}
CALLER_FIELDS = (
    "CallerFirstName",
    "CallerLastName",
    "CallerEmail",
    "CallerHomePhone",
    "CallerWorkPhone",
    "CallerCellPhone",
    "CallerAddress",
    "CallerCity",
    "CallerState",
    "CallerZip",
    "CallerComments",
)
# A request's caller is its first customer call (CustomerCallBase): the Create/Update caller field each becomes.
CALLER_TO_CALL = {
    "CallerFirstName": "FirstName",
    "CallerLastName": "LastName",
    "CallerEmail": "Email",
    "CallerHomePhone": "HomePhone",
    "CallerWorkPhone": "WorkPhone",
    "CallerCellPhone": "CellPhone",
    "CallerAddress": "CustAddress",
    "CallerCity": "CustCity",
    "CallerState": "CustState",
    "CallerZip": "CustZip",
    "CallerComments": "Comments",
}
# CustomerCall/AddToRequest's members (cw-sdk 15.8.3 CustomerCallServiceTypes.Requests.AddToRequest) by kind.
CALL_TEXT_FIELDS = (
    "AcctNum",
    "AptNum",
    "CallerType",
    "CellPhone",
    "Comments",
    "CustAddress",
    "CustAddType",
    "CustCity",
    "CustDistrict",
    "CustState",
    "CustZip",
    "Email",
    "Fax",
    "FirstName",
    "HomePhone",
    "LastName",
    "MiddleInitial",
    "OtherPhone",
    "ProbDetails",
    *(f"Text{n}" for n in range(1, 6)),
    "Title",
    "WorkPhone",
)
CALL_FLAGS = ("CustCallback", "CustContact", "IsFollowUpCall", "IsResident")
CALL_DATES = ("DateTimeCallback", "DateTimeContact")
CALL_POINT = {"Ccx": "CCX", "Ccy": "CCY", "Ccz": "CCZ"}  # the request spells them Ccx, the answer CCX
CALL_SERVICE = "Ams/CustomerCall"
# The demo city's coordinates (simulators/kit/city.py) are WGS84 longitude/latitude, and X/Y are stored as sent:
# the site's spatial reference, as Preferences/User tells a client to query its layers in.
SITE_WKID = 4326


def normalise_date(text: Any, field: str, service: str, zone: tzinfo = UTC) -> str:
    """Accept `YYYY-MM-DD`, `...Thh:mm:ss`, fractions and `Z`; compare as the canonical text, in the site's
    local time (a date with an offset is moved into the site's zone)."""
    if not isinstance(text, str):
        raise InvalidField(f"{field} must be a date", service)
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidField(f"{field}: {text!r} is not a date", service) from None
    if when.tzinfo is not None:
        when = when.astimezone(zone).replace(tzinfo=None)
    return cw_date(when)


class Employee(dict):
    """{EmployeeSid, LoginName, FirstName, LastName, FullName, Email} plus the password (never sent)."""


class CityworksState:
    seed_sizes: Mapping[str, int] = {
        "problems": 40,
        "requests": 200,
        "templates": 15,
        "work_orders": 40,
        "comments": 100,
        "open_requests": 0,  # more requests after `requests`, every one OPEN (a large city's backlog)
    }

    def __init__(self, config: CityworksConfig) -> None:
        self.config = config
        # The site's clock and zone: Cityworks writes its local time without an offset. A scenario may move the
        # clock (a step's `clock`) and set the zone (its section's `timezone`).
        self.clock = Clock()
        self.zone: tzinfo = zone_named(config.timezone)
        # The site's request statuses (Ams/ServiceRequest/Statuses); a scenario may list a city's own.
        self.statuses: list[dict[str, str]] = [dict(s) for s in STATUSES]
        self.status_codes: frozenset[str] = STATUS_CODES
        self.signer = TokenSigner(self.clock)
        self.employees: dict[str, Employee] = {}
        for sid, (login, password) in enumerate(config.users, start=1001):
            first, _, last = login.partition(".")
            self.employees[login.lower()] = Employee(
                EmployeeSid=sid,
                LoginName=login,
                FirstName=first.title(),
                LastName=last.title() or "User",
                FullName=f"{first.title()} {last.title() or 'User'}",
                Email=f"{login}@harnessville.example",
                password=password,
            )
        self.problems: dict[int, dict[str, Any]] = {}
        self.public_problems: set[int] = set()
        self.qa: dict[int, dict[str, Any]] = {}
        self.requests: dict[int, dict[str, Any]] = {}
        self.request_details: dict[int, dict[str, Any]] = {}  # answers, caller, custom fields
        self.templates: dict[str, dict[str, Any]] = {}
        self.public_templates: set[str] = set()
        self.work_orders: dict[str, dict[str, Any]] = {}
        self.wo_by_sid: dict[int, str] = {}
        self.comments: dict[tuple[int, int], list[dict[str, Any]]] = defaultdict(list)
        self.attachments: dict[int, dict[str, Any]] = {}
        self.attachment_bytes: dict[int, bytes] = {}
        self.attachments_of: dict[tuple[int, int], list[int]] = defaultdict(list)
        # Customer calls added to a request (CustomerCall/AddToRequest), sparse: what was given; a request's own
        # caller (Create's Caller* fields) is its first call, kept in request_details and shown from there.
        self.calls: dict[int, dict[str, Any]] = {}
        self.calls_of: dict[int, list[int]] = defaultdict(list)
        # Preferences an employee saved (Preferences/UserSave): EmployeeSid -> (Category, Element) -> DefaultValue.
        self.preferences: dict[int, dict[tuple[str, str], str]] = defaultdict(dict)
        # indexes
        self._by_other_id: dict[str, list[int]] = defaultdict(list)
        self._by_status: dict[str, set[int]] = defaultdict(set)
        self._by_email: dict[str, set[int]] = defaultdict(set)
        self._init_order: list[tuple[str, int]] = []  # (DateTimeInit, RequestId), sorted
        self._seeding = False
        self._wo_init_order: list[tuple[str, str]] = []
        self._ids = {
            k: itertools.count(start) for k, start in (("sr", 1), ("wo", 1), ("comment", 1), ("att", 1), ("call", 1))
        }
        self._problem_ids = itertools.count(1)
        self._question_ids = itertools.count(1)
        self._answer_ids = itertools.count(1)

    # -- seeding, counts, snapshot ------------------------------------------------------------------

    @contextlib.contextmanager
    def seeding(self) -> Iterator[None]:
        """Records added inside are a seed's: kept out of the order-of-entry index until the end, then sorted."""
        self._seeding = True
        try:
            yield
        finally:
            self._seeding = False
            self._init_order.sort()

    def counts(self) -> Mapping[str, int]:
        return {
            "problems": len(self.problems),
            "public_problems": len(self.public_problems),
            "requests": len(self.requests),
            "templates": len(self.templates),
            "work_orders": len(self.work_orders),
            "comments": sum(len(c) for c in self.comments.values()),
            "attachments": len(self.attachments),
            "customer_calls": len(self.calls),
        }

    def snapshot(self) -> Any:
        return {
            "problems": self.problems,
            "public_problems": sorted(self.public_problems),
            "qa": self.qa,
            "requests": self.requests,
            "request_details": self.request_details,
            "templates": self.templates,
            "public_templates": sorted(self.public_templates),
            "work_orders": self.work_orders,
            "comments": {f"{k[0]}:{k[1]}": v for k, v in sorted(self.comments.items())},
            "attachments": self.attachments,
            "attachment_sha256": {k: hashlib.sha256(v).hexdigest() for k, v in self.attachment_bytes.items()},
            "customer_calls": self.calls,
            "preferences": {
                str(sid): [[c, e, v] for (c, e), v in sorted(prefs.items())]
                for sid, prefs in sorted(self.preferences.items())
                if prefs
            },
        }

    def configuration(self) -> Any:
        """The catalogue a client reads, without the ids a server assigns (`/_sim/state`'s configuration
        digest): problem types in ProblemSid order with their public flag and QA (a branch as the number of
        the question it leads to), templates by id."""
        problems = []
        for sid in sorted(self.problems):
            qa = self.qa[sid]
            number = {q["QuestionId"]: n for n, q in enumerate(qa["Questions"], start=1)}
            questions = [
                {
                    "text": q["Question"],
                    "answers": [
                        [a["Answer"], a["AnswerFormat"], number.get(a["NextQuestionId"], 0)]
                        for a in qa["Answers"]
                        if a["QuestionId"] == q["QuestionId"]
                    ],
                }
                for q in qa["Questions"]
            ]
            p = self.problems[sid]
            problems.append([p["ProblemCode"], p["Description"], sid in self.public_problems, questions])
        templates = [
            [t["WOTemplateId"], t["Description"], t["ApplyToEntity"], tid in self.public_templates]
            for tid, t in sorted(self.templates.items())
        ]
        return {
            "problems": problems,
            "templates": templates,
            "statuses": [[s["Code"], s["CodeDesc"]] for s in self.statuses],
        }

    def now(self) -> str:
        """The site's local time now, as Cityworks writes it."""
        return cw_date(self.clock.now().astimezone(self.zone).replace(tzinfo=None))

    def date(self, text: Any, field: str, service: str) -> str:
        return normalise_date(text, field, service, self.zone)

    # -- employees ----------------------------------------------------------------------------------

    def employee(self, login: str) -> Employee | None:
        return self.employees.get(login.lower())

    # -- problems and questions --------------------------------------------------------------------

    def add_problem(self, code: str, description: str, *, public: bool, sid: int | None = None) -> dict[str, Any]:
        sid = sid if sid is not None else next(self._problem_ids)
        problem = {
            "ProblemSid": sid,
            "ProblemCode": code,
            "Description": description,
            "DomainId": 1,
            "OtherSysCode": "",
        }
        self.problems[sid] = problem
        if public:
            self.public_problems.add(sid)
        self.qa[sid] = {"ProblemSid": sid, "BranchingModel": False, "Questions": [], "Answers": []}
        return problem

    def add_question(self, problem_sid: int, text: str, answers: list[tuple[str, str]]) -> dict[str, Any]:
        qa = self.qa[problem_sid]
        question = {
            "QuestionId": next(self._question_ids),
            "Question": text,
            "QuestionSequence": len(qa["Questions"]) + 1,
        }
        qa["Questions"].append(question)
        for seq, (answer, fmt) in enumerate(answers, start=1):
            qa["Answers"].append(
                {
                    "AnswerId": next(self._answer_ids),
                    "QuestionId": question["QuestionId"],
                    "Answer": answer,
                    "AnswerFormat": fmt,
                    "AnswerSequence": seq,
                    "NextQuestionId": 0,
                    "Priority": "",
                    "TellCaller": "",
                }
            )
        return question

    def list_problems(self, public_only: bool) -> list[dict[str, Any]]:
        public_only = public_only and "ignore-public-flag" not in self.config.defects
        sids = sorted(self.public_problems) if public_only else sorted(self.problems)
        return [dict(self.problems[s]) for s in sids]

    def problem_qa(self, problem_sid: Any) -> dict[str, Any]:
        qa = self.qa.get(problem_sid) if isinstance(problem_sid, int) else None
        if qa is None:
            raise InvalidField(f"ProblemSid {problem_sid} not found", SR_SERVICE)
        return {
            "ProblemSid": qa["ProblemSid"],
            "BranchingModel": qa["BranchingModel"],
            "Questions": [dict(q) for q in qa["Questions"]],
            "Answers": [dict(a) for a in qa["Answers"]],
        }

    # -- service requests --------------------------------------------------------------------------

    def _request(self, request_id: Any) -> dict[str, Any]:
        sr = self.requests.get(request_id) if isinstance(request_id, int) and not isinstance(request_id, bool) else None
        if sr is None:
            raise InvalidRequestId(f"RequestId {request_id} not found", SR_SERVICE)
        return sr

    def create_request(self, data: Mapping[str, Any], by: Employee, when: str | None = None) -> dict[str, Any]:
        problem_sid = data.get("ProblemSid")
        if problem_sid is None:
            raise RequiredFields("ProblemSid is required", SR_SERVICE)
        problem = self.problems.get(problem_sid)
        if problem is None:
            raise InvalidField(f"ProblemSid {problem_sid} not found", SR_SERVICE)
        answers = self._check_answers(problem_sid, data.get("Answers") or [])
        status = data.get("Status") or "OPEN"
        if status not in self.status_codes:
            raise InvalidField(f"Status {status!r} is not defined", SR_SERVICE)
        rid = next(self._ids["sr"])
        init = when or (
            self.date(data["DateTimeInit"], "DateTimeInit", SR_SERVICE) if data.get("DateTimeInit") else self.now()
        )
        sr: dict[str, Any] = {
            "RequestId": rid,
            "ProblemSid": problem_sid,
            "ProblemCode": problem["ProblemCode"],
            "Description": problem["Description"],
            "Status": status,
            "IsClosed": False,
            "Cancel": False,
            "DateTimeInit": init,
            "DateTimeClosed": NULL_DATE,
            "DateCancelled": NULL_DATE,
            "ProbAddress": "",
            "ProbCity": "",
            "ProbState": "",
            "ProbZip": "",
            "SRX": UNSET_NUMBER,
            "SRY": UNSET_NUMBER,
            "WorkOrderId": "",
            "InitiatedBy": by["FullName"],
            "InitiatedBySid": by["EmployeeSid"],
            "SubmitTo": "",
            "DispatchTo": "",
            "ReqCategory": "",
            "Resolution": "",
            **{f: "" for f in SR_TEXT_FIELDS},
            **{f"Num{n}": UNSET_NUMBER for n in range(1, 6)},
            **{f"Date{n}": NULL_DATE for n in range(1, 6)},
        }
        self.requests[rid] = sr
        self.request_details[rid] = {"Answers": answers, "Caller": {}, "CustomFieldValues": {}}
        self._apply_fields(sr, data)
        self._by_status[sr["Status"]].add(rid)
        if self._seeding or not self._init_order or self._init_order[-1] <= (init, rid):
            self._init_order.append((init, rid))  # seeding sorts once at the end
        else:
            bisect.insort(self._init_order, (init, rid))
        return dict(sr)

    def _check_answers(self, problem_sid: int, answers: Iterable[Any]) -> list[dict[str, Any]]:
        known = {a["AnswerId"]: a for a in self.qa[problem_sid]["Answers"]}
        questions = {q["QuestionId"]: q for q in self.qa[problem_sid]["Questions"]}
        out = []
        for given in answers:
            answer = known.get(given.get("AnswerId")) if isinstance(given, dict) else None
            if answer is None:
                raise InvalidField(
                    f"AnswerId {given.get('AnswerId') if isinstance(given, dict) else given} "
                    f"is not an answer of ProblemSid {problem_sid}",
                    SR_SERVICE,
                )
            value = given.get("AnswerValue")
            if self.config.check_answer_values:
                self._check_value(answer, value, {a["QuestionId"] for a in out}, problem_sid)
            out.append(
                {
                    "AnswerId": answer["AnswerId"],
                    "QuestionId": answer["QuestionId"],
                    "Question": questions[answer["QuestionId"]]["Question"],
                    "Answer": answer["Answer"],
                    "AnswerValue": "" if value is None else str(value),
                }
            )
        return out

    @staticmethod
    def _check_value(answer: dict[str, Any], value: Any, answered: set[int], problem_sid: int) -> None:
        """With `check_answer_values` (inferred): a NUMERIC value is a number, a DATE value a date, and a
        question is answered once."""
        fmt, text = str(answer["AnswerFormat"]).upper(), "" if value is None else str(value).strip()
        problem = None
        if answer["QuestionId"] in answered:
            problem = f"QuestionId {answer['QuestionId']} is answered more than once"
        elif fmt == "NUMERIC" and text:
            try:
                if not math.isfinite(float(text)):
                    raise ValueError
            except ValueError:
                problem = f"AnswerValue {text!r} of AnswerId {answer['AnswerId']} is not a number"
        elif fmt == "DATE" and text:
            try:
                datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError:
                problem = f"AnswerValue {text!r} of AnswerId {answer['AnswerId']} is not a date"
        if problem is not None:
            raise InvalidField(f"{problem} (ProblemSid {problem_sid})", SR_SERVICE)

    def _apply_fields(self, sr: dict[str, Any], data: Mapping[str, Any]) -> None:
        rid = sr["RequestId"]
        details = self.request_details[rid]
        old_other = sr["OtherSystemId"]
        for f in SR_TEXT_FIELDS:
            if f in data and data[f] is not None:
                sr[f] = str(data[f])
        for wire, field in SR_ADDRESS_FIELDS.items():
            if data.get(wire) is not None:
                sr[field] = str(data[wire])
        if data.get("StreetName") and not data.get("Address"):
            sr["ProbAddress"] = str(data["StreetName"])
        if data.get("X") is not None:
            sr["SRX"] = float(data["X"])
        if data.get("Y") is not None:
            sr["SRY"] = float(data["Y"])
        for n in range(1, 6):
            if data.get(f"Num{n}") is not None:
                sr[f"Num{n}"] = float(data[f"Num{n}"])
            if data.get(f"Date{n}"):
                sr[f"Date{n}"] = self.date(data[f"Date{n}"], f"Date{n}", SR_SERVICE)
        for f in ("SubmitTo", "DispatchTo", "ReqCategory", "Resolution"):
            if data.get(f) is not None:
                sr[f] = str(data[f])
        caller = {f: str(data[f]) for f in CALLER_FIELDS if data.get(f) is not None}
        if caller:
            old_email = details["Caller"].get("CallerEmail", "").lower()
            if old_email:
                self._by_email[old_email].discard(rid)
            details["Caller"].update(caller)
            if "IncidentNum" not in details:  # the request's caller is its first customer call
                details["IncidentNum"] = next(self._ids["call"])
            if details["Caller"].get("CallerEmail"):
                self._by_email[details["Caller"]["CallerEmail"].lower()].add(rid)
        if isinstance(data.get("CustomFieldValues"), dict):
            details["CustomFieldValues"].update({str(k): v for k, v in data["CustomFieldValues"].items()})
        if sr["OtherSystemId"] != old_other:
            if old_other:
                self._by_other_id[old_other].remove(rid)
            if sr["OtherSystemId"]:
                self._by_other_id[sr["OtherSystemId"]].append(rid)

    def update_request(self, data: Mapping[str, Any]) -> dict[str, Any]:
        sr = self._request(data.get("RequestId"))
        if "Status" in data and data["Status"] is not None:
            self._set_status(sr, str(data["Status"]))
        if data.get("ProblemSid") is not None and data["ProblemSid"] != sr["ProblemSid"]:
            problem = self.problems.get(data["ProblemSid"])
            if problem is None:
                raise InvalidField("ProblemSid not found", SR_SERVICE)
            sr.update(ProblemSid=problem["ProblemSid"], ProblemCode=problem["ProblemCode"])
            sr["Description"] = problem["Description"]
        self._apply_fields(sr, data)
        return dict(sr)

    def _set_status(self, sr: dict[str, Any], status: str) -> None:
        if status not in self.status_codes:
            raise InvalidField(f"Status {status!r} is not defined", SR_SERVICE)
        self._by_status[sr["Status"]].discard(sr["RequestId"])
        sr["Status"] = status
        self._by_status[status].add(sr["RequestId"])

    def get_requests(self, ids: Iterable[Any]) -> list[dict[str, Any]]:
        return [dict(self._request(i)) for i in ids]

    def by_other_system_id(self, other: str) -> list[dict[str, Any]]:
        return [dict(self.requests[i]) for i in self._by_other_id.get(other, [])]

    def close_requests(self, ids: list[Any]) -> list[dict[str, Any]]:
        srs = [self._request(i) for i in ids]  # all or nothing
        for sr in srs:
            if sr["Cancel"]:
                raise StatusCantBeClosed(f"{sr['RequestId']} is canceled", SR_SERVICE)
        for sr in srs:
            if not sr["IsClosed"]:
                sr.update(IsClosed=True, DateTimeClosed=self.now())
                self._set_status(sr, "CLOSED")
        return [dict(sr) for sr in srs]

    def reopen_requests(self, ids: list[Any]) -> list[dict[str, Any]]:
        srs = [self._request(i) for i in ids]
        for sr in srs:
            if sr["IsClosed"]:
                sr.update(IsClosed=False, DateTimeClosed=NULL_DATE)
                self._set_status(sr, "OPEN")
        return [dict(sr) for sr in srs]

    def cancel_requests(self, ids: list[Any], reason: str = "") -> list[dict[str, Any]]:
        srs = [self._request(i) for i in ids]
        for sr in srs:
            if sr["IsClosed"]:
                raise StatusCantBeCanceled(f"{sr['RequestId']} is closed", SR_SERVICE)
        for sr in srs:
            if not sr["Cancel"]:
                sr.update(Cancel=True, DateCancelled=self.now(), Resolution=reason or sr["Resolution"])
                self._set_status(sr, "CANCEL")
        return [dict(sr) for sr in srs]

    def uncancel_requests(self, ids: list[Any]) -> list[dict[str, Any]]:
        srs = [self._request(i) for i in ids]
        for sr in srs:
            if sr["Cancel"]:
                sr.update(Cancel=False, DateCancelled=NULL_DATE)
                self._set_status(sr, "OPEN")
        return [dict(sr) for sr in srs]

    def search_requests(self, q: Mapping[str, Any]) -> list[int]:
        """Request ids matching every given filter (lists match any of their values), ascending."""
        candidates: set[int] | None = None

        def narrow(ids: Iterable[int]) -> None:
            nonlocal candidates
            ids = set(ids)
            candidates = ids if candidates is None else candidates & ids

        if q.get("RequestIds"):
            narrow(i for i in q["RequestIds"] if i in self.requests)
        if q.get("OtherSystemId"):
            narrow(i for o in _as_list(q["OtherSystemId"]) for i in self._by_other_id.get(str(o), []))
        if q.get("CallerEmail"):
            narrow(i for e in _as_list(q["CallerEmail"]) for i in self._by_email.get(str(e).lower(), ()))
        if q.get("Status"):
            narrow(i for s in _as_list(q["Status"]) for i in self._by_status.get(str(s), ()))
        begin, end = q.get("DateTimeInitBegin"), q.get("DateTimeInitEnd")
        if begin or end:
            lo = (
                bisect.bisect_left(self._init_order, (self.date(begin, "DateTimeInitBegin", SR_SERVICE), 0))
                if begin
                else 0
            )
            hi = (
                bisect.bisect_right(self._init_order, (self.date(end, "DateTimeInitEnd", SR_SERVICE), 1 << 62))
                if end
                else len(self._init_order)
            )
            narrow(rid for _, rid in self._init_order[lo:hi])
        ids = sorted(self.requests if candidates is None else candidates)
        checks = []
        if q.get("ProblemSid"):
            wanted = set(_as_list(q["ProblemSid"]))
            checks.append(lambda sr: sr["ProblemSid"] in wanted)
        if q.get("InitiatedByApp"):
            apps = set(_as_list(q["InitiatedByApp"]))
            checks.append(lambda sr: sr["InitiatedByApp"] in apps)
        if q.get("Closed") is not None:
            closed = bool(q["Closed"])
            checks.append(lambda sr: sr["IsClosed"] is closed)
        if q.get("Canceled") is not None:
            canceled = bool(q["Canceled"])
            checks.append(lambda sr: sr["Cancel"] is canceled)
        if checks:
            ids = [i for i in ids if all(c(self.requests[i]) for c in checks)]
        limit = q.get("MaxResults")
        return ids[:limit] if isinstance(limit, int) and limit > 0 else ids

    def request_answers(self, request_id: Any) -> list[dict[str, Any]]:
        self._request(request_id)
        return [dict(a) for a in self.request_details[request_id]["Answers"]]

    # -- comments ----------------------------------------------------------------------------------

    def _activity(self, activity_type: Any, sid: Any) -> None:
        if activity_type == ACTIVITY_SR:
            self._request(sid)
        elif activity_type == ACTIVITY_WO:
            if sid not in self.wo_by_sid:
                raise ItemNotFound(f"WorkOrderSid {sid} not found", WO_SERVICE)
        else:
            raise InvalidField(f"ActivityType {activity_type} is not supported")

    def add_comment(
        self, activity_type: int, sid: int, text: Any, by: Employee, when: str | None = None
    ) -> dict[str, Any]:
        self._activity(activity_type, sid)
        if not isinstance(text, str) or not text.strip():
            raise RequiredFields("Comments is required")
        stamp = self.now() if when is None else self.date(when, "DateCreated", "Ams/Comment")
        comment = {
            "CommentId": next(self._ids["comment"]),
            "ActivityId": sid,
            "ActivitySid": sid,
            "ActivityType": activity_type,
            "AuthorName": by["FullName"],
            "AuthorSid": by["EmployeeSid"],
            "Comments": text,
            "DateCreated": stamp,
            "LastModified": stamp,
        }
        self.comments[(activity_type, sid)].append(comment)
        return dict(comment)

    def delete_comment(self, comment_id: int) -> dict[str, Any]:
        for comments in self.comments.values():
            for i, comment in enumerate(comments):
                if comment["CommentId"] == comment_id:
                    return comments.pop(i)
        raise ItemNotFound(f"no comment {comment_id}")

    def comments_for(self, activity_type: int, sids: Iterable[int]) -> dict[str, list[dict[str, Any]]]:
        out = {}
        for sid in sids:
            self._activity(activity_type, sid)
            out[str(sid)] = [dict(c) for c in self.comments.get((activity_type, sid), [])]
            if "reorder-comments" in self.config.defects:
                out[str(sid)].reverse()
        return out

    # -- customer calls (callers of a request) --------------------------------------------------------

    def add_customer_call(self, data: Mapping[str, Any], by: Employee) -> dict[str, Any]:
        """CustomerCall/AddToRequest: one more caller on an existing request (codes as the SDK lists them:
        InvalidRequestId 2 for the request, ErrorItemNotFound 35 for the employee who took the call)."""
        sr = self._request(data.get("RequestId"))
        taker = by
        if data.get("EmployeeSid") is not None:
            found = self.employee_by_sid(data["EmployeeSid"])
            if found is None:
                raise ErrorItemNotFound(
                    f"EmployeeSid {data['EmployeeSid']} not found",
                    CALL_SERVICE,
                )
            taker = found
        call: dict[str, Any] = {
            "IncidentNum": next(self._ids["call"]),
            "RequestId": sr["RequestId"],
            "EmployeeSid": taker["EmployeeSid"],
            "Employee": taker["FullName"],
            "DateTimeCall": self.date(data["DateTimeCall"], "DateTimeCall", CALL_SERVICE)
            if data.get("DateTimeCall")
            else self.now(),
        }
        for f in CALL_TEXT_FIELDS:
            if data.get(f) is not None:
                call[f] = str(data[f])
        for f in CALL_FLAGS:
            if data.get(f) is not None:
                call[f] = bool(data[f])
        for f in CALL_DATES:
            if data.get(f):
                call[f] = self.date(data[f], f, CALL_SERVICE)
        for wire, field in CALL_POINT.items():
            if data.get(wire) is not None:
                call[field] = float(data[wire])
        if data.get("Answers"):
            call["Answers"] = self._check_answers(sr["ProblemSid"], data["Answers"])
        if "drop-customer-calls" not in self.config.defects:
            self.calls[call["IncidentNum"]] = call
            self.calls_of[sr["RequestId"]].append(call["IncidentNum"])
        return _call_base(call)

    def customer_calls(self, request_id: Any) -> list[dict[str, Any]]:
        """A request's callers, first call first: its own caller (from Create/Update), then each added one."""
        sr = self._request(request_id)
        details = self.request_details[sr["RequestId"]]
        out = []
        if "IncidentNum" in details:
            own = {CALLER_TO_CALL[k]: v for k, v in details["Caller"].items() if k in CALLER_TO_CALL}
            own.update(
                IncidentNum=details["IncidentNum"],
                RequestId=sr["RequestId"],
                EmployeeSid=sr["InitiatedBySid"],
                Employee=sr["InitiatedBy"],
                DateTimeCall=sr["DateTimeInit"],
            )
            out.append(_call_base(own))
        return out + [_call_base(self.calls[n]) for n in self.calls_of.get(sr["RequestId"], ())]

    # -- employees' preferences --------------------------------------------------------------------

    def employee_by_sid(self, sid: Any) -> Employee | None:
        if not isinstance(sid, int) or isinstance(sid, bool):
            return None
        return next((e for e in self.employees.values() if e["EmployeeSid"] == sid), None)

    def user_preferences(
        self, employee: Employee, categories: Iterable[str] | None, names: Iterable[str] | None
    ) -> dict[str, Any]:
        """Preferences/User (cw-sdk UserPreferences): the site's spatial reference and the employee's saved
        preferences, narrowed by category and element name when asked. The map settings a site configures
        (district, map page, tile layers...) are empty: the simulator has no map."""
        sid = employee["EmployeeSid"]
        wanted_categories = {c.lower() for c in categories} if categories else None
        wanted_names = {n.lower() for n in names} if names else None
        data = [
            {"Category": category, "DefaultValue": value, "Element": element, "EmployeeSid": sid}
            for (category, element), value in sorted(self.preferences.get(sid, {}).items())
            if (wanted_categories is None or category.lower() in wanted_categories)
            and (wanted_names is None or element.lower() in wanted_names)
        ]
        return {
            "ClusterEventLayers": False,
            "Data": data,
            **dict.fromkeys(_MAP_SETTINGS, ""),
            "MapFavorites": [],
            "SpatialReference": SITE_WKID,
        }

    def save_user_preference(self, employee: Employee, category: str, element: str, value: str) -> dict[str, Any]:
        self.preferences[employee["EmployeeSid"]][(category, element)] = value
        return {"Category": category, "DefaultValue": value, "Element": element, "EmployeeSid": employee["EmployeeSid"]}

    # -- attachments -------------------------------------------------------------------------------

    def add_attachment(
        self, activity_type: int, sid: int, filename: str, content: bytes, comments: str, title: str
    ) -> dict[str, Any]:
        self._activity(activity_type, sid)
        att_id = next(self._ids["att"])
        record = {
            "Id": att_id,
            "Attachment": filename,
            "AttachmentType": "Image"
            if filename.lower().endswith((".jpg", ".jpeg", ".png", ".gif", ".webp"))
            else "File",
            "Comments": comments,
            "Title": title or filename,
            "DateTimeAttached": self.now(),
            "FileSize": len(content),
        }
        if activity_type == ACTIVITY_SR:
            record["RequestId"] = sid
        else:
            record["WorkOrderId"] = self.wo_by_sid[sid]
            record["WorkOrderSid"] = sid
        self.attachments[att_id] = record
        self.attachment_bytes[att_id] = content
        self.attachments_of[(activity_type, sid)].append(att_id)
        return dict(record)

    def attachments_for(self, activity_type: int, sids: Iterable[int]) -> list[dict[str, Any]]:
        out = []
        for sid in sids:
            self._activity(activity_type, sid)
            out += [dict(self.attachments[a]) for a in self.attachments_of.get((activity_type, sid), [])]
        return out

    def attachment_content(self, att_id: Any, activity_type: int) -> tuple[dict[str, Any], bytes]:
        record = self.attachments.get(att_id) if isinstance(att_id, int) else None
        owner = "RequestId" if activity_type == ACTIVITY_SR else "WorkOrderId"
        if record is None or owner not in record:
            raise ItemNotFound(f"Attachment {att_id} not found")
        content = self.attachment_bytes[att_id]
        if "corrupt-attachments" in self.config.defects and content:
            content = bytes([content[0] ^ 0xFF]) + content[1:]
        return record, content

    # -- work orders -------------------------------------------------------------------------------

    def add_template(
        self, template_id: str, description: str, entity: str, category: str, *, public: bool
    ) -> dict[str, Any]:
        template = {
            "WOTemplateId": template_id,
            "Description": description,
            "ApplyToEntity": entity,
            "WOCategory": category,
            "DomainId": 1,
            "IsTemplateClass": False,
        }
        self.templates[template_id] = template
        if public:
            self.public_templates.add(template_id)
        return template

    def list_templates(self, entity_types: list[str] | None, public_only: bool) -> list[dict[str, Any]]:
        public_only = public_only and "ignore-public-flag" not in self.config.defects
        ids = self.public_templates if public_only else self.templates.keys()
        wanted = {e.upper() for e in entity_types} if entity_types else None
        out = [self.templates[t] for t in sorted(ids, key=_natural)]
        return [dict(t) for t in out if wanted is None or t["ApplyToEntity"].upper() in wanted]

    def _work_order(self, wo_id: Any) -> dict[str, Any]:
        wo = self.work_orders.get(str(wo_id)) if isinstance(wo_id, (str, int)) and not isinstance(wo_id, bool) else None
        if wo is None:
            raise ItemNotFound(f"WorkOrderId {wo_id} not found", WO_SERVICE)
        return wo

    def create_work_order(self, data: Mapping[str, Any], by: Employee, when: str | None = None) -> dict[str, Any]:
        missing = [f for f in ("EntityType", "WOTemplateId") if not data.get(f)]
        if missing:
            raise RequiredFields(f"{', '.join(missing)} required", WO_SERVICE)
        template = self.templates.get(str(data["WOTemplateId"]))
        if template is None:
            raise InvalidField(f"WOTemplateId {data['WOTemplateId']} not found", WO_SERVICE)
        sid = next(self._ids["wo"])
        wo_id = str(100_000 + sid)
        init = when or self.now()
        wo: dict[str, Any] = {
            "WorkOrderId": wo_id,
            "WorkOrderSid": sid,
            "WOTemplateId": template["WOTemplateId"],
            "Description": template["Description"],
            "Status": "OPEN",
            "IsClosed": False,
            "Cancel": False,
            "InitiateDate": init,
            "DateWOClosed": NULL_DATE,
            "WOXCoordinate": float(data["X"]) if data.get("X") is not None else UNSET_NUMBER,
            "WOYCoordinate": float(data["Y"]) if data.get("Y") is not None else UNSET_NUMBER,
            "WOAddress": str(data.get("Address") or ""),
            "Location": str(data.get("Location") or ""),
            "Priority": str(data.get("Priority") or ""),
            "Supervisor": "",
            "ApplyToEntity": str(data["EntityType"]),
            "Stage": "Active",
            "WOCategory": template["WOCategory"],
            "InitiatedByApp": str(data.get("InitiatedByApp") or ""),
            "InitiatedBy": by["FullName"],
            "Comments": str(data.get("Comments") or ""),
            **{f"Text{n}": str(data.get(f"Text{n}") or "") for n in range(1, 11)},
        }
        for rid in data.get("RequestIds") or []:
            sr = self._request(rid)
            sr["WorkOrderId"] = wo_id
        self.work_orders[wo_id] = wo
        self.wo_by_sid[sid] = wo_id
        self._wo_init_order.append((init, wo_id))
        return dict(wo)

    def get_work_orders(self, ids: Iterable[Any]) -> list[dict[str, Any]]:
        return [dict(self._work_order(i)) for i in ids]

    def search_work_orders(self, q: Mapping[str, Any]) -> list[str]:
        begin = (
            self.date(q["InitiateDateBegin"], "InitiateDateBegin", WO_SERVICE) if q.get("InitiateDateBegin") else None
        )
        end = self.date(q["InitiateDateEnd"], "InitiateDateEnd", WO_SERVICE) if q.get("InitiateDateEnd") else None
        statuses = set(_as_list(q["Status"])) if q.get("Status") else None
        templates = {str(t) for t in _as_list(q["WOTemplateId"])} if q.get("WOTemplateId") else None
        text1 = set(_as_list(q["Text1"])) if q.get("Text1") else None
        out = []
        for wo in self.work_orders.values():
            if (begin and wo["InitiateDate"] < begin) or (end and wo["InitiateDate"] > end):
                continue
            if statuses is not None and wo["Status"] not in statuses:
                continue
            if templates is not None and wo["WOTemplateId"] not in templates:
                continue
            if text1 is not None and wo["Text1"] not in text1:
                continue
            if q.get("Closed") is not None and wo["IsClosed"] is not bool(q["Closed"]):
                continue
            out.append(wo["WorkOrderId"])
        out.sort(key=int)
        limit = q.get("MaxResults")
        return out[:limit] if isinstance(limit, int) and limit > 0 else out

    def close_work_orders(self, ids: list[Any]) -> list[dict[str, Any]]:
        wos = [self._work_order(i) for i in ids]
        for wo in wos:
            if wo["Cancel"]:
                raise StatusCantBeClosed("work order is canceled", WO_SERVICE)
        for wo in wos:
            if not wo["IsClosed"]:
                wo.update(IsClosed=True, Status="CLOSED", DateWOClosed=self.now(), Stage="Closed")
        return [dict(w) for w in wos]

    def reopen_work_orders(self, ids: list[Any]) -> list[dict[str, Any]]:
        wos = [self._work_order(i) for i in ids]
        for wo in wos:
            wo.update(IsClosed=False, Status="OPEN", DateWOClosed=NULL_DATE, Stage="Active")
        return [dict(w) for w in wos]

    def cancel_work_orders(self, ids: list[Any], reason: str = "") -> list[dict[str, Any]]:
        wos = [self._work_order(i) for i in ids]
        for wo in wos:
            if wo["IsClosed"]:
                raise StatusCantBeCanceled("work order is closed", WO_SERVICE)
        for wo in wos:
            wo.update(Cancel=True, Status="CANCEL", Stage="Canceled")
        return [dict(w) for w in wos]


_MAP_SETTINGS = (
    "DistrictFieldName",
    "DistrictLayerName",
    "EquipmentTreeDisplayText",
    "MapPageFieldName",
    "MapPageLayerName",
    "MapSelectionBaseColor",
    "MapSelectionBaseFill",
    "MapSelectionBaseStroke",
    "MapSelectionSelectedColor",
    "MapSelectionSelectedFill",
    "MapSelectionSelectedStroke",
    "MaterialTreeDisplayText",
    "ShopFieldName",
    "ShopLayerName",
    "TileNoFieldName",
    "TileNoLayerName",
)


def _call_base(call: Mapping[str, Any]) -> dict[str, Any]:
    """A customer call in its wire shape (CustomerCallBase): every member, unset ones as Cityworks writes them."""
    out: dict[str, Any] = {f: "" for f in CALL_TEXT_FIELDS}
    out.update(dict.fromkeys(CALL_FLAGS, False))
    out.update(dict.fromkeys(CALL_DATES, NULL_DATE))
    out.update(dict.fromkeys(CALL_POINT.values(), UNSET_NUMBER))
    out.update((k, v) for k, v in call.items() if k != "Answers")
    return out


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if text.isdigit() else (1 << 62, text)
