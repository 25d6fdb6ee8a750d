"""Selenium helpers for driving the Galaxy web client in headless Chromium.

Debian's ``chromium`` and ``chromedriver`` are used; nothing is downloaded.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Literal, TypeVar

from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

log = logging.getLogger(__name__)
T = TypeVar("T")

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
# Headless, and nothing that reaches the network beyond the local Galaxy.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--window-size=1400,1000",
)


def new_driver(profile_dir: Path | None = None) -> webdriver.Chrome:
    """Start headless Chromium with a new, empty profile folder."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    profile = profile_dir or Path(tempfile.mkdtemp(prefix="chromium-profile-"))
    options.add_argument(f"--user-data-dir={profile}")
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


class Page:
    """A Galaxy page in the browser, with waits and numbered screenshots."""

    def __init__(self, driver: webdriver.Chrome, url: str, shots: Path, timeout: float = 60) -> None:
        self.driver = driver
        self.url = url.rstrip("/")
        self.shots = shots
        self.timeout = timeout
        self.step = 0
        shots.mkdir(parents=True, exist_ok=True)

    def screenshot(self, name: str) -> Path:
        self.step += 1
        path = self.shots / f"{self.step:02d}_{name}.png"
        self.driver.save_screenshot(str(path))
        log.info("screenshot %s", path)
        return path

    def wait(self, what: str, check: Callable[[], T | Literal[False] | None], timeout: float | None = None) -> T:
        """Poll ``check`` until it returns something truthy; fail with a screenshot on time-out."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while time.monotonic() < deadline:
            try:
                value = check()
            except (StaleElementReferenceException, WebDriverException):
                value = None
            if value:
                return value
            time.sleep(0.5)
        self.screenshot("timeout")
        raise TimeoutError(f"timed out waiting for {what}")

    def visible(self, css: str, timeout: float | None = None) -> WebElement:
        """The first displayed element matching ``css``."""

        def find() -> WebElement | None:
            return next((e for e in self.driver.find_elements(By.CSS_SELECTOR, css) if e.is_displayed()), None)

        return self.wait(css, find, timeout)

    def open(self, path: str) -> None:
        self.driver.get(self.url + path)

    def login(self, email: str, password: str) -> None:
        self.open("/login/start")
        self.visible("#login-form-name").send_keys(email)
        self.visible("#login-form-password").send_keys(password)
        self.visible("button[name=login]").click()
        self.visible("#activity-upload")

    def new_history(self) -> None:
        self.visible("button[data-description='create new history']").click()
        self.wait("an empty history", lambda: "This history is empty" in self.driver.page_source)

    def upload(self, files: list[Path]) -> None:
        """Upload local files through the Upload dialog (type detected by Galaxy)."""
        self.visible("#activity-upload").click()
        self.visible("#btn-start")
        self.driver.find_element(By.ID, "upload-file").send_keys("\n".join(str(f) for f in files))
        self.wait("the upload queue", lambda: "You added" in self.driver.page_source)
        self.screenshot("upload_queued")
        self.visible("#btn-start").click()
        self.wait("uploads to finish", lambda: self.driver.page_source.count("100%") >= len(files), timeout=180)
        self.visible("#btn-close").click()

    def open_tool(self, query: str, tool_id: str) -> None:
        """Find a tool with the tool panel's search box and open its form."""
        self.open("/")
        self.visible("input[placeholder='search tools']").send_keys(query)
        self.visible(f"a.tool-link[data-tool-id='{tool_id}']").click()
        self.visible("#execute")

    def history_items(self) -> list[WebElement]:
        return self.driver.find_elements(By.CSS_SELECTOR, ".content-item[data-hid]")

    def wait_for_items(self, count: int, timeout: float = 600) -> list[WebElement]:
        """Wait until the history holds ``count`` items, every one in state ok; fail on an error."""

        def done() -> list[WebElement] | None:
            items = self.history_items()
            states = [i.get_attribute("data-state") for i in items]
            if "error" in states or "failed_metadata" in states:
                self.screenshot("history_error")
                raise AssertionError(f"a history item failed: {states}")
            return items if len(items) >= count and all(s == "ok" for s in states) else None

        return self.wait(f"{count} finished history items", done, timeout)

    def pick(self, name: str, text: str) -> None:
        """Choose the option containing ``text`` in the tool-form select of parameter ``name``."""
        field = self.visible(f'[id="form-element-{name}"] .multiselect')
        field.click()
        box = field.find_element(By.CSS_SELECTOR, "input.multiselect__input")
        box.send_keys(text)
        option = self.visible(f'[id="form-element-{name}"] .multiselect__option--highlight')
        assert text in option.text, f"{name}: highlighted option {option.text!r} lacks {text!r}"
        box.send_keys(Keys.ENTER)
        self.wait(
            f"{name} = {text}",
            lambda: text in self.visible(f'[id="form-element-{name}"] .multiselect').text,
        )

    def type_text(self, name: str, text: str) -> None:
        # After a data field changes, the form is rebuilt from the server: let that settle first,
        # or the typed text is checked against the old form and the Run button stays disabled.
        time.sleep(3)
        box = self.visible(f'[id="form-element-{name}"] input')
        box.clear()
        box.send_keys(text)
        box.send_keys(Keys.TAB)

    def text_everywhere(self) -> str:
        """Visible text of the page and of its iframes (the center panel may be a frame)."""
        driver = self.driver
        texts = [driver.find_element(By.TAG_NAME, "body").text]
        for frame in driver.find_elements(By.TAG_NAME, "iframe"):
            try:
                driver.switch_to.frame(frame)
                texts.append(driver.find_element(By.TAG_NAME, "body").text)
            except WebDriverException:
                pass
            finally:
                driver.switch_to.default_content()
        return "\n".join(texts)

    def images_everywhere(self) -> list[tuple[str, int]]:
        """``(src, natural width)`` of every image in the page and its iframes; width 0: not rendered."""
        driver = self.driver
        script = "return Array.from(document.images).map(i => [i.getAttribute('src') || '', i.naturalWidth]);"
        found = [tuple(x) for x in driver.execute_script(script)]
        for frame in driver.find_elements(By.TAG_NAME, "iframe"):
            try:
                driver.switch_to.frame(frame)
                found += [tuple(x) for x in driver.execute_script(script)]
            except WebDriverException:
                pass
            finally:
                driver.switch_to.default_content()
        return [(str(src), int(width)) for src, width in found]

    def api(self, path: str) -> object:
        """GET a Galaxy API path with the browser's session (the logged-in user); the decoded JSON."""
        script = (
            "const done = arguments[arguments.length - 1];"
            "fetch(arguments[0], {credentials: 'same-origin'}).then(r => r.json()).then(done, e => done(String(e)));"
        )
        self.driver.set_script_timeout(60)
        return self.driver.execute_async_script(script, self.url + path)

    def current_history_contents(self) -> list[dict]:
        """The current history's datasets and collections (hid, name, state, id, history_content_type)."""
        history = self.api("/history/current_history_json")
        assert isinstance(history, dict), history
        contents = self.api(f"/api/histories/{history['id']}/contents")
        assert isinstance(contents, list), contents
        return contents

    def job_stderr(self, dataset_id: str) -> str:
        """The standard error of the job that made a dataset."""
        dataset = self.api(f"/api/datasets/{dataset_id}")
        assert isinstance(dataset, dict), dataset
        job = self.api(f"/api/jobs/{dataset['creating_job']}?full=true")
        assert isinstance(job, dict), job
        return str(job.get("tool_stderr") or job.get("stderr") or "")

    def field_text(self, name: str) -> str:
        """The text a tool-form field shows (a select's chosen option)."""
        return self.visible(f'[id="form-element-{name}"]').text

    def run_tool(self) -> None:
        self.wait(
            "the Run Tool button", lambda: "disabled" not in (self.visible("#execute").get_attribute("class") or "")
        )
        self.visible("#execute").click()
        self.wait(
            "the job to be queued",
            lambda: "queued" in self.driver.page_source.lower() or "success" in self.driver.page_source.lower(),
        )
