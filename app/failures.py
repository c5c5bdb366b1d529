"""How the command line words a failure an operator can fix: one line, no traceback."""

from __future__ import annotations

from sqlalchemy.exc import DBAPIError

from app.audit.keys import SigningKeyError
from app.auth.level3 import DutiesNotSeparated
from app.core.config import get_settings
from app.core.db import shown_url
from app.core.errors import AppError

MIGRATE_FIRST = "the database lacks this version's migrations: run `zhucun db upgrade` first"


def operator_failure(exc: BaseException) -> str | None:
    """The one line that explains `exc` to the operator, or None when it is a fault of ours
    (which keeps its traceback)."""
    if isinstance(exc, SigningKeyError | DutiesNotSeparated):
        return str(exc)
    if isinstance(exc, AppError):
        return exc.detail("en")
    if isinstance(exc, DBAPIError):
        return _database_failure(exc)
    return None


def _database_failure(exc: DBAPIError) -> str | None:
    """A database that cannot be reached or lacks this version's migrations, whichever command
    met it; anything else a database says is not the operator's to fix."""
    from app.core.migrate import behind

    url = get_settings().effective_database_url
    state = behind(url)
    if state is None:
        reason = (str(exc.orig).strip().splitlines() or [type(exc.orig).__name__])[0]
        return f"cannot reach the database {shown_url(url)}: {reason}"
    return MIGRATE_FIRST if state else None
