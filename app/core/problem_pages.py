"""The pages a problem's `type` points at (`/problems/{code}`), the list of every code
(`/problems`), and the favicon: served by the service itself, so that a `type` URI resolves
wherever the service is deployed (it used to name an example domain that resolved nowhere).

The codes are read from the `AppError` subclasses the running application has imported (each
domain declares its own), plus the HTTP-level codes of app.core.errors.
"""

from __future__ import annotations

import html
import string
from dataclasses import dataclass
from importlib import resources

from fastapi import APIRouter, Path
from fastapi.responses import HTMLResponse, Response

from app.core.errors import HTTP_CODES, PROBLEMS_PATH, AppError, NotFound

router = APIRouter(include_in_schema=False)


@dataclass(frozen=True)
class ProblemKind:
    code: str
    status: int
    title_zh: str
    title_en: str
    detail_zh: str
    detail_en: str


def _placeholders(template: str) -> str:
    """A detail template with its `{param}` fields shown as `…`."""
    out = []
    for literal, field, _spec, _conv in string.Formatter().parse(template):
        out.append(literal)
        if field is not None:
            out.append("…")
    return "".join(out)


def known_problems() -> dict[str, ProblemKind]:
    """Every problem code the running service can answer with, by code."""
    kinds: dict[str, ProblemKind] = {}
    pending: list[type[AppError]] = [AppError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        if cls.code in kinds:
            continue
        try:
            detail_zh = _placeholders(cls.detail_zh)
            detail_en = _placeholders(cls.detail_en)
        except ValueError:
            detail_zh, detail_en = cls.detail_zh, cls.detail_en
        kinds[cls.code] = ProblemKind(
            cls.code, cls.status, cls.title_zh, cls.title_en, detail_zh, detail_en
        )
    for status, (code, zh, en) in HTTP_CODES.items():
        kinds.setdefault(code, ProblemKind(code, status, zh, en, "", ""))
    return dict(sorted(kinds.items()))


def _page(title: str, body: str) -> HTMLResponse:
    return HTMLResponse(
        "<!doctype html>\n"
        '<html lang="zh-CN"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="icon" href="/favicon.svg" type="image/svg+xml">'
        "<style>body{font:15px/1.6 system-ui,sans-serif;max-width:46rem;margin:2rem auto;"
        "padding:0 1rem;color:#1f2933}code{background:#f0f4f8;padding:0 .3em}"
        "td,th{text-align:left;padding:.2em .6em .2em 0;vertical-align:top}"
        ".muted{color:#616e7c}</style></head>"
        f"<body>{body}</body></html>",
        media_type="text/html; charset=utf-8",
    )


@router.get(PROBLEMS_PATH)
def problem_index() -> HTMLResponse:
    """Every problem code, with its status and title."""
    rows = "".join(
        f'<tr><td><a href="{PROBLEMS_PATH}/{k.code}"><code>{k.code}</code></a></td>'
        f"<td>{k.status}</td><td>{html.escape(k.title_zh)}</td>"
        f'<td class="muted">{html.escape(k.title_en)}</td></tr>'
        for k in known_problems().values()
    )
    return _page(
        "错误代码 · Problem codes",
        "<h1>错误代码 <span class=muted>Problem codes</span></h1>"
        "<p>接口拒绝请求时返回 RFC 9457 <code>application/problem+json</code>，其中 "
        "<code>code</code> 是稳定的代码，客户端据此判断。"
        '<span class="muted"> Refusals are RFC 9457 problems; clients switch on '
        "<code>code</code>.</span></p>"
        f"<table><tr><th>code</th><th>HTTP</th><th>说明</th><th></th></tr>{rows}</table>",
    )


@router.get(PROBLEMS_PATH + "/{code}")
def problem_page(code: str = Path(max_length=64)) -> HTMLResponse:
    """One problem code: what it means, in zh-CN and en."""
    kind = known_problems().get(code)
    if kind is None:
        raise NotFound()
    detail_zh = f"<p>{html.escape(kind.detail_zh)}</p>" if kind.detail_zh else ""
    detail_en = f'<p class="muted">{html.escape(kind.detail_en)}</p>' if kind.detail_en else ""
    return _page(
        f"{kind.code} · {kind.title_zh}",
        f"<p><a href='{PROBLEMS_PATH}'>错误代码</a></p>"
        f"<h1>{html.escape(kind.title_zh)}</h1>"
        f'<p class="muted">{html.escape(kind.title_en)}</p>'
        f"<p><code>code</code>: <code>{kind.code}</code> · HTTP {kind.status}</p>"
        f"{detail_zh}{detail_en}"
        "<p class=muted>具体原因见响应中的 <code>detail</code>；向运维人员反映时请附上 "
        "<code>request_id</code>。 The answer's <code>detail</code> says more; quote its "
        "<code>request_id</code> when reporting it.</p>",
    )


def _static(name: str) -> bytes:
    return (resources.files("app.core") / "static" / name).read_bytes()


@router.get("/favicon.svg")
def favicon_svg() -> Response:
    return Response(
        _static("favicon.svg"),
        media_type="image/svg+xml",
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get("/favicon.ico")
def favicon_ico() -> Response:
    return Response(
        _static("favicon.ico"),
        media_type="image/x-icon",
        headers={"Cache-Control": "public, max-age=86400"},
    )
