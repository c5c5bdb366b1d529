"""Who sees what: the one place that decides scope, for every domain's reads.

Two rules (docs/rules.md, "Who sees what"):

1. A `scope` parameter narrows the caller's own view. A division code that lies outside the
   caller's own (disjoint from it, or, for members and units, holding none of their villages)
   answers 404 `scope_not_found`; a wider one is narrowed to the caller's own.
2. A member's records are seen day by day: a division user (township, county, city,
   auditor) sees a member's records of a day only when the member was assigned that day to a
   village under their scope. A member who moved from township A to township B is seen by A
   for the days before the move and by B for the days after; the county above both sees all.
   Days without any assignment are seen by everyone who sees the member at all. Admins, the
   member themself and their dispatching unit see every day.

Check-ins, presence and leave apply rule 2 through `day_visible` / `day_filter` /
`assigned_under`; compliance and reports should call the same functions, and what only names
a member and a day (the actions log's entries) `member_day_filter`.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import ColumnElement, and_, exists, false, or_, select, true
from sqlalchemy.orm import QueryableAttribute, Session

from app.auth.principal import Principal
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, ScopeNotFound
from app.org.models import Assignment, Member, Unit, Village


def resolve_scope(session: Session, principal: Principal, scope: str | None) -> str | None:
    """The division prefix to filter by for a `scope` parameter (None: no narrowing), or
    InvalidScope (not a division code) / ScopeNotFound (outside the caller's own)."""
    if not scope:
        return None
    if not is_prefix(scope):
        raise InvalidScope()
    own = principal.division_prefix
    if own is not None:
        if scope.startswith(own):
            return scope
        if own.startswith(scope):
            return own  # a wider division than the caller's: narrowed to their own
        raise ScopeNotFound(scope=scope)
    from app.org.service import village_visibility

    visible = session.scalar(
        select(Village.code)
        .where(Village.code.startswith(scope), village_visibility(principal))
        .limit(1)
    )
    if visible is None:
        raise ScopeNotFound(scope=scope)
    return scope


def day_visible(principal: Principal, assigned_village: str | None) -> bool:
    """Rule 2 for one day of a member the caller sees at all: `assigned_village` is the
    member's village that day (None: no assignment)."""
    prefix = principal.division_prefix
    if not prefix or assigned_village is None:
        return True
    return assigned_village.startswith(prefix)


def day_filter(
    principal: Principal,
    assigned_village: QueryableAttribute[str | None] | ColumnElement[str | None],
) -> ColumnElement[bool]:
    """Rule 2 as SQL, on rows that carry the member's village of their day."""
    prefix = principal.division_prefix
    if not prefix:
        return true()
    return or_(assigned_village.is_(None), assigned_village.startswith(prefix))


def assigned_under(
    prefix: str, member_id: QueryableAttribute[int], day: QueryableAttribute[date]
) -> ColumnElement[bool]:
    """The member was assigned on `day` to a village under `prefix` (SQL)."""
    return exists().where(
        Assignment.member_id == member_id,
        Assignment.start_date <= day,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
        Assignment.village_code.startswith(prefix),
    )


def member_day_filter(
    principal: Principal,
    member_id: QueryableAttribute[int | None],
    day: QueryableAttribute[date | None],
) -> ColumnElement[bool]:
    """Rule 2 as SQL, on rows that name a member and a day but no village: the member was
    assigned that day under the caller's prefix, or had no assignment that day and is seen at
    all (assigned under it some other day). The member themself and their unit see every day.
    Rows naming no member are for the caller to judge (this keeps none of them)."""
    if principal.role == "member":
        return member_id == principal.member_id if principal.member_id else false()
    if principal.role == "unit":
        return member_id.in_(
            select(Member.id)
            .join(Unit, Unit.id == Member.unit_id)
            .where(Unit.name == principal.scope)
        )
    prefix = principal.division_prefix
    if prefix is None:
        return false()
    if not prefix:
        return member_id.is_not(None)
    that_day = and_(
        Assignment.member_id == member_id,
        Assignment.start_date <= day,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
    )
    return or_(
        exists().where(that_day, Assignment.village_code.startswith(prefix)),
        and_(
            ~exists().where(that_day),
            exists().where(
                Assignment.member_id == member_id, Assignment.village_code.startswith(prefix)
            ),
        ),
    )
