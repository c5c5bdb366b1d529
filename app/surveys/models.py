"""Tables of the surveys domain. A code is kept only as its keyed hash; an answer carries no
more about who gave it than a keyed hash of address and browser (`device`), which is replaced
by a wave-local number `policy.surveys.device_days` after the wave closes."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.core.db import Base


class Survey(Base):
    """A wave over a division prefix, open from `opens_at` to `closes_at`."""

    __tablename__ = "surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    scope: Mapped[str] = mapped_column(String(12), index=True)
    title: Mapped[str] = mapped_column(String(200))
    opens_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    closes_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # [{"id", "text", "kind"}] as JSON text: the wave's own copy, whatever the policy says later.
    questions: Mapped[str] = mapped_column(Text)
    codes_per_village: Mapped[int] = mapped_column(Integer)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    devices_purged_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SurveyCode(Base):
    """One card: the `seq`-th code of a village. The code itself is derived from the server's
    secret (so a sheet printed again shows the same codes) and stored only as a keyed hash."""

    __tablename__ = "survey_codes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    village_code: Mapped[str] = mapped_column(ForeignKey("villages.code"))
    seq: Mapped[int] = mapped_column(Integer)
    # Raised when a derived code collided with another wave's: the derivation's extra input.
    salt: Mapped[int] = mapped_column(SmallInteger, default=0)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    answered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

    __table_args__ = (
        UniqueConstraint("survey_id", "village_code", "seq"),
        # The waves a member's villages took part in (the annual evaluation).
        Index("ix_survey_codes_village", "village_code", "survey_id"),
    )


class SurveyAnswer(Base):
    """One answered card."""

    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"))
    code_id: Mapped[int] = mapped_column(ForeignKey("survey_codes.id"), unique=True)
    village_code: Mapped[str] = mapped_column(String(12))
    answered_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # The answers in the wave's question order, comma-separated: 1–5, or u (不清楚).
    vector: Mapped[str] = mapped_column(String(200))
    comment: Mapped[str] = mapped_column(Text, default="")
    # Keyed hash of address and user agent; after the purge, "#n" (a wave-local number).
    device: Mapped[str] = mapped_column(String(64))
    receipt: Mapped[str] = mapped_column(String(8))

    __table_args__ = (Index("ix_survey_answers_survey_village", "survey_id", "village_code"),)


class SurveyExclusion(Base):
    """An answer an auditor left out of the rates, with the reason (the actions log keeps who
    and when too)."""

    __tablename__ = "survey_exclusions"

    answer_id: Mapped[int] = mapped_column(ForeignKey("survey_answers.id"), primary_key=True)
    survey_id: Mapped[int] = mapped_column(ForeignKey("surveys.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    excluded_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    excluded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SurveyHit(Base):
    """A request of the public routes that counts towards an address's limit (an answer, or
    an unknown code), by keyed hash of the address; rows older than the window are deleted."""

    __tablename__ = "survey_hits"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    address: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)

    __table_args__ = (Index("ix_survey_hits_address_at", "address", "at"),)
