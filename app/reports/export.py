"""Writing a report into a temporary file (CSV, XLSX or a JSON page) from a row iterator, so
memory stays flat whatever the row count and the digest is known before the first byte is
sent."""

from __future__ import annotations

import csv
import hashlib
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
import xlsxwriter

from app.audit.rules import content_digest
from app.reports.columns import Column

Format = Literal["csv", "xlsx", "json"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
XLSX_MAX_ROWS = 1_048_576  # rows in an Excel sheet, its header included
# OWASP CSV injection: a cell beginning with one of these is taken for a formula by a
# spreadsheet; prefixing "'" makes it text.
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")

Row = Sequence[Any]


@dataclass(frozen=True)
class Written:
    path: Path
    rows: int
    digest: str  # RFC 9530 Content-Digest
    next_cursor: str | None = None


def temp_path(suffix: str) -> Path:
    fd, name = tempfile.mkstemp(prefix="zhucun-export-", suffix=suffix)
    os.close(fd)
    return Path(name)


def digest_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return content_digest(h.digest())


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_LEADS) else text


Converter = tuple[int, Callable[[Any], Any]]


def _converters(columns: Sequence[Column], *, csv_text: bool) -> list[Converter]:
    """(index, convert) for the columns whose value is not written as it comes."""
    out: list[Converter] = []
    for i, col in enumerate(columns):
        if col.kind == "text" and csv_text:
            memo: dict[str, str] = {}

            def text(v: Any, memo: dict[str, str] = memo) -> Any:
                if v is None:
                    return None
                got = memo.get(v)
                if got is None:
                    got = memo[v] = neutralise(v)
                    if len(memo) > 50_000:  # names repeat per member; bound the memo anyway
                        memo.clear()
                return got

            out.append((i, text))
        elif col.kind == "bool":
            out.append((i, lambda v: None if v is None else ("是" if v else "否")))
        elif col.kind == "code" and col.labels:
            out.append((i, _labeller(col.labels)))
    return out


def _labeller(labels: dict[str, str]) -> Callable[[Any], Any]:
    return lambda v: labels.get(v, v)


def _display(
    rows: Iterable[Row], columns: Sequence[Column], *, csv_text: bool
) -> Iterator[list[Any]]:
    convert = _converters(columns, csv_text=csv_text)
    for row in rows:
        out = list(row)
        for i, f in convert:
            out[i] = f(out[i])
        yield out


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Row]) -> int:
    """UTF-8 with a BOM, CRLF line ends, Chinese headers, formula-leading text neutralised."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow([c.header for c in columns])
        for out in _display(rows, columns, csv_text=True):
            writer.writerow(out)
            count += 1
    return count


def write_xlsx(
    path: Path,
    columns: Sequence[Column],
    rows: Iterable[Row],
    about: Sequence[tuple[str, str]],
    *,
    title: str,
    sheet_rows: int = XLSX_MAX_ROWS,
) -> int:
    """XlsxWriter in constant-memory mode: Chinese headers, a frozen header row, widths, dates
    as dates; past `sheet_rows` the rows continue on further sheets; a last sheet says what
    the export is (`about`)."""
    workbook = xlsxwriter.Workbook(
        str(path),
        {
            "constant_memory": True,
            "tmpdir": str(path.parent),
            "strings_to_formulas": False,  # a name "=HYPERLINK(…)" stays text
            "strings_to_urls": False,
            "strings_to_numbers": False,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    header_format = workbook.add_format({"bold": True, "bg_color": "#E8EEF4", "border": 1})
    count = 0
    sheet_no = 0
    sheet: Any = None
    r = 0

    def new_sheet() -> Any:
        nonlocal sheet_no
        sheet_no += 1
        ws = workbook.add_worksheet(title if sheet_no == 1 else f"{title}（续{sheet_no - 1}）")
        for c, col in enumerate(columns):
            ws.set_column(c, c, col.width)
        ws.freeze_panes(1, 0)
        ws.write_row(0, 0, [col.header for col in columns], header_format)
        return ws

    for out in _display(rows, columns, csv_text=False):
        if sheet is None or r >= sheet_rows:
            sheet, r = new_sheet(), 1
        sheet.write_row(r, 0, out)
        r += 1
        count += 1
    if sheet is None:
        new_sheet()
    info = workbook.add_worksheet("导出说明")
    info.set_column(0, 0, 16)
    info.set_column(1, 1, 80)
    for i, (name, value) in enumerate(about):
        info.write_string(i, 0, name)
        info.write_string(i, 1, value)
    workbook.close()
    return count


def write_json_page(
    path: Path,
    columns: Sequence[Column],
    rows: Iterable[Row],
    limit: int,
    cursor_of: Callable[[Row], str],
) -> tuple[int, str | None]:
    """`{"items": [...], "next_cursor"}`: up to `limit` rows and the cursor of the next page."""
    keys = [c.key for c in columns]
    count = 0
    last: Row | None = None
    more = False
    with path.open("wb") as fh:
        fh.write(b'{"items":[')
        for row in rows:
            if count == limit:
                more = True
                break
            fh.write((b"," if count else b"") + orjson.dumps(dict(zip(keys, row, strict=True))))
            count += 1
            last = row
        next_cursor = cursor_of(last) if more and last is not None else None
        fh.write(b'],"next_cursor":' + orjson.dumps(next_cursor) + b"}")
    return count, next_cursor


def disposition(filename: str) -> str:
    """`attachment; filename*=UTF-8''…` (RFC 6266/8187), with an ASCII fallback name."""
    from urllib.parse import quote

    ascii_name = "".join(ch if ch.isascii() and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
