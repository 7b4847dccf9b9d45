"""The README's run command, for real: the shipped local config with its *default*
FERMI_HOME (``/var/lib/fermi-jupyter`` as root), nothing overridden but the ports.

The hub runs in a private mount namespace with a fresh tmpfs at /var/lib/fermi-jupyter, so the
default path is used as shipped without touching the machine's own. Then, as a new user:
a sandboxed server's whole file system is walked (entered with nsenter, as root, so nothing
hides behind permissions) and holds no cookie secret, no hub or registry database, no demo
passwords, no other user's home, volume or dataset; a file written to a volume is owned by the
unprivileged servers' user on the host; a notebook saved where Lab puts it survives stop,
start and a hub restart; a start after the hub restarted is checked again; and two spawns
leave no 403 in the hub log. Another new user, in Chromium, imports a Git repository as a
dataset from the Lab sidebar and finds it offered on the next spawn form, mounted read-only.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import httpx
import pytest

from ..support.kernel import run_code
from ..support.ports import free_port
from ..support.trees import make_tree, wait_version

REPO = Path(__file__).resolve().parents[2]
CONFIG = REPO / "hub_config" / "local" / "jupyterhub_config.py"
HOME = "/var/lib/fermi-jupyter"  # the shipped default, as root
BROWSER_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.skipif(os.geteuid() != 0, reason="the default home as root")


class ShippedHub:
    """The shipped config in its own mount namespace, restartable (the namespace outlives it)."""

    def __init__(self) -> None:
        self.ports = {k: free_port() for k in ("HUB", "HUB_API", "PROXY_API", "REGISTRY")}
        self.url = f"http://127.0.0.1:{self.ports['HUB']}"
        self.cwd = tempfile.mkdtemp(prefix="fermi-shipped-")
        self.log_path = Path(self.cwd) / "hub.log"
        self.made_mountpoint = not os.path.exists(HOME)
        os.makedirs(HOME, exist_ok=True)
        self.holder = subprocess.Popen(
            ["unshare", "--mount", "--propagation", "private", "sh", "-c",
             f"mount -t tmpfs -o mode=755 fermi-test {HOME} && echo up && exec sleep 86400"],
            stdout=subprocess.PIPE, text=True, start_new_session=True,
        )  # fmt: skip
        assert self.holder.stdout.readline().strip() == "up"
        self.proc: subprocess.Popen | None = None

    def path(self, *parts: str) -> Path:
        """A path of the namespace's tmpfs, seen from here."""
        return Path(f"/proc/{self.holder.pid}/root{HOME}", *parts)

    def start(self) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FERMI_")}
        env.update({f"FERMI_{k}_PORT": str(v) for k, v in self.ports.items()})
        env["PATH"] = f"{REPO / 'node_modules' / '.bin'}:{env['PATH']}"
        log = open(self.log_path, "ab")  # noqa: SIM115
        self.proc = subprocess.Popen(
            ["nsenter", "-t", str(self.holder.pid), "-m", "--",
             sys.executable, "-m", "jupyterhub", "-f", str(CONFIG)],
            cwd=self.cwd, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log()[-4000:]
            try:
                if httpx.get(f"{self.url}/services/fermi-registry/api/v1/health").is_success:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise AssertionError(self.log()[-4000:])

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(40)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(10)

    def close(self) -> None:
        self.stop()
        os.killpg(self.holder.pid, signal.SIGKILL)
        self.holder.wait(10)
        if self.made_mountpoint:
            os.rmdir(HOME)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def password(self, name: str) -> str:
        return self.path("hub", name).read_text().strip()

    def login(self, user: str) -> tuple[httpx.Client, str]:
        """A browser-like session, and a token made from it on the hub's token page."""
        s = httpx.Client(base_url=self.url, timeout=60)
        s.get("/hub/login")
        secret = self.password("admin_password" if user == "admin" else "demo_password")
        r = s.post("/hub/login", data={"username": user, "password": secret,
                                       "_xsrf": s.cookies.get("_xsrf", "")})  # fmt: skip
        assert r.status_code == 302, r.text[:300]
        r = s.post(f"/hub/api/users/{user}/tokens", json={"note": "test"},
                   headers={"X-XSRFToken": s.cookies.get("_xsrf", "")})  # fmt: skip
        assert r.status_code == 201, r.text[:300]
        return s, r.json()["token"]


@pytest.fixture(scope="module")
def shipped():
    hub = ShippedHub()
    try:
        hub.start()
        yield hub
    finally:
        hub.close()


def api(hub: ShippedHub, token: str, base: str = "/hub/api") -> httpx.Client:
    return httpx.Client(
        base_url=hub.url + base, headers={"Authorization": f"token {token}"}, timeout=60
    )


def registry(hub, token):
    return api(hub, token, "/services/fermi-registry/api/v1")


def start_and_wait(hub: ShippedHub, token: str, user: str, body=None) -> None:
    with api(hub, token) as a:
        r = (
            a.post(f"/users/{user}/server", json=body)
            if body is not None
            else a.post(f"/users/{user}/server")
        )
        assert r.status_code in (201, 202), r.text
        deadline = time.monotonic() + 300  # a loaded CI machine is slow to start Lab
        while not a.get(f"/users/{user}").json()["servers"].get("", {}).get("ready"):
            assert time.monotonic() < deadline, hub.log()[-4000:]
            time.sleep(0.5)


def stop_and_wait(hub: ShippedHub, token: str, user: str) -> None:
    with api(hub, token) as a:
        a.delete(f"/users/{user}/server")
        deadline = time.monotonic() + 60
        while a.get(f"/users/{user}").json()["servers"]:
            assert time.monotonic() < deadline
            time.sleep(0.3)


WALK = textwrap.dedent("""
    import json, os, sys
    out = []
    for top, dirs, files in os.walk("/", followlinks=False):
        if top in ("/proc", "/sys", "/dev"):
            dirs[:] = []
            continue
        for name in dirs + files:
            path = os.path.join(top, name)
            try:
                st = os.lstat(path)
            except OSError:
                continue
            out.append([st.st_dev, st.st_ino, path])
    json.dump(out, sys.stdout)
""")


def sandbox_pid(user: str) -> int:
    """The sandboxed Jupyter server of ``user`` (its environment names the user)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes()
            env = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        ours = b"jupyterhub.singleuser" in cmd and b"bwrap" not in cmd
        sandboxed = ours and os.readlink(f"/proc/{pid}/ns/mnt") != os.readlink("/proc/self/ns/mnt")
        if sandboxed and f"JUPYTERHUB_USER={user}".encode() in env:
            return int(pid)
    raise AssertionError(f"no sandboxed server of {user}")


def identities(root: Path) -> dict[tuple[int, int], str]:
    out = {}
    for top, dirs, files in os.walk(root):
        for name in [*dirs, *files, ""]:
            st = os.lstat(os.path.join(top, name))
            out[(st.st_dev, st.st_ino)] = os.path.join(top, name)
    return out


def test_the_run_command_as_a_new_user(shipped):
    hub = shipped
    uid = pwd.getpwnam("fermi-server").pw_uid
    _, admin = hub.login("admin")
    bob_session, bob = hub.login("bob")
    with registry(hub, bob) as c:  # someone else's data, on the same machine
        bvol = c.post("/volumes", json={"name": "bob-secret-work", "capacity": "1Gi"}).json()
        make_tree(hub.path("storage", "volumes", bvol["id"], "raw"), 2, 10, seed=99)
        bds = c.post("/datasets", json={"name": "bob-private"}).json()
        c.post(f"/datasets/{bds['id']}/versions", json={"volume_id": bvol["id"], "path": "raw"})
        wait_version(c, bds["id"], 1)
    start_and_wait(hub, bob, "bob", {})  # bob has a home now
    stop_and_wait(hub, bob, "bob")

    alice_session, alice = hub.login("alice")
    with registry(hub, alice) as c:
        vol = c.post("/volumes", json={"name": "work", "capacity": "1Gi"}).json()
        make_tree(hub.path("storage", "volumes", vol["id"], "src"), 2, 10)
        ds = c.post("/datasets", json={"name": "mine"}).json()
        c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "src"})
        wait_version(c, ds["id"], 1)
    body = {
        "storage": {
            "datasets": [{"ref": "alice/mine"}],
            "volumes": [{"volume_id": vol["id"], "path": "/workspace"}],
        }
    }
    mark = len(hub.log())
    start_and_wait(hub, alice, "alice", body)

    # 1. the sandbox's whole file system: nothing of the hub's state, nothing of bob's
    pid = sandbox_pid("alice")
    walked = subprocess.run(
        ["nsenter", "-t", str(pid), "-m", "--root", "--wd=/", "/usr/bin/python3", "-c", WALK],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert walked.returncode == 0, walked.stderr
    seen = {(dev, ino): path for dev, ino, path in json.loads(walked.stdout)}
    assert "/home/jovyan" in seen.values() and "/datasets/mine" in seen.values()
    forbidden = {
        **identities(hub.path("hub")),  # cookie secret, hub and registry databases, passwords
        **identities(hub.path("homes", "bob")),
        **identities(hub.path("storage", "volumes", bvol["id"])),
        **identities(hub.path("storage", "datasets", bds["id"])),
    }
    names = {Path(p).name for p in seen.values()}
    assert not names & {"jupyterhub_cookie_secret", "jupyterhub.sqlite", "registry.sqlite",
                        "demo_password", "admin_password"}  # fmt: skip
    leaked = {forbidden[k]: seen[k] for k in forbidden.keys() & seen.keys()}
    assert leaked == {}
    assert not any(p.startswith(HOME) for p in seen.values())
    # of the checkout, only the servers' runtime and the package are there
    runtime = Path((REPO / ".work" / "server-python").read_text().strip()).parents[1]
    kept = (f"{runtime}", f"{REPO / 'fermi_jupyter'}")
    stray = [
        p
        for p in seen.values()
        if p.startswith(f"{REPO}/") and not p.startswith(kept) and not runtime.is_relative_to(p)
    ]
    assert stray == []

    # 2. what alice writes is the servers' user's on the host, never root's
    user = api(hub, alice, "/user/alice/api")
    body_txt = {"type": "file", "format": "text", "content": "mine"}
    assert user.put("/contents/workspace/owned.txt", json=body_txt).status_code == 201
    st = hub.path("storage", "volumes", vol["id"], "owned.txt").stat()
    assert st.st_uid == uid and st.st_uid != 0

    # 3. a notebook saved where Lab puts it (the root of the file browser: the home) survives
    nb = {"type": "notebook", "content": {"cells": [], "metadata": {}, "nbformat": 4,
                                          "nbformat_minor": 5}}  # fmt: skip
    assert user.put("/contents/Untitled.ipynb", json=nb).status_code == 201
    names = {i["name"] for i in user.get("/contents/").json()["content"]}
    assert {"Untitled.ipynb", "datasets", "workspace"} <= names  # mounts one click away
    spec = user.get("/kernelspecs").json()["kernelspecs"]["python3"]["spec"]
    assert any(a.endswith("fermi_jupyter.spawner.inside.oom") for a in spec["argv"])
    # a kernel listens on unix sockets in the home, not on ports other sandboxes can reach
    kernel = user.post("/kernels", json={"name": "python3"}).json()
    runtime = hub.path("homes", "alice", ".local", "share", "jupyter", "runtime")
    connection = json.loads((runtime / f"kernel-{kernel['id']}.json").read_text())
    assert connection["transport"] == "ipc" and connection["ip"].startswith("/home/jovyan/")
    probe = (
        "import os\n"
        "print(os.getuid(), os.path.realpath('datasets/mine'))\n"
        f"open({HOME + '/hub/jupyterhub_cookie_secret'!r})\n"
    )
    out = run_code(f"{hub.url}/user/alice", alice, kernel["id"], probe)
    assert out.startswith("1000 /datasets/mine\n")  # the link leads to the mount
    assert "FileNotFoundError" in out  # the hub's secret is not there at all
    user.delete(f"/kernels/{kernel['id']}")

    # 4. the Data sidebar's live updates, as Chromium opens them: an EventSource sends the
    # cookie and Sec-Fetch-Mode: cors, never a header of ours, and JupyterHub wants the XSRF
    # value beside a cookie on such a request (the sidebar puts it in the query)
    lab = alice_session.get("/user/alice/lab", follow_redirects=True)
    assert lab.status_code == 200, lab.text[:300]
    page = re.search(r'id="jupyter-config-data"[^>]*>(.*?)</script>', lab.text, re.S)
    token = json.loads(page.group(1))["token"]
    xsrf = [c.value for c in alice_session.cookies.jar if c.name == "_xsrf" and "user" in c.path]
    assert token and xsrf
    events = "/user/alice/api/fermi/events"
    browser = {"Sec-Fetch-Mode": "cors", "Sec-Fetch-Site": "same-origin", "Sec-Fetch-Dest": "empty"}
    sent = {"token": token, "_xsrf": xsrf[0]}
    with alice_session.stream("GET", events, params=sent, headers=browser) as r:
        assert r.status_code == 200 and r.headers["content-type"].startswith("text/event-stream")
    with alice_session.stream("GET", events, params={"token": token}, headers=browser) as r:
        assert r.status_code == 403  # what the sidebar met before it sent the XSRF value

    stop_and_wait(hub, alice, "alice")
    start_and_wait(hub, alice, "alice")  # the remembered choices, checked again
    assert user.get("/contents/Untitled.ipynb").status_code == 200
    assert user.get("/contents/workspace/owned.txt").json()["content"] == "mine"
    assert " 403 GET /hub/api/user " not in hub.log()[mark:]  # a quiet log
    stop_and_wait(hub, alice, "alice")

    # 5. after a hub restart: the notebook is there, the choices are checked again
    hub.stop()
    hub.start()
    start_and_wait(hub, alice, "alice")
    assert api(hub, alice, "/user/alice/api").get("/contents/Untitled.ipynb").status_code == 200
    stop_and_wait(hub, alice, "alice")
    with registry(hub, alice) as c:
        assert c.delete(f"/datasets/{ds['id']}/versions/1").status_code == 204
    with api(hub, alice) as a:
        r = a.post("/users/alice/server")
        assert r.status_code == 400 and "not visible" in r.json()["message"]
    del admin, bob_session, alice_session


def _global_address() -> str:
    """An IPv4 address of this machine that is not loopback: the shipped registry refuses
    remotes on loopback (a transfer must not reach the machine's own services), so the Git
    repository is served where a remote one would be."""
    out = subprocess.run(
        ["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True
    ).stdout
    m = re.search(r"inet (\d+\.\d+\.\d+\.\d+)/", out)
    assert m, f"no global IPv4 address to serve the repository on: {out!r}"
    return m.group(1)


@pytest.fixture(scope="module")
def git_daemon(tmp_path_factory):
    """``git daemon`` serving one small repository on a non-loopback address of this machine."""
    from ..support.git_server import make_repo

    root = tmp_path_factory.mktemp("walk-git")
    make_repo(root, "walk-data", {"data/train.csv": "x,y\n1,2\n", "README.md": "# walk\n"})
    host, port = _global_address(), free_port()
    proc = subprocess.Popen(
        ["git", "daemon", "--reuseaddr", "--export-all", f"--base-path={root}",
         f"--listen={host}", f"--port={port}", str(root)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
    )  # fmt: skip
    url = f"git://{host}:{port}/walk-data.git"
    deadline = time.monotonic() + 30
    while subprocess.run(["git", "ls-remote", url], capture_output=True).returncode != 0:
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read()
        time.sleep(0.2)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(10)


def _wait_complete(item, hub) -> None:  # type: ignore[no-untyped-def]
    """Until the transfer's row in the sidebar says complete (pending and running on the way)."""
    item.wait_for()
    deadline = time.monotonic() + 120
    while (state := item.get_attribute("data-state")) != "complete":
        assert state in ("pending", "running") and time.monotonic() < deadline, (
            state,
            item.inner_text(),
            hub.log()[-3000:],
        )
        time.sleep(0.5)


@pytest.fixture(scope="module")
def s3_remote():
    """moto's S3 server on a non-loopback address of this machine, one bucket with a prefix."""
    from ..support.s3_server import S3Server

    server = S3Server(host=_global_address()).start()
    s3 = server.client()
    s3.create_bucket(Bucket="walk-bucket")
    for name, body in {"images/cat.txt": "meow\n", "images/dog.txt": "woof\n"}.items():
        s3.put_object(Bucket="walk-bucket", Key=name, Body=body.encode())
    s3.put_object(Bucket="walk-bucket", Key="other/skip.txt", Body=b"not in the prefix\n")
    yield server
    server.stop()


def test_a_new_user_imports_a_git_repository_and_an_s3_prefix_from_the_sidebar_and_mounts_it(
    shipped, git_daemon, s3_remote
):
    """The issue's new-user walk, in Chromium against the shipped config: a new user opens Lab,
    imports a Git repository as a dataset and an S3 prefix into a folder from the Data sidebar,
    and the next spawn form offers the dataset; the server started with it has the files
    read-only."""
    from playwright.sync_api import sync_playwright

    hub, user = shipped, "carol"
    _, token = hub.login(user)
    with registry(hub, token) as c:
        vol = c.post("/volumes", json={"name": "carol-work", "capacity": "1Gi"}).json()
        made = c.post("/credentials", json={
            "name": "walk-s3", "type": "s3", "access_key_id": s3_remote.access_key,
            "secret_access_key": s3_remote.secret_key})  # fmt: skip
        assert made.status_code == 201, made.text
    start_and_wait(hub, token, user, {"storage": {"volumes": [
        {"volume_id": vol["id"], "path": "/workspace"}]}})  # fmt: skip
    files = api(hub, token, f"/user/{user}/api")
    assert files.put("/contents/workspace/incoming", json={"type": "directory"}).status_code == 201

    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=BROWSER_ARGS)
        page = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{hub.url}/hub/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", hub.password("demo_password"))
        page.click("input[type=submit], button[type=submit]")
        page.goto(f"{hub.url}/user/{user}/lab")
        page.wait_for_selector("#jp-main-dock-panel", timeout=120_000)
        page.click('.jp-SideBar [data-id="jp-fermi-data"]')
        volume_row = page.locator(f'.jp-fermi-volume[data-volume="{vol["id"]}"]')
        head = volume_row.locator(".jp-fermi-volume-head")
        if head.get_attribute("aria-expanded") != "true":
            head.click()
        row = volume_row.locator(".jp-fermi-row", has_text="incoming").first
        row.hover()
        row.locator('[data-action="import"]').click()
        form = page.locator(".jp-fermi-transfer-form")
        form.locator('input[name="url"]').fill(git_daemon)
        form.get_by_label("As a new dataset").check()
        form.locator('input[name="datasetName"]').fill("walk-code")
        form.get_by_role("button", name="Start import").click()
        item = page.locator("#jp-fermi-transfers .jp-fermi-transfer", has_text="walk-data")
        _wait_complete(item, hub)
        assert "walk-code" in item.inner_text() or "@1" in item.inner_text()
        cloned = hub.path("storage", "volumes", vol["id"], "incoming", "walk-data", "data")
        assert (cloned / "train.csv").read_text() == "x,y\n1,2\n"

        # an S3 prefix into the same folder, with the stored credential picked in the form
        row.hover()
        row.locator('[data-action="import"]').click()
        form = page.locator(".jp-fermi-transfer-form")
        form.locator('input[name="tool"][value="s3"]').check()
        form.locator('input[name="endpoint"]').fill(s3_remote.endpoint)
        form.locator('input[name="uri"]').fill("s3://walk-bucket/images")
        form.locator('select[name="credential"]').select_option("walk-s3")
        form.get_by_role("button", name="Start import").click()
        item = page.locator("#jp-fermi-transfers .jp-fermi-transfer", has_text="walk-bucket")
        _wait_complete(item, hub)
        incoming = hub.path("storage", "volumes", vol["id"], "incoming")
        got = sorted(str(f.relative_to(incoming)) for f in incoming.rglob("*.txt"))
        assert got == ["cat.txt", "dog.txt"], got  # the prefix's objects, nothing else
        assert (incoming / "cat.txt").read_text() == "meow\n"
        assert s3_remote.secret_key not in item.inner_text()
        page.context.close()
        stop_and_wait(hub, token, user)

        # the next spawn form offers the imported dataset by owner/name
        page = browser.new_context(viewport={"width": 1100, "height": 900}).new_page()
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(f"{hub.url}/hub/login")
        page.fill("input[name=username]", user)
        page.fill("input[name=password]", hub.password("demo_password"))
        page.click("input[type=submit], button[type=submit]")
        page.goto(f"{hub.url}/hub/spawn")
        page.wait_for_selector("#fermi-storage")
        ref = page.locator(".fermi-dataset-ref").first
        ref.fill("walk")
        page.wait_for_function(
            "document.querySelectorAll('#fermi-dataset-options option').length > 0"
        )
        offered = page.eval_on_selector_all(
            "#fermi-dataset-options option", "os => os.map(o => o.value)"
        )
        assert f"{user}/walk-code" in offered, offered
        ref.fill(f"{user}/walk-code")
        ref.dispatch_event("change")
        page.wait_for_function("document.querySelector('.fermi-dataset-path').value !== ''")
        page.click("#spawn_form input[type=submit], #spawn_form button[type=submit]")
        page.wait_for_url(f"**/user/{user}/lab**", timeout=180_000)
        browser.close()
    assert errors == []
    # the server has the imported files at the dataset's path, read-only
    pid = sandbox_pid(user)
    inside = ["nsenter", "-t", str(pid), "-m", "--"]
    read = subprocess.run([*inside, "cat", "/datasets/walk-code/data/train.csv"],
                          capture_output=True, text=True, timeout=30)  # fmt: skip
    assert read.stdout == "x,y\n1,2\n", read.stderr
    write = subprocess.run([*inside, "touch", "/datasets/walk-code/new.txt"],
                           capture_output=True, text=True, timeout=30)  # fmt: skip
    assert write.returncode != 0 and "Read-only" in write.stderr, write
    stop_and_wait(hub, token, user)
