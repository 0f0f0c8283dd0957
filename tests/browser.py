"""Headless Chromium for the tests that look at pages: the docs site, the ledger dashboard.

The pages must work with no network (issue 18), so each load blocks every host but the
local server: a request elsewhere is aborted, recorded and failed on. Playwright drives the
system Chromium (no browser download); where either is missing the tests skip and say why —
CI (.ci/run) installs both.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import os
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NoReturn

import pytest

ARTEFACTS = Path(os.environ.get("ECORULES_ARTEFACTS", Path(__file__).parents[1] / "build"))
"""Where screenshots are kept for people to look at (CI keeps the folder as an artefact)."""

CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    # Belt and braces beside request interception: no name resolves but the local server's.
    "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1",
]


def chromium_path() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


def missing(reason: str) -> NoReturn:
    """Skip with the reason; fail instead where CI said these tests must run."""
    if os.environ.get("ECORULES_REQUIRE_BROWSER"):
        pytest.fail(f"ECORULES_REQUIRE_BROWSER is set, but {reason}")
    pytest.skip(reason)


@contextlib.contextmanager
def browser() -> Iterator[Any]:
    """A Playwright Chromium browser, or skip with the reason."""
    executable = chromium_path()
    if executable is None:
        missing("no Chromium: install it (Debian: apt-get install -y chromium fonts-noto-cjk)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("no Playwright: pip install -e '.[browser]' (it drives the system Chromium)")
    with sync_playwright() as play:
        launched = play.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        try:
            yield launched
        finally:
            launched.close()


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        pass


@contextlib.contextmanager
def serve(root: Path) -> Iterator[str]:
    """Serve ``root`` on 127.0.0.1 (only) and yield its base URL."""
    handler = functools.partial(_Quiet, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def offline_page(browser: Any, allowed: str | None) -> tuple[Any, list[str]]:
    """A new page on which any request not under ``allowed`` (None: every request but
    inline data) is aborted and recorded in the returned list."""
    context = browser.new_context(viewport={"width": 1240, "height": 1754}, locale="zh-CN")
    elsewhere: list[str] = []

    def route(request_route: Any) -> None:
        url = request_route.request.url
        if url.startswith(("data:", "blob:", "about:")) or (allowed and url.startswith(allowed)):
            request_route.continue_()
        else:
            elsewhere.append(url)
            request_route.abort()

    context.route("**/*", route)
    return context.new_page(), elsewhere
