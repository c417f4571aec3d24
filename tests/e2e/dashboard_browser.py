"""The dashboard as a person sees it: `acorn dashboard` in its own process on a free loopback port, pages
loaded in headless Chromium (Debian's `chromium` and its matching `chromium-driver`, driven by selenium).

Selenium with the distribution's chromedriver rather than Playwright: the driver comes from the same Debian
package build as the browser, so their versions always match, nothing is downloaded at install or run time
(Playwright's Python package expects a browser build of its own), and selenium is pure Python.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest
from acorn_process import start_acorn

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser")
CHROMEDRIVER_CANDIDATES = ("/usr/bin/chromedriver",)
PAGE_TIMEOUT_SECONDS = 60


def _first_present(candidates: tuple[str, ...], name: str) -> str | None:
    return next((c for c in candidates if Path(c).exists()), None) or shutil.which(name)


def browser_or_skip() -> tuple[str, str]:
    """(chromium, chromedriver); outside CI a missing browser skips the test saying why, in CI it fails."""
    chromium = _first_present(CHROMIUM_CANDIDATES, "chromium")
    driver = _first_present(CHROMEDRIVER_CANDIDATES, "chromedriver")
    if chromium and driver:
        return chromium, driver
    missing = " and ".join(n for n, p in (("chromium", chromium), ("chromedriver", driver)) if not p)
    message = (
        f"no {missing}: the dashboard's browser test needs `apt-get install -y chromium chromium-driver`"
    )
    if os.environ.get("CI"):
        pytest.fail(message + " (.ci/run installs them; CI must run this test)")
    pytest.skip(message + " (skipped outside CI)")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextlib.contextmanager
def running_dashboard(workdir: Path) -> Iterator[str]:
    """`acorn dashboard --port N` on the demo in `workdir`; yields its base URL once it answers."""
    port = free_port()
    log = (workdir / "dashboard.log").open("w")
    process = start_acorn(workdir, "dashboard", "--port", str(port), stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise AssertionError(f"acorn dashboard exited {process.returncode}: {_tail(workdir)}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/_stcore/health", timeout=2).text == "ok":
                    break
            if time.monotonic() > deadline:
                raise AssertionError(f"acorn dashboard did not answer on {url}: {_tail(workdir)}")
            time.sleep(0.3)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _tail(workdir: Path) -> str:
    return (workdir / "dashboard.log").read_text(errors="replace")[-3000:]


@dataclass
class Page:
    title: str
    metrics: dict[str, str]
    errors: list[str]
    text: str


class Browser:
    def __init__(self, chromium: str, chromedriver: str) -> None:
        from selenium import webdriver
        from selenium.webdriver.chrome.options import Options
        from selenium.webdriver.chrome.service import Service

        options = Options()
        options.binary_location = chromium
        for argument in (
            "--headless=new",
            "--no-sandbox",  # CI runs as root
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1400,1800",
            "--lang=en-US",
        ):
            options.add_argument(argument)
        self.driver = webdriver.Chrome(service=Service(chromedriver), options=options)

    def close(self) -> None:
        self.driver.quit()

    def load(self, base: str, path: str, query: dict[str, str], *, screenshot: Path | None = None) -> Page:
        """Load a page with its filters in the URL and wait until its script has finished running."""
        from selenium.webdriver.common.by import By

        self.driver.get(f"{base}/{path}?{urlencode(query)}")
        deadline = time.monotonic() + PAGE_TIMEOUT_SECONDS
        finished_since: float | None = None
        while True:
            app = self.driver.find_elements(By.CSS_SELECTOR, '[data-testid="stApp"]')
            state = app[0].get_attribute("data-test-script-state") if app else None
            titles = self.driver.find_elements(By.CSS_SELECTOR, "h1")
            if state == "notRunning" and titles:
                finished_since = finished_since or time.monotonic()
                if time.monotonic() - finished_since > 1.0:  # and stayed so (no rerun started)
                    break
            else:
                finished_since = None
            if time.monotonic() > deadline:
                raise AssertionError(f"{path} did not finish rendering (script state {state})")
            time.sleep(0.2)
        metrics = {}
        for element in self.driver.find_elements(By.CSS_SELECTOR, '[data-testid="stMetric"]'):
            label = element.find_element(By.CSS_SELECTOR, '[data-testid="stMetricLabel"]').text.strip()
            metrics[label] = element.find_element(
                By.CSS_SELECTOR, '[data-testid="stMetricValue"]'
            ).text.strip()
        errors = [
            element.text
            for element in self.driver.find_elements(
                By.CSS_SELECTOR, '[data-testid="stException"], [data-testid="stAlertContentError"]'
            )
        ]
        if screenshot is not None:
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            self.driver.save_screenshot(str(screenshot))
        body = self.driver.find_element(By.TAG_NAME, "body").text
        return Page(titles[0].text.strip(), metrics, errors, body)


def amount(text: str, currency: str) -> Decimal:
    """'1,234.56 EUR' -> Decimal('1234.56'), checking the currency shown."""
    number, shown = text.rsplit(" ", 1)
    assert shown == currency, f"{text!r} is not in {currency}"
    return Decimal(number.replace(",", ""))


def percent(text: str) -> Decimal:
    """'36.64 %' -> Decimal('36.64')."""
    assert text.endswith(" %"), text
    return Decimal(text[:-2])
