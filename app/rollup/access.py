"""Who reads the national rollup, and which provinces they see."""

from __future__ import annotations

from sqlalchemy import Connection

from app.auth.principal import Principal
from app.org.divisions import is_prefix
from app.org.errors import InvalidScope, ScopeNotFound
from app.rollup import service
from app.rollup.errors import RollupNotConfigured

# The readers of on-post rates and the map. A caller sees the provinces whose code starts with
# their division prefix: admin and a national auditor (scope "") every province, an auditor of
# province 43 that one; a city (4301) sees a publisher only if one publishes as 4301.
READERS = ("township", "county", "city", "auditor", "admin")


def prefix(principal: Principal, scope: str | None) -> str:
    """The caller's prefix narrowed to `scope`; not digits is 422 invalid_scope, a scope
    outside the caller's own 404 scope_not_found."""
    own = principal.division_prefix or ""
    if not scope:
        return own
    if not is_prefix(scope):
        raise InvalidScope()
    if not scope.startswith(own):
        raise ScopeNotFound(scope=scope)
    return scope


def configured(connection: Connection) -> Connection:
    """`connection`, if its database holds the rollup's tables; else 409."""
    if not service.configured(connection):
        raise RollupNotConfigured()
    return connection
