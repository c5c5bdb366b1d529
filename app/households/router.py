"""HTTP routes of households and visits (帮扶到户): households and pairings, plans, visits,
the household's countersign (public), call-backs, and the households report."""

from __future__ import annotations

import csv
import io
from typing import Annotated, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response, status
from fastapi.security import OAuth2PasswordBearer
from pydantic import ConfigDict, RootModel
from sqlalchemy import select

from app.audit.access import log_read
from app.auth.dependencies import (
    CurrentPrincipal,
    MemberPrincipal,
    require_roles,
    uploading_member,
    verified_claims,
)
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.auth.router import client_address
from app.checkins.errors import IdempotencyConflict, InFuture, TooOld
from app.core.bodies import BODY_MODELS
from app.core.db import session_scope
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import NotAuthenticated, error_responses
from app.core.inputs import MAX_ID, DivisionPrefix
from app.core.pagination import (
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_id,
    next_id_cursor,
)
from app.core.schema_ref import schema_ref
from app.core.time import today, utcnow
from app.households import callbacks, countersign, importing, pairings, plans, service, visits
from app.households.errors import (
    AlreadyAnswered,
    CallbackNotFound,
    CountersignNotFound,
    Expired,
    HouseholdNotFound,
    ImportRefused,
    InvalidPairing,
    NotPairedMember,
    TooManyCodes,
)
from app.households.models import Callback, Household, Visit
from app.households.report import HouseholdReport, report_rows
from app.households.schemas import (
    CallbackBrief,
    CallbackOut,
    CodeIn,
    CountersignAnswer,
    CountersignReceipt,
    CountersignView,
    DrawIn,
    DrawOut,
    HouseholdDetail,
    HouseholdOut,
    ImportSummary,
    OutcomeIn,
    PairingIn,
    PlanHistoryOut,
    PlanIn,
    PlanOut,
    TokenOut,
    VisitIn,
    VisitOut,
)
from app.org.errors import InvalidScope, MemberNotFound, ScopeNotFound
from app.org.service import get_visible_member
from app.supervision.scope import prefix_for

router = APIRouter(tags=["households"])
# The same scheme as the other routes' (one entry in OpenAPI), read without a database trip.
BearerToken = Annotated[
    str | None, Depends(OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False))
]
public_router = APIRouter(tags=["households"])

HouseholdId = Annotated[int, Path(ge=1, le=MAX_ID)]
CallbackId = Annotated[int, Path(ge=1, le=MAX_ID)]
Token = Annotated[str, Path(pattern=r"^[A-Za-z0-9_-]{16,64}$")]
ScopeQuery = Annotated[
    DivisionPrefix | None, Query(description="division code prefix within your own")
]
ImporterPrincipal = Annotated[Principal, Depends(require_roles("county", "city", "admin"))]
ListPrincipal = Annotated[Principal, Depends(require_roles(*service.LIST_ROLES))]
PairerPrincipal = Annotated[
    Principal, Depends(require_roles("township", "county", "city", "admin"))
]
CallerPrincipal = Annotated[Principal, Depends(require_roles("township", "county"))]
CallbackReader = Annotated[
    Principal, Depends(require_roles("township", "county", "city", "auditor", "admin"))
]


class HouseholdCsv(RootModel[str]):
    """The households CSV (UTF-8 or GB18030): household_code, village_code, head_name, address,
    latitude, longitude, coord_system, category, risk, phone, member_username, paired_from."""

    model_config = ConfigDict(
        json_schema_extra={
            "format": "binary",
            "examples": [
                "household_code,village_code,head_name,address,latitude,longitude,coord_system,"
                "category,risk,phone,member_username,paired_from\n"
                "4301210010010001,430121001001,张三,东山村1组,28.3101,113.0102,wgs84,脱贫户,"
                "重点,13812345678,alice,2026-01-01\n"
            ],
        }
    )


BODY_MODELS["HouseholdCsv"] = HouseholdCsv
_CSV_BODY = {
    "requestBody": {
        "required": True,
        "description": "the households file's bytes, sent as text/csv (or any type: the bytes "
        "are read as they are, their encoding detected)",
        # Declared as octet-stream: generated clients send files so (text/csv they cannot).
        "content": {
            "application/octet-stream": {"schema": {"$ref": "#/components/schemas/HouseholdCsv"}}
        },
    }
}


