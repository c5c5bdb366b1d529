"""Serves the pages' static files from this package (no CDN, no build step): each file is read
once, gzip-compressed once, and answered compressed to any client that accepts gzip.

Every page answers with `Content-Security-Policy: default-src 'self'` (no inline script or
style, nothing from elsewhere), no cookies, and `charset=utf-8`. The shell of `/app` is cached
by its service worker (`/app/sw.js`, scope `/app`), whose cache name carries a digest of every
file, so a new release replaces the old shell on the next visit."""

from __future__ import annotations

import gzip
import hashlib
import io
from dataclasses import dataclass
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

router = APIRouter(include_in_schema=False)

CSP = (
    "default-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'; "
    "object-src 'none'"
)
TYPES = {
    "html": "text/html; charset=utf-8",
    "js": "text/javascript; charset=utf-8",
    "css": "text/css; charset=utf-8",
    "svg": "image/svg+xml; charset=utf-8",
    "webmanifest": "application/manifest+json; charset=utf-8",
}
# The files of the member's shell: the service worker caches exactly these.
SHELL = ("app.html", "app.js", "pages.css", "icon.svg", "manifest.webmanifest")
PUBLIC = ("v.html", "v.js", "s.html", "s.js")
VERSION_MARK = "__SHELL_VERSION__"


@dataclass(frozen=True)
class Asset:
    body: bytes
    gzipped: bytes
    media_type: str
    etag: str


def _read(name: str) -> str:
    return (resources.files("app.pages") / "static" / name).read_text(encoding="utf-8")


def _asset(text: str, name: str) -> Asset:
    body = text.encode("utf-8")
    digest = hashlib.sha256(body).hexdigest()[:16]
    return Asset(
        body=body,
        gzipped=gzip.compress(body, compresslevel=9, mtime=0),
        media_type=TYPES[name.rsplit(".", 1)[1]],
        etag=f'"{digest}"',
    )


def _load() -> dict[str, Asset]:
    texts = {name: _read(name) for name in (*SHELL, *PUBLIC, "sw.js")}
    version = hashlib.sha256("".join(texts[n] for n in SHELL).encode("utf-8")).hexdigest()[:12]
    texts["sw.js"] = texts["sw.js"].replace(VERSION_MARK, version)
    return {name: _asset(text, name) for name, text in texts.items()}


ASSETS = _load()


def shell_bytes() -> int:
    """The shell's size before compression (HTML, JS, CSS, icon and manifest)."""
    return sum(len(ASSETS[name].body) for name in SHELL)


def _send(request: Request, name: str, cache: str = "no-cache", **extra: str) -> Response:
    asset = ASSETS[name]
    headers = {
        "Cache-Control": cache,
        "ETag": asset.etag,
        "Vary": "Accept-Encoding",
        "Content-Security-Policy": CSP,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",  # /v/{token}: the token never leaves in a Referer
        **extra,
    }
    if request.headers.get("if-none-match") == asset.etag:
        return Response(status_code=304, headers=headers)
    if "gzip" in request.headers.get("accept-encoding", ""):
        return Response(
            asset.gzipped,
            media_type=asset.media_type,
            headers={**headers, "Content-Encoding": "gzip"},
        )
    return Response(asset.body, media_type=asset.media_type, headers=headers)


@router.get("/app")
def member_page(request: Request) -> Response:
    """The member's page (sign-in, check-in, offline queue, households, leave, events…)."""
    return _send(request, "app.html")


@router.get("/app/sw.js")
def service_worker(request: Request) -> Response:
    # Its scope is the page `/app` itself, which lies outside the script's folder `/app/`.
    return _send(request, "sw.js", **{"Service-Worker-Allowed": "/app"})


@router.get("/app/qr.svg", name="qr")
def qr_code(text: Annotated[str, Query(min_length=1, max_length=300)]) -> Response:
    """A QR code (SVG) of a countersign link, drawn for the member's full-screen QR."""
    import segno

    out = io.BytesIO()
    # A standalone image: its own namespace, a white quiet zone of 4 modules (the standard's).
    segno.make(text, error="m", micro=False).save(
        out, kind="svg", scale=8, border=4, xmldecl=False, svgns=True, light="#fff"
    )
    return Response(
        out.getvalue(),
        media_type="image/svg+xml; charset=utf-8",
        headers={"Cache-Control": "private, max-age=600", "Content-Security-Policy": CSP},
    )


@router.get("/app/{name}")
def member_asset(request: Request, name: str) -> Response:
    if name not in ASSETS or name.endswith(".html") or name == "sw.js":
        return Response(status_code=404)
    return _send(request, name)


@router.get("/v")
def countersign_code_page(request: Request) -> Response:
    """The household types the 6-digit code shown on the member's phone."""
    return _send(request, "v.html")


@router.get("/v/{token}")
def countersign_page(request: Request, token: Annotated[str, Path(max_length=200)]) -> Response:
    """The household opens the countersign link (the QR on the member's phone)."""
    return _send(request, "v.html", cache="no-store")


@router.get("/s/{code}")
def survey_page(request: Request, code: Annotated[str, Path(max_length=40)]) -> Response:
    """A villager answers the survey with the code of the card they were handed."""
    return _send(request, "s.html", cache="no-store")
