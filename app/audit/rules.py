"""The audit package's pure rules: canonical JSON (RFC 8785), content digests (RFC 9530) and
Merkle tree hashing (RFC 6962). No database, no keys here."""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime
from typing import Any

import rfc8785

# The hash a chain starts from (the `prev_hash` of its first row).
GENESIS_HASH = "0" * 64


def canonical_json(value: Any) -> bytes:
    """RFC 8785 (JSON Canonicalization Scheme): what every signature here is computed over."""
    return rfc8785.dumps(value)


def content_digest(sha256: bytes) -> str:
    """An RFC 9530 `Content-Digest` field value for a SHA-256 digest."""
    return f"sha-256=:{base64.b64encode(sha256).decode()}:"


def file_digest(chunks: Iterable[bytes]) -> str:
    h = hashlib.sha256()
    for chunk in chunks:
        h.update(chunk)
    return content_digest(h.digest())


# --- RFC 6962 Merkle tree hash --------------------------------------------------------------


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """MTH(D[n]) of RFC 6962 §2.1 over the leaf data `leaves` (not yet hashed)."""
    hashes = [leaf_hash(d) for d in leaves]
    if not hashes:
        return hashlib.sha256(b"").digest()
    return _subtree(hashes)


def _subtree(hashes: Sequence[bytes]) -> bytes:
    n = len(hashes)
    if n == 1:
        return hashes[0]
    k = 1 << ((n - 1).bit_length() - 1)  # the largest power of two smaller than n
    return node_hash(_subtree(hashes[:k]), _subtree(hashes[k:]))


def head_leaf(member_id: int, seq: int, last_hash: str) -> bytes:
    """A checkpoint leaf: the canonical JSON of one member's chain head."""
    return canonical_json({"member_id": member_id, "seq": seq, "last_hash": last_hash})


def heads_root(heads: Iterable[tuple[int, int, str]]) -> str:
    """The hex Merkle root over chain heads (member_id, seq, last_hash), ordered by member."""
    return merkle_root([head_leaf(*h) for h in sorted(heads)]).hex()


# --- what is signed ------------------------------------------------------------------------

CHECKPOINT_SIGNED = ("id", "created_at", "members", "root", "key_id")
# Signed too when present (checkpoints made since the actions chain exists): its head.
CHECKPOINT_ACTIONS_SIGNED = ("actions_seq", "actions_hash")
# …and the access log's head (checkpoints made since it exists).
CHECKPOINT_ACCESS_SIGNED = ("access_seq", "access_hash")
RECEIPT_SIGNED = ("id", "query", "generated_at", "content_digest", "checkpoint_id", "key_id")


def signed_payload(document: dict[str, Any], fields: Sequence[str]) -> bytes:
    """The canonical JSON of a document's signed fields (all of them but `signature`)."""
    return canonical_json({name: document[name] for name in fields})


def checkpoint_signed_fields(document: dict[str, Any]) -> tuple[str, ...]:
    """The fields a checkpoint's signature covers: every one but `signature` and `heads`; a
    checkpoint older than the actions chain has no actions fields (None) and covers no actions."""
    fields: tuple[str, ...] = CHECKPOINT_SIGNED
    if document.get("actions_seq") is not None:
        fields += CHECKPOINT_ACTIONS_SIGNED
    if document.get("access_seq") is not None:
        fields += CHECKPOINT_ACCESS_SIGNED
    return fields


# --- the actions chain ---------------------------------------------------------------------

ACTION_HASHED = ("seq", "at", "actor", "action", "subject", "payload", "prev_hash")


def action_time(moment: datetime) -> str:
    """The one text form of an action's time: RFC 3339, UTC, microseconds (what both backends
    store; a naive time read back from SQLite is UTC)."""
    moment = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return moment.isoformat(timespec="microseconds").replace("+00:00", "Z")


def plain(value: Any) -> Any:
    """`value` as plain JSON data: times as `action_time`, dates as ISO text, tuples as lists."""
    if isinstance(value, datetime):
        return action_time(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    return value


def action_hash(entry: dict[str, Any]) -> str:
    """An entry's hash: hex SHA-256 of the RFC 8785 JSON of its fields, `prev_hash` included
    (`at` as `action_time` text)."""
    fields = {name: entry[name] for name in ACTION_HASHED}
    if isinstance(fields["at"], datetime):
        fields["at"] = action_time(fields["at"])
    return hashlib.sha256(canonical_json(fields)).hexdigest()
