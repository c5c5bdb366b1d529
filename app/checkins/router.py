"""HTTP routes of the check-ins domain."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Annotated, Any

import anyio
import anyio.to_thread
from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.security import OAuth2PasswordBearer

from app.auth.dependencies import (
    CurrentPrincipal,
    SupervisorPrincipal,
    known_member,
    uploading_member,
    verified_claims,
)
from app.auth.errors import RoleRequired
from app.checkins import fast_path, reading, reviews, storing
from app.checkins.answers import add_roll_call_status
from app.checkins.errors import (
    BatchTooLarge,
    CheckInNotFound,
    IdempotencyConflict,
    InFuture,
    InvalidTransition,
    TooOld,
)
from app.checkins.schemas import (
    MAX_BATCH,
    BatchIn,
    BatchItemResult,
    BatchOut,
    CheckInCreate,
    CheckInOut,
    ReviewIn,
)
from app.core.db import session_scope
from app.core.deps import PolicyDep, SessionDep
from app.core.errors import (
    AppError,
    NotAuthenticated,
    ValidationFailed,
    error_responses,
    render_app_error,
)
from app.core.inputs import MAX_BIG_ID, MAX_ID, Day
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_instant_id,
    encode_cursor,
)
from app.core.roundtrip import begin_on_first_trip
from app.core.security import TokenClaims
from app.core.time import utcnow
from app.org.errors import MemberNotFound
from app.org.scope import day_filter
from app.org.service import get_visible_member

router = APIRouter(tags=["checkins"])

CheckInId = Annotated[int, Path(ge=1, le=MAX_BIG_ID)]
_JSON = "application/json"
# The same scheme as the other routes' (one entry in OpenAPI); read here without a thread hop.
BearerToken = Annotated[
    str | None, Depends(OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False))
]


def _json(model: CheckInOut | BatchOut, status: int) -> Response:
    # Serialised by Pydantic directly: FastAPI's response_model pass would validate it again.
    return Response(model.model_dump_json(), status_code=status, media_type=_JSON)


@router.post(
    "/checkins",
    status_code=201,
    response_model=CheckInOut,
    responses={
        200: {"model": CheckInOut, "description": "the same client_id and body: stored before"},
        **error_responses(NotAuthenticated, RoleRequired, IdempotencyConflict, TooOld, InFuture),
    },
)
async def create_checkin(request: Request, body: CheckInCreate, token: BearerToken) -> Response:
    """Check in (members only, for themselves). Safe to resend: `client_id` is the key."""
    claims = _uploader_claims(request, token)
    uploads = getattr(request.app.state, "uploads", None)
    member_id = known_member(claims)  # None: the user's first upload here, read by a thread
    if uploads is not None and member_id is not None:
        checkin = await fast_path.record(uploads, member_id, body, utcnow(), claims)
        if checkin is not None:
            return _json(checkin, 201)
    return await _in_upload_thread(request, "single", _create_checkin, request, body, claims)


def _create_checkin(request: Request, body: CheckInCreate, claims: TokenClaims) -> Response:
    with session_scope(request.app.state.session_factory) as session:
        begin_on_first_trip(session)
        member_id = uploading_member(session, claims)
        checkin, created = storing.record(
            session, request.app.state.policy, member_id, body, utcnow(), token=claims
        )
        if body.roll_call_id is not None:
            add_roll_call_status(request.app, session, [checkin])
    return _json(checkin, 201 if created else 200)


@router.post(
    "/checkins/batch",
    response_model=BatchOut,
    responses=error_responses(NotAuthenticated, RoleRequired, BatchTooLarge),
)
async def create_checkin_batch(request: Request, batch: BatchIn, token: BearerToken) -> Response:
    """Upload stored fixes (offline) in one go: results in input order; a bad item is
    rejected alone, with the problem it would have had on its own."""
    if len(batch.items) > MAX_BATCH:
        raise BatchTooLarge(limit=MAX_BATCH, count=len(batch.items))
    claims = _uploader_claims(request, token)
    return await _in_upload_thread(request, "batch", _create_checkins, request, batch, claims)


def _create_checkins(request: Request, batch: BatchIn, claims: TokenClaims) -> Response:
    with session_scope(request.app.state.session_factory) as session:
        begin_on_first_trip(session)
        member_id = uploading_member(session, claims)
        outcomes = storing.record_batch(
            session, request.app.state.policy, member_id, batch.items, utcnow(), token=claims
        )
        add_roll_call_status(
            request.app, session, [o.checkin for o in outcomes if o.checkin is not None]
        )
    results = [
        BatchItemResult(
            client_id=o.client_id,
            status=o.status,
            checkin=o.checkin,
            error=None if o.error is None else _problem(request, o.error),
        )
        for o in outcomes
    ]
    return _json(BatchOut(results=results), 200)


async def _in_upload_thread(
    request: Request, kind: str, work: Callable[..., Response], *args: Any
) -> Response:
    """Run an upload in one of the process's few upload threads (`ZHUCUN_UPLOAD_THREADS` for
    single check-ins, as many again for batches, so a long batch never holds up a check-in)."""
    state = request.app.state
    if not hasattr(state, "upload_limiters"):
        state.upload_limiters = {}
    limiters: dict[str, anyio.CapacityLimiter] = state.upload_limiters
    limiter = limiters.get(kind)
    if limiter is None:
        limiter = limiters[kind] = anyio.CapacityLimiter(request.app.state.settings.upload_threads)
    return await anyio.to_thread.run_sync(work, *args, limiter=limiter)


def _uploader_claims(request: Request, token: str | None) -> TokenClaims:
    """The upload routes' caller, from the token alone: whether its user is still an active
    member in an open session is checked in the upload's first round trip (`storing`), not
    by the shared dependency's statement of its own. Verified once per
    request, before either path."""
    claims = verified_claims(token, request.app.state.settings.secret_key)
    if claims.role != "member":
        raise RoleRequired(roles="member")
    request.state.user_id = claims.user_id
    return claims


def _problem(request: Request, error: AppError) -> dict[str, Any]:
    """The problem a lone request would have answered: the same body, request id included."""
    problem: dict[str, Any] = json.loads(bytes(render_app_error(request, error).body))
    return problem


@router.get(
    "/checkins",
    response_model=Page[CheckInOut],
    responses=error_responses(MemberNotFound, InvalidCursor),
)
def list_checkins(
    request: Request,
    principal: CurrentPrincipal,
    session: SessionDep,
    member_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="omit for yourself (members)")
    ] = None,
    from_: Annotated[Day | None, Query(alias="from", description="first local date")] = None,
    to: Annotated[Day | None, Query(description="last local date")] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Response:
    """A member's check-ins, newest first. Members see only their own; others name one in
    their scope."""
    if member_id is None:
        if principal.member_id is None:
            raise ValidationFailed(
                [{"loc": ["query", "member_id"], "msg": "required unless you are a member"}]
            )
        member_id = principal.member_id
    get_visible_member(session, principal, member_id)
    after = cursor_instant_id(cursor)
    visible = day_filter(principal, reading.current_assigned_village())
    named = principal.role != "member"  # reviewers see who else used a shared device
    items = reading.list_checkins(session, member_id, from_, to, after, limit + 1, visible, named)
    add_roll_call_status(request.app, session, items[:limit])
    next_cursor = None
    if len(items) > limit:
        last = items[limit - 1]
        next_cursor = encode_cursor([last.captured_at.isoformat(), last.id])
    page = Page[CheckInOut](items=items[:limit], next_cursor=next_cursor)
    return Response(page.model_dump_json(), media_type=_JSON)


_REVIEW_ERRORS = error_responses(RoleRequired, CheckInNotFound, InvalidTransition)


@router.post("/checkins/{checkin_id}/void", response_model=CheckInOut, responses=_REVIEW_ERRORS)
def void_checkin(
    request: Request,
    checkin_id: CheckInId,
    body: ReviewIn,
    principal: SupervisorPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> Response:
    """Void a fix (township and up, in scope): a review record beside it; it no longer counts."""
    checkin = reviews.review(session, policy, principal, checkin_id, "void", body.reason, utcnow())
    add_roll_call_status(request.app, session, [checkin])
    return _json(checkin, 200)


@router.post("/checkins/{checkin_id}/restore", response_model=CheckInOut, responses=_REVIEW_ERRORS)
def restore_checkin(
    request: Request,
    checkin_id: CheckInId,
    body: ReviewIn,
    principal: SupervisorPrincipal,
    session: SessionDep,
    policy: PolicyDep,
) -> Response:
    """Undo a void (township and up, in scope): another review record."""
    checkin = reviews.review(
        session, policy, principal, checkin_id, "restore", body.reason, utcnow()
    )
    add_roll_call_status(request.app, session, [checkin])
    return _json(checkin, 200)
