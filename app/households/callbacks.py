"""Call-backs (回访): a random share of a period's visits, drawn with a stored seed so that the
draw can be re-derived; members without visits get households drawn instead. The caller
records what the household said; a "no" denies the visit."""

from __future__ import annotations

import math
import random
import secrets
from datetime import datetime

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.core.policy import Policy
from app.core.time import local_date
from app.households.errors import AlreadyAnswered, CallbackNotFound
from app.households.models import Callback, CallbackDraw, Household, HouseholdPairing, Visit
from app.households.schemas import (
    CallbackOut,
    DrawIn,
    DrawItem,
    DrawOut,
    OutcomeIn,
)
from app.households.service import refresh_last_visit


def draw_items(
    seed: str,
    visits: list[tuple[int, int, int]],
    unvisited: dict[int, list[int]],
    share: float,
    min_per_member: int,
) -> list[tuple[int, int, int | None]]:
    """(member_id, household_id, visit_id | None) drawn: pure, so the seed re-derives it.
    `visits`: (visit_id, member_id, household_id) in id order; `unvisited`: member →
    their paired households (in id order) for members without visits in the range."""
    rng = random.Random(seed)
    k = min(len(visits), math.ceil(share * len(visits)))
    chosen = set(rng.sample(range(len(visits)), k)) if k else set()
    by_member: dict[int, list[int]] = {}
    for i, (_, member, _) in enumerate(visits):
        by_member.setdefault(member, []).append(i)
    for member in sorted(by_member):
        mine = by_member[member]
        have = [i for i in mine if i in chosen]
        rest = [i for i in mine if i not in chosen]
        need = min(len(rest), max(0, min_per_member - len(have)))
        chosen.update(rng.sample(rest, need))
    out: list[tuple[int, int, int | None]] = [
        (visits[i][1], visits[i][2], visits[i][0]) for i in sorted(chosen)
    ]
    for member in sorted(unvisited):
        households = unvisited[member]
        for h in rng.sample(households, min(len(households), max(1, min_per_member))):
            out.append((member, h, None))
    return out


def draw(
    session: Session,
    policy: Policy,
    principal: Principal,
    prefix: str,
    body: DrawIn,
    now: datetime,
) -> DrawOut:
    seed = secrets.token_hex(8)
    start, end = body.from_, body.to
    visits = [
        (v, m, h)
        for v, m, h in session.execute(
            select(Visit.id, Visit.member_id, Visit.household_id)
            .join(Household, Household.id == Visit.household_id)
            .where(
                Household.village_code.startswith(prefix),
                Visit.local_date.between(start, end),
            )
            .order_by(Visit.id)
        )
    ]
    visited = {m for _, m, _ in visits}
    unvisited: dict[int, list[int]] = {}
    for p in session.scalars(
        select(HouseholdPairing)
        .join(Household, Household.id == HouseholdPairing.household_id)
        .where(
            Household.village_code.startswith(prefix),
            HouseholdPairing.from_date <= end,
            (HouseholdPairing.to_date.is_(None)) | (HouseholdPairing.to_date >= start),
        )
        .order_by(HouseholdPairing.household_id)
    ):
        if p.member_id not in visited:
            unvisited.setdefault(p.member_id, [])
            if p.household_id not in unvisited[p.member_id]:
                unvisited[p.member_id].append(p.household_id)
    row = CallbackDraw(
        scope=prefix,
        from_date=start,
        to_date=end,
        share=body.share,
        min_per_member=body.min_per_member,
        seed=seed,
        drawn_by=principal.user_id,
        drawn_at=now,
    )
    session.add(row)
    session.flush()
    picked = draw_items(seed, visits, unvisited, body.share, body.min_per_member)
    households = {
        h.id: h
        for h in session.scalars(
            select(Household).where(Household.id.in_({h for _, h, _ in picked}))
        )
    }
    items = []
    for member_id, household_id, visit_id in picked:
        h = households[household_id]
        cb = Callback(
            draw_id=row.id,
            household_id=household_id,
            member_id=member_id,
            visit_id=visit_id,
            village_code=h.village_code,
            status="pending",
        )
        session.add(cb)
        session.flush()
        items.append(
            DrawItem(
                callback_id=cb.id,
                household_id=household_id,
                head_name=h.head_name,
                phone=h.phone,
                village_code=h.village_code,
                member_id=member_id,
                visit_id=visit_id,
            )
        )
    return DrawOut(id=row.id, seed=seed, items=items)


def _visible(principal: Principal) -> ColumnElement[bool]:
    prefix = principal.division_prefix or ""
    return Callback.village_code.startswith(prefix)


def get_visible(
    session: Session, principal: Principal, callback_id: int, *, lock: bool = False
) -> Callback:
    query = select(Callback).where(Callback.id == callback_id, _visible(principal))
    if lock:
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise CallbackNotFound(callback_id=callback_id)
    return row


def record_outcome(
    session: Session,
    policy: Policy,
    principal: Principal,
    callback_id: int,
    body: OutcomeIn,
    now: datetime,
) -> CallbackOut:
    cb = get_visible(session, principal, callback_id, lock=True)
    if cb.status == "done":
        raise AlreadyAnswered()
    cb.status = "done"
    cb.reached = body.reached
    cb.visit_confirmed = body.visit_confirmed if body.reached else None
    cb.knows_member = body.knows_member if body.reached else None
    cb.satisfaction = body.satisfaction if body.reached else None
    cb.note = body.note
    cb.recorded_by = principal.user_id
    cb.recorded_at = now
    cb.recorded_on = local_date(now, policy.zone)
    if cb.visit_id is not None and cb.visit_confirmed in ("yes", "no"):
        visit = session.scalar(select(Visit).where(Visit.id == cb.visit_id).with_for_update())
        assert visit is not None
        if cb.visit_confirmed == "no":
            visit.confirmation = "denied"
        elif visit.confirmation != "denied":
            visit.confirmation = "confirmed"
        session.flush()
        refresh_last_visit(session, policy, visit.household_id)
    session.flush()
    return outs(session, [cb])[0]


def outs(session: Session, rows: list[Callback]) -> list[CallbackOut]:
    households = {
        h.id: h
        for h in session.scalars(
            select(Household).where(Household.id.in_({r.household_id for r in rows}))
        )
    }
    return [
        CallbackOut(
            id=r.id,
            draw_id=r.draw_id,
            visit_id=r.visit_id,
            member_id=r.member_id,
            status=r.status,
            reached=r.reached,
            visit_confirmed=r.visit_confirmed,
            knows_member=r.knows_member,
            satisfaction=r.satisfaction,
            note=r.note,
            recorded_at=r.recorded_at,
            household_id=r.household_id,
            village_code=r.village_code,
            head_name=households[r.household_id].head_name,
            phone=households[r.household_id].phone,
        )
        for r in rows
    ]


def list_callbacks(
    session: Session, prefix: str, status: str | None, after: int | None, limit: int
) -> list[Callback]:
    query = select(Callback).where(Callback.village_code.startswith(prefix))
    if status:
        query = query.where(Callback.status == status)
    if after is not None:
        query = query.where(Callback.id < after)
    return list(session.scalars(query.order_by(Callback.id.desc()).limit(limit)))
