"""Org request and response bodies."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, Field

from app.core.geojson import Geometry
from app.core.time import UtcDateTime


class VillageSummary(BaseModel):
    code: str
    name: str
    township_code: str
    county_code: str


class VillageProperties(BaseModel):
    code: str
    name: str
    township_code: str
    county_code: str
    valid_from: UtcDateTime


class VillageFeature(BaseModel):
    """A GeoJSON Feature of the village's current boundary."""

    type: Literal["Feature"] = "Feature"
    geometry: Geometry = Field(description="the boundary (村界), WGS84")
    properties: VillageProperties


class LocateResult(BaseModel):
    village_code: str | None
    village_name: str | None


class MyAssignment(BaseModel):
    village_code: str
    village_name: str
    township_code: str
    county_code: str
    start_date: date
    end_date: date | None
    boundary: Geometry = Field(description="the village boundary (村界), WGS84 GeoJSON")
