"""Swagger UI at /docs on the local runtime, in headless Chromium (Debian's chromium and
chromedriver, which `make test` installs with scripts/install_browser.sh): the page loads
offline, lists every operation of schemas/openapi.json, and "Try it out" on /health gets a 200.

No skip: without the browser this test fails and says how to install it."""

from __future__ import annotations

import json
import os
import shutil
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.wait import WebDriverWait

from harvest.local.adapter import IDLE_CONNECTION_S
from support.runtime import running_runtime

DOCUMENT = json.loads(
    (Path(__file__).resolve().parents[2] / "schemas" / "openapi.json").read_text("utf-8")
)
METHODS = {"get", "put", "post", "patch", "delete", "head", "options"}
PATIENCE_S = 60.0  # a loaded 2-core machine parses the 1.5 MB bundle slowly; we poll, not sleep


def _operations() -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for path, item in DOCUMENT["paths"].items()
        for method in item
        if method in METHODS
    }


def _installed(name: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is not installed: run scripts/install_browser.sh (make test does)"
    return found


@pytest.fixture
def api_url(tmp_path: Path) -> Iterator[str]:
    with running_runtime(tmp_path / "data") as (runtime, _):
        yield runtime.api_url


@pytest.fixture
def browser(api_url: str) -> Iterator[WebDriver]:
    """Quits before the runtime stops (it depends on api_url): the runtime drains open
    connections, and a browser keeps its idle ones for minutes."""
    options = Options()
    options.binary_location = _installed("chromium")
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"):
        options.add_argument(argument)
    # The system driver, given by path: Selenium Manager never looks for (or downloads) one.
    os.environ.setdefault("SE_OFFLINE", "true")
    driver = webdriver.Chrome(options=options, service=Service(_installed("chromedriver")))
    try:
        yield driver
    finally:
        driver.quit()


def _listed(driver: WebDriver) -> set[tuple[str, str]]:
    listed = set()
    for block in driver.find_elements(By.CSS_SELECTOR, ".opblock"):
        method = block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text
        path = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path")
        listed.add((method.upper(), path.get_attribute("data-path") or path.text))
    return listed


def _operation(driver: WebDriver, method: str, path: str) -> WebElement:
    for block in driver.find_elements(By.CSS_SELECTOR, f".opblock-{method.lower()}"):
        summary = block.find_element(By.CSS_SELECTOR, ".opblock-summary-path")
        if summary.get_attribute("data-path") == path:
            return block
    raise AssertionError(f"{method} {path} is not on the page")


def test_docs_list_every_operation_offline_and_try_it_out_on_health_answers_200(
    api_url: str, browser: WebDriver
) -> None:
    wait = WebDriverWait(browser, PATIENCE_S, poll_frequency=0.1)
    expected = _operations()
    assert len(expected) >= 20

    # Given the page, When Swagger UI has read /openapi.json
    browser.get(f"{api_url}/docs")
    wait.until(
        lambda driver: len(driver.find_elements(By.CSS_SELECTOR, ".opblock")) >= len(expected)
    )

    # Then it lists exactly the document's operations
    assert browser.title == "Harvest Exchange API (local)"
    assert _listed(browser) == expected

    # When "Try it out" then "Execute" run on /health
    health = _operation(browser, "GET", "/health")
    health.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda _: health.find_elements(By.CSS_SELECTOR, ".try-out__btn"))
    health.find_element(By.CSS_SELECTOR, ".try-out__btn").click()
    wait.until(lambda _: health.find_elements(By.CSS_SELECTOR, ".execute"))
    health.find_element(By.CSS_SELECTOR, ".execute").click()

    # Then the live response is the runtime's 200 with the health body
    live = ".live-responses-table .response .response-col_status"
    status = wait.until(lambda _: health.find_elements(By.CSS_SELECTOR, live))
    assert status[0].text.strip().startswith("200")
    body = health.find_element(By.CSS_SELECTOR, ".live-responses-table .microlight")
    assert json.loads(body.text)["status"] == "ok"

    # And everything the page fetched came from the runtime itself (offline, no CDN)
    fetched = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert f"{api_url}/openapi.json" in fetched
    assert f"{api_url}/health" in fetched
    assert all(url.startswith(api_url + "/") for url in fetched), fetched


def test_an_idle_kept_alive_connection_is_closed_so_a_stop_does_not_wait_on_a_browser(
    api_url: str,
) -> None:
    # Given a client that keeps its connection open after a request, as browsers do
    host, port = api_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10 * IDLE_CONNECTION_S) as conn:
        conn.sendall(b"GET /docs/initializer.js HTTP/1.1\r\nHost: x\r\n\r\n")
        received = b""
        # When it sends nothing more, Then the runtime answers and then closes it (EOF)
        while chunk := conn.recv(65536):
            received += chunk

    assert received.startswith(b"HTTP/1.1 200")
    assert b"/openapi.json" in received
