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

Compliance results (`rollup_compliance`, migration 0024): `refresh` judges every member of
the province over the current and the previous period of each configured quota rule, as
GET /compliance judges them, and writes a row per member and period (the counts, the status,
the violations counted by code, the day line; no positions), changing only rows that differ.
They are not kept by a trigger: a status moves with the calendar (on_track becomes at_risk,
then missed, with no write at all) and depends on leave, assignments, the holiday calendar and
the supervision records, not only on the ledger; `zhucun daily` runs `refresh` (and
`publish` runs it once). The national database reads both tables (`on_post`,
`compliance`; GET /rollup/on-post and /rollup/compliance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import Connection, text, true
from sqlalchemy.orm import Session

from app.compliance import periods as compliance_periods
from app.compliance import rules as compliance_rules
from app.core.policy import Policy

PUBLICATION = "zhucun_rollup"
PUBLISHED = ("rollup_days", "rollup_compliance")
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
        connection.execute(
            text(f"CREATE PUBLICATION {PUBLICATION} FOR TABLE {', '.join(PUBLISHED)}")
        )
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


def configured(connection: Connection) -> bool:
    """Whether this database holds the rollup's tables (PostgreSQL, migrated to 0024)."""
    if connection.dialect.name != "postgresql":
        return False
    found = connection.execute(
        text(
            "SELECT to_regclass('rollup_days') IS NOT NULL AND "
            "to_regclass('rollup_compliance') IS NOT NULL"
        )
    ).scalar()
    return bool(found)


def province_of(connection: Connection) -> str | None:
    """The province this database publishes, None when it publishes none."""
    if not configured(connection):
        return None
    found = connection.execute(text("SELECT province FROM rollup_origin")).scalar()
    return None if found is None else str(found)


# --- compliance results ---------------------------------------------------------------------


def periods_to_refresh(policy: Policy, today: date) -> list[compliance_rules.Period]:
    """The current and the previous period of each configured rule (a closed period still
    changes when a phone uploads late or leave is corrected)."""
    out = []
    for rule in policy.quota.rules:
        current = compliance_rules.period_of(rule.period, today)
        out += [compliance_rules.period_of(rule.period, current.start - timedelta(days=1)), current]
    return out


@dataclass(frozen=True)
class Refreshed:
    province: str
    periods: list[str]
    members: int  # member-periods judged
    written: int  # rows new or changed
    removed: int  # rows of members no longer assigned in the period

    def summary(self) -> str:
        return (
            f"province {self.province}: {self.members} member-period(s) of "
            f"{', '.join(self.periods)} judged, {self.written} written, {self.removed} removed"
        )


_BATCH = 5000
_UPSERT = text(
    "INSERT INTO rollup_compliance (province, member_id, period, period_start, period_end, "
    "required_days, present_days, credited_days, leave_days, absent_workdays, needed_days, "
    "status, compliant, violations, day_line, as_of) "
    "SELECT :province, r.member_id, :period, :start, :end, r.required_days, r.present_days, "
    "r.credited_days, r.leave_days, r.absent_workdays, r.needed_days, r.status, r.compliant, "
    "r.violations, r.day_line, :as_of "
    "FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(member_id integer, "
    "required_days integer, present_days integer, credited_days integer, leave_days integer, "
    "absent_workdays integer, needed_days integer, status text, compliant boolean, "
    "violations jsonb, day_line text) "
    "ON CONFLICT (province, member_id, period) DO UPDATE SET "
    "period_start = EXCLUDED.period_start, period_end = EXCLUDED.period_end, "
    "required_days = EXCLUDED.required_days, present_days = EXCLUDED.present_days, "
    "credited_days = EXCLUDED.credited_days, leave_days = EXCLUDED.leave_days, "
    "absent_workdays = EXCLUDED.absent_workdays, needed_days = EXCLUDED.needed_days, "
    "status = EXCLUDED.status, compliant = EXCLUDED.compliant, "
    "violations = EXCLUDED.violations, day_line = EXCLUDED.day_line, as_of = EXCLUDED.as_of "
    # Only rows that differ: an hourly refresh does not resend thirty thousand rows.
    "WHERE (rollup_compliance.period_start, rollup_compliance.period_end, "
    "rollup_compliance.required_days, rollup_compliance.present_days, "
    "rollup_compliance.credited_days, rollup_compliance.leave_days, "
    "rollup_compliance.absent_workdays, rollup_compliance.needed_days, "
    "rollup_compliance.status, rollup_compliance.compliant, rollup_compliance.violations, "
    "rollup_compliance.day_line, rollup_compliance.as_of) IS DISTINCT FROM "
    "(EXCLUDED.period_start, EXCLUDED.period_end, EXCLUDED.required_days, "
    "EXCLUDED.present_days, EXCLUDED.credited_days, EXCLUDED.leave_days, "
    "EXCLUDED.absent_workdays, EXCLUDED.needed_days, EXCLUDED.status, EXCLUDED.compliant, "
    "EXCLUDED.violations, EXCLUDED.day_line, EXCLUDED.as_of)"
)


def refresh(
    session: Session,
    policy: Policy,
    today: date,
    periods: Sequence[compliance_rules.Period] | None = None,
) -> Refreshed:
    """Judge every member assigned in each period (default: periods_to_refresh) and write the
    province's rollup_compliance rows for them; rows of members no longer assigned in a
    period are removed. Refused on a database that publishes no province."""
    connection = session.connection()
    province = province_of(connection)
    if province is None:
        raise RollupRefused("this database publishes no province (zhucun rollup publish)")
    wanted = list(periods) if periods is not None else periods_to_refresh(policy, today)
    judged = written = removed = 0
    for period in wanted:
        rule = policy.quota.rule_for(period.kind)
        if rule is None:
            raise RollupRefused(f"no quota rule judges {period.label}")
        found = compliance_periods.gather(session, policy, true(), period, today, counts_only=True)
        rows = []
        for facts in found.values():
            result = compliance_rules.evaluate(rule, period, facts.line, today)
            rows.append(
                {
                    "member_id": facts.member_id,
                    "required_days": result.required_days,
                    "present_days": result.present_days,
                    "credited_days": result.credited_days,
                    "leave_days": result.leave_days,
                    "absent_workdays": result.absent_workdays,
                    "needed_days": result.needed_days,
                    "status": result.status,
                    "compliant": result.status == "met",
                    "violations": dict(sorted(facts.counts().items())),
                    "day_line": facts.line,
                }
            )
        fixed = {
            "province": province,
            "period": period.label,
            "start": period.start,
            "end": period.end,
            "as_of": today,
        }
        for at in range(0, len(rows), _BATCH):
            batch = json.dumps(rows[at : at + _BATCH], ensure_ascii=False)
            written += connection.execute(_UPSERT, {**fixed, "rows": batch}).rowcount or 0
        removed += (
            connection.execute(
                text(
                    "DELETE FROM rollup_compliance WHERE province = :province AND "
                    "period = :period AND NOT (member_id = ANY(:members))"
                ),
                {"province": province, "period": period.label, "members": sorted(found)},
            ).rowcount
            or 0
        )
        judged += len(rows)
    return Refreshed(province, [p.label for p in wanted], judged, written, removed)


# --- national reads -------------------------------------------------------------------------


@dataclass(frozen=True)
class ProvinceDay:
    """A province's members on one day: assigned (by its compliance rows' day lines, or with a
    ledger day), present and on leave (by its ledger days, within seconds)."""

    province: str
    assigned: int
    present: int
    on_leave: int

    @property
    def rate(self) -> float | None:
        """On post among those not on leave (as GET /presence/on-post); None when nobody is
        expected."""
        expected = self.assigned - self.on_leave
        return None if expected <= 0 else self.present / expected


def on_post(connection: Connection, day: date, prefix: str = "") -> list[ProvinceDay]:
    """Per province whose code starts with `prefix`: the members assigned on `day` (a day line
    of a period holding it says so, or the member has a ledger day), present, on leave."""
    rows = connection.execute(
        text(
            "WITH days AS (SELECT province, member_id, present, "
            "NOT present AND leave_id IS NOT NULL AS on_leave FROM rollup_days "
            "WHERE day = :d AND starts_with(province, :p)), "
            "assigned AS (SELECT province, member_id FROM rollup_compliance "
            "WHERE period_start <= :d AND period_end >= :d AND starts_with(province, :p) "
            "AND substr(day_line, (CAST(:d AS date) - period_start) + 1, 1) <> 'U' "
            "UNION SELECT province, member_id FROM days) "
            "SELECT a.province, count(*), count(*) FILTER (WHERE d.present), "
            "count(*) FILTER (WHERE d.on_leave) FROM assigned a "
            "LEFT JOIN days d USING (province, member_id) "
            "GROUP BY a.province ORDER BY a.province"
        ),
        {"d": day, "p": prefix},
    )
    return [ProvinceDay(p, int(n), int(k), int(v)) for p, n, k, v in rows]


@dataclass
class ProvincePeriod:
    """A province's members judged over one period."""

    province: str
    members: int = 0
    compliant: int = 0
    summary: dict[str, int] = field(default_factory=dict)
    as_of: date | None = None  # the oldest judgement among them (a province offline: old)

    @property
    def rate(self) -> float | None:
        return None if self.members == 0 else self.compliant / self.members


def compliance(connection: Connection, period: str, prefix: str = "") -> list[ProvincePeriod]:
    """Per province whose code starts with `prefix`: members judged over `period` (a label,
    2026Q4), those compliant (the quota met), a count per status."""
    rows = connection.execute(
        text(
            "SELECT province, status, count(*), count(*) FILTER (WHERE compliant), min(as_of) "
            "FROM rollup_compliance WHERE period = :period AND starts_with(province, :p) "
            "GROUP BY province, status ORDER BY province, status"
        ),
        {"period": period, "p": prefix},
    )
    out: dict[str, ProvincePeriod] = {}
    for province, status, n, met, as_of in rows:
        row = out.setdefault(province, ProvincePeriod(province))
        row.members += int(n)
        row.compliant += int(met)
        row.summary[status] = int(n)
        row.as_of = as_of if row.as_of is None else min(row.as_of, as_of)
    return list(out.values())
