"""OpenGov EAM (Cartegraph) simulator options. Class and field names the public sources do not show are
settings (marked inferred in the contract), so a test can match a real server's configuration."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

from simulators.kit import SimConfig
from simulators.kit.clock import zone_named
from simulators.kit.spec import check_defects

DEFECTS = {
    "ignore-filter": "filter= is ignored: every record comes back",
    "no-total-count": "_metadata.totalCount is missing",
    "ignore-sort": "sort= is ignored: records come back in Oid order",
    "signout-keeps-session": "authenticate/signout answers 200 but the session stays open",
    "discover-all-library": "discover lists every class under Library",
    "case-sensitive-text": "filters compare text case-sensitively (a binary collation): Ada@X.org is not ada@x.org",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class OpengovConfig(SimConfig):
    # OpenGov EAM (Cartegraph OMS) runs on IIS, on-premise and hosted: its request limits answer before the API.
    front_door: str = "iis"
    requester_class: str = "cgRequestersClass"  # inferred
    comment_class: str = "cgRequests_cgCommentsClass"  # inferred: comments as a child class with a public flag
    integration_id_field: str = "IntegrationIDField"  # inferred from "Integration ID" (Fall 2019)
    # inferred: adding a child record (a comment, an attachment) moves the parent's cgLastModified, so an
    # incremental poll by modification time sees it; --child-keeps-parent-date tests a server where it does not.
    child_touches_parent: bool = True
    # A city's own text fields on requests (Cartegraph lets each city add fields; names end in Field).
    custom_fields: tuple[str, ...] = ("SourceField", "NeighborhoodField")
    default_limit: int = 1000
    # The most records one list answer holds, whatever `limit` asks; `_metadata.limit` then says how many it
    # holds. Whether the real server caps `limit` is not known (vendor notes: DR caps its own pulls, CA passed
    # 10000): inferred, off by default. A scenario sets it low to page a small city in many pages.
    page_limit: int | None = None
    session_ttl_s: int = 3600
    # The status of a create (and an upload). Cartegraph's status list names 201 Created, but caRtegraph, which
    # Pittsburgh runs in production, treats anything but 200 as a failed create (WF-OG-16): 200 by default,
    # 201 as the other reading (inferred either way).
    create_status: int = 200
    # The server's time zone (IANA), inferred: no public source shows which zone a hosted server writes in. Its
    # dates carry no offset, "local server time" (vendor-notes: a client localizes them as US/Eastern). UTC
    # by default, which is what a gateway reads when its integration sets no zone.
    timezone: str = "UTC"
    defects: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        zone_named(self.timezone)
        check_defects(self.defects, DEFECTS)
        for name in (self.requester_class, self.comment_class):
            if not name.endswith("Class"):
                raise ValueError(f"{name!r}: class names end in 'Class'")
        if not all(f.endswith("Field") and f[:-5].isidentifier() for f in self.custom_fields):
            raise ValueError("custom field names are identifiers ending in 'Field'")
        if self.create_status not in (200, 201):
            raise ValueError(f"create_status must be 200 or 201, got {self.create_status}")
        if self.page_limit is not None and self.page_limit < 1:
            raise ValueError(f"page_limit must be at least 1, got {self.page_limit}")
        if not self.integration_id_field.endswith("Field"):
            raise ValueError("field names end in 'Field'")


def add_arguments(group: Any) -> None:
    group.add_argument("--requester-class", default="cgRequestersClass", help="requester class name (inferred)")
    group.add_argument("--comment-class", default="cgRequests_cgCommentsClass", help="comment child class (inferred)")
    group.add_argument("--integration-id-field", default="IntegrationIDField", help="integration reference field")
    group.add_argument(
        "--child-keeps-parent-date",
        action="store_true",
        help="adding a child record leaves the parent's cgLastModified as it was (inferred either way)",
    )
    group.add_argument(
        "--custom-field", action="append", dest="custom_fields", help="a city's own text field on requests (repeatable)"
    )
    group.add_argument(
        "--create-status",
        type=int,
        choices=(200, 201),
        default=200,
        help="status of a create or upload: 200 (caRtegraph in production needs it) or 201 (the docs list it)",
    )
    group.add_argument(
        "--timezone",
        default="UTC",
        help="the server's time zone (IANA name, inferred): dates are its local time without an offset (default UTC)",
    )
    group.add_argument(
        "--page-limit",
        type=int,
        default=None,
        help="the most records one list answer holds, whatever limit asks (inferred; default: no cap)",
    )
    group.add_argument(
        "--defect", action="append", default=[], choices=sorted(DEFECTS), help="a deliberately wrong mode"
    )


def config_from_args(args: argparse.Namespace) -> dict[str, Any]:
    # Checked here as well as by the config, so the sentence names the option the user typed, not the setting.
    if args.page_limit is not None and args.page_limit < 1:
        raise ValueError(f"--page-limit must be at least 1, got {args.page_limit}")
    return {
        "requester_class": args.requester_class,
        "comment_class": args.comment_class,
        "integration_id_field": args.integration_id_field,
        "child_touches_parent": not args.child_keeps_parent_date,
        "create_status": args.create_status,
        "timezone": args.timezone,
        "page_limit": args.page_limit,
        "defects": frozenset(args.defect),
        **({"custom_fields": tuple(args.custom_fields)} if args.custom_fields else {}),
    }
