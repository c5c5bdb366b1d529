"""The households report (`GET /reports/households`): each household in scope with its member,
last visit and that visit's confirmation, and whether it is overdue; phones masked."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.policy import Policy
from app.core.time import as_utc
from app.households import rules, service
from app.households.models import Household, Visit
from app.households.schemas import Category, Confirmation, Risk
from app.org.models import Member


class HouseholdReportRow(BaseModel):
    household_id: int
    household_code: str
    village_code: str
    head_name: str
    category: Category
    risk: Risk
    phone: str | None
    member_id: int | None
    member_name: str | None
    last_visit_at: datetime | None
    confirmation: Confirmation | None
    next_due: date
    overdue: bool


class HouseholdReport(BaseModel):
    items: list[HouseholdReportRow]


def report_rows(
    session: Session, principal: Principal, policy: Policy, prefix: str | None, today: date
) -> list[HouseholdReportRow]:
    query = (
        select(Household, Member.full_name)
        .outerjoin(Member, Member.id == Household.member_id)
        .where(service.visibility(principal))
    )
    if prefix:
        query = query.where(Household.village_code.startswith(prefix))
    rows = session.execute(query.order_by(Household.village_code, Household.household_code)).all()
    latest = (
        select(Visit.household_id, func.max(Visit.id).label("visit_id"))
        .group_by(Visit.household_id)
        .subquery()
    )
    confirmations: dict[int, str] = (
        dict(
            session.execute(
                select(latest.c.household_id, Visit.confirmation).join(
                    Visit, Visit.id == latest.c.visit_id
                )
            ).all()
        )
        if rows
        else {}
    )
    out = []
    for h, name in rows:
        base = rules.due_base(
            h.last_visit_on, h.paired_from, as_utc(h.created_at).astimezone(policy.zone).date()
        )
        due = rules.next_due(base, h.risk, policy)
        out.append(
            HouseholdReportRow(
                household_id=h.id,
                household_code=h.household_code,
                village_code=h.village_code,
                head_name=h.head_name,
                category=h.category,
                risk=h.risk,
                phone=rules.mask_phone(h.phone),
                member_id=h.member_id,
                member_name=name,
                last_visit_at=as_utc(h.last_visit_at) if h.last_visit_at else None,
                confirmation=confirmations.get(h.id),
                next_due=due,
                overdue=h.member_id is not None and today > due,
            )
        )
    return out
