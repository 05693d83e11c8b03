"""Deterministic seed data: request issues (categories), requesters, requests in the demo city, comments."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from simulators.kit import Seeder
from simulators.kit import city as demo_city

from .shapes import point_shape
from .state import local_text

if TYPE_CHECKING:
    from .state import OpengovState

ISSUES = [
    ("Pothole", "Streets"),
    ("Streetlight Out", "Streets"),
    ("Graffiti", "Parks"),
    ("Missed Trash Pickup", "Sanitation"),
    ("Damaged Sign", "Streets"),
    ("Sidewalk Repair", "Streets"),
    ("Tree Down", "Forestry"),
    ("Illegal Dumping", "Sanitation"),
    ("Water Leak", "Utilities"),
    ("Sewer Backup", "Utilities"),
    ("Abandoned Vehicle", "Police"),
    ("Storm Drain Clogged", "Utilities"),
    ("Park Maintenance", "Parks"),
    ("Snow Removal", "Streets"),
    ("Traffic Signal", "Traffic"),
]
COMMENTS = [
    "Crew dispatched.",
    "Thanks for the report.",
    "Inspected; repair scheduled.",
    "Internal: order asphalt.",
    "Duplicate of an earlier request.",
    "Work complete.",
]


def seed_state(state: OpengovState, seed: int, sizes: Mapping[str, int]) -> None:
    s = Seeder(seed)
    rng = s.rng
    user = next(iter(state.users.values()))[0]
    stamp = lambda: local_text(s.timestamp(days_back=720), state.zone)  # noqa: E731

    def stamped(class_name: str, records: list[dict]) -> None:
        stored = state.records[state.class_def(class_name).name]
        for r in records:  # seeded data carries seeded dates, not the wall clock
            stored[r["Oid"]]["EntryDateField"] = stored[r["Oid"]]["cgLastModifiedField"] = stamp()

    issues = []
    for n in range(sizes["request_issues"]):
        name, group = ISSUES[n % len(ISSUES)]
        if n >= len(ISSUES):
            name = f"{name} {n // len(ISSUES) + 1}"
        issues += state.create(
            "cgRequestIssuesClass",
            [
                {
                    "IssueField": name,
                    "CodeField": f"RI{n + 1:05d}",
                    "InactiveField": rng.random() < 0.1,
                    "PublicField": rng.random() < 0.8,
                    "InternalRequestCategoryField": group,
                }
            ],
            user,
        )
    stamped("cgRequestIssuesClass", issues)

    requesters = []
    for _ in range(sizes["requesters"]):
        first, last = s.pick("first_name"), s.pick("last_name")
        requesters += state.create(
            state.config.requester_class,
            [
                {
                    "FirstNameField": first,
                    "LastNameField": last,
                    "EmailField": f"{first}.{last}@example.org".lower(),
                    "PrimaryPhoneField": s.pick("phone_number"),
                }
            ],
            user,
        )
    stamped(state.config.requester_class, requesters)

    active = [i for i in issues if not i["InactiveField"]] or issues
    requests = []
    mixed = sizes["requests"]
    for n, (lon, lat) in enumerate(demo_city.random_points(rng, mixed + sizes.get("open_requests", 0))):
        issue = active[rng.randrange(len(active))] if active else {"IssueField": ""}
        requester = requesters[rng.randrange(len(requesters))] if requesters else None
        closed = rng.random() < 0.3 if n < mixed else False
        (request,) = state.create(
            "cgRequestsClass",
            [
                {
                    "IssueField": issue["IssueField"],
                    "DescriptionField": s.pick("sentence"),
                    "LocationDescriptionField": f"{rng.randrange(1, 9999)} {s.pick('street_name')}",
                    "CgShape": point_shape(lat, lon),
                    "StatusField": "Closed" if closed else "Open",
                    "CompletedField": closed,
                    "TasksField": rng.randrange(0, 3),
                    "RequesterOidField": requester["Oid"] if requester else None,
                    "RequesterField": f"{requester['FirstNameField']} {requester['LastNameField']}"
                    if requester
                    else "",
                }
            ],
            user,
        )
        requests.append(request)
    stamped("cgRequestsClass", requests)

    stored_requests = state.records["cgRequestsClass"]
    for _ in range(sizes["comments"] if requests else 0):
        parent = requests[rng.randrange(len(requests))]
        before = stored_requests[parent["Oid"]]["cgLastModifiedField"]
        created = state.create(
            state.config.comment_class,
            [
                {
                    "CommentField": COMMENTS[rng.randrange(len(COMMENTS))],
                    "PublicField": rng.random() < 0.6,
                    "AuthorField": user,
                }
            ],
            user,
            parent=("cgRequestsClass", parent["Oid"]),
        )
        stamped(state.config.comment_class, created)
        # The comment moved its parent's modification time to the wall clock; seeded data keeps seeded dates.
        comment_date = state.records[state.class_def(state.config.comment_class).name][created[0]["Oid"]]
        stored_requests[parent["Oid"]]["cgLastModifiedField"] = max(before, comment_date["EntryDateField"])
