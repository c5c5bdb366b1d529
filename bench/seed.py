"""A throw-away database for the check-in benches: create, seed (villages, members, tokens), drop.

Used by bench/checkins_bench.py (and bench/soak.py for create/drop/free_port).
"""

from __future__ import annotations

import os
import socket
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shapely.geometry import MultiPolygon, box
from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.models import AuthSession, User  # noqa: E402
from app.core.db import make_engine, make_session_factory, session_scope  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.core.security import TokenClaims, hash_password, issue_token  # noqa: E402
from app.org.boundaries import bump_boundary_revision  # noqa: E402
from app.org.models import Assignment, Member, Unit, Village, VillageBoundary  # noqa: E402

SECRET = "bench-secret-" + "b" * 40


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def create_database(backend: str, pg_url: str, workdir: Path) -> tuple[str, str | None]:
    """A fresh database: (its URL, its name on the PostgreSQL server or None for SQLite)."""
    if backend == "sqlite":
        return f"sqlite:///{workdir / 'bench.db'}", None
    name = f"zhucun_bench_{os.getpid()}"
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return pg_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_database(pg_url: str, name: str | None) -> None:
    if name is None:
        return
    admin = create_engine(pg_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def member_user(member: Member, username: str, password_hash: str, now: datetime) -> User:
    """An active member's user (the bench's logins)."""
    return User(
        username=username,
        password_hash=password_hash,
        full_name=member.full_name,
        role="member",
        scope="",
        member_id=member.id,
        is_active=True,
        created_at=now,
    )


def seed_checkin_members(url: str, members_file: Path, *, villages: int, members: int) -> None:
    """Migrate, then villages in a grid of 0.02° squares and members spread over them (member k
    assigned to village k mod `villages`), each with an open session and a token.

    Writes `members_file`: one "token lon lat" line per member (lon/lat: the centre of its
    village), what bench/wrk/*.lua and the batch read.
    """
    upgrade(url)
    engine = make_engine(url)
    now = datetime.now(UTC)
    lines: list[str] = []
    with session_scope(make_session_factory(engine)) as s:
        centres = []
        for i in range(villages):
            code = f"4301{21 + i // 100:02d}{1 + (i // 20) % 5:03d}{1 + i % 20:03d}"
            lon, lat = 113.0 + (i % 20) * 0.02, 28.0 + (i // 20) * 0.02
            s.add(
                Village(
                    code=code,
                    name=f"村{i}",
                    township_code=code[:9],
                    county_code=code[:6],
                    created_at=now,
                )
            )
            centres.append((code, lon + 0.01, lat + 0.01, box(lon, lat, lon + 0.02, lat + 0.02)))
        s.flush()
        for code, _, _, square in centres:
            s.add(
                VillageBoundary(
                    village_code=code,
                    boundary=MultiPolygon([square]),
                    valid_from=now - timedelta(days=400),
                )
            )
        bump_boundary_revision(s)
        unit = Unit(name="市农业农村局")
        s.add(unit)
        s.flush()
        password = hash_password("bench-password")
        start = date.today() - timedelta(days=100)
        people = [
            Member(full_name=f"队员{k}", position="team_member", unit_id=unit.id, created_at=now)
            for k in range(members)
        ]
        s.add_all(people)
        s.flush()
        users = []
        for k, member in enumerate(people):
            code, _, _, _ = centres[k % villages]
            s.add(
                Assignment(member_id=member.id, village_code=code, start_date=start, end_date=None)
            )
            users.append(member_user(member, f"m{k}", password, now))
        s.add_all(users)
        s.flush()
        for user in users:
            sid = f"bench{user.id:027d}"
            s.add(AuthSession(id=sid, user_id=user.id, method="password", created_at=now))
        s.flush()
        for k, user in enumerate(users):
            _, lon, lat, _ = centres[k % villages]
            claims = TokenClaims(user.id, "member", "", f"bench{user.id:027d}")
            token = issue_token(claims, SECRET, 24 * 3600)
            lines.append(f"{token} {lon:.6f} {lat:.6f}")
    engine.dispose()
    members_file.write_text("\n".join(lines) + "\n")
