"""HTTP routes of the privacy domain: the access log, the notice, the member's own copy,
complaints and suggestions, and the burden report."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from sqlalchemy import ColumnElement, and_, or_, select, true

from app.audit import actions
from app.audit.models import AccessEntry
from app.auth.dependencies import CurrentPrincipal, require_roles
from app.auth.errors import RoleRequired
from app.auth.models import User
from app.auth.principal import Principal
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import error_responses
from app.core.i18n import current_language
from app.core.inputs import MAX_BIG_ID, MAX_ID, Day, DivisionPrefix
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_id,
    next_id_cursor,
)
from app.core.policy import Policy
from app.core.time import today, utcnow
from app.org.divisions import PROVINCE_CODE_LENGTH, is_prefix
from app.org.errors import ScopeNotFound
from app.org.scope import member_day_filter
from app.privacy import burden, export, feedback
from app.privacy.errors import (
    FeedbackAnswered,
    FeedbackNotFound,
    InvalidMonth,
    NoticeVersionMismatch,
)
from app.privacy.models import Feedback
from app.privacy.notice import VERSION, notice
from app.privacy.schemas import (
    AccessEntryOut,
    BurdenReport,
    FeedbackIn,
    FeedbackOut,
    FeedbackReplyIn,
    MyExport,
    NoticeAckIn,
    NoticeAckOut,
    NoticeOut,
)

router = APIRouter(tags=["privacy"])

AccessLogReader = Annotated[Principal, Depends(require_roles("auditor", "audit_admin", "admin"))]
MemberOnly = Annotated[Principal, Depends(require_roles("member"))]
Answerer = Annotated[Principal, Depends(require_roles(*feedback.ANSWERING_ROLES))]
BurdenReader = Annotated[
    Principal, Depends(require_roles("township", "county", "city", "auditor", "admin"))
]
# Who reads every entry of the access log.
WHOLE_LOG_ROLES = ("admin", "audit_admin")


def _period(policy: Policy, start: date | None, end: date | None) -> ColumnElement[bool]:
    """Entries made on the local days `start` to `end` (either open): a bound on `at`, by
    which PostgreSQL reads only those months' partitions of the access log."""
    bounds: list[ColumnElement[bool]] = []
    if start is not None:
        bounds.append(AccessEntry.at >= _local_midnight(policy, start))
    if end is not None:
        bounds.append(AccessEntry.at < _local_midnight(policy, end + timedelta(days=1)))
    return and_(true(), *bounds)


def _local_midnight(policy: Policy, day: date) -> datetime:
    return datetime.combine(day, time(), policy.zone).astimezone(UTC)


def _page(
    session: SessionDep, where: ColumnElement[bool], cursor: str | None, limit: int
) -> Page[AccessEntryOut]:
    query = select(AccessEntry).where(where).order_by(AccessEntry.seq.desc()).limit(limit + 1)
    before = cursor_id(cursor, MAX_BIG_ID)
    if before is not None:
        query = query.where(AccessEntry.seq < before)
    rows = list(session.scalars(query))
    page = rows[:limit]
    return Page[AccessEntryOut](
        items=[export.access_out(e) for e in page],
        next_cursor=next_id_cursor([e.seq for e in rows], limit),
    )


