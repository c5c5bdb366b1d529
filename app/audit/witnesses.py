"""The rows the actions chain witnesses: every check-in review and every leave transition must
have its entry, and every entry its row, in the same order with the same content.

The tables belong to domains above audit (checkins, leave), which audit must not import; they
are named here as plain table shapes instead (a row of the real table has these columns)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import DateTime, column, select, table
from sqlalchemy.orm import Session

from app.audit import rules

_reviews = table(
    "checkin_reviews",
    column("id"),
    column("checkin_id"),
    column("action"),
    column("reason"),
    column("reviewer_id"),
    column("at", DateTime(timezone=True)),
)
_transitions = table(
    "leave_transitions",
    column("id"),
    column("leave_id"),
    column("actor_id"),
    column("at", DateTime(timezone=True)),
    column("from_status"),
    column("to_status"),
    column("comment"),
)
_leaves = table("leave_requests", column("id"), column("status"))

REVIEW_ACTIONS = ("checkin.void", "checkin.restore")
LEAVE_ACTIONS = (
    "leave.request",
    "leave.extend",
    "leave.approve",
    "leave.reject",
    "leave.cancel",
    "leave.return",
)


@dataclass(frozen=True)
class Witnessed:
    """One kind of witnessed row: which entries speak of it and how both read as a key."""

    table: str  # also the key of the chain's baseline
    noun: str
    actions: tuple[str, ...]

    def rows(self, session: Session, after_id: int) -> Iterable[tuple[str, int, tuple[Any, ...]]]:
        raise NotImplementedError

    def entry_key(self, entry: dict[str, Any]) -> tuple[Any, ...]:
        raise NotImplementedError


class _Reviews(Witnessed):
    def rows(self, session: Session, after_id: int) -> Iterable[tuple[str, int, tuple[Any, ...]]]:
        r = _reviews.c
        for row in session.execute(select(_reviews).where(r.id > after_id).order_by(r.id)):
            key = (row.action, row.reason, f"user:{row.reviewer_id}", rules.action_time(row.at))
            yield f"checkin:{row.checkin_id}", row.id, key

    def entry_key(self, entry: dict[str, Any]) -> tuple[Any, ...]:
        p = entry["payload"]
        return (p.get("action"), p.get("reason"), entry["actor"], p.get("at"))


class _Transitions(Witnessed):
    def rows(self, session: Session, after_id: int) -> Iterable[tuple[str, int, tuple[Any, ...]]]:
        t = _transitions.c
        for row in session.execute(select(_transitions).where(t.id > after_id).order_by(t.id)):
            actor = None if row.actor_id is None else f"user:{row.actor_id}"
            key = (row.from_status, row.to_status, row.comment, actor, rules.action_time(row.at))
            yield f"leave:{row.leave_id}", row.id, key

    def entry_key(self, entry: dict[str, Any]) -> tuple[Any, ...]:
        p = entry["payload"]
        return (p.get("from"), p.get("to"), p.get("comment"), entry["actor"], p.get("at"))


WITNESSED: tuple[Witnessed, ...] = (
    _Reviews("checkin_reviews", "review", REVIEW_ACTIONS),
    _Transitions("leave_transitions", "leave transition", LEAVE_ACTIONS),
)


def leave_statuses(session: Session, leave_ids: Iterable[int]) -> dict[int, str]:
    """The stored status of each leave request (to hold against its last logged transition)."""
    ids = list(leave_ids)
    found: dict[int, str] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        rows = session.execute(
            select(_leaves.c.id, _leaves.c.status).where(_leaves.c.id.in_(chunk))
        )
        found.update({row.id: row.status for row in rows})
    return found
