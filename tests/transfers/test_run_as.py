"""A transfer's child process runs as the volume's owner, never as root: the registry's launcher
(:class:`Attempt` with :func:`runas.choose`) against the real child process, real S3 (moto) and
Git (http-backend) servers, and a volume folder owned by an unprivileged uid.

Each attack is run twice where it helps: as the owner it fails, and (control) the same tree
read as root leaks — so the test shows the uid, not some other check, is what stops it."""

from __future__ import annotations

import os
import shutil
import socket
import stat
import tempfile
import threading
import time
from pathlib import Path

import pytest

from fermi_jupyter.registry.errors import RegistryError
from fermi_jupyter.registry.storage import StorageLayout
from fermi_jupyter.registry.transfers import runas
from fermi_jupyter.registry.transfers.attempt import Attempt
from fermi_jupyter.transfers.context import PASSTHROUGH

from ..support.git_server import git, make_repo
from .conftest import GIT_TOKEN, policy

REPO = Path(__file__).resolve().parents[2]
OWNER = 12345  # a uid with no passwd entry, as a pod's would be: its own group only
SECRET = "root-only-secret-7f3a9c"


@pytest.fixture(scope="module", autouse=True)
def _as_root():
    assert os.geteuid() == 0, "these tests run as root, like the local registry"


@pytest.fixture(scope="module")
def python() -> str:
    """The servers' runtime (scripts/setup.sh): readable by other uids, with the transfers
    extra. The registry's own .venv may live under /root."""
    built = REPO / ".work" / "server-python"
    assert built.exists(), "run scripts/setup.sh: it builds the servers' runtime"
    return built.read_text().strip()


@pytest.fixture
def layout():
    base = Path(tempfile.mkdtemp(prefix="fermi-runas-"))
    os.chmod(base, 0o711)  # like FERMI_HOME and storage/: others may pass through
    lay = StorageLayout(base / "storage")
    lay.ensure()
    os.chmod(lay.root, 0o711)
    outside = base / "outside"  # where root keeps something private, beside the storage
    outside.mkdir(mode=0o755)
    (outside / "secret.txt").write_text(SECRET + "\n")
    os.chmod(outside / "secret.txt", 0o600)
    yield lay
    shutil.rmtree(base, ignore_errors=True)


def owned_volume(lay: StorageLayout, vol_id: str = "vol-owned") -> Path:
    vol = lay.volume_dir(vol_id)
    vol.mkdir()
    os.chown(vol, OWNER, OWNER)
    return vol


def chown_tree(root: Path) -> None:
    for p in [root, *root.rglob("*")]:
        os.chown(p, OWNER, OWNER, follow_symlinks=False)


def attempt(
    lay, spec, python, secrets=None, *, as_root=False, cancel=None, fallback="nobody", root=None
):
    """One attempt as the transfer service starts it: (attempt, log lines, identity)."""
    local = spec["sink"] if spec["direction"] == "download" else spec["source"]
    root = root or lay.volume_dir(local["volume_id"])
    who = None if as_root else runas.choose(lay, spec, root, fallback)
    runas.check_python(python, who)
    logs: list[str] = []
    a = Attempt(
        python, spec, root, "tr-runas", 1, secrets or {}, log=logs.append,
        progress=lambda _v: None, heartbeat=lambda: False,
        cancel=cancel or threading.Event(), run_as=who, allow_loopback=True,
    )  # fmt: skip
    return a, logs, who


def s3_target(s3_server, bucket: str, key: str, upload: bool) -> dict:
    t = {"type": "s3", "uri": f"s3://{bucket}/{key}", "bucket": bucket, "key": key,
         "endpoint": s3_server.endpoint, "region": None}  # fmt: skip
    if upload:
        t["no_check_bucket"] = False
    return t


@pytest.fixture(scope="module")
def keys(s3_server):
    return {"access_key_id": s3_server.access_key, "secret_access_key": s3_server.secret_key}


@pytest.fixture(scope="module")
def bucket(s3_server):
    s3 = s3_server.client()
    s3.create_bucket(Bucket="runas")
    for i in range(4):
        s3.put_object(Bucket="runas", Key=f"in/d{i % 2}/f{i}.txt", Body=f"row {i}\n".encode())
    return s3


