"""Producing a signed export: rows into a temporary file, its digest, then a signed receipt
stored with the request's transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from app.audit import service as audit_service
from app.audit.keys import SigningKey
from app.audit.service import now_seconds, rfc3339
from app.core.scratch import ScratchFolder
from app.reports import export
from app.reports.columns import Column
from app.reports.export import Format, Row


@dataclass(frozen=True)
class Export:
    path: Path
    media_type: str
    filename: str
    receipt: dict[str, Any]
    rows: int


def produce_tables(
    session: Session,
    key: SigningKey,
    *,
    query: dict[str, Any],
    tables: Sequence[export.Table],
    fmt: Format,
    title: str,
    filename: str,
    folder: ScratchFolder,
    zone: ZoneInfo | None = None,
) -> Export:
    """A report of several tables (CSV blocks, XLSX sheets, JSON members), signed."""
    receipt_id, generated_at = str(uuid.uuid4()), now_seconds()
    path = export.temp_path(folder, f".{fmt}")
    try:
        if fmt == "csv":
            count = export.write_csv_tables(path, tables)
        elif fmt == "xlsx":
            about = _about(title, query, generated_at, receipt_id, zone)
            count = export.write_xlsx_tables(path, tables, about, heading=title)
        else:
            count = export.write_json_tables(path, tables)
        receipt = _sign(session, key, path, query, receipt_id, generated_at)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Export(path, export.MEDIA_TYPES[fmt], f"{filename}.{fmt}", receipt, count)


def _about(
    title: str,
    query: dict[str, Any],
    generated_at: datetime,
    receipt_id: str,
    zone: ZoneInfo | None = None,
) -> list[tuple[str, str]]:
    return [
        ("报表", title),
        ("查询", json.dumps(query, ensure_ascii=False, sort_keys=True)),
        ("生成时间", local_time(generated_at, zone)),
        ("生成时间（UTC）", rfc3339(generated_at)),  # as the signed receipt says it
        ("回执编号", receipt_id),
        ("核验", "GET /api/v1/reports/receipts/" + receipt_id),
    ]


def local_time(moment: datetime, zone: ZoneInfo | None) -> str:
    """`2026-12-07 20:15:03（Asia/Shanghai）`: a time as the deployment's people read it."""
    zone = zone or ZoneInfo("Asia/Shanghai")
    return f"{moment.astimezone(zone):%Y-%m-%d %H:%M:%S}（{zone.key}）"


def _sign(
    session: Session,
    key: SigningKey,
    path: Path,
    query: dict[str, Any],
    receipt_id: str,
    generated_at: datetime,
) -> dict[str, Any]:
    return audit_service.sign_receipt(
        session,
        key,
        receipt_id=receipt_id,
        query=query,
        generated_at=generated_at,
        content_digest=export.digest_of(path),
    )


def produce(
    session: Session,
    key: SigningKey,
    *,
    query: dict[str, Any],
    columns: Sequence[Column],
    rows: Iterable[Row],
    fmt: Format,
    title: str,
    filename: str,
    folder: ScratchFolder,
    limit: int = 0,
    cursor_of: Callable[[Row], str] | None = None,
    zone: ZoneInfo | None = None,
) -> Export:
    """Write `rows` in `fmt`, digest the file and sign its receipt. The caller sends the file
    and deletes it."""
    receipt_id = str(uuid.uuid4())
    generated_at = now_seconds()
    path = export.temp_path(folder, f".{fmt}")
    try:
        if fmt == "csv":
            count = export.write_csv(path, columns, rows)
        elif fmt == "xlsx":
            about = _about(title, query, generated_at, receipt_id, zone)
            count = export.write_xlsx(path, columns, rows, about, title=title)
        else:
            assert cursor_of is not None
            count, _ = export.write_json_page(path, columns, rows, limit, cursor_of)
        receipt = _sign(session, key, path, query, receipt_id, generated_at)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return Export(path, export.MEDIA_TYPES[fmt], f"{filename}.{fmt}", receipt, count)
