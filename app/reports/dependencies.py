"""Request dependencies of the reports domain."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from app.auth.dependencies import require_roles
from app.auth.principal import Principal
from app.core.deps import get_reports_session
from app.core.scratch import ScratchFolder
from app.reports.scope import REPORT_ROLES


def get_read_session(request: Request) -> Iterator[Session]:
    """A read-only session with one snapshot for a whole export, apart from the request's
    session (which stores the receipt): a long export never holds the write lock. On the
    reports' replica when one is configured and in bound (app.core.replica)."""
    yield from get_reports_session(request)


def export_folder(request: Request) -> ScratchFolder:
    """The app's folder for exports before they are sent (app.core.scratch)."""
    folder: ScratchFolder = request.app.state.exports
    return folder


ReadSessionDep = Annotated[Session, Depends(get_read_session, scope="function")]
ExportFolderDep = Annotated[ScratchFolder, Depends(export_folder)]
ReportPrincipal = Annotated[Principal, Depends(require_roles(*REPORT_ROLES))]
