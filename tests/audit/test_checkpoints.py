"""Signing keys, signed checkpoints of the chain heads, and `zhucun audit verify` against them:
a truncated or rewritten chain contradicts a checkpoint an auditor holds."""

from __future__ import annotations

import base64
import json
import os
import stat
from datetime import timedelta

import pytest
from sqlalchemy import delete, select, update
from typer.testing import CliRunner

from app.audit import rules
from app.audit.keys import generate_key_file, key_id_of, signing_key, verify_signature
from app.checkins import hashing as checkin_hashing
from app.checkins.audit import CheckpointClaim, verify_chains
from app.checkins.models import ChainHead, CheckIn
from app.cli import cli
from app.core.config import Settings, get_settings
from tests.checkins.helpers import fix


@pytest.fixture
def checked_in(world):
    for who in ("alice", "bob"):
        for k in range(3):
            body = fix(ago=timedelta(hours=4 - k))
            if who == "bob":
                body = fix("430121001002", ago=timedelta(hours=4 - k))
            assert world.post(who, "/checkins", json=body).status_code == 201
    return world


def _listed_keys(world):
    answer = world.get("auditor", "/audit/public-keys")
    assert answer.status_code == 200
    return {k["key_id"]: k for k in answer.json()["items"]}


def test_admin_makes_a_checkpoint_that_verifies_with_the_listed_key(checked_in):
    world = checked_in
    made = world.post("admin", "/audit/checkpoints")
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["members"] == 2
    heads = [(h["member_id"], h["seq"], h["last_hash"]) for h in doc["heads"]]
    assert [h[1] for h in heads] == [3, 3]
    assert rules.heads_root(heads) == doc["root"]
    key = _listed_keys(world)[doc["key_id"]]
    public = base64.b64decode(key["public_key"])
    assert len(public) == 32
    assert key_id_of(public) == doc["key_id"]
    # Signed: every field but `signature`, `heads` and `alg` (the key fixes the algorithm; the
    # actions head included).
    assert (doc["actions_seq"], doc["actions_hash"], doc["alg"]) == (
        0,
        rules.GENESIS_HASH,
        "ed25519",
    )
    signed = sorted(k for k in doc if k not in ("signature", "heads", "alg"))
    assert sorted(rules.checkpoint_signed_fields(doc)) == signed
    assert verify_signature(public, rules.signed_payload(doc, signed), doc["signature"])
    latest = world.get("auditor", "/audit/checkpoints/latest")
    assert latest.status_code == 200
    assert latest.json() == doc


def test_who_may_make_and_read_checkpoints(world):
    assert world.get("auditor", "/audit/checkpoints/latest").json()["code"] == "no_checkpoint"
    for who in ("auditor", "county", "alice"):
        answer = world.post(who, "/audit/checkpoints")
        assert (answer.status_code, answer.json()["code"]) == (403, "role_required")
    for who in ("county", "alice"):
        assert world.get(who, "/audit/checkpoints/latest").status_code == 403
    assert world.client.get("/api/v1/audit/public-keys").status_code == 401


def test_a_chain_truncated_after_a_checkpoint_fails_verify(checked_in, db):
    world = checked_in
    assert world.post("admin", "/audit/checkpoints").status_code == 201
    alice = world.members["alice"].id
    assert verify_chains(db).intact
    db.rollback()
    # Delete alice's last check-in and rewind her head: the chain alone is consistent again.
    last = db.scalar(select(CheckIn).where(CheckIn.member_id == alice, CheckIn.seq == 3))
    db.execute(delete(CheckIn).where(CheckIn.id == last.id))
    db.execute(
        update(ChainHead)
        .where(ChainHead.member_id == alice)
        .values(seq=2, last_hash=last.prev_hash)
    )
    db.commit()
    assert verify_chains(db, use_latest=False).intact  # what verify saw before checkpoints
    report = verify_chains(db)
    db.rollback()
    assert not report.intact
    assert [b.member_id for b in report.broken] == [alice]
    assert "no longer reaches" in report.broken[0].problem


