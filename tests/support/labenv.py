"""A real JupyterLab for browser tests and benchmarks: a hub with the registry as its managed
service, alice's volume and datasets in the storage root, and a Jupyter server started with
``FERMI_MOUNTS`` over real folders of the storage root and ``FERMI_REGISTRY_URL`` through the hub.

Used by ``ui-tests/run.py`` (galata) and ``bench/lab_bench.py``.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from fermi_jupyter.domain.mounts import Mount, MountKind, encode

from .git_server import GitHTTPServer, make_repo
from .hub import Hub
from .ports import free_port
from .trees import wait_version


def _images(root: Path, classes: int, per_class: int, size: int, seed: int) -> None:
    """A small image-classification tree: train/class_NNN/img_NNNN.jpg (random bytes)."""
    rng = random.Random(seed)
    for c in range(classes):
        d = root / "train" / f"class_{c:03d}"
        d.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            (d / f"img_{i:04d}.jpg").write_bytes(rng.randbytes(size))
    (root / "val").mkdir(exist_ok=True)
    (root / "val" / "labels.csv").write_text("file,label\n")


@dataclass
class LabEnv:
    """``with LabEnv() as env:`` — everything started, then stopped and removed."""

    home: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="fermi-lab-")))
    lab_port: int = field(default_factory=free_port)
    # a folder with many small files: registering it runs long enough to watch and to cancel
    slow_files: int = 25000
    big_dir_entries: int = 0
    # galata's in-page helpers (window.jupyterapp, its helper extension, no XSRF check)
    galata: bool = True
    # JupyterLab user settings written before start: {"fermi-jupyter:sidebar": {...}}
    lab_settings: dict = field(default_factory=dict)
    hub: Hub | None = None
    # a real Git server on loopback (git http-backend) for the sidebar's imports
    git: GitHTTPServer | None = None
    lab: subprocess.Popen | None = None
    # a second Jupyter server, for carol: a user with no volume, no mount and no dataset of
    # her own (the sidebar's empty states, as a new user first sees them)
    newcomer: bool = False
    newcomer_port: int = field(default_factory=free_port)
    newcomer_lab: subprocess.Popen | None = None
    state: dict = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.lab_port}"

    def __enter__(self) -> LabEnv:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        # pause points (fermi_jupyter/registry/jobs/pause.py): the cancel test holds its
        # registration mid-copy, however fast the storage engine is
        # mkdtemp makes it 0700: a volume's owner (who a transfer runs as) must get through
        # to its volume, as through FERMI_HOME's 0711 on a real machine
        os.chmod(self.home, 0o711)
        self.pause_dir = self.home / "pause"
        self.pause_dir.mkdir(parents=True, exist_ok=True)
        self.hub = Hub(
            home=self.home / "hub",
            db_url=f"sqlite:///{self.home / 'hub.sqlite'}",
            extra_config=f"registry['command'].append('--RegistryApp.job_pause_dir={self.pause_dir}')\n",
        )
        self.hub.start(timeout=180)  # a busy machine starts a hub slowly
        tokens = {
            "alice": self.hub.create_user("alice", groups=("vision",)),
            "bob": self.hub.create_user("bob", groups=("vision",)),
        }
        self.seed(tokens)
        self.start_git()
        self.start_lab(tokens["alice"])
        if self.newcomer:
            carol = self.hub.create_user("carol")
            self.newcomer_lab = self._start_server(
                "carol", carol, encode([]), self.newcomer_port, self.home / "carol"
            )
            self.state["newcomer_url"] = f"http://127.0.0.1:{self.newcomer_port}"

    def seed(self, tokens: dict[str, str]) -> None:
        """alice: volume work-storage (SSD) with data, dataset imagenet-mini v1 (mounted),
        a second volume archive (HDD); bob: a public dataset alice can see."""
        hub = self.hub
        assert hub is not None
        with hub.client(tokens["alice"]) as c:
            vol = c.post(
                "/volumes", json={"name": "work-storage", "capacity": "1Gi", "type": "ssd"}
            ).json()
            archive = c.post(
                "/volumes", json={"name": "archive", "capacity": "4Gi", "type": "hdd"}
            ).json()
            work = hub.storage_root / "volumes" / vol["id"]
            _images(work / "raw", 4, 10, 2048, seed=1)
            _images(work / "augmented", 6, 12, 4096, seed=2)
            (work / "experiments" / "exp-001").mkdir(parents=True)
            (work / "experiments" / "exp-001" / "notes.txt").write_text("first try\n")
            slow = work / "processed" / "dataset-v2"
            for i in range(self.slow_files):
                d = slow / f"shard_{i % 50:02d}"
                d.mkdir(parents=True, exist_ok=True)
                (d / f"sample_{i:05d}.txt").write_bytes(b"x" * 512 + str(i).encode())
            if self.big_dir_entries:
                big = work / "many"
                big.mkdir()
                for i in range(self.big_dir_entries):
                    (big / f"item_{i:06d}.txt").touch()
            _give_to_a_user(work)
            ds = c.post(
                "/datasets",
                json={
                    "name": "imagenet-mini",
                    "visibility": "org",
                    "data_type": "image",
                    "tags": ["原始"],
                    "description": "Raw images for the tutorial",
                },
            ).json()
            c.post(f"/datasets/{ds['id']}/versions", json={"volume_id": vol["id"], "path": "raw"})
            assert wait_version(c, ds["id"], 1)["status"] == "ready"
        with hub.client(tokens["bob"]) as c:
            bvol = c.post("/volumes", json={"name": "bob-work", "capacity": "1Gi"}).json()
            _images(hub.storage_root / "volumes" / bvol["id"] / "corpus", 1, 3, 256, seed=3)
            bds = c.post(
                "/datasets",
                json={"name": "speech-corpus", "visibility": "public", "data_type": "audio"},
            ).json()
            c.post(
                f"/datasets/{bds['id']}/versions", json={"volume_id": bvol["id"], "path": "corpus"}
            )
            assert wait_version(c, bds["id"], 1)["status"] == "ready"
        mounts = [
            Mount(
                kind=MountKind.dataset,
                dataset_id=ds["id"],
                dataset_name=ds["name"],
                version=1,
                mount_path=str(hub.storage_root / "datasets" / ds["id"] / "1"),
                read_only=True,
            ),
            Mount(
                kind=MountKind.volume,
                volume_id=vol["id"],
                volume_name=vol["name"],
                mount_path=str(work),
                read_only=False,
            ),
        ]
        self.state = {
            "hub": hub.url,
            "registry": hub.registry_url,
            "tokens": tokens,
            "storage_root": str(hub.storage_root),
            "volume": vol,
            "archive": archive,
            "dataset": ds,
            "bob_dataset": bds,
            "workspace": str(work),
            "workspace_browser": f"volumes/{vol['id']}",
            "dataset_browser": f"datasets/{ds['id']}/1",
            "fermi_mounts": encode(mounts),
            "pause_dir": str(self.pause_dir),
        }

    def start_git(self) -> None:
        """A Git server with a small public repository, ``lab-demo``, and a token-protected one."""
        root = self.home / "git"
        self.git = GitHTTPServer(root, "lab-git-token").start()
        make_repo(root, "lab-demo", {
            "README.md": "# lab-demo\n",
            "data/train.csv": "x,y\n1,2\n3,4\n",
            "data/test.csv": "x,y\n5,6\n",
        })  # fmt: skip
        make_repo(root, "lab-private", {"secret/notes.md": "# private\n"}, private=True)
        self.state["git_url"] = self.git.url("lab-demo")
        self.state["git_private_url"] = self.git.url("lab-private", private=True)
        self.state["git_token"] = self.git.token
        self.state["git_bad_url"] = self.git.url("no-such-repo")

    def start_lab(self, token: str) -> None:
        self.lab = self._start_server(
            "alice", token, self.state["fermi_mounts"], self.lab_port, self.home
        )

    def _start_server(
        self, user: str, token: str, mounts: str, port: int, home: Path
    ) -> subprocess.Popen:
        """A Jupyter server for `user` on `port`, its settings, workspaces and log in `home`."""
        hub = self.hub
        assert hub is not None
        settings = home / "lab-settings"
        settings.mkdir(parents=True, exist_ok=True)
        for plugin, values in self.lab_settings.items():
            package, _, name = plugin.partition(":")
            (settings / package).mkdir(parents=True, exist_ok=True)
            (settings / package / f"{name}.jupyterlab-settings").write_text(json.dumps(values))
        env = {
            **os.environ,
            "FERMI_MOUNTS": mounts,
            "FERMI_REGISTRY_URL": hub.registry_url,
            "JUPYTERHUB_API_TOKEN": token,
            "JUPYTERHUB_USER": user,
            "JUPYTER_CONFIG_DIR": str(home / "jupyter-config"),
        }
        env.pop("JUPYTERHUB_SERVICE_PREFIX", None)
        log = home / "lab.log"
        with open(log, "wb") as out:  # the child keeps its own descriptor
            lab = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "jupyterlab",
                    "--no-browser",
                    f"--ServerApp.port={port}",
                    "--ServerApp.port_retries=0",
                    "--ServerApp.ip=127.0.0.1",
                    "--ServerApp.allow_root=True",
                    f"--ServerApp.root_dir={hub.storage_root}",
                    "--IdentityProvider.token=",
                    "--ServerApp.password=",
                    f"--LabApp.user_settings_dir={settings}",
                    f"--LabApp.workspaces_dir={home / 'lab-workspaces'}",
                    "--FermiExtension.stall_after=30",
                    *self._galata_args(),
                ],
                cwd=hub.storage_root,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        info = f"http://127.0.0.1:{port}/api/fermi/info"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if lab.poll() is not None:
                raise RuntimeError(log.read_text()[-3000:])
            try:
                if httpx.get(info, timeout=2).status_code == 200:
                    return lab
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        _stop(lab)
        raise RuntimeError("Jupyter server not ready:\n" + log.read_text())

    def _galata_args(self) -> list[str]:
        if not self.galata:
            return []
        import jupyterlab.galata

        return [
            f"--LabServerApp.extra_labextensions_path={Path(jupyterlab.galata.__file__).parent}",
            "--LabApp.expose_app_in_browser=True",
            "--ServerApp.disable_check_xsrf=True",
        ]

    def write_state(self, path: Path) -> None:
        path.write_text(json.dumps({**self.state, "lab": self.url, "home": str(self.home)}))

    def stop(self) -> None:
        for lab in (self.lab, self.newcomer_lab):
            if lab:
                _stop(lab)
        if self.hub:
            self.hub.stop()
        if self.git:
            self.git.stop()
        if not os.environ.get("FERMI_KEEP_HOME"):
            import shutil

            shutil.rmtree(self.home, ignore_errors=True)


def _stop(lab: subprocess.Popen) -> None:
    if lab.poll() is None:
        os.killpg(lab.pid, signal.SIGTERM)
        try:
            lab.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(lab.pid, signal.SIGKILL)
            lab.wait(5)


def _give_to_a_user(tree: Path, uid: int = 65534) -> None:
    """As on a real machine, a volume's files are a user's, not root's: a transfer into it
    runs as that owner (the registry never writes a volume as root), and the seed ran as root."""
    if os.geteuid() != 0:
        return
    for folder, dirs, files in os.walk(tree):
        for name in [*dirs, *files]:
            os.lchown(os.path.join(folder, name), uid, uid)
    os.lchown(tree, uid, uid)
