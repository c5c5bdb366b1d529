"""The roster of dispatched members from a CSV file (`zhucun import-roster`).

Columns: username, full_name, position, unit, village_code, start_date, end_date, password
(end_date and password may be empty). Each row is one assignment of one member, who gets a
member account. Rows that repeat a username must describe the same person (full name,
position, unit): they are that member's successive assignments, and may not overlap.

`parse_roster` is pure; `roster_problems_in_db` checks what only the database knows;
`apply_roster` writes in the caller's transaction. Problems name the CSV line (header = 1).
The file's bytes are decoded by `app.core.csv_text` (UTF-8 or GB18030, strictly).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import InstrumentedAttribute, Session

from app.auth import service as auth_service
from app.auth.models import User
from app.core.security import generate_password
from app.core.text_fields import column_length, line_problem
from app.org import service as org_service
from app.org.divisions import is_village_code
from app.org.models import Member, Unit, Village

COLUMNS = (
    "username",
    "full_name",
    "position",
    "unit",
    "village_code",
    "start_date",
    "end_date",
    "password",
)
OPTIONAL_COLUMNS = frozenset({"end_date", "password"})
POSITIONS = {
    "first_secretary": "first_secretary",
    "team_leader": "team_leader",
    "team_member": "team_member",
    # As rosters written in Chinese name them.
    "第一书记": "first_secretary",
    "驻村第一书记": "first_secretary",
    "队长": "team_leader",
    "工作队长": "team_leader",
    "驻村工作队长": "team_leader",
    "队员": "team_member",
    "工作队员": "team_member",
    "驻村工作队员": "team_member",
}
# ISO dates, and the 2024/3/1 form that Excel writes in a Chinese locale.
_DATE_RE = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")
# The longest value of each column: what the columns it is stored in hold (a full name goes
# to the member and to the account), or what any valid value can be.
MAX_LENGTHS = {
    "username": column_length(User.username),
    "full_name": min(column_length(Member.full_name), column_length(User.full_name)),
    "position": column_length(Member.position),
    "unit": column_length(Unit.name),
    "village_code": column_length(Village.code),
    "start_date": 10,
    "end_date": 10,
    "password": auth_service.MAX_PASSWORD_LENGTH,
}


@dataclass(frozen=True)
class RowProblem:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


@dataclass(frozen=True)
class RosterAssignment:
    line: int
    village_code: str
    start: date
    end: date | None


@dataclass
class RosterMember:
    line: int
    username: str
    full_name: str
    position: str
    unit: str
    password: str | None
    assignments: list[RosterAssignment] = field(default_factory=list)


@dataclass
class ParsedRoster:
    members: list[RosterMember] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)


@dataclass
class RosterSummary:
    members: int = 0
    assignments: int = 0
    new_units: list[str] = field(default_factory=list)
    # username -> password, for members imported without one. Shown once, never stored.
    generated_passwords: dict[str, str] = field(default_factory=dict)


def parse_roster(text: str) -> ParsedRoster:
    """Every member and assignment of the file, or every problem found in it."""
    result = ParsedRoster()
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        result.problems.append(RowProblem(1, "the file is empty"))
        return result
    names = [h.strip().lstrip("\ufeff").lower() for h in header]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        result.problems.append(RowProblem(1, f"missing column(s): {', '.join(missing)}"))
        return result
    position_of = {name: i for i, name in reversed(list(enumerate(names)))}
    by_username: dict[str, RosterMember] = {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue  # spreadsheets leave blank lines at the end
        values, reasons = _row_values(row, names, position_of)
        member, assignment = _row(line, values, reasons)
        if member is not None and assignment is not None:
            _merge(by_username, member, assignment, reasons)
        result.problems.extend(RowProblem(line, r) for r in reasons)
    result.members = list(by_username.values())
    if not result.members and not result.problems:
        result.problems.append(RowProblem(1, "the file has no rows"))
    return result


def _row_values(
    row: list[str], names: list[str], position_of: dict[str, int]
) -> tuple[dict[str, str], list[str]]:
    reasons: list[str] = []
    if len(row) > len(names) and any(cell.strip() for cell in row[len(names) :]):
        reasons.append(f"{len(row)} fields, but the header has {len(names)}")
    values: dict[str, str] = {}
    missing: list[str] = []
    for column in COLUMNS:
        index = position_of[column]
        values[column] = row[index].strip() if index < len(row) else ""
        problem = line_problem(values[column], MAX_LENGTHS[column])
        if problem is not None:
            # Never echoed further: the value may be 100,000 characters of anything.
            reasons.append(f"{column} {problem}")
            values[column] = ""
        elif index >= len(row) and column not in OPTIONAL_COLUMNS:
            missing.append(column)
        elif not values[column] and column not in OPTIONAL_COLUMNS:
            reasons.append(f"empty {column}")
    if missing:
        reasons.append(f"missing column(s): {', '.join(missing)}")
    return values, reasons


def _row(
    line: int, values: dict[str, str], reasons: list[str]
) -> tuple[RosterMember | None, RosterAssignment | None]:
    username = values["username"]
    if username and not auth_service.USERNAME_RE.fullmatch(username):
        reasons.append(f"username {username!r} is not 2–64 letters, digits or . _ - @")
    position = POSITIONS.get(values["position"].lower() if values["position"] else "")
    if values["position"] and position is None:
        reasons.append(
            f"unknown position {values['position']!r}: one of first_secretary, team_leader, "
            "team_member (第一书记, 队长, 队员)"
        )
    code = values["village_code"]
    if code and not is_village_code(code):
        reasons.append(f"village_code {code!r} is not 12 digits")
    start = _date(values["start_date"], "start_date", reasons)
    end = _date(values["end_date"], "end_date", reasons)
    if start is not None and end is not None and end < start:
        reasons.append(f"end_date {end} is before start_date {start}")
    password = values["password"] or None
    if password is not None and len(password) < auth_service.MIN_PASSWORD_LENGTH:
        reasons.append(
            f"password shorter than {auth_service.MIN_PASSWORD_LENGTH} characters "
            "(leave it empty to have one generated)"
        )
    if reasons or position is None or start is None:
        return None, None
    member = RosterMember(
        line=line,
        username=username,
        full_name=values["full_name"],
        position=position,
        unit=values["unit"],
        password=password,
    )
    return member, RosterAssignment(line, code, start, end)


def _date(value: str, column: str, reasons: list[str]) -> date | None:
    if not value:
        return None
    match = _DATE_RE.match(value)
    try:
        if match is None:
            raise ValueError(value)
        return date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        reasons.append(f"{column} {value!r} is not a date (YYYY-MM-DD)")
        return None


def _merge(
    by_username: dict[str, RosterMember],
    member: RosterMember,
    assignment: RosterAssignment,
    reasons: list[str],
) -> None:
    """Add the row's assignment to its member, refusing a different person or an overlap."""
    known = by_username.get(member.username)
    if known is None:
        member.assignments.append(assignment)
        by_username[member.username] = member
        return
    same_person = (known.full_name, known.position, known.unit) == (
        member.full_name,
        member.position,
        member.unit,
    )
    if not same_person:
        reasons.append(f"duplicate username {member.username!r} (line {known.line})")
        return
    if member.password and known.password and member.password != known.password:
        reasons.append(f"a different password for {member.username!r} than on line {known.line}")
        return
    for other in known.assignments:
        if assignment.start <= (other.end or date.max) and other.start <= (
            assignment.end or date.max
        ):
            reasons.append(
                f"assignment overlaps the one on line {other.line} "
                f"({other.start} to {other.end or '…'})"
            )
            return
    known.password = known.password or member.password
    known.assignments.append(assignment)


