"""The gateway's tables (SQLAlchemy Core). One schema for SQLite and PostgreSQL; Alembic migrations in
`migrations/versions/` create it, and a test checks that they produce exactly these tables."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

Stamp = sa.DateTime(timezone=True)


def _id() -> sa.Column:
    return sa.Column("id", sa.Integer, primary_key=True, autoincrement=True)


geographies = sa.Table(
    "geographies",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("geometry", sa.Text, nullable=False),  # GeoJSON geometry, WGS84
    sa.Column("has_cutouts", sa.Boolean, nullable=False),
    sa.Column("min_lon", sa.Float, nullable=False),
    sa.Column("min_lat", sa.Float, nullable=False),
    sa.Column("max_lon", sa.Float, nullable=False),
    sa.Column("max_lat", sa.Float, nullable=False),
    sa.Column("source", sa.String(20), nullable=False),  # shapefile | geojson
    sa.Column("source_crs", sa.String(200), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)

integrations = sa.Table(
    "integrations",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("vendor", sa.String(20), nullable=False),  # cityworks | opengov | none
    sa.Column("version", sa.String(20), nullable=True),
    sa.Column("base_url", sa.String(2000), nullable=True),
    # Cityworks Online: where to log in first (its token is then the site's password)
    sa.Column("login_url", sa.String(2000), nullable=True),
    sa.Column("username", sa.String(200), nullable=True),
    sa.Column("secret", sa.Text, nullable=True),  # write-only: never returned, never logged
    sa.Column("default_mode", sa.String(2), nullable=False),  # sr | wo
    sa.Column("geocoder_url", sa.String(2000), nullable=True),
    # IANA zone the vendor writes its offset-less dates in (Cityworks' site time); none: UTC
    sa.Column("timezone", sa.String(64), nullable=True),
    sa.Column("intervals", sa.Text, nullable=False),  # JSON: job -> seconds
    sa.Column("status_map", sa.Text, nullable=True),  # JSON list of {vendor, public}; none: the vendor's defaults
    sa.Column("status_map_version", sa.Integer, nullable=False, server_default="1"),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

agencies = sa.Table(
    "agencies",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="SET NULL"), nullable=True),
    sa.Column("geography_id", sa.Integer, sa.ForeignKey("geographies.id", ondelete="SET NULL"), nullable=True),
    sa.Column("importer_enabled", sa.Boolean, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

categories = sa.Table(
    "categories",
    metadata,
    _id(),
    sa.Column("code", sa.String(64), nullable=False, unique=True),  # the Open311 service_code
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("group_name", sa.String(200), nullable=False),
    sa.Column("keywords", sa.String(500), nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("active", sa.Boolean, nullable=False),
    sa.Column("integrated", sa.Boolean, nullable=False),
    sa.Column("vendor_id", sa.String(100), nullable=True),
    sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="SET NULL"), nullable=True),
    sa.Column("mode", sa.String(2), nullable=True),  # sr | wo; none: the integration's default
    sa.Column("auto_sync_questions", sa.Boolean, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

category_agencies = sa.Table(
    "category_agencies",
    metadata,
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id", ondelete="CASCADE"), primary_key=True),
)

questions = sa.Table(
    "questions",
    metadata,
    _id(),
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id", ondelete="CASCADE"), nullable=False),
    sa.Column("code", sa.String(64), nullable=False),
    sa.Column("text", sa.String(1000), nullable=False),
    sa.Column("datatype", sa.String(20), nullable=False),
    sa.Column("required", sa.Boolean, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("position", sa.Integer, nullable=False),
    sa.Column("integration_key", sa.String(64), nullable=True),
    sa.Column("choices", sa.Text, nullable=False),  # JSON list of {key, name}
    sa.Column("synced", sa.Boolean, nullable=False),
    sa.Column("vendor_ref", sa.Text, nullable=True),  # JSON: the vendor's question (and free-text answer) ids
    sa.UniqueConstraint("category_id", "code", name="uq_questions_category_code"),
)

comment_rules = sa.Table(
    "comment_rules",
    metadata,
    _id(),
    sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("field", sa.String(200), nullable=False),
    sa.Column("operator", sa.String(10), nullable=False),
    sa.Column("value", sa.String(500), nullable=False),
    sa.Column("message", sa.String(2000), nullable=False),
)

requests = sa.Table(
    "requests",
    metadata,
    _id(),
    sa.Column("public_id", sa.String(40), nullable=False, unique=True),  # the Open311 service_request_id
    sa.Column("category_id", sa.Integer, sa.ForeignKey("categories.id"), nullable=False),
    sa.Column("agency_id", sa.Integer, sa.ForeignKey("agencies.id"), nullable=True),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("status_detail", sa.String(20), nullable=True),  # the public status behind open/closed
    sa.Column("status_notes", sa.Text, nullable=True),
    sa.Column("description", sa.Text, nullable=False),
    sa.Column("lat", sa.Float, nullable=True),
    sa.Column("long", sa.Float, nullable=True),
    sa.Column("address", sa.String(500), nullable=True),
    sa.Column("address_id", sa.String(100), nullable=True),
    sa.Column("zipcode", sa.String(20), nullable=True),
    # Private: never in a public answer.
    sa.Column("email", sa.String(320), nullable=True),
    sa.Column("phone", sa.String(50), nullable=True),
    sa.Column("first_name", sa.String(100), nullable=True),
    sa.Column("last_name", sa.String(100), nullable=True),
    sa.Column("device_id", sa.String(200), nullable=True),
    sa.Column("account_id", sa.String(200), nullable=True),
    sa.Column("media_url", sa.String(2000), nullable=True),
    # GEO-2: the geocoder's address for the point, or why there is none (GEO-4: never blocks submission)
    sa.Column("validated_address", sa.String(500), nullable=True),
    sa.Column("geocode_error", sa.String(500), nullable=True),
    sa.Column("token", sa.String(40), nullable=False, unique=True),
    sa.Column("requested_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
    sa.Index("ix_requests_updated_at", "updated_at", "id"),
)

answers = sa.Table(
    "answers",
    metadata,
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("question_id", sa.Integer, sa.ForeignKey("questions.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),  # JSON: a string, or a list for multivaluelist
)

media = sa.Table(
    "media",
    metadata,
    _id(),
    sa.Column("public_id", sa.String(40), nullable=False, unique=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
    sa.Column("filename", sa.String(255), nullable=False),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("size", sa.Integer, nullable=False),
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("content", sa.LargeBinary, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)

comments = sa.Table(
    "comments",
    metadata,
    _id(),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("public", sa.Boolean, nullable=False),
    sa.Column("author", sa.String(200), nullable=False),  # citizen | staff | vendor
    sa.Column("media_id", sa.Integer, sa.ForeignKey("media.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)

# Every outbound effect, written in the same transaction as the public change; a worker delivers it.
outbox = sa.Table(
    "outbox",
    metadata,
    _id(),
    sa.Column("kind", sa.String(40), nullable=False),  # create_request | add_comment | add_attachment
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), nullable=False),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", Stamp, nullable=False),
    sa.Column("delivered_at", Stamp, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Column("dead_at", Stamp, nullable=True),  # the vendor refused it for good; kept for the admin to see
    # W3C traceparent of the public write that made the row: its delivery and vendor calls join that trace
    sa.Column("traceparent", sa.String(55), nullable=True),
    sa.Index("ix_outbox_pending", "delivered_at", "next_attempt_at"),
)

# The vendor's record for a public request (or comment, attachment): found here, or at the vendor by the
# gateway's own reference, before anything is created again.
vendor_records = sa.Table(
    "vendor_records",
    metadata,
    _id(),
    sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),  # request | comment | attachment
    sa.Column("local_id", sa.Integer, nullable=False),  # requests.id, comments.id or media.id
    sa.Column("vendor_id", sa.String(100), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    # The vendor's own modification time of the record when the status poll last followed it, so a re-read
    # inside the poll's overlap costs no further calls.
    sa.Column("vendor_modified", sa.String(40), nullable=True),
    sa.UniqueConstraint("integration_id", "kind", "local_id", name="uq_vendor_records_local"),
)

# A job holds its lease while it runs, so several gateway instances never run the same job at once.
job_leases = sa.Table(
    "job_leases",
    metadata,
    sa.Column("job", sa.String(100), primary_key=True),  # e.g. "category_sync:3"
    sa.Column("holder", sa.String(100), nullable=False),
    sa.Column("expires_at", Stamp, nullable=False),
)

job_runs = sa.Table(
    "job_runs",
    metadata,
    _id(),
    sa.Column("job", sa.String(40), nullable=False),
    sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"), nullable=True),
    sa.Column("trigger", sa.String(20), nullable=False),  # schedule | admin
    sa.Column("status", sa.String(20), nullable=False),  # running | ok | failed | skipped
    sa.Column("counts", sa.Text, nullable=False),  # JSON
    sa.Column("errors", sa.Text, nullable=False),  # JSON list of strings
    sa.Column("started_at", Stamp, nullable=False),
    sa.Column("finished_at", Stamp, nullable=True),
    sa.Index("ix_job_runs_job", "job", "id"),
)

# Where an incremental job left off (e.g. the newest vendor creation time the request import has seen).
sync_cursors = sa.Table(
    "sync_cursors",
    metadata,
    sa.Column("job", sa.String(40), primary_key=True),
    sa.Column("integration_id", sa.Integer, sa.ForeignKey("integrations.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("value", sa.String(100), nullable=False),
)

# OG-UPD-2: whether a comment rule's condition held at the last poll, per request, so it fires once per
# false -> true transition.
rule_states = sa.Table(
    "rule_states",
    metadata,
    sa.Column("rule_id", sa.Integer, sa.ForeignKey("comment_rules.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("request_id", sa.Integer, sa.ForeignKey("requests.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("holds", sa.Boolean, nullable=False),
)

# -- Citizen Portal integration widgets (WID-*) --------------------------------------------------------

# The city's address setup: the properties citizens choose their address from (WID-8 needs it complete).
addresses = sa.Table(
    "addresses",
    metadata,
    _id(),
    sa.Column("property_id", sa.String(64), nullable=False, unique=True),  # the city's parcel id
    sa.Column("line", sa.String(200), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)

# Portal-wide settings that are not deployment settings (e.g. whether the address setup is complete).
portal_settings = sa.Table(
    "portal_settings",
    metadata,
    sa.Column("name", sa.String(60), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

# WID-14: a link account is shared by widgets: an account-number link or an external (city sign-in) link.
link_accounts = sa.Table(
    "link_accounts",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("kind", sa.String(20), nullable=False),  # account | external
    sa.Column("created_at", Stamp, nullable=False),
)

widgets = sa.Table(
    "widgets",
    metadata,
    _id(),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("type", sa.String(20), nullable=False),  # formatted | html
    sa.Column("fixed", sa.Boolean, nullable=False),
    sa.Column("colour", sa.String(7), nullable=False),
    sa.Column("icon", sa.Text, nullable=False),  # JSON: {"library": name} or {"svg": text}
    sa.Column("property_dependent", sa.Boolean, nullable=False),
    sa.Column("endpoint", sa.String(2000), nullable=True),
    sa.Column("key_id", sa.String(64), nullable=True),
    sa.Column("secret", sa.Text, nullable=True),  # write-only: never returned, never logged
    sa.Column("layout", sa.Text, nullable=False),  # JSON: template, widths, dashboard items, tables, charts
    sa.Column("texts", sa.Text, nullable=False),  # JSON: the texts of WID-13
    sa.Column("link_account_id", sa.Integer, sa.ForeignKey("link_accounts.id", ondelete="RESTRICT"), nullable=True),
    sa.Column("notifications", sa.Boolean, nullable=False),
    sa.Column("published", sa.Boolean, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("updated_at", Stamp, nullable=False),
)

citizens = sa.Table(
    "citizens",
    metadata,
    _id(),
    sa.Column("email", sa.String(254), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("password_hash", sa.String(200), nullable=False),  # scrypt, with its parameters and salt
    sa.Column("token_hash", sa.String(64), nullable=True, unique=True),  # SHA-256 of the bearer token
    sa.Column("address_id", sa.Integer, sa.ForeignKey("addresses.id", ondelete="SET NULL"), nullable=True),
    sa.Column("created_at", Stamp, nullable=False),
)

# What a citizen removed from their dashboard (published widgets show unless removed; fixed ones always).
dashboard_removals = sa.Table(
    "dashboard_removals",
    metadata,
    sa.Column("citizen_id", sa.Integer, sa.ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("widget_id", sa.Integer, sa.ForeignKey("widgets.id", ondelete="CASCADE"), primary_key=True),
)

# WID-15: who wants to hear when a widget's content changes, and the content version last seen for them.
subscriptions = sa.Table(
    "subscriptions",
    metadata,
    sa.Column("citizen_id", sa.Integer, sa.ForeignKey("citizens.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("widget_id", sa.Integer, sa.ForeignKey("widgets.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("etag", sa.String(200), nullable=True),
    sa.Column("checked_at", Stamp, nullable=True),
)

# One row per content change per subscriber: the unique key makes "exactly once" a database fact.
notifications = sa.Table(
    "notifications",
    metadata,
    _id(),
    sa.Column("citizen_id", sa.Integer, sa.ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False),
    sa.Column("widget_id", sa.Integer, sa.ForeignKey("widgets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("etag", sa.String(200), nullable=False),
    sa.Column("message", sa.String(500), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
    sa.Column("read_at", Stamp, nullable=True),
    sa.UniqueConstraint("citizen_id", "widget_id", "etag", name="uq_notifications_change"),
)

# WID-14 external linking: the state the portal sent to the city's sign-in page, bound to one citizen.
link_states = sa.Table(
    "link_states",
    metadata,
    sa.Column("state", sa.String(64), primary_key=True),
    sa.Column("citizen_id", sa.Integer, sa.ForeignKey("citizens.id", ondelete="CASCADE"), nullable=False),
    sa.Column("widget_id", sa.Integer, sa.ForeignKey("widgets.id", ondelete="CASCADE"), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)

# A sign-up waiting for its e-mail address to be confirmed (H-AUTH-3): the citizen exists only once the code
# sent to the address comes back, so sign-up answers the same whether or not the address has an account.
sign_ups = sa.Table(
    "sign_ups",
    metadata,
    _id(),
    sa.Column("code_hash", sa.String(64), nullable=False, unique=True),  # SHA-256 of the confirmation code
    sa.Column("email", sa.String(254), nullable=False, index=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("password_hash", sa.String(200), nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)

# Mail the gateway would send (sign-up confirmations, "you already have an account" notices): the outgoing
# queue a mail relay would read; `GET /admin/v1/mail` shows it, as a development mail catcher does.
mail = sa.Table(
    "mail",
    metadata,
    _id(),
    sa.Column("to_address", sa.String(254), nullable=False, index=True),
    sa.Column("subject", sa.String(200), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("created_at", Stamp, nullable=False),
)
