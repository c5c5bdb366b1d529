"""Audit response bodies."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal, NotRequired

from pydantic import BaseModel, Field, WithJsonSchema
from typing_extensions import TypedDict

from app.core.schema_ref import schema_ref
from app.core.time import UtcDateTime

SignatureAlg = Literal["ed25519", "sm2-sm3"]


class PublicKeyOut(BaseModel):
    key_id: str
    public_key: str = Field(
        description="base64 of the raw public key: 32 bytes (Ed25519), or 65 (SM2: 04‖x‖y)"
    )
    alg: SignatureAlg = Field(
        "ed25519", description="ed25519, or sm2-sm3 (GB/T 32918 over SM3, GB/T 32905)"
    )
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
    alg: SignatureAlg = Field(
        "ed25519",
        description="the signature's algorithm: ed25519, or sm2-sm3 (SM2 over the SM3 digest, "
        "DER r‖s, signer ID 1234567812345678); not itself signed: the key fixes it",
    )
    access_seq: int | None = Field(
        None,
        description="the access log's last seq when taken (0: empty); signed with the other "
        "fields. null on checkpoints older than the access log (they do not cover it)",
    )
    access_hash: str | None = Field(
        None, description="hex SHA-256 of that entry (64 zeros when empty); signed when present"
    )


# The query a receipt signs, as the report routes write it (app/reports/router.py). Typed for
# clients, passed on as stored: the signature covers these exact members.
ReceiptQuery = TypedDict(
    "ReceiptQuery",
    {
        "report": Literal["presence", "compliance", "monthly", "surveys"],
        "scope": str,
        "format": Literal["csv", "xlsx", "json"],
        "requested_by": str,
        "from": NotRequired[date],
        "to": NotRequired[date],
        "period": NotRequired[str],
        "month": NotRequired[str],
        "survey_id": NotRequired[int],
        "cursor": NotRequired[str | None],
        "limit": NotRequired[int],
    },
)


class ReceiptOut(BaseModel):
    id: str
    query: Annotated[dict[str, Any], WithJsonSchema(schema_ref(ReceiptQuery))] = Field(
        description="what was exported: the report, its parameters and who asked"
    )
    generated_at: str = Field(description="RFC 3339, UTC, as signed")
    content_digest: str = Field(description="RFC 9530, sha-256=:<base64>:")
    checkpoint_id: int | None
    key_id: str
    signature: str = Field(
        description="base64 signature (`alg`) over the RFC 8785 JSON of the other fields"
    )
    alg: SignatureAlg = Field("ed25519", description="ed25519, or sm2-sm3")


# What each action records in its payload (the call sites of app.audit.actions.record). Times
# are RFC 3339 text, dates ISO text. Typed for clients and passed on as stored (the entry's
# hash covers it): a new action adds its payload here, and a payload never loses a member.
class CheckinReviewPayload(TypedDict):
    """`checkin.void`, `checkin.restore`"""

    action: Literal["void", "restore"]
    reason: str
    at: str


LeaveTransitionPayload = TypedDict(
    "LeaveTransitionPayload",
    {"member_id": int, "from": str | None, "to": str, "comment": str | None, "at": str},
)
LeaveTransitionPayload.__doc__ = (
    "`leave.request`, `leave.extend`, `leave.approve`, `leave.reject`, `leave.cancel`, "
    "`leave.return`: the status before and after"
)


class UserCreatePayload(TypedDict):
    """`user.create` (zhucun create-user)"""

    username: str
    role: str
    scope: str


class UserActivePayload(TypedDict):
    """`user.activate`, `user.deactivate`"""

    username: str
    is_active: bool


class PasswordChangePayload(TypedDict):
    """`user.password_change`: the user's other sessions it ended"""

    sessions_ended: int


class UserUnlockPayload(TypedDict):
    """`user.unlock` (a security administrator ends a lockout early)"""

    username: str
    was_locked_until: str | None


class TotpConfirmPayload(TypedDict):
    """`user.totp_confirm`: the user confirmed their TOTP second factor"""

    username: str


class VillageImportPayload(TypedDict):
    """`import.villages` (zhucun import-villages): the file and what became of its villages"""

    file: str
    sha256: str
    created: NotRequired[int]
    changed: NotRequired[int]
    unchanged: NotRequired[int]
    renamed: NotRequired[int]


