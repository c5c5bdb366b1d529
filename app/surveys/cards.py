"""The printable card sheet of a village: each card its code, large, and a QR code of
`/s/{code}` drawn here (segno, as SVG: sharp at any printer's resolution), eight cards to an
A4 page with dashed lines to cut along. The CSV holds the same codes for a print shop."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from html import escape

import segno
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.core.policy import Policy
from app.core.time import as_utc
from app.org.models import Village
from app.surveys import waves
from app.surveys.errors import SurveyVillageNotFound
from app.surveys.models import Survey, SurveyCode

CARDS_PER_PAGE = 8
NOTE = "微信或相机扫码作答；每卡限答一次，不记姓名。"


@dataclass(frozen=True)
class Card:
    seq: int
    code: str
    url: str


def cards(
    session: Session, survey: Survey, village_code: str, prefix: str, secret: str, base_url: str
) -> tuple[Village, list[Card]]:
    """The village's cards, in order; 404 when the wave has none for it under `prefix`."""
    rows = (
        session.scalars(
            select(SurveyCode)
            .where(SurveyCode.survey_id == survey.id, SurveyCode.village_code == village_code)
            .order_by(SurveyCode.seq)
        ).all()
        if village_code.startswith(prefix)
        else []
    )
    village = session.get(Village, village_code)
    if not rows or village is None:
        raise SurveyVillageNotFound(survey_id=survey.id, village_code=village_code)
    base = base_url.rstrip("/")
    out = []
    for row in rows:
        code = waves.code_for(secret, survey.id, row)
        out.append(Card(row.seq, code, f"{base}/s/{code}"))
    return village, out


def as_csv(village: Village, items: Sequence[Card]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(["village_code", "village_name", "seq", "code", "url"])
    for card in items:
        writer.writerow([village.code, village.name, card.seq, card.code, card.url])
    return buffer.getvalue()


def _local(moment: datetime, policy: Policy) -> str:
    return as_utc(moment).astimezone(policy.zone).strftime("%Y-%m-%d %H:%M")


def qr_svg(url: str) -> str:
    """The QR code of `url` as inline SVG, sized by the page's CSS."""
    return str(segno.make(url, error="m", micro=False).svg_inline(omitsize=True, border=2))


def as_html(survey: Survey, village: Village, items: Sequence[Card], policy: Policy) -> str:
    window = f"{_local(survey.opens_at, policy)} 至 {_local(survey.closes_at, policy)}"
    pages = [items[i : i + CARDS_PER_PAGE] for i in range(0, len(items), CARDS_PER_PAGE)]
    sheets = "\n".join(
        '<section class="sheet">'
        + "".join(_card(survey, village, card, window) for card in page)
        + "</section>"
        for page in pages
    )
    title = escape(f"{survey.title} · {village.name} · 测评卡")
    return f"""<!doctype html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<title>{title}</title>
<style>
@page {{ size: A4 portrait; margin: 10mm; }}
* {{ box-sizing: border-box; }}
html, body {{ margin: 0; padding: 0; }}
body {{ font-family: "Noto Sans CJK SC", "Source Han Sans SC", "Microsoft YaHei", sans-serif;
  color: #000; }}
.sheet {{ width: 190mm; height: 276mm; display: grid; grid-template-columns: 1fr 1fr;
  grid-template-rows: repeat(4, 1fr); break-after: page; page-break-after: always;
  overflow: hidden; }}
.sheet:last-child {{ break-after: auto; page-break-after: auto; }}
.card {{ border: 0.3mm dashed #888; padding: 4mm; display: flex; gap: 4mm;
  align-items: center; break-inside: avoid; overflow: hidden; }}
.card svg {{ width: 38mm; height: 38mm; flex: none; }}
.text {{ font-size: 9pt; line-height: 1.35; min-width: 0; }}
.survey {{ font-weight: bold; font-size: 9.5pt; }}
.code {{ font-family: "DejaVu Sans Mono", "Courier New", monospace; font-size: 17pt;
  font-weight: bold; letter-spacing: 0.6mm; margin: 1.5mm 0; }}
.url {{ font-family: "DejaVu Sans Mono", monospace; font-size: 6.5pt; word-break: break-all; }}
.note {{ font-size: 7.5pt; color: #333; }}
@media screen {{ body {{ background: #eee; }} .sheet {{ background: #fff; margin: 5mm auto;
  padding: 0; }} }}
</style>
</head>
<body>
{sheets}
</body>
</html>
"""


def _card(survey: Survey, village: Village, card: Card, window: str) -> str:
    spaced = f"{card.code[:4]} {card.code[4:]}"
    return (
        f'<div class="card" data-code="{card.code}">'
        f"{qr_svg(card.url)}"
        '<div class="text">'
        f'<div class="survey">{escape(survey.title)}</div>'
        f"<div>{escape(village.name)} · 第 {card.seq} 号</div>"
        f'<div class="code">{spaced}</div>'
        f'<div class="url">{escape(card.url)}</div>'
        f'<div class="note">{NOTE}作答时间 {escape(window)}</div>'
        "</div></div>"
    )
