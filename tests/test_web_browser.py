"""The workspace as a person uses it: a real server on a loopback port, opened with its token
URL as `standoff serve` prints it and driven in headless Chromium through Selenium; and pages of
other sites (another port, another host name, a name re-pointed at 127.0.0.1) that try to change
it. Screenshots of each page go to the test's temporary folder.

Outside CI a missing Chromium or chromedriver skips these tests with the reason; under CI=true
(as .ci/run sets it, after installing Debian's `chromium` and `chromium-driver`) it fails them."""

from __future__ import annotations

import functools
import http.server
import json
import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from standoff.case import builtin_cases
from standoff.web.guard import allowed_hosts
from standoff.web.runs import Limits

from .conftest import in_ci
from .webserver import free_port, serving

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
DRIVER = shutil.which("chromedriver")
TOKEN = "5f1c0a9e77d24b3f8e6a2d41c9b07e13"
REBOUND = "evil.example"  # the browser resolves it to 127.0.0.1, as after DNS rebinding


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


class Seen:
    """The requests an app answered: (method, path, status, body of a refusal)."""

    def __init__(self, app: ASGIApp):
        self.app = app
        self.answers: list[tuple[str, str, int, str]] = []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [0]
        body = bytearray()

        async def watch(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            elif message["type"] == "http.response.body" and status[0] == 403:
                body.extend(message.get("body", b""))
            await send(message)

        await self.app(scope, receive, watch)
        self.answers.append((scope["method"], scope["path"], status[0], body.decode()))


@pytest.fixture(scope="module")
def ledger(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("ledger") / "ledger.sqlite"


@pytest.fixture(scope="module")
def seen(folder: Path, ledger: Path) -> Seen:
    from standoff.web import create_app

    app = create_app(
        folder, str(ledger), limits=Limits(trajectories=2, replicates=4), token=TOKEN,
        allowed_hosts=allowed_hosts("127.0.0.1"),
    )  # fmt: skip
    return Seen(app)


@pytest.fixture(scope="module")
def base(seen: Seen) -> Iterator[str]:
    """The workspace as `standoff serve` runs it on 127.0.0.1: its URL without the token."""
    with serving(seen) as url:
        yield url


@pytest.fixture(scope="module")
def server(browser: Any, base: str) -> str:
    """The workspace opened in the browser with the URL `standoff serve` prints: the token goes
    into an HttpOnly, SameSite=Strict cookie and the page redirects to its URL without it."""
    browser.get(f"{base}/?token={TOKEN}")
    assert browser.current_url == base + "/"
    cookies = browser.get_cookies()
    assert [(c["value"], c["httpOnly"], c["sameSite"]) for c in cookies] == [
        (TOKEN, True, "Strict")
    ]
    return base


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    _need_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--window-size=1400,1000",
        "--disable-dev-shm-usage",
        f"--host-resolver-rules=MAP {REBOUND} 127.0.0.1",
    ):
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


def test_a_new_case_is_started_from_the_home_page(
    browser: Any, server: str, folder: Path, shots: Path
) -> None:
    """The New case form: a copy of a built-in case under a new id opens in the editor, valid; an
    id a file of the folder has is refused beside the form, and nothing is written."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    browser.get(server + "/")
    browser.find_element(By.ID, "new-id").send_keys("dprk-2019")
    Select(browser.find_element(By.ID, "new-from")).select_by_value("us-dprk-2018")
    browser.save_screenshot(str(shots / "new-case-form.png"))
    browser.find_element(By.ID, "create").click()
    wait(browser, lambda d: d.current_url == server + "/cases/dprk-2019/edit")
    state = browser.find_element(By.ID, "state")
    wait(browser, lambda d: state.text.startswith("valid"))
    assert "id: dprk-2019" in (folder / "dprk-2019.yaml").read_text(encoding="utf-8")
    browser.save_screenshot(str(shots / "new-case-edit.png"))

    before = (folder / "mine.yaml").read_bytes()
    browser.get(server + "/")
    assert browser.find_elements(By.CSS_SELECTOR, '#cases tr[data-case="dprk-2019"]')
    browser.find_element(By.ID, "new-id").send_keys("mine")
    browser.find_element(By.ID, "create").click()
    said = browser.find_element(By.ID, "new-state")
    wait(browser, lambda d: said.text.startswith("not created"))
    assert "mine is taken by the file mine.yaml" in said.text
    assert browser.current_url == server + "/"
    assert (folder / "mine.yaml").read_bytes() == before
    browser.save_screenshot(str(shots / "new-case-refused.png"))


def test_the_ends_of_each_issue_map_never_overlap(browser: Any, server: str, shots: Path) -> None:
    """us-dprk-2018's scales mean long things at both ends; each end keeps to its own side."""
    browser.get(server + "/cases/us-dprk-2018")
    boxes = browser.execute_script(
        """
        return [...document.querySelectorAll(".mapbox")].map(m => {
          const r = e => { const b = e.getBoundingClientRect();
                           return [b.left, b.top, b.right, b.bottom]; };
          return [r(m.querySelector(".ends .low")), r(m.querySelector(".ends .high")), r(m)];
        });
        """
    )
    assert len(boxes) == 3
    for low, high, frame in boxes:
        apart = low[2] <= high[0] or low[3] <= high[1]
        assert apart, (low, high)
        assert frame[0] <= low[0] and high[2] <= frame[2], (low, high, frame)
    browser.execute_script("document.querySelector('.mapbox').scrollIntoView()")
    browser.save_screenshot(str(shots / "case-maps.png"))


@pytest.fixture(scope="module")
def other_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[int]:
    """Another web site on this machine: one page, on a port of its own; yields the port."""
    root = tmp_path_factory.mktemp("other-site")
    (root / "page.html").write_text("<!doctype html><title>another site</title><p>hello</p>")
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    thread = threading.Thread(target=site.serve_forever, daemon=True)
    thread.start()
    yield int(site.server_address[1])
    site.shutdown()
    thread.join(10)


# what a page of another site tries: fetch the workspace's API (its cookies included, where the
# browser sends them) to save a case, record a finished run and a what-if, and read a case
ATTACK = """
const [base, run, done] = arguments;
const attempts = {
  save: [base + "/api/cases/mine", {method: "PUT", credentials: "include",
         headers: {"content-type": "application/json"}, body: JSON.stringify({text: "id: x"})}],
  record: [base + "/api/runs/" + run + "/record", {method: "POST", mode: "no-cors",
           credentials: "include"}],
  whatif: [base + "/api/whatif/record", {method: "POST", mode: "no-cors", credentials: "include",
           headers: {"content-type": "text/plain"},
           body: JSON.stringify({case: "mine", draws: 100, seed: 1, set: {}})}],
  read: [base + "/api/cases/mine", {credentials: "include"}],
};
const out = {};
(async () => {
  for (const [name, [url, init]] of Object.entries(attempts)) {
    try {
      const r = await fetch(url, init);
      out[name] = r.type === "opaque" ? "opaque" : String(r.status);
    } catch (e) { out[name] = "blocked"; }
  }
  done(out);
})();
"""


def ledger_size(ledger: Path) -> int:
    """The number of records in the ledger's file."""
    from standoff.ledger import open_ledger

    opened = open_ledger(str(ledger))
    try:
        return len(opened.records())
    finally:
        opened.close()


def finished_run(base: str) -> str:
    """A finished run of `mine`, started by a client that shows the token, not yet recorded."""
    shown = {"authorization": f"token {TOKEN}"}
    job = httpx.post(f"{base}/api/runs", json={"case": "mine", "draws": 50}, headers=shown)
    assert job.status_code == 202, job.text
    ident = job.json()["id"]
    for _ in range(600):
        if httpx.get(f"{base}/api/runs/{ident}", headers=shown).json()["state"] == "done":
            return str(ident)
        time.sleep(0.1)
    raise AssertionError("the run did not finish")


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_another_site_cannot_change_the_workspace(
    browser: Any,
    server: str,
    seen: Seen,
    folder: Path,
    ledger: Path,
    other_site: int,
    name: str,
    shots: Path,
):
    """From 127.0.0.1 on another port (the same site: the browser sends the token's cookie) and
    from localhost (another site: no cookie), a page's fetches are refused and nothing changes."""
    before = (folder / "mine.yaml").read_bytes()
    run = finished_run(server)
    records = ledger_size(ledger)
    browser.get(f"http://{name}:{other_site}/page.html")
    del seen.answers[:]
    got = browser.execute_async_script(ATTACK, server, run)
    # the save and the read are stopped by the browser (no CORS grant), the rest by the server
    assert got == {"save": "blocked", "record": "opaque", "whatif": "opaque", "read": "blocked"}
    changes = [a for a in seen.answers if a[0] in ("POST", "PUT", "PATCH", "DELETE")]
    assert {(m, p) for m, p, _, _ in changes} == {
        ("POST", f"/api/runs/{run}/record"), ("POST", "/api/whatif/record")
    }  # fmt: skip
    # a read is answered where the cookie went along, but the browser keeps it from the page
    assert {status for m, _, status, _ in seen.answers if m != "GET"} == {403}, seen.answers
    why = "from another site" if name == "127.0.0.1" else "needs its token"
    assert all(why in json.loads(body)["detail"] for _, _, _, body in changes)
    assert (folder / "mine.yaml").read_bytes() == before
    assert ledger_size(ledger) == records
    browser.save_screenshot(str(shots / f"other-site-{name}.png"))


def test_a_rebound_name_is_refused(browser: Any, server: str, seen: Seen, folder: Path):
    """A site whose name now points at 127.0.0.1 reaches the workspace's port under its own name
    (its scripts count as the same origin): the Host is refused, for pages and the API."""
    port = server.rsplit(":", 1)[1]
    before = (folder / "mine.yaml").read_bytes()
    del seen.answers[:]
    browser.get(f"http://{REBOUND}:{port}/cases/mine")
    from selenium.webdriver.common.by import By

    refusal = browser.find_element(By.ID, "refused").text
    assert f"the Host '{REBOUND}' is not a name of this workspace" in refusal
    got = browser.execute_async_script(
        """
        const done = arguments[0];
        (async () => {
          const read = await fetch("/api/cases/mine");
          const save = await fetch("/api/cases/mine", {method: "PUT",
            headers: {"content-type": "application/json", "x-standoff": "1"},
            body: JSON.stringify({text: "id: x"})});
          done([read.status, save.status, (await save.json()).detail]);
        })();
        """
    )
    assert got[:2] == [403, 403] and REBOUND in got[2]
    assert {status for _, _, status, _ in seen.answers} == {403}
    assert (folder / "mine.yaml").read_bytes() == before


def test_without_the_token_a_page_says_how_to_open_the_workspace(browser: Any, server: str):
    """The cookie belongs to 127.0.0.1: under `localhost` the same workspace asks for the token
    URL, and opening it there signs that name in too."""
    from selenium.webdriver.common.by import By

    local = server.replace("127.0.0.1", "localhost")
    browser.get(local + "/cases/mine")
    assert "needs its token" in browser.find_element(By.ID, "refused").text
    assert "standoff serve" in browser.find_element(By.TAG_NAME, "main").text
    browser.get(f"{local}/cases/mine?token={TOKEN}")
    assert browser.current_url == local + "/cases/mine"
    assert "Cuban missile crisis" in browser.find_element(By.TAG_NAME, "h1").text
