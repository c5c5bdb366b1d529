"""The canonical forms that idempotency and the hash chain are computed over: a body's hash
(same values, same hash, however the JSON was spelled) and a stored row's chain hash. Every
stored link was hashed by `row_hash`: its encoding must never change for existing fields."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, date
from typing import Any

import orjson

from app.audit.rules import GENESIS_HASH as GENESIS_HASH  # the chain hashing is audit's
from app.checkins.schemas import CheckInCreate
from app.core.time import as_utc


def body_hash(body: CheckInCreate) -> str:
    """sha256 of the parsed body in canonical form: defaults filled, instants in UTC.

    Two bodies that parse to the same values (another offset for the same instant, a default
    left out, a UUID in capitals) hash alike: the JSON is the model's own serialisation, in
    its field order, whatever the order and spelling of the request.
    """
    unset_later_fields = {name for name in BODY_FIELDS_ADDED_LATER if getattr(body, name) is None}
    canonical = body.model_dump_json(exclude=unset_later_fields or None)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# Body fields added after phones began sending fixes: left out of the hash when absent, so a
# fix stored before them, sent again, still matches its stored hash.
BODY_FIELDS_ADDED_LATER = ("wifi",)


# What a chain link covers: every stored column but the database id, in a fixed order.
CHAIN_FIELDS: tuple[tuple[str, str], ...] = (
    ("member_id", "int"),
    ("seq", "int"),
    ("client_id", "str"),
    ("captured_at", "datetime"),
    ("received_at", "datetime"),
    ("local_date", "date"),
    ("latitude", "float"),
    ("longitude", "float"),
    ("raw_latitude", "float"),
    ("raw_longitude", "float"),
    ("coord_system", "str"),
    ("accuracy_m", "float"),
    ("altitude_m", "float"),
    ("speed_mps", "float"),
    ("heading_deg", "float"),
    ("provider", "str"),
    ("is_mock", "bool"),
    ("device_id", "str"),
    ("roll_call_id", "str"),
    ("village_code", "str"),
    ("assigned_village_code", "str"),
    ("boundary_id", "int"),
    ("geofence", "str"),
    ("distance_m", "float"),
    ("credited", "bool"),
    ("flags", "str"),
    ("body_hash", "str"),
    ("prev_hash", "str"),
)


def _text(value: Any) -> str:
    text = str(value)
    return f"{len(text)}:{text}"  # length-prefixed: no value can fake a field boundary


def _instant(value: Any) -> str:
    t = value if value.tzinfo is UTC else as_utc(value)
    return (
        f"{t.year:04d}-{t.month:02d}-{t.day:02d}T{t.hour:02d}:{t.minute:02d}:"
        f"{t.second:02d}.{t.microsecond:06d}Z"
    )


def _day(value: Any) -> str:
    assert isinstance(value, date)
    return value.isoformat()


# Explicit per kind, so that what either backend hands back (SQLite: naive datetimes, ints for
# booleans) encodes exactly as what was written.
_ENCODERS: dict[str, Any] = {
    "str": _text,
    "float": lambda value: repr(float(value)),
    "int": lambda value: str(int(value)),
    "bool": lambda value: "true" if value else "false",
    "json": lambda value: orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode(),
    "datetime": _instant,
    "date": _day,
}


# Columns added after the chain began: covered when set, so that links stored before they
# existed (NULL there) keep their hashes.
CHAIN_FIELDS_WHEN_SET: tuple[tuple[str, str], ...] = (
    ("flag_evidence", "json"),
    ("wifi", "json"),
    ("wifi_match", "bool"),
)


def row_hash(row: Mapping[str, Any]) -> str:
    """The chain hash of a check-in row: sha256 over its canonical content (with `seq` and
    `prev_hash`), independent of the database id and of the backend."""
    return hashlib.sha256("\n".join(_lines(row)).encode("utf-8")).hexdigest()


def _lines(row: Mapping[str, Any]) -> list[str]:
    lines = [
        f"{name}={'null' if (value := row[name]) is None else encode(value)}"
        for name, encode in _CHAIN_ENCODERS
    ]
    lines += [
        f"{name}={encode(value)}"
        for name, encode in _CHAIN_ENCODERS_WHEN_SET
        if (value := row.get(name)) is not None
    ]
    return lines


# What the retention purge (`app.privacy.purge`) nulls: the raw position, motion and Wi-Fi.
PURGED_FIELDS = (
    "latitude",
    "longitude",
    "raw_latitude",
    "raw_longitude",
    "altitude_m",
    "speed_mps",
    "heading_deg",
    "wifi",
)
DISTANCE_STEP_M = 10.0  # a purged fix keeps its distance to the boundary rounded to this


def purged_values(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the purge writes over a fix's row: the purged fields null, the distance rounded."""
    distance = row["distance_m"]
    rounded = None if distance is None else round(distance / DISTANCE_STEP_M) * DISTANCE_STEP_M
    return {**dict.fromkeys(PURGED_FIELDS), "distance_m": rounded}


def verified_purge_hash(row: Mapping[str, Any], purged_at: Any) -> str | None:
    """For the purge: None when `row` (whole) does not match its stored `row_hash`, else the
    `purged_hash` it will have once purged at `purged_at` — from one encoding of the row (the
    purged fields' lines replaced), as `purged_hash` of the purged row computes it."""
    lines = _lines(row)
    if hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest() != row["row_hash"]:
        return None
    changed = purged_values(row)
    distance = changed["distance_m"]
    for index, name in _PURGED_POSITIONS:
        lines[index] = f"{name}=null"
    lines[_DISTANCE_POSITION] = (
        f"distance_m={'null' if distance is None else _ENCODERS['float'](distance)}"
    )
    lines = [line for line in lines if not line.startswith(_PURGED_WHEN_SET)]
    lines += [f"row_hash={_text(row['row_hash'])}", f"purged_at={_instant(purged_at)}"]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


def purged_hash(row: Mapping[str, Any]) -> str:
    """The hash of a purged fix: what it keeps, in `row_hash`'s canonical form (the purged
    fields null), bound to the link's stored `row_hash` and to `purged_at`. The link itself can
    no longer be recomputed; this hash, and each purge batch's digest of them in the actions
    log, let `audit verify` still catch an edit of what a purged row keeps."""
    lines = [
        *_lines(row),
        f"row_hash={_text(row['row_hash'])}",
        f"purged_at={_instant(row['purged_at'])}",
    ]
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()


_CHAIN_ENCODERS = [(name, _ENCODERS[kind]) for name, kind in CHAIN_FIELDS]
_CHAIN_ENCODERS_WHEN_SET = [(name, _ENCODERS[kind]) for name, kind in CHAIN_FIELDS_WHEN_SET]

_NAMES = [name for name, _ in CHAIN_FIELDS]
_PURGED_POSITIONS = [(_NAMES.index(n), n) for n in PURGED_FIELDS if n in _NAMES]
_DISTANCE_POSITION = _NAMES.index("distance_m")
_PURGED_WHEN_SET = tuple(f"{n}=" for n, _ in CHAIN_FIELDS_WHEN_SET if n in PURGED_FIELDS)
