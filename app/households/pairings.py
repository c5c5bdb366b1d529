"""Pairings (结对): a change of 帮扶责任人 ends the open pairing the day before and starts a
new row; nothing is edited. The household row repeats the open pairing."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.households.errors import InvalidPairing
from app.households.models import Household, HouseholdPairing


def open_pairing(session: Session, household_id: int) -> HouseholdPairing | None:
    return session.scalar(
        select(HouseholdPairing)
        .where(HouseholdPairing.household_id == household_id, HouseholdPairing.to_date.is_(None))
        .order_by(HouseholdPairing.id.desc())
        .limit(1)
    )


def end(session: Session, household: Household, start: date, actor: str, now: datetime) -> None:
    """End the household's open pairing the day before `start`, with no successor: the
    household leaves the programme (its phone is purged later, app.households.retention)."""
    current = open_pairing(session, household.id)
    if current is None:
        raise InvalidPairing(reason="the household has no pairing to end")
    if start <= current.from_date:
        raise InvalidPairing(
            reason=f"the pairing can end only after its start ({current.from_date.isoformat()})"
        )
    current.to_date = start - timedelta(days=1)
    household.member_id = None
    household.paired_from = None
    household.updated_at = now
    session.flush()
    audit_actions.record(
        session,
        actor=actor,
        action="household.pair",
        subject=f"household:{household.id}",
        payload={"household_code": household.household_code, "member_id": None, "from": start},
    )


def pair(
    session: Session,
    household: Household,
    member_id: int,
    start: date,
    actor: str,
    now: datetime,
) -> tuple[bool, bool]:
    """Pair the household with the member from `start`. Returns (started, ended): whether a
    pairing was started, and whether an open one was ended. The same member again is nothing."""
    current = open_pairing(session, household.id)
    if current is not None and current.member_id == member_id:
        return False, False
    ended = False
    if current is not None:
        if start <= current.from_date:
            raise InvalidPairing(
                reason=f"a new pairing must start after the current one's start "
                f"({current.from_date.isoformat()})"
            )
        current.to_date = start - timedelta(days=1)
        ended = True
    session.add(
        HouseholdPairing(
            household_id=household.id,
            member_id=member_id,
            from_date=start,
            to_date=None,
            created_by=actor,
            created_at=now,
        )
    )
    household.member_id = member_id
    household.paired_from = start
    household.updated_at = now
    session.flush()
    audit_actions.record(
        session,
        actor=actor,
        action="household.pair",
        subject=f"household:{household.id}",
        payload={"household_code": household.household_code, "member_id": member_id, "from": start},
    )
    return True, ended


def pairings_in(
    session: Session, member_ids: list[int], start: date, end: date
) -> list[HouseholdPairing]:
    """The members' pairings that overlap [start, end]."""
    if not member_ids:
        return []
    return list(
        session.scalars(
            select(HouseholdPairing).where(
                HouseholdPairing.member_id.in_(member_ids),
                HouseholdPairing.from_date <= end,
                (HouseholdPairing.to_date.is_(None)) | (HouseholdPairing.to_date >= start),
            )
        )
    )
