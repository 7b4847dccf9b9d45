"""Start-up recovery: jobs left 'running' by a registry that died are retried once, then failed.
Runs the real RegistryApp set-up (Alembic, storage root, job runner) on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import time

import pytest
from sqlalchemy import select

from fermi_jupyter.registry.app import RegistryApp
from fermi_jupyter.registry.orm import Dataset, Job, Version, Volume, utcnow

from ..conftest import BACKENDS, make_db_url
from ..support.trees import independent_digest, make_tree

DEAD_WORKER = f"{socket.gethostname()}:{2**22 + 12345}"  # above pid_max: never alive


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "unused-in-this-test")
    monkeypatch.setenv("JUPYTERHUB_CLIENT_ID", "service-fermi-registry")
    db_url = make_db_url(request, request.param, tmp_path, f"recovery_{tmp_path.name[-8:]}")
    app = RegistryApp()
    app.initialize([f"--storage-root={tmp_path / 'root'}", f"--db-url={db_url}"])
    yield app
    app.runner.shutdown(wait=True)
    app.engine.dispose()


def _abandoned(app, attempts: int):
    layout = app.layout
    with app.sessions() as db:
        vol = Volume(id="vol-recover1", name="v", owner="alice", capacity_bytes=2**30)
        ds = Dataset(id="ds-recover1", name="d", owner="alice", next_version=2, tags=[])
        db.add_all([vol, ds])
        db.flush()
        v = Version(
            dataset_id=ds.id,
            number=1,
            status="processing",
            mode="snapshot",
            source_volume_id=vol.id,
            source_path="data",
            created_by="alice",
            files_done=10,
            bytes_done=100,
            warnings=[],
            parents=[],
        )
        db.add(v)
        db.flush()
        job = Job(
            kind="register",
            version_id=v.id,
            state="running",
            worker=DEAD_WORKER,
            attempts=attempts,
            heartbeat_at=utcnow(),
            created_by="alice",
            params={},
        )
        db.add(job)
        db.commit()
    src = layout.volume_dir("vol-recover1") / "data"
    make_tree(src, 30, 2000)
    partial = layout.partial_dir("ds-recover1", 1)
    partial.mkdir(parents=True)
    (partial / "half-copied.bin").write_bytes(b"x" * 100)
    return src, partial


def _wait(app, until, timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.sessions() as db:
            v = db.scalars(select(Version)).one()
            if v.status in until:
                return v
        time.sleep(0.1)
    raise AssertionError(f"version still {v.status}")


def test_dead_workers_job_is_retried_and_completes(app):
    src, partial = _abandoned(app, attempts=1)
    assert app.runner.recover() == 1
    v = _wait(app, ("ready", "failed"))
    assert v.status == "ready", v.error
    assert v.digest == independent_digest(src)[0]
    assert not partial.exists()
    with app.sessions() as db:
        job = db.scalars(select(Job)).one()
        assert (job.state, job.attempts) == ("done", 2)


def test_dead_workers_job_fails_after_its_last_attempt(app):
    _src, partial = _abandoned(app, attempts=2)
    assert app.runner.recover() == 1
    v = _wait(app, ("ready", "failed"))
    assert v.status == "failed"
    assert "registry stopped" in v.error and "register it again" in v.error
    assert not partial.exists() and not app.layout.version_dir("ds-recover1", 1).exists()


def test_a_live_workers_job_is_left_alone(app):
    _abandoned(app, attempts=1)
    with app.sessions() as db:
        job = db.scalars(select(Job)).one()
        job.worker = f"{socket.gethostname()}:1"  # pid 1 is alive
        db.commit()
    assert app.runner.recover() == 0
    with app.sessions() as db:
        assert db.scalars(select(Job)).one().state == "running"


def test_migrations_are_at_head(app):
    from fermi_jupyter.registry import db as dbmod

    assert dbmod.current_revision(app.engine) == dbmod.head_revision(app.engine)
