"""A member's chain head: the end of their hash chain of check-ins, and the lock that makes a
member's writes serial (a client_id is looked up and stored once; the chain cannot fork)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.checkins import hashing
from app.checkins.models import ChainHead
from app.geofence.cache import REVISION
from app.org.models import Member

heads = cast(Table, ChainHead.__table__)
_members = cast(Table, Member.__table__)


@dataclass(slots=True)
class Head:
    seq: int
    last_hash: str
    last_device_id: str | None


# The chain head and the member row, FOR NO KEY UPDATE (PostgreSQL; SQLite's BEGIN IMMEDIATE
# holds the write lock already): on the chain head it excludes every other writer of the
# member's check-ins; on the member row it is the ledger's lock (`app.ledger.refresh`). In the
# order named, as every path that takes both does. No row: the member has no chain yet.
# Columns: seq, last_hash, last_device_id, boundary revision.
LOCK_HEAD = (
    select(
        heads.c.seq,
        heads.c.last_hash,
        heads.c.last_device_id,
        # The geofence's boundary revision as of the lock (`app.geofence.cache`).
        REVISION.scalar_subquery(),
    )
    .where(heads.c.member_id == bindparam("m"), _members.c.id == heads.c.member_id)
    .with_for_update(of=[heads, _members], key_share=True)
)
ADVANCE = (
    update(heads)
    .where(heads.c.member_id == bindparam("h_member_id"))
    .values(
        seq=bindparam("h_seq"),
        last_hash=bindparam("h_hash"),
        last_device_id=bindparam("h_device"),
    )
)


@lru_cache(maxsize=4)
def new_head(dialect: str) -> Any:
    """Make the member's chain head (genesis) unless it exists. Parameter: m."""
    make = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        make(heads)
        .values(
            member_id=bindparam("m"), seq=0, last_hash=hashing.GENESIS_HASH, last_device_id=None
        )
        .on_conflict_do_nothing(index_elements=[heads.c.member_id])
    )


def lock_head(session: Session, member_id: int) -> Head:
    """Lock the member's chain head (making it on the first check-in) and read it."""
    row = session.execute(LOCK_HEAD, {"m": member_id}).first()
    if row is None:
        session.execute(new_head(session.get_bind().dialect.name), {"m": member_id})
        row = session.execute(LOCK_HEAD, {"m": member_id}).one()
    return Head(row[0], row[1], row[2])


def advance_params(member_id: int, head: Head) -> dict[str, Any]:
    """ADVANCE's parameters: the head moved to `head`."""
    return {
        "h_member_id": member_id,
        "h_seq": head.seq,
        "h_hash": head.last_hash,
        "h_device": head.last_device_id,
    }
