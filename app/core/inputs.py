"""Input types every domain shares, bounded so that no value a client sends can reach the
database as something it cannot hold (an answer of 422 `validation_error`, never a 500).

- ids: our id columns are 32-bit integers on PostgreSQL (64-bit for check-ins);
- text: PostgreSQL text holds no NUL, and lone surrogates cannot be encoded as UTF-8; such
  text is refused, not silently stripped, everywhere (bodies, forms, cursors);
- dates: calendar arithmetic near year 1 or 9999 overflows, and no record of this service
  lies outside `MIN_DATE`..`MAX_DATE`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema

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

IdPath = Annotated[int, Path(ge=1, le=MAX_ID)]
IdQuery = Annotated[int, Query(ge=1, le=MAX_ID)]
