"""The map page's data: villages under a scope with simplified boundaries and their on-post
state on a day, members at risk, and the scope's daily on-post trend."""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import orjson
import shapely
from sqlalchemy import and_, case, func, or_, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.policy import Policy
from app.geofence.cache import boundary_revision
from app.ledger import calendar
from app.ledger import rules as ledger_rules
from app.ledger.models import PresenceDay
from app.org.models import Assignment, Member, Unit, Village, VillageBoundary
from app.reports import rules

# Overview outlines are simplified to about this many degrees (~30 m): enough for a county map.
OVERVIEW_TOLERANCE_DEG = 0.0003
COORD_DECIMALS = 5
AT_RISK_LIMIT = 50


@dataclass(frozen=True)
class VillageOnPost:
    code: str
    name: str
    assigned: int
    on_post: int
    on_leave: int


def _holds(day: date) -> Any:
    return and_(
        Assignment.start_date <= day,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
    )


def _under(prefix: str) -> Any:
    return Village.code.startswith(prefix) if prefix else Village.code.is_not(None)


def overview(
    session: Session,
    policy: Policy,
    prefix: str,
    day: date,
    today: date,
    compliance: ComplianceByVillage | None = None,
) -> dict[str, Any]:
    """With `compliance`, villages are coloured by their members' period compliance (the share
    met or on track) instead of the day's on-post state."""
    villages = _villages(session, prefix, day, today)
    shapes = _outlines(session, prefix)
    items = []
    for v in villages:
        geometry = shapes.get(v.code)
        rate = rules.on_post_rate(v.assigned, v.on_post, v.on_leave)
        state = rules.village_state(policy.dashboard, v.assigned, v.on_post, v.on_leave)
        if compliance is not None:
            members, fine = compliance.villages.get(v.code, (0, 0))
            rate = fine / members if members else None
            state = rules.village_state(policy.dashboard, members, fine, 0)
        items.append(
            {
                "code": v.code,
                "name": v.name,
                "township_code": v.code[:9],
                "county_code": v.code[:6],
                "assigned": v.assigned,
                "on_post": v.on_post,
                "on_leave": v.on_leave,
                "rate": None if rate is None else round(rate, 4),
                "state": state,
                "geometry": geometry,
            }
        )
    return {
        "scope": prefix,
        "date": day,
        "colour_by": "on_post" if compliance is None else "compliance",
        "period": None if compliance is None else compliance.period,
        "villages": items,
        "at_risk": (
            _at_risk(session, policy, prefix, day, today)
            if compliance is None
            else compliance.behind
        ),
        "trend": _trend(session, policy, prefix, day, today),
    }


@dataclass(frozen=True)
class ComplianceByVillage:
    period: str
    villages: dict[str, tuple[int, int]]  # code -> (members, met or on track)
    behind: list[dict[str, Any]]  # members below pace, worst first


def compliance_by_village(
    session: Session, policy: Policy, principal: Principal, prefix: str, day: date, today: date
) -> ComplianceByVillage:
    """The members' compliance in the first quota rule's period holding `day` (app.compliance),
    by village."""
    from app.compliance import rules as compliance_rules
    from app.compliance import scope_list

    span = compliance_rules.period_of(policy.quota.rules[0].period, day)
    members = scope_list.scope_filter(session, principal, prefix or None, None, span)
    villages: dict[str, tuple[int, int]] = {}
    behind: list[dict[str, Any]] = []
    for row in scope_list.scope_rows(session, policy, members, span, today):
        if row.village_code is None:
            continue
        fine = row.status in ("met", "on_track")
        n, ok = villages.get(row.village_code, (0, 0))
        villages[row.village_code] = (n + 1, ok + fine)
        if not fine and len(behind) < AT_RISK_LIMIT:
            behind.append(
                {
                    "member_id": row.member_id,
                    "full_name": row.full_name,
                    "unit": row.unit,
                    "village_code": row.village_code,
                    "status": row.status,
                    "needed_days": row.needed_days,
                }
            )
    return ComplianceByVillage(span.label, villages, behind)


