"""The rectification ledger (整改台账): items opened against a member, closed with evidence,
every transition kept in a trail. `overdue` is derived (open past the due date)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, false, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.policy import Policy
from app.core.time import as_utc
from app.ledger import service as ledger_service
from app.org.models import Assignment, Member, Unit
from app.org.service import get_visible_member
from app.supervision import rules
from app.supervision.errors import (
    DueInPast,
    InvalidPeriod,
    InvalidTransition,
    MemberNotInspected,
    RectificationNotFound,
    ReviewerLevelRequired,
    UnknownViolationCode,
)
from app.supervision.inspections import get_visible as get_visible_inspection
from app.supervision.models import InspectionMember, Rectification, RectificationTransition
from app.supervision.schemas import (
    InspectionSource,
    ManualSource,
    PresenceSince,
    RectificationCreate,
    RectificationOut,
    TransitionOut,
    ViolationSource,
)


def open_item(
    session: Session, principal: Principal, body: RectificationCreate, now: datetime, today: date
) -> Rectification:
    """Open an item against a member in the caller's scope."""
    member = get_visible_member(session, principal, body.member_id)
    source = body.source
    item = Rectification(
        member_id=member.id,
        unit_id=member.unit_id,
        village_code=_village_in_scope(session, principal, member.id),
        source_kind=source.kind,
        requirement=body.requirement,
        due_date=body.due_date,
        status="open",
        opened_by=principal.user_id,
        opened_level=principal.role,
        opened_at=now,
        opened_on=today,
    )
    if isinstance(source, ViolationSource):
        if source.code not in rules.VIOLATION_CODES:
            raise UnknownViolationCode(code=source.code)
        if not rules.valid_period(source.period):
            raise InvalidPeriod(period=source.period)
        item.violation_code, item.violation_period = source.code, source.period
    elif isinstance(source, InspectionSource):
        inspection = get_visible_inspection(session, principal, source.inspection_id)
        named = session.scalar(
            select(InspectionMember.member_id).where(
                InspectionMember.inspection_id == inspection.id,
                InspectionMember.member_id == member.id,
            )
        )
        if named is None:
            raise MemberNotInspected(inspection_id=inspection.id, member_id=member.id)
        item.inspection_id = inspection.id
    if body.due_date < today:
        raise DueInPast(due_date=body.due_date)
    session.add(item)
    session.flush()
    _trail(session, item, principal, now, None, "open", body.requirement)
    return item


def _village_in_scope(session: Session, principal: Principal, member_id: int) -> str | None:
    """The member's latest village that the caller covers (the item's place in scopes)."""
    prefix = principal.division_prefix or ""
    return session.scalar(
        select(Assignment.village_code)
        .where(
            Assignment.member_id == member_id,
            Assignment.village_code.startswith(prefix, autoescape=True),
        )
        .order_by(Assignment.start_date.desc())
        .limit(1)
    )


def visibility(principal: Principal) -> Any:
    if principal.role == "member":
        return Rectification.member_id == principal.member_id if principal.member_id else false()
    if principal.role == "unit":
        return Rectification.unit_id.in_(select(Unit.id).where(Unit.name == principal.scope))
    prefix = principal.division_prefix
    if prefix is None:
        return false()
    return Rectification.village_code.startswith(prefix, autoescape=True) if prefix else true()


def get_visible(
    session: Session, principal: Principal, item_id: int, *, lock: bool = False
) -> Rectification:
    query = select(Rectification).where(Rectification.id == item_id, visibility(principal))
    if lock:
        query = query.with_for_update()
    item = session.scalar(query)
    if item is None:
        raise RectificationNotFound(rectification_id=item_id)
    return item


def close(
    session: Session, principal: Principal, item_id: int, evidence: str, now: datetime, today: date
) -> Rectification:
    """Close with evidence. The row is locked before it is read: of two reviewers racing,
    one closes it and the other is told it is closed (409)."""
    item = get_visible(session, principal, item_id, lock=True)
    if item.status != "open":
        raise InvalidTransition(rectification_id=item.id)
    if not rules.may_close(
        item.source_kind, item.opened_level, item.opened_by, principal.role, principal.user_id
    ):
        raise ReviewerLevelRequired(opened_level=item.opened_level)
    item.status = "closed"
    item.closed_by = principal.user_id
    item.closed_level = principal.role
    item.closed_at = now
    item.closed_on = today
    item.evidence = evidence
    session.flush()
    _trail(session, item, principal, now, "open", "closed", evidence)
    return item


