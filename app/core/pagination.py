"""Opaque cursors for keyset pagination (`cursor`, `limit`, `next_cursor`)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.core.errors import AppError
from app.core.inputs import MAX_BIG_ID, MAX_DATE, MAX_ID, MIN_DATE, is_storable_text
from app.core.time import as_utc

T = TypeVar("T")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000

LimitQuery = Annotated[int, Query(ge=1, le=MAX_LIMIT, description="page size")]
CursorQuery = Annotated[str | None, Query(description="from the previous page's next_cursor")]


class Page(BaseModel, Generic[T]):
    items: list[T]
    next_cursor: str | None


class InvalidCursor(AppError):
    status = 422
    code = "invalid_cursor"
    title_zh = "分页游标无效"
    title_en = "Invalid cursor"


def encode_cursor(key: list[Any]) -> str:
    raw = json.dumps(key, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> list[Any] | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        key = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise InvalidCursor() from None
    if not isinstance(key, list):
        raise InvalidCursor()
    return key


# A cursor is opaque to clients but comes back from them: every part is checked for the type
# and range the query needs (a hand-made `[2**70]` or `["\u0000"]` is a 422, not a 500).


def cursor_id(cursor: str | None, maximum: int = MAX_ID) -> int | None:
    """The id of a `[id]` cursor."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != 1:
        raise InvalidCursor()
    return _id(key[0], maximum)


def next_id_cursor(ids: list[int], limit: int) -> str | None:
    """The `[id]` cursor of the next page, when `ids` (fetched with `limit + 1`) has one."""
    return encode_cursor([ids[limit - 1]]) if len(ids) > limit else None


def cursor_text(cursor: str | None) -> str | None:
    """The text of a `[text]` cursor."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != 1 or not is_storable_text(key[0]) or len(key[0]) > 200:
        raise InvalidCursor()
    return str(key[0])


def cursor_instant_id(cursor: str | None) -> tuple[datetime, int] | None:
    """The (UTC instant, id) of a `[instant, id]` cursor."""
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != 2 or not isinstance(key[0], str):
        raise InvalidCursor()
    try:
        moment = datetime.fromisoformat(key[0])
        if moment.tzinfo is None:
            raise ValueError
        moment = as_utc(moment)
    except (ValueError, OverflowError):
        raise InvalidCursor() from None
    if not MIN_DATE <= moment.date() <= MAX_DATE:
        raise InvalidCursor()
    return moment, _id(key[1], MAX_BIG_ID)


def _id(value: Any, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= maximum:
        raise InvalidCursor()
    return value