def roster_problems_in_db(session: Session, roster: ParsedRoster) -> list[RowProblem]:
    """Unknown villages and usernames that are already taken."""
    problems: list[RowProblem] = []
    codes = {a.village_code for m in roster.members for a in m.assignments}
    known_codes = set(_existing(session, Village.code, codes))
    usernames = {m.username for m in roster.members}
    taken = set(_existing(session, User.username, usernames))
    for member in roster.members:
        if member.username in taken:
            problems.append(RowProblem(member.line, f"username {member.username!r} already exists"))
        for a in member.assignments:
            if a.village_code not in known_codes:
                problems.append(RowProblem(a.line, f"unknown village {a.village_code}"))
    return problems


def _existing(session: Session, column: InstrumentedAttribute[str], values: set[str]) -> list[str]:
    found: list[str] = []
    ordered = sorted(values)
    for start in range(0, len(ordered), 500):
        chunk = ordered[start : start + 500]
        found.extend(session.scalars(select(column).where(column.in_(chunk))))
    return found


def apply_roster(
    session: Session,
    members: list[RosterMember],
    on_member: Callable[[], None] | None = None,
) -> RosterSummary:
    """Create units, members, member accounts and assignments (argon2 hashing: ~60 ms each)."""
    summary = RosterSummary()
    for item in members:
        unit, created = org_service.get_or_create_unit(session, item.unit)
        if created:
            summary.new_units.append(unit.name)
        member = org_service.create_member(session, item.full_name, item.position, unit.id)
        latest = max(item.assignments, key=lambda a: a.start)
        password = item.password
        if password is None:
            password = generate_password()
            summary.generated_passwords[item.username] = password
        auth_service.create_user(
            session,
            username=item.username,
            password=password,
            role="member",
            scope=latest.village_code,
            full_name=item.full_name,
            member_id=member.id,
        )
        for a in item.assignments:
            org_service.add_assignment(session, member.id, a.village_code, a.start, a.end)
            summary.assignments += 1
        summary.members += 1
        if on_member is not None:
            on_member()
    return summary