def _trail(
    session: Session,
    item: Rectification,
    principal: Principal,
    now: datetime,
    from_status: str | None,
    to_status: str,
    note: str | None,
) -> None:
    session.add(
        RectificationTransition(
            rectification_id=item.id,
            actor_id=principal.user_id,
            actor_level=principal.role,
            at=now,
            from_status=from_status,
            to_status=to_status,
            note=note,
        )
    )
    session.flush()


def list_items(
    session: Session,
    principal: Principal,
    prefix: str | None,
    status: str | None,
    overdue: bool | None,
    today: date,
    after: int | None,
    limit: int,
) -> list[Rectification]:
    """Items in the caller's scope (under `prefix` when given), newest first."""
    query = select(Rectification).where(visibility(principal))
    if prefix:
        query = query.where(Rectification.village_code.startswith(prefix, autoescape=True))
    if status is not None:
        query = query.where(Rectification.status == status)
    if overdue is not None:
        late = and_(Rectification.status == "open", Rectification.due_date < today)
        query = query.where(late if overdue else ~late)
    if after is not None:
        query = query.where(Rectification.id < after)
    return list(session.scalars(query.order_by(Rectification.id.desc()).limit(limit)))


def outs(
    session: Session,
    policy: Policy,
    items: Sequence[Rectification],
    today: date,
    *,
    with_presence: bool = False,
) -> list[RectificationOut]:
    """Answers for items: names, units and trails in three statements for the whole page."""
    if not items:
        return []
    member_ids = {i.member_id for i in items}
    names = dict(
        session.execute(select(Member.id, Member.full_name).where(Member.id.in_(member_ids))).all()
    )
    units = dict(
        session.execute(
            select(Unit.id, Unit.name).where(Unit.id.in_({i.unit_id for i in items}))
        ).all()
    )
    history: dict[int, list[TransitionOut]] = {}
    for t in session.scalars(
        select(RectificationTransition)
        .where(RectificationTransition.rectification_id.in_([i.id for i in items]))
        .order_by(RectificationTransition.id)
    ):
        history.setdefault(t.rectification_id, []).append(
            TransitionOut(
                at=as_utc(t.at),
                actor_id=t.actor_id,
                actor_level=t.actor_level,
                from_status=t.from_status,
                to_status=t.to_status,
                note=t.note,
            )
        )
    return [
        RectificationOut(
            id=i.id,
            member_id=i.member_id,
            full_name=names[i.member_id],
            unit=units[i.unit_id],
            village_code=i.village_code,
            source=_source(i),
            requirement=i.requirement,
            due_date=i.due_date,
            status=i.status,
            overdue=i.status == "open" and i.due_date < today,
            opened_by=i.opened_by,
            opened_level=i.opened_level,
            opened_at=as_utc(i.opened_at),
            closed_by=i.closed_by,
            closed_level=i.closed_level,
            closed_at=None if i.closed_at is None else as_utc(i.closed_at),
            evidence=i.evidence,
            presence=_presence_since(session, policy, i, today) if with_presence else None,
            history=history.get(i.id, []),
        )
        for i in items
    ]


def _source(item: Rectification) -> ViolationSource | InspectionSource | ManualSource:
    if item.source_kind == "violation":
        return ViolationSource(
            kind="violation", code=item.violation_code or "", period=item.violation_period or ""
        )
    if item.source_kind == "inspection":
        return InspectionSource(kind="inspection", inspection_id=item.inspection_id or 0)
    return ManualSource(kind="manual")


def _presence_since(
    session: Session, policy: Policy, item: Rectification, today: date
) -> PresenceSince:
    end = item.closed_on or today
    start = min(item.opened_on, end)
    ledger = ledger_service.presence(session, policy, item.member_id, start, end, today)
    return PresenceSince(start=start, end=end, days=dict(Counter(d.status for d in ledger.days)))
