"""The workspace as a person uses it: a real server on a loopback port, driven in headless
Chromium through Selenium. Screenshots of each page go to the test's temporary folder.

Outside CI a missing Chromium or chromedriver skips these tests with the reason; under CI=true
(as .ci/run sets it, after installing Debian's `chromium` and `chromium-driver`) it fails them."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from standoff.case import builtin_cases
from standoff.web.runs import Limits

from .conftest import in_ci
from .webserver import serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")


def _need_browser() -> None:
    if CHROMIUM and DRIVER:
        return
    reason = "headless Chromium and chromedriver not found (Debian packages 'chromium' and "
    reason += "'chromium-driver'; .ci/run installs them)"
    if in_ci():
        pytest.fail(f"{reason}; CI=true, so this fails instead of skipping", pytrace=False)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    work = tmp_path_factory.mktemp("workspace")
    shutil.copy(builtin_cases()["cuba-1962"], work / "mine.yaml")
    return work


@pytest.fixture(scope="module")
def server(folder: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from standoff.web import create_app

    ledger = str(tmp_path_factory.mktemp("ledger") / "ledger.sqlite")
    app = create_app(folder, ledger, limits=Limits(trajectories=2, replicates=4))
    with serving(app) as base:
        yield base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1400,1000",
                 "--disable-dev-shm-usage"):  # fmt: skip
        options.add_argument(flag)
    options.binary_location = str(CHROMIUM)
    driver = webdriver.Chrome(service=Service(str(DRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("screenshots")


def wait(driver: Any, check: Any, seconds: float = 15.0) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds, poll_frequency=0.05).until(lambda d: check(d))


def test_cases_page_and_a_case(browser: Any, server: str, shots: Path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server + "/")
    assert "Cases" in browser.find_element(By.TAG_NAME, "h1").text
    rows = browser.find_elements(By.CSS_SELECTOR, "#cases tbody tr")
    assert {"mine", "cuba-1962", "us-dprk-2018"} <= {r.get_attribute("data-case") for r in rows}
    browser.save_screenshot(str(shots / "cases.png"))
    browser.find_element(By.LINK_TEXT, "mine").click()
    wait(browser, lambda d: d.current_url.endswith("/cases/mine"))
    assert "Cuban missile crisis" in browser.find_element(By.TAG_NAME, "h1").text
    assert "khrushchev" in browser.find_element(By.ID, "actors").text
    assert len(browser.find_elements(By.CSS_SELECTOR, "svg.map")) == 3
    assert "negotiated_withdrawal" in browser.find_element(By.ID, "scenarios").text
    browser.save_screenshot(str(shots / "case.png"))


def test_editing_shows_problems_at_their_lines_and_saves(
    browser: Any, server: str, shots: Path, folder: Path
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    browser.get(server + "/cases/mine/edit")
    state = browser.find_element(By.ID, "state")
    wait(browser, lambda d: state.text.startswith("valid"))
    text = browser.find_element(By.ID, "text")
    original = text.get_attribute("value")
    lines = original.split("\n")
    target = next(n for n, line in enumerate(lines) if "capability: 45 to 60" in line) + 1
    # put the caret at the end of the capability line and type a broken number
    browser.execute_script(
        "const t = arguments[0], line = arguments[1];"
        "const at = t.value.split('\\n').slice(0, line).join('\\n').length;"
        "t.focus(); t.setSelectionRange(at, at);",
        text,
        target,
    )
    text.send_keys(Keys.BACKSPACE * 2 + "x")
    mark = wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, f'.mark[data-line="{target}"]'))
    assert "capability" in mark[0].text
    assert browser.find_element(By.CSS_SELECTOR, f'.gutter .err[data-line="{target}"]')
    assert f"line {target}" in browser.find_element(By.ID, "problems").text
    assert not browser.find_element(By.ID, "save").is_enabled()
    browser.save_screenshot(str(shots / "edit-problem.png"))
    text.send_keys(Keys.BACKSPACE + "65")  # 45 to 65
    wait(browser, lambda d: state.text.startswith("valid"))
    assert not browser.find_elements(By.CSS_SELECTOR, ".mark:not(.warn)")
    browser.find_element(By.ID, "save").click()
    wait(browser, lambda d: "saved" in d.find_element(By.ID, "saved").text)
    assert "capability: 45 to 65" in (folder / "mine.yaml").read_text(encoding="utf-8")
    kept = list((folder / ".standoff-history").iterdir())
    assert [p.read_text(encoding="utf-8") for p in kept] == [original]
    browser.save_screenshot(str(shots / "edit-saved.png"))


def test_dragging_a_slider_changes_the_probability(browser: Any, server: str, shots: Path):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    browser.get(server + "/cases/mine/whatif")
    cell = '#results tr[data-key="question:us_air_strike"] td.now'
    wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, cell))
    before = browser.find_element(By.CSS_SELECTOR, cell).text
    change = browser.find_element(By.CSS_SELECTOR, cell.replace("td.now", "td.change"))
    assert change.text in ("±0.0 pts", "—")
    slider = browser.find_element(
        By.CSS_SELECTOR, '.knob[data-key="param:strike_rate"] input[type=range]'
    )
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    width = slider.size["width"]
    ActionChains(browser).click_and_hold(slider).move_by_offset(width // 4, 0).pause(
        0.3
    ).move_by_offset(width // 5, 0).release().perform()
    wait(browser, lambda d: d.find_element(By.CSS_SELECTOR, cell).text != before)
    wait(browser, lambda d: "5,000 draws ·" in d.find_element(By.ID, "status").text)
    after = browser.find_element(By.CSS_SELECTOR, cell).text
    assert float(after.rstrip("%")) > float(before.rstrip("%"))
    changed = browser.find_element(By.CSS_SELECTOR, cell.replace("td.now", "td.change"))
    assert changed.text.startswith("+")
    browser.save_screenshot(str(shots / "whatif.png"))
    browser.find_element(By.ID, "record").click()
    wait(browser, lambda d: "recorded as ledger record" in d.find_element(By.ID, "status").text)
    browser.get(server + "/cases/mine/history")
    assert "us_air_strike" in browser.find_element(By.TAG_NAME, "main").text
    assert browser.find_elements(By.CSS_SELECTOR, "#records tbody tr")
    browser.save_screenshot(str(shots / "history.png"))


def test_a_run_shows_progress_and_the_report(browser: Any, server: str, shots: Path):
    from selenium.webdriver.common.by import By

    browser.get(server + "/cases/mine/run")
    draws = browser.find_element(By.ID, "draws")
    draws.clear()
    draws.send_keys("300")
    browser.find_element(By.ID, "go").click()
    wait(browser, lambda d: d.find_element(By.ID, "report").is_displayed(), seconds=60)
    assert browser.find_element(By.ID, "dl-html").get_attribute("href").endswith("download=true")
    time.sleep(0.5)
    browser.save_screenshot(str(shots / "run.png"))
    browser.switch_to.frame(browser.find_element(By.ID, "report"))
    assert "Cuban missile crisis" in browser.find_element(By.TAG_NAME, "body").text
    browser.switch_to.default_content()
    browser.find_element(By.ID, "record").click()
    wait(browser, lambda d: "recorded as ledger record" in d.find_element(By.ID, "recorded").text)


def test_script_in_a_case_shows_as_text(browser: Any, server: str, folder: Path, shots: Path):
    from selenium.common.exceptions import NoAlertPresentException
    from selenium.webdriver.common.by import By

    evil = "<script>alert(1)</script>"
    text = builtin_cases()["cuba-1962"].read_text(encoding="utf-8")
    text = text.replace("title: The Cuban missile crisis (October 1962)", f'title: "{evil}"')
    text = text.replace("label: The standoff goes on", f"label: '{evil}'")
    (folder / "evil.yaml").write_text(text, encoding="utf-8")
    row = '#results tr[data-key="scenario:standoff"] td'
    for page in ("/cases/evil", "/cases/evil/whatif", "/cases/evil/edit"):
        browser.get(server + page)
        if page.endswith("whatif"):
            wait(browser, lambda d: d.find_elements(By.CSS_SELECTOR, row))
            assert browser.find_element(By.CSS_SELECTOR, row).text == evil
        else:
            time.sleep(0.3)
        with pytest.raises(NoAlertPresentException):
            browser.switch_to.alert.text  # noqa: B018 - raises when no alert is open
        assert evil in browser.find_element(By.TAG_NAME, "main").text or page.endswith("edit")
    browser.save_screenshot(str(shots / "escaped.png"))
