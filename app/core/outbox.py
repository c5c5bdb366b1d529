"""The transactional outbox: events written in the same transaction as the change they report,
so that a notifier delivering them later (and marking `delivered_at`) can never lose one."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from app.core.db import Base
from app.core.time import utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")


class OutboxEvent(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_outbox_undelivered",
            "id",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
    )


def emit(session: Session, topic: str, payload: dict[str, Any]) -> OutboxEvent:
    """Queue an event in the caller's transaction (flushed with it, never committed here)."""
    event = OutboxEvent(topic=topic, payload=payload, created_at=utcnow(), delivered_at=None)
    session.add(event)
    return event
