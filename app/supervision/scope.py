"""What "in scope" means for supervision: a division-code prefix within the caller's own."""

from __future__ import annotations

from sqlalchemy.orm import Session

from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, ScopeNotFound
from app.org.scope import resolve_scope

# Supervising users see by division code; members and unit users are answered elsewhere.
DIVISION_READERS = ("township", "county", "city", "auditor", "admin")


def prefix_for(session: Session, principal: Principal, scope: str | None) -> str:
    """The division prefix a list is filtered by: `scope` when it lies within the caller's own
    (404 `scope_not_found` when it does not), else the caller's own. Members and units have
    no division of their own: a scope is theirs when it holds a village where they (their
    members) serve (`app.org.scope.resolve_scope`), as on every other list."""
    own = principal.division_prefix
    if own is None:
        resolved = resolve_scope(session, principal, scope) if scope else None
        if resolved is None:  # no scope: their own data, listed elsewhere
            raise RoleRequired(roles=", ".join(DIVISION_READERS))
        return resolved
    if not scope:
        return own
    if not is_prefix(scope):
        raise InvalidScope()
    if not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    return scope
