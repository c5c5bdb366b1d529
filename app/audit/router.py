"""HTTP routes of the audit package: public keys, signed checkpoints and the actions log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, and_, or_, select, true

from app.audit import rules, service
from app.audit.dependencies import SigningKeyDep
from app.audit.errors import NoCheckpoint
from app.audit.models import ActionEntry
from app.audit.schemas import (
    ActionOut,
    CheckpointHeadOut,
    CheckpointOut,
    PublicKeyOut,
    PublicKeysOut,
)
from app.auth.dependencies import CurrentPrincipal, require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.deps import SessionDep
from app.core.errors import error_responses
from app.core.inputs import MAX_BIG_ID, Text
from app.core.pagination import (
    DEFAULT_LIMIT,
    CursorQuery,
    InvalidCursor,
    LimitQuery,
    Page,
    cursor_id,
    encode_cursor,
)
from app.org.divisions import PROVINCE_CODE_LENGTH
from app.org.scope import member_day_filter

router = APIRouter(prefix="/audit", tags=["audit"])

# Signing is a key's use: the admin, or under separation of duties the security administrator.
AdminPrincipal = Annotated[Principal, Depends(require_roles("admin", "security_admin"))]
AuditorPrincipal = Annotated[Principal, Depends(require_roles("auditor", "admin", "audit_admin"))]
# Who reads every entry of the actions log.
WHOLE_LOG_ROLES = ("admin", "audit_admin")


@router.get("/public-keys", response_model=PublicKeysOut)
def public_keys(_: CurrentPrincipal, session: SessionDep) -> PublicKeysOut:
    """Every key that has signed here, oldest first; a retired key still verifies what it
    signed."""
    return PublicKeysOut(
        items=[
            PublicKeyOut(
                key_id=k.key_id,
                public_key=k.public_key,
                alg=k.alg,
                created_at=k.created_at,
                retired_at=k.retired_at,
            )
            for k in service.public_keys(session)
        ]
    )


@router.post(
    "/checkpoints",
    status_code=201,
    response_model=CheckpointOut,
    responses=error_responses(RoleRequired),
)
def create_checkpoint(_: AdminPrincipal, session: SessionDep, key: SigningKeyDep) -> CheckpointOut:
    """Sign the Merkle root of every member's check-in chain head (run daily, or use
    `zhucun audit checkpoint`)."""
    return _out(service.make_checkpoint(session, key))


@router.get(
    "/checkpoints/latest",
    response_model=CheckpointOut,
    responses=error_responses(RoleRequired, NoCheckpoint),
)
def latest_checkpoint(_: AuditorPrincipal, session: SessionDep) -> CheckpointOut:
    """The newest signed checkpoint with its leaves."""
    return _out(service.latest_checkpoint(session))


@router.get(
    "/actions",
    response_model=Page[ActionOut],
    responses=error_responses(RoleRequired, InvalidCursor),
)
def list_audit_actions(
    principal: AuditorPrincipal,
    session: SessionDep,
    subject: Annotated[
        Text | None, Query(max_length=128, description="only this subject, e.g. checkin:5")
    ] = None,
    action: Annotated[
        Text | None, Query(max_length=48, description="only this action, e.g. checkin.void")
    ] = None,
    cursor: CursorQuery = None,
    limit: LimitQuery = DEFAULT_LIMIT,
) -> Page[ActionOut]:
    """The actions log (reviews, leave transitions, imports, account and assignment changes),
    oldest first; every entry links to the one before by `prev_hash`.

    An auditor reads an entry about a member (a check-in's review, a leave decision, an
    assignment change, a member account) as they read that member's records of the entry's
    day (a check-in's date, a leave's first day, else the day it was logged); entries about no
    member (other accounts, imports) only with a scope of a whole province or wider. Admins
    read every entry. A page holds only entries the caller reads; `prev_hash` may then name
    an entry it does not show."""
    query = (
        select(ActionEntry)
        .where(readable_entries(principal))
        .order_by(ActionEntry.seq)
        .limit(limit + 1)
    )
    after = cursor_id(cursor, MAX_BIG_ID)
    if after is not None:
        query = query.where(ActionEntry.seq > after)
    if subject:
        query = query.where(ActionEntry.subject == subject)
    if action:
        query = query.where(ActionEntry.action == action)
    rows = list(session.scalars(query))
    page = rows[:limit]
    return Page[ActionOut](
        items=[
            ActionOut(
                seq=e.seq,
                at=rules.action_time(e.at),
                actor=e.actor,
                action=e.action,
                subject=e.subject,
                payload=e.payload,
                prev_hash=e.prev_hash,
                hash=e.hash,
            )
            for e in page
        ],
        next_cursor=encode_cursor([page[-1].seq]) if len(rows) > limit else None,
    )


def readable_entries(principal: Principal) -> ColumnElement[bool]:
    """The entries of the actions log `principal` reads (SQL, so that pages are cut after it):
    about a member, by the scope rule of that member's records on the entry's day; about no
    member, for whoever sees a whole province or wider."""
    if principal.role in WHOLE_LOG_ROLES:
        return true()
    about_member = and_(
        ActionEntry.member_id.is_not(None),
        member_day_filter(principal, ActionEntry.member_id, ActionEntry.member_day),
    )
    prefix = principal.division_prefix
    if prefix is not None and len(prefix) <= PROVINCE_CODE_LENGTH:
        return or_(ActionEntry.member_id.is_(None), about_member)
    return about_member


def _out(checkpoint: service.SignedCheckpoint) -> CheckpointOut:
    return CheckpointOut(
        **checkpoint.document,
        heads=[CheckpointHeadOut(member_id=m, seq=s, last_hash=h) for m, s, h in checkpoint.heads],
    )
