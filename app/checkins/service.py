"""Storing check-ins (one, or a batch), listing them, and reviewing them.

Every write of a member's check-ins first locks the member's chain head, so a member's writes
are serial: a client_id is looked up and stored once, and the hash chain cannot fork. The hot
path is a fixed handful of statements; SQL is Core, not ORM, where rows are many or hot.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal, cast

import orjson
from pydantic import ValidationError
from sqlalchemy import (
    Boolean,
    ColumnElement,
    Date,
    Float,
    Result,
    Row,
    Select,
    String,
    Table,
    and_,
    any_,
    bindparam,
    false,
    func,
    insert,
    or_,
    select,
    text,
    true,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.principal import Principal
from app.checkins import findings as findings_service
from app.checkins import rules
from app.checkins.errors import CheckInNotFound, IdempotencyConflict, InvalidTransition
from app.checkins.models import ChainHead, CheckIn, CheckInReview
from app.checkins.reasons import flag_reasons
from app.checkins.schemas import CheckInCreate, CheckInOut, ReviewOut
from app.core.errors import AppError, ValidationFailed, pydantic_errors
from app.core.i18n import current_language
from app.core.policy import Policy
from app.core.time import as_utc
from app.geo.coords import to_wgs84
from app.geofence.cache import village_index, village_index_at
from app.geofence.index import VillageIndex
from app.ledger import service as ledger_service
from app.org.access_points import registered_bssids
from app.org.models import Assignment, BoundaryRevision, Member, VillageBoundary
from app.org.service import assignments_between, member_visibility

checkins = cast(Table, CheckIn.__table__)
heads = cast(Table, ChainHead.__table__)
reviews_table = cast(Table, CheckInReview.__table__)
c = checkins.c

Status = Literal["created", "duplicate", "rejected"]


@dataclass(slots=True)
class Outcome:
    """What became of one item of a batch."""

    client_id: str | None
    status: Status
    checkin: CheckInOut | None = None
    error: AppError | None = None


@dataclass(slots=True)
class _Prepared:
    body: CheckInCreate
    client_id: str
    captured_at: datetime  # UTC
    local_date: date
    longitude: float  # WGS84
    latitude: float
    body_hash: str


@dataclass(slots=True)
class _Head:
    seq: int
    last_hash: str
    last_device_id: str | None


def _prepare(body: CheckInCreate, policy: Policy) -> _Prepared:
    lon, lat = to_wgs84(body.longitude, body.latitude, body.coord_system)
    return _Prepared(
        body=body,
        client_id=str(body.client_id),
        captured_at=body.captured_at,
        local_date=body.captured_at.astimezone(policy.zone).date(),
        longitude=lon,
        latitude=lat,
        body_hash=rules.body_hash(body),
    )


# ---------------------------------------------------------------------------------- one fix


def record(
    session: Session, policy: Policy, member_id: int, body: CheckInCreate, received_at: datetime
) -> tuple[CheckInOut, bool]:
    """Store one fix of the member (or find it stored already). Returns (check-in, created).

    Raises IdempotencyConflict for a known client_id with another body, TooOld or InFuture.
    """
    p = _prepare(body, policy)
    head, ctx = _lock_head_with_context(session, member_id, p, policy)
    if ctx.existing_id is not None:
        return _replay(session, ctx.existing_id, p), False
    rules.check_window(p.captured_at, received_at, policy.flags)
    index = village_index_at(session, ctx.boundary_revision or 0)
    registered = _registered_wifi(session, body, ctx.assigned)
    previous = _fix(ctx.prev_at, ctx.prev_lat, ctx.prev_lon, ctx.prev_acc)
    following = _fix(ctx.next_at, ctx.next_lat, ctx.next_lon, ctx.next_acc)
    row = _judge(
        p, member_id, received_at, head, index, policy,
        assigned=ctx.assigned, boundary_id=ctx.boundary_id,
        previous=previous, following=following, replayed_day=ctx.replayed_day,
        registered_wifi=registered,
    )  # fmt: skip
    if ctx.member_locked:
        # PostgreSQL, the member's ledger lock held: the same statement refreshes the day.
        new_id = _insert_and_advance(session, member_id, row, head, policy)
    else:
        new_id = _insert_and_advance(session, member_id, row, head)
        ledger_service.refresh_days(session, policy, member_id, [p.local_date])
    return _out(row, new_id, []), True


def _lock_head_with_context(
    session: Session, member_id: int, p: _Prepared, policy: Policy
) -> tuple[_Head, Any]:
    """Lock the member's chain head and read what the fix is judged by, in one round trip.

    On PostgreSQL the same statement takes the ledger's lock on the member row (the one
    `ledger_service.refresh_days` takes, after the chain head as everywhere else), so the
    ledger refresh needs no statement of its own for it: it runs in the INSERT statement
    (`_INSERT_ADVANCE_AND_REFRESH`), whose snapshot holds every write that held the lock
    before. A member's first check-in makes the chain head, then takes the locks so.

    On PostgreSQL the subqueries see the statement's snapshot, taken before the lock was
    granted: if another upload of the member committed while this one waited, the snapshot
    misses it. Its last seq tells: when it is not the head's, read the context again (now
    under the lock). SQLite's BEGIN IMMEDIATE serialises writers before any read.
    """
    params = {
        "member_id": member_id,
        "client_id": p.client_id,
        "day": p.local_date,
        "at": p.captured_at,
        "lat": p.latitude,
        "lon": p.longitude,
    } | _replay_params(p, policy)
    conn = session.connection()  # Core: these run on every check-in
    if conn.dialect.name != "postgresql":
        head = _lock_head(session, member_id)
        return head, conn.execute(_CONTEXT, params).one()
    row = conn.execute(_LOCK_WITH_CONTEXT, params).first()
    if row is None:  # the member's first check-in: make the chain head, then lock it so
        conn.execute(_NEW_HEAD, {"member_id": member_id})
        row = conn.execute(_LOCK_WITH_CONTEXT, params).one()
    head = _Head(row.seq, row.last_hash, row.last_device_id)
    if (row.seen or 0) != head.seq:
        row = conn.execute(_LOCKED_CONTEXT, params).one()
    return head, row


def _insert_and_advance(
    session: Session,
    member_id: int,
    row: dict[str, Any],
    head: _Head,
    refresh_with: Policy | None = None,
) -> int:
    """INSERT the new link and move the chain head to it (one statement on PostgreSQL).

    With `refresh_with` (PostgreSQL, the member's ledger lock held), the statement also
    refreshes the fix's ledger day under that policy (`ledger_service.with_day_refresh`)."""
    moved = {
        "h_member_id": member_id,
        "h_seq": head.seq,
        "h_hash": head.last_hash,
        "h_device": head.last_device_id,
    }
    conn = session.connection()
    if conn.dialect.name == "postgresql":
        params = {f"n_{name}": value for name, value in row.items()} | moved
        if refresh_with is None:
            return int(conn.execute(_INSERT_AND_ADVANCE, params).scalar_one())
        params |= ledger_service.day_rule_params(refresh_with)
        return int(conn.execute(_INSERT_ADVANCE_AND_REFRESH, params).scalar_one())
    new_id = conn.execute(_INSERT, row).scalar_one()
    conn.execute(_ADVANCE, moved)
    return int(new_id)


def _replay_condition() -> Any:
    """`rules.replays` in SQL, for a stored fix `c` against the bound new one: within the
    position box, and every reported field equal within its tolerance."""
    lat, lon = bindparam("lat", type_=Float()), bindparam("lon", type_=Float())
    dlat, dlon = bindparam("r_dlat", type_=Float()), bindparam("r_dlon", type_=Float())

    def tolerance(name: str) -> Any:
        return bindparam(f"r_{name}_tol", type_=Float())

    def same(column: Any, name: str) -> Any:
        # Typed by a cast: PostgreSQL cannot infer the type of a bare NULL parameter.
        value = sql_cast(bindparam(f"r_{name}", type_=Float()), Float())
        return or_(
            and_(column.is_(None), value.is_(None)), func.abs(column - value) <= tolerance(name)
        )

    return and_(
        c.latitude.between(lat - dlat, lat + dlat),
        c.longitude.between(lon - dlon, lon + dlon),
        func.abs(c.accuracy_m - bindparam("r_acc", type_=Float())) <= tolerance("acc"),
        same(c.altitude_m, "alt"),
        same(c.speed_mps, "spd"),
        same(c.heading_deg, "hdg"),
    )


def _replay_params(p: _Prepared, policy: Policy) -> dict[str, Any]:
    rules_ = policy.flags
    body = p.body
    dlat, dlon = rules.replay_box(p.latitude, rules_.repeat_tolerance_m)
    return {
        "check_replay": rules.reading(body).has_motion_fields,
        "r_dlat": dlat,
        "r_dlon": dlon,
        "r_acc": body.accuracy_m,
        "r_acc_tol": rules_.repeat_accuracy_tolerance_m,
        "r_alt": body.altitude_m,
        "r_alt_tol": rules_.repeat_altitude_tolerance_m,
        "r_spd": body.speed_mps,
        "r_spd_tol": rules_.repeat_speed_tolerance_mps,
        "r_hdg": body.heading_deg,
        "r_hdg_tol": rules_.repeat_heading_tolerance_deg,
    }


def _context_query() -> Select[Any]:
    """Everything a new fix is judged by: a stored fix with its client_id, the assignment on
    its day and that village's boundary version, its neighbours in capture order, and whether
    its coordinates were used on another day. Built once; parameters bound per call."""
    mine = c.member_id == bindparam("member_id")
    day = bindparam("day", type_=Date())
    assigned = (
        select(Assignment.village_code)
        .where(
            Assignment.member_id == bindparam("member_id"),
            Assignment.start_date <= day,
            or_(Assignment.end_date.is_(None), Assignment.end_date >= day),
        )
        .limit(1)
        .scalar_subquery()
    )
    boundary_id = (
        select(VillageBoundary.id)
        .where(VillageBoundary.village_code == assigned, VillageBoundary.valid_to.is_(None))
        .limit(1)
        .scalar_subquery()
    )
    at = bindparam("at", type_=c.captured_at.type)

    def neighbour(column: Any, before: bool) -> Any:
        when = c.captured_at <= at if before else c.captured_at > at
        order = (c.captured_at.desc(), c.id.desc()) if before else (c.captured_at, c.id)
        return select(column).where(mine, when).order_by(*order).limit(1).scalar_subquery()

    return select(
        select(c.id)
        .where(mine, c.client_id == bindparam("client_id"))
        .scalar_subquery()
        .label("existing_id"),
        assigned.label("assigned"),
        boundary_id.label("boundary_id"),
        neighbour(c.captured_at, True).label("prev_at"),
        neighbour(c.latitude, True).label("prev_lat"),
        neighbour(c.longitude, True).label("prev_lon"),
        neighbour(c.accuracy_m, True).label("prev_acc"),
        neighbour(c.captured_at, False).label("next_at"),
        neighbour(c.latitude, False).label("next_lat"),
        neighbour(c.longitude, False).label("next_lon"),
        neighbour(c.accuracy_m, False).label("next_acc"),
        select(c.local_date)
        .where(bindparam("check_replay", type_=Boolean()), mine, c.local_date != day)
        .where(_replay_condition())
        .limit(1)
        .scalar_subquery()
        .label("replayed_day"),
        select(BoundaryRevision.revision)
        .where(BoundaryRevision.id == 1)
        .scalar_subquery()
        .label("boundary_revision"),
    )


members = cast(Table, Member.__table__)
# `member_locked`: whether the statement holds the ledger's lock on the member row.
_CONTEXT = _context_query().add_columns(false().label("member_locked"))
_LOCKED_CONTEXT = _context_query().add_columns(true().label("member_locked"))
# FOR NO KEY UPDATE of both rows: on the chain head it excludes every other writer of the
# member's check-ins (they lock it so too, or FOR UPDATE); on the member row it is the ledger's
# lock. Locked in the order named: the chain head first, as the review path does.
_LOCK_WITH_CONTEXT = (
    _context_query()
    .add_columns(
        heads.c.seq,
        heads.c.last_hash,
        heads.c.last_device_id,
        select(func.max(c.seq))
        .where(c.member_id == bindparam("member_id"))
        .scalar_subquery()
        .label("seen"),
        true().label("member_locked"),
    )
    .where(heads.c.member_id == bindparam("member_id"), members.c.id == heads.c.member_id)
    .with_for_update(of=[heads, members], key_share=True)
)
_NEW_HEAD = (
    postgresql.insert(heads)
    .values(
        member_id=bindparam("member_id"),
        seq=0,
        last_hash=rules.GENESIS_HASH,
        last_device_id=None,
    )
    .on_conflict_do_nothing(index_elements=[heads.c.member_id])
)
_INSERT = insert(checkins).returning(c.id)
_ADVANCE = (
    update(heads)
    .where(heads.c.member_id == bindparam("h_member_id"))
    .values(
        seq=bindparam("h_seq"),
        last_hash=bindparam("h_hash"),
        last_device_id=bindparam("h_device"),
    )
)
_NEW = (
    insert(checkins)
    .values(
        {col: bindparam(f"n_{col.name}", type_=col.type) for col in checkins.c if col is not c.id}
    )
    .returning(c.id)
    .cte("new_checkin")
)
_INSERT_AND_ADVANCE = _ADVANCE.add_cte(_NEW).returning(select(_NEW.c.id).scalar_subquery())
# The same and the ledger refresh of the new fix's day: one round trip fewer per check-in.
_INSERT_ADVANCE_AND_REFRESH = ledger_service.with_day_refresh(
    _INSERT_AND_ADVANCE,
    member=bindparam("n_member_id", type_=c.member_id.type),
    day=bindparam("n_local_date", type_=c.local_date.type),
    at=bindparam("n_captured_at", type_=c.captured_at.type),
    counted=bindparam("n_credited", type_=c.credited.type),
)


def _fix(
    at: datetime | None, lat: float | None, lon: float | None, accuracy_m: float | None
) -> rules.Fix | None:
    if at is None or lat is None or lon is None:
        return None
    return rules.Fix(as_utc(at), lat, lon, accuracy_m or 0.0)


def _registered_wifi(session: Session, body: CheckInCreate, assigned: str | None) -> set[str]:
    """The assigned village's registered access points, read only when the phone sent Wi-Fi."""
    if not body.wifi or assigned is None:
        return set()
    return registered_bssids(session, [assigned])[assigned]


def _replay(session: Session, checkin_id: int, p: _Prepared) -> CheckInOut:
    row = session.execute(select(checkins).where(c.id == checkin_id)).one()
    if row.body_hash != p.body_hash:
        raise IdempotencyConflict(client_id=p.client_id)
    later = findings_service.findings_for(session, [row.id]).get(row.id)
    return _out(row._mapping, row.id, _reviews(session, [row.id]).get(row.id, []), later)


def _judge(
    p: _Prepared,
    member_id: int,
    received_at: datetime,
    head: _Head,
    index: VillageIndex,
    policy: Policy,
    *,
    assigned: str | None,
    boundary_id: int | None,
    previous: rules.Fix | None,
    following: rules.Fix | None,
    replayed_day: date | None,
    registered_wifi: set[str],
) -> dict[str, Any]:
    """The row to store for a new fix: the judgement, the next chain link. Advances `head`."""
    body = p.body
    match = index.classify(assigned, p.longitude, p.latitude, policy.geofence.near_m)
    seen = [w.bssid for w in body.wifi] if body.wifi else None
    wifi_match = rules.wifi_match(seen, registered_wifi)
    findings = rules.judge_flags(
        rules.Evidence(
            body=body,
            received_at=received_at,
            fix=rules.Fix(p.captured_at, p.latitude, p.longitude, body.accuracy_m),
            previous=previous,
            following=following,
            replayed_day=replayed_day,
            last_device_id=head.last_device_id,
            assigned_village_code=assigned,
            village_code=match.village_code,
            geofence=match.geofence,
            wifi_match=wifi_match,
        ),
        policy,
    )
    row: dict[str, Any] = {
        "member_id": member_id,
        "client_id": p.client_id,
        "seq": head.seq + 1,
        "captured_at": p.captured_at,
        "received_at": received_at,
        "local_date": p.local_date,
        "latitude": p.latitude,
        "longitude": p.longitude,
        "raw_latitude": body.latitude,
        "raw_longitude": body.longitude,
        "coord_system": body.coord_system,
        "accuracy_m": body.accuracy_m,
        "altitude_m": body.altitude_m,
        "speed_mps": body.speed_mps,
        "heading_deg": body.heading_deg,
        "provider": body.provider,
        "is_mock": body.is_mock,
        "device_id": body.device_id,
        "roll_call_id": body.roll_call_id,
        "village_code": match.village_code,
        "assigned_village_code": assigned,
        "boundary_id": boundary_id if assigned is not None else None,
        "geofence": match.geofence,
        "distance_m": match.distance_m,
        "credited": assigned is not None
        and rules.is_credited(list(findings), match.geofence, body.accuracy_m, policy),
        "flags": ",".join(findings),
        "flag_evidence": findings or None,
        "wifi": seen,
        "wifi_match": wifi_match,
        "body_hash": p.body_hash,
        "prev_hash": head.last_hash,
    }
    row["row_hash"] = rules.row_hash(row)
    head.seq += 1
    head.last_hash = row["row_hash"]
    if body.device_id is not None:
        head.last_device_id = body.device_id
    return row


# ------------------------------------------------------------------------------ chain heads


def _lock_head(session: Session, member_id: int) -> _Head:
    """Lock the member's chain head (making it on the first check-in) and read it."""
    dialect = session.get_bind().dialect.name
    query = select(heads.c.seq, heads.c.last_hash, heads.c.last_device_id).where(
        heads.c.member_id == member_id
    )
    if dialect == "postgresql":
        query = query.with_for_update()  # SQLite: BEGIN IMMEDIATE holds the write lock already
    row = session.execute(query).first()
    if row is None:
        make = postgresql.insert if dialect == "postgresql" else sqlite.insert
        session.execute(
            make(heads)
            .values(member_id=member_id, seq=0, last_hash=rules.GENESIS_HASH, last_device_id=None)
            .on_conflict_do_nothing(index_elements=[heads.c.member_id])
        )
        row = session.execute(query).one()
    return _Head(row.seq, row.last_hash, row.last_device_id)


def _save_head(session: Session, member_id: int, head: _Head) -> None:
    session.execute(
        update(heads)
        .where(heads.c.member_id == member_id)
        .values(seq=head.seq, last_hash=head.last_hash, last_device_id=head.last_device_id)
    )


# ------------------------------------------------------------------------------------ batch


def record_batch(
    session: Session, policy: Policy, member_id: int, items: Sequence[Any], received_at: datetime
) -> list[Outcome]:
    """Store many fixes of the member in input order, each judged as if sent alone in that
    order; a bad item is rejected alone. Set-based: a fixed number of statements per batch."""
    outcomes: list[Outcome | None] = [None] * len(items)
    todo: list[tuple[int, _Prepared]] = []
    for i, raw in enumerate(items):
        try:
            body = CheckInCreate.model_validate(raw)
        except ValidationError as exc:
            outcomes[i] = Outcome(_raw_client_id(raw), "rejected", error=_invalid(exc, i))
        else:
            todo.append((i, _prepare(body, policy)))
    if todo:
        _record_valid(session, policy, member_id, todo, received_at, outcomes)
    assert all(o is not None for o in outcomes)
    return cast(list[Outcome], outcomes)


def _record_valid(
    session: Session,
    policy: Policy,
    member_id: int,
    todo: list[tuple[int, _Prepared]],
    received_at: datetime,
    outcomes: list[Outcome | None],
) -> None:
    index = village_index(session)
    head = _lock_head(session, member_id)
    stored = _stored_by_client_id(session, member_id, {p.client_id for _, p in todo})
    fresh: list[_Prepared] = []
    for _, p in todo:
        if p.client_id in stored:
            continue
        try:
            rules.check_window(p.captured_at, received_at, policy.flags)
        except AppError:
            continue
        fresh.append(p)
    ctx = _BatchContext.load(session, policy, member_id, fresh) if fresh else None

    new_rows: list[dict[str, Any]] = []
    new_outcomes: list[Outcome] = []  # filled in with their check-ins once stored
    known = {client_id: row.body_hash for client_id, row in stored.items()}
    stored_reviews = _reviews(session, [row.id for row in stored.values()])
    stored_findings = findings_service.findings_for(session, [row.id for row in stored.values()])
    for i, p in todo:
        if p.client_id in known:  # stored before, or earlier in this batch
            if known[p.client_id] != p.body_hash:
                error = IdempotencyConflict(client_id=p.client_id)
                outcomes[i] = Outcome(p.client_id, "rejected", error=error)
                continue
            old = stored.get(p.client_id)
            duplicate = Outcome(p.client_id, "duplicate")
            if old is not None:
                duplicate.checkin = _out_row(
                    old, stored_reviews.get(old.id), stored_findings.get(old.id)
                )
            else:
                new_outcomes.append(duplicate)
            outcomes[i] = duplicate
            continue
        try:
            rules.check_window(p.captured_at, received_at, policy.flags)
        except AppError as exc:
            outcomes[i] = Outcome(p.client_id, "rejected", error=exc)
            continue
        assert ctx is not None
        assigned = ctx.assigned_on(p.local_date)
        previous, following = ctx.neighbours(p.captured_at)
        row = _judge(
            p, member_id, received_at, head, index, policy,
            assigned=assigned, boundary_id=ctx.boundary_ids.get(assigned or ""),
            previous=previous, following=following,
            replayed_day=ctx.replayed_day(p),
            registered_wifi=ctx.registered_wifi.get(assigned or "", set()),
        )  # fmt: skip
        ctx.add(p)
        known[p.client_id] = p.body_hash
        outcome = Outcome(p.client_id, "created")
        outcomes[i] = outcome
        new_rows.append(row)
        new_outcomes.append(outcome)

    if not new_rows:
        return
    ids = _insert_many(session, new_rows)
    found = _scan_batch_days(session, policy, member_id, new_rows, received_at, ids.values())
    by_client: dict[str, CheckInOut] = {}
    for row in new_rows:
        new_id = ids[row["client_id"]]
        by_client[row["client_id"]] = _out(row, new_id, [], found.get(new_id))
    for outcome in new_outcomes:
        assert outcome.client_id is not None
        outcome.checkin = by_client[outcome.client_id]
    _save_head(session, member_id, head)
    ledger_service.refresh_days(session, policy, member_id, {r["local_date"] for r in new_rows})


def scan_replays(
    session: Session, policy: Policy, member_id: int, days: Iterable[date], at: datetime
) -> int:
    """Record the replayed tracks on the member's `days`, the member's chain head locked first
    (a batch of the member scanning at the same time waits). Returns the new findings."""
    _lock_head(session, member_id)
    return findings_service.scan_member_days(session, policy, member_id, days, at)


def _scan_batch_days(
    session: Session,
    policy: Policy,
    member_id: int,
    new_rows: list[dict[str, Any]],
    at: datetime,
    new_ids: Iterable[int],
) -> dict[int, list[Any]]:
    """Look for replayed tracks on the days this batch brought a track to (at least
    `replay_track_min_fixes` fixes of the day in the batch): one range query, under the chain
    head's lock the batch holds. Smaller uploads are left to `zhucun checkins scan-replays`.
    Returns the findings of the batch's new fixes."""
    per_day: dict[date, int] = {}
    for row in new_rows:
        per_day[row["local_date"]] = per_day.get(row["local_date"], 0) + 1
    days = [d for d, n in per_day.items() if n >= policy.flags.replay_track_min_fixes]
    if not days or not findings_service.scan_member_days(session, policy, member_id, days, at):
        return {}
    return findings_service.findings_for(session, new_ids)


def _insert_many(session: Session, rows: list[dict[str, Any]]) -> dict[str, int]:
    """INSERT a batch's new rows; their ids by client_id (unique within the batch)."""
    if session.get_bind().dialect.name == "postgresql":
        # The rows as one JSON document that PostgreSQL unpacks into check-in rows: one
        # parameter serialised by orjson, where 29 arrays (or 29 parameters per row) cost the
        # driver more than the rest of the batch. Floats keep every digit (shortest round trip).
        document = orjson.dumps([{name: row[name] for name in _ROW_NAMES} for row in rows])
        result: Result[Any, Any] = session.connection().execute(
            _INSERT_JSON, {"rows": document.decode()}
        )
    else:
        result = session.execute(
            insert(checkins).returning(c.id, c.client_id, sort_by_parameter_order=True), rows
        )
    return {client_id: new_id for new_id, client_id in result}


_ROW_NAMES = [col.name for col in checkins.c if col is not c.id]
_INSERT_JSON = text(
    "INSERT INTO checkins ({names}) SELECT {names} FROM "
    "json_populate_recordset(NULL::checkins, CAST(:rows AS json)) RETURNING id, client_id".format(
        names=", ".join(_ROW_NAMES)
    )
)


def _stored_by_client_id(
    session: Session, member_id: int, client_ids: set[str]
) -> dict[str, Row[Any]]:
    if session.get_bind().dialect.name == "postgresql":
        # One array parameter, not a bound parameter per client_id.
        ids = bindparam("ids", sorted(client_ids), type_=postgresql.ARRAY(String()))
        query = select(checkins).where(c.member_id == member_id, c.client_id == any_(ids))
    else:
        query = select(checkins).where(c.member_id == member_id, c.client_id.in_(client_ids))
    rows = session.connection().execute(query).all()
    return {row.client_id: row for row in rows}


@dataclass
class _BatchContext:
    """What a batch's new fixes are judged by, loaded in a few set-based statements and kept
    up to date in memory as each fix is stored."""

    assignments: list[tuple[date, date | None, str]]
    boundary_ids: dict[str, int]
    times: list[datetime]  # the member's fixes around the batch, in capture order
    fixes: list[rules.Fix]
    # Fixes that may be replayed (they report altitude, speed or heading), by latitude.
    lats: list[float]
    places: list[tuple[float, float, date, rules.Reading]]
    policy: Policy
    registered_wifi: dict[str, set[str]]

    @classmethod
    def load(
        cls, session: Session, policy: Policy, member_id: int, fresh: list[_Prepared]
    ) -> _BatchContext:
        first_day = min(p.local_date for p in fresh)
        last_day = max(p.local_date for p in fresh)
        spans = [
            (a.start_date, a.end_date, a.village_code)
            for a in assignments_between(session, member_id, first_day, last_day)
        ]
        codes = {code for _, _, code in spans}
        boundary_ids: dict[str, int] = {}
        if codes:
            rows = session.execute(
                select(VillageBoundary.village_code, VillageBoundary.id).where(
                    VillageBoundary.village_code.in_(codes), VillageBoundary.valid_to.is_(None)
                )
            )
            boundary_ids = {code: boundary_id for code, boundary_id in rows}  # noqa: C416
        earliest = min(p.captured_at for p in fresh)
        latest = max(p.captured_at for p in fresh)
        mine = c.member_id == member_id
        point = (c.captured_at, c.latitude, c.longitude, c.accuracy_m)
        around = list(
            session.execute(
                select(*point).where(mine, c.captured_at.between(earliest, latest))
            ).all()
        )
        for when, order in (
            (c.captured_at < earliest, (c.captured_at.desc(), c.id.desc())),
            (c.captured_at > latest, (c.captured_at, c.id)),
        ):
            around.extend(
                session.execute(select(*point).where(mine, when).order_by(*order).limit(1))
            )
        fixes = sorted(
            (rules.Fix(as_utc(at), lat, lon, acc) for at, lat, lon, acc in around),
            key=lambda f: f.captured_at,
        )
        # Replay candidates: the member's fixes with motion fields in the batch's band of
        # latitude (the rows the single path's box query would look at).
        margin, _ = rules.replay_box(0.0, policy.flags.repeat_tolerance_m)
        low = min(p.latitude for p in fresh) - margin
        high = max(p.latitude for p in fresh) + margin
        candidates = session.execute(
            select(
                c.latitude, c.longitude, c.local_date,
                c.accuracy_m, c.altitude_m, c.speed_mps, c.heading_deg,
            )
            .where(
                mine,
                c.latitude.between(low, high),
                or_(c.altitude_m.isnot(None), c.speed_mps.isnot(None), c.heading_deg.isnot(None)),
            )
        ).all()  # fmt: skip
        places = sorted(
            (lat, lon, day, rules.Reading(acc, alt, spd, hdg))
            for lat, lon, day, acc, alt, spd, hdg in candidates
        )
        sends_wifi = any(p.body.wifi for p in fresh)
        return cls(
            spans, boundary_ids, [f.captured_at for f in fixes], fixes,
            [place[0] for place in places], places, policy,
            registered_bssids(session, codes) if sends_wifi else {},
        )  # fmt: skip

    def assigned_on(self, day: date) -> str | None:
        for start, end, code in self.assignments:
            if start <= day and (end is None or day <= end):
                return code
        return None

    def neighbours(self, at: datetime) -> tuple[rules.Fix | None, rules.Fix | None]:
        k = bisect.bisect_right(self.times, at)
        previous = self.fixes[k - 1] if k > 0 else None
        following = self.fixes[k] if k < len(self.fixes) else None
        return previous, following

    def replayed_day(self, p: _Prepared) -> date | None:
        """A day of a candidate in the fix's box that `rules.replays`, if any."""
        reading = rules.reading(p.body)
        if not reading.has_motion_fields:
            return None
        dlat, dlon = rules.replay_box(p.latitude, self.policy.flags.repeat_tolerance_m)
        start = bisect.bisect_left(self.lats, p.latitude - dlat)
        stop = bisect.bisect_right(self.lats, p.latitude + dlat)
        return next(
            (
                day
                for _, lon, day, old in self.places[start:stop]
                if day != p.local_date
                and abs(lon - p.longitude) <= dlon
                and rules.replays(reading, old, self.policy.flags)
            ),
            None,
        )

    def add(self, p: _Prepared) -> None:
        k = bisect.bisect_right(self.times, p.captured_at)
        self.times.insert(k, p.captured_at)
        self.fixes.insert(k, rules.Fix(p.captured_at, p.latitude, p.longitude, p.body.accuracy_m))
        reading = rules.reading(p.body)
        if reading.has_motion_fields:
            k = bisect.bisect_right(self.lats, p.latitude)
            self.lats.insert(k, p.latitude)
            self.places.insert(k, (p.latitude, p.longitude, p.local_date, reading))


def _raw_client_id(raw: Any) -> str | None:
    value = raw.get("client_id") if isinstance(raw, dict) else None
    if isinstance(value, str) and len(value) <= 64:
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return None
        return value
    return None


def _invalid(exc: ValidationError, position: int) -> ValidationFailed:
    errors = exc.errors(include_url=False, include_input=False)
    return ValidationFailed(pydantic_errors(errors, ("body", "items", str(position))))


# ---------------------------------------------------------------------------- reading back


def _reviews(session: Session, checkin_ids: Iterable[int]) -> dict[int, list[ReviewOut]]:
    ids = list(checkin_ids)
    out: dict[int, list[ReviewOut]] = {}
    if not ids:
        return out
    rows = session.execute(
        select(reviews_table)
        .where(reviews_table.c.checkin_id.in_(ids))
        .order_by(reviews_table.c.id)
    )
    for r in rows:
        out.setdefault(r.checkin_id, []).append(
            ReviewOut(
                id=r.id,
                action=r.action,
                reason=r.reason,
                reviewer_id=r.reviewer_id,
                at=as_utc(r.at),
            )
        )
    return out


def _out(
    row: Mapping[Any, Any],
    checkin_id: int,
    reviews: list[ReviewOut],
    later: list[Any] | None = None,
) -> CheckInOut:
    """The check-in as stored, with the findings made `later` (findings_service rows): their
    codes join the flags, their numbers the reasons."""
    flag_list = row["flags"].split(",") if row["flags"] else []
    evidence = row["flag_evidence"]
    if later:
        evidence = dict(evidence or {})
        for finding in later:
            if finding.code not in flag_list:
                flag_list.append(finding.code)
                evidence[finding.code] = finding.evidence
    return CheckInOut(
        id=checkin_id,
        client_id=row["client_id"],
        member_id=row["member_id"],
        captured_at=_utc(row["captured_at"]),
        received_at=_utc(row["received_at"]),
        local_date=row["local_date"],
        latitude=row["latitude"],
        longitude=row["longitude"],
        coord_system=row["coord_system"],
        accuracy_m=row["accuracy_m"],
        village_code=row["village_code"],
        assigned_village_code=row["assigned_village_code"],
        geofence=row["geofence"],
        distance_m=row["distance_m"],
        credited=row["credited"],
        flags=flag_list,
        wifi_match=row["wifi_match"],
        flag_reasons=flag_reasons(flag_list, evidence, current_language()),
        findings=[findings_service.finding_out(finding) for finding in later or ()],
        voided=bool(reviews) and reviews[-1].action == "void",
        reviews=reviews,
        roll_call_id=row["roll_call_id"],
    )


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo is UTC else as_utc(moment)


def _out_row(
    row: Row[Any], reviews: list[ReviewOut] | None = None, later: list[Any] | None = None
) -> CheckInOut:
    return _out(row._mapping, row.id, reviews or [], later)


def list_checkins(
    session: Session,
    member_id: int,
    start: date | None,
    end: date | None,
    after: tuple[datetime, int] | None,
    limit: int,
    visible: ColumnElement[bool] | None = None,
) -> list[CheckInOut]:
    """The member's check-ins, newest first (by capture time), after the cursor key; only
    those that `visible` keeps (app.org.scope.day_filter)."""
    query = select(checkins).where(c.member_id == member_id)
    if visible is not None:
        query = query.where(visible)
    if start is not None:
        query = query.where(c.local_date >= start)
    if end is not None:
        query = query.where(c.local_date <= end)
    if after is not None:
        at, last_id = after
        query = query.where(or_(c.captured_at < at, and_(c.captured_at == at, c.id < last_id)))
    rows = session.execute(query.order_by(c.captured_at.desc(), c.id.desc()).limit(limit)).all()
    reviews = _reviews(session, [r.id for r in rows])
    later = findings_service.findings_for(session, [r.id for r in rows])
    return [_out_row(r, reviews.get(r.id), later.get(r.id)) for r in rows]


# ---------------------------------------------------------------------------------- reviews


def review(
    session: Session,
    policy: Policy,
    principal: Principal,
    checkin_id: int,
    action: Literal["void", "restore"],
    reason: str,
    at: datetime,
) -> CheckInOut:
    """Record a reviewer's void or restore beside the check-in, and refresh its day."""
    row = session.execute(select(checkins).where(c.id == checkin_id)).first()
    if row is None or not _reviewable_by(session, principal, row):
        raise CheckInNotFound(checkin_id=checkin_id)
    _lock_head(session, row.member_id)  # one reviewer at a time per member
    past = _reviews(session, [row.id]).get(row.id, [])
    voided = bool(past) and past[-1].action == "void"
    if voided == (action == "void"):
        raise InvalidTransition(
            checkin_id=checkin_id,
            state="已作废" if voided else "未作废",
            state_en="voided" if voided else "not voided",
            action="作废" if action == "void" else "恢复",
            action_en="voided" if action == "void" else "restored",
        )
    session.execute(
        insert(reviews_table).values(
            checkin_id=row.id, action=action, reason=reason, reviewer_id=principal.user_id, at=at
        )
    )
    audit_actions.record(
        session,
        actor=principal.user_id,
        action=f"checkin.{action}",
        subject=f"checkin:{row.id}",
        payload={"action": action, "reason": reason, "at": at},
    )
    ledger_service.refresh_days(session, policy, row.member_id, [row.local_date])
    later = findings_service.findings_for(session, [row.id]).get(row.id)
    return _out_row(row, _reviews(session, [row.id]).get(row.id), later)


def _reviewable_by(session: Session, principal: Principal, row: Row[Any]) -> bool:
    """In scope: the village the member was assigned to on the fix's day is under the
    caller's prefix (or, with no assignment that day, the member is in scope at all)."""
    if row.assigned_village_code is not None:
        return principal.covers_village(row.assigned_village_code)
    visible = session.scalar(
        select(Member.id).where(Member.id == row.member_id, member_visibility(principal))
    )
    return visible is not None