def _villages(session: Session, prefix: str, day: date, today: date) -> list[VillageOnPost]:
    """Every village under `prefix` with its members assigned on `day`, on post (the day rule
    met; today, a counted fix so far) and on leave (not on post)."""
    on_post_today = day >= today
    on_post = or_(PresenceDay.present.is_(True), PresenceDay.counted_checkins > 0)
    is_on_post = on_post if on_post_today else PresenceDay.present.is_(True)
    counts = (
        select(
            Assignment.village_code.label("code"),
            func.count().label("assigned"),
            func.sum(case((is_on_post, 1), else_=0)).label("on_post"),
            func.sum(
                case((and_(~is_on_post, PresenceDay.leave_id.is_not(None)), 1), else_=0)
            ).label("on_leave"),
        )
        .outerjoin(
            PresenceDay,
            and_(PresenceDay.member_id == Assignment.member_id, PresenceDay.day == day),
        )
        .where(_holds(day), Assignment.village_code.startswith(prefix))
        .group_by(Assignment.village_code)
        .subquery()
    )
    rows = session.execute(
        select(Village.code, Village.name, counts.c.assigned, counts.c.on_post, counts.c.on_leave)
        .outerjoin(counts, counts.c.code == Village.code)
        .where(_under(prefix))
        .order_by(Village.code)
    )
    return [
        VillageOnPost(code, name, int(a or 0), int(p or 0), int(lv or 0))
        for code, name, a, p, lv in rows
    ]


_OUTLINE_CACHE_SIZE = 64
_outline_cache: OrderedDict[tuple[str, int, str], dict[str, dict[str, Any]]] = OrderedDict()
_outline_lock = threading.Lock()


def _outlines(session: Session, prefix: str) -> dict[str, dict[str, Any]]:
    """`_simplified_outlines`, kept per process until any boundary changes (the boundary
    revision that the geofence index follows moves)."""
    key = (str(session.get_bind().engine.url), boundary_revision(session), prefix)
    with _outline_lock:
        hit = _outline_cache.get(key)
        if hit is not None:
            _outline_cache.move_to_end(key)
            return hit
    found = _simplified_outlines(session, prefix)
    with _outline_lock:
        _outline_cache[key] = found
        while len(_outline_cache) > _OUTLINE_CACHE_SIZE:
            _outline_cache.popitem(last=False)
    return found


def _simplified_outlines(session: Session, prefix: str) -> dict[str, dict[str, Any]]:
    """Simplified current boundaries of the villages under `prefix`, as GeoJSON geometries
    (PostGIS simplifies and writes them itself; elsewhere Shapely does)."""
    current = (VillageBoundary.valid_to.is_(None), VillageBoundary.village_code.startswith(prefix))
    if session.get_bind().dialect.name == "postgresql":
        simplified = func.ST_AsGeoJSON(
            func.ST_SimplifyPreserveTopology(VillageBoundary.boundary, OVERVIEW_TOLERANCE_DEG),
            COORD_DECIMALS,
        )
        rows = session.execute(select(VillageBoundary.village_code, simplified).where(*current))
        return {code: orjson.loads(text) for code, text in rows}
    found = session.execute(
        select(VillageBoundary.village_code, VillageBoundary.boundary).where(*current)
    ).all()
    if not found:
        return {}
    outlines = shapely.simplify(
        [geom for _, geom in found], OVERVIEW_TOLERANCE_DEG, preserve_topology=True
    )
    outlines = shapely.set_precision(outlines, 10**-COORD_DECIMALS)
    return {code: shapely.geometry.mapping(g) for (code, _), g in zip(found, outlines, strict=True)}


def _trend(
    session: Session, policy: Policy, prefix: str, day: date, today: date
) -> list[dict[str, Any]]:
    """On-post rate of the scope for each of the last `trend_days` days up to `day`."""
    first = day - timedelta(days=policy.dashboard.trend_days - 1)
    spans = session.execute(
        select(Assignment.start_date, Assignment.end_date).where(
            Assignment.village_code.startswith(prefix),
            Assignment.start_date <= day,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= first),
        )
    ).all()
    days = ledger_rules.days_between(first, day)
    assigned = dict.fromkeys(days, 0)
    for start, end in spans:
        for d in days[max((start - first).days, 0) : (day - first).days + 1]:
            if end is None or d <= end:
                assigned[d] += 1
    held = and_(
        Assignment.member_id == PresenceDay.member_id,
        Assignment.start_date <= PresenceDay.day,
        or_(Assignment.end_date.is_(None), Assignment.end_date >= PresenceDay.day),
        Assignment.village_code.startswith(prefix),
    )
    counted = session.execute(
        select(
            PresenceDay.day,
            func.sum(case((PresenceDay.present.is_(True), 1), else_=0)),
            func.sum(
                case(
                    (and_(PresenceDay.present.is_(False), PresenceDay.leave_id.is_not(None)), 1),
                    else_=0,
                )
            ),
        )
        .join(Assignment, held)
        .where(PresenceDay.day.between(first, day))
        .group_by(PresenceDay.day)
    )
    by_day = {d: (int(p or 0), int(lv or 0)) for d, p, lv in counted}
    out = []
    for d in days:
        present, on_leave = by_day.get(d, (0, 0))
        rate = rules.on_post_rate(assigned[d], present, on_leave)
        out.append(
            {
                "date": d,
                "assigned": assigned[d],
                "present": present,
                "on_leave": on_leave,
                "rate": None if rate is None or d >= today else round(rate, 4),
            }
        )
    return out


