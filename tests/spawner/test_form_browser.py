"""The spawn form in a real headless Chromium (Debian's, driven by Playwright): search and add a
dataset mount, pick a volume, screenshot for the docs, submit, and the server starts."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from ..support.hub import PASSWORD
from ..support.trees import make_tree, wait_version

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
DOCS = Path(__file__).resolve().parents[2] / "docs" / "images"
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


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


def test_spawn_form_in_chromium(hub, users, browser):
    if hub.backend != "sqlite":  # one browser run is enough; the form is the same
        return
    with users["bob"] as c:
        vol = c.post(
            "/volumes", json={"name": "bob-work", "capacity": "500Gi", "type": "ssd"}
        ).json()
        make_tree(hub.storage_root / "volumes" / vol["id"] / "raw", 3, 100)
        ds = c.post("/datasets", json={"name": "ImageNet-2024", "data_type": "image"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "raw"})
        wait_version(c, ds["id"], 1)
    page = browser.new_page(viewport={"width": 1100, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{hub.url}/hub/login")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", PASSWORD)
    page.click("input[type=submit], button[type=submit]")
    page.goto(f"{hub.url}/hub/spawn")
    page.wait_for_selector("#fermi-storage")
    ref = page.locator(".fermi-dataset-ref").first
    ref.fill("ImageNet")
    page.wait_for_function("document.querySelectorAll('#fermi-dataset-options option').length > 0")
    ref.fill(ds["id"])  # what picking the suggestion puts in the field
    ref.dispatch_event("change")
    path = page.locator(".fermi-dataset-path").first
    page.wait_for_function("document.querySelector('.fermi-dataset-path').value !== ''")
    assert path.input_value() == "/datasets/ImageNet-2024"
    page.wait_for_function("document.querySelectorAll('.fermi-dataset-version option').length > 1")
    page.select_option(".fermi-dataset-version", "1")
    page.select_option("select.fermi-volume-id", vol["id"])
    page.fill("input[name=volume_path]", "/workspace")
    DOCS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(DOCS / "spawn-form.png"), full_page=True)
    page.click("#spawn_form input[type=submit], #spawn_form button[type=submit]")
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        server = hub.admin().get("/users/bob").json()["servers"].get("")
        if server and server["ready"]:
            break
        time.sleep(0.5)
    else:
        raise AssertionError("bob's server did not start")
    assert errors == []  # no JavaScript errors on the page
    mounts = hub.admin().get("/users/bob").json()["servers"][""]
    assert mounts["ready"]
    hub.admin().delete("/users/bob/server")
    assert (DOCS / "spawn-form.png").stat().st_size > 10_000
