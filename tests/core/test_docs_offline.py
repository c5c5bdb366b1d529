"""`/docs` renders every operation in headless Chromium with the network cut off: Swagger UI
comes from the installed package, not from a CDN."""

from __future__ import annotations

from urllib.parse import urlparse

from tests.loopback import chromium_path, serving


def test_docs_render_the_operations_with_no_network(app):
    from playwright.sync_api import sync_playwright

    operation_ids = {
        operation["operationId"]
        for path in app.openapi()["paths"].values()
        for operation in path.values()
    }
    blocked: list[str] = []
    with serving(app) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium_path(), args=["--no-sandbox"])
        try:
            page = browser.new_page()

            def only_loopback(route, request) -> None:  # type: ignore[no-untyped-def]
                if urlparse(request.url).hostname in {"127.0.0.1", "localhost"}:
                    route.continue_()
                else:
                    blocked.append(request.url)
                    route.abort()

            page.route("**/*", only_loopback)
            page.goto(f"{base}/docs")
            page.wait_for_selector(".opblock", timeout=20_000)
            # Swagger UI gives each operation block the id "operations-<tag>-<operationId>".
            ids = page.locator(".opblock").evaluate_all("els => els.map(e => e.id)")
            title = page.locator(".info .title").inner_text()
        finally:
            browser.close()
    assert blocked == []
    rendered = {i.split("-", 2)[2] for i in ids}
    assert rendered == operation_ids
    assert "Zhucun API" in title


def test_only_the_pages_assets_are_served(client):
    assert client.get("/docs/assets/swagger-ui-bundle.js").status_code == 200
    assert client.get("/docs/assets/LICENSE").status_code == 404
    assert client.get("/docs/assets/..%2F__init__.py").status_code == 404
    page = client.get("/docs").text
    assert "cdn" not in page.lower()
    assert "/docs/assets/swagger-ui-bundle.js" in page
