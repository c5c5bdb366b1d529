"""Signing keys, checkpoints and receipts in the database. Takes a session, flushes, never
commits."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit import actions, rules
from app.audit.errors import NoCheckpoint, ReceiptNotFound
from app.audit.keys import SigningKey as Key
from app.audit.models import ChainHead, Checkpoint, CheckpointHead, ExportReceipt, SigningKey
from app.core.time import utcnow


def now_seconds() -> datetime:
    """The time a signed document carries: UTC, whole seconds (it round-trips every backend)."""
    return utcnow().replace(microsecond=0)


def rfc3339(moment: datetime) -> str:
    """The one text form of a signed time."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


def register_key(session: Session, key: Key) -> None:
    """List the key this process signs with; a new key retires the keys listed before it.

    An atomic insert-if-absent: processes that start signing with a new key at once list it
    once, and only the one that listed it retires the others."""
    if session.get(SigningKey, key.key_id) is not None:
        return
    now = utcnow()
    dialect_insert = (
        postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    )
    listed = session.execute(
        dialect_insert(SigningKey)
        .values(
            key_id=key.key_id,
            public_key=key.public_b64,
            alg=key.alg,
            created_at=now,
            retired_at=None,
        )
        .on_conflict_do_nothing(index_elements=[SigningKey.key_id])
        .returning(SigningKey.key_id)
    ).scalar_one_or_none()
    if listed is not None:
        session.execute(
            update(SigningKey)
            .where(SigningKey.retired_at.is_(None), SigningKey.key_id != key.key_id)
            .values(retired_at=now)
        )
    session.flush()


def public_keys(session: Session) -> list[SigningKey]:
    return list(session.scalars(select(SigningKey).order_by(SigningKey.created_at)))


def public_key_map(session: Session) -> dict[str, bytes]:
    return {k.key_id: base64.b64decode(k.public_key) for k in public_keys(session)}


# --- checkpoints ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SignedCheckpoint:
    document: dict[str, Any]  # id, created_at, members, root, key_id, signature, actions_…
    heads: list[tuple[int, int, str]]


def make_checkpoint(session: Session, key: Key) -> SignedCheckpoint:
    """Sign the Merkle root of every member's chain head as it stands (one statement, so one
    snapshot on either backend), and the actions chain's head."""
    register_key(session, key)
    actions_seq, actions_hash = actions.head(session)
    heads = [
        (m, s, h)
        for m, s, h in session.execute(
            select(ChainHead.member_id, ChainHead.seq, ChainHead.last_hash)
            .where(ChainHead.seq > 0)
            .order_by(ChainHead.member_id)
        )
    ]
    checkpoint = Checkpoint(
        created_at=now_seconds(),
        members=len(heads),
        root=rules.heads_root(heads),
        key_id=key.key_id,
        signature="",
        alg=key.alg,
        actions_seq=actions_seq,
        actions_hash=actions_hash,
    )
    session.add(checkpoint)
    session.flush()
    document = checkpoint_document(checkpoint)
    signed = rules.checkpoint_signed_fields(document)
    checkpoint.signature = key.sign(rules.signed_payload(document, signed))
    document["signature"] = checkpoint.signature
    if heads:
        session.execute(
            insert(CheckpointHead),
            [
                {"checkpoint_id": checkpoint.id, "member_id": m, "seq": s, "last_hash": h}
                for m, s, h in heads
            ],
        )
    session.flush()
    return SignedCheckpoint(document, heads)


def checkpoint_document(checkpoint: Checkpoint) -> dict[str, Any]:
    return {
        "id": checkpoint.id,
        "created_at": rfc3339(checkpoint.created_at),
        "members": checkpoint.members,
        "root": checkpoint.root,
        "key_id": checkpoint.key_id,
        "signature": checkpoint.signature,
        "actions_seq": checkpoint.actions_seq,
        "actions_hash": checkpoint.actions_hash,
        "alg": checkpoint.alg,
    }


def latest_checkpoint_id(session: Session) -> int | None:
    return session.scalar(select(func.max(Checkpoint.id)))


def latest_checkpoint(session: Session) -> SignedCheckpoint:
    checkpoint_id = latest_checkpoint_id(session)
    if checkpoint_id is None:
        raise NoCheckpoint()
    return load_checkpoint(session, checkpoint_id)


def load_checkpoint(session: Session, checkpoint_id: int) -> SignedCheckpoint:
    checkpoint = session.get(Checkpoint, checkpoint_id)
    if checkpoint is None:
        raise NoCheckpoint()
    heads = [
        (m, s, h)
        for m, s, h in session.execute(
            select(CheckpointHead.member_id, CheckpointHead.seq, CheckpointHead.last_hash)
            .where(CheckpointHead.checkpoint_id == checkpoint_id)
            .order_by(CheckpointHead.member_id)
        )
    ]
    return SignedCheckpoint(checkpoint_document(checkpoint), heads)


# --- receipts ------------------------------------------------------------------------------


def sign_receipt(
    session: Session,
    key: Key,
    *,
    receipt_id: str,
    query: dict[str, Any],
    generated_at: datetime,
    content_digest: str,
) -> dict[str, Any]:
    """Store and return the signed receipt of an export (the API's receipt document)."""
    register_key(session, key)
    document: dict[str, Any] = {
        "id": receipt_id,
        "query": query,
        "generated_at": rfc3339(generated_at),
        "content_digest": content_digest,
        "checkpoint_id": latest_checkpoint_id(session),
        "key_id": key.key_id,
    }
    document["signature"] = key.sign(rules.signed_payload(document, rules.RECEIPT_SIGNED))
    document["alg"] = key.alg
    session.add(
        ExportReceipt(
            id=receipt_id,
            query=query,
            generated_at=generated_at,
            content_digest=content_digest,
            checkpoint_id=document["checkpoint_id"],
            key_id=key.key_id,
            signature=document["signature"],
            alg=key.alg,
        )
    )
    session.flush()
    return document


def get_receipt(session: Session, receipt_id: str) -> dict[str, Any]:
    receipt = session.get(ExportReceipt, receipt_id)
    if receipt is None:
        raise ReceiptNotFound(receipt_id=receipt_id)
    return {
        "id": receipt.id,
        "query": receipt.query,
        "generated_at": rfc3339(receipt.generated_at),
        "content_digest": receipt.content_digest,
        "checkpoint_id": receipt.checkpoint_id,
        "key_id": receipt.key_id,
        "signature": receipt.signature,
        "alg": receipt.alg,
    }
