"""What a report may cover: a division-code prefix or a dispatching unit, within the caller's
own scope."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, select, true
from sqlalchemy.orm import Session

from app.auth.principal import Principal
from app.org.divisions import is_prefix
from app.org.errors import ScopeNotFound
from app.org.models import Assignment, Member, Unit
from app.org.scope import resolve_scope

# Who may pull reports (API.md "Reports"); members are refused.
REPORT_ROLES = ("township", "county", "city", "unit", "auditor", "admin")


@dataclass(frozen=True)
class ReportScope:
    prefix: str | None  # division-code prefix ("" for everything); with `unit`, narrows it
    unit: str | None

    @property
    def label(self) -> str:
        if self.unit is None:
            return self.prefix or "all"
        return f"{self.unit}:{self.prefix}" if self.prefix else self.unit

    def assignments(self) -> ColumnElement[bool]:
        """A filter on `Assignment` (joined to nothing) keeping the assignments in scope: a
        member's days count where they were assigned under the scope (a moved member's days
        elsewhere belong to the other scope)."""
        under = Assignment.village_code.startswith(self.prefix) if self.prefix else true()
        if self.unit is None:
            return under
        return and_(
            under,
            Assignment.member_id.in_(
                select(Member.id)
                .join(Unit, Unit.id == Member.unit_id)
                .where(Unit.name == self.unit)
            ),
        )


def resolve(session: Session, principal: Principal, scope: str | None) -> ReportScope:
    """The caller's scope narrowed to `scope`; a scope outside theirs is 404 `scope_not_found`
    (as if it did not exist), never an empty report. A unit's scope is its name, or a
    division holding a village where one of its members serves (`resolve_scope`, as on every
    list): the unit's members there."""
    if principal.role == "unit":
        if scope is None or scope == principal.scope:
            return ReportScope(None, principal.scope)
        if not is_prefix(scope):
            raise ScopeNotFound(scope=scope)
        return ReportScope(resolve_scope(session, principal, scope), principal.scope)
    own = principal.division_prefix
    if own is None:
        raise ScopeNotFound(scope=scope or "")
    if scope is None:
        return ReportScope(own, None)
    if not is_prefix(scope) or not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    return ReportScope(scope, None)


# Who reads any export's receipt: those who check the record, not those it is about.
RECEIPT_READERS_OF_ALL = ("auditor", "admin")


def covers_receipt(principal: Principal, query: dict[str, object]) -> bool:
    """Whether the caller may read the receipt of an export made with `query`: auditors and
    admin always, the user who asked for it, and a caller whose own scope covers the export's
    (a division prefix within theirs; a unit's export only to that unit). Anyone else is
    answered 404, as if the receipt did not exist."""
    if principal.role in RECEIPT_READERS_OF_ALL:
        return True
    if query.get("requested_by") == principal.username:
        return True
    scope = query.get("scope")
    if not isinstance(scope, str):
        return False
    if principal.role == "unit":
        return scope == principal.scope or scope.startswith(f"{principal.scope}:")
    own = principal.division_prefix
    if own is None:
        return False
    if scope == "all":
        return own == ""
    return is_prefix(scope) and scope.startswith(own)
