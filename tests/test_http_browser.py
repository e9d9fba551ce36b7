"""The web board in a real browser: Debian's Chromium, driven through its chromedriver by
Selenium, against the real server. A person logs in with a token, filters the board by
department, opens a red case and reads why it is red, and downloads the board as CSV, whose
rows are the API's. A screenshot of each page is kept in build/artifacts/browser/.

Without Chromium the tests skip, except under CI (``CI=true``) or with
``CASELEDGER_REQUIRE_BROWSER=1``, where they fail: ``make`` installs it (apt-get).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.http_server import Server, running_server

ROOT = Path(__file__).parent.parent
ARTIFACTS = ROOT / "build" / "artifacts" / "browser"
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
DAY = "2026-11-20"


def _require_browser() -> None:
    missing = [p for p in (CHROMIUM, DRIVER) if not os.path.exists(p)]
    if not missing:
        return
    message = f"no browser: {', '.join(missing)} missing (apt-get install chromium chromium-driver)"
    if os.environ.get("CI") == "true" or os.environ.get("CASELEDGER_REQUIRE_BROWSER") == "1":
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _require_browser()
    db = f"sqlite:///{tmp_path_factory.mktemp('browser')}/ledger.db"
    with running_server(db, cases=40) as running:
        yield running


@pytest.fixture(scope="module")
def downloads(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(server: Server, downloads: Path) -> Iterator[Any]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", "--lang=zh-CN"):  # fmt: skip
        options.add_argument(argument)
    options.add_experimental_option(
        "prefs",
        {"download.default_directory": str(downloads), "download.prompt_for_download": False},
    )
    driver = webdriver.Chrome(service=Service(DRIVER), options=options)
    driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)}
    )
    driver.implicitly_wait(5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    try:
        yield driver
    finally:
        driver.quit()


def _navigate(browser: Any, element: Any) -> None:
    """Click ``element`` and wait until the page it leads to has replaced this one (a click
    returns before the next page is there, more so on a loaded machine)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import WebDriverWait

    old = browser.find_element(By.TAG_NAME, "html")
    element.click()
    wait = WebDriverWait(browser, 30)
    wait.until(expected_conditions.staleness_of(old))
    wait.until(lambda b: b.execute_script("return document.readyState") == "complete")


def _shot(browser: Any, name: str) -> None:
    browser.save_screenshot(str(ARTIFACTS / f"{name}.png"))


def _log_in(browser: Any, server: Server) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.base}/board?as_of={DAY}")
    assert "登录" in browser.title  # no token yet: the login page
    browser.find_element(By.ID, "token").send_keys(server.tokens["supervision"])
    _navigate(browser, browser.find_element(By.ID, "login"))


def test_a_supervisor_filters_the_board_opens_a_red_case_and_reads_why(
    browser: Any, server: Server
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    _log_in(browser, server)
    heading = browser.find_element(By.TAG_NAME, "h1").text
    assert heading.startswith("监察看板") and heading.endswith(DAY)  # back where it was asked
    _shot(browser, "board")
    with server.client("supervision") as api:
        board = api.get("/api/v1/board", params={"as_of": DAY}).json()
    red = next(c for c in board["cases"] if c["light"] == "red")
    department = red["department"]
    Select(browser.find_element(By.ID, "filter-department")).select_by_visible_text(department)
    _navigate(browser, browser.find_element(By.ID, "apply"))
    shown = {cell.text for cell in browser.find_elements(By.CSS_SELECTOR, "td.department")}
    assert shown == {department}
    assert browser.find_element(By.TAG_NAME, "h1").text.endswith(DAY)
    _shot(browser, "board-filtered")
    links = browser.find_elements(By.CSS_SELECTOR, "tr.red a.case-link")
    assert red["case_no"] in [link.text for link in links]
    _navigate(browser, next(link for link in links if link.text == red["case_no"]))
    assert browser.find_element(By.TAG_NAME, "h1").text == f"办件 Case {red['case_no']}"
    assert "红灯 red" in browser.find_element(By.ID, "light").text
    reasons = [li.text for li in browser.find_elements(By.CSS_SELECTOR, "#why li.reason")]
    with server.client("supervision") as api:
        account = api.get(
            f"/api/v1/cases/{red['case_no']}/evaluation", params={"as_of": DAY}
        ).json()
    assert reasons == account["reasons"] and reasons
    citations = [c.text for c in browser.find_elements(By.CSS_SELECTOR, "#clock td.citation")]
    assert [s["reference"] or "-" for s in account["clock"]["steps"]] == citations
    _shot(browser, "case")


def test_the_downloaded_board_csv_holds_the_apis_rows(
    browser: Any, server: Server, downloads: Path
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.base}/board?as_of={DAY}")
    if "登录" in browser.title:
        _log_in(browser, server)
    browser.find_element(By.ID, "download-csv").click()
    deadline = time.monotonic() + 60
    while not list(downloads.glob("board-*.csv")) and time.monotonic() < deadline:
        time.sleep(0.2)
    [file] = downloads.glob("board-*.csv")
    rows = list(csv.reader(io.StringIO(file.read_text(encoding="utf-8-sig"))))
    with server.client("supervision") as api:
        cases = api.get("/api/v1/board", params={"as_of": DAY}).json()["cases"]
    assert rows[0][0] == "办件编号 case_no"
    assert [r[0] for r in rows[1:]] == [c["case_no"] for c in cases]
    assert [r[1] for r in rows[1:]] == [c["light"] for c in cases]
    assert [r[7] for r in rows[1:]] == [c["deadline"] or "" for c in cases]


def test_the_statistics_and_projects_pages_show_their_charts_and_rows(
    browser: Any, server: Server
) -> None:
    from selenium.webdriver.common.by import By

    browser.get(f"{server.base}/statistics?as_of={DAY}")
    if "登录" in browser.title:
        _log_in(browser, server)
        browser.get(f"{server.base}/statistics?as_of={DAY}")
    charts = browser.find_elements(By.CSS_SELECTOR, "figure.chart svg")
    assert len(charts) == 2
    with server.client("supervision") as api:
        months = api.get("/api/v1/statistics", params={"as_of": DAY, "by": "month"}).json()
        projects = api.get("/api/v1/projects", params={"as_of": DAY}).json()
    table = browser.find_elements(By.CSS_SELECTOR, "#statistics-month tbody tr")
    keys = [row.find_element(By.TAG_NAME, "td").text for row in table]
    assert keys == [r["key"] for r in months["rows"]]
    _shot(browser, "statistics")
    browser.get(f"{server.base}/projects?as_of={DAY}")
    rows = browser.find_elements(By.CSS_SELECTOR, "#projects tbody tr")
    assert len(rows) == len(projects) > 0
    _shot(browser, "projects")
