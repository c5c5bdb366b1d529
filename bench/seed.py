"""What the benches share: a throw-away database (create, migrate, drop), the rows every bench
seeds (villages, users), and signed-in access tokens, made as signing in makes them: every
request checks that its token's session is open.

Used by every bench on a database; `seed_checkin_members` is bench/checkins_bench.py's world.
"""

from __future__ import annotations

import os
import socket
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from shapely.geometry import MultiPolygon, box
from sqlalchemy import Connection, create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.auth.models import AuthSession, User  # noqa: E402
from app.core.db import make_engine, make_session_factory, session_scope  # noqa: E402
from app.core.migrate import upgrade  # noqa: E402
from app.core.security import TokenClaims, hash_password, issue_token  # noqa: E402
from app.org.boundaries import bump_boundary_revision  # noqa: E402
from app.org.models import Assignment, Member, Unit, Village, VillageBoundary  # noqa: E402

SECRET = "bench-secret-" + "b" * 40  # what the benches' servers and apps are given
# The server the PostGIS benches make their databases on (ZHUCUN_BENCH_PG_URL names another).
PG_URL = os.environ.get(
    "ZHUCUN_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


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


@contextmanager
def scratch_database(kind: str, *, keep: bool = False) -> Iterator[str]:
    """A new, migrated database on PG_URL's server named after the bench `kind`; dropped
    afterwards (even when the bench fails) unless `keep`, which prints its URL instead."""
    import uuid

    name = f"zhucun_bench_{kind}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = PG_URL.rsplit("/", 1)[0] + f"/{name}"
    try:
        upgrade(url)
        yield url
    finally:
        if keep:
            print(f"kept: {url}")
        else:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def insert_villages(conn: Connection, codes: Iterable[str], names: str = "村{}") -> None:
    """Villages by 12-digit code (their township and county are its prefixes), the i-th named
    `names.format(i)`; no boundaries."""
    now = datetime.now(UTC)
    conn.execute(
        text(
            "INSERT INTO villages (code, name, township_code, county_code, created_at) "
            "VALUES (:c, :n, :t, :k, :now)"
        ),
        [
            {"c": c, "n": names.format(i), "t": c[:9], "k": c[:6], "now": now}
            for i, c in enumerate(codes)
        ],
    )


def insert_users(conn: Connection, users: Iterable[tuple[str, str, str, int | None]]) -> None:
    """Accounts (username, role, scope, member id) that never sign in with a password: the
    benches give them tokens (`sign_in`)."""
    conn.execute(
        text(
            "INSERT INTO users (username, password_hash, full_name, role, scope, member_id, "
            "is_active, created_at) VALUES (:u, 'x', :u, :r, :s, :m, true, :now)"
        ),
        [{"u": u, "r": r, "s": s, "m": m, "now": datetime.now(UTC)} for u, r, s, m in users],
    )


def sign_in(conn: Connection, ttl_seconds: int = 24 * 3600) -> dict[str, str]:
    """An open session (auth_sessions) and an access token naming it for every user, as
    `POST /auth/token` makes them; by username. Run once per database."""
    now = datetime.now(UTC)
    users = conn.execute(text("SELECT id, username, role, scope FROM users")).all()
    conn.execute(
        text(
            "INSERT INTO auth_sessions (id, user_id, method, user_agent, created_at) "
            "VALUES (:sid, :uid, 'password', 'bench', :now)"
        ),
        [{"sid": session_id(uid), "uid": uid, "now": now} for uid, _, _, _ in users],
    )
    return {
        username: issue_token(TokenClaims(uid, role, scope, session_id(uid)), SECRET, ttl_seconds)
        for uid, username, role, scope in users
    }


def session_id(user_id: int) -> str:
    """The bench's session of a user: 32 characters, as the column holds."""
    return f"bench{user_id:027d}"


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


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
            sid = session_id(user.id)
            s.add(AuthSession(id=sid, user_id=user.id, method="password", created_at=now))
        s.flush()
        for k, user in enumerate(users):
            _, lon, lat, _ = centres[k % villages]
            claims = TokenClaims(user.id, "member", "", session_id(user.id))
            token = issue_token(claims, SECRET, 24 * 3600)
            lines.append(f"{token} {lon:.6f} {lat:.6f}")
    engine.dispose()
    members_file.write_text("\n".join(lines) + "\n")
