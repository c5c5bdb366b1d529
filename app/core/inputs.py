"""Input types every domain shares, bounded so that no value a client sends can reach the
database as something it cannot hold (an answer of 422 `validation_error`, never a 500).

- ids: our id columns are 32-bit integers on PostgreSQL (64-bit for check-ins);
- text: PostgreSQL text holds no NUL, and lone surrogates cannot be encoded as UTF-8; such
  text is refused, not silently stripped, everywhere (bodies, forms, cursors);
- dates: calendar arithmetic near year 1 or 9999 overflows, and no record of this service
  lies outside `MIN_DATE`..`MAX_DATE`.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator

MAX_ID = 2**31 - 1  # PostgreSQL `integer`
MAX_BIG_ID = 2**63 - 1  # PostgreSQL `bigint`
MIN_DATE = date(2000, 1, 1)
MAX_DATE = date(2099, 12, 31)


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


def is_storable_text(value: Any) -> bool:
    try:
        storable_text(value)
    except (ValueError, TypeError):
        return False
    return isinstance(value, str)


Text = Annotated[str, AfterValidator(storable_text)]
Day = Annotated[date, AfterValidator(bounded_date)]

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int, Query(ge=1, le=MAX_ID)]