def _prefix(session: SessionDep, principal: Principal, scope: str | None) -> str | None:
    """The division prefix to filter by (None: the caller's own visibility alone)."""
    if principal.division_prefix is None and not scope:
        return None
    return prefix_for(session, principal, scope)


# ----------------------------------------------------------------------------------- import


@router.post(
    "/households/import",
    response_model=ImportSummary,
    openapi_extra=_CSV_BODY,
    responses=error_responses(RoleRequired, ImportRefused),
)
async def import_households(
    request: Request, principal: ImporterPrincipal, session: SessionDep, policy: PolicyDep
) -> ImportSummary:
    """Import households and pairings from a CSV file (county and up): all or nothing, every
    problem named by its line; importing the same file again changes nothing."""
    data = await request.body()
    return await anyio.to_thread.run_sync(
        lambda: importing.import_households(
            session, policy, data, f"user:{principal.user_id}", utcnow()
        )
    )


# ------------------------------------------------------------------------------- households


@router.get(
    "/households",
    response_model=Page[HouseholdOut],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope, InvalidCursor),
)
def list_households(
    principal: ListPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    scope: ScopeQuery = None,
    village_code: Annotated[str | None, Query(pattern=r"^[0-9]{12}$")] = None,
    member_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    overdue: bool | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Response:
    """Households in your scope (township and up, unit, auditor), by id."""
    prefix = _prefix(session, principal, scope)
    day = today(policy.zone)
    query = select(Household).where(service.visibility(principal))
    if prefix:
        query = query.where(Household.village_code.startswith(prefix))
    if village_code:
        query = query.where(Household.village_code == village_code)
    if member_id is not None:
        query = query.where(Household.member_id == member_id)
    if overdue is not None:
        query = query.where(service.overdue_filter(policy, day, overdue))
    after = cursor_id(cursor)
    if after is not None:
        query = query.where(Household.id > after)
    rows = list(session.scalars(query.order_by(Household.id).limit(limit + 1)))
    items = service.outs(session, principal, policy, rows[:limit], day)
    page = Page[HouseholdOut](items=items, next_cursor=next_id_cursor([h.id for h in rows], limit))
    # Serialised by Pydantic directly: FastAPI's response_model pass would validate it again.
    return Response(page.model_dump_json(by_alias=True), media_type="application/json")


@router.get(
    "/me/households",
    response_model=Page[HouseholdOut],
    responses=error_responses(RoleRequired),
)
def my_households(
    principal: MemberPrincipal, session: SessionDep, policy: PolicyDep
) -> Page[HouseholdOut]:
    """Your paired households, most overdue first."""
    day = today(policy.zone)
    rows = list(
        session.scalars(
            select(Household)
            .where(Household.member_id == principal.member_id)
            .order_by(Household.id)
        )
    )
    items = service.outs(session, principal, policy, rows, day)
    items.sort(key=lambda h: (h.next_due, h.id))
    return Page(items=items, next_cursor=None)


@router.get(
    # `:int`: so that /households/import is never taken for a household (its Allow header)
    "/households/{household_id:int}",
    response_model=HouseholdDetail,
    responses=error_responses(HouseholdNotFound),
)
def get_household(
    household_id: HouseholdId, principal: CurrentPrincipal, session: SessionDep, policy: PolicyDep
) -> HouseholdDetail:
    """The household with its last 20 visits and its call-backs."""
    household = service.get_visible(session, principal, household_id)
    day = today(policy.zone)
    out = service.outs(session, principal, policy, [household], day)[0]
    recent = session.scalars(
        select(Visit)
        .where(Visit.household_id == household.id)
        .order_by(Visit.captured_at.desc(), Visit.id.desc())
        .limit(20)
    )
    calls = session.scalars(
        select(Callback).where(Callback.household_id == household.id).order_by(Callback.id.desc())
    )
    return HouseholdDetail(
        **out.model_dump(by_alias=False),
        visits=[service.visit_out(v) for v in recent],
        callbacks=[CallbackBrief.model_validate(c, from_attributes=True) for c in calls],
    )


@router.post(
    "/households/{household_id}/pairing",
    response_model=HouseholdOut,
    responses=error_responses(RoleRequired, HouseholdNotFound, MemberNotFound, InvalidPairing),
)
def pair_household(
    household_id: HouseholdId,
    body: PairingIn,
    principal: PairerPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> HouseholdOut:
    """Pair the household with a member from a day (township and up): a new pairing row; the
    current one ends the day before. `member_id: null` only ends the current one."""
    household = service.get_visible(session, principal, household_id)
    session.execute(select(Household.id).where(Household.id == household.id).with_for_update())
    actor = f"user:{principal.user_id}"
    if body.member_id is None:
        pairings.end(session, household, body.from_, actor, utcnow())
    else:
        get_visible_member(session, principal, body.member_id)
        pairings.pair(session, household, body.member_id, body.from_, actor, utcnow())
    return service.outs(session, principal, policy, [household], today(policy.zone))[0]


@router.put(
    "/households/{household_id}/plan",
    response_model=PlanOut,
    responses=error_responses(HouseholdNotFound, NotPairedMember),
)
def put_plan(
    household_id: HouseholdId,
    body: PlanIn,
    principal: CurrentPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> PlanOut:
    """A new version of the household's plan (一户一策), by its paired member or township and
    up; every version is kept."""
    household = service.get_visible(session, principal, household_id)
    return plans.put(session, principal, household, body, utcnow(), today(policy.zone))


@router.get(
    "/households/{household_id}/plan/history",
    response_model=PlanHistoryOut,
    responses=error_responses(HouseholdNotFound),
)
def plan_history(
    household_id: HouseholdId, principal: CurrentPrincipal, session: SessionDep, policy: PolicyDep
) -> PlanHistoryOut:
    """Every version of the household's plan, newest first."""
    household = service.get_visible(session, principal, household_id)
    return plans.history(session, household.id, today(policy.zone))


# ----------------------------------------------------------------------------------- visits


@router.post(
    "/visits",
    status_code=status.HTTP_201_CREATED,
    response_model=VisitOut,
    responses={
        200: {"model": VisitOut, "description": "the same client_id and body: stored before"},
        **error_responses(
            NotAuthenticated,
            RoleRequired,
            HouseholdNotFound,
            IdempotencyConflict,
            TooOld,
            InFuture,
        ),
    },
)
def create_visit(
    request: Request,
    body: VisitIn,
    token: BearerToken,
    session: SessionDep,
    policy: PolicyDep,
) -> Response:
    """A visit to a paired household, from your phone at the household (members; no photo):
    stored as a check-in too; a countersign link and code when at the household and fresh.
    Safe to resend: `client_id` is the key."""
    # As a check-in: the token's user is checked in the check-in's first round trip.
    claims = verified_claims(token, request.app.state.settings.secret_key)
    if claims.role != "member":
        raise RoleRequired(roles="member")
    request.state.user_id = claims.user_id
    member_id = uploading_member(session, claims)
    key = countersign.source_key(client_address(request), request.headers.get("user-agent", ""))
    visit, created = visits.record(
        session,
        policy,
        request.app.state.settings.secret_key,
        member_id,
        body,
        utcnow(),
        key,
        token=claims,
    )
    return Response(
        visit.model_dump_json(),
        status_code=201 if created else 200,
        media_type="application/json",
    )


# ------------------------------------------------------------------------------ countersign


@public_router.get(
    "/public/countersign/{token}",
    response_model=CountersignView,
    responses=error_responses(CountersignNotFound, AlreadyAnswered, Expired),
)
def countersign_view(token: Token, session: SessionDep) -> CountersignView:
    """Who visited and when (public: the household's page)."""
    return countersign.view(session, token, utcnow())


@public_router.post(
    "/public/countersign/{token}",
    response_model=CountersignReceipt,
    responses=error_responses(CountersignNotFound, AlreadyAnswered, Expired),
)
def countersign_answer(
    request: Request,
    token: Token,
    body: CountersignAnswer,
    session: SessionDep,
    policy: PolicyDep,
) -> CountersignReceipt:
    """The household's answer, once (public)."""
    key = countersign.source_key(client_address(request), request.headers.get("user-agent", ""))
    receipt = countersign.answer(session, policy, token, body, key, utcnow())
    return CountersignReceipt(receipt=receipt)


@public_router.post(
    "/public/countersign",
    response_model=TokenOut,
    responses=error_responses(CountersignNotFound, AlreadyAnswered, Expired, TooManyCodes),
)
def countersign_code(request: Request, body: CodeIn) -> TokenOut:
    """The token of the visit a 6-digit code was given for (public; wrong codes are throttled
    per address)."""
    address = client_address(request)
    secret = request.app.state.settings.secret_key
    factory = request.app.state.session_factory
    now = utcnow()
    with session_scope(factory) as session:
        countersign.check_throttle(session, address, now)
        try:
            return TokenOut(token=countersign.token_for_code(session, secret, body.code, now))
        except CountersignNotFound:
            failed = True
    if failed:  # counted in a transaction of its own, kept whatever happens next
        with session_scope(factory) as session:
            countersign.record_failure(session, address, now)
    raise CountersignNotFound()


# -------------------------------------------------------------------------------- call-backs


@router.post(
    "/callbacks/draws",
    status_code=status.HTTP_201_CREATED,
    response_model=DrawOut,
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope),
)
def draw_callbacks(
    body: DrawIn, principal: CallerPrincipal, session: SessionDep, policy: PolicyDep
) -> DrawOut:
    """Draw households to call back (回访; township, county): a random share of the range's
    visits, and households of members without visits; the seed re-derives the draw."""
    prefix = prefix_for(session, principal, body.scope)
    return callbacks.draw(session, policy, principal, prefix, body, utcnow())


@router.post(
    "/callbacks/{callback_id}/outcome",
    response_model=CallbackOut,
    responses=error_responses(RoleRequired, CallbackNotFound, AlreadyAnswered),
)
def callback_outcome(
    callback_id: CallbackId,
    body: OutcomeIn,
    principal: CallerPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> CallbackOut:
    """What the household said on the call, once."""
    return callbacks.record_outcome(session, policy, principal, callback_id, body, utcnow())


@router.get(
    "/callbacks",
    response_model=Page[CallbackOut],
    responses=error_responses(RoleRequired, ScopeNotFound, InvalidScope, InvalidCursor),
)
def list_callbacks(
    principal: CallbackReader,
    session: SessionDep,
    scope: ScopeQuery = None,
    status: Literal["pending", "done"] | None = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = 100,
) -> Page[CallbackOut]:
    """Call-backs in your scope, newest first."""
    prefix = prefix_for(session, principal, scope)
    rows = callbacks.list_callbacks(session, prefix, status, cursor_id(cursor), limit + 1)
    if rows[:limit]:  # each call-back shows its household's full phone (app.audit.access)
        log_read(session, principal, what=f"callbacks.phones:{len(rows[:limit])}")
    return Page(
        items=callbacks.outs(session, rows[:limit]),
        next_cursor=next_id_cursor([r.id for r in rows], limit),
    )


# ----------------------------------------------------------------------------------- report


REPORT_COLUMNS = (
    ("household_code", "户编号"),
    ("village_code", "村编码"),
    ("head_name", "户主"),
    ("category", "类别"),
    ("risk", "风险等级"),
    ("phone", "电话"),
    ("member_id", "帮扶责任人编号"),
    ("member_name", "帮扶责任人"),
    ("last_visit_at", "最近走访"),
    ("confirmation", "农户确认"),
    ("next_due", "应走访日期"),
    ("overdue", "逾期"),
)


@router.get(
    "/reports/households",
    responses={
        200: {
            "description": "every household in scope, in JSON or CSV",
            "content": {
                "application/json": {"schema": schema_ref(HouseholdReport)},
                "text/csv": {"schema": {"type": "string"}},
            },
        },
        **error_responses(RoleRequired, ScopeNotFound, InvalidScope),
    },
    tags=["reports"],
)
def households_report(
    principal: ListPrincipal,
    session: SessionDep,
    policy: PolicyDep,
    scope: ScopeQuery = None,
    format: Annotated[Literal["json", "csv"], Query(description="json or csv")] = "csv",
) -> Response:
    """Each household with its member, last visit, its confirmation and overdue state (phones
    masked)."""
    prefix = _prefix(session, principal, scope)
    rows = report_rows(session, principal, policy, prefix, today(policy.zone))
    if format == "json":
        return Response(
            HouseholdReport(items=rows).model_dump_json(), media_type="application/json"
        )
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([zh for _, zh in REPORT_COLUMNS])
    for row in rows:
        data = row.model_dump(mode="json")
        writer.writerow(["" if data[k] is None else data[k] for k, _ in REPORT_COLUMNS])
    return Response(
        "\ufeff" + buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="households.csv"'},
    )
