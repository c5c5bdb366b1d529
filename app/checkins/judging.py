"""Judging a new fix: where it is, which flags it carries, whether it is credited, and the
chain link it becomes. Pure: what the fix is judged by (`Surroundings`) is read beforehand, the
same way for one fix and for a batch."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from app.checkins import hashing, rules
from app.checkins.chain import Head
from app.checkins.schemas import CheckInCreate
from app.checkins.surroundings import Surroundings
from app.core.policy import Policy
from app.core.time import local_date
from app.geo.coords import to_wgs84
from app.geofence.index import VillageIndex
from app.ledger.calendar import is_workday


@dataclass(slots=True)
class Prepared:
    """A validated fix, in the forms the rest of the path needs."""

    body: CheckInCreate
    client_id: str
    captured_at: datetime  # UTC
    local_date: date
    longitude: float  # WGS84
    latitude: float
    body_hash: str


def prepare(body: CheckInCreate, policy: Policy) -> Prepared:
    lon, lat = to_wgs84(body.longitude, body.latitude, body.coord_system)
    return Prepared(
        body=body,
        client_id=str(body.client_id),
        captured_at=body.captured_at,
        local_date=local_date(body.captured_at, policy.zone),
        longitude=lon,
        latitude=lat,
        body_hash=hashing.body_hash(body),
    )


def judge(
    p: Prepared,
    member_id: int,
    received_at: datetime,
    head: Head,
    index: VillageIndex,
    policy: Policy,
    around: Surroundings,
) -> dict[str, Any]:
    """The row to store for a new fix: the judgement and the next chain link. Advances `head`
    and adds the fix to `around`, so the next fix of a batch is judged as if sent after it."""
    body = p.body
    assigned = around.assigned_on(p.local_date)
    match = index.classify(assigned, p.longitude, p.latitude, policy.geofence.near_m)
    seen = [w.bssid for w in body.wifi] if body.wifi else None
    wifi_match = rules.wifi_match(seen, around.registered_wifi.get(assigned or "", set()))
    previous, following = around.neighbours(p.captured_at)
    fix = rules.Fix(p.captured_at, p.latitude, p.longitude, body.accuracy_m)
    office = around.office
    at_unit = (
        rules.at_office(
            fix,
            (office.latitude, office.longitude, office.radius_m),
            is_workday(p.local_date, policy.calendar),
        )
        if office is not None and assigned is not None
        else None
    )
    uses = around.shared(body.device_id, p.captured_at)
    shared = None
    if uses:
        others = {u.member_id: u.full_name for u in uses}
        days = policy.flags.shared_device_days
        shared = rules.shared_device(others, others.values(), days)
        # Beside the other members' fixes: this member named (to reviewers only).
        around.note_shared(
            uses,
            rules.shared_device([member_id], [around.own_name or f"#{member_id}"], days),
            p.local_date,
            received_at,
        )
    findings = rules.judge_flags(
        rules.Evidence(
            body=body,
            received_at=received_at,
            fix=fix,
            previous=previous,
            following=following,
            replayed_day=around.replayed_day(body, p.latitude, p.longitude, p.local_date),
            last_device_id=head.last_device_id,
            assigned_village_code=assigned,
            village_code=match.village_code,
            geofence=match.geofence,
            wifi_match=wifi_match,
            at_home_unit=at_unit,
            shared_device=shared,
        ),
        policy,
    )
    row: dict[str, Any] = {
        "member_id": member_id,
        "client_id": p.client_id,
        "seq": head.seq + 1,
        "captured_at": p.captured_at,
        "received_at": received_at,
        "local_date": p.local_date,
        "latitude": p.latitude,
        "longitude": p.longitude,
        "raw_latitude": body.latitude,
        "raw_longitude": body.longitude,
        "coord_system": body.coord_system,
        "accuracy_m": body.accuracy_m,
        "altitude_m": body.altitude_m,
        "speed_mps": body.speed_mps,
        "heading_deg": body.heading_deg,
        "provider": body.provider,
        "is_mock": body.is_mock,
        "device_id": body.device_id,
        "roll_call_id": body.roll_call_id,
        "village_code": match.village_code,
        "assigned_village_code": assigned,
        "boundary_id": around.boundary_ids.get(assigned) if assigned is not None else None,
        "geofence": match.geofence,
        "distance_m": match.distance_m,
        "credited": assigned is not None
        and rules.is_credited(list(findings), match.geofence, body.accuracy_m, policy),
        "flags": ",".join(findings),
        "flag_evidence": findings or None,
        "wifi": seen,
        "wifi_match": wifi_match,
        "body_hash": p.body_hash,
        "prev_hash": head.last_hash,
    }
    row["row_hash"] = hashing.row_hash(row)
    head.seq += 1
    head.last_hash = row["row_hash"]
    if body.device_id is not None:
        head.last_device_id = body.device_id
    around.add(body, p.captured_at, p.latitude, p.longitude, p.local_date)
    return row
