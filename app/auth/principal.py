"""Who is calling, and what their scope lets them see."""

from __future__ import annotations

from dataclasses import dataclass

# Roles that judge by division code prefix; their scope lengths are fixed by API.md.
DIVISION_ROLES = {"township": 9, "county": 6, "city": 4}
# Who may act on check-ins and inspections ("township and up").
SUPERVISOR_ROLES = frozenset({"township", "county", "city", "admin"})


@dataclass(frozen=True)
class Principal:
    user_id: int
    username: str
    role: str
    scope: str
    member_id: int | None
    session_id: str = ""

    @property
    def is_member(self) -> bool:
        return self.role == "member"

    @property
    def division_prefix(self) -> str | None:
        """The division-code prefix this caller sees, "" for everything, None if not by code."""
        if self.role == "admin":
            return ""
        if self.role in DIVISION_ROLES or self.role == "auditor":
            return self.scope
        return None

    def covers_village(self, village_code: str) -> bool:
        prefix = self.division_prefix
        return prefix is not None and village_code.startswith(prefix)

    def covers_unit(self, unit_name: str) -> bool:
        return self.role == "unit" and self.scope == unit_name
