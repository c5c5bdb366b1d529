"""What an upload sends to the database: its first round trip (the uploader, the lock, what
was stored before and what new fixes are judged by) and its save (the rows, the chain head,
the ledger days). `storing` runs them on a session, `fast_path` on an async connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import String, any_, bindparam, insert, select, text
from sqlalchemy.dialects import postgresql, sqlite

from app.auth.service import PRINCIPAL_ROW, principal_params
from app.checkins.chain import ADVANCE, LOCK_HEAD, Head, advance_params
from app.checkins.findings import findings_table
from app.checkins.judging import Prepared
from app.checkins.models import checkin_keys
from app.checkins.reading import c, checkins
from app.checkins.surroundings import Span, Surroundings
from app.core.policy import Policy
from app.core.roundtrip import Answer, RoundTrip
from app.core.security import TokenClaims
from app.ledger.refresh import DayReads


@dataclass(slots=True)
class FirstTrip:
    """The answers of an upload's first round trip: the uploader's principal row (with a
    token), the locked chain head (seq, last hash, last device, boundary revision), the fixes
    stored before under these client_ids, and what the new ones are judged by."""

    who: Answer | None
    locked: Answer
    stored: Answer
    loading: Any | None  # surroundings._Loading
    days: DayReads | None

    @classmethod
    def queue(
        cls,
        trip: RoundTrip,
        policy: Policy,
        member_id: int,
        fixes: list[Prepared],
        span: Span | None,
        token: TokenClaims | None,
        *,
        devices: bool = True,
    ) -> FirstTrip:
        who = None
        if token is not None:
            who = trip.add(PRINCIPAL_ROW, principal_params(token.user_id, token.session_id))
        locked = trip.add(LOCK_HEAD, {"m": member_id})
        stored = trip.add(_stored_statement(trip.dialect_name), _stored_params(member_id, fixes))
        loading = (
            Surroundings.queue(trip, policy, member_id, span, devices=devices) if span else None
        )
        days = (
            DayReads.queue_additions(trip, member_id, span.first_day, span.last_day)
            if span
            else None
        )
        return cls(who, locked, stored, loading, days)


def queue_save(
    trip: RoundTrip,
    policy: Policy,
    member_id: int,
    head: Head,
    rows: list[dict[str, Any]],
    days: DayReads,
    shared: Sequence[dict[str, Any]] = (),
) -> Answer:
    """Queue the INSERT of the judged rows (answer: id, client_id), the chain head's move, the
    ledger days they change and the `shared_device` findings beside other members' fixes."""
    inserted = _queue_insert(trip, rows)
    if shared:
        _queue_findings(trip, shared)
    trip.add(ADVANCE, advance_params(member_id, head))
    counted = [(row["local_date"], row["captured_at"]) for row in rows if row["credited"]]
    days.queue_writes(trip, policy, member_id, {day for day, _ in counted}, counted)
    return inserted


k = checkin_keys.c


def _stored_statement(dialect: str) -> Any:
    return _STORED_ANY if dialect == "postgresql" else _STORED_IN


def _stored_params(member_id: int, fixes: list[Prepared]) -> dict[str, Any]:
    return {"m": member_id, "ids": sorted({p.client_id for p in fixes})}


# PostgreSQL: one array parameter, one prepared statement whatever the count, read from the
# idempotency keys (one index whatever the months of history; app.checkins.partitions);
# SQLite: IN (…) on the check-ins' unique key.
_STORED_ANY = select(k.checkin_id, k.client_id, k.body_hash).where(
    k.member_id == bindparam("m"),
    k.client_id == any_(bindparam("ids", type_=postgresql.ARRAY(String()))),
)
_STORED_IN = select(c.id, c.client_id, c.body_hash).where(
    c.member_id == bindparam("m"), c.client_id.in_(bindparam("ids", expanding=True))
)
_ROW_NAMES = [col.name for col in checkins.c if col is not c.id]
# PostgreSQL: the rows as one JSON document that the server unpacks into check-in rows - one
# parameter serialised by orjson, where 29 parameters per row (or 29 arrays) cost the driver
# more than the rest of the upload, a single fix included. Floats keep every digit (shortest
# round trip).
_INSERT_JSON = text(
    "INSERT INTO checkins ({names}) SELECT {names} FROM "
    "json_populate_recordset(NULL::checkins, CAST(:rows AS json)) RETURNING id, client_id".format(
        names=", ".join(_ROW_NAMES)
    )
)
# SQLite (in-process: no message to save): the rows as parameter sets, ids in input order.
_INSERT_MANY = insert(checkins).returning(c.id, c.client_id, sort_by_parameter_order=True)


_FINDING_NAMES = ("checkin_id", "code", "matched_date", "evidence", "found_at", "local_date")
# A fix already found (by another revealing fix, or a third member) keeps its first finding.
_INSERT_FINDINGS_JSON = text(
    "INSERT INTO checkin_findings ({names}) SELECT {names} FROM "
    "json_populate_recordset(NULL::checkin_findings, CAST(:rows AS json)) "
    "ON CONFLICT (checkin_id, code, local_date) DO NOTHING".format(names=", ".join(_FINDING_NAMES))
)
_INSERT_FINDINGS = sqlite.insert(findings_table).on_conflict_do_nothing(
    index_elements=["checkin_id", "code"]
)


def _queue_findings(trip: RoundTrip, shared: Sequence[dict[str, Any]]) -> None:
    if trip.dialect_name == "postgresql":
        trip.add(_INSERT_FINDINGS_JSON, {"rows": orjson.dumps(list(shared)).decode()})
    else:
        trip.add_many(_INSERT_FINDINGS, list(shared))


def _queue_insert(trip: RoundTrip, rows: list[dict[str, Any]]) -> Answer:
    if trip.dialect_name == "postgresql":
        document = orjson.dumps(rows)  # a judged row holds exactly the columns but the id
        return trip.add(_INSERT_JSON, {"rows": document.decode()})
    return trip.add_many(_INSERT_MANY, rows)