def owners(root: Path) -> set[int]:
    return {os.lstat(p).st_uid for p in [root, *root.rglob("*")]}


def test_downloads_belong_to_the_volume_owner(layout, python, s3_server, bucket, keys, git_server):
    vol = owned_volume(layout)
    spec = {"direction": "download", "source": s3_target(s3_server, "runas", "in", False),
            "sink": {"type": "volume", "volume_id": "vol-owned", "path": "s3"},
            "policy": policy()}  # fmt: skip
    a, logs, who = attempt(layout, spec, python, keys)
    assert who == runas.RunAs(OWNER, OWNER, (OWNER,))
    out = a.run()
    assert out.ok, (out, logs)
    assert (vol / "s3" / "d1" / "f3.txt").read_text() == "row 3\n"
    assert owners(vol) == {OWNER}

    make_repo(git_server.root, "runas-dl", {"README.md": "hello\n"})
    spec = {"direction": "download",
            "source": {"type": "git", "url": git_server.url("runas-dl"), "ref": None,
                       "dir": "runas-dl"},
            "sink": {"type": "volume", "volume_id": "vol-owned", "path": "code"},
            "policy": policy()}  # fmt: skip
    a, logs, _ = attempt(layout, spec, python)
    out = a.run()
    assert out.ok, (out, logs)
    assert (vol / "code" / "runas-dl" / "README.md").read_text() == "hello\n"
    assert owners(vol) == {OWNER}  # .git and its objects too


def test_a_volume_still_roots_is_handed_to_the_transfer_user(
    layout, python, s3_server, bucket, keys
):
    vol = layout.volume_dir("vol-fresh")
    vol.mkdir()  # as the registry creates it: root's
    spec = {"direction": "download", "source": s3_target(s3_server, "runas", "in", False),
            "sink": {"type": "volume", "volume_id": "vol-fresh", "path": "x"},
            "policy": policy()}  # fmt: skip
    a, logs, who = attempt(layout, spec, python, keys, fallback="nobody")
    assert who is not None and who.uid == 65534
    assert a.run().ok, logs
    assert owners(vol) == {65534}
    spec["sink"]["volume_id"] = "vol-gone"
    with pytest.raises(RegistryError) as e:
        runas.choose(layout, spec, layout.volume_dir("vol-gone"), "nobody")
    assert e.value.reason == "not-found"
    with pytest.raises(RegistryError, match="never run as root"):
        runas.of_user("root")
    with pytest.raises(RegistryError, match="does not exist"):
        runas.of_user("no-such-user-fermi")


def _git_upload(ref: str, url: str) -> dict:
    return {"direction": "upload",
            "source": {"type": "volume", "volume_id": "vol-owned", "path": "up"},
            "sink": {"type": "git", "url": url, "ref": ref, "dir": "public"},
            "policy": policy()}  # fmt: skip


def test_git_push_cannot_read_root_only_objects(layout, python, git_server):
    """A loose object in the user's repository is a symlink to a root-only file (another
    user's private object): as the owner the push fails; as root it would publish it."""
    vol = owned_volume(layout)
    make_repo(git_server.root, "runas-up", {"README.md": "x\n"})
    remote = git_server.root / "runas-up.git"
    work = vol / "up" / "public"
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    (work / "stolen.txt").write_text(SECRET + "\n")
    git("add", "stolen.txt", cwd=work)
    git("commit", "-qm", "steal", cwd=work)
    blob = git("rev-parse", "HEAD:stolen.txt", cwd=work)
    loose = work / ".git" / "objects" / blob[:2] / blob[2:]
    private = layout.root.parent / "outside" / "object"
    shutil.move(loose, private)
    os.chmod(private, 0o600)
    loose.symlink_to(private)
    (work / "stolen.txt").unlink()
    chown_tree(vol)

    a, logs, _ = attempt(layout, _git_upload("stolen", git_server.url("runas-up")), python)
    out = a.run()
    said = out.message + "\n".join(logs)
    assert not out.ok and f"loose object {blob}" in said, (out, logs)  # unreadable to git
    refs = git("for-each-ref", "--format=%(refname)", cwd=remote).split()
    assert "refs/heads/stolen" not in refs
    assert SECRET not in said
    # control: the same repository pushed by a root child publishes the private object
    a, logs, _ = attempt(
        layout, _git_upload("control", git_server.url("runas-up")), python, as_root=True
    )
    assert a.run().ok, logs
    assert git("cat-file", "-p", blob, cwd=remote) == SECRET


