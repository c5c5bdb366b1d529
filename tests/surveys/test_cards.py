"""The card sheet: each card's QR code, read back by a QR reader (zxing-cpp) as a phone would,
names the card's own `/s/{code}`; the CSV holds the same codes; and the sheet prints on A4,
eight cards a page, in headless Chromium's print-to-PDF."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
import zxingcpp

from tests.surveys.support import VILLAGE, codes_of, open_wave

CHROMIUM = Path(os.environ.get("ZHUCUN_CHROMIUM", "/usr/bin/chromium"))
_STEP = re.compile(r"([Mmh])\s*(-?[\d.]+)(?:\s+(-?[\d.]+))?")


def svg_matrix(svg: str) -> np.ndarray:
    """The dark modules of a segno SVG (one path of horizontal strokes: M/m moves, h draws),
    as an image a reader takes: 8 pixels a module, black on white."""
    size = int(re.search(r'viewBox="0 0 (\d+) \d+"', svg).group(1))
    path = re.search(r' d="([^"]+)"', svg).group(1)
    grid = np.full((size, size), 255, dtype=np.uint8)
    x = y = 0.0
    for op, a, b in _STEP.findall(path):
        if op == "M":
            x, y = float(a), float(b)
        elif op == "m":
            x, y = x + float(a), y + float(b)
        else:
            length = float(a)
            grid[int(y), int(x) : int(x + length)] = 0
            x += length
    return np.kron(grid, np.ones((8, 8), dtype=np.uint8))


def test_each_qr_code_reads_as_its_cards_url(world):
    wave = open_wave(world, codes=10)
    r = world.get("county", f"/surveys/{wave['id']}/cards?village_code={VILLAGE}&format=html")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    cards = re.findall(r'<div class="card" data-code="([A-Z2-9]{8})">(<svg.*?</svg>)', r.text)
    assert [code for code, _ in cards] == codes_of(world, wave["id"])
    for code, svg in cards:
        found = zxingcpp.read_barcodes(svg_matrix(svg))
        assert [b.text for b in found] == [f"http://testserver/s/{code}"]
        assert found[0].format == zxingcpp.BarcodeFormat.QRCode
    # Readers in scope only: the township and the member have no cards; another county none.
    for who, status in (("alice", 403), ("township1", 403), ("othercounty", 404), ("auditor", 200)):
        path = f"/surveys/{wave['id']}/cards?village_code={VILLAGE}"
        assert world.get(who, path).status_code == status, who
    r = world.get("county", f"/surveys/{wave['id']}/cards?village_code=430122001001")
    assert r.status_code == 404
    assert r.json()["code"] == "village_not_found"


@pytest.mark.browser
def test_the_sheet_prints_on_a4_eight_cards_a_page(world, tmp_path):
    if not CHROMIUM.exists():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the print test needs {CHROMIUM}")
        pytest.skip(f"needs {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    wave = open_wave(world, codes=30)
    html = world.get("county", f"/surveys/{wave['id']}/cards?village_code={VILLAGE}").text
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        try:
            page = browser.new_page()
            page.set_content(html)
            page.emulate_media(media="print")
            pdf = page.pdf(prefer_css_page_size=True, print_background=True)
            page.emulate_media(media="screen")
            page.set_viewport_size({"width": 900, "height": 1300})
            page.screenshot(path=str(tmp_path / "cards.png"))
            # The QR codes as Chromium draws them, read back from its pixels.
            first = page.eval_on_selector(
                ".card svg",
                """svg => new Promise(done => {
                    const img = new Image();
                    img.onload = () => {
                        const c = document.createElement('canvas');
                        c.width = c.height = 400;
                        const g = c.getContext('2d');
                        g.fillStyle = '#fff'; g.fillRect(0, 0, 400, 400);
                        g.drawImage(img, 0, 0, 400, 400);
                        const d = g.getImageData(0, 0, 400, 400).data;
                        const grey = [];
                        for (let i = 0; i < d.length; i += 4) grey.push(d[i + 1]);
                        done(grey);
                    };
                    const text = new XMLSerializer().serializeToString(svg);
                    img.src = 'data:image/svg+xml;charset=utf-8,' + encodeURIComponent(text);
                })""",
            )
        finally:
            browser.close()
    keep = os.environ.get("ZHUCUN_SCREENSHOTS")
    if keep:
        shutil.copy(tmp_path / "cards.png", keep)
        (Path(keep) / "cards.pdf").write_bytes(pdf)
    pixels = np.array(first, dtype=np.uint8).reshape(400, 400)
    code = codes_of(world, wave["id"])[0]
    assert [b.text for b in zxingcpp.read_barcodes(pixels)] == [f"http://testserver/s/{code}"]
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
    assert len(pages) == 4, "30 cards, 8 a page"
    boxes = {
        tuple(round(float(v)) for v in box.split())
        for box in re.findall(rb"/MediaBox\s*\[([^\]]+)\]", pdf)
    }
    assert boxes == {(0, 0, 595, 842)} or boxes == {(0, 0, 596, 843)}, boxes  # A4 in points
