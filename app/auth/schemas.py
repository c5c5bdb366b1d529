"""Auth request and response bodies."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class Me(BaseModel):
    id: int
    username: str
    full_name: str
    role: str
    scope: str
    member_id: int | None
