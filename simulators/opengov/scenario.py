"""A scenario's OpenGov section (contracts/scenario.schema.json `$defs/opengov`): users, the server's class and
field names, its time zone, request issues, requesters and requests with their comments, the server's page
limit; and what a timeline needs: the request a client created, the calls that read records back, the page of
a listing a client just read, sessions expiring."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from simulators.kit.scenario import matches
from simulators.kit.seeding import EPOCH
from simulators.kit.spec import ScenarioSupport

from .dialect import OpengovError
from .routes import window
from .shapes import point_shape
from .state import OpengovState, local_text

ISSUES, REQUESTS = "cgRequestIssuesClass", "cgRequestsClass"
POLLS = frozenset(op.lower() for op in ("listRecords", "getRecord", "listChildren"))
CLASS_SETTINGS = ("requester_class", "comment_class", "integration_id_field")


def apply(state: OpengovState, section: Mapping[str, Any]) -> None:
    """The listed records, after the generated ones. The server's zone is the section's already (config_from,
    a live setting): both are written in it."""
    user = next(iter(state.users.values()))[0]
    config = state.config
    for cls, records in (
        (ISSUES, section.get("issues", ())),
        (config.requester_class, section.get("requesters", ())),
    ):
        for record in records:
            _dated(state, cls, state.create(cls, [dict(record)], user))
    for listed in section.get("requests", ()):
        fields = {k: v for k, v in listed.items() if k not in ("lat", "long", "comments")}
        if "lat" in listed and "long" in listed:
            fields["CgShape"] = point_shape(listed["lat"], listed["long"])
        (request,) = state.create(REQUESTS, [fields], user)
        _dated(state, REQUESTS, [request])
        for comment in listed.get("comments", ()):
            item = {"CommentField": comment["text"], "PublicField": comment.get("public", True), "AuthorField": user}
            created = state.create(config.comment_class, [item], user, parent=(REQUESTS, request["Oid"]))
            _dated(state, config.comment_class, created)
        state.records[REQUESTS][request["Oid"]]["cgLastModifiedField"] = listed_date(state)


def listed_date(state: OpengovState) -> str:
    """Listed records carry a fixed moment, not the wall clock, so the same file gives the same state; written
    as the server writes any date, in its zone."""
    return local_text(EPOCH, state.zone)


def _dated(state: OpengovState, class_name: str, records: list[dict[str, Any]]) -> None:
    stored = state.records[state.class_def(class_name).name]
    for r in records:
        stored[r["Oid"]]["EntryDateField"] = stored[r["Oid"]]["cgLastModifiedField"] = listed_date(state)


def config_from(section: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if section.get("users"):
        out["users"] = tuple((u["login"], u["password"]) for u in section["users"])
    classes = section.get("classes") or {}
    out.update({k: classes[k] for k in CLASS_SETTINGS if k in classes})
    if "custom_fields" in classes:
        out["custom_fields"] = tuple(classes["custom_fields"])
    if "page_limit" in section:
        out["page_limit"] = section["page_limit"]
    if "timezone" in section:  # the server's zone (inferred): its clock's local time is what it writes
        out["timezone"] = section["timezone"]
    return out


def page_read(
    state: OpengovState, operation: str, path: str, query: Sequence[tuple[str, str]]
) -> tuple[dict[str, Any], list[dict[str, Any]]] | None:
    """A `classes/{class}` list call: its class (as the server names it), filter ("" for none) and sort, and
    the Oids on the page it answered, cut again from the same listing (the backend has not changed since)."""
    if operation.lower() != "listrecords":
        return None
    segments = [s for s in path.split("/") if s]
    if len(segments) < 4:
        return None
    params: dict[str, str] = {}
    for name, value in query:
        params.setdefault(name, value)  # the first of a repeated parameter, as aiohttp's request.query.get
    try:
        cls = state.class_def(segments[3])
        _, chosen, _, _ = window(state, cls.name, params, None)
    except OpengovError:
        return None
    listing = {"class": cls.name, "filter": params.get("filter", ""), "sort": params.get("sort", "")}
    return listing, [{"Oid": r["Oid"]} for r in chosen]


def find_created(state: OpengovState, fields: Mapping[str, Any]) -> dict[str, Any] | None:
    """The newest request with these fields (asked after each client create, so it is the one just made)."""
    records = state.records[REQUESTS]
    for oid in reversed(records):
        if matches(records[oid], fields):
            return {"Oid": oid}
    return None


def expire_sessions(state: OpengovState) -> None:
    state.sessions.clear()


SUPPORT = ScenarioSupport(
    apply=apply,
    config_from=config_from,
    live_settings=frozenset(("timezone",)),
    find_created=find_created,
    creates=frozenset(("createrecords",)),
    polls=POLLS,
    expire_sessions=expire_sessions,
    page_read=page_read,
)