def test_git_push_cannot_read_a_root_only_config_include(layout, python, git_server):
    vol = owned_volume(layout)
    make_repo(git_server.root, "runas-cfg", {"README.md": "x\n"})
    work = vol / "up" / "public"
    work.mkdir(parents=True)
    git("init", "-q", cwd=work)
    (work / "a.txt").write_text("a\n")
    git("add", "a.txt", cwd=work)
    git("commit", "-qm", "a", cwd=work)
    private = layout.root.parent / "outside" / "gitconfig"
    private.write_text(f"[user]\n\tname = {SECRET}\n")
    os.chmod(private, 0o600)
    git("config", "include.path", str(private), cwd=work)
    chown_tree(vol)

    a, logs, _ = attempt(layout, _git_upload("inc", git_server.url("runas-cfg")), python)
    out = a.run()
    said = out.message + "\n".join(logs)
    assert not out.ok and "Permission denied" in said and SECRET not in said, (out, logs)
    a, logs, _ = attempt(
        layout, _git_upload("inc", git_server.url("runas-cfg")), python, as_root=True
    )
    assert a.run().ok, logs  # control: root reads the include and pushes


def test_s3_upload_never_sends_root_only_content(layout, python, s3_server, bucket, keys):
    vol = owned_volume(layout)
    src = vol / "out"
    src.mkdir()
    (src / "a.txt").write_text("a\n")
    secret = layout.root.parent / "outside" / "secret.txt"
    os.symlink(secret, src / "link.txt")
    chown_tree(vol)
    spec = {"direction": "upload",
            "source": {"type": "volume", "volume_id": "vol-owned", "path": "out"},
            "sink": s3_target(s3_server, "runas", "up1", True), "policy": policy()}  # fmt: skip
    a, logs, _ = attempt(layout, spec, python, keys)
    assert a.run().ok, logs
    listed = bucket.list_objects_v2(Bucket="runas", Prefix="up1/")["Contents"]
    assert [o["Key"] for o in listed] == ["up1/a.txt"]

    os.link(secret, src / "held.txt")  # a hard link (protected_hardlinks off, or placed by root)
    spec["sink"] = s3_target(s3_server, "runas", "up2", True)
    a, logs, _ = attempt(layout, spec, python, keys)
    out = a.run()
    assert not out.ok and "Permission denied" in out.message, (out, logs)
    listed = bucket.list_objects_v2(Bucket="runas", Prefix="up2/").get("Contents", [])
    bodies = [bucket.get_object(Bucket="runas", Key=o["Key"])["Body"].read() for o in listed]
    assert not [b for b in bodies if SECRET.encode() in b]
    spec["sink"] = s3_target(s3_server, "runas", "up3", True)
    a, logs, _ = attempt(layout, spec, python, keys, as_root=True)
    assert a.run().ok, logs  # control: a root child would have sent it
    body = bucket.get_object(Bucket="runas", Key="up3/held.txt")["Body"].read()
    assert SECRET.encode() in body


def test_a_dataset_version_is_uploaded_by_an_unprivileged_user(
    layout, python, s3_server, bucket, keys
):
    tree = layout.version_dir("ds-runas", 1)
    tree.mkdir(parents=True)
    (tree / "v.txt").write_text("stored\n")
    os.chmod(tree / "v.txt", 0o444)
    os.chmod(tree, 0o555)
    spec = {"direction": "upload",
            "source": {"type": "dataset", "version": "ds-runas@1", "path": ""},
            "sink": s3_target(s3_server, "runas", "ds", True), "policy": policy()}  # fmt: skip
    a, logs, who = attempt(layout, spec, python, keys, root=tree)
    assert who is not None and who.uid == 65534
    assert a.run().ok, logs
    assert bucket.get_object(Bucket="runas", Key="ds/v.txt")["Body"].read() == b"stored\n"
    # a reference version lives in a volume: its owner reads it
    vol = owned_volume(layout, "vol-ref")
    assert runas.choose(layout, spec, vol / "some" / "folder", "nobody").uid == OWNER


