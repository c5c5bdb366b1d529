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
)

from app.core.policy import Flag
from app.core.time import UtcDateTime
from app.geo.coords import CoordSystem
from app.org.schemas import Bssid

MAX_BATCH = 500
MAX_WIFI = 64

Geofence = Literal["inside", "near", "outside"]
Provider = Literal["gps", "network", "wifi", "fused", "unknown"]
ReviewAction = Literal["void", "restore"]
# How a roll call judged a fix answering it (judged by supervision; see app/checkins/answers.py).
RollCallStatus = Literal["answered", "late", "outside", "mock", "not_called"]

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


def _storable_text(value: str) -> str:
    # PostgreSQL text holds no NUL, and lone surrogates cannot be encoded as UTF-8.
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Instant = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text), AfterValidator(_utc)]
Number = Annotated[float, BeforeValidator(_number), Field(allow_inf_nan=False)]
Text = Annotated[str, AfterValidator(_storable_text)]


class WifiSeen(BaseModel):
    """One Wi-Fi access point the phone sees."""

    model_config = ConfigDict(extra="ignore")

    bssid: Bssid
    rssi: Annotated[int, Field(ge=-127, le=0, description="signal strength, dBm")] | None = None


class CheckInCreate(BaseModel):
    """One fix as the phone sends it."""

    model_config = ConfigDict(extra="ignore")

    client_id: UUID = Field(description="made on the phone; the idempotency key")
    captured_at: Instant = Field(description="when the phone took the fix (RFC 3339, offset)")
    latitude: Annotated[Number, Field(ge=-90, le=90)]
    longitude: Annotated[Number, Field(ge=-180, le=180)]
    coord_system: CoordSystem = "wgs84"
    accuracy_m: Annotated[Number, Field(gt=0, description="horizontal accuracy, metres")]
    altitude_m: Number | None = None
    speed_mps: Number | None = None
    heading_deg: Number | None = None
    provider: Provider | None = None
    is_mock: bool = Field(False, description="the phone's OS says the fix is simulated")
    device_id: Annotated[Text, Field(min_length=1, max_length=128)] | None = None
    roll_call_id: Annotated[Text, Field(min_length=1, max_length=64)] | None = None
    wifi: list[WifiSeen] | None = Field(
        None,
        max_length=MAX_WIFI,
        description="the Wi-Fi access points the phone sees (可见的 Wi-Fi), to corroborate the fix",
    )


class ReviewIn(BaseModel):
    reason: Annotated[Text, Field(min_length=1, max_length=2000)]


class ReviewOut(BaseModel):
    id: int
    action: ReviewAction
    reason: str
    reviewer_id: int
    at: UtcDateTime


class FlagReason(BaseModel):
    flag: Flag
    reason: str = Field(description="e.g. 0.9 km in 5 s beyond both accuracy circles: 650 km/h")


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
    flag_reasons: list[FlagReason] = Field(
        description="one per flag: the numbers behind it, in the request's language"
    )
    wifi_match: bool | None = Field(
        description="the phone saw a registered access point of the assigned village (true), "
        "saw others but none of them (false), or nothing to tell (null)"
    )
    voided: bool = Field(description="a reviewer's latest record voids it")
    reviews: list[ReviewOut] = Field(description="void and restore records, oldest first")
    roll_call_id: str | None = Field(None, description="the roll call this fix answers, as sent")
    roll_call_status: RollCallStatus | None = Field(
        None,
        description="with a roll_call_id: how the roll call judges this answer; `not_called` "
        "when the id is unknown or does not call the member (the fix is stored all the same)",
    )


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
