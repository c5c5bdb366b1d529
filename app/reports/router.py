"""HTTP routes of the reports domain: signed exports and their receipts."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel
from starlette.background import BackgroundTask
from starlette.responses import FileResponse

from app.audit import service as audit_service
from app.audit.dependencies import SigningKeyDep
from app.audit.errors import ReceiptNotFound
from app.audit.schemas import ReceiptOut
from app.auth.dependencies import require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.compliance import rules as compliance_rules
from app.compliance.errors import InvalidPeriod as InvalidCompliancePeriod
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import error_responses
from app.core.inputs import Day, DivisionPrefix
from app.core.pagination import InvalidCursor, decode_cursor, encode_cursor
from app.core.schema_ref import schema_ref
from app.core.time import today
from app.ledger.errors import InvalidPeriod
from app.org.errors import InvalidScope, ScopeNotFound
from app.reports import compliance_report, monthly, presence, rollup_report, service, surveys_report
from app.reports.dependencies import ExportFolderDep, ReadSessionDep, ReportPrincipal
from app.reports.errors import PeriodInFuture
from app.reports.export import Render, Row, disposition
from app.reports.schemas import (
    ComplianceReportPage,
    MonthlyBulletin,
    PresenceReportPage,
    RollupComplianceReportPage,
    SurveyReport,
)
from app.reports.scope import covers_receipt, resolve
from app.rollup import access as rollup_access
from app.rollup.errors import RollupNotConfigured
from app.surveys import waves as survey_waves
from app.surveys.errors import SurveyNotFound

router = APIRouter(prefix="/reports", tags=["reports"])

MAX_REPORT_DAYS = 400
REPORT_PAGE_MAX = 10_000
FormatQuery = Annotated[Literal["csv", "xlsx", "json"], Query(description="csv, xlsx or json")]
ScopeQuery = Annotated[str | None, Query(max_length=200, description="division prefix or unit")]
CursorQuery = Annotated[str | None, Query(description="json: the previous page's next_cursor")]
LimitQuery = Annotated[int, Query(ge=1, le=REPORT_PAGE_MAX, description="json: rows a page")]
EXPORT_HEADERS: dict[str, Any] = {
    "Content-Digest": {
        "description": "RFC 9530: SHA-256 of the body, as the receipt signs it",
        "required": True,
        "schema": {"type": "string", "pattern": r"^sha-256=:[A-Za-z0-9+/]{43}=:$"},
    },
    "Zhucun-Receipt": {
        "description": "the id of the export's signed receipt: GET /reports/receipts/{id}",
        "required": True,
        "schema": {"type": "string", "format": "uuid"},
    },
    "Content-Disposition": {
        "description": "attachment, naming the file (RFC 6266, filename* in UTF-8)",
        "required": True,
        "schema": {"type": "string"},
    },
}


def export_responses(json_form: type[BaseModel]) -> dict[int | str, dict[str, Any]]:
    """The 200 of an export: the file in the format asked for, signed (its headers)."""
    binary = {"schema": {"type": "string", "format": "binary"}}
    return {
        200: {
            "description": "The export: CSV, XLSX, or JSON as below; `Content-Digest` and "
            "`Zhucun-Receipt` say how to verify it",
            "headers": EXPORT_HEADERS,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": binary,
                "application/json": {"schema": schema_ref(json_form)},
            },
        }
    }


@router.get(
    "/presence",
    response_class=FileResponse,
    responses={
        **export_responses(PresenceReportPage),
        **error_responses(
            RoleRequired, ScopeNotFound, InvalidPeriod, PeriodInFuture, InvalidCursor
        ),
    },
)
def presence_report(
    principal: ReportPrincipal,
    session: SessionDep,
    read: ReadSessionDep,
    policy: PolicyDep,
    key: SigningKeyDep,
    folder: ExportFolderDep,
    from_: Annotated[Day, Query(alias="from")],
    to: Annotated[Day, Query()],
    format: FormatQuery = "csv",
    scope: ScopeQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 1000,
) -> FileResponse:
    """One row per member per assigned day: member, position, unit, village, township, county,
    date, workday, status (as the ledger derives it), counted check-ins, leave. Signed."""
    now = today(policy.zone)
    if to < from_ or (to - from_).days >= MAX_REPORT_DAYS:
        raise InvalidPeriod(max_days=MAX_REPORT_DAYS)
    if from_ > now:
        raise PeriodInFuture(today=now.isoformat())
    where = resolve(session, principal, scope)
    after = _presence_cursor(cursor) if format == "json" else None
    query: dict[str, Any] = {
        "report": "presence",
        "from": from_.isoformat(),
        "to": to.isoformat(),
        "scope": where.label,
        "format": format,
        "requested_by": principal.username,
    }
    if format == "json":
        query |= {"cursor": cursor, "limit": limit}
    made = service.produce(
        session,
        key,
        query=query,
        columns=presence.COLUMNS,
        rows=presence.rows(
            read, policy, where, from_, to, now, Render(presence.COLUMNS, format), after
        ),
        fmt=format,
        folder=folder,
        title="驻村考勤明细",
        filename=f"驻村考勤明细_{where.label}_{from_.isoformat()}_{to.isoformat()}",
        limit=limit,
        cursor_of=_presence_next,
        zone=policy.zone,
    )
    return _send(made)


@router.get(
    "/compliance",
    response_class=FileResponse,
    responses={
        **export_responses(ComplianceReportPage),
        **error_responses(
            RoleRequired, ScopeNotFound, InvalidCompliancePeriod, PeriodInFuture, InvalidCursor
        ),
    },
)
def compliance_export(
    principal: ReportPrincipal,
    session: SessionDep,
    read: ReadSessionDep,
    policy: PolicyDep,
    key: SigningKeyDep,
    folder: ExportFolderDep,
    period: Annotated[str, Query(max_length=10, description="2026Q4 (a configured rule's)")],
    format: FormatQuery = "csv",
    scope: ScopeQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 1000,
) -> FileResponse:
    """One row per member assigned in the period under the scope, worst first: the compliance
    answer flattened, violations counted by code. Signed."""
    now = today(policy.zone)
    span = compliance_report.period(policy, period)
    if span.start > now:
        raise PeriodInFuture(today=now.isoformat())
    where = resolve(session, principal, scope)
    after = _order_cursor(cursor) if format == "json" else None
    query: dict[str, Any] = {
        "report": "compliance",
        "period": span.label,
        "scope": where.label,
        "format": format,
        "requested_by": principal.username,
    }
    if format == "json":
        query |= {"cursor": cursor, "limit": limit}
    made = service.produce(
        session,
        key,
        query=query,
        columns=compliance_report.COLUMNS,
        rows=compliance_report.rows(
            read,
            policy,
            principal,
            where,
            span,
            now,
            Render(compliance_report.COLUMNS, format),
            after,
        ),
        fmt=format,
        folder=folder,
        title="驻村考核",
        filename=f"驻村考核_{where.label}_{span.label}",
        limit=limit,
        cursor_of=lambda row: encode_cursor(list(compliance_report.order_of(row))),
        zone=policy.zone,
    )
    return _send(made)


@router.get(
    "/monthly",
    response_class=FileResponse,
    responses={
        **export_responses(MonthlyBulletin),
        **error_responses(RoleRequired, ScopeNotFound, InvalidCompliancePeriod, PeriodInFuture),
    },
)
def monthly_bulletin(
    principal: ReportPrincipal,
    session: SessionDep,
    read: ReadSessionDep,
    policy: PolicyDep,
    key: SigningKeyDep,
    folder: ExportFolderDep,
    month: Annotated[str, Query(max_length=7, description="2026-11")],
    format: FormatQuery = "csv",
    scope: ScopeQuery = None,
) -> FileResponse:
    """The monthly attendance bulletin (每月考勤通报): per county and township, members,
    member-days, present days, on-post rate, absences without leave, leave and overstays
    (超假); then the members below pace in the current quota period. CSV: two blocks; XLSX:
    two sheets; JSON: `{"divisions", "below_pace"}`. Signed."""
    now = today(policy.zone)
    span = compliance_rules.parse_period(month)
    if span is None or span.kind != "month":
        raise InvalidCompliancePeriod(period=month, allowed="YYYY-MM")
    if span.start > now:
        raise PeriodInFuture(today=now.isoformat())
    where = resolve(session, principal, scope)
    query: dict[str, Any] = {
        "report": "monthly",
        "month": span.label,
        "scope": where.label,
        "format": format,
        "requested_by": principal.username,
    }
    made = service.produce_tables(
        session,
        key,
        query=query,
        tables=monthly.tables(read, policy, principal, where, span, now, format),
        fmt=format,
        folder=folder,
        title="每月考勤通报",
        filename=f"每月考勤通报_{where.label}_{span.label}",
        zone=policy.zone,
    )
    return _send(made)


RollupReaderPrincipal = Annotated[Principal, Depends(require_roles(*rollup_access.READERS))]


@router.get(
    "/rollup-compliance",
    response_class=FileResponse,
    responses={
        **export_responses(RollupComplianceReportPage),
        **error_responses(
            RoleRequired, InvalidScope, ScopeNotFound, InvalidCompliancePeriod, RollupNotConfigured
        ),
    },
)
def rollup_compliance_export(
    principal: RollupReaderPrincipal,
    session: SessionDep,
    read: ReadSessionDep,
    policy: PolicyDep,
    key: SigningKeyDep,
    folder: ExportFolderDep,
    period: Annotated[str, Query(max_length=10, description="2026Q4, 2026-11 or 2026")],
    format: FormatQuery = "csv",
    scope: Annotated[
        DivisionPrefix | None, Query(max_length=12, description="division prefix")
    ] = None,
) -> FileResponse:
    """The national compliance report (全国考核汇总), on the national database: per province
    whose code is under the caller's scope, members judged over the period, compliant, the
    rate, a count per status and the day of the oldest judgement (GET /rollup/compliance as a
    file). Without the rollup's tables: 409 rollup_not_configured. Signed."""
    span = compliance_rules.parse_period(period)
    if span is None:
        raise InvalidCompliancePeriod(period=period, allowed="2026Q4, 2026-11, 2026")
    within = rollup_access.prefix(principal, scope)
    connection = rollup_access.configured(read.connection())
    query: dict[str, Any] = {
        "report": "rollup_compliance",
        "period": span.label,
        "scope": within or "all",
        "format": format,
        "requested_by": principal.username,
    }
    made = service.produce(
        session,
        key,
        query=query,
        columns=rollup_report.COLUMNS,
        rows=rollup_report.rows(
            connection, span.label, within, Render(rollup_report.COLUMNS, format)
        ),
        fmt=format,
        folder=folder,
        title="全国考核汇总",
        filename=f"全国考核汇总_{within or 'all'}_{span.label}",
        limit=REPORT_PAGE_MAX,
        cursor_of=lambda row: encode_cursor([row[0]]),
        zone=policy.zone,
    )
    return _send(made)


