"""What a report may cover: a division-code prefix or a dispatching unit, within the caller's
own scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, select, true

from app.auth.principal import Principal
from app.org.divisions import is_prefix
from app.org.errors import ScopeNotFound
from app.org.models import Assignment, Member, Unit

# Who may pull reports (API.md "Reports"); members are refused.
REPORT_ROLES = ("township", "county", "city", "unit", "auditor", "admin")


@dataclass(frozen=True)
class ReportScope:
    prefix: str | None  # division-code prefix ("" for everything), or None for a unit
    unit: str | None

    @property
    def label(self) -> str:
        return self.unit if self.unit is not None else (self.prefix or "all")

    def assignments(self) -> ColumnElement[bool]:
        """A filter on `Assignment` (joined to nothing) keeping the assignments in scope: a
        member's days count where they were assigned under the scope (a moved member's days
        elsewhere belong to the other scope)."""
        if self.unit is not None:
            return Assignment.member_id.in_(
                select(Member.id)
                .join(Unit, Unit.id == Member.unit_id)
                .where(Unit.name == self.unit)
            )
        return Assignment.village_code.startswith(self.prefix) if self.prefix else true()


def resolve(principal: Principal, scope: str | None) -> ReportScope:
    """The caller's scope narrowed to `scope`; a scope outside theirs is 404 `scope_not_found`
    (as if it did not exist), never an empty report."""
    if principal.role == "unit":
        if scope is not None and scope != principal.scope:
            raise ScopeNotFound(scope=scope)
        return ReportScope(None, principal.scope)
    own = principal.division_prefix
    if own is None:
        raise ScopeNotFound(scope=scope or "")
    if scope is None:
        return ReportScope(own, None)
    if not is_prefix(scope) or not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    return ReportScope(scope, None)
