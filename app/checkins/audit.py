"""Verifying the check-in hash chains: were rows edited, deleted or reordered behind the
service's back?"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.audit.verify import checkpoint_problems
from app.checkins import hashing
from app.checkins.chain import heads
from app.checkins.reading import c, checkins

_STREAM_ROWS = 5000


@dataclass(frozen=True)
class BrokenLink:
    member_id: int | None  # None: the checkpoint itself
    seq: int | None
    checkin_id: int | None
    problem: str

    def __str__(self) -> str:
        where = "checkpoint" if self.member_id is None else f"member {self.member_id}"
        if self.seq is not None:
            where += f", seq {self.seq}"
        if self.checkin_id is not None:
            where += f", check-in {self.checkin_id}"
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class CheckpointClaim:
    """A signed checkpoint with its leaves, as GET /audit/checkpoints/latest answers it."""

    document: dict[str, Any]
    heads: list[tuple[int, int, str]]

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CheckpointClaim:
        heads = [(int(h["member_id"]), int(h["seq"]), str(h["last_hash"])) for h in data["heads"]]
        document = {k: data[k] for k in ("id", "created_at", "members", "root", "key_id")}
        # The actions chain's head, on checkpoints made since it exists (app.audit.actions).
        document |= {k: data.get(k) for k in ("actions_seq", "actions_hash")}
        # Its algorithm (ed25519 on checkpoints older than the 国密 option).
        document["alg"] = data.get("alg", "ed25519")
        return cls({**document, "signature": data["signature"]}, heads)


@dataclass
class AuditReport:
    chains: int = 0
    checkins: int = 0
    broken: list[BrokenLink] = field(default_factory=list)  # the first broken link per chain
    checkpoint_id: int | None = None

    @property
    def intact(self) -> bool:
        return not self.broken


def verify_chains(
    session: Session, claim: CheckpointClaim | None = None, *, use_latest: bool = True
) -> AuditReport:
    """Walk every member's chain in seq order: each row's hash must match its content, link to
    the previous row's hash, follow it by one; the chain head must name the last row. With a
    signed checkpoint (`claim`, or the latest stored one when `use_latest`), each chain must
    still hold the head the checkpoint signed: a truncated or rewritten chain contradicts it."""
    if session.get_bind().dialect.name == "postgresql" and not session.in_transaction():
        # One snapshot for the heads and the rows, even while check-ins keep arriving.
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    report = AuditReport()
    if claim is None and use_latest and audit_service.latest_checkpoint_id(session) is not None:
        latest = audit_service.latest_checkpoint(session)
        claim = CheckpointClaim(latest.document, latest.heads)
    signed: dict[int, tuple[int, str]] = {}
    if claim is not None:
        report.checkpoint_id = claim.document["id"]
        keys = audit_service.public_key_map(session)
        for problem in checkpoint_problems(claim.document, claim.heads, keys):
            report.broken.append(BrokenLink(None, None, None, problem))
        signed = {m: (s, h) for m, s, h in claim.heads}
    head_rows = session.execute(select(heads.c.member_id, heads.c.seq, heads.c.last_hash)).all()
    expected_heads = {r.member_id: (r.seq, r.last_hash) for r in head_rows}
    seen: set[int] = set()
    for member_id, rows in _chains(session):
        seen.add(member_id)
        report.chains += 1
        broken = None
        prev_hash, seq = hashing.GENESIS_HASH, 0
        claimed = signed.pop(member_id, None)
        held = None
        for row in rows:
            report.checkins += 1
            if broken is None:
                broken = _check_link(member_id, row, seq, prev_hash)
            prev_hash, seq = row["row_hash"], row["seq"]
            if claimed is not None and seq == claimed[0]:
                held = prev_hash
        if broken is None:
            broken = _check_head(member_id, expected_heads.get(member_id), seq, prev_hash)
        if broken is None and claimed is not None:
            broken = _check_extends(member_id, claimed, held, report.checkpoint_id)
        if broken is not None:
            report.broken.append(broken)
    for member_id, (claimed_seq, _) in sorted(signed.items()):
        report.broken.append(
            BrokenLink(
                member_id,
                claimed_seq,
                None,
                f"checkpoint {report.checkpoint_id} signed seq {claimed_seq} "
                "but the chain has no check-ins",
            )
        )
    for member_id, (head_seq, _) in sorted(expected_heads.items()):
        if member_id not in seen and head_seq != 0:
            report.chains += 1
            report.broken.append(
                BrokenLink(
                    member_id, None, None, f"chain head says seq {head_seq} but no check-ins exist"
                )
            )
    return report


def _chains(session: Session) -> Iterator[tuple[int, Iterator[dict[str, Any]]]]:
    """(member_id, that member's rows in seq order), streamed."""
    result = session.execute(
        select(checkins)
        .order_by(c.member_id, c.seq, c.id)
        .execution_options(yield_per=_STREAM_ROWS)
    )
    current: int | None = None
    batch: list[dict[str, Any]] = []
    for row in result.mappings():
        if row["member_id"] != current:
            if current is not None:
                yield current, iter(batch)
            current, batch = row["member_id"], []
        batch.append(dict(row))
    if current is not None:
        yield current, iter(batch)


def _check_link(
    member_id: int, row: dict[str, Any], prev_seq: int, prev_hash: str
) -> BrokenLink | None:
    seq, checkin_id = row["seq"], row["id"]

    def broken(problem: str) -> BrokenLink:
        return BrokenLink(member_id, seq, checkin_id, problem)

    if seq != prev_seq + 1:
        if seq == prev_seq:
            return broken(f"seq {seq} appears twice (rows reordered or duplicated)")
        return broken(f"seq jumps from {prev_seq} to {seq}: check-in(s) deleted or rows reordered")
    if hashing.row_hash(row) != row["row_hash"]:
        return broken("row hash does not match the row's content (row edited or reordered)")
    if row["prev_hash"] != prev_hash:
        return broken("prev_hash does not match the previous row's hash (a row was changed)")
    return None


def _check_head(
    member_id: int, head: tuple[int, str] | None, last_seq: int, last_hash: str
) -> BrokenLink | None:
    if head is None:
        return BrokenLink(member_id, last_seq, None, "the member's chain head is missing")
    head_seq, head_hash = head
    if head_seq != last_seq:
        return BrokenLink(
            member_id,
            last_seq,
            None,
            f"chain ends at seq {last_seq} but its head says {head_seq}: "
            "the last check-in(s) were deleted",
        )
    if head_hash != last_hash:
        return BrokenLink(
            member_id, last_seq, None, "the chain head's hash does not match the last row"
        )
    return None


def _check_extends(
    member_id: int, claimed: tuple[int, str], held: str | None, checkpoint_id: int | None
) -> BrokenLink | None:
    seq, last_hash = claimed
    if held is None:
        return BrokenLink(
            member_id,
            seq,
            None,
            f"checkpoint {checkpoint_id} signed seq {seq}, which the chain no longer reaches "
            "(check-ins deleted after the checkpoint)",
        )
    if held != last_hash:
        return BrokenLink(
            member_id,
            seq,
            None,
            f"the hash at seq {seq} is not the one checkpoint {checkpoint_id} signed "
            "(the chain was rewritten)",
        )
    return None
