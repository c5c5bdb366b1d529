"""The transactional outbox: events written in the same transaction as the change they report,
so that the notifier delivering them later (app.notify) can never lose one.

`routed_at` is when the notifier gave the event its deliveries, one per target (table
`outbox_deliveries`, which keeps each target's fate); `delivered_at` when none of them is left
to send. A session that emitted events wakes the notifier of its process once it commits.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, DateTime, Index, Integer, String, event, text
from sqlalchemy.orm import Mapped, Session, mapped_column, sessionmaker

from app.core.db import Base
from app.core.time import utcnow

BigId = BigInteger().with_variant(Integer(), "sqlite")

_EMITTED = "zhucun.outbox_emitted"


class OutboxEvent(Base):
    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    topic: Mapped[str] = mapped_column(String(64))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    routed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        Index(
            "ix_outbox_undelivered",
            "id",
            postgresql_where=text("delivered_at IS NULL"),
            sqlite_where=text("delivered_at IS NULL"),
        ),
        Index(
            "ix_outbox_unrouted",
            "id",
            postgresql_where=text("routed_at IS NULL"),
            sqlite_where=text("routed_at IS NULL"),
        ),
    )


def emit(session: Session, topic: str, payload: dict[str, Any]) -> OutboxEvent:
    """Queue an event in the caller's transaction (flushed with it, never committed here)."""
    event = OutboxEvent(topic=topic, payload=payload, created_at=utcnow(), delivered_at=None)
    session.add(event)
    session.info[_EMITTED] = True
    return event


def on_emitted_commit(
    factory: sessionmaker[Session], wake: Callable[[], None]
) -> Callable[[], None]:
    """Call `wake` after each commit, by a session of `factory`, that emitted events; returns
    the function that stops it. A commit that emitted nothing costs one dictionary look-up."""

    def committed(session: Session) -> None:
        if session.info.pop(_EMITTED, False):
            wake()

    def rolled_back(session: Session) -> None:
        session.info.pop(_EMITTED, None)

    event.listen(factory, "after_commit", committed)
    event.listen(factory, "after_rollback", rolled_back)

    def stop() -> None:
        event.remove(factory, "after_commit", committed)
        event.remove(factory, "after_rollback", rolled_back)

    return stop
