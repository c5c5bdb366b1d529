"""The access log: one global, append-only hash chain of reads of members' raw positions (and of
households' full phone numbers) by anyone but the member, covered by the signed checkpoints as
the actions log is.

A reading route logs with one call, `record(session, …)`, once per request whatever the number
of rows it shows. The entry is appended when the request's session commits (a `before_commit`
hook), so the chain's lock is taken last and held only until the commit; a read that fails
leaves no entry. `app.privacy.access.log_read` is the same call from a `Principal`, skipping
the member's reads of their own data.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import event, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, SessionTransaction

from app.audit import rules
from app.audit.models import AccessEntry, AccessHead
from app.core.time import utcnow

HEAD_ID = 1
HASHED = (
    "seq",
    "at",
    "viewer_id",
    "viewer_role",
    "subject_member_id",
    "household_id",
    "what",
    "prev_hash",
)
_PENDING = "zhucun_audit_access"
_STREAM_ROWS = 5000


@dataclass(frozen=True)
class _Pending:
    at: datetime
    viewer_id: int
    viewer_role: str
    subject_member_id: int | None
    household_id: int | None
    what: str
    day: date | None


def record(
    session: Session,
    *,
    viewer_id: int,
    viewer_role: str,
    what: str,
    member_id: int | None = None,
    household_id: int | None = None,
    day: date | None = None,
) -> None:
    """Log one read in `session`'s transaction (appended at its commit).

    `what`: dotted, e.g. `checkins.list`, `household.phone`; `member_id` the member whose
    positions were read, `household_id` the household whose phone was; `day`: the local day
    whose assignment of the member decides which auditors read the entry (default: today's
    UTC date, set by the caller to the policy's local day where it knows it)."""
    session.info.setdefault(_PENDING, []).append(
        _Pending(
            at=utcnow(),
            viewer_id=viewer_id,
            viewer_role=viewer_role[:16],
            subject_member_id=member_id,
            household_id=household_id,
            what=what[:48],
            day=day,
        )
    )


class Viewer(Protocol):
    """Who reads (an `app.auth.principal.Principal`; audit cannot import auth)."""

    @property
    def user_id(self) -> int: ...
    @property
    def role(self) -> str: ...
    @property
    def member_id(self) -> int | None: ...


def log_read(
    session: Session,
    viewer: Viewer,
    *,
    what: str,
    member_id: int | None = None,
    household_id: int | None = None,
    day: date | None = None,
) -> bool:
    """THE call for a route that shows a member's raw positions (`member_id`) or a household's
    full phone number (`household_id`): one entry per request, however many rows it shows. A
    member reading their own data is not logged. Returns whether an entry was queued.

    E.g. `log_read(session, principal, what="household.phone", household_id=h.id)`."""
    if member_id is not None and viewer.member_id == member_id and household_id is None:
        return False
    record(
        session,
        viewer_id=viewer.user_id,
        viewer_role=viewer.role,
        what=what,
        member_id=member_id,
        household_id=household_id,
        day=day,
    )
    return True


@event.listens_for(Session, "before_commit")
def _append_pending(session: Session) -> None:
    pending: list[_Pending] | None = session.info.pop(_PENDING, None)
    if pending:
        append(session, pending)


@event.listens_for(Session, "after_transaction_end")
def _forget_pending(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_PENDING, None)


def entry_hash(entry: dict[str, Any]) -> str:
    """Hex SHA-256 of the RFC 8785 JSON of the hashed fields (`at` as `rules.action_time`)."""
    fields = {name: entry[name] for name in HASHED}
    if isinstance(fields["at"], datetime):
        fields["at"] = rules.action_time(fields["at"])
    return hashlib.sha256(rules.canonical_json(fields)).hexdigest()


def append(session: Session, entries: list[_Pending]) -> int:
    """Append `entries` after the head, locked before it is read; the new last seq."""
    seq, prev_hash = _locked_head(session)
    rows: list[dict[str, Any]] = []
    for entry in entries:
        seq += 1
        row: dict[str, Any] = {
            "seq": seq,
            "at": entry.at,
            "viewer_id": entry.viewer_id,
            "viewer_role": entry.viewer_role,
            "subject_member_id": entry.subject_member_id,
            "household_id": entry.household_id,
            "what": entry.what,
            "prev_hash": prev_hash,
        }
        row["hash"] = prev_hash = entry_hash(row)
        row["member_day"] = entry.day or entry.at.date()
        rows.append(row)
    session.execute(insert(AccessEntry), rows)
    session.execute(
        update(AccessHead).where(AccessHead.id == HEAD_ID).values(seq=seq, last_hash=prev_hash)
    )
    return seq


_HEAD = (
    select(AccessHead.seq, AccessHead.last_hash)
    .where(AccessHead.id == HEAD_ID)
    .with_for_update()  # SQLite: BEGIN IMMEDIATE holds the write lock already
)


def _locked_head(session: Session) -> tuple[int, str]:
    row = session.execute(_HEAD).first()
    if row is None:
        dialect_insert = (
            postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        )
        session.execute(
            dialect_insert(AccessHead)
            .values(id=HEAD_ID, seq=0, last_hash=rules.GENESIS_HASH)
            .on_conflict_do_nothing(index_elements=[AccessHead.id])
        )
        row = session.execute(_HEAD).one()
    return row.seq, row.last_hash


def head(session: Session) -> tuple[int, str]:
    """The chain's head as it stands (seq 0 and the genesis hash when empty)."""
    row = session.execute(
        select(AccessHead.seq, AccessHead.last_hash).where(AccessHead.id == HEAD_ID)
    ).first()
    return (0, rules.GENESIS_HASH) if row is None else (row.seq, row.last_hash)


def document(entry: AccessEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": rules.action_time(entry.at),
        "viewer_id": entry.viewer_id,
        "viewer_role": entry.viewer_role,
        "subject_member_id": entry.subject_member_id,
        "household_id": entry.household_id,
        "what": entry.what,
        "prev_hash": entry.prev_hash,
    }


# --- verification --------------------------------------------------------------------------


@dataclass
class AccessReport:
    entries: int = 0
    problems: list[str] = field(default_factory=list)
    covered: bool = False  # the checkpoint signed the access head

    @property
    def intact(self) -> bool:
        return not self.problems


def _entries(session: Session) -> Iterator[AccessEntry]:
    result = session.execute(
        select(AccessEntry).order_by(AccessEntry.seq).execution_options(yield_per=_STREAM_ROWS)
    )
    yield from result.scalars()


def verify_access(session: Session, checkpoint: dict[str, Any] | None) -> AccessReport:
    """Walk the access chain in seq order (hash, link, contiguous seqs, head on the last
    entry) and hold it against the checkpoint's signed access head, when it has one."""
    report = AccessReport()
    claimed: tuple[int, str] | None = None
    if checkpoint is not None and checkpoint.get("access_seq") is not None:
        claimed = (int(checkpoint["access_seq"]), str(checkpoint.get("access_hash")))
        report.covered = True
    prev_hash, seq, broken = rules.GENESIS_HASH, 0, False
    held: str | None = None
    for entry in _entries(session):
        report.entries += 1
        doc = document(entry)
        if not broken:
            where = f"access log seq {entry.seq}"
            if entry.seq != seq + 1:
                report.problems.append(f"{where}: seq jumps from {seq} (entries deleted)")
                broken = True
            elif entry_hash(doc) != entry.hash:
                report.problems.append(f"{where}: the hash does not match the entry (edited)")
                broken = True
            elif entry.prev_hash != prev_hash:
                report.problems.append(f"{where}: prev_hash does not match the previous entry")
                broken = True
        prev_hash, seq = entry.hash, entry.seq
        if claimed is not None and seq == claimed[0]:
            held = prev_hash
    stored = session.execute(select(AccessHead.seq, AccessHead.last_hash)).first()
    if not broken and stored is not None and (stored.seq, stored.last_hash) != (seq, prev_hash):
        report.problems.append(
            f"the access log ends at seq {seq} but its head says {stored.seq}: "
            "entries deleted or the head edited"
        )
    if claimed is not None and claimed[0] > 0:
        if held is None:
            report.problems.append(
                f"the checkpoint signed access log seq {claimed[0]}, which the log no longer "
                f"reaches (it ends at {seq})"
            )
        elif held != claimed[1]:
            report.problems.append(
                f"the access log entry at seq {claimed[0]} is not the one the checkpoint "
                "signed (the log was rewritten)"
            )
    return report
