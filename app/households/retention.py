"""Retention of households' phone numbers (PIPL: as short as the purpose allows): a household
whose pairing ended, with no pairing since, keeps its phone `policy.privacy.household_phone_days`
after that end, then loses it. Run by `zhucun privacy purge` (and so by `zhucun daily`)."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.households.models import Household, HouseholdPairing


def purge_phones(session: Session, policy: Policy, today: date) -> int:
    """Null the phone of every unpaired household (`member_id` null: no open pairing) whose
    last pairing ended before the cutoff; returns how many."""
    cutoff = today - timedelta(days=policy.privacy.household_phone_days)
    last_end = (
        select(HouseholdPairing.household_id, func.max(HouseholdPairing.to_date).label("ended"))
        .group_by(HouseholdPairing.household_id)
        .subquery()
    )
    ids = list(
        session.scalars(
            select(Household.id)
            .join(last_end, last_end.c.household_id == Household.id)
            .where(
                Household.member_id.is_(None),
                Household.phone.is_not(None),
                last_end.c.ended < cutoff,
            )
            .with_for_update(of=Household)
        )
    )
    if ids:
        session.execute(update(Household).where(Household.id.in_(ids)).values(phone=None))
    return len(ids)
