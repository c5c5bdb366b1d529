"""Chain heads, signing keys, signed checkpoints and export receipts."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Date, DateTime, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class ChainHead(Base):
    """The end of a member's check-in chain. Locking this row serialises a member's writes,
    so concurrent uploads can neither fork the chain nor store one client_id twice."""

    __tablename__ = "checkin_chain_heads"

    member_id: Mapped[int] = mapped_column(ForeignKey("members.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))
    last_device_id: Mapped[str | None] = mapped_column(String(128))


BigId = BigInteger().with_variant(Integer(), "sqlite")


class ActionEntry(Base):
    """One privileged action (a review, a leave decision, an import, an account change): an
    append-only entry of the one global actions chain, written in the action's transaction."""

    __tablename__ = "audit_actions"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actor: Mapped[str] = mapped_column(String(64))  # user:<id>, or cli:<login>
    action: Mapped[str] = mapped_column(String(48))  # e.g. checkin.void, leave.approve
    subject: Mapped[str] = mapped_column(String(128), index=True)  # e.g. checkin:5, leave:7
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Who reads the entry (GET /audit/actions): the member it is about and the day whose
    # assignment decides, by the scope rule of the member's own records; None when it is about
    # no member (other accounts, imports). Outside the hash: what the subject names, noted
    # when the entry is written (`actions.About`), so that the log is filtered in SQL.
    member_id: Mapped[int | None] = mapped_column(Integer)
    member_day: Mapped[date | None] = mapped_column(Date)


class ActionsHead(Base):
    """The end of the actions chain (one row, id 1). Appending locks it before reading it, so
    parallel actions can never fork the chain. `baseline` holds, per witnessed table, the
    highest id that existed before the chain did (rows up to it have no entry)."""

    __tablename__ = "audit_actions_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(64))
    baseline: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class AccessEntry(Base):
    """One read of a member's raw positions (or of a household's full phone number) by someone
    other than the member: an append-only entry of the one global access chain, written in the
    reading request's transaction (`app.audit.access`)."""

    __tablename__ = "audit_access"

    # PostgreSQL: partitioned by month of `at` (app.checkins.partitions), so the primary key
    # there is (seq, at); seq stays unique as every append takes the lock on audit_access_head
    # and numbers its entries after the head's seq.
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    viewer_id: Mapped[int] = mapped_column(Integer)
    viewer_role: Mapped[str] = mapped_column(String(16))
    subject_member_id: Mapped[int | None] = mapped_column(Integer)
    household_id: Mapped[int | None] = mapped_column(Integer)
    what: Mapped[str] = mapped_column(String(48))  # e.g. checkins.list
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))
    # Outside the hash: the (local) day whose assignment decides which auditors read the entry.
    member_day: Mapped[date | None] = mapped_column(Date)

    __table_args__ = (
        Index("ix_audit_access_subject", "subject_member_id", "seq"),
        Index("ix_audit_access_viewer", "viewer_id", "seq"),
    )


class AccessHead(Base):
    """The end of the access chain (one row, id 1), locked before it is read by every append."""

    __tablename__ = "audit_access_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigId)
    last_hash: Mapped[str] = mapped_column(String(64))


class SigningKey(Base):
    """A public key that has signed something here; listed for verifiers, never deleted."""

    __tablename__ = "signing_keys"

    key_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    # base64 of the raw public key: 32 bytes (Ed25519), or 65 (SM2, uncompressed 04‖x‖y)
    public_key: Mapped[str] = mapped_column(String(200))
    alg: Mapped[str] = mapped_column(String(16), default="ed25519", server_default="ed25519")
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    retired_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Checkpoint(Base):
    """A signed tree head over every member's chain head (like Certificate Transparency's)."""

    __tablename__ = "audit_checkpoints"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    members: Mapped[int] = mapped_column(Integer)
    root: Mapped[str] = mapped_column(String(64))
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    signature: Mapped[str] = mapped_column(String(128))
    alg: Mapped[str] = mapped_column(String(16), default="ed25519", server_default="ed25519")
    # The actions chain's head when it was taken (signed with the rest); None on checkpoints
    # made before the actions chain existed, which do not cover it.
    actions_seq: Mapped[int | None] = mapped_column(BigId)
    actions_hash: Mapped[str | None] = mapped_column(String(64))
    # The access log's head likewise (`app.audit.access`); None before it existed.
    access_seq: Mapped[int | None] = mapped_column(BigId)
    access_hash: Mapped[str | None] = mapped_column(String(64))


class CheckpointHead(Base):
    """A leaf of a checkpoint: one member's chain head when it was taken."""

    __tablename__ = "audit_checkpoint_heads"

    checkpoint_id: Mapped[int] = mapped_column(ForeignKey("audit_checkpoints.id"), primary_key=True)
    member_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    last_hash: Mapped[str] = mapped_column(String(64))


class ExportReceipt(Base):
    """What was exported, when, with which digest, under which checkpoint; signed."""

    __tablename__ = "export_receipts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    query: Mapped[dict[str, Any]] = mapped_column(JSON)
    generated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    content_digest: Mapped[str] = mapped_column(String(100))
    checkpoint_id: Mapped[int | None] = mapped_column(ForeignKey("audit_checkpoints.id"))
    key_id: Mapped[str] = mapped_column(ForeignKey("signing_keys.key_id"))
    signature: Mapped[str] = mapped_column(String(128))
    alg: Mapped[str] = mapped_column(String(16), default="ed25519", server_default="ed25519")