SurveyReaderPrincipal = Annotated[Principal, Depends(require_roles(*survey_waves.READERS))]


@router.get(
    "/surveys",
    response_class=FileResponse,
    responses={
        **export_responses(SurveyReport),
        **error_responses(RoleRequired, SurveyNotFound),
    },
)
def survey_report(
    principal: SurveyReaderPrincipal,
    session: SessionDep,
    read: ReadSessionDep,
    policy: PolicyDep,
    key: SigningKeyDep,
    folder: ExportFolderDep,
    survey_id: Annotated[int, Query(ge=1, le=2**31 - 1)],
    format: FormatQuery = "csv",
) -> FileResponse:
    """A satisfaction wave's results (county, city, auditor): per village the answers, the
    rates with and without excluded answers and the answers each kind of anomaly names; per
    member the rates of the villages served during the wave. Signed."""
    survey = survey_waves.get_visible(read, principal, survey_id)
    prefix = survey_waves.within(principal, survey)
    query: dict[str, Any] = {
        "report": "surveys",
        "survey_id": survey.id,
        "scope": prefix,
        "format": format,
        "requested_by": principal.username,
    }
    made = service.produce_tables(
        session,
        key,
        query=query,
        tables=surveys_report.tables(read, policy, survey, prefix, format),
        fmt=format,
        folder=folder,
        title="满意度测评结果",
        filename=f"满意度测评结果_{survey.id}_{prefix or 'all'}",
    )
    return _send(made)


