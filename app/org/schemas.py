"""Org request and response bodies."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from app.core.geojson import Geometry
from app.core.inputs import SchemaPattern
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
    geometry: Geometry = Field(
        description="the boundary (村界), WGS84, simplified to the policy's "
        "villages.outline_tolerance_m (5 m by default); check-ins are matched against the "
        "whole boundary"
    )
    properties: VillageProperties


class MyAssignment(BaseModel):
    village_code: str
    village_name: str
    township_code: str
    county_code: str
    start_date: date
    end_date: date | None
    boundary: Geometry = Field(
        description="the village boundary (村界), WGS84 GeoJSON, simplified to the policy's "
        "villages.outline_tolerance_m (5 m by default)"
    )


_BSSID = re.compile(r"[0-9a-f]{2}([:-][0-9a-f]{2}){5}", re.ASCII)


def _bssid(value: str) -> str:
    text = value.strip().lower()
    if not _BSSID.fullmatch(text):
        raise ValueError("must be a BSSID of six hex octets, e.g. 3c:84:6a:12:ab:01")
    return text.replace("-", ":")


Bssid = Annotated[
    str,
    Field(min_length=17, max_length=17, examples=["3c:84:6a:12:ab:01"]),
    AfterValidator(_bssid),
    SchemaPattern(r"^[0-9A-Fa-f]{2}([:-][0-9A-Fa-f]{2}){5}$"),
]


class AccessPointIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"bssid": "3c:84:6a:12:ab:01", "label": "村委会办公室"}]}
    )

    bssid: Bssid = Field(description="the access point's MAC address (BSSID)")
    label: str = Field(
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00]+$",
        description="where it is, e.g. 村委会办公室 (committee office)",
    )


class AccessPointOut(BaseModel):
    """A Wi-Fi access point known to be in the village (已登记的村内 Wi-Fi)."""

    id: int
    village_code: str
    bssid: str
    label: str
    registered_by: int
    registered_at: UtcDateTime


class AccessPointList(BaseModel):
    items: list[AccessPointOut]
    next_cursor: str | None = None


class UnitOfficeIn(BaseModel):
    """A dispatching unit's office (两头跑): a fix within `radius_m` of the point on a working
    day carries the evidence flag `at_home_unit`."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "latitude": 28.2282,
                    "longitude": 112.9388,
                    "coord_system": "gcj02",
                    "radius_m": 150,
                }
            ]
        },
    )

    latitude: float = Field(ge=-90, le=90, allow_inf_nan=False, strict=True)
    longitude: float = Field(ge=-180, le=180, allow_inf_nan=False, strict=True)
    coord_system: Literal["wgs84", "gcj02", "bd09"] = Field(
        "wgs84", description="as the point was read (a map app in China: gcj02); stored as WGS84"
    )
    radius_m: float = Field(
        gt=0, le=5000, allow_inf_nan=False, strict=True, description="metres around the point"
    )


class UnitOfficeOut(BaseModel):
    name: str = Field(description="the dispatching unit's name")
    latitude: float = Field(description="WGS84")
    longitude: float = Field(description="WGS84")
    radius_m: float
    set_at: UtcDateTime
    set_by: int | None = Field(description="the user who set it")
