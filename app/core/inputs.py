"""Input types every domain shares, bounded so that no value a client sends can reach the
database as something it cannot hold (an answer of 422 `validation_error`, never a 500).

- ids: our id columns are 32-bit integers on PostgreSQL (64-bit for check-ins);
- text: PostgreSQL text holds no NUL, and lone surrogates cannot be encoded as UTF-8; such
  text is refused, not silently stripped, everywhere (bodies, forms, cursors);
- dates: calendar arithmetic near year 1 or 9999 overflows, and no record of this service
  lies outside `MIN_DATE`..`MAX_DATE`;
- instants (`Instant`): RFC 3339 with an offset, held in UTC. One that UTC cannot hold (year 1
  ahead of UTC, year 9999 behind it) is held at the edge of the range instead of refused as
  malformed: each route then answers it as any instant out of its window (`too_old`,
  `in_future`), and no route computes with an instant before checking that window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal

from fastapi import Path, Query
from pydantic import AfterValidator, AwareDatetime, BeforeValidator, Field, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

MAX_ID = 2**31 - 1  # PostgreSQL `integer`
MAX_BIG_ID = 2**63 - 1  # PostgreSQL `bigint`
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2099, 12, 31)
# The first instant of MIN_DATE, in UTC: no instant a record of this service holds is older.
MIN_INSTANT = datetime.combine(MIN_DATE, time(), tzinfo=UTC)


def storable_text(value: str) -> str:
    """`value` if the database can store it; ValueError (a 422 in a model) otherwise."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


def bounded_date(value: date) -> date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must lie between {MIN_DATE} and {MAX_DATE}")
    return value


# RFC 3339 date-time: an offset is required (Pydantic alone also takes naive values and
# Unix timestamps).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)
_EARLIEST = datetime.min.replace(tzinfo=UTC)
_LATEST = datetime.max.replace(tzinfo=UTC)


def _rfc3339_text(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "must be an RFC 3339 date-time with an offset, e.g. 2026-05-01T08:30:00+08:00"
        )
    return value


def in_utc(value: datetime) -> datetime:
    """`value` in UTC; one that UTC cannot hold, at the edge of the range it falls off."""
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return _EARLIEST if value.year < 5000 else _LATEST


def is_storable_text(value: Any) -> bool:
    try:
        storable_text(value)
    except (ValueError, TypeError):
        return False
    return isinstance(value, str)


@dataclass(frozen=True)
class SchemaPattern:
    """Declares in the JSON Schema a `pattern` that the validators already enforce, so the
    contract says what we refuse (a schema-valid request is never refused for it). A pattern
    the field sets itself wins."""

    pattern: str

    def __get_pydantic_json_schema__(
        self, core_schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        schema = handler(core_schema)
        if schema.get("type") == "string":
            schema.setdefault("pattern", self.pattern)
        return schema


# No NUL (a regex escape: the document stays plain JSON text). Lone surrogates are refused too
# but left out: no JSON text a client can send as UTF-8 carries one.
STORABLE_TEXT_PATTERN = r"^[^\u0000]*$"
# MIN_DATE..MAX_DATE as a pattern: a day of the years 2000 to 2099.
BOUNDED_DATE_PATTERN = r"^20[0-9]{2}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])$"

# A `scope` query of the division kind: a division code prefix, digits only (empty: none).
DIVISION_PREFIX_PATTERN = r"^[0-9]{0,12}$"
DivisionPrefix = Annotated[str, SchemaPattern(DIVISION_PREFIX_PATTERN)]

Text = Annotated[str, AfterValidator(storable_text), SchemaPattern(STORABLE_TEXT_PATTERN)]
Day = Annotated[date, AfterValidator(bounded_date), SchemaPattern(BOUNDED_DATE_PATTERN)]
# An instant sent by a client (see the module docstring): routes refuse those out of their
# window with `too_old` / `in_future`, never `validation_error`.
Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(in_utc)]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
# A member in a path: an id, or `me` for the signed-in member (app.org.service.member_id_of).
MemberRef = Annotated[
    Annotated[int, Field(ge=1, le=MAX_ID)] | Literal["me"],
    Path(description="a member id, or `me` for yourself"),
]
IdQuery = Annotated[int, Query(ge=1, le=MAX_ID)]