def test_a_rewritten_chain_fails_against_a_checkpoint_file(
    checked_in, db, db_url, monkeypatch, tmp_path
):
    world = checked_in
    held = tmp_path / "checkpoint.json"
    held.write_text(world.post("admin", "/audit/checkpoints").text)
    bob = world.members["bob"].id
    # Edit bob's first fix and recompute every later hash and the head (the chain is unkeyed).
    rows = list(db.scalars(select(CheckIn).where(CheckIn.member_id == bob).order_by(CheckIn.seq)))
    prev = checkin_hashing.GENESIS_HASH
    for row in rows:
        if row.seq == 1:
            row.latitude += 0.001
        row.prev_hash = prev
        values = {col.name: getattr(row, col.key) for col in CheckIn.__table__.columns}
        row.row_hash = checkin_hashing.row_hash(values)
        prev = row.row_hash
    db.execute(update(ChainHead).where(ChainHead.member_id == bob).values(last_hash=prev))
    # And the attacker drops the stored checkpoints; the auditor's file still holds.
    from app.audit.models import Checkpoint, CheckpointHead

    db.execute(delete(CheckpointHead))
    db.execute(delete(Checkpoint))
    db.commit()
    assert verify_chains(db).intact  # nothing stored contradicts the rewrite
    db.rollback()
    claim = CheckpointClaim.from_json(json.loads(held.read_text()))
    report = verify_chains(db, claim)
    db.rollback()
    assert [b.member_id for b in report.broken] == [bob]
    assert "rewritten" in report.broken[0].problem

    monkeypatch.setenv("DATABASE_URL", db_url)
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["audit", "verify", "--checkpoint", str(held)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 1
    assert f"member {bob}" in result.output + result.stderr


def test_a_forged_checkpoint_file_is_refused(checked_in, db, tmp_path):
    world = checked_in
    doc = world.post("admin", "/audit/checkpoints").json()
    doc["heads"][0]["seq"] = 2  # claims a shorter chain than was signed
    report = verify_chains(db, CheckpointClaim.from_json(doc))
    db.rollback()
    assert any(b.member_id is None and "signed root" in b.problem for b in report.broken)


def test_keygen_writes_a_private_pem_and_refuses_to_overwrite(tmp_path):
    path = tmp_path / "keys" / "signing.pem"
    runner = CliRunner()
    made = runner.invoke(cli, ["audit", "keygen", str(path)])
    assert made.exit_code == 0, made.output
    assert path.read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    again = runner.invoke(cli, ["audit", "keygen", str(path)])
    assert again.exit_code == 2


def test_rotation_lists_the_old_key_as_retired(checked_in, settings, tmp_path):
    world = checked_in
    first = world.post("admin", "/audit/checkpoints").json()
    new_file = tmp_path / "rotated.pem"
    generate_key_file(new_file)
    world.client.app.state.settings = settings.model_copy(update={"signing_key_file": new_file})
    second = world.post("admin", "/audit/checkpoints").json()
    assert second["key_id"] != first["key_id"]
    keys = _listed_keys(world)
    assert keys[first["key_id"]]["retired_at"] is not None
    assert keys[second["key_id"]]["retired_at"] is None


def test_production_refuses_to_start_without_a_signing_key(tmp_path):
    from app.audit.keys import SigningKeyError
    from app.main import create_app

    prod = Settings(
        ZHUCUN_ENV="production",
        ZHUCUN_SECRET_KEY="k" * 40,
        DATABASE_URL=f"sqlite:///{tmp_path / 'x.db'}",
    )
    with pytest.raises(SigningKeyError):
        create_app(prod)
    with pytest.raises(SigningKeyError):
        signing_key(prod.model_copy(update={"signing_key_file": tmp_path / "missing.pem"}))


def test_concurrent_checkpoints_with_a_new_key_list_it_once(world, settings, tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    fresh = tmp_path / "fresh.pem"
    generate_key_file(fresh)
    world.client.app.state.settings = settings.model_copy(update={"signing_key_file": fresh})
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _: world.post("admin", "/audit/checkpoints"), range(8)))
    assert {a.status_code for a in answers} == {201}
    assert len({a.json()["id"] for a in answers}) == 8
    keys = _listed_keys(world)
    assert list(keys) == [answers[0].json()["key_id"]]
    assert keys[answers[0].json()["key_id"]]["retired_at"] is None
