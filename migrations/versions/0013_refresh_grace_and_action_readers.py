"""Sealed successor pairs of rotated refresh tokens; the member (and day) each logged action is
about, so that auditors read the actions log within their scope

Revision ID: 0013
Revises: 0011
Create Date: 2026-12-14
"""

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_BATCH = 1000


def upgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("successor", sa.LargeBinary(), nullable=True))
    with op.batch_alter_table("audit_actions") as batch:
        batch.add_column(sa.Column("member_id", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("member_day", sa.Date(), nullable=True))
    _note_members(op.get_bind())


def downgrade() -> None:
    with op.batch_alter_table("audit_actions") as batch:
        batch.drop_column("member_day")
        batch.drop_column("member_id")
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("successor")


def _zone() -> ZoneInfo:
    from app.core.policy import get_policy  # the deployment's time zone (ZHUCUN_POLICY)

    return get_policy().zone


def _local_date(moment: datetime, zone: ZoneInfo) -> date:
    if moment.tzinfo is None:  # SQLite: UTC, stored without its offset
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(zone).date()


def _note_members(conn: sa.Connection) -> None:
    """What entries logged before this revision are about, as `app.audit.actions.About` notes
    it for new ones: a check-in's member and local date, a leave's member and first day, an
    assignment change's member and a member account's member on the entry's local date."""
    zone = _zone()
    last = 0
    while True:
        rows = conn.execute(
            sa.text(
                "SELECT seq, at, subject FROM audit_actions WHERE seq > :last ORDER BY seq LIMIT :n"
            ).columns(
                sa.column("seq", sa.BigInteger()),
                sa.column("at", sa.DateTime(timezone=True)),
                sa.column("subject", sa.String()),
            ),
            {"last": last, "n": _BATCH},
        ).all()
        if not rows:
            return
        last = rows[-1].seq
        wanted: dict[str, list[tuple[int, int, date]]] = defaultdict(list)
        for seq, at, subject in rows:
            kind, _, ident = subject.partition(":")
            if kind in ("checkin", "leave", "member", "user") and ident.isdigit():
                wanted[kind].append((seq, int(ident), _local_date(at, zone)))
        notes = _about(conn, wanted)
        if notes:
            conn.execute(
                sa.text(
                    "UPDATE audit_actions SET member_id = :m, member_day = :d WHERE seq = :s"
                ).bindparams(sa.bindparam("d", type_=sa.Date())),
                [{"s": seq, "m": member, "d": day} for seq, (member, day) in notes.items()],
            )


def _about(
    conn: sa.Connection, wanted: dict[str, list[tuple[int, int, date]]]
) -> dict[int, tuple[int, date]]:
    notes: dict[int, tuple[int, date]] = {}
    for seq, member_id, on in wanted.get("member", []):
        notes[seq] = (member_id, on)
    lookups = {
        "checkin": "SELECT id, member_id, local_date AS day FROM checkins WHERE id IN :ids",
        "leave": "SELECT id, member_id, start_date AS day FROM leave_requests WHERE id IN :ids",
        "user": "SELECT id, member_id, NULL AS day FROM users WHERE role = 'member' AND id IN :ids",
    }
    for kind, query in lookups.items():
        entries = wanted.get(kind, [])
        if not entries:
            continue
        statement = (
            sa.text(query)
            .bindparams(sa.bindparam("ids", expanding=True))
            .columns(
                sa.column("id", sa.BigInteger()),
                sa.column("member_id", sa.Integer()),
                sa.column("day", sa.Date()),
            )
        )
        found = {
            row[0]: (row[1], row[2])
            for row in conn.execute(statement, {"ids": sorted({i for _, i, _ in entries})})
        }
        for seq, ident, on in entries:
            member_id, day = found.get(ident, (None, None))
            if member_id is not None:
                notes[seq] = (member_id, day or on)
    return notes
