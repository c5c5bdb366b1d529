"""Audit response bodies."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

from app.core.time import UtcDateTime


class PublicKeyOut(BaseModel):
    key_id: str
    public_key: str = Field(description="base64 of the raw 32-byte Ed25519 public key")
    created_at: UtcDateTime
    retired_at: UtcDateTime | None


class PublicKeysOut(BaseModel):
    items: list[PublicKeyOut]


class CheckpointHeadOut(BaseModel):
    member_id: int
    seq: int
    last_hash: str


class CheckpointOut(BaseModel):
    id: int
    created_at: str = Field(description="RFC 3339, UTC, as signed")
    members: int = Field(description="chains (members with at least one check-in)")
    root: str = Field(description="hex RFC 6962 Merkle root of the chain heads")
    key_id: str
    signature: str = Field(
        description="base64 Ed25519 over the RFC 8785 JSON of the other fields but `heads` "
        "(and but the actions fields where they are null)"
    )
    heads: list[CheckpointHeadOut] = Field(
        description="the leaves, ordered by member_id: keep them to prove a chain later"
    )
    actions_seq: int | None = Field(
        None,
        description="the actions log's last seq when taken (0: empty); signed with the other "
        "fields. null on checkpoints older than the actions log (they do not cover it)",
    )
    actions_hash: str | None = Field(
        None, description="hex SHA-256 of that entry (64 zeros when empty); signed when present"
    )


class ReceiptOut(BaseModel):
    id: str
    query: dict[str, Any]
    generated_at: str = Field(description="RFC 3339, UTC, as signed")
    content_digest: str = Field(description="RFC 9530, sha-256=:<base64>:")
    checkpoint_id: int | None
    key_id: str
    signature: str = Field(description="base64 Ed25519 over the RFC 8785 JSON of the other fields")


class ActionOut(BaseModel):
    seq: int
    at: str = Field(description="RFC 3339, UTC, microseconds, as hashed")
    actor: str = Field(description="user:<id>, or cli:<login> for a command")
    action: str = Field(description="e.g. checkin.void, leave.approve, user.deactivate")
    subject: str = Field(description="what it acted on, e.g. checkin:5, leave:7, user:3")
    payload: dict[str, Any] = Field(description="what changed")
    prev_hash: str
    hash: str = Field(
        description="hex SHA-256 of the RFC 8785 JSON of the fields above (prev_hash included)"
    )
