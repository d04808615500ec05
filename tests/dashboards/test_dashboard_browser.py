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
from typing import TYPE_CHECKING

import duckdb
import httpx
import pytest

from dashboards.formatting import format_hours

if TYPE_CHECKING:
    from playwright.sync_api import Page

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


@contextlib.contextmanager
def _serve(warehouse: Path, tmp_path: Path) -> Iterator[str]:
    """Run the dashboard on `warehouse` through `serve()`, yield its URL, stop it after."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} not installed (Debian: apt-get install chromium)")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k != "FOLLOWTHROUGH_BENCHMARK_DAYS"}
    log_path = tmp_path / f"streamlit-{port}.log"
    log = log_path.open("wb")
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
                pytest.fail(f"dashboard exited early: {log_path.read_text()}")
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


@pytest.fixture
def dashboard_url(warehouse: Path, tmp_path: Path) -> Iterator[str]:
    with _serve(warehouse, tmp_path) as url:
        yield url


def test_overview_in_chromium(
    dashboard_url: str, tmp_path: Path, expected: dict[str, float]
) -> None:
    from playwright.sync_api import sync_playwright

    median = format_hours(expected["median_hours"])
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


def _full_page_screenshot(page: Page, path: Path) -> None:
    """Streamlit scrolls inside its main container, so grow the viewport to the content first."""
    height = page.evaluate(
        "() => Math.max(...[...document.querySelectorAll('[data-testid=stMain], section')]"
        ".map(e => e.scrollHeight))"
    )
    page.set_viewport_size({"width": 1500, "height": min(int(height) + 50, 8000)})
    page.wait_for_timeout(700)
    page.screenshot(path=str(path), full_page=True)
    page.set_viewport_size({"width": 1500, "height": 1200})


def test_leadership_pages_in_chromium(sample_org: tuple[Path, Path], tmp_path: Path) -> None:
    """Follow-through, stale, quality and recurring pages on a warehouse built by the pipeline."""
    from playwright.sync_api import sync_playwright

    warehouse = sample_org[1]
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        (message,) = con.execute(
            "SELECT r.message FROM models.ci_failure_clusters c"
            " JOIN models.recurrences r USING (provider, job_id)"
            " WHERE c.cluster_id = (SELECT cluster_id FROM models.ci_failure_clusters"
            "  GROUP BY cluster_id ORDER BY count(*) DESC, max(failed_at) DESC, cluster_id LIMIT 1)"
            " ORDER BY c.failed_at DESC, c.job_id DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    with _serve(warehouse, tmp_path) as url, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1500, "height": 1200})
            chart_text = page.locator(".vega-embed svg text")

            page.goto(f"{url}/follow_through", wait_until="domcontentloaded")
            page.get_by_text("Done within 30 days").first.wait_for(timeout=45_000)
            # Both reference lines are drawn in the survival charts themselves.
            chart_text.filter(has_text="vendor-reported industry figure").first.wait_for(
                timeout=20_000
            )
            chart_text.filter(has_text="Atlassian's published SLO").first.wait_for(timeout=20_000)
            _full_page_screenshot(page, tmp_path / "follow_through.png")

            page.goto(f"{url}/stale", wait_until="domcontentloaded")
            page.get_by_text("Act on these today").first.wait_for(timeout=30_000)
            page.locator("[data-testid=stDataFrame]").nth(1).wait_for(timeout=20_000)
            _full_page_screenshot(page, tmp_path / "stale.png")

            page.goto(f"{url}/quality", wait_until="domcontentloaded")
            page.get_by_text("Follow-through checklist").first.wait_for(timeout=30_000)
            chart_text.filter(has_text="unknown (no data)").first.wait_for(timeout=20_000)
            _full_page_screenshot(page, tmp_path / "quality.png")

            page.goto(f"{url}/recurring", wait_until="domcontentloaded")
            page.get_by_text(message, exact=False).first.wait_for(timeout=30_000)
            # The redacted excerpt is shown as a code block with its line markers.
            page.locator("pre", has_text="›").first.wait_for(timeout=10_000)
            _full_page_screenshot(page, tmp_path / "recurring.png")

            body = page.inner_text("body")
            assert "Traceback" not in body
        finally:
            browser.close()
    for name in ("follow_through", "stale", "quality", "recurring"):
        assert (tmp_path / f"{name}.png").stat().st_size > 20_000, name