def _at_risk(
    session: Session, policy: Policy, prefix: str, day: date, today: date
) -> list[dict[str, Any]]:
    """Members assigned on `day` with at least `at_risk_absent_workdays` past working days of
    the trend window absent (no counted fix, no leave) while assigned under the scope."""
    first = day - timedelta(days=policy.dashboard.trend_days - 1)
    last = min(day, today - timedelta(days=1))
    workdays = (
        [
            d
            for d in ledger_rules.days_between(first, last)
            if calendar.is_workday(d, policy.calendar)
        ]
        if last >= first
        else []
    )
    if not workdays:
        return []
    now_assigned = session.execute(
        select(Assignment.member_id, Assignment.village_code, Member.full_name, Unit.name)
        .join(Member, Member.id == Assignment.member_id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(_holds(day), Assignment.village_code.startswith(prefix))
    ).all()
    if not now_assigned:
        return []
    ids = [m for m, *_ in now_assigned]
    spans: dict[int, list[ledger_rules.Period]] = {}
    for m, s, e in session.execute(
        select(Assignment.member_id, Assignment.start_date, Assignment.end_date).where(
            Assignment.member_id.in_(ids),
            Assignment.village_code.startswith(prefix),
            Assignment.start_date <= last,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= first),
        )
    ):
        spans.setdefault(m, []).append(ledger_rules.Period(s, e))
    covered: dict[int, set[date]] = {}
    for m, d in session.execute(
        select(PresenceDay.member_id, PresenceDay.day).where(
            PresenceDay.member_id.in_(ids),
            PresenceDay.day.between(first, last),
            or_(PresenceDay.counted_checkins > 0, PresenceDay.leave_id.is_not(None)),
        )
    ):
        covered.setdefault(m, set()).add(d)
    out: list[dict[str, Any]] = []
    for member_id, village, name, unit in now_assigned:
        periods = spans.get(member_id, [])
        mine = covered.get(member_id, set())
        absent = [d for d in workdays if d not in mine and any(p.holds(d) for p in periods)]
        if len(absent) >= policy.dashboard.at_risk_absent_workdays:
            out.append(
                {
                    "member_id": member_id,
                    "full_name": name,
                    "unit": unit,
                    "village_code": village,
                    "absent": absent,
                }
            )
    out.sort(key=lambda r: (-len(r["absent"]), r["member_id"]))
    for r in out:
        absent_days = r.pop("absent")
        r["absent_workdays"], r["last_absent"] = len(absent_days), absent_days[-1]
    return out[:AT_RISK_LIMIT]


def village_team(
    session: Session, policy: Policy, code: str, day: date, today: date, days: int
) -> list[dict[str, Any]]:
    """The members assigned to village `code` on any of the `days` days up to `day`, each with
    their ledger for those days (statuses as the ledger derives them) while assigned here."""
    from app.ledger import service as ledger_service

    first = day - timedelta(days=days - 1)
    members = session.execute(
        select(Member.id, Member.full_name, Member.position, Unit.name)
        .join(Assignment, Assignment.member_id == Member.id)
        .join(Unit, Unit.id == Member.unit_id)
        .where(
            Assignment.village_code == code,
            Assignment.start_date <= day,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= first),
        )
        .distinct()
        .order_by(Member.id)
    ).all()
    team = []
    for member_id, name, position, unit in members:
        ledger = ledger_service.presence(session, policy, member_id, first, day, today)
        team.append(
            {
                "member_id": member_id,
                "full_name": name,
                "position": position,
                "unit": unit,
                # Days assigned elsewhere (a member who moved) belong to the other village's
                # supervisors: here they show as not assigned.
                "days": [
                    {
                        "date": d.date,
                        "status": d.status if d.village_code == code else "unassigned",
                        "workday": d.workday,
                        "counted_checkins": d.counted_checkins if d.village_code == code else 0,
                        "village_code": d.village_code if d.village_code == code else None,
                    }
                    for d in ledger.days
                ],
            }
        )
    return team
