"""Geofence answers."""

from __future__ import annotations

from pydantic import BaseModel, Field


class LocateResult(BaseModel):
    village_code: str | None = Field(description="the village whose boundary holds the point")
    village_name: str | None
