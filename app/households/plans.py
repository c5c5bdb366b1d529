"""One plan per household (一户一策): every change is a new version; measures not done past
their due date are overdue."""

from __future__ import annotations

import json
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.households.errors import NotPairedMember
from app.households.models import Household, HouseholdPlan
from app.households.schemas import PlanHistoryOut, PlanIn, PlanOut
from app.households.service import PHONE_ROLES, plan_out


def may_edit(principal: Principal, household: Household) -> bool:
    if principal.member_id is not None:
        return household.member_id == principal.member_id
    return principal.role in PHONE_ROLES and principal.covers_village(household.village_code)


def put(
    session: Session,
    principal: Principal,
    household: Household,
    body: PlanIn,
    now: datetime,
    today: date,
) -> PlanOut:
    if not may_edit(principal, household):
        raise NotPairedMember()
    session.execute(select(Household.id).where(Household.id == household.id).with_for_update())
    last = session.scalar(
        select(func.max(HouseholdPlan.version)).where(HouseholdPlan.household_id == household.id)
    )
    measures = [m.model_dump(mode="json") for m in body.measures]
    open_dues = [m.due_date for m in body.measures if m.due_date and m.status != "done"]
    plan = HouseholdPlan(
        household_id=household.id,
        version=(last or 0) + 1,
        measures=json.dumps(measures, ensure_ascii=False),
        created_by=principal.user_id,
        created_at=now,
        next_due=min(open_dues) if open_dues else None,
    )
    session.add(plan)
    session.flush()
    return plan_out(plan, today)


def history(session: Session, household_id: int, today: date) -> PlanHistoryOut:
    plans = session.scalars(
        select(HouseholdPlan)
        .where(HouseholdPlan.household_id == household_id)
        .order_by(HouseholdPlan.version.desc())
    )
    return PlanHistoryOut(items=[plan_out(p, today) for p in plans])
