"""Offline verification of checkpoints and export receipts: no database, only public keys."""

from __future__ import annotations

from typing import Any

from app.audit import rules
from app.audit.keys import alg_of, verify_signature


def _alg_problem(document: dict[str, Any], public: bytes, what: str) -> str | None:
    """A document whose `alg` is not its key's (documents older than `alg` are Ed25519)."""
    alg = document.get("alg", "ed25519")
    if alg != alg_of(public):
        return f"{what}: it says alg {alg}, but key {document['key_id']} is {alg_of(public)}"
    return None


def checkpoint_problems(
    document: dict[str, Any], heads: list[tuple[int, int, str]], keys: dict[str, bytes]
) -> list[str]:
    """What is wrong with a checkpoint: its signature, or heads that do not make its root."""
    problems = []
    public = keys.get(document["key_id"])
    if public is None:
        problems.append(f"checkpoint {document['id']}: key {document['key_id']} is not listed")
    elif (mismatch := _alg_problem(document, public, f"checkpoint {document['id']}")) is not None:
        problems.append(mismatch)
    elif not verify_signature(
        public,
        rules.signed_payload(document, rules.checkpoint_signed_fields(document)),
        document["signature"],
    ):
        problems.append(f"checkpoint {document['id']}: the signature does not verify")
    if len(heads) != document["members"] or rules.heads_root(heads) != document["root"]:
        problems.append(f"checkpoint {document['id']}: its heads do not make its signed root")
    return problems


def receipt_problems(receipt: dict[str, Any], digest: str, keys: dict[str, bytes]) -> list[str]:
    """What does not match between a file's digest and its receipt (empty: it verifies)."""
    problems = []
    if receipt.get("content_digest") != digest:
        problems.append(
            f"content digest: the file has {digest}, the receipt says "
            f"{receipt.get('content_digest')} (the file was changed, or is another export)"
        )
    missing = [f for f in (*rules.RECEIPT_SIGNED, "signature") if f not in receipt]
    if missing:
        return [*problems, f"the receipt lacks {', '.join(missing)}"]
    public = keys.get(receipt["key_id"])
    if public is None:
        problems.append(f"key: no public key with id {receipt['key_id']} to verify with")
    elif (mismatch := _alg_problem(receipt, public, "alg")) is not None:
        problems.append(mismatch)
    elif not verify_signature(
        public, rules.signed_payload(receipt, rules.RECEIPT_SIGNED), receipt["signature"]
    ):
        problems.append(
            f"signature: does not verify with key {receipt['key_id']} "
            "(the receipt was changed, or signed by another key)"
        )
    return problems
