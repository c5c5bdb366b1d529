"""HTTP routes of supervision: roll calls, inspections, event reports, rectifications."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Response, status

from app.auth.dependencies import CurrentPrincipal, MemberPrincipal, require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import error_responses
from app.core.inputs import Day, DivisionPrefix
from app.core.pagination import (
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_id,
    next_id_cursor,
)
from app.core.time import today, utcnow
from app.org.errors import InvalidScope, MemberNotFound, ScopeNotFound, VillageNotFound
from app.supervision import events, inspections, rectifications, roll_calls
from app.supervision.errors import (
    AlreadyAcknowledged,
    DueInPast,
    EventNotFound,
    InFuture,
    InspectionNotFound,
    InvalidPeriod,
    InvalidTransition,
    InvalidWindow,
    MemberListedTwice,
    MemberNotAssigned,
    MemberNotInspected,
    NobodyCalled,
    RectificationNotFound,
    ReviewerLevelRequired,
    RollCallCap,
    RollCallNotFound,
    TooOld,
    UnknownViolationCode,
)
from app.supervision.schemas import (
    EventAck,
    EventCreate,
    EventOut,
    InspectionCreate,
    InspectionOut,
    InspectionSummary,
    MyRollCall,
    RectificationClose,
    RectificationCreate,
    RectificationOut,
    RollCallCreate,
    RollCallIssued,
    RollCallOut,
    RollCallSummary,
)
from app.supervision.scope import DIVISION_READERS, prefix_for

router = APIRouter(tags=["supervision"])

ItemId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ScopeQuery = Annotated[
    DivisionPrefix | None, Query(description="division code prefix within your own")
]
IssuerPrincipal = Annotated[
    Principal, Depends(require_roles("township", "county", "city"))
]  # township only when the policy allows: checked by the service
InspectorPrincipal = Annotated[Principal, Depends(require_roles(*inspections.INSPECTORS))]
ReaderPrincipal = Annotated[Principal, Depends(require_roles(*DIVISION_READERS))]
ReviewerPrincipal = Annotated[Principal, Depends(require_roles("township", "county", "city"))]


# --------------------------------------------------------------------------------- roll calls


@router.post(
    "/roll-calls",
    status_code=status.HTTP_201_CREATED,
    response_model=RollCallIssued,
    responses=error_responses(
        RoleRequired, ScopeNotFound, InvalidScope, InvalidWindow, NobodyCalled, RollCallCap
    ),
)
def issue_roll_call(
    body: RollCallCreate, principal: IssuerPrincipal, session: SessionDep, policy: PolicyDep
) -> RollCallIssued:
    """Call the roll (点名) of every member assigned under `scope` today (county and city; a
    township within its own township when the policy allows)."""
    return roll_calls.issue(session, policy, principal, body, utcnow())


@router.get(
    "/roll-calls",
    response_model=Page[RollCallSummary],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope, InvalidCursor),
)
def list_roll_calls(
    principal: ReaderPrincipal,
    session: SessionDep,
    scope: ScopeQuery = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[RollCallSummary]:
    """Roll calls issued under the scope, newest first."""
    prefix = prefix_for(session, principal, scope)
    rows = roll_calls.list_calls(session, principal, prefix, cursor_id(cursor), limit + 1)
    return Page(items=rows[:limit], next_cursor=next_id_cursor([r.id for r in rows], limit))


@router.get(
    "/roll-calls/{roll_call_id}",
    response_model=RollCallOut,
    responses=error_responses(RoleRequired, RollCallNotFound),
)
def get_roll_call(
    roll_call_id: ItemId, principal: ReaderPrincipal, session: SessionDep
) -> Response:
    """Who responded, who is excused (approved leave), whose answer was rejected and why, and
    who is missing, as the check-ins and leave stand now."""
    call = roll_calls.get_visible(session, principal, roll_call_id)
    return Response(roll_calls.status_page(session, call, utcnow()), media_type="application/json")


@router.get(
    "/me/roll-calls",
    response_model=Page[MyRollCall],
    responses=error_responses(RoleRequired, InvalidCursor),
)
def my_roll_calls(
    principal: MemberPrincipal,
    session: SessionDep,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[MyRollCall]:
    """Open roll calls that include you: answer with a check-in carrying `roll_call_id`."""
    assert principal.member_id is not None
    rows = roll_calls.open_for_member(
        session, principal.member_id, utcnow(), cursor_id(cursor), limit + 1
    )
    return Page(items=rows[:limit], next_cursor=next_id_cursor([r.id for r in rows], limit))


# -------------------------------------------------------------------------------- inspections


@router.post(
    "/inspections",
    status_code=status.HTTP_201_CREATED,
    response_model=InspectionOut,
    responses=error_responses(
        RoleRequired, VillageNotFound, InFuture, TooOld, MemberNotAssigned, MemberListedTwice
    ),
)
def record_inspection(
    body: InspectionCreate, principal: InspectorPrincipal, session: SessionDep, policy: PolicyDep
) -> InspectionOut:
    """Record an unannounced visit (突击暗访): who was found present and who absent."""
    inspection = inspections.record(session, policy, principal, body, utcnow())
    return inspections.reconciled(session, policy, inspection)


@router.get(
    "/inspections",
    response_model=Page[InspectionSummary],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope, InvalidCursor),
)
def list_inspections(
    principal: ReaderPrincipal,
    session: SessionDep,
    scope: ScopeQuery = None,
    from_: Annotated[Day | None, Query(alias="from", description="first visit date")] = None,
    to: Annotated[Day | None, Query(description="last visit date")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[InspectionSummary]:
    """Inspections of villages under the scope, newest first."""
    prefix = prefix_for(session, principal, scope)
    rows = inspections.list_inspections(session, prefix, from_, to, cursor_id(cursor), limit + 1)
    return Page(items=rows[:limit], next_cursor=next_id_cursor([r.id for r in rows], limit))


@router.get(
    "/inspections/{inspection_id}",
    response_model=InspectionOut,
    responses=error_responses(RoleRequired, InspectionNotFound),
)
def get_inspection(
    inspection_id: ItemId, principal: ReaderPrincipal, session: SessionDep, policy: PolicyDep
) -> InspectionOut:
    """The inspection, reconciled with the check-ins as they stand now (late uploads count)."""
    inspection = inspections.get_visible(session, principal, inspection_id)
    return inspections.reconciled(session, policy, inspection)


# ------------------------------------------------------------------------------------- events


@router.post(
    "/events",
    status_code=status.HTTP_201_CREATED,
    response_model=EventOut,
    responses=error_responses(RoleRequired, InFuture, TooOld, MemberNotAssigned),
)
def report_event(
    body: EventCreate, principal: MemberPrincipal, session: SessionDep, policy: PolicyDep
) -> EventOut:
    """Report a major event (大事报告) in your village."""
    now = utcnow()
    return events.out(events.report(session, policy, principal, body, now), policy, now)


@router.get(
    "/events",
    response_model=Page[EventOut],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope, InvalidCursor),
)
def list_events(
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    scope: ScopeQuery = None,
    overdue: bool | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[EventOut]:
    """Event reports in your scope, newest first; `overdue=true`: unacknowledged past the
    policy's hours."""
    prefix = prefix_for(session, principal, scope) if scope else None
    now = utcnow()
    rows = events.list_events(
        session, policy, principal, prefix, overdue, now, cursor_id(cursor), limit + 1
    )
    items = [events.out(e, policy, now) for e in rows[:limit]]
    return Page(items=items, next_cursor=next_id_cursor([e.id for e in rows], limit))


