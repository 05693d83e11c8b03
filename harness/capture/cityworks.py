"""A Cityworks site as a scenario section, read with read-only calls only: sign in, problem types (all, then the
public ones), each problem's QA, work-order templates (all, then the public ones), and up to `max_records`
service requests with their comments. Callers, free text and comments are scrubbed (scrub.py)."""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import requests

from .. import preflight
from . import scrub

AUTH = ("/Services/General/Authentication/Authenticate", "/Services/Authentication/Authenticate")
TIMEOUT_S = 30
BATCH = 100
UNSET_NUMBER = -9999.0  # how Cityworks writes "no number"
# What Cityworks' request answers carry that its Create takes back, by the Create name.
REQUEST_FIELDS = {"ProbAddress": "Address", "ProbCity": "City", "ProbState": "State", "ProbZip": "Zip"}
KEPT = ("Status", "InitiatedByApp", "OtherSystemId", "Priority", "Landmark", "ReqCategory")
FREE_TEXT = ("Details", "Comments", "Location", "Resolution")


class CaptureError(RuntimeError):
    """The server cannot be read as asked (one sentence for the user)."""


@dataclass
class Reader:
    base: str
    username: str
    password: str
    http: requests.Session = field(default_factory=requests.Session)
    token: str = ""
    header_scheme: bool = True  # 23+: the token as a header; before, as a form field
    calls: Counter[str] = field(default_factory=Counter)

    def call(self, path: str, data: dict[str, Any]) -> Any:
        form = {"data": json.dumps(data)}
        headers = {}
        if self.header_scheme:
            headers["Authorization"] = f"cityworks {self.token}"
        else:
            form["token"] = self.token
        resp = self.http.post(self.base + path, data=form, headers=headers, timeout=TIMEOUT_S)
        self.calls[path] += 1
        envelope = resp.json() if resp.headers.get("Content-Type", "").startswith("application/json") else None
        if not isinstance(envelope, dict) or envelope.get("Status") != 0:
            if self.header_scheme and isinstance(envelope, dict) and envelope.get("Status") == 2:
                self.header_scheme = False  # a site before 23: the token goes as a field
                return self.call(path, data)
            raise CaptureError(f"{path} answered HTTP {resp.status_code}: {str(envelope or resp.text)[:300]}")
        return envelope.get("Value")

    def sign_in(self) -> None:
        """Signs in where this site's version takes it (23+ first, then before), or one sentence, as certify's
        pre-flight says it: a 404 at both is not the site root; a refusal is quoted in Cityworks' own words."""
        credentials = {"data": json.dumps({"LoginName": self.username, "Password": self.password})}
        refused: dict[str, Any] | None = None
        not_found: requests.Response | None = None
        for path in AUTH:
            resp = self.http.post(self.base + path, data=credentials, timeout=TIMEOUT_S)
            self.calls[path] += 1
            if resp.status_code == 404:
                not_found = not_found or resp
                continue
            try:
                envelope = resp.json()
            except ValueError:
                continue
            if isinstance(envelope, dict) and envelope.get("Status") == 0:
                self.token = envelope["Value"]["Token"]
                return
            if isinstance(envelope, dict) and "Status" in envelope:
                refused = refused or envelope
        if refused is not None:
            raise CaptureError(preflight.cityworks_refusal(refused, self.username))
        if not_found is not None:
            raise CaptureError(preflight.site_root_404(self.base + AUTH[0], not_found, "the part before /Services"))
        raise CaptureError(f"{self.base}{AUTH[0]} does not answer like Cityworks: is --url the Cityworks site root?")


