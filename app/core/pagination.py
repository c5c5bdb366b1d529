"""Opaque cursors for keyset pagination (`cursor`, `limit`, `next_cursor`)."""

from __future__ import annotations

import base64
import json
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel

from app.core.errors import AppError

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
