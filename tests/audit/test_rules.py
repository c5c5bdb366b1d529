"""The audit package's pure rules: RFC 6962 tree hashing, RFC 8785 JSON, RFC 9530 digests."""

from __future__ import annotations

import hashlib

from hypothesis import given
from hypothesis import strategies as st

from app.audit import rules


def test_merkle_root_matches_rfc6962_definitions():
    # The empty tree and a one-leaf tree (the values Certificate Transparency logs publish).
    assert rules.merkle_root([]).hex() == hashlib.sha256(b"").hexdigest()
    assert (
        rules.merkle_root([b""]).hex()
        == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    )
    a, b, c = (rules.leaf_hash(x) for x in (b"a", b"b", b"c"))
    # Three leaves split 2 + 1 (the largest power of two below n goes left).
    assert rules.merkle_root([b"a", b"b", b"c"]) == rules.node_hash(rules.node_hash(a, b), c)


@given(
    st.lists(st.binary(max_size=8), min_size=1, max_size=40, unique=True),
    st.integers(min_value=0),
)
def test_changing_any_leaf_changes_the_root(leaves, pick):
    i = pick % len(leaves)
    changed = [*leaves]
    changed[i] = changed[i] + b"!"
    assert rules.merkle_root(changed) != rules.merkle_root(leaves)


def test_heads_root_orders_leaves_by_member():
    heads = [(2, 5, "b" * 64), (1, 3, "a" * 64)]
    assert rules.heads_root(heads) == rules.heads_root(sorted(heads))
    leaf = rules.head_leaf(1, 3, "a" * 64)
    assert leaf == b'{"last_hash":"' + b"a" * 64 + b'","member_id":1,"seq":3}'


def test_canonical_json_sorts_keys_and_keeps_unicode():
    assert rules.canonical_json({"b": 1, "a": "中", "c": [1.0, None]}) == (
        '{"a":"中","b":1,"c":[1,null]}'.encode()
    )


def test_content_digest_is_rfc9530():
    assert rules.file_digest([b"hello", b" world"]) == (
        "sha-256=:uU0nuZNNPgilLlLX2n2r+sSE7+N6U4DukIj3rOLvzek=:"
    )
