"""Visits (入户走访): judged against the household's point with the fix's accuracy, stored as an
ordinary check-in of the member too (same chain, same ledger), idempotent on client_id."""

from __future__ import annotations

import hashlib
import json
import uuid
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.checkins import storing
from app.checkins.errors import IdempotencyConflict
from app.checkins.schemas import CheckInCreate
from app.core.policy import Policy
from app.core.security import TokenClaims
from app.core.time import as_utc, local_date
from app.geo.coords import to_wgs84
from app.households import countersign, rules
from app.households.errors import HouseholdNotFound
from app.households.models import Household, HouseholdPairing, Visit
from app.households.schemas import VisitIn, VisitOut
from app.households.service import visit_out

# Check-ins made by visits take a client_id derived from the visit's (one namespace).
_VISIT_NAMESPACE = uuid.UUID("6f1c2b6e-9a55-4c1e-8a0c-0d5b1e7a9c21")


def checkin_client_id(member_id: int, client_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_VISIT_NAMESPACE, f"{member_id}:{client_id}")


def body_hash(body: VisitIn) -> str:
    data = body.model_dump(mode="json")
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()


def record(
    session: Session,
    policy: Policy,
    secret: str,
    member_id: int,
    body: VisitIn,
    received_at: datetime,
    source_key: str,
    *,
    token: TokenClaims | None = None,
) -> tuple[VisitOut, bool]:
    """Store the visit (or find it stored). Returns (visit, created). With `token`, its user
    must still be this member, active, in an open session (checked as a check-in's is)."""
    digest = body_hash(body)
    client_id = str(body.client_id)
    day = local_date(body.captured_at, policy.zone)
    # The household, if paired with the member on the fix's day: one statement.
    household = session.scalar(
        select(Household).where(
            Household.id == body.household_id,
            select(HouseholdPairing.id)
            .where(
                HouseholdPairing.household_id == Household.id,
                HouseholdPairing.member_id == member_id,
                HouseholdPairing.from_date <= day,
                (HouseholdPairing.to_date.is_(None)) | (HouseholdPairing.to_date >= day),
            )
            .exists(),
        )
    )
    if household is None:
        raise HouseholdNotFound(household_id=body.household_id)
    # Stored as a check-in first: that locks the member's chain head, so the member's uploads,
    # visits included, are one at a time from here (a resent visit finds its check-in stored).
    checkin, _ = storing.record(
        session,
        policy,
        member_id,
        CheckInCreate.model_validate(
            {
                "client_id": str(checkin_client_id(member_id, body.client_id)),
                "captured_at": body.captured_at.isoformat(),
                "latitude": body.latitude,
                "longitude": body.longitude,
                "coord_system": body.coord_system,
                "accuracy_m": body.accuracy_m,
            }
        ),
        received_at,
        token=token,
    )
    stored = session.scalar(
        select(Visit).where(Visit.member_id == member_id, Visit.client_id == client_id)
    )
    if stored is not None:
        if stored.body_hash != digest:
            raise IdempotencyConflict(client_id=client_id)
        return visit_out(stored, countersign.offer_for(session, secret, stored)), False
    lon, lat = to_wgs84(body.longitude, body.latitude, body.coord_system)
    distance = rules.distance_m(lon, lat, household.longitude, household.latitude)
    at_home = rules.at_household(distance, body.accuracy_m, policy)
    fresh = received_at - as_utc(body.captured_at) <= timedelta(
        minutes=policy.visits.countersign_minutes
    )
    visit = Visit(
        client_id=client_id,
        member_id=member_id,
        household_id=household.id,
        checkin_id=checkin.id,
        captured_at=body.captured_at,
        local_date=day,
        latitude=lat,
        longitude=lon,
        accuracy_m=body.accuracy_m,
        distance_m=distance,
        at_household=at_home,
        credited=at_home and checkin.credited,
        confirmation="pending" if at_home and fresh else "unconfirmed",
        flags="",
        topics=",".join(dict.fromkeys(body.topics)),
        note=body.note,
        problems_found=body.problems_found,
        body_hash=digest,
        source_key=source_key,
        received_at=received_at,
    )
    session.add(visit)
    session.flush()
    offer = None
    if visit.confirmation == "pending":
        offer = countersign.open_for(session, policy, secret, visit, received_at)
    if visit.credited:  # the latest credited visit, unless a later one came first
        last = household.last_visit_at
        if last is None or as_utc(last) < as_utc(visit.captured_at):
            household.last_visit_at = visit.captured_at
            household.last_visit_on = day
    return visit_out(visit, offer), True