@router.get(
    "/me/access-log",
    response_model=Page[AccessEntryOut],
    responses=error_responses(RoleRequired, InvalidCursor),
)
def my_access_log(
    principal: MemberOnly,
    session: SessionDep,
    policy: PolicyDep,
    from_: Annotated[Day | None, Query(alias="from", description="first local date")] = None,
    to: Annotated[Day | None, Query(description="last local date")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[AccessEntryOut]:
    """Who looked at my positions (谁看了我的位置), newest first (of the local days `from`
    to `to` when given). My own reads are not logged."""
    where = and_(AccessEntry.subject_member_id == principal.member_id, _period(policy, from_, to))
    return _page(session, where, cursor, limit)


def readable_access(principal: Principal) -> ColumnElement[bool]:
    """The entries `principal` reads: about a member, by the scope rule of that member's
    records on the entry's day; about no member (a household's phone), for whoever sees a
    whole province or wider."""
    if principal.role in WHOLE_LOG_ROLES:
        return true()
    about_member = and_(
        AccessEntry.subject_member_id.is_not(None),
        member_day_filter(principal, AccessEntry.subject_member_id, AccessEntry.member_day),
    )
    prefix = principal.division_prefix
    if prefix is not None and len(prefix) <= PROVINCE_CODE_LENGTH:
        return or_(AccessEntry.subject_member_id.is_(None), about_member)
    return about_member


@router.get(
    "/audit/access-log",
    response_model=Page[AccessEntryOut],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidCursor),
)
def access_log(
    principal: AccessLogReader,
    session: SessionDep,
    policy: PolicyDep,
    scope: Annotated[
        DivisionPrefix | None, Query(max_length=12, description="division prefix")
    ] = None,
    viewer_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    subject_member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    from_: Annotated[Day | None, Query(alias="from", description="first local date")] = None,
    to: Annotated[Day | None, Query(description="last local date")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[AccessEntryOut]:
    """The access log (auditors within their scope, `audit_admin` and admins all), newest
    first: who read whose positions, when (on the local days `from` to `to` when given)."""
    where = and_(readable_access(principal), _period(policy, from_, to))
    if scope is not None:
        own = principal.division_prefix
        outside = principal.role not in WHOLE_LOG_ROLES and (
            own is None or not scope.startswith(own)
        )
        if outside or not is_prefix(scope):
            raise ScopeNotFound(scope=scope)
        narrowed = Principal(0, "", "auditor", scope, None)
        where = and_(
            where,
            member_day_filter(narrowed, AccessEntry.subject_member_id, AccessEntry.member_day),
        )
    if viewer_id is not None:
        where = and_(where, AccessEntry.viewer_id == viewer_id)
    if subject_member_id is not None:
        where = and_(where, AccessEntry.subject_member_id == subject_member_id)
    return _page(session, where, cursor, limit)


@router.get("/privacy/notice", response_model=NoticeOut)
def privacy_notice(policy: PolicyDep) -> NoticeOut:
    """The privacy notice (个人信息处理告知书), current version; public."""
    n = notice(policy, current_language())
    return NoticeOut(
        version=n.version,
        text=n.text,
        basis=n.basis,
        data=n.data,
        retention=n.retention,
        contact=n.contact,
    )


@router.post(
    "/me/notice",
    response_model=NoticeAckOut,
    responses=error_responses(NoticeVersionMismatch),
)
def acknowledge_notice(
    body: NoticeAckIn, principal: CurrentPrincipal, session: SessionDep
) -> NoticeAckOut:
    """Acknowledge the current notice, once per version (again: the same answer)."""
    if body.version != VERSION:
        raise NoticeVersionMismatch(current=VERSION, version=body.version)
    user = session.scalar(select(User).where(User.id == principal.user_id).with_for_update())
    assert user is not None
    if user.notice_version != VERSION or user.notice_acknowledged_at is None:
        user.notice_version, user.notice_acknowledged_at = VERSION, utcnow()
        actions.record(
            session,
            actor=user.id,
            action="privacy.notice_ack",
            subject=f"user:{user.id}",
            payload={"version": VERSION},
        )
        session.flush()
    assert user.notice_acknowledged_at is not None
    return NoticeAckOut(notice_version=VERSION, acknowledged_at=user.notice_acknowledged_at)


@router.get(
    "/me/export",
    response_model=MyExport,
    responses={200: {"content": {"text/csv": {"schema": {"type": "string"}}}}},
)
def my_export(
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Response:
    """Everything held about me: account, posting, check-ins, ledger, leave, events, roll
    calls, feedback and the access log of others' reads of my positions."""
    user = session.get(User, principal.user_id)
    assert user is not None
    made = export.gather(session, user, utcnow(), today(policy.zone))
    if format == "csv":
        return Response(
            export.as_csv(made).encode("utf-8"),
            media_type="text/csv; charset=utf-8",
            headers={
                "Content-Disposition": "attachment; filename*=UTF-8''my-data.csv",
                "Cache-Control": "no-store",
            },
        )
    return Response(
        made.model_dump_json(),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@router.post(
    "/feedback",
    status_code=status.HTTP_201_CREATED,
    response_model=FeedbackOut,
)
def file_feedback(
    body: FeedbackIn, principal: CurrentPrincipal, session: SessionDep, policy: PolicyDep
) -> FeedbackOut:
    """File a complaint, suggestion, burden report or data correction (投诉建议)."""
    return feedback.file(session, policy, principal, body, utcnow())


@router.get(
    "/me/feedback", response_model=Page[FeedbackOut], responses=error_responses(InvalidCursor)
)
def my_feedback(
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[FeedbackOut]:
    """What I filed, and the answers."""
    query = select(Feedback).where(Feedback.user_id == principal.user_id)
    return _feedback_page(session, query.order_by(Feedback.id), cursor, limit, today(policy.zone))


def _feedback_page(
    session: SessionDep, query: object, cursor: str | None, limit: int, day: date
) -> Page[FeedbackOut]:
    from sqlalchemy import Select

    assert isinstance(query, Select)
    after = cursor_id(cursor)
    if after is not None:
        query = query.where(Feedback.id > after)
    rows = list(session.scalars(query.limit(limit + 1)))
    page = rows[:limit]
    return Page[FeedbackOut](
        items=[feedback.out(f, day) for f in page],
        next_cursor=next_id_cursor([f.id for f in rows], limit),
    )


@router.get(
    "/feedback",
    response_model=Page[FeedbackOut],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidCursor),
)
def list_feedback(
    principal: Answerer,
    session: SessionDep,
    policy: PolicyDep,
    scope: Annotated[
        DivisionPrefix | None, Query(max_length=12, description="division prefix")
    ] = None,
    status_: Annotated[Literal["open", "answered"] | None, Query(alias="status")] = None,
    overdue: bool | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[FeedbackOut]:
    """Complaints and suggestions under my division (county and up; admins all)."""
    own = principal.division_prefix
    if scope is not None and (
        not is_prefix(scope) or (principal.role != "admin" and not scope.startswith(own or "\0"))
    ):
        raise ScopeNotFound(scope=scope)
    day = today(policy.zone)
    query = feedback.listing(principal, scope, status_, overdue, day)
    return _feedback_page(session, query, cursor, limit, day)


@router.post(
    "/feedback/{feedback_id}/reply",
    response_model=FeedbackOut,
    responses=error_responses(RoleRequired, FeedbackNotFound, FeedbackAnswered),
)
def reply_feedback(
    body: FeedbackReplyIn,
    principal: Answerer,
    session: SessionDep,
    policy: PolicyDep,
    feedback_id: Annotated[int, Path(ge=1, le=MAX_ID)],
) -> FeedbackOut:
    """Answer one (once)."""
    return feedback.reply(session, policy, principal, feedback_id, body.text, utcnow())


@router.get(
    "/reports/burden",
    response_model=BurdenReport,
    responses={
        200: {"content": {"text/csv": {"schema": {"type": "string"}}}},
        **error_responses(RoleRequired, ScopeNotFound, InvalidMonth),
    },
)
def burden_report(
    request: Request,
    principal: BurdenReader,
    session: SessionDep,
    policy: PolicyDep,
    month: Annotated[str, Query(max_length=7, description="2026-11")],
    scope: Annotated[
        DivisionPrefix | None, Query(max_length=12, description="division prefix")
    ] = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "json",
) -> Response:
    """Burden in numbers (减负), per member of the month: check-ins, visits, roll calls, forms,
    days with an action, actions per present day."""
    first = _month(month, today(policy.zone))
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    own = principal.division_prefix or ""
    if scope is not None and (not is_prefix(scope) or not scope.startswith(own)):
        raise ScopeNotFound(scope=scope)
    prefix = scope if scope is not None else own
    report = BurdenReport(
        month=first.strftime("%Y-%m"), scope=prefix, items=burden.rows(session, prefix, first, last)
    )
    if format == "csv":
        return Response(burden_csv(report).encode("utf-8"), media_type="text/csv; charset=utf-8")
    return Response(report.model_dump_json(), media_type="application/json")


def _month(text: str, now: date) -> date:
    try:
        first = date.fromisoformat(f"{text}-01")
    except ValueError:
        raise InvalidMonth(month=text) from None
    if len(text) != 7 or first > now:
        raise InvalidMonth(month=text)
    return first


BURDEN_HEADERS = (
    "队员编号,姓名,驻村,签到次数,入户走访,被点名次数,应答点名,填报表单,有操作天数,在岗天数,"
    "每在岗日操作数"
)


def burden_csv(report: BurdenReport) -> str:
    lines = [BURDEN_HEADERS]
    for r in report.items:
        name = "'" + r.full_name if r.full_name[:1] in "=+-@" else r.full_name
        name = '"' + name.replace('"', '""') + '"'
        per_day = "" if r.actions_per_present_day is None else str(r.actions_per_present_day)
        lines.append(
            f"{r.member_id},{name},{r.village_code or ''},{r.checkins},{r.visits},"
            f"{r.roll_calls},{r.roll_calls_answered},{r.forms},{r.action_days},"
            f"{r.present_days},{per_day}"
        )
    return "\ufeff" + "\r\n".join(lines) + "\r\n"
