"""Verifying the actions log: is the chain whole, does it still reach the head a signed
checkpoint holds, and does every witnessed row (a review, a leave transition) have its entry and
every entry its row? (The checkpoint's own signature is checked with the check-in chains.)"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import actions, rules
from app.audit import service as audit_service
from app.audit.models import ActionEntry, ActionsHead
from app.audit.witnesses import WITNESSED, Witnessed, leave_statuses

_STREAM_ROWS = 5000


@dataclass
class ActionsReport:
    entries: int = 0
    problems: list[str] = field(default_factory=list)
    checkpoint_id: int | None = None
    covered: bool = False  # the checkpoint signed the actions head

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_actions(
    session: Session, checkpoint: dict[str, Any] | None = None, *, use_latest: bool = True
) -> ActionsReport:
    """Walk the actions chain in seq order (each entry's hash must match its content and link
    to the one before, seqs contiguous, the head on the last entry); hold it against the
    checkpoint (`checkpoint`, a checkpoint document, or the latest stored when `use_latest`);
    then match the witnessed rows with their entries."""
    report = ActionsReport()
    if checkpoint is None and use_latest and audit_service.latest_checkpoint_id(session):
        checkpoint = audit_service.latest_checkpoint(session).document
    claimed: tuple[int, str] | None = None
    if checkpoint is not None:
        report.checkpoint_id = checkpoint.get("id")
        if checkpoint.get("actions_seq") is not None:
            claimed = (int(checkpoint["actions_seq"]), str(checkpoint.get("actions_hash")))
            report.covered = True

    witnessed: dict[str, dict[str, list[tuple[int, str, tuple[Any, ...]]]]] = {
        w.table: defaultdict(list) for w in WITNESSED
    }
    by_action = {a: w for w in WITNESSED for a in w.actions}
    last_leave_status: dict[int, tuple[int, str]] = {}
    baseline: dict[str, int] = {}
    prev_hash, seq, broken = rules.GENESIS_HASH, 0, False
    held_at_claim: str | None = None
    result = session.execute(
        select(ActionEntry).order_by(ActionEntry.seq).execution_options(yield_per=_STREAM_ROWS)
    )
    for entry in result.scalars():
        report.entries += 1
        doc = _document(entry)
        if not broken:
            problem = _check_link(doc, entry.hash, seq, prev_hash)
            if problem is not None:
                report.problems.append(problem)
                broken = True  # one break explains the rest of the chain
        prev_hash, seq = entry.hash, entry.seq
        if claimed is not None and seq == claimed[0]:
            held_at_claim = prev_hash
        if seq == 1 and entry.action == actions.BEGIN:
            baseline = {k: int(v) for k, v in (entry.payload.get("baseline") or {}).items()}
        witness = by_action.get(entry.action)
        if witness is not None:
            witnessed[witness.table][entry.subject].append(
                (entry.seq, entry.action, witness.entry_key(doc))
            )
            if entry.subject.startswith("leave:") and "to" in entry.payload:
                last_leave_status[_subject_id(entry.subject)] = (entry.seq, entry.payload["to"])

    if not broken:
        problem = _check_head(session, seq, prev_hash)
        if problem is not None:
            report.problems.append(problem)
    if claimed is not None:
        problem = _check_extends(claimed, seq, held_at_claim, report.checkpoint_id)
        if problem is not None:
            report.problems.append(problem)
    for witness in WITNESSED:
        report.problems += _witness_problems(
            session, witness, baseline.get(witness.table, 0), witnessed[witness.table]
        )
    report.problems += _leave_status_problems(session, last_leave_status)
    return report


def _document(entry: ActionEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "at": rules.action_time(entry.at),
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "payload": entry.payload,
        "prev_hash": entry.prev_hash,
    }


def _subject_id(subject: str) -> int:
    try:
        return int(subject.partition(":")[2])
    except ValueError:
        return -1


def _check_link(doc: dict[str, Any], stored_hash: str, prev_seq: int, prev_hash: str) -> str | None:
    seq = doc["seq"]
    where = f"actions seq {seq}"
    if seq != prev_seq + 1:
        return f"{where}: seq jumps from {prev_seq} to {seq} (entries deleted)"
    if rules.action_hash(doc) != stored_hash:
        return f"{where}: the hash does not match the entry's content (the entry was edited)"
    if doc["prev_hash"] != prev_hash:
        return f"{where}: prev_hash does not match the previous entry's hash (an entry was changed)"
    return None


def _check_head(session: Session, last_seq: int, last_hash: str) -> str | None:
    head = session.execute(select(ActionsHead.seq, ActionsHead.last_hash)).first()
    if head is None:
        return None if last_seq == 0 else "the actions log's head row is missing"
    if head.seq != last_seq:
        return (
            f"the actions log ends at seq {last_seq} but its head says {head.seq}: "
            "the last entries were deleted"
        )
    if head.last_hash != last_hash:
        return "the actions log's head hash does not match its last entry"
    return None


def _check_extends(
    claimed: tuple[int, str], last_seq: int, held: str | None, checkpoint_id: int | None
) -> str | None:
    seq, signed_hash = claimed
    if seq == 0:
        return None
    if last_seq < seq or held is None:
        return (
            f"checkpoint {checkpoint_id} signed actions seq {seq}, which the log no longer "
            f"reaches (it ends at {last_seq}: entries deleted after the checkpoint)"
        )
    if held != signed_hash:
        return (
            f"the actions entry at seq {seq} is not the one checkpoint {checkpoint_id} signed "
            "(the log was rewritten)"
        )
    return None


def _witness_problems(
    session: Session,
    witness: Witnessed,
    after_id: int,
    entries: dict[str, list[tuple[int, str, tuple[Any, ...]]]],
) -> list[str]:
    rows: dict[str, list[tuple[int, tuple[Any, ...]]]] = defaultdict(list)
    for subject, row_id, key in witness.rows(session, after_id):
        rows[subject].append((row_id, key))
    problems = []
    for subject in sorted(set(rows) | set(entries), key=lambda s: (len(s), s)):
        stored, logged = rows.get(subject, []), entries.get(subject, [])
        where = subject.replace(":", " ", 1)
        for (row_id, row_key), (seq, _, entry_key) in zip(stored, logged, strict=False):
            if row_key != entry_key:
                problems.append(
                    f"{where}: {witness.noun} {row_id} differs from actions seq {seq} "
                    "(the row was edited)"
                )
                break
        else:
            for row_id, _ in stored[len(logged) :]:
                problems.append(
                    f"{where}: {witness.noun} {row_id} has no entry in the actions log "
                    "(written behind the service's back)"
                )
            for seq, action, _ in logged[len(stored) :]:
                problems.append(
                    f"{where}: actions seq {seq} logs {action} but its {witness.noun} row is "
                    "missing (deleted)"
                )
    return problems


def _leave_status_problems(session: Session, last: dict[int, tuple[int, str]]) -> list[str]:
    stored = leave_statuses(session, last)
    problems = []
    for leave_id, (seq, status) in sorted(last.items()):
        if leave_id not in stored:
            problems.append(f"leave {leave_id}: logged (actions seq {seq}) but the request is gone")
        elif stored[leave_id] != status:
            problems.append(
                f"leave {leave_id}: status {stored[leave_id]!r}, but its last logged transition "
                f"(actions seq {seq}) left it {status!r} (the request was edited)"
            )
    return problems