class RosterImportPayload(TypedDict):
    """`import.roster` (zhucun import-roster); `generated_for`: the usernames that got a
    generated password (never the password)"""

    file: str
    sha256: str
    members: int
    assignments: int
    new_units: int
    generated_for: list[str]


class HouseholdImportPayload(TypedDict):
    """`import.households` (zhucun import-households, POST /households/import): the file's
    digest and what became of its households"""

    file: str
    sha256: str
    households: int
    created: int
    updated: int
    unchanged: int
    pairings_started: int
    pairings_ended: int


HouseholdPairPayload = TypedDict(
    "HouseholdPairPayload", {"household_code": str, "member_id": int | None, "from": date}
)
HouseholdPairPayload.__doc__ = (
    "`household.pair`: a new pairing (帮扶责任人) from the day `from`; member_id null: the "
    "household's pairing ended the day before (it left the programme)"
)


class AssignmentEndPayload(TypedDict):
    """`assignment.end`"""

    village_code: str
    last_day: date


class AssignmentMovePayload(TypedDict):
    """`assignment.move`"""

    from_village: str | None
    village_code: str
    first_day: date


CheckinRejudgePayload = TypedDict(
    "CheckinRejudgePayload", {"cause": str, "from": date, "checkins": int}
)
CheckinRejudgePayload.__doc__ = (
    "`checkin.rejudge`: an assignment change (`cause`, its action) judged the member's fixes "
    "from the day `from` on again; `checkins`: how many"
)


class UnitOfficePayload(TypedDict):
    """`unit.office`: a dispatching unit's office set or moved (WGS84; `coord_system`: as
    sent); `replaced`: it had one before"""

    name: str
    latitude: float
    longitude: float
    radius_m: float
    coord_system: str
    replaced: bool


class SurveyCardsPayload(TypedDict):
    """`survey.cards`: a village's card sheet printed (its codes shown)"""

    village_code: str
    format: Literal["html", "csv"]
    cards: int


class SurveyExcludePayload(TypedDict):
    """`survey.exclude`: answers an auditor left out of the rates, and why"""

    answer_ids: list[int]
    reason: str


class AuditBeginPayload(TypedDict):
    """`audit.begin`: where the chain starts on a database with history, per witnessed table
    the last row id it held before"""

    baseline: dict[str, int]


class PrivacyPurgePayload(TypedDict):
    """`privacy.purge`: one batch of the retention purge; `digest`: SHA-256 over the lines
    `id:purge_hash` of its check-ins by id (what `audit verify` recomputes)"""

    purged_at: str
    cutoff: str
    count: int
    first_id: int
    last_id: int
    digest: str


class NoticeAcknowledgePayload(TypedDict):
    """`privacy.notice_ack`: the notice version the user acknowledged"""

    version: str


class FeedbackReplyPayload(TypedDict):
    """`feedback.reply`: who filed it (user id), its kind, and whether it was overdue"""

    user_id: int
    kind: str
    overdue: bool


ACTION_PAYLOADS = (
    CheckinReviewPayload,
    LeaveTransitionPayload,
    UserCreatePayload,
    UserActivePayload,
    PasswordChangePayload,
    UserUnlockPayload,
    TotpConfirmPayload,
    VillageImportPayload,
    RosterImportPayload,
    HouseholdImportPayload,
    HouseholdPairPayload,
    AssignmentEndPayload,
    AssignmentMovePayload,
    CheckinRejudgePayload,
    UnitOfficePayload,
    SurveyCardsPayload,
    SurveyExcludePayload,
    AuditBeginPayload,
    PrivacyPurgePayload,
    NoticeAcknowledgePayload,
    FeedbackReplyPayload,
)


class ActionOut(BaseModel):
    seq: int
    at: str = Field(description="RFC 3339, UTC, microseconds, as hashed")
    actor: str = Field(description="user:<id>, or cli:<login> for a command")
    action: str = Field(description="e.g. checkin.void, leave.approve, user.deactivate")
    subject: str = Field(description="what it acted on, e.g. checkin:5, leave:7, user:3")
    payload: Annotated[
        dict[str, Any],
        WithJsonSchema({"anyOf": [schema_ref(p) for p in ACTION_PAYLOADS]}),
    ] = Field(description="what changed: the payload of its `action` (each type names its own)")
    prev_hash: str
    hash: str = Field(
        description="hex SHA-256 of the RFC 8785 JSON of the fields above (prev_hash included)"
    )
