"""The OpenGov EAM backend: business-object classes keyed by Oid, child classes, attachments, sessions.

A class has a fixed set of fields with types; writes are coerced the way the vendor documents (booleans as
0/1, "0"/"1", true/false, "True"), unknown fields are refused. No HTTP here: failures are `OpengovError`s.
"""

from __future__ import annotations

import itertools
import mimetypes
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import Any

from simulators.kit.clock import Clock, zone_named

from . import filters
from .config import OpengovConfig
from .dialect import OpengovError
from .shapes import point_shape

TEXT, INT, NUMBER, BOOL, DATE, SHAPE = "text", "int", "number", "bool", "date", "shape"
SYSTEM = ("Oid", "IDField", "EntryDateField", "cgLastModifiedField", "EnteredBy")


@dataclass(frozen=True, slots=True)
class ClassDef:
    name: str
    fields: Mapping[str, str]  # JSON name -> type, system fields excluded
    id_prefix: str = ""
    parent: str | None = None
    # What `discover` and the class meta say of it: the area it is listed under (Library, Asset, Resource,
    # Request, Work; None for a child class, which discover does not list) and its display names.
    area: str | None = None
    singular: str = ""
    plural: str = ""


def class_defs(config: OpengovConfig) -> dict[str, ClassDef]:
    requests = {
        "StatusField": TEXT,
        "IssueField": TEXT,
        "DescriptionField": TEXT,
        "LocationDescriptionField": TEXT,  # the address the citizen typed
        "AddressField": TEXT,  # the geocoder-validated address (inferred name)
        "ZipCodeField": TEXT,
        "CgShape": SHAPE,
        "CompletedField": BOOL,
        "TasksField": INT,
        "RequesterField": TEXT,
        "RequesterOidField": INT,  # inferred: the link to the requester record
        "ResponseNotesField": TEXT,
        "PriorityField": TEXT,
        "CloseDateField": DATE,
        "DueDateField": DATE,
        "CommentsField": TEXT,  # seen in the SeeClickFix create: the public comments, appended
        "AttachmentField": TEXT,  # seen: a media URL
        "LinkedField": BOOL,  # seen: true when AttachmentField is a link
        config.integration_id_field: TEXT,
        **dict.fromkeys(config.custom_fields, TEXT),
    }
    requester = {
        f: TEXT
        for f in (
            "FirstNameField",
            "LastNameField",
            "EmailField",
            "PrimaryPhoneField",
            "SecondaryPhoneField",
            "AddressNumberField",
            "UnitField",
            "StreetField",
            "CityField",
            "StateField",
            "ZipCodeField",
        )
    }
    defs = [
        ClassDef(
            "cgRequestIssuesClass",
            {
                "IssueField": TEXT,
                "CodeField": TEXT,
                "InactiveField": BOOL,
                "PublicField": BOOL,
                "InternalRequestCategoryField": TEXT,
                "ResponseField": TEXT,
            },
            "RI-",
            area="Library",
            singular="Request Issue",
            plural="Request Issues",
        ),
        ClassDef("cgRequestsClass", requests, "R-", area="Request", singular="Request", plural="Requests"),
        ClassDef(config.requester_class, requester, "RQ-", area="Library", singular="Requester", plural="Requesters"),
        ClassDef(
            "cgTasksClass",
            {
                "ActivityField": TEXT,
                "StatusField": TEXT,
                "RequestOidField": INT,
                "TaskDescriptionField": TEXT,
                "NotesField": TEXT,
            },
            "T-",
            area="Work",
            singular="Task",
            plural="Tasks",
        ),
        ClassDef(
            config.comment_class,
            {"CommentField": TEXT, "PublicField": BOOL, "AuthorField": TEXT},
            parent="cgRequestsClass",
            singular="Comment",
            plural="Comments",
        ),
        ClassDef(
            "cgRequests_cgAttachmentsClass",
            {
                "FileNameField": TEXT,
                "FileSizeField": INT,
                "ContentTypeField": TEXT,
                "DescriptionField": TEXT,
                "PrimaryField": BOOL,  # inferred: which file `attachments/primary/...` answers
            },
            parent="cgRequestsClass",
            singular="Attachment",
            plural="Attachments",
        ),
    ]
    return {d.name.lower(): d for d in defs}


