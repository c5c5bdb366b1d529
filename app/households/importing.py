"""Households from a CSV file (`zhucun import-households`, `POST /households/import`).

Columns: household_code, village_code, head_name, address, latitude, longitude, coord_system,
category, risk, phone, member_username, paired_from. UTF-8 or GB18030 (`app.core.csv_text`);
all or nothing, every problem named by its line (header = 1); importing the same file again
changes nothing; a changed member_username ends the old pairing and starts a new one. A point
outside its village's boundary by more than the geofence tolerance is refused with its line.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.audit import actions as audit_actions
from app.auth.models import User
from app.core.csv_text import EncodingProblem, decode_csv
from app.core.policy import Policy
from app.core.text_fields import line_problem
from app.geo.coords import to_wgs84
from app.geofence.cache import village_index
from app.households import pairings
from app.households.errors import ImportRefused, InvalidPairing
from app.households.models import Household
from app.households.schemas import ImportSummary
from app.org.divisions import is_village_code
from app.org.models import Village

COLUMNS = (
    "household_code",
    "village_code",
    "head_name",
    "address",
    "latitude",
    "longitude",
    "coord_system",
    "category",
    "risk",
    "phone",
    "member_username",
    "paired_from",
)
OPTIONAL = frozenset({"coord_system", "phone", "member_username", "paired_from", "address"})
MAX_LENGTHS = {
    "household_code": 32,
    "village_code": 12,
    "head_name": 100,
    "address": 200,
    "latitude": 20,
    "longitude": 20,
    "coord_system": 8,
    "category": 12,
    "risk": 12,
    "phone": 20,
    "member_username": 64,
    "paired_from": 10,
}
CATEGORIES = {
    "lifted": "lifted",
    "脱贫户": "lifted",
    "monitored": "monitored",
    "监测户": "monitored",
    "监测对象": "monitored",
    "ordinary": "ordinary",
    "一般户": "ordinary",
}
RISKS = {
    "high": "high",
    "高": "high",
    "高风险": "high",
    "key": "key",
    "重点": "key",
    "general": "general",
    "一般": "general",
}
SYSTEMS = {"": "wgs84", "wgs84": "wgs84", "wgs-84": "wgs84", "gcj02": "gcj02", "gcj-02": "gcj02"}
_PHONE = re.compile(r"^\+?[0-9][0-9-]{5,18}$")
_DATE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")


@dataclass(frozen=True)
class Row:
    line: int
    household_code: str
    village_code: str
    head_name: str
    address: str
    lon: float  # WGS84
    lat: float
    category: str
    risk: str
    phone: str | None
    member_username: str | None
    paired_from: date | None


@dataclass
class Parsed:
    rows: list[Row] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


def parse(text: str) -> Parsed:
    """Every row of the file, or every problem in it."""
    out = Parsed()
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        out.problems.append((1, "the file is empty"))
        return out
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    missing = [c for c in COLUMNS if c not in names and c not in OPTIONAL]
    if missing:
        out.problems.append((1, f"missing column(s): {', '.join(missing)}"))
        return out
    position = {name: i for i, name in reversed(list(enumerate(names)))}
    seen: dict[str, int] = {}
    for cells in reader:
        line = reader.line_num
        if not any(c.strip() for c in cells):
            continue
        reasons: list[str] = []
        values: dict[str, str] = {}
        for column in COLUMNS:
            i = position.get(column)
            value = cells[i].strip() if i is not None and i < len(cells) else ""
            problem = line_problem(value, MAX_LENGTHS[column])
            if problem is not None:
                reasons.append(f"{column} {problem}")
                value = ""
            elif not value and column not in OPTIONAL:
                reasons.append(f"empty {column}")
            values[column] = value
        row = _row(line, values, reasons)
        if row is not None and row.household_code in seen:
            reasons.append(
                f"household_code {row.household_code!r} repeats line {seen[row.household_code]}"
            )
            row = None
        if row is not None:
            seen[row.household_code] = line
            out.rows.append(row)
        out.problems.extend((line, r) for r in reasons)
    if not out.rows and not out.problems:
        out.problems.append((1, "the file has no rows"))
    return out


def _row(line: int, v: dict[str, str], reasons: list[str]) -> Row | None:
    code = v["village_code"]
    if code and not is_village_code(code):
        reasons.append(f"village_code {code!r} is not 12 digits")
    lat = _number(v["latitude"], "latitude", -90, 90, reasons)
    lon = _number(v["longitude"], "longitude", -180, 180, reasons)
    system = SYSTEMS.get(v["coord_system"].lower())
    if system is None:
        reasons.append(f"coord_system {v['coord_system']!r}: one of wgs84, gcj02")
    category = CATEGORIES.get(v["category"].lower()) if v["category"] else None
    if v["category"] and category is None:
        reasons.append(
            f"category {v['category']!r}: one of lifted, monitored, ordinary "
            "(脱贫户, 监测户, 一般户)"
        )
    risk = RISKS.get(v["risk"].lower()) if v["risk"] else None
    if v["risk"] and risk is None:
        reasons.append(f"risk {v['risk']!r}: one of high, key, general (高风险, 重点, 一般)")
    phone = v["phone"] or None
    if phone is not None and not _PHONE.match(phone):
        reasons.append(f"phone {phone!r} is not a telephone number")
    username = v["member_username"] or None
    paired_from = _date(v["paired_from"], reasons)
    if username and paired_from is None and not v["paired_from"]:
        reasons.append("paired_from is needed with member_username")
    if reasons or lat is None or lon is None or system is None or category is None or not risk:
        return None
    wlon, wlat = to_wgs84(lon, lat, system)  # type: ignore[arg-type]
    return Row(
        line,
        v["household_code"],
        code,
        v["head_name"],
        v["address"],
        wlon,
        wlat,
        category,
        risk,
        phone,
        username,
        paired_from,
    )


def _number(value: str, column: str, lo: float, hi: float, reasons: list[str]) -> float | None:
    if not value:
        return None
    try:
        number = float(value)
    except ValueError:
        reasons.append(f"{column} {value!r} is not a number")
        return None
    if not lo <= number <= hi:
        reasons.append(f"{column} {value} is out of range")
        return None
    return number


def _date(value: str, reasons: list[str]) -> date | None:
    if not value:
        return None
    m = _DATE.match(value)
    try:
        if m is None:
            raise ValueError(value)
        day = date(int(m[1]), int(m[2]), int(m[3]))
    except ValueError:
        reasons.append(f"paired_from {value!r} is not a date (YYYY-MM-DD)")
        return None
    if not date(2000, 1, 1) <= day <= date(2099, 12, 31):
        reasons.append(f"paired_from {value!r} lies outside 2000–2099")
        return None
    return day


def problems_in_db(
    session: Session, policy: Policy, rows: list[Row]
) -> tuple[list[tuple[int, str]], dict[str, int]]:
    """Unknown villages and usernames, and points outside their village's boundary by more
    than the geofence tolerance. Returns the problems and the members by username."""
    problems: list[tuple[int, str]] = []
    codes = {r.village_code for r in rows}
    known = set(session.scalars(select(Village.code).where(Village.code.in_(codes))))
    names = {r.member_username for r in rows if r.member_username}
    members = {
        u: m
        for u, m in session.execute(
            select(User.username, User.member_id).where(
                User.username.in_(names), User.member_id.is_not(None)
            )
        )
        if m is not None
    }
    index = village_index(session)
    tolerance = policy.geofence.near_m
    for r in rows:
        if r.village_code not in known:
            problems.append((r.line, f"unknown village {r.village_code}"))
        elif r.village_code not in index:
            problems.append((r.line, f"village {r.village_code} has no boundary"))
        else:
            d = index.distance_m(r.village_code, r.lon, r.lat)
            if d > tolerance:
                located = index.locate(r.lon, r.lat)
                where = f" (it lies in village {located})" if located else ""
                problems.append(
                    (
                        r.line,
                        f"the point lies {d:.0f} m outside village {r.village_code}'s boundary, "
                        f"more than the tolerance of {tolerance:g} m{where}",
                    )
                )
        if r.member_username and r.member_username not in members:
            problems.append((r.line, f"no member with username {r.member_username!r}"))
    return problems, members


def decode(data: bytes, encoding: str | None = None) -> str:
    try:
        return decode_csv(data, encoding).text
    except EncodingProblem as exc:
        lines = exc.lines or [1]
        raise ImportRefused([(line, exc.reason) for line in lines]) from None


def import_households(
    session: Session,
    policy: Policy,
    data: bytes,
    actor: str,
    now: datetime,
    encoding: str | None = None,
    file_name: str = "upload.csv",
) -> ImportSummary:
    """Import the file in the caller's transaction, or raise ImportRefused naming each line."""
    parsed = parse(decode(data, encoding))
    problems = list(parsed.problems)
    db_problems, members = problems_in_db(session, policy, parsed.rows)
    problems.extend(db_problems)
    if problems:
        problems.sort()
        raise ImportRefused(problems)
    summary = ImportSummary(
        households=len(parsed.rows),
        created=0,
        updated=0,
        unchanged=0,
        pairings_started=0,
        pairings_ended=0,
    )
    existing = {
        h.household_code: h
        for h in session.scalars(
            select(Household)
            .where(Household.household_code.in_([r.household_code for r in parsed.rows]))
            .with_for_update()
        )
    }
    for r in parsed.rows:
        h = existing.get(r.household_code)
        fields = {
            "village_code": r.village_code,
            "head_name": r.head_name,
            "address": r.address,
            "longitude": round(r.lon, 7),
            "latitude": round(r.lat, 7),
            "category": r.category,
            "risk": r.risk,
            "phone": r.phone,
        }
        if h is None:
            h = Household(household_code=r.household_code, created_at=now, updated_at=now, **fields)
            session.add(h)
            session.flush()
            summary.created += 1
        elif any(getattr(h, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(h, k, v)
            h.updated_at = now
            summary.updated += 1
        else:
            summary.unchanged += 1
        if r.member_username and r.paired_from is not None:
            try:
                started, ended = pairings.pair(
                    session, h, members[r.member_username], r.paired_from, actor, now
                )
            except InvalidPairing as exc:
                problems.append((r.line, str(exc.params.get("reason", exc.code))))
                continue
            summary.pairings_started += started
            summary.pairings_ended += ended
    if problems:  # the caller's transaction is rolled back: nothing is kept
        raise ImportRefused(problems)
    audit_actions.record(
        session,
        actor=actor,
        action="import.households",
        subject="import:households",
        payload={
            "file": file_name,
            "sha256": hashlib.sha256(data).hexdigest(),
            **summary.model_dump(),
        },
    )
    return summary
