"""`zhucun audit …`: keys, checkpoints and offline verification of exports. (`audit verify`,
which walks the check-in chains, is added by the checkins domain.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

audit_cli = typer.Typer(
    rich_markup_mode=None, help="Tamper evidence: keys, chains, checkpoints, receipts."
)


def _fail(message: str, code: int = 1) -> typer.Exit:
    typer.secho(message, fg=typer.colors.RED, err=True)
    return typer.Exit(code)


def register(cli: typer.Typer) -> None:
    cli.add_typer(audit_cli, name="audit", no_args_is_help=True)


@audit_cli.command("keygen")
def keygen(
    file: Path,
    algorithm: Annotated[
        str,
        typer.Option(
            help="ed25519 (default), or sm2: SM2 signatures over SM3 digests (国密, "
            "GB/T 32918 / GB/T 32905), alg sm2-sm3"
        ),
    ] = "ed25519",
) -> None:
    """Write a new signing key to FILE (PKCS#8 PEM, mode 0600). Point every process at it with
    ZHUCUN_SIGNING_KEY_FILE; to rotate, make a new file and restart (old public keys stay
    listed at /audit/public-keys, each with its alg)."""
    from app.audit.keys import ALGORITHMS, generate_key_file

    if algorithm not in ALGORITHMS:
        raise _fail(f"--algorithm is ed25519 or sm2, not {algorithm!r}", 2)
    try:
        key = generate_key_file(file, algorithm)
    except FileExistsError:
        raise _fail(f"{file} exists; refusing to overwrite a key", 2) from None
    typer.echo(f"{key.alg} key {key.key_id} written to {file}; public key {key.public_b64}")


@audit_cli.command("checkpoint")
def checkpoint(
    out: Annotated[Path | None, typer.Option(help="also write the checkpoint JSON here")] = None,
) -> None:
    """Sign a checkpoint of every member's chain head (run daily: `zhucun daily` does)."""
    typer.echo(sign_checkpoint(out))


def sign_checkpoint(out: Path | None = None) -> str:
    """A signed checkpoint of every chain head (and the actions log), also written to `out`
    when given; its one-line summary."""
    from app.audit import service
    from app.audit.keys import signing_key
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope

    settings = get_settings()
    key = signing_key(settings)
    engine = make_engine(settings.effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            signed = service.make_checkpoint(session, key)
    finally:
        engine.dispose()
    doc = signed.document
    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(checkpoint_file(signed), ensure_ascii=False, indent=1))
    written = "" if out is None else f", written to {out}"
    return (
        f"checkpoint {doc['id']}: {doc['members']} chain(s), root {doc['root']}, "
        f"key {doc['key_id']}{written}"
    )


def checkpoint_file(signed: Any) -> dict[str, Any]:
    """A checkpoint as GET /audit/checkpoints/latest answers it (what `verify --checkpoint`
    reads)."""
    heads = [{"member_id": m, "seq": s, "last_hash": h} for m, s, h in signed.heads]
    return {**signed.document, "heads": heads}


@audit_cli.command("verify-export")
def verify_export(
    file: Path,
    receipt: Path,
    public_key: Annotated[
        str | None,
        typer.Option(help="base64 raw key (as /audit/public-keys lists it), PEM, or a file"),
    ] = None,
) -> None:
    """Check an exported FILE against its RECEIPT.json offline: its digest and the receipt's
    signature. Exits 1 naming what does not match."""
    from app.audit.rules import file_digest
    from app.audit.verify import receipt_problems

    try:
        document = json.loads(receipt.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read the receipt {receipt}: {exc}", 2) from None
    if not isinstance(document, dict):
        raise _fail(f"{receipt} is not a receipt (a JSON object)", 2)
    with file.open("rb") as fh:
        digest = file_digest(iter(lambda: fh.read(1 << 20), b""))
    problems = receipt_problems(document, digest, _verifying_keys(public_key))
    if problems:
        for problem in problems:
            typer.secho(f"MISMATCH: {problem}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(
        f"ok: {file} matches receipt {document['id']} ({digest}), "
        f"signed by key {document['key_id']} at {document['generated_at']}"
    )


def _verifying_keys(given: str | None) -> dict[str, bytes]:
    from app.audit.keys import key_id_of, public_key_from_text
    from app.core.config import get_settings
    from app.core.db import make_engine, make_session_factory, session_scope

    if given is not None:
        text = Path(given).read_text() if Path(given).is_file() else given
        try:
            raw = public_key_from_text(text)
        except ValueError as exc:
            raise _fail(f"--public-key is not an Ed25519 or SM2 public key: {exc}", 2) from None
        return {key_id_of(raw): raw}
    # Without a key: the keys this deployment lists (needs its database).
    from app.audit import service

    engine = make_engine(get_settings().effective_database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            return service.public_key_map(session)
    except Exception as exc:
        raise _fail(f"no --public-key given and the key list is unreadable: {exc}", 2) from None
    finally:
        engine.dispose()
