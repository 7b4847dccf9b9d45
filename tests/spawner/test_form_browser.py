"""The spawn form in a real headless Chromium (Debian's, driven by Playwright): search and add a
dataset mount (shown as owner/name), pick a volume, screenshot for the docs, submit, and the
server starts; a volume created on the form is preselected next time; in Chinese the form is
Chinese end to end, field messages included."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from ..support.hub import PASSWORD
from ..support.trees import make_tree, wait_version

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# FERMI_SCREENSHOTS=docs/images refreshes the user guide's pictures; otherwise they go to
# .work/screenshots, so a test run leaves the checkout as it was
DOCS = Path(__file__).resolve().parents[2] / os.environ.get(
    "FERMI_SCREENSHOTS", ".work/screenshots"
)
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

# the form does not care which database the registry uses: one hub is enough
pytestmark = pytest.mark.parametrize("hub", ["sqlite"], indirect=True)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def open_form(browser, hub, user: str, locale: str = "en-US"):
    context = browser.new_context(locale=locale, viewport={"width": 1100, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.goto(f"{hub.url}/hub/spawn")
    page.wait_for_selector("#fermi-storage")
    return page, errors


def wait_ready(hub, user: str) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        server = hub.admin().get(f"/users/{user}").json()["servers"].get("")
        if server and server["ready"]:
            return
        time.sleep(0.5)
    raise AssertionError(f"{user}'s server did not start:\n{hub.log_text()[-3000:]}")


def stop(hub, user: str) -> None:
    hub.admin().delete(f"/users/{user}/server")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and hub.admin().get(f"/users/{user}").json()["servers"]:
        time.sleep(0.3)


def test_spawn_form_in_chromium(hub, users, browser):
    with users["bob"] as c:
        vol = c.post(
            "/volumes", json={"name": "bob-work", "capacity": "500Gi", "type": "ssd"}
        ).json()
        make_tree(hub.storage_root / "volumes" / vol["id"] / "raw", 3, 100)
        ds = c.post("/datasets", json={"name": "ImageNet-2024", "data_type": "image"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "raw"})
        wait_version(c, ds["id"], 1)
    page, errors = open_form(browser, hub, "bob")
    ref = page.locator(".fermi-dataset-ref").first
    ref.fill("ImageNet")
    page.wait_for_function("document.querySelectorAll('#fermi-dataset-options option').length > 0")
    offered = page.eval_on_selector_all(
        "#fermi-dataset-options option", "os => os.map(o => o.value)"
    )
    assert "bob/ImageNet-2024" in offered and not any(v.startswith("ds-") for v in offered)
    ref.fill("bob/ImageNet-2024")  # what picking the suggestion puts in the field
    ref.dispatch_event("change")
    path = page.locator(".fermi-dataset-path").first
    page.wait_for_function("document.querySelector('.fermi-dataset-path').value !== ''")
    assert path.input_value() == "/datasets/ImageNet-2024"
    page.wait_for_function("document.querySelectorAll('.fermi-dataset-version option').length > 1")
    page.select_option(".fermi-dataset-version", "1")
    page.select_option("select.fermi-volume-id", vol["id"])
    page.fill("input[name=volume_path]", "/workspace")
    assert page.get_attribute("input[name=new_volume_path]", "placeholder") == "/workspace"
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "spawn-form.png"), full_page=True)
    page.click("#spawn_form input[type=submit], #spawn_form button[type=submit]")
    wait_ready(hub, "bob")
    assert errors == []  # no JavaScript errors on the page
    # this tab's Lab would poll the next server with the first one's login (a 403 the hub
    # logs for that old tab, not for the spawn checked below)
    page.context.close()
    stop(hub, "bob")
    assert (DOCS / "spawn-form.png").stat().st_size > 10_000

    # next time: the dataset reads owner/name, and a volume made on the form is preselected
    mark = len(hub.log_text())
    page, errors = open_form(browser, hub, "bob")
    assert page.locator(".fermi-dataset-ref").first.input_value() == "bob/ImageNet-2024"
    page.select_option("select.fermi-volume-id", "")
    page.click("details.fermi-new-volume summary")
    page.fill("input[name=new_volume_name]", "made-on-the-form")
    page.fill("input[name=new_volume_size]", "2Gi")
    page.click("#spawn_form input[type=submit], #spawn_form button[type=submit]")
    wait_ready(hub, "bob")
    page.wait_for_url("**/user/bob/lab**", timeout=60_000)  # the browser follows into Lab
    page.wait_for_selector("#jp-main-dock-panel", timeout=60_000)
    # the login cookie of the stopped server was dropped: the new one did not try it
    assert " 403 GET /hub/api/user " not in hub.log_text()[mark:]
    stop(hub, "bob")
    page, errors = open_form(browser, hub, "bob")
    chosen = page.eval_on_selector("select.fermi-volume-id", "s => s.options[s.selectedIndex].text")
    assert chosen.startswith("made-on-the-form · ssd")
    assert errors == []


def test_the_form_in_chinese(hub, users, browser):
    page, errors = open_form(browser, hub, "carol", locale="zh-CN")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    text = page.inner_text("#fermi-storage")
    assert "存储挂载" in text and "挂载数据集" in text and "只读" in text
    assert "Storage mounts" not in text and "Mount path" not in text
    page.fill(".fermi-dataset-ref", "no-such-dataset")
    page.fill(".fermi-dataset-path", "/etc")
    page.click("#spawn_form input[type=submit], #spawn_form button[type=submit]")
    page.wait_for_selector(".fermi-error")
    page.wait_for_function("document.documentElement.lang === 'zh-CN'")
    message = page.inner_text(".fermi-error")
    assert "该数据集版本不存在" in message, message  # the server's message, in Chinese
    assert "部分选择无法使用" in page.inner_text(".spawn-error-msg")
    page.screenshot(path=str(DOCS / "spawn-form-zh.png"), full_page=True)
    assert errors == []
    assert hub.admin().get("/users/carol").json()["servers"] == {}
