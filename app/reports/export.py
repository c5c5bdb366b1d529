"""Writing a report into a temporary file (CSV, XLSX or a JSON page) from a row iterator, so
memory stays flat whatever the row count and the digest is known before the first byte is
sent."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import itertools
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import orjson
import xlsxwriter

from app.audit.rules import content_digest
from app.core.scratch import ScratchFolder
from app.reports.columns import Column

Format = Literal["csv", "xlsx", "json"]
MEDIA_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
CSV_BATCH = 5000  # rows encoded and written at a time
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


def temp_path(folder: ScratchFolder, suffix: str) -> Path:
    """A new file in this process's part of the service's export folder (app.core.scratch:
    what a killed process leaves there is removed at the next start)."""
    return folder.new_file(suffix)


def digest_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            h.update(chunk)
    return content_digest(h.digest())


def neutralise(text: str) -> str:
    return "'" + text if text.startswith(FORMULA_LEADS) else text


class Render:
    """How a report's values look in one format: CSV and XLSX show labels (是/否, Chinese
    statuses and positions), CSV neutralises formula-leading text; JSON keeps the codes.

    A report renders a row's parts as it builds them (a member's fixed columns once, not once
    a day), so the writers only write."""

    def __init__(self, columns: Sequence[Column], fmt: Format) -> None:
        self.columns = columns
        self._convert: list[Callable[[Any], Any] | None] = [_converter(col, fmt) for col in columns]

    def part(self, start: int, values: Sequence[Any]) -> tuple[Any, ...]:
        """`values` of the columns from index `start` on, as this format shows them."""
        out = []
        for i, v in enumerate(values, start):
            f = self._convert[i]
            out.append(v if f is None or v is None else f(v))
        return tuple(out)


def _converter(col: Column, fmt: Format) -> Callable[[Any], Any] | None:
    if fmt == "json":
        return None
    if col.kind == "text":
        return neutralise if fmt == "csv" else None
    if col.kind == "bool":
        return lambda v: "是" if v else "否"
    if col.kind == "percent" and fmt == "csv":
        return lambda v: f"{v * 100:.1f}%"  # XLSX keeps the number, formatted as a percentage
    if col.kind == "code" and col.labels:
        labels = col.labels
        return lambda v: labels.get(v, v)
    return None


def _counted(rows: Iterable[Row], counter: Iterator[int]) -> Iterator[Row]:
    # zip pulls a row, then the counter: once rows run out, next(counter) is their number.
    return (row for row, _ in zip(rows, counter, strict=False))


def write_csv(path: Path, columns: Sequence[Column], rows: Iterable[Row]) -> int:
    """UTF-8 with a BOM, CRLF line ends, Chinese headers; `rows` rendered for CSV."""
    counter = itertools.count()
    source = _counted(rows, counter)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([c.header for c in columns])
    with path.open("wb") as fh:
        fh.write(codecs.BOM_UTF8)
        while True:
            # Batches through a string buffer: one encode and one write per batch.
            writer.writerows(itertools.islice(source, CSV_BATCH))
            if not buffer.tell():
                break
            fh.write(buffer.getvalue().encode("utf-8"))
            buffer.seek(0)
            buffer.truncate()
    return next(counter)


@dataclass(frozen=True)
class Table:
    """One table of a report with several (the monthly bulletin): a CSV block, XLSX sheets,
    a JSON member."""

    key: str
    title: str
    columns: Sequence[Column]
    rows: Iterable[Row]


def write_xlsx(
    path: Path,
    columns: Sequence[Column],
    rows: Iterable[Row],
    about: Sequence[tuple[str, str]],
    *,
    title: str,
    sheet_rows: int = XLSX_MAX_ROWS,
) -> int:
    """One table: see `write_xlsx_tables`."""
    return write_xlsx_tables(
        path, [Table("", title, columns, rows)], about, sheet_rows, heading=title
    )


def write_xlsx_tables(
    path: Path,
    tables: Sequence[Table],
    about: Sequence[tuple[str, str]],
    sheet_rows: int = XLSX_MAX_ROWS,
    *,
    heading: str = "",
) -> int:
    """XlsxWriter in constant-memory mode: Chinese headers, a frozen header row, widths, dates
    as dates, percentages as percentages; past `sheet_rows` a table continues on further
    sheets; a last sheet says what the export is (`about`). Every sheet prints: landscape A4,
    fitted to the page width, the header row repeated on each page, `heading` and the page
    number in the page header and footer."""
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
    header_format = workbook.add_format(
        {"bold": True, "bg_color": "#E8EEF4", "border": 1, "text_wrap": True, "valign": "top"}
    )
    percent_format = workbook.add_format({"num_format": "0.0%"})
    count = 0
    for table in tables:
        sheet_no = 0
        sheet: Any = None
        r = 0

        def new_sheet(table: Table = table) -> Any:
            nonlocal sheet_no
            sheet_no += 1
            name = table.title if sheet_no == 1 else f"{table.title}（续{sheet_no - 1}）"
            ws = workbook.add_worksheet(name)
            for c, col in enumerate(table.columns):
                ws.set_column(c, c, col.width, percent_format if col.kind == "percent" else None)
            ws.freeze_panes(1, 0)
            ws.set_row(0, 15 * _header_lines(table.columns))  # before the row (constant memory)
            _print_setup(ws, heading or table.title, name)
            ws.write_row(0, 0, [col.header for col in table.columns], header_format)
            return ws

        for out in table.rows:
            if sheet is None or r >= sheet_rows:
                sheet, r = new_sheet(), 1
            sheet.write_row(r, 0, out)
            r += 1
            count += 1
        if sheet is None:
            new_sheet()
    info = workbook.add_worksheet("导出说明")
    info.set_column(0, 0, 16)
    info.set_column(1, 1, 80, workbook.add_format({"text_wrap": True, "valign": "top"}))
    _print_setup(info, heading, "导出说明", repeat_header=False)
    for i, (name, value) in enumerate(about):
        info.write_string(i, 0, name)
        info.write_string(i, 1, value)
    workbook.close()
    return count


A4 = 9  # XlsxWriter's paper size index


def _header_lines(columns: Sequence[Column]) -> int:
    """Lines the tallest wrapped header takes (a CJK character is two widths)."""

    def width(text: str) -> int:
        return sum(2 if ord(ch) > 0x2E7F else 1 for ch in text)

    return max((-(-width(c.header) // max(c.width, 1)) for c in columns), default=1)


def _print_setup(ws: Any, heading: str, sheet: str, *, repeat_header: bool = True) -> None:
    """Landscape A4, one page wide (as many tall as it takes), gridlines printed, the header
    row on every page, the report's name in the page header, page numbers in the footer."""
    ws.set_landscape()
    ws.set_paper(A4)
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(0)
    ws.set_margins(left=0.4, right=0.4, top=0.75, bottom=0.6)
    if repeat_header:
        ws.repeat_rows(0)
    title = sheet if not heading or heading == sheet else f"{heading} · {sheet}"
    ws.set_header("&C&12" + title.replace("&", "&&")[:200])
    ws.set_footer("&C第 &P 页，共 &N 页")


def write_csv_tables(path: Path, tables: Sequence[Table]) -> int:
    """Several tables in one CSV: each a title line, its header and rows, a blank line
    between (UTF-8 with a BOM, CRLF)."""
    count = 0
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        for i, table in enumerate(tables):
            if i:
                writer.writerow([])
            writer.writerow([table.title])
            writer.writerow([c.header for c in table.columns])
            for row in table.rows:
                writer.writerow(row)
                count += 1
    return count


def write_json_tables(path: Path, tables: Sequence[Table]) -> int:
    """`{key: [rows as objects], ...}` (small reports: the bulletin)."""
    count = 0
    with path.open("wb") as fh:
        fh.write(b"{")
        for i, table in enumerate(tables):
            keys = [c.key for c in table.columns]
            fh.write((b"," if i else b"") + orjson.dumps(table.key) + b":[")
            for j, row in enumerate(table.rows):
                fh.write((b"," if j else b"") + orjson.dumps(dict(zip(keys, row, strict=True))))
                count += 1
            fh.write(b"]")
        fh.write(b"}")
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
