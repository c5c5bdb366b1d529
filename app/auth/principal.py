"""Who is calling, and what their scope lets them see."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from app.auth.roles import Role

# Roles that judge by division code prefix, with the fixed length of their scope.
DIVISION_ROLES: dict[str, int] = {Role.TOWNSHIP: 9, Role.COUNTY: 6, Role.CITY: 4}
# Who may act on check-ins and inspections ("township and up").
SUPERVISOR_ROLES = (Role.TOWNSHIP, Role.COUNTY, Role.CITY, Role.ADMIN)


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    scope: str
    member_id: int | None
    session_id: str = ""
    # policy.security: what the session is limited to (app.auth.hardening), when the password
    # was set, and the session's last request (or its start).
    restriction: str | None = None
    password_set_at: datetime | None = None
    last_active_at: datetime | None = None

    @property
    def division_prefix(self) -> str | None:
        """The division-code prefix this caller sees, "" for everything, None if not by code."""
        # The separated administrators (sysadmin, security_admin, audit_admin) read no
        # member's records by division: their duties are accounts, keys and the logs.
        if self.role == "admin":
            return ""
        if self.role in DIVISION_ROLES or self.role == "auditor":
            return self.scope
        return None

    def covers_village(self, village_code: str) -> bool:
        prefix = self.division_prefix
        return prefix is not None and village_code.startswith(prefix)
