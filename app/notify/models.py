"""A delivery: one outbox event bound for one target, with its own fate, so that a target that
is down holds up no other, and sending it again to one target resends to no other."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base

BigId = BigInteger().with_variant(Integer(), "sqlite")

# pending: to send (again) from next_attempt_at; delivered: the target took it; dead: given up
# after ZHUCUN_NOTIFY_ATTEMPTS tries (`zhucun outbox retry --dead` sends it again); refused:
# the target said no for good (a member who refused the subscription), never retried.
STATUSES = ("pending", "delivered", "dead", "refused")
WECHAT_PREFIX = "wechat:"  # a subscription message's target: "wechat:<member id>"


class OutboxDelivery(Base):
    __tablename__ = "outbox_deliveries"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("outbox.id"))
    # A webhook's key (app.core.targets.Webhook.key) or "wechat:<member id>".
    target: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Which sender holds it (until next_attempt_at, its lease): only that one records its result.
    claim: Mapped[str | None] = mapped_column(String(32))
    last_error: Mapped[str | None] = mapped_column(String(500))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("event_id", "target"),
        CheckConstraint("status IN ('pending', 'delivered', 'dead', 'refused')", name="status"),
        Index(
            "ix_outbox_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status = 'pending'"),
            sqlite_where=text("status = 'pending'"),
        ),
    )
