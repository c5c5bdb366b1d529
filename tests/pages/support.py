"""Browser helpers for the pages' tests: a phone context, axe-core from the npm registry (installed
by the test into a cache folder under the system's temporary directory, injected, never served),
horizontal overflow, and the throttled profile of issue 22 (750 kb/s, 100 ms round trips)."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import pytest

AXE_VERSION = "4.14.1"
PHONE = {"width": 390, "height": 844}
# Chromium's network emulation: 750 kbit/s both ways, 100 ms round trips.
THROTTLED = {
    "offline": False,
    "latency": 100,
    "downloadThroughput": 750_000 / 8,
    "uploadThroughput": 750_000 / 8,
}
SHOTS = Path(os.environ.get("ZHUCUN_SCREENSHOTS", tempfile.gettempdir()))


def need_node() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(f"axe-core needs {', '.join(missing)} (.ci/run)")
        pytest.skip(f"needs {', '.join(missing)}")


def axe_source() -> str:
    """axe.min.js of the pinned axe-core, installed once per machine with npm."""
    need_node()
    home = Path(tempfile.gettempdir()) / f"zhucun-axe-core-{AXE_VERSION}"
    script = home / "node_modules" / "axe-core" / "axe.min.js"
    if not script.exists():
        work = Path(tempfile.mkdtemp(prefix="zhucun-axe-"))
        subprocess.run(
            [
                "npm",
                "install",
                "--no-save",
                "--no-package-lock",
                "--no-audit",
                "--no-fund",
                "--prefix",
                str(work),
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
        try:
            work.rename(home)  # atomic: a parallel worker's copy may have won the race
        except OSError:
            shutil.rmtree(work, ignore_errors=True)
    return script.read_text(encoding="utf-8")


def axe_violations(page: Any, source: str) -> list[str]:
    """Serious and critical axe-core findings on the page as shown. The script is evaluated
    through the DevTools protocol, so the page's CSP (which would refuse it) is left on."""
    if not page.evaluate("typeof window.axe === 'object'"):
        page.evaluate(source)
    found = page.evaluate(
        "() => axe.run(document, {resultTypes: ['violations']}).then(r => r.violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => v.id + ': ' + v.nodes.map(n => n.target.join(' ')).join(', ')))"
    )
    return list(found)


def overflow(page: Any) -> int:
    """How far the page is wider than its viewport (0: no horizontal scrolling)."""
    return int(
        page.evaluate(
            "Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"
            " - document.documentElement.clientWidth"
        )
    )


def throttle(context: Any, page: Any) -> Any:
    cdp = context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", THROTTLED)
    return cdp


def timed_visit(page: Any, url: str) -> float:
    """Seconds from the start of navigation until the page is usable, as the page measured it
    (`body[data-ready]` holds performance.now() at that moment: the browser's own clock, free of
    the test process's scheduling)."""
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready]", state="attached", timeout=20_000)
    return int(page.get_attribute("body", "data-ready") or 0) / 1000


def shot(page: Any, name: str, folder: Path | None = None, full: bool = False) -> Path:
    """A screenshot as the phone shows it (or the `full` page), for CI's artefacts and the docs."""
    target = (folder or SHOTS) / f"pages-{name}.png"
    page.screenshot(path=str(target), full_page=full)
    return target


def until(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Wait until `expression` is true in the page, evaluated through the DevTools protocol
    (Playwright's wait_for_function evaluates strings with eval, which the CSP refuses)."""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout} s: {expression}")
        page.wait_for_timeout(100)


def small_targets(page: Any, minimum: int = 44) -> list[str]:
    """Visible controls a finger cannot hit: shorter than `minimum` px (a checkbox or radio
    counts by the label that holds it, which takes the tap)."""
    return list(
        page.evaluate(
            """min => Array.from(document.querySelectorAll(
                    'button, a[href], input, select, textarea, label.check, .choices label'))
                .filter(e => e.offsetParent !== null)
                .map(e => (e.type === 'checkbox' || e.type === 'radio') && e.closest('label')
                    ? e.closest('label') : e)
                .filter(e => e.getBoundingClientRect().height < min)
                .map(e => (e.id || e.textContent.trim() || e.tagName).slice(0, 30))""",
            minimum,
        )
    )
