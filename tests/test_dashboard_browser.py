"""The dashboard in a real headless Chromium, served by `followthrough serve`'s code path."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from test_dashboard_warehouse import EXPECTED, build_warehouse

from dashboards import data

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the whole process group: `serve` starts Streamlit as a child process."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    # An orphaned grandchild would keep the port; make sure the whole group is gone.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)


@pytest.fixture
def dashboard_url(tmp_path: Path) -> Iterator[str]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian: apt-get install chromium)")
    warehouse = build_warehouse(tmp_path / "warehouse.duckdb")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != data.BENCHMARK_ENV}
    log = (tmp_path / "streamlit.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; "
            "from followthrough.commands.serve import serve; "
            f"sys.exit(serve(Path({str(warehouse)!r}), '127.0.0.1', {port}))",
        ],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                pytest.fail(f"dashboard exited early: {(tmp_path / 'streamlit.log').read_text()}")
            try:
                if httpx.get(f"{url}/_stcore/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                pytest.fail("dashboard did not become healthy within 60 s")
            time.sleep(0.3)
        yield url
    finally:
        _stop(proc)
        log.close()


def test_overview_in_chromium(dashboard_url: str, tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    median = data.format_hours(EXPECTED["median_hours"])
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1800})
            page.goto(dashboard_url, wait_until="domcontentloaded")
            page.get_by_text(median, exact=True).first.wait_for(timeout=45_000)
            page.get_by_text("Never ticketed: 3 (30%)").first.wait_for(timeout=10_000)
            label = "4.3 days — vendor-reported industry figure"
            # The label must be drawn in the distribution chart itself, not only in a caption.
            chart_label = page.locator(".vega-embed svg text", has_text=label).first
            chart_label.wait_for(timeout=20_000)
            page.wait_for_timeout(1000)
            body = page.inner_text("body")
            assert median in body
            assert label in body
            page.screenshot(path=str(tmp_path / "overview.png"), full_page=True)

            page.goto(f"{dashboard_url}/action_items", wait_until="domcontentloaded")
            page.get_by_text("10 of 10 action items shown", exact=False).first.wait_for(
                timeout=30_000
            )
            page.wait_for_timeout(1000)
            page.screenshot(path=str(tmp_path / "action_items.png"), full_page=True)

            page.goto(f"{dashboard_url}/incidents", wait_until="domcontentloaded")
            page.get_by_text("With a postmortem").first.wait_for(timeout=30_000)
            page.wait_for_timeout(1500)
            page.screenshot(path=str(tmp_path / "incidents.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "overview.png").stat().st_size > 10_000
