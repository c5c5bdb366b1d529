"""Check-in request and response bodies (API.md "Check-ins")."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)

from app.core.inputs import Text
from app.core.policy import Flag
from app.core.time import UtcDateTime
from app.geo.coords import CoordSystem

MAX_BATCH = 500
MAX_ACCURACY_M = 100_000
MAX_SPEED_MPS = 500  # faster than an airliner

Geofence = Literal["inside", "near", "outside"]
Provider = Literal["gps", "network", "wifi", "fused", "unknown"]
ReviewAction = Literal["void", "restore"]

# RFC 3339 date-time: an offset is required (Pydantic alone also takes naive values and
# Unix timestamps).
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def _rfc3339_text(value: Any) -> Any:
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValueError(
            "must be an RFC 3339 date-time with an offset, e.g. 2026-05-01T08:30:00+08:00"
        )
    return value


def _utc(value: datetime) -> datetime:
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("date-time out of range") from None


def _number(value: Any) -> Any:
    # JSON true/false and numeric strings are not coordinates.
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_utc)]
# The range sits on the float itself, the type check wraps it: OpenAPI then shows the range
# as minimum/maximum (a range added around the wrapper would render as bare "ge"/"le").
Latitude = Annotated[float, Field(ge=-90, le=90, allow_inf_nan=False), BeforeValidator(_number)]
Longitude = Annotated[float, Field(ge=-180, le=180, allow_inf_nan=False), BeforeValidator(_number)]
# Physical ranges: a value outside them is a broken or forged fix, not a position.
Accuracy = Annotated[
    float, Field(gt=0, le=MAX_ACCURACY_M, allow_inf_nan=False), BeforeValidator(_number)
]
Altitude = Annotated[
    float, Field(ge=-1000, le=10_000, allow_inf_nan=False), BeforeValidator(_number)
]
Speed = Annotated[
    float, Field(ge=0, le=MAX_SPEED_MPS, allow_inf_nan=False), BeforeValidator(_number)
]
Heading = Annotated[float, Field(ge=0, le=360, allow_inf_nan=False), BeforeValidator(_number)]


class CheckInCreate(BaseModel):
    """One fix as the phone sends it."""

    model_config = ConfigDict(extra="ignore")

    client_id: UUID = Field(description="made on the phone; the idempotency key")
    captured_at: Instant = Field(description="when the phone took the fix (RFC 3339, offset)")
    latitude: Latitude
    longitude: Longitude
    coord_system: CoordSystem = "wgs84"
    accuracy_m: Accuracy = Field(description="horizontal accuracy, metres")
    altitude_m: Altitude | None = None
    speed_mps: Speed | None = Field(None, description="omit when unknown (iOS says -1)")
    heading_deg: Heading | None = Field(None, description="omit when unknown (iOS says -1)")
    provider: Provider | None = None
    is_mock: StrictBool = Field(False, description="the phone's OS says the fix is simulated")
    device_id: Annotated[Text, Field(min_length=1, max_length=128)] | None = None
    roll_call_id: Annotated[Text, Field(min_length=1, max_length=64)] | None = None


class ReviewIn(BaseModel):
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


class ReviewOut(BaseModel):
    id: int
    action: ReviewAction
    reason: str
    reviewer_id: int
    at: UtcDateTime


class CheckInOut(BaseModel):
    """A stored check-in and the service's judgement of it."""

    id: int
    client_id: UUID
    member_id: int
    captured_at: UtcDateTime
    received_at: UtcDateTime
    local_date: date
    latitude: float = Field(description="WGS84, after conversion")
    longitude: float = Field(description="WGS84, after conversion")
    coord_system: CoordSystem = Field(description="as sent")
    accuracy_m: float
    village_code: str | None = Field(description="the village whose boundary holds the point")
    assigned_village_code: str | None
    geofence: Geofence | None = Field(description="against the assigned village")
    distance_m: float | None = Field(description="to the assigned village's boundary, 0 inside")
    credited: bool = Field(description="it counts toward the day (unless voided)")
    flags: list[Flag]
    voided: bool = Field(description="a reviewer's latest record voids it")
    reviews: list[ReviewOut] = Field(description="void and restore records, oldest first")


class BatchIn(BaseModel):
    items: list[Any] = Field(description=f"up to {MAX_BATCH} check-in bodies")


class ItemProblem(BaseModel):
    """Why one item of a batch was rejected (the fields of a problem response)."""

    status: int
    code: str
    title: str
    detail: str
    errors: list[dict[str, Any]] | None = None


class BatchItemResult(BaseModel):
    client_id: str | None
    status: Literal["created", "duplicate", "rejected"]
    checkin: CheckInOut | None
    error: ItemProblem | None


class BatchOut(BaseModel):
    results: list[BatchItemResult] = Field(description="in input order")
