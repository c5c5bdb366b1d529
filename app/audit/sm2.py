"""SM2 signatures over SM3 digests (国密: GB/T 32918.2-2016 / GM/T 0003.2, GB/T 32905-2016 /
GM/T 0004), through `gmssl` (pure Python). The signer's distinguishing identifier is the
standard's default `1234567812345678` (GM/T 0009); a signature is DER `SEQUENCE {r, s}`.

Keys are stored as PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`) with the algorithm
id-ecPublicKey and the curve sm2p256v1 (1.2.156.10197.1.301), the form GmSSL and OpenSSL 3
read and write; public keys travel as the raw uncompressed point 04‖x‖y (65 bytes).
"""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass

from gmssl import func, sm2, sm3

ALG = "sm2-sm3"
_N = int(sm2.default_ecc_table["n"], 16)
_G = sm2.default_ecc_table["g"]
# DER of the OIDs: id-ecPublicKey (1.2.840.10045.2.1), sm2p256v1 (1.2.156.10197.1.301).
_EC_PUBLIC_KEY = bytes.fromhex("06072a8648ce3d0201")
_SM2_CURVE = bytes.fromhex("06082a811ccf5501822d")
PUBLIC_LENGTH = 65


def sm3_hex(data: bytes) -> str:
    """The SM3 digest of `data`, hex (GB/T 32905)."""
    return str(sm3.sm3_hash(func.bytes_to_list(data)))


def _public_hex(private_hex: str) -> str:
    return str(sm2.CryptSM2(private_key=private_hex, public_key="")._kg(int(private_hex, 16), _G))


@dataclass(frozen=True)
class Sm2PrivateKey:
    """An SM2 private key `d` (32 bytes) and its public point."""

    d: bytes

    @classmethod
    def generate(cls) -> Sm2PrivateKey:
        return cls((secrets.randbelow(_N - 2) + 1).to_bytes(32, "big"))

    @property
    def public_raw(self) -> bytes:
        """04‖x‖y."""
        return b"\x04" + bytes.fromhex(_public_hex(self.d.hex()))

    def _crypt(self) -> sm2.CryptSM2:
        return sm2.CryptSM2(
            private_key=self.d.hex(), public_key=self.public_raw[1:].hex(), asn1=True
        )

    def sign(self, payload: bytes, k: int | None = None) -> bytes:
        """The DER signature of `payload` (SM3 over Z_A‖payload, then SM2). `k`: the
        per-signature random number, for the standard's test vectors only."""
        crypt = self._crypt()
        while True:
            nonce = k if k is not None else secrets.randbelow(_N - 1) + 1
            signature = crypt.sign_with_sm3(payload, f"{nonce:064x}")
            if signature is not None:
                return bytes.fromhex(signature)
            if k is not None:
                raise ValueError("this k gives no signature")

    def pem(self) -> bytes:
        """PKCS#8 (RFC 5208) holding an RFC 5915 ECPrivateKey with its public key."""
        ec_private = _der(
            0x30,
            _der(0x02, b"\x01")
            + _der(0x04, self.d)
            + _der(0xA1, _der(0x03, b"\x00" + self.public_raw)),
        )
        info = _der(
            0x30,
            _der(0x02, b"\x00") + _der(0x30, _EC_PUBLIC_KEY + _SM2_CURVE) + _der(0x04, ec_private),
        )
        body = base64.encodebytes(info).decode().replace("\n", "")
        lines = [body[i : i + 64] for i in range(0, len(body), 64)]
        return (
            "-----BEGIN PRIVATE KEY-----\n" + "\n".join(lines) + "\n-----END PRIVATE KEY-----\n"
        ).encode()


def load_pem(data: bytes) -> Sm2PrivateKey | None:
    """The SM2 key of a PKCS#8 PEM, or None when it holds another kind of key."""
    text = data.decode("ascii", "replace")
    if "-----BEGIN PRIVATE KEY-----" not in text:
        return None
    body = text.split("-----BEGIN PRIVATE KEY-----", 1)[1].split("-----END", 1)[0]
    try:
        der = base64.b64decode("".join(body.split()), validate=True)
        info = _children(_content(der, 0x30))
        if len(info) < 3 or info[1][1] != _EC_PUBLIC_KEY + _SM2_CURVE:
            return None
        ec_private = _children(_content(info[2][1], 0x30))
        d = ec_private[1][1]
    except (ValueError, IndexError):
        return None
    if len(d) != 32 or not 0 < int.from_bytes(d, "big") < _N - 1:
        raise ValueError("not a valid SM2 private key")
    return Sm2PrivateKey(d)


def verify(public_raw: bytes, payload: bytes, signature: bytes) -> bool:
    """Whether `signature` (DER) signs `payload` under the SM2 public key 04‖x‖y."""
    if len(public_raw) != PUBLIC_LENGTH or public_raw[0] != 4:
        return False
    try:
        r_s = _children(_content(signature, 0x30))
        if len(r_s) != 2 or any(tag != 0x02 for tag, _ in r_s):
            return False
        r, s = (int.from_bytes(v, "big") for _, v in r_s)
        if not (0 < r < _N and 0 < s < _N):
            return False
        crypt = sm2.CryptSM2(private_key="", public_key=public_raw[1:].hex(), asn1=True)
        return bool(crypt.verify_with_sm3(signature.hex(), payload))
    except (ValueError, IndexError, TypeError):
        return False


# --- a little DER: what the key file and the signatures need ---------------------------------


def _der(tag: int, content: bytes) -> bytes:
    n = len(content)
    if n < 0x80:
        length = bytes([n])
    else:
        size = (n.bit_length() + 7) // 8
        length = bytes([0x80 | size]) + n.to_bytes(size, "big")
    return bytes([tag]) + length + content


def _read(data: bytes, at: int) -> tuple[int, bytes, int]:
    """(tag, content, next offset) of the element at `at`."""
    tag, first = data[at], data[at + 1]
    at += 2
    if first < 0x80:
        n = first
    else:
        size = first & 0x7F
        if size == 0 or size > 4:
            raise ValueError("unsupported DER length")
        n = int.from_bytes(data[at : at + size], "big")
        at += size
    if at + n > len(data):
        raise ValueError("truncated DER")
    return tag, data[at : at + n], at + n


def _content(data: bytes, tag: int) -> bytes:
    found, content, end = _read(data, 0)
    if found != tag or end != len(data):
        raise ValueError("unexpected DER")
    return content


def _children(content: bytes) -> list[tuple[int, bytes]]:
    out, at = [], 0
    while at < len(content):
        tag, value, at = _read(content, at)
        out.append((tag, value))
    return out