@router.get(
    "/events/{event_id}",
    response_model=EventOut,
    responses=error_responses(EventNotFound),
)
def get_event(
    event_id: ItemId, principal: CurrentPrincipal, session: SessionDep, policy: PolicyDep
) -> EventOut:
    return events.out(events.get_visible(session, principal, event_id), policy, utcnow())


@router.post(
    "/events/{event_id}/acknowledge",
    response_model=EventOut,
    responses=error_responses(RoleRequired, EventNotFound, AlreadyAcknowledged),
)
def acknowledge_event(
    event_id: ItemId,
    principal: Annotated[Principal, Depends(require_roles("township", "county", "city", "admin"))],
    session: SessionDep,
    policy: PolicyDep,
    body: EventAck | None = None,
) -> EventOut:
    """Acknowledge an event report (township and up, in scope); once."""
    now = utcnow()
    event = events.acknowledge(session, principal, event_id, body.comment if body else None, now)
    return events.out(event, policy, now)


# ----------------------------------------------------------------------------- rectifications


@router.post(
    "/rectifications",
    status_code=status.HTTP_201_CREATED,
    response_model=RectificationOut,
    responses=error_responses(
        RoleRequired,
        MemberNotFound,
        InspectionNotFound,
        UnknownViolationCode,
        InvalidPeriod,
        MemberNotInspected,
        DueInPast,
    ),
)
def open_rectification(
    body: RectificationCreate,
    principal: ReviewerPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> RectificationOut:
    """Open an item of the rectification ledger (整改台账) against a member in scope."""
    day = today(policy.zone)
    item = rectifications.open_item(session, principal, body, utcnow(), day)
    return rectifications.outs(session, policy, [item], day)[0]


@router.get(
    "/rectifications",
    response_model=Page[RectificationOut],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope, InvalidCursor),
)
def list_rectifications(
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    scope: ScopeQuery = None,
    status: Literal["open", "closed"] | None = None,
    overdue: bool | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[RectificationOut]:
    """Items in your scope, newest first; `overdue=true`: open past their due date."""
    prefix = prefix_for(session, principal, scope) if scope else None
    day = today(policy.zone)
    rows = rectifications.list_items(
        session, principal, prefix, status, overdue, day, cursor_id(cursor), limit + 1
    )
    items = rectifications.outs(session, policy, rows[:limit], day)
    return Page(items=items, next_cursor=next_id_cursor([r.id for r in rows], limit))


@router.get(
    "/rectifications/{rectification_id}",
    response_model=RectificationOut,
    responses=error_responses(RectificationNotFound),
)
def get_rectification(
    rectification_id: ItemId, principal: CurrentPrincipal, session: SessionDep, policy: PolicyDep
) -> RectificationOut:
    """One item with its trail and the member's presence since it was opened."""
    day = today(policy.zone)
    item = rectifications.get_visible(session, principal, rectification_id)
    return rectifications.outs(session, policy, [item], day, with_presence=True)[0]


@router.post(
    "/rectifications/{rectification_id}/close",
    response_model=RectificationOut,
    responses=error_responses(
        RoleRequired, RectificationNotFound, ReviewerLevelRequired, InvalidTransition
    ),
)
def close_rectification(
    rectification_id: ItemId,
    body: RectificationClose,
    principal: ReviewerPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> RectificationOut:
    """Close with evidence (整改到位). An item born of an inspection needs a reviewer above the
    level that opened it (403 `reviewer_level_required`)."""
    day = today(policy.zone)
    item = rectifications.close(session, principal, rectification_id, body.evidence, utcnow(), day)
    return rectifications.outs(session, policy, [item], day, with_presence=True)[0]
