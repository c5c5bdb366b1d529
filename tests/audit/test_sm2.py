"""The 国密 option (issue 21 item 8): SM3 and SM2 against the standards' own examples, keys
OpenSSL reads, and receipts and checkpoints signed with SM2 over SM3 (`alg: "sm2-sm3"`) that
`zhucun audit verify-export` and `zhucun audit verify` check — and refuse once tampered."""

from __future__ import annotations

import base64
import json
import shutil
import subprocess
from datetime import date, timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes
from typer.testing import CliRunner

from app.audit import rules, sm2
from app.audit.keys import generate_key_file, read_key_file, verify_signature
from app.audit.verify import checkpoint_problems
from app.cli import cli
from app.core.config import Settings, get_settings
from tests.checkins.helpers import fix
from tests.conftest import TEST_SECRET

# GB/T 32905-2016 Appendix A (= GM/T 0004-2012): SM3 examples 1 and 2.
SM3_ABC = "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
SM3_ABCD_16 = "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
# GM/T 0003.5-2012 (GB/T 32918.5-2017) Appendix A: a signature on the recommended curve,
# signer ID "1234567812345678", message "message digest", with its random number k.
D = "3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8"
PUBLIC_X = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020"
PUBLIC_Y = "CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
R = "F5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3"
S = "B1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA"
VILLAGE = "430121001001"


def test_sm3_of_the_standard_s_examples():
    assert sm2.sm3_hex(b"abc") == SM3_ABC
    assert sm2.sm3_hex(b"abcd" * 16) == SM3_ABCD_16
    # OpenSSL's SM3 (through cryptography) agrees.
    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")
    assert digest.finalize().hex() == SM3_ABC


def test_sm2_signs_the_standard_s_example_and_verifies_it():
    key = sm2.Sm2PrivateKey(bytes.fromhex(D))
    assert key.public_raw.hex().upper() == "04" + PUBLIC_X + PUBLIC_Y
    signature = key.sign(b"message digest", k=K)
    r, s = _r_s(signature)
    assert (f"{r:064X}", f"{s:064X}") == (R, S)
    assert sm2.verify(key.public_raw, b"message digest", signature)
    assert not sm2.verify(key.public_raw, b"message digesT", signature)
    assert not sm2.verify(key.public_raw, b"message digest", signature[:-1] + b"\x00")
    # Random k: every signature differs, each verifies.
    one, two = key.sign(b"x"), key.sign(b"x")
    assert one != two
    assert sm2.verify(key.public_raw, b"x", one)
    assert sm2.verify(key.public_raw, b"x", two)


def _r_s(der: bytes) -> tuple[int, int]:
    assert der[0] == 0x30
    at, values = 2, []
    for _ in range(2):
        assert der[at] == 0x02
        n = der[at + 1]
        values.append(int.from_bytes(der[at + 2 : at + 2 + n], "big"))
        at += 2 + n
    return values[0], values[1]


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command")
def test_openssl_reads_the_key_file_and_each_verifies_the_other_s_signature(tmp_path):
    path = tmp_path / "sm2.pem"
    key = generate_key_file(path, "sm2")
    assert key.alg == "sm2-sm3"
    assert read_key_file(path) == key
    shown = subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=False,
    )
    if shown.returncode != 0 or "SM2" not in shown.stdout:
        pytest.skip("this OpenSSL has no SM2")
    message = tmp_path / "m.bin"
    message.write_bytes(b"zhucun receipt")
    public = tmp_path / "pub.pem"
    subprocess.run(
        ["openssl", "pkey", "-in", str(path), "-pubout", "-out", str(public)], check=True
    )
    ours = tmp_path / "ours.sig"
    ours.write_bytes(key.private.sign(message.read_bytes()))
    sm2_opts = ["-rawin", "-digest", "sm3", "-pkeyopt", "distid:1234567812345678"]
    verified = subprocess.run(
        [
            *("openssl", "pkeyutl", "-verify", "-pubin", "-inkey", str(public)),
            *("-in", str(message), "-sigfile", str(ours), *sm2_opts),
        ],
        capture_output=True,
        check=False,
    )
    assert verified.returncode == 0, verified.stderr
    theirs = tmp_path / "theirs.sig"
    subprocess.run(
        [
            *("openssl", "pkeyutl", "-sign", "-inkey", str(path)),
            *("-in", str(message), "-out", str(theirs), *sm2_opts),
        ],
        check=True,
    )
    assert sm2.verify(key.public_raw, message.read_bytes(), theirs.read_bytes())


# --- a deployment signing with SM2 ---------------------------------------------------------