def date_text(moment: datetime) -> str:
    """A date as the server writes every date (system stamps, Date fields a client or the UI sets): ISO 8601
    without an offset, to the millisecond."""
    return moment.replace(tzinfo=None).isoformat(timespec="milliseconds")


def local_text(moment: datetime, zone: tzinfo) -> str:
    """An aware moment in the server's zone, as it writes dates."""
    return date_text(moment.astimezone(zone))


def coerce(kind: str, field: str, value: Any) -> Any:
    if value is None:
        return None
    try:
        if kind == BOOL:
            if isinstance(value, bool):
                return value
            if value in (0, 1) or (isinstance(value, str) and value.strip().lower() in ("0", "1", "true", "false")):
                return str(value).strip().lower() in ("1", "true")
            raise ValueError
        if kind == INT:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(value)
        if kind == NUMBER:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if kind == DATE:
            return date_text(datetime.fromisoformat(str(value).replace("Z", "+00:00")))
        if kind == SHAPE:
            if not isinstance(value, dict) or not isinstance(value.get("Points"), list):
                raise ValueError
            return value
        if isinstance(value, dict | list):
            raise ValueError
        return str(value)
    except (ValueError, TypeError):
        raise OpengovError(
            400, f"The value for {field} is not valid.", [{"FieldName": field, "Message": f"not a {kind}"}]
        ) from None


