"""Names for messages: people and villages as a reader knows them, looked up once each per
delivery pass (an event carries ids; its message says who and where)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.auth.models import User
from app.org.models import Assignment, Member, Village


class Names:
    def __init__(self, session: Session) -> None:
        self._session = session
        self._members: dict[int, str] = {}
        self._villages: dict[str, str] = {}
        self._member_villages: dict[int, str | None] = {}
        self._users: dict[int, str] = {}

    def member(self, member_id: object) -> str:
        if not isinstance(member_id, int):
            return "（未知）"
        if member_id not in self._members:
            name = self._session.scalar(select(Member.full_name).where(Member.id == member_id))
            self._members[member_id] = name or f"成员 {member_id}"
        return self._members[member_id]

    def village(self, code: object) -> str:
        if not isinstance(code, str) or not code:
            return "（未知）"
        if code not in self._villages:
            name = self._session.scalar(select(Village.name).where(Village.code == code))
            self._villages[code] = f"{name}（{code}）" if name else code
        return self._villages[code]

    def member_village(self, member_id: object) -> str | None:
        """The village of the member's latest assignment, by name."""
        if not isinstance(member_id, int):
            return None
        if member_id not in self._member_villages:
            name = self._session.scalar(
                select(Village.name)
                .join(Assignment, Assignment.village_code == Village.code)
                .where(Assignment.member_id == member_id)
                .order_by(Assignment.start_date.desc())
                .limit(1)
            )
            self._member_villages[member_id] = name
        return self._member_villages[member_id]

    def user(self, user_id: object) -> str:
        if not isinstance(user_id, int):
            return "（未知）"
        if user_id not in self._users:
            name = self._session.scalar(
                select(User.full_name).where(User.id == user_id)
            ) or self._session.scalar(select(User.username).where(User.id == user_id))
            self._users[user_id] = name or f"用户 {user_id}"
        return self._users[user_id]

    def scope(self, prefix: object) -> str:
        """A division prefix: a village by its name, else its code."""
        if isinstance(prefix, str) and len(prefix) == 12:
            return self.village(prefix)
        return f"区划 {prefix}" if prefix else "全部"
