"""A small, deterministic county for tests: villages with real-looking boundaries, a roster and
one user of every role. Built straight into the database (fast), used through the HTTP API."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from shapely.geometry import MultiPolygon, Polygon, box
from sqlalchemy.orm import Session

from app.auth.models import AuthSession, User
from app.core.security import TokenClaims, hash_password, issue_token
from app.org.boundaries import bump_boundary_revision
from app.org.models import Assignment, Member, Unit, Village, VillageBoundary

PASSWORD = "correct-horse-battery"
SECRET = "test-secret-" + "x" * 40

# County 430121 (two townships), and a village of another county for scope tests.
# Each village is a 0.02° square (~2 km) on a row near lon 113.0, lat 28.3.
VILLAGES = {
    "430121001001": ("东山村", 113.00),
    "430121001002": ("西山村", 113.02),
    "430121002001": ("南湖村", 113.04),
    "430122001001": ("北岭村", 113.10),
}
LAT0 = 28.30


@lru_cache
def password_hash() -> str:
    return hash_password(PASSWORD)


def village_square(code: str) -> Polygon:
    lon = VILLAGES[code][1]
    return box(lon, LAT0, lon + 0.02, LAT0 + 0.02)


def centre(code: str) -> tuple[float, float]:
    """(lon, lat) of the middle of a village."""
    lon = VILLAGES[code][1]
    return lon + 0.01, LAT0 + 0.01


@dataclass
class World:
    db: Session
    client: Any
    users: dict[str, User] = field(default_factory=dict)
    members: dict[str, Member] = field(default_factory=dict)

    @classmethod
    def build(cls, db: Session, client: Any) -> World:
        world = cls(db, client)
        now = datetime.now(UTC)
        for code, (name, _) in VILLAGES.items():
            db.add(
                Village(
                    code=code,
                    name=name,
                    township_code=code[:9],
                    county_code=code[:6],
                    created_at=now,
                )
            )
        db.flush()
        for code in VILLAGES:
            db.add(
                VillageBoundary(
                    village_code=code,
                    boundary=MultiPolygon([village_square(code)]),
                    valid_from=now - timedelta(days=400),
                )
            )
        bump_boundary_revision(db)
        unit = Unit(name="市农业农村局")
        other_unit = Unit(name="市交通运输局")
        db.add_all([unit, other_unit])
        db.flush()
        start = date.today() - timedelta(days=200)
        for key, village, u in (
            ("alice", "430121001001", unit),
            ("bob", "430121001002", unit),
            ("carol", "430121002001", other_unit),
            ("dave", "430122001001", other_unit),
        ):
            member = Member(
                full_name=key.title(), position="team_member", unit_id=u.id, created_at=now
            )
            db.add(member)
            db.flush()
            db.add(
                Assignment(
                    member_id=member.id, village_code=village, start_date=start, end_date=None
                )
            )
            world.members[key] = member
            world.add_user(key, "member", "", member_id=member.id)
        world.add_user("township1", "township", "430121001")
        world.add_user("township2", "township", "430121002")
        world.add_user("county", "county", "430121")
        world.add_user("othercounty", "county", "430122")
        world.add_user("city", "city", "4301")
        world.add_user("unit", "unit", "市农业农村局")
        world.add_user("auditor", "auditor", "43")
        world.add_user("admin", "admin", "")
        db.commit()
        return world

    def add_user(self, username: str, role: str, scope: str, member_id: int | None = None) -> User:
        user = User(
            username=username,
            password_hash=password_hash(),
            full_name=username,
            role=role,
            scope=scope,
            member_id=member_id,
            is_active=True,
            created_at=datetime.now(UTC),
        )
        self.db.add(user)
        self.db.flush()
        # Every access token names an open session; tests sign in through this one.
        self.db.add(
            AuthSession(
                id=f"world{user.id:027d}",
                user_id=user.id,
                method="password",
                user_agent="tests",
                created_at=datetime.now(UTC),
            )
        )
        self.db.flush()
        self.users[username] = user
        return user

    def session_id(self, username: str) -> str:
        return f"world{self.users[username].id:027d}"

    def token(self, username: str, ttl: int = 3600) -> str:
        user = self.users[username]
        claims = TokenClaims(user.id, user.role, user.scope, self.session_id(username))
        return issue_token(claims, SECRET, ttl)

    def headers(self, username: str, **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(username)}", **extra}

    def get(self, username: str, path: str, **kwargs: Any) -> Any:
        return self.client.get(f"/api/v1{path}", headers=self.headers(username), **kwargs)

    def post(self, username: str, path: str, **kwargs: Any) -> Any:
        return self.client.post(f"/api/v1{path}", headers=self.headers(username), **kwargs)
