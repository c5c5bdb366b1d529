"""Check-in request and response bodies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
)

from app.core.inputs import Instant, Text
from app.core.policy import Flag
from app.core.schema_ref import documented_as
from app.core.time import UtcDateTime
from app.geo.coords import CoordSystem
from app.org.schemas import Bssid

MAX_BATCH = 500
MAX_WIFI = 64
MAX_ACCURACY_M = 100_000
MAX_SPEED_MPS = 500  # faster than an airliner

Geofence = Literal["inside", "near", "outside"]
Provider = Literal["gps", "network", "wifi", "fused", "unknown"]
ReviewAction = Literal["void", "restore"]
# How a roll call judged a fix answering it (judged by supervision; see app/checkins/answers.py).
RollCallStatus = Literal["answered", "late", "outside", "mock", "at_home_unit", "not_called"]


def _number(value: Any) -> Any:
    # JSON true/false and numeric strings are not coordinates.
    if isinstance(value, bool | str):
        raise ValueError("must be a number")
    return value


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


class WifiSeen(BaseModel):
    """One Wi-Fi access point the phone sees."""

    model_config = ConfigDict(extra="ignore")

    bssid: Bssid
    rssi: Annotated[int, Field(ge=-127, le=0, description="signal strength, dBm")] | None = None


class CheckInCreate(BaseModel):
    """One fix (定位打卡) as the phone sends it."""

    model_config = ConfigDict(
        extra="ignore",
        json_schema_extra={
            "examples": [
                {
                    "client_id": "3f2b8c1e-6d4a-4b7e-9c0d-1a2b3c4d5e6f",
                    "captured_at": "2026-11-28T08:30:00+08:00",
                    "latitude": 28.2381,
                    "longitude": 112.9388,
                    "coord_system": "gcj02",
                    "accuracy_m": 15,
                    "provider": "gps",
                    "is_mock": False,
                    "device_id": "android-5f3c9a",
                }
            ]
        },
    )

    client_id: UUID = Field(description="made on the phone; the idempotency key")
    captured_at: Instant = Field(description="when the phone took the fix (RFC 3339, offset)")
    latitude: Latitude = Field(description="latitude (纬度), degrees")
    longitude: Longitude = Field(description="longitude (经度), degrees")
    coord_system: CoordSystem = Field(
        "wgs84",
        description="wgs84 (GPS), gcj02 (国测局 'Mars' coordinates: WeChat, Amap, Tencent) or "
        "bd09 (Baidu); stored as WGS84",
    )
    accuracy_m: Accuracy = Field(description="horizontal accuracy (定位精度), metres")
    altitude_m: Altitude | None = Field(None, description="altitude, metres")
    speed_mps: Speed | None = Field(
        None, description="speed the phone reports, m/s; omit when unknown (iOS says -1)"
    )
    heading_deg: Heading | None = Field(
        None, description="heading, degrees from north; omit when unknown (iOS says -1)"
    )
    provider: Provider | None = Field(None, description="where the fix came from")
    is_mock: StrictBool = Field(False, description="the phone's OS says the fix is simulated")
    device_id: Annotated[Text, Field(min_length=1, max_length=128)] | None = Field(
        None, description="the phone's stable id; a new one flags device_change"
    )
    roll_call_id: Annotated[Text, Field(min_length=1, max_length=64)] | None = Field(
        None, description="the roll call (点名) this check-in answers, its id as text"
    )
    wifi: list[WifiSeen] | None = Field(
        None,
        max_length=MAX_WIFI,
        description="the Wi-Fi access points the phone sees (可见的 Wi-Fi), to corroborate the fix",
    )


class ReviewIn(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={"examples": [{"reason": "暗访核实：当日本人不在村（inspection found)"}]}
    )

    reason: Annotated[Text, Field(min_length=1, max_length=2000)] = Field(
        description="why (理由), kept in the review record"
    )


class ReviewOut(BaseModel):
    id: int
    action: ReviewAction
    reason: str
    reviewer_id: int
    at: UtcDateTime


class FlagReason(BaseModel):
    flag: Flag
    reason: str = Field(description="e.g. 0.9 km in 5 s beyond both accuracy circles: 650 km/h")


class FindingOut(BaseModel):
    """A judgement made after the fix was stored (`replayed_track`; `shared_device`: another
    member's later fix came from this fix's device), kept beside it."""

    code: Flag
    matched_date: date | None = Field(
        description="replayed_track: the earlier day the fix's track repeats; shared_device: "
        "the day of the other member's fix that revealed it"
    )
    found_at: UtcDateTime


class RejudgedOut(BaseModel):
    """The fix was judged again after a retroactive change of the member's assignment (a move
    or an end dated back): the judgement fields of the check-in are the new ones."""

    at: UtcDateTime
    cause: str = Field(description="the change, e.g. `assignment.move`, logged in the actions log")


class CheckInOut(BaseModel):
    """A stored check-in (打卡记录) and the service's judgement of it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1042,
                    "client_id": "3f2b8c1e-6d4a-4b7e-9c0d-1a2b3c4d5e6f",
                    "member_id": 3,
                    "captured_at": "2026-11-28T00:30:00Z",
                    "received_at": "2026-11-28T00:30:02Z",
                    "local_date": "2026-11-28",
                    "latitude": 28.241212,
                    "longitude": 112.933931,
                    "coord_system": "gcj02",
                    "accuracy_m": 15.0,
                    "village_code": "430121001001",
                    "assigned_village_code": "430121001001",
                    "geofence": "inside",
                    "distance_m": 0.0,
                    "credited": True,
                    "flags": [],
                    "voided": False,
                    "reviews": [],
                }
            ]
        }
    )

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
    flags: list[Flag] = Field(
        description="the judgement on arrival, and the codes of later findings (`findings`)"
    )
    flag_reasons: list[FlagReason] = Field(
        description="one per flag: the numbers behind it, in the request's language"
    )
    findings: list[FindingOut] = Field(
        default_factory=list,
        description="judgements made after the fix was stored (a replayed track noticed when a "
        "later day arrived), recorded beside it: the stored check-in is never edited",
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
    rejudged: RejudgedOut | None = Field(
        None,
        description="set when the judgement (assigned village, geofence, distance, credit, "
        "place flags) was redone after a retroactive assignment change; the fix as sent and "
        "its chain link never change",
    )


# Each item is validated on its own (a bad one is rejected alone), so the field takes any JSON
# and documents what it expects.
BatchItem = Annotated[Any, documented_as("CheckInCreate")]


class BatchIn(BaseModel):
    """Fixes stored on the phone while offline (离线补传), uploaded in one go."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "items": [
                        {
                            "client_id": "3f2b8c1e-6d4a-4b7e-9c0d-1a2b3c4d5e6f",
                            "captured_at": "2026-11-28T08:30:00+08:00",
                            "latitude": 28.2381,
                            "longitude": 112.9388,
                            "coord_system": "gcj02",
                            "accuracy_m": 15,
                            "provider": "gps",
                            "is_mock": False,
                            "device_id": "android-5f3c9a",
                        }
                    ]
                }
            ]
        }
    )

    items: list[BatchItem] = Field(
        description=f"up to {MAX_BATCH} check-in bodies", json_schema_extra={"maxItems": MAX_BATCH}
    )


# A rejected item's problem: the body a lone POST /checkins of the item would have answered
# (`app.core.errors`), passed on as it is.
ItemProblem = Annotated[dict[str, Any], documented_as("Problem")]


class BatchItemResult(BaseModel):
    client_id: str | None = Field(description="as sent, when it could be read")
    status: Literal["created", "duplicate", "rejected"]
    checkin: CheckInOut | None = Field(description="created or duplicate: the stored check-in")
    error: ItemProblem | None = Field(
        description="rejected: the problem, as a lone POST /checkins of the item would answer "
        "(the same `code`s; status 500 `internal_error` when the item failed on our side: "
        "send it again later)"
    )


class BatchOut(BaseModel):
    results: list[BatchItemResult] = Field(description="in input order")
