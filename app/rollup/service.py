"""The national rollup (PostgreSQL): provinces publish their ledger days, tagged with the
province, and the national database subscribes to each (logical replication).

A province: `publish` names the province (rollup_origin), copies its ledger days into
`rollup_days` and makes the trigger on presence_days that keeps them from then on, in the
transaction that writes them (a database that never publishes has no trigger), and makes
the publication `zhucun_rollup` of that table only: no positions, no
names, no check-ins leave the province. The national database: `subscribe` makes one
subscription per province (its initial copy, then every change; a province offline keeps its
changes in its replication slot and sends them when it is back). The province is part of
every key, so rows of two provinces never collide (a duplicate would stop a subscription).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Connection, text

PUBLICATION = "zhucun_rollup"
_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")


class RollupRefused(Exception):
    pass


def publish(connection: Connection, province: str) -> int:
    """Make this database province `province`'s publisher. Returns the ledger days copied."""
    if connection.dialect.name != "postgresql":
        raise RollupRefused("the rollup needs PostgreSQL (logical replication)")
    if not re.fullmatch(r"\d{2,12}", province):
        raise RollupRefused(f"a province is a division code (digits), not {province!r}")
    current = connection.execute(text("SELECT province FROM rollup_origin")).scalar()
    if current is not None and current != province:
        raise RollupRefused(f"this database publishes province {current} already")
    # The lock keeps ledger writes out while the copy is made: none is missed or doubled.
    connection.execute(text("LOCK TABLE presence_days IN SHARE MODE"))
    if current is None:
        connection.execute(text("INSERT INTO rollup_origin VALUES (:p)"), {"p": province})
    copied = connection.execute(
        text(
            "INSERT INTO rollup_days (province, member_id, day, counted_checkins, present, "
            "leave_id) SELECT :p, member_id, day, counted_checkins, present, leave_id "
            "FROM presence_days ON CONFLICT (province, member_id, day) DO UPDATE SET "
            "counted_checkins = EXCLUDED.counted_checkins, present = EXCLUDED.present, "
            "leave_id = EXCLUDED.leave_id"
        ),
        {"p": province},
    ).rowcount
    tracked = connection.execute(
        text("SELECT 1 FROM pg_trigger WHERE tgname = 'presence_days_rollup'")
    ).first()
    if tracked is None:  # from now on, in the transaction of each ledger write
        connection.execute(
            text(
                "CREATE TRIGGER presence_days_rollup AFTER INSERT OR UPDATE OR DELETE ON "
                "presence_days FOR EACH ROW EXECUTE FUNCTION rollup_days_track()"
            )
        )
    exists = connection.execute(
        text("SELECT 1 FROM pg_publication WHERE pubname = :n"), {"n": PUBLICATION}
    ).first()
    if exists is None:
        connection.execute(text(f"CREATE PUBLICATION {PUBLICATION} FOR TABLE rollup_days"))
    return int(copied or 0)


def subscribe(connection: Connection, name: str, conninfo: str) -> None:
    """Subscribe this (national) database to a province's publication. Needs autocommit:
    CREATE SUBSCRIPTION makes a replication slot on the province."""
    if not _NAME.match(name):
        raise RollupRefused(f"a subscription name is lower-case letters, digits, _: {name!r}")
    connection.execute(
        text(
            f"CREATE SUBSCRIPTION {name} CONNECTION '{conninfo.replace(chr(39), '')}' "
            f"PUBLICATION {PUBLICATION}"
        )
    )


@dataclass(frozen=True)
class ProvinceDay:
    province: str
    members: int
    present: int

    @property
    def rate(self) -> float:
        return self.present / self.members if self.members else 0.0


def on_post(connection: Connection, day: date) -> list[ProvinceDay]:
    """Per province, the members with a ledger day on `day` and those present."""
    rows = connection.execute(
        text(
            "SELECT province, count(*), count(*) FILTER (WHERE present) FROM rollup_days "
            "WHERE day = :d GROUP BY province ORDER BY province"
        ),
        {"d": day},
    )
    return [ProvinceDay(p, int(n), int(k)) for p, n, k in rows]
