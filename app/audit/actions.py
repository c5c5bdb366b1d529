"""The actions log: one global, append-only hash chain of privileged actions (reviews of
check-ins, leave transitions, imports, account and assignment changes).

A call site records with one call, `record(session, actor=…, action=…, subject=…, payload=…)`.
The entry is appended when that session commits (a `before_commit` hook), inside the same
transaction: the action and its entry commit together or not at all. Appending last also takes
the chain's lock last, after every lock the action itself needed, so two actions can never wait
on each other through it (and it is held only until the commit).
"""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from app.audit import rules
from app.audit.models import ActionEntry, ActionsHead
from app.core.time import utcnow

HEAD_ID = 1
BEGIN = "audit.begin"  # the first entry where the chain starts on a database with history


def cli_actor() -> str:
    """The actor of a command-line action: `cli:<login>` (the operator's OS account)."""
    try:
        return f"cli:{getpass.getuser()}"[:64]
    except (KeyError, OSError):  # no passwd entry for the uid (some containers)
        return "cli"


CLI = cli_actor()


class About(NamedTuple):
    """The member an entry is about, and the day whose assignment decides who reads it: a
    check-in's local date, a leave's first day, else the entry's own (local) date."""

    member_id: int
    day: date


@dataclass(frozen=True)
class _Pending:
    at: datetime
    actor: str
    action: str
    subject: str
    payload: dict[str, Any]
    about: About | None = None


_PENDING = "zhucun_audit_actions"


def record(
    session: Session,
    *,
    actor: int | str,
    action: str,
    subject: str,
    payload: dict[str, Any] | None = None,
    about: About | None = None,
) -> None:
    """Log a privileged action in `session`'s transaction.

    `actor`: a user id, or a `cli:…` text (`CLI`); `action`: dotted, e.g. `checkin.void`;
    `subject`: `kind:id`, e.g. `checkin:5`; `payload`: what changed, as JSON data (times and
    dates are turned into text). Never put secrets (passwords, hashes, tokens) in it.
    `about`: the member the subject concerns, if any (a check-in's, a leave's, a member
    account's): auditors read the entry as they read that member's records of `about.day`;
    without it, only auditors of a province or wider and admins read it."""
    entry = _Pending(
        at=utcnow(),
        actor=actor if isinstance(actor, str) else f"user:{actor}",
        action=action,
        subject=subject,
        payload=rules.plain(payload or {}),
        about=about,
    )
    session.info.setdefault(_PENDING, []).append(entry)


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending: list[_Pending] | None = session.info.pop(_PENDING, None)
    if pending:
        append(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    # A rolled-back action leaves no entry (a committed one has appended its entries already).
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def append(session: Session, entries: list[_Pending]) -> int:
    """Append `entries` after the chain's head, locked before it is read; the new last seq."""
    seq, prev_hash, baseline = _locked_head(session)
    rows: list[dict[str, Any]] = []
    if seq == 0 and baseline:
        # The chain starts on a database that already has reviews or leave: say up to which
        # row ids those tables held rows before any entry (verify does not expect entries for
        # them), inside the chain where a later edit of the number breaks it.
        begin = _Pending(entries[0].at, "system", BEGIN, "audit:actions", {"baseline": baseline})
        entries = [begin, *entries]
    for entry in entries:
        seq += 1
        row = {
            "seq": seq,
            "at": entry.at,
            "actor": entry.actor,
            "action": entry.action,
            "subject": entry.subject,
            "payload": entry.payload,
            "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = rules.action_hash(row)
        row["member_id"] = entry.about.member_id if entry.about else None
        row["member_day"] = entry.about.day if entry.about else None
        rows.append(row)
    session.execute(insert(ActionEntry), rows)
    session.execute(
        update(ActionsHead).where(ActionsHead.id == HEAD_ID).values(seq=seq, last_hash=prev_hash)
    )
    return seq


_HEAD = (
    select(ActionsHead.seq, ActionsHead.last_hash, ActionsHead.baseline)
    .where(ActionsHead.id == HEAD_ID)
    .with_for_update()  # SQLite: BEGIN IMMEDIATE holds the write lock already
)


def _locked_head(session: Session) -> tuple[int, str, dict[str, Any] | None]:
    row = session.execute(_HEAD).first()
    if row is None:
        # No head row (a database emptied by hand, or made without migrations): make it once,
        # whoever races us, then lock it.
        dialect_insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        session.execute(
            dialect_insert(ActionsHead)
            .values(id=HEAD_ID, seq=0, last_hash=rules.GENESIS_HASH, baseline=None)
            .on_conflict_do_nothing(index_elements=[ActionsHead.id])
        )
        row = session.execute(_HEAD).one()
    return row.seq, row.last_hash, row.baseline


def head(session: Session) -> tuple[int, str]:
    """The chain's head as it stands (seq 0 and the genesis hash when empty): what a
    checkpoint signs."""
    row = session.execute(
        select(ActionsHead.seq, ActionsHead.last_hash).where(ActionsHead.id == HEAD_ID)
    ).first()
    return (0, rules.GENESIS_HASH) if row is None else (row.seq, row.last_hash)
