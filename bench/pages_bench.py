"""The member page's weight and load times on a village's weak signal (run from the project root):

    .venv/bin/python bench/pages_bench.py [--runs 5] [--smoke]

Serves the app with uvicorn in its own process (a fresh SQLite database) and, as the baseline,
the same shell files from `python -m http.server` in another process (the simplest honest
server: no compression, no service worker, revisits answered by the browser's HTTP cache and
304s). Debian's Chromium, driven by Playwright, opens /app on a 390 × 844 phone under Chromium's
network emulation of issue 22 (750 kbit/s both ways, 100 ms round trips): a first visit in a
fresh profile, then a second visit (from the service worker for the app). "Usable" is the page's
`body[data-ready]`: the sign-in form (or the signed-in card) shown and its script running, which
holds performance.now() at that moment (milliseconds since navigation began, the browser's clock).
Prints the shell's size, raw and gzip, and the medians, with their ratio to the baseline, and
checks them against the issue's targets (≤ 150 KB raw; ≤ 2 s first visit; ≤ 0.5 s from the
service worker).
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.pages.router import ASSETS, SHELL, shell_bytes  # noqa: E402

CHROMIUM = os.environ.get("ZHUCUN_CHROMIUM", "/usr/bin/chromium")
THROTTLED = {
    "offline": False,
    "latency": 100,
    "downloadThroughput": 750_000 / 8,
    "uploadThroughput": 750_000 / 8,
}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def wait_for(url: str, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited ({proc.returncode}) before answering {url}")
        try:
            with urllib.request.urlopen(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url}")


def start_app(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{work / 'bench.db'}",
        "ZHUCUN_SECRET_KEY": "bench-" + "x" * 40,
        "ZHUCUN_EXPORT_DIR": str(work / "exports"),
        "ZHUCUN_LOG_LEVEL": "warning",
    }
    subprocess.run(
        [sys.executable, "-m", "app.cli", "db", "upgrade"],
        env=env, cwd=ROOT, check=True, capture_output=True,
    )  # fmt: skip
    proc = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "app.asgi:app", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning", "--no-access-log"],
        env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/app", proc)
    return proc, base


def start_baseline(work: Path) -> tuple[subprocess.Popen[bytes], str]:
    """The same files under the same paths, from Python's own static file server."""
    site = work / "site" / "app"
    site.mkdir(parents=True)
    for name in (*SHELL, "sw.js"):
        target = site / ("index.html" if name == "app.html" else name)
        target.write_bytes(ASSETS[name].body)
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=work / "site", stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    wait_for(f"{base}/app/", proc)
    return proc, base


def visits(pw, url: str, runs: int) -> tuple[list[float], list[float]]:  # type: ignore[no-untyped-def]
    first: list[float] = []
    again: list[float] = []
    browser = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
    try:
        for _ in range(runs):
            context = browser.new_context(
                viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True
            )
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            cdp.send("Network.emulateNetworkConditions", THROTTLED)
            first.append(timed(page, url))
            # Let the service worker (where there is one) take the shell in, then come back.
            page.evaluate(
                "() => 'serviceWorker' in navigator ? Promise.race([navigator.serviceWorker"
                ".ready.then(() => caches.keys()), new Promise(r => setTimeout(r, 3000))]) : 0"
            )
            page.wait_for_timeout(300)
            again.append(timed(page, url))
            context.close()
    finally:
        browser.close()
    return first, again


def timed(page, url: str) -> float:  # type: ignore[no-untyped-def]
    """Seconds from the start of navigation until usable, on the page's own clock."""
    page.goto(url, wait_until="commit")
    page.wait_for_selector("body[data-ready]", state="attached", timeout=30_000)
    return int(page.get_attribute("body", "data-ready") or 0) / 1000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--smoke", action="store_true", help="one run; targets not judged")
    args = parser.parse_args()
    runs = 1 if args.smoke else args.runs

    from playwright.sync_api import sync_playwright

    raw = shell_bytes()
    gz = sum(len(ASSETS[n].gzipped) for n in SHELL)
    print(
        f"shell: {raw} B raw ({raw / 1024:.1f} KB), {gz} B gzip ({gz / raw:.0%}) — target ≤ 150 KB"
    )
    work = Path(tempfile.mkdtemp(prefix="zhucun-pages-bench-"))
    procs: list[subprocess.Popen[bytes]] = []
    try:
        app_proc, app_base = start_app(work)
        procs.append(app_proc)
        base_proc, base_base = start_baseline(work)
        procs.append(base_proc)
        with sync_playwright() as pw:
            b_first, b_again = visits(pw, f"{base_base}/app/", runs)
            a_first, a_again = visits(pw, f"{app_base}/app", runs)
    finally:
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
            proc.wait(10)
        shutil.rmtree(work, ignore_errors=True)

    med = statistics.median
    print(f"throttled profile: 750 kbit/s, 100 ms RTT; {runs} run(s), medians")
    print(
        f"baseline (http.server, same files): first {med(b_first):.3f} s, "
        f"revisit {med(b_again):.3f} s"
    )
    print(
        f"/app first visit: {med(a_first):.3f} s ({med(a_first) / med(b_first):.2f}× baseline)"
        " — target ≤ 2 s"
    )
    print(
        f"/app from the service worker: {med(a_again):.3f} s "
        f"({med(a_again) / med(b_again):.2f}× baseline revisit) — target ≤ 0.5 s"
    )
    if args.smoke:
        print("smoke run: the targets are not judged")
        return 0
    ok = raw <= 150 * 1024 and med(a_first) <= 2.0 and med(a_again) <= 0.5
    print("targets met" if ok else "TARGETS MISSED")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
