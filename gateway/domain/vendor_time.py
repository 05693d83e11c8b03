"""The one place where a vendor's date text becomes a moment (UTC) and a moment becomes the vendor's date text.

Cityworks writes dates as `YYYY-MM-DDThh:mm:ss`, the site's local time with no offset (sometimes with Z), and
"0001-01-01T00:00:00" for no date; OpenGov writes ISO 8601, its server's local time when there is no offset.
Which zone "local" is, the wire does not say: it is the integration's `timezone` setting (an IANA name; unset
means UTC, which is what the bundled simulators write)."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from . import DomainError

NO_DATE = "0001-01-01"


def zone(name: str | None) -> tzinfo:
    """The zone an integration's vendor writes its local dates in; DomainError for an unknown name."""
    if not name:
        return UTC
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise DomainError(f"unknown time zone {name!r}; an IANA name such as America/Denver", "timezone") from None


class VendorClock:
    def __init__(self, local: tzinfo = UTC) -> None:
        self.local = local

    @classmethod
    def of(cls, integration: dict[str, Any]) -> VendorClock:
        return cls(zone(integration.get("timezone")))

    def utc(self, text: Any) -> datetime | None:
        """The vendor's date text as an aware UTC moment; None for no date, the null date or unreadable text."""
        if not isinstance(text, str) or not text.strip() or text.strip().startswith(NO_DATE):
            return None
        try:
            moment = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
        except ValueError:
            return None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=self.local)
        return moment.astimezone(UTC)

    def text(self, moment: datetime) -> str:
        """An aware moment as the vendor's local date text (no offset, whole seconds)."""
        return moment.astimezone(self.local).replace(tzinfo=None).isoformat(timespec="seconds")

    def since_text(self, moment: datetime) -> str:
        """A lower bound ("changed since") as the vendor's date text: never after `moment`, however the vendor
        reads it. In the hour the local clock repeats (autumn), text such as 01:30 names two moments an hour
        apart, and a vendor reading the later one would skip an hour of records; so there it is the text of
        the hour before, which names one moment."""
        at = moment
        while True:
            text = self.text(at)
            latest = max(self._reading(text, fold) for fold in (0, 1))
            if latest <= moment:
                return text
            at -= latest - moment

    def _reading(self, text: str, fold: int) -> datetime:
        return datetime.fromisoformat(text).replace(tzinfo=self.local, fold=fold).astimezone(UTC)

    def text_of_iso(self, value: str) -> str:
        """An ISO 8601 date-time with its zone (an Open311 datetime answer) as the vendor's date text; text that
        does not parse goes as it is (answers were checked when the citizen sent them)."""
        try:
            moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            return value
        return self.text(moment if moment.tzinfo else moment.replace(tzinfo=UTC))
