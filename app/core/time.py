"""Clock and local-date helpers. All stored instants are UTC; dates are the deployment's."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from pydantic import AfterValidator


def utcnow() -> datetime:
    return datetime.now(UTC)


def as_utc(moment: datetime) -> datetime:
    """`moment` as an aware UTC datetime (naive values are taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def local_date(moment: datetime, zone: ZoneInfo) -> date:
    """The date in `zone` at `moment`; past the calendar's ends (an instant within hours of
    year 1 or 9999, which a route refuses anyway), its first or last day."""
    try:
        return as_utc(moment).astimezone(zone).date()
    except OverflowError:
        return date.min if moment.year < 5000 else date.max


def today(zone: ZoneInfo) -> date:
    return utcnow().astimezone(zone).date()


# For response models: always an aware UTC instant, even when the database (SQLite) hands
# back a naive one, so every time on the wire is RFC 3339 with an offset.
UtcDateTime = Annotated[datetime, AfterValidator(as_utc)]