class OpengovState:
    # open_requests: more requests after `requests`, every one open (a large city's backlog)
    seed_sizes: Mapping[str, int] = {
        "request_issues": 60,
        "requests": 300,
        "requesters": 100,
        "comments": 150,
        "open_requests": 0,
    }

    def __init__(self, config: OpengovConfig) -> None:
        self.config = config
        self.defs = class_defs(config)
        self.records: dict[str, dict[int, dict[str, Any]]] = {d.name: {} for d in self.defs.values()}
        self.children: dict[tuple[str, int], list[int]] = {}
        self.files: dict[int, bytes] = {}
        self.sessions: dict[str, tuple[str, float]] = {}
        self._oids = itertools.count(1)
        self._ids = itertools.count(1)
        self.users = {login.lower(): (login, password) for login, password in config.users}
        # Paging a query re-asks it per page: answers are kept until the next write (any class).
        self._query_cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
        # The server's clock and zone: it writes EntryDate and cgLastModified (and the dates the UI sets) in its
        # local time without an offset (vendor-notes: "local server time", inferred). A scenario may move the
        # clock (a step's `clock`) and set the zone (its section's `timezone`); sessions expire by the clock.
        self.clock = Clock()
        self.zone: tzinfo = zone_named(config.timezone)

    def now(self) -> str:
        """The server's local time, as it writes dates."""
        return local_text(self.clock.now(), self.zone)

    # -- kit protocol ------------------------------------------------------------------------------

    def counts(self) -> Mapping[str, int]:
        return {name: len(records) for name, records in self.records.items()}

    def snapshot(self) -> Any:
        return {"records": self.records, "files": {k: len(v) for k, v in self.files.items()}}

    # -- classes -------------------------------------------------------------------------------------

    def configuration(self) -> Any:
        """What a client configures itself from, without the ids a server assigns (`/_sim/state`'s configuration
        digest): the class and field names and the request issues in Oid order."""
        config = self.config
        issues = [
            {k: v for k, v in r.items() if k not in SYSTEM}
            for _, r in sorted(self.records[self.class_def("cgRequestIssuesClass").name].items())
        ]
        return {
            "classes": [config.requester_class, config.comment_class, config.integration_id_field],
            "custom_fields": list(config.custom_fields),
            "issues": issues,
        }

    def class_def(self, name: str) -> ClassDef:
        found = self.defs.get(name.lower())
        if found is None:
            raise OpengovError(404, f"Class '{name}' was not found.")
        return found

    def _record(self, cls: ClassDef, oid: Any) -> dict[str, Any]:
        record = self.records[cls.name].get(oid) if isinstance(oid, int) and not isinstance(oid, bool) else None
        if record is None:
            raise OpengovError(404, f"No {cls.name} record with Oid {oid}.")
        return record

    def _fields(self, cls: ClassDef, item: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(item, Mapping):
            raise OpengovError(400, f"Each {cls.name} item must be an object.")
        out: dict[str, Any] = {}
        unknown = []
        for key, value in item.items():
            if key in ("Oid", "ParentOid"):
                continue
            if key in ("lat", "long"):  # SeeClickFix-style coordinates become the shape
                continue
            kind = next((k for f, k in cls.fields.items() if f.lower() == key.lower()), None)
            name = next((f for f in cls.fields if f.lower() == key.lower()), key)
            if kind is None:
                if key == "IDField":
                    out["IDField"] = coerce(TEXT, key, value)
                    continue
                unknown.append(key)
                continue
            out[name] = coerce(kind, name, value)
        if "lat" in item or "long" in item:
            try:
                out["CgShape"] = point_shape(float(item["lat"]), float(item["long"]))
            except (KeyError, TypeError, ValueError):
                raise OpengovError(400, "lat and long must both be numbers.") from None
        if unknown:
            errors = [{"FieldName": f, "Message": "unknown field"} for f in unknown]
            raise OpengovError(400, f"Unknown field(s) on {cls.name}: {', '.join(unknown)}.", errors)
        return out

    def create(
        self, class_name: str, items: list[Any], user: str, parent: tuple[str, int] | None = None
    ) -> list[dict[str, Any]]:
        cls = self.class_def(class_name)
        if cls.parent is not None and parent is None:
            raise OpengovError(400, f"{cls.name} records are created under their {cls.parent} parent.")
        if parent is not None:
            parent_cls = self.class_def(parent[0])
            if cls.parent != parent_cls.name:
                raise OpengovError(400, f"{cls.name} is not a child class of {parent_cls.name}.")
            self._record(parent_cls, parent[1])
        prepared = [self._fields(cls, item) for item in items]  # all or nothing
        self._query_cache.clear()
        created = []
        for fields in prepared:
            stamp = self.now()
            oid = next(self._oids)
            record = {
                "Oid": oid,
                "IDField": fields.pop("IDField", None)
                or (f"{cls.id_prefix}{next(self._ids):06d}" if cls.id_prefix else None),
                # A Boolean field left out is false, not null (a yes/no field has no third state in the
                # vendor's forms; inferred: no public client creates a record without one and reads it back).
                **{f: (False if kind == BOOL else None) for f, kind in cls.fields.items()},
                **fields,
                "EntryDateField": stamp,
                "cgLastModifiedField": stamp,
                "EnteredBy": user,
            }
            if cls.name == "cgRequestsClass":
                record["StatusField"] = record["StatusField"] or "Open"
                record["TasksField"] = record["TasksField"] or 0
            if parent is not None:
                record["ParentOid"] = parent[1]
                self.children.setdefault((cls.name, parent[1]), []).append(oid)
                if self.config.child_touches_parent:
                    self.records[parent_cls.name][parent[1]]["cgLastModifiedField"] = stamp
            self.records[cls.name][oid] = record
            created.append(dict(record))
        return created

    def update(
        self, class_name: str, items: list[Any], oid: int | None = None, parent: tuple[str, int] | None = None
    ) -> tuple[list[dict[str, Any]], int]:
        """`parent`: the update came by `classes/{parent}/{oid}/{child}`; each item must be one of its children."""
        cls = self.class_def(class_name)
        mine: set[int] | None = None
        if parent is not None:
            parent_cls = self.class_def(parent[0])
            self._record(parent_cls, parent[1])
            if cls.parent != parent_cls.name:
                raise OpengovError(400, f"{cls.name} is not a child class of {parent_cls.name}.")
            mine = set(self.children.get((cls.name, parent[1]), []))
        changes = []
        for item in items:
            target = oid if oid is not None else (item.get("Oid") if isinstance(item, Mapping) else None)
            if target is None:
                raise OpengovError(400, "Each item of a PUT must carry its Oid.")
            if mine is not None and target not in mine:
                raise OpengovError(404, f"No {cls.name} record with Oid {target} under {parent[0]} {parent[1]}.")
            changes.append((self._record(cls, target), self._fields(cls, item)))
        modified = 0
        self._query_cache.clear()
        for record, fields in changes:
            if any(record.get(k) != v for k, v in fields.items()):
                record.update(fields)
                record["cgLastModifiedField"] = self.now()
                modified += 1
        return [dict(r) for r, _ in changes], modified

    def delete(self, class_name: str, oid: int) -> int:
        cls = self.class_def(class_name)
        self._record(cls, oid)
        self._query_cache.clear()
        del self.records[cls.name][oid]
        return 1

    def delete_matching(self, class_name: str, filter_text: str) -> int:
        """`DELETE classes/{class}?filter=`: every record the filter selects; how many were deleted."""
        cls = self.class_def(class_name)
        oids = [r["Oid"] for r in self.list(cls.name, filter_text=filter_text)]
        self._query_cache.clear()
        for oid in oids:
            del self.records[cls.name][oid]
        return len(oids)

    def get(self, class_name: str, oid: int) -> dict[str, Any]:
        cls = self.class_def(class_name)
        return dict(self._record(cls, oid))

    def list(
        self,
        class_name: str,
        *,
        filter_text: str | None = None,
        sort: str | None = None,
        parent: tuple[str, int] | None = None,
    ) -> list[dict[str, Any]]:
        cls = self.class_def(class_name)
        key = (cls.name, filter_text, sort, parent)
        cached = self._query_cache.get(key)
        if cached is not None:
            return cached
        rows = self._query(cls, filter_text, sort, parent)
        if len(self._query_cache) >= 16:
            self._query_cache.clear()
        self._query_cache[key] = rows
        return rows

    def _query(
        self, cls: ClassDef, filter_text: str | None, sort: str | None, parent: tuple[str, int] | None
    ) -> list[dict[str, Any]]:
        if parent is not None:
            parent_cls = self.class_def(parent[0])
            self._record(parent_cls, parent[1])
            if cls.parent != parent_cls.name:
                raise OpengovError(400, f"{cls.name} is not a child class of {parent_cls.name}.")
            rows: Iterable[dict[str, Any]] = (
                self.records[cls.name][o]
                for o in self.children.get((cls.name, parent[1]), [])
                if o in self.records[cls.name]
            )
        else:
            rows = self.records[cls.name].values()
        if filter_text and "ignore-filter" not in self.config.defects:
            try:
                tree = filters.parse(filter_text)
            except filters.FilterError as exc:
                raise OpengovError(400, f"The filter is invalid: {exc}") from None
            binary = "case-sensitive-text" in self.config.defects
            rows = [r for r in rows if filters.matches(tree, r, binary)]
        rows = list(rows)
        order = [] if "ignore-sort" in self.config.defects else parse_sort(sort, cls)
        for key, descending in reversed(order):
            rows.sort(key=lambda r, k=key: _sort_key(r.get(k)), reverse=descending)
        return rows

    # -- attachments -------------------------------------------------------------------------------

    def attach(
        self, parent_class: str, parent_oid: int, attach_class: str, name: str, content: bytes, user: str
    ) -> dict[str, Any]:
        if not name:
            raise OpengovError(400, "Identifier cannot be empty. Please specify an identifier.")
        cls = self.class_def(attach_class)
        first = cls.parent is not None and not self._files_of(cls.name, parent_oid)
        (record,) = self.create(
            attach_class,
            [
                {
                    "FileNameField": name,
                    "FileSizeField": len(content),
                    "ContentTypeField": guess_type(name),
                    "PrimaryField": first,  # inferred: a record's first file is its primary one
                }
            ],
            user,
            parent=(parent_class, parent_oid),
        )
        self.files[record["Oid"]] = content
        return record

    def attachment(self, attach_class: str, oid: int) -> tuple[dict[str, Any], bytes]:
        record = self.get(attach_class, oid)
        if oid not in self.files:
            raise OpengovError(404, f"No file for attachment {oid}.")
        return record, self.files[oid]

    def _files_of(self, attach_class: str, parent_oid: int) -> list[dict[str, Any]]:
        stored = self.records[attach_class]
        return [stored[o] for o in self.children.get((attach_class, parent_oid), []) if o in stored and o in self.files]

    def primary_attachment(self, class_name: str, oid: int) -> tuple[dict[str, Any], bytes]:
        """The file `attachments/primary/{class}/{oid}` answers: the record's attachment marked primary."""
        cls = self.class_def(class_name)
        self._record(cls, oid)
        for child in self.defs.values():
            if child.parent == cls.name and "FileNameField" in child.fields:
                for record in self._files_of(child.name, oid):
                    if record.get("PrimaryField"):
                        return dict(record), self.files[record["Oid"]]
        raise OpengovError(404, f"{cls.name} record {oid} has no primary attachment.")

    # -- sessions ----------------------------------------------------------------------------------

    def login(self, user: Any, password: Any) -> str:
        known = self.users.get(str(user).lower()) if isinstance(user, str) else None
        if known is None or not isinstance(password, str) or not secrets.compare_digest(password, known[1]):
            raise OpengovError(401, "The user name or password is incorrect.")
        cookie = secrets.token_urlsafe(24)
        self.sessions[cookie] = (known[0], self.clock.time() + self.config.session_ttl_s)
        return cookie

    def session_user(self, cookie: str) -> str | None:
        found = self.sessions.get(cookie) if cookie else None
        if found is None or found[1] < self.clock.time():
            return None
        return found[0]

    def session_left(self, cookie: str) -> int:
        """Whole seconds the session has left; 0 for none, an ended or an expired one."""
        found = self.sessions.get(cookie) if cookie else None
        return max(0, int(found[1] - self.clock.time())) if found is not None else 0

    def logout(self, cookie: str) -> None:
        self.sessions.pop(cookie, None)

    def check_basic(self, user: str, password: str) -> str | None:
        known = self.users.get(user.lower())
        if known is None or not secrets.compare_digest(password, known[1]):
            return None
        return known[0]


def parse_sort(text: str | None, cls: ClassDef) -> list[tuple[str, bool]]:
    if not text:
        return [("Oid", False)]
    out = []
    allowed = {f.lower(): f for f in (*cls.fields, *SYSTEM)}
    for part in text.split(","):
        name, _, direction = part.strip().partition(":")
        field = allowed.get(name.strip().lower())
        if field is None or direction.lower() not in ("", "asc", "dsc", "desc"):
            raise OpengovError(400, f"The sort '{part.strip()}' is invalid (use Field:asc or Field:dsc).")
        out.append((field, direction.lower() in ("dsc", "desc")))
    return out


def _sort_key(value: Any) -> tuple[int, Any]:
    if value is None:
        return (0, "")
    if isinstance(value, bool | int | float):
        return (1, float(value))
    return (2, str(value).casefold())


def guess_type(name: str) -> str:
    return mimetypes.guess_type(name)[0] or "application/octet-stream"