def test_the_child_holds_no_registry_secret_and_is_the_owner(layout, python, monkeypatch):
    """While a transfer runs: its uid, gid and groups are the owner's, its environment holds
    the transfer's own credential and nothing of the registry's, HOME is private."""
    owned_volume(layout)
    for name, value in {"JUPYTERHUB_API_TOKEN": "hub-token-0a1b", "FERMI_DB_PASSWORD": "pw-2c3d",
                        "JUPYTERHUB_CLIENT_SECRET": "oauth-4e5f",
                        "NO_PROXY": "127.0.0.1"}.items():  # fmt: skip
        monkeypatch.setenv(name, value)
    hang = socket.socket()
    hang.bind(("127.0.0.1", 0))
    hang.listen(4)  # accepts the connection, never answers: the child stays busy
    url = f"http://$(TOKEN)@127.0.0.1:{hang.getsockname()[1]}/x.git"
    spec = {"direction": "download",
            "source": {"type": "git", "url": url, "ref": None, "dir": "x"},
            "sink": {"type": "volume", "volume_id": "vol-owned", "path": "c"},
            "policy": policy(env={"MY_SETTING": "1"})}  # fmt: skip
    cancel = threading.Event()
    a, _, _ = attempt(layout, spec, python, {"token": GIT_TOKEN}, cancel=cancel)
    outcome: list = []
    runner = threading.Thread(target=lambda: outcome.append(a.run()))
    runner.start()
    try:
        deadline = time.monotonic() + 30
        while a.pid is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(0.5)
        status = Path(f"/proc/{a.pid}/status").read_text().splitlines()
        fields = {line.split(":")[0]: line.split(":")[1].split() for line in status}
        assert fields["Uid"] == [str(OWNER)] * 4 and fields["Gid"] == [str(OWNER)] * 4
        assert fields["Groups"] == [str(OWNER)]
        assert fields["CapEff"] == ["0000000000000000"]
        raw = Path(f"/proc/{a.pid}/environ").read_bytes().split(b"\0")
        env = dict(e.decode().split("=", 1) for e in raw if e)
        ours = {"PATH", "LANG", "HOME", "TMPDIR", "MY_SETTING", "FERMI_SECRET_TOKEN"}
        assert set(env) - set(PASSTHROUGH) <= ours, env
        assert env["NO_PROXY"] == "127.0.0.1"  # the machine's proxies do pass
        assert env["FERMI_SECRET_TOKEN"] == GIT_TOKEN
        for value in ("hub-token-0a1b", "pw-2c3d", "oauth-4e5f"):
            assert value not in repr(env)
        home = Path(env["HOME"])
        st = os.stat(home)
        assert (st.st_uid, stat.S_IMODE(st.st_mode)) == (OWNER, 0o700)
        assert env["TMPDIR"] == env["HOME"]
        assert os.stat(home.parent).st_uid == 0  # the child cannot swap its home's name
    finally:
        cancel.set()
        runner.join(30)
        hang.close()
    assert outcome and outcome[0].reason == "cancelled"
    assert not home.exists()


def test_an_interpreter_the_owner_cannot_read_fails_clearly(layout, python):
    hidden = Path(tempfile.mkdtemp(prefix="fermi-runas-py-"))  # mode 700, root's
    try:
        (hidden / "python").symlink_to(python)
        who = runas.RunAs(OWNER, OWNER, (OWNER,))
        with pytest.raises(RegistryError) as e:
            runas.check_python(str(hidden / "python"), who)
        assert e.value.reason == "unavailable"
        assert "transfer_python" in e.value.message and f"uid {OWNER}" in e.value.message
        runas.check_python(python, who)  # the servers' runtime is fine
    finally:
        shutil.rmtree(hidden)


def test_homes_of_a_dead_registry_are_swept():
    import subprocess

    gone = subprocess.Popen(["true"])
    gone.wait()
    tmp = Path(tempfile.gettempdir())
    dead = tmp / f"{runas.HOME_PREFIX}{gone.pid}-sweep"
    live = tmp / f"{runas.HOME_PREFIX}{os.getpid()}-sweep"
    for d in (dead, live):
        (d / "home").mkdir(parents=True)
    try:
        assert runas.sweep_homes() >= 1
        assert not dead.exists() and live.exists()
    finally:
        shutil.rmtree(live, ignore_errors=True)
        shutil.rmtree(dead, ignore_errors=True)