def _order_cursor(cursor: str | None) -> tuple[int, int, int] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    if len(key) != 3 or not all(isinstance(k, int) and abs(k) < 2**31 for k in key):
        raise InvalidCursor()
    return (int(key[0]), int(key[1]), int(key[2]))


def _presence_next(row: Row) -> str:
    return encode_cursor([row[0], row[8].isoformat()])


def _presence_cursor(cursor: str | None) -> tuple[int, date] | None:
    key = decode_cursor(cursor)
    if key is None:
        return None
    try:
        member_id, day = key
        if not isinstance(member_id, int) or not 0 <= member_id < 2**31:
            raise ValueError
        return member_id, date.fromisoformat(day)
    except (ValueError, TypeError):
        raise InvalidCursor() from None


def _send(made: service.Export) -> FileResponse:
    return FileResponse(
        made.path,
        media_type=made.media_type,
        headers={
            "Content-Digest": made.receipt["content_digest"],
            "Zhucun-Receipt": made.receipt["id"],
            "Content-Disposition": disposition(made.filename),
            "Cache-Control": "no-store",
        },
        background=BackgroundTask(made.path.unlink, missing_ok=True),
    )


@router.get(
    "/receipts/{receipt_id}",
    response_model=ReceiptOut,
    responses=error_responses(RoleRequired, ReceiptNotFound),
)
def receipt(
    principal: ReportPrincipal,
    session: SessionDep,
    receipt_id: Annotated[str, Path(max_length=36)],
) -> ReceiptOut:
    """An export's signed receipt: Ed25519 over the RFC 8785 JSON of every field but
    `signature`; verify offline with `zhucun audit verify-export FILE RECEIPT.json`. Readable
    by the user who made the export, callers whose scope covers the export's, auditors and
    admin; 404 to anyone else."""
    document = audit_service.get_receipt(session, receipt_id)
    if not covers_receipt(principal, document["query"]):
        raise ReceiptNotFound(receipt_id=receipt_id)
    return ReceiptOut(**document)
