"""HTTP routes of the audit package: public keys and signed checkpoints."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from app.audit import service
from app.audit.dependencies import SigningKeyDep
from app.audit.errors import NoCheckpoint
from app.audit.schemas import CheckpointHeadOut, CheckpointOut, PublicKeyOut, PublicKeysOut
from app.auth.dependencies import CurrentPrincipal, require_roles
from app.auth.errors import RoleRequired
from app.auth.principal import Principal
from app.core.deps import SessionDep
from app.core.errors import error_responses

router = APIRouter(prefix="/audit", tags=["audit"])

AdminPrincipal = Annotated[Principal, Depends(require_roles("admin"))]
AuditorPrincipal = Annotated[Principal, Depends(require_roles("auditor", "admin"))]


@router.get("/public-keys", response_model=PublicKeysOut)
def public_keys(_: CurrentPrincipal, session: SessionDep) -> PublicKeysOut:
    """Every key that has signed here, oldest first; a retired key still verifies what it
    signed."""
    return PublicKeysOut(
        items=[
            PublicKeyOut(
                key_id=k.key_id,
                public_key=k.public_key,
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


def _out(checkpoint: service.SignedCheckpoint) -> CheckpointOut:
    return CheckpointOut(
        **checkpoint.document,
        heads=[CheckpointHeadOut(member_id=m, seq=s, last_hash=h) for m, s, h in checkpoint.heads],
    )