def capture(base: str, username: str, password: str, max_records: int = 1000) -> tuple[dict[str, Any], Counter[str]]:
    """(the scenario's `cityworks` section, how many of each thing was read)."""
    r = Reader(base.rstrip("/"), username, password)
    r.sign_in()
    read: Counter[str] = Counter()
    problems = r.call("/Services/Ams/ServiceRequest/Problems", {"ForPublicOnly": False}) or []
    public = {p["ProblemSid"] for p in r.call("/Services/Ams/ServiceRequest/Problems", {"ForPublicOnly": True}) or []}
    section: dict[str, Any] = {"problems": [], "templates": []}
    codes: dict[int, str] = {}
    for problem in sorted(problems, key=lambda p: p["ProblemSid"]):
        qa = r.call("/Services/Ams/ServiceRequest/QA", {"ProblemSid": problem["ProblemSid"]}) or {}
        codes[problem["ProblemSid"]] = problem["ProblemCode"]
        section["problems"].append(_problem(problem, problem["ProblemSid"] in public, qa))
        read["problem types"] += 1
        read["questions"] += len(qa.get("Questions") or [])
    statuses = r.call("/Services/Ams/ServiceRequest/Statuses", {}) or []
    if statuses:
        section["statuses"] = [{"Code": s["Code"], "CodeDesc": s.get("CodeDesc") or s["Code"]} for s in statuses]
        read["statuses"] = len(statuses)
    templates = r.call("/Services/Ams/WorkOrder/Templates", {}) or []
    public_templates = {
        t["WOTemplateId"] for t in r.call("/Services/Ams/WorkOrder/Templates", {"ForPublicOnly": True}) or []
    }
    for t in templates:
        section["templates"].append(
            {
                "WOTemplateId": str(t["WOTemplateId"]),
                "Description": t.get("Description") or "",
                "ApplyToEntity": t.get("ApplyToEntity") or "",
                "public": t["WOTemplateId"] in public_templates,
            }
        )
        read["work-order templates"] += 1
    if max_records:
        ids = r.call("/Services/Ams/ServiceRequest/Search", {"MaxResults": max_records}) or []
        ids = ids[:max_records]
        section["requests"] = []
        for start in range(0, len(ids), BATCH):
            batch = ids[start : start + BATCH]
            found = r.call("/Services/Ams/ServiceRequest/ByIds", {"RequestIds": batch}) or []
            comments = r.call("/Services/Ams/Comment/ByActivitySids", {"ActivityType": 1, "ActivitySids": batch}) or {}
            for sr in found:
                listed = _request(sr, codes, comments.get(str(sr["RequestId"])) or [])
                if listed is not None:
                    section["requests"].append(listed)
                    read["service requests"] += 1
                    read["comments"] += len(listed.get("comments", ()))
    if not section["templates"]:
        del section["templates"]
    read["calls"] = sum(r.calls.values())
    return section, read


def _problem(problem: dict[str, Any], public: bool, qa: dict[str, Any]) -> dict[str, Any]:
    questions = qa.get("Questions") or []
    number = {q["QuestionId"]: n for n, q in enumerate(questions, start=1)}
    out: dict[str, Any] = {
        "ProblemCode": problem["ProblemCode"],
        "Description": problem.get("Description") or problem["ProblemCode"],
        "public": public,
    }
    listed = []
    for q in questions:
        answers = []
        for a in qa.get("Answers") or []:
            if a["QuestionId"] != q["QuestionId"]:
                continue
            answer: dict[str, Any] = {"text": a.get("Answer") or "", "format": (a.get("AnswerFormat") or "THISTEXT")}
            if a.get("NextQuestionId") in number:
                answer["next"] = number[a["NextQuestionId"]]
            answers.append(answer)
        listed.append({"text": q["Question"], "answers": answers or [{"format": "FREETEXT"}]})
    if listed:
        out["questions"] = listed
    return out


def _request(sr: dict[str, Any], codes: dict[int, str], comments: list[dict[str, Any]]) -> dict[str, Any] | None:
    code = codes.get(sr.get("ProblemSid")) or sr.get("ProblemCode")
    if not code or code not in codes.values():
        return None  # a problem type no longer listed: nothing to file it under
    out: dict[str, Any] = {"ProblemCode": code}
    for wire, create in REQUEST_FIELDS.items():
        if sr.get(wire):
            out[create] = sr[wire]
    for name in KEPT:
        if sr.get(name):
            out[name] = sr[name]
    for name in FREE_TEXT:
        if sr.get(name):
            out[name] = scrub.free_text(sr[name])
    for axis, wire in (("X", "SRX"), ("Y", "SRY")):
        value = sr.get(wire)
        if isinstance(value, (int, float)) and value != UNSET_NUMBER:
            out[axis] = value
    texts = [scrub.free_text(c.get("Comments")) for c in comments if (c.get("Comments") or "").strip()]
    if texts:
        out["comments"] = texts
    return out