@pytest.fixture
def sm2_key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sm2") / "sm2-key.pem"
    generate_key_file(path, "sm2")
    return path


@pytest.fixture
def settings(db_url: str, sm2_key: Path, tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings(
        DATABASE_URL=db_url,
        ZHUCUN_SIGNING_KEY_FILE=sm2_key,
        ZHUCUN_SECRET_KEY=TEST_SECRET,
        ZHUCUN_LOG_LEVEL="WARNING",
        ZHUCUN_EXPORT_DIR=tmp_path_factory.getbasetemp() / "exports",
    )


@pytest.fixture
def zhucun(db_url, sm2_key, monkeypatch):
    """`zhucun ARGS` against the test database and the SM2 key."""
    monkeypatch.setenv("DATABASE_URL", db_url)
    monkeypatch.setenv("ZHUCUN_SIGNING_KEY_FILE", str(sm2_key))
    get_settings.cache_clear()
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args))
        return result.exit_code, result.output + (result.stderr if result.stderr_bytes else "")

    yield run
    get_settings.cache_clear()


def test_an_sm2_signed_export_verifies_and_a_tampered_one_is_refused(world, tmp_path, zhucun):
    assert world.post("alice", "/checkins", json=fix(VILLAGE, ago=timedelta(hours=2))).status_code
    today = date.today()
    answer = world.get(
        "county", f"/reports/presence?scope=430121001&from={today - timedelta(days=3)}&to={today}"
    )
    assert answer.status_code == 200, answer.text
    receipt = world.get("county", f"/reports/receipts/{answer.headers['zhucun-receipt']}").json()
    assert receipt["alg"] == "sm2-sm3"
    listed = world.get("county", "/audit/public-keys").json()["items"]
    key = next(k for k in listed if k["key_id"] == receipt["key_id"])
    assert key["alg"] == "sm2-sm3"
    public = base64.b64decode(key["public_key"])
    assert len(public) == 65
    assert verify_signature(
        public, rules.signed_payload(receipt, rules.RECEIPT_SIGNED), receipt["signature"]
    )
    exported, receipt_file = tmp_path / "presence.csv", tmp_path / "receipt.json"
    exported.write_bytes(answer.content)
    receipt_file.write_text(json.dumps(receipt))

    code, out = zhucun("audit", "verify-export", str(exported), str(receipt_file))
    assert code == 0, out
    code, out = zhucun(
        "audit",
        "verify-export",
        str(exported),
        str(receipt_file),
        "--public-key",
        key["public_key"],
    )
    assert code == 0, out

    tampered = tmp_path / "tampered.csv"
    tampered.write_bytes(answer.content + b"\n")
    code, out = zhucun("audit", "verify-export", str(tampered), str(receipt_file))
    assert code == 1
    assert "content digest" in out
    forged = {**receipt, "query": {**receipt["query"], "scope": "4301"}}
    forged_file = tmp_path / "forged.json"
    forged_file.write_text(json.dumps(forged))
    code, out = zhucun("audit", "verify-export", str(exported), str(forged_file))
    assert code == 1
    assert "signature" in out
    # Claiming another algorithm for the key is caught too.
    relabelled = tmp_path / "relabelled.json"
    relabelled.write_text(json.dumps({**receipt, "alg": "ed25519"}))
    code, out = zhucun("audit", "verify-export", str(exported), str(relabelled))
    assert code == 1
    assert "alg" in out


def test_an_sm2_checkpoint_is_verified_by_audit_verify(world, db, tmp_path, zhucun):
    for hours in (3, 2):
        r = world.post("alice", "/checkins", json=fix(VILLAGE, ago=timedelta(hours=hours)))
        assert r.status_code == 201, r.text
    made = world.post("admin", "/audit/checkpoints")
    assert made.status_code == 201, made.text
    doc = made.json()
    assert doc["alg"] == "sm2-sm3"
    keys = {
        k["key_id"]: base64.b64decode(k["public_key"])
        for k in world.get("auditor", "/audit/public-keys").json()["items"]
    }
    heads = [(h["member_id"], h["seq"], h["last_hash"]) for h in doc["heads"]]
    assert checkpoint_problems(doc, heads, keys) == []
    held = tmp_path / "checkpoint.json"
    held.write_text(json.dumps(doc))

    code, out = zhucun("audit", "verify")
    assert code == 0, out
    assert f"against checkpoint {doc['id']}" in out
    code, out = zhucun("audit", "verify", "--checkpoint", str(held))
    assert code == 0, out

    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps({**doc, "created_at": "2020-01-01T00:00:00Z"}))
    code, out = zhucun("audit", "verify", "--checkpoint", str(forged))
    assert code == 1
    assert "signature does not verify" in out
