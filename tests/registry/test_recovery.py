"""Jobs left behind by a registry that died, stopped, or lost its database: they resume (and
say so in their history), a complete version on disk is finished rather than refused, a job
the registry keeps dying on is parked. Runs the real RegistryApp set-up (Alembic, storage
root, job runner) on SQLite and PostgreSQL; tests/robustness does the same with real kills."""

from __future__ import annotations

import os
import socket
import threading
import time

import pytest
from sqlalchemy import event, select

from fermi_jupyter.registry import storage
from fermi_jupyter.registry.app import RegistryApp
from fermi_jupyter.registry.jobs import JobRunner
from fermi_jupyter.registry.jobs.progress import PHASE_GAP, PUBLISHING, STARTING, JobProgress
from fermi_jupyter.registry.orm import Dataset, Job, Version, Volume, utcnow
from fermi_jupyter.registry.serialize import job_json

from ..conftest import BACKENDS, make_db_url
from ..support.trees import content_map, independent_digest, make_tree

DEAD_WORKER = f"{socket.gethostname()}/0dead:{2**22 + 12345}"  # above pid_max: never alive
DS, VOL = "ds-recover1", "vol-recover1"


def _app(request, backend, tmp_path, monkeypatch):
    monkeypatch.setenv("JUPYTERHUB_API_TOKEN", "unused-in-this-test")
    monkeypatch.setenv("JUPYTERHUB_CLIENT_ID", "service-fermi-registry")
    db_url = make_db_url(request, backend, tmp_path, f"recovery_{tmp_path.name[-8:]}")
    app = RegistryApp()
    app.initialize(
        [
            f"--storage-root={tmp_path / 'root'}",
            f"--db-url={db_url}",
            f"--RegistryApp.job_pause_dir={tmp_path / 'pause'}",
        ]
    )
    (tmp_path / "pause").mkdir()
    app.pause_dir = tmp_path / "pause"
    return app


@pytest.fixture(params=BACKENDS)
def app(request, tmp_path, monkeypatch):
    app = _app(request, request.param, tmp_path, monkeypatch)
    yield app
    app.runner.shutdown(wait=True)
    app.engine.dispose()


@pytest.fixture
def sqlite_app(request, tmp_path, monkeypatch):
    """For checks of files on disk, which the database does not change."""
    app = _app(request, "sqlite", tmp_path, monkeypatch)
    yield app
    app.runner.shutdown(wait=True)
    app.engine.dispose()


def _job(app, *, state="running", worker=DEAD_WORKER, files=30, size=2000, **job_fields):
    """A registration of a 30-file tree, as a registry left it; returns the source folder."""
    with app.sessions() as db:
        vol = Volume(id=VOL, name="v", owner="alice", capacity_bytes=2**30)
        ds = Dataset(id=DS, name="d", owner="alice", next_version=2, tags=[])
        db.add_all([vol, ds])
        db.flush()
        v = Version(
            dataset_id=ds.id,
            number=1,
            status="processing" if state == "running" else "pending",
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
        running = state == "running"
        fields = {
            "worker": worker if running else None,
            "attempts": 1 if running else 0,
            "heartbeat_at": utcnow() if running else None,
            "history": [{"at": "2026-01-01T00:00:00Z", "event": "started", "message": "started"}]
            if running
            else [],
            **job_fields,
        }
        job = Job(
            kind="register", version_id=v.id, state=state, created_by="alice", params={}, **fields
        )
        db.add(job)
        db.commit()
    src = app.layout.volume_dir(VOL) / "data"
    make_tree(src, files, size)
    return src


def _half_built(app):
    partial = app.layout.partial_dir(DS, 1)
    partial.mkdir(parents=True)
    (partial / "half-copied.bin").write_bytes(b"x" * 100)
    return partial


def _wait(app, until=("ready", "failed", "cancelled"), timeout=60):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with app.sessions() as db:
            v = db.scalars(select(Version)).one()
            job = db.scalars(select(Job)).one()
            if v.status in until and job.state in ("done", "failed", "cancelled"):
                return v, job
        time.sleep(0.05)
    raise AssertionError(f"version still {v.status}, job {job.state}")


def _events(job):
    return [h["event"] for h in job_json(job)["history"]]


def test_a_crashed_registrys_job_resumes_and_says_so(app):
    src = _job(app)
    partial = _half_built(app)
    assert app.runner.recover() == 1
    v, job = _wait(app)
    assert v.status == "ready", v.error
    assert v.digest == independent_digest(src)[0]
    assert content_map(app.layout.version_dir(DS, 1)) == content_map(src)
    assert not partial.exists()
    assert (job.state, job.attempts, job.crashes, job.failures) == ("done", 2, 1, 0)
    assert _events(job) == ["queued", "started", "crashed", "resumed", "done"]
    resumed = job_json(job)["history"][3]
    assert resumed["message"] == "resumed after a restart"
    assert job.error is None and v.error is None


def test_a_job_the_registry_keeps_dying_on_is_parked(app):
    _job(app, crashes=2)  # the third crash while running it
    partial = _half_built(app)
    assert app.runner.recover() == 1
    v, job = _wait(app)
    assert (v.status, job.state, job.crashes) == ("failed", "failed", 3)
    assert "stopped 3 times in a row" in job.error and "register it again" in job.error
    assert v.error == job.error
    assert _events(job)[-1] == "parked"
    assert not partial.exists() and not app.layout.version_dir(DS, 1).exists()


def test_a_deliberate_stop_never_counts_as_a_crash(app):
    src = _job(app, crashes=2, phase="stopping", heartbeat_at=None)
    assert app.runner.recover() == 1
    v, job = _wait(app)
    assert v.status == "ready", v.error
    assert v.digest == independent_digest(src)[0]
    assert (job.crashes, _events(job)[-3:]) == (2, ["interrupted", "resumed", "done"])


def test_a_live_workers_job_is_left_alone(app):
    _job(app, worker=f"{socket.gethostname()}/1a2b3c4d:1")  # pid 1 is alive
    assert app.runner.recover() == 0
    with app.sessions() as db:
        assert db.scalars(select(Job)).one().state == "running"


def test_our_own_job_with_no_thread_is_retried_then_failed(app):
    """A thread of this process that could not record its result (the database was away for
    longer than the retries) leaves its job running under our name: retried, then failed."""
    src = _job(app, worker=app.runner.worker)
    assert app.runner.recover() == 1
    v, job = _wait(app)
    assert v.status == "ready" and v.digest == independent_digest(src)[0]
    assert (job.failures, _events(job)[-3:]) == (1, ["attempt-failed", "retrying", "done"])


def test_our_own_job_fails_after_its_last_attempt(app):
    _job(app, worker=app.runner.worker, failures=1)
    assert app.runner.recover() == 1
    v, job = _wait(app)
    assert (v.status, job.state) == ("failed", "failed")
    assert "could not record" in job.error


def test_a_version_complete_on_disk_is_finished_not_refused(app):
    """The registry died after renaming the version into place, before recording it."""
    src = _job(app)
    storage.snapshot(app.layout, src, DS, 1)
    final = app.layout.version_dir(DS, 1)
    inode = os.stat(final).st_ino
    assert app.runner.recover() == 1
    v, job = _wait(app)
    assert v.status == "ready", v.error
    assert (v.digest, v.files, v.bytes) == independent_digest(src)
    assert os.stat(final).st_ino == inode  # recorded as it was, not copied again
    assert _events(job)[-2:] == ["resumed", "done"]


@pytest.mark.parametrize("damage", ["extra", "missing", "unsealed", "replaced"])
def test_a_version_folder_that_does_not_match_is_built_again(sqlite_app, damage):
    app = sqlite_app
    src = _job(app)
    storage.snapshot(app.layout, src, DS, 1)
    final = app.layout.version_dir(DS, 1)
    part = final / "part-000"
    os.chmod(part, 0o755)
    victim = sorted(part.iterdir())[0]
    if damage == "extra":
        (part / "stray.bin").write_bytes(b"not in the manifest")
    elif damage == "missing":
        victim.unlink()
    elif damage == "replaced":  # same size, other content, not the stored object
        victim.unlink()
        victim.write_bytes(b"\0" * 2000)
    if damage != "unsealed":
        os.chmod(part, 0o555)
    assert app.runner.recover() == 1
    v, _job_row = _wait(app)
    assert v.status == "ready", v.error
    assert v.digest == independent_digest(src)[0]
    assert content_map(final) == content_map(src)
    assert os.stat(part).st_mode & 0o777 == 0o555


def test_a_cancel_asked_of_a_dead_workers_job_is_honoured(app):
    _job(app, state="running")
    with app.sessions() as db:
        db.scalars(select(Job)).one().state = "cancelling"
        db.commit()
    partial = _half_built(app)
    assert app.runner.recover() == 1
    v, job = _wait(app)
    assert (v.status, job.state, job.crashes) == ("cancelled", "cancelled", 0)
    assert not partial.exists()


@pytest.mark.parametrize("renamed", [True, False])
def test_a_restore_resumed_after_a_crash_finishes(sqlite_app, renamed):
    """Killed before or after the restored folder was renamed into place: done either way,
    with every file as the version has it."""
    app = sqlite_app
    src = _job(app, state="queued")
    with app.sessions() as db:
        db.delete(db.scalars(select(Job)).one())
        v = db.scalars(select(Version)).one()
        result = storage.snapshot(app.layout, src, DS, 1)
        v.status, v.digest, v.files, v.bytes = "ready", result.digest, result.files, result.bytes
        db.add(
            Job(
                kind="restore",
                version_id=v.id,
                state="running",
                worker=DEAD_WORKER,
                attempts=1,
                heartbeat_at=utcnow(),
                created_by="alice",
                params={"volume_id": VOL, "path": "restored"},
            )
        )
        db.commit()
    dest = app.layout.volume_dir(VOL) / "restored"
    if renamed:
        storage.restore(app.layout.version_dir(DS, 1), app.layout.manifest_path(DS, 1), dest)
    else:  # a half-built copy beside it
        (dest.parent / ".restored.fermi-partial").mkdir()
    assert app.runner.recover() == 1
    _v, job = _wait(app)
    assert job.state == "done", job.error
    assert job.result["files"] == 30
    assert content_map(dest) == content_map(src)


def test_phases_are_published_in_order_through_to_ready(app):
    events: list[dict] = []
    runner = JobRunner(app.sessions, app.layout, events.append)
    try:
        _job(app, state="queued", files=600)
        runner.recover()
        v, job = _wait(app)
    finally:
        runner.shutdown(wait=True)
    assert v.status == "ready"
    phases = [e["progress"]["phase"] for e in events if e.get("status") == "processing"]
    order = ["starting", "copying", "sealing", "publishing"]
    seen = [p for i, p in enumerate(phases) if i == 0 or p != phases[i - 1]]
    assert seen[0] == "starting" and seen[-1] == "publishing", seen
    assert [order.index(p) for p in seen] == sorted(order.index(p) for p in seen), seen
    # once everything is copied the phase says what is still going on
    full = [
        e["progress"]
        for e in events
        if e.get("status") == "processing"
        and e["progress"]["files_total"]
        and e["progress"]["files_done"] == e["progress"]["files_total"]
    ]
    assert full and all(p["phase"] in ("sealing", "publishing") for p in full)
    assert events[-1]["status"] == "ready" and events[-1]["job_state"] == "done"
    assert v.phase is None and job.phase is None


def test_stopping_in_process_puts_the_job_back_and_the_next_runner_resumes_it(app):
    src = _job(app, state="queued", files=1500)
    (app.pause_dir / "arm-copying").touch()
    app.runner.recover()
    marker = app.pause_dir / "job-1-copying"
    deadline = time.monotonic() + 30
    while not marker.exists():
        assert time.monotonic() < deadline, "the job never reached the copy"
        time.sleep(0.02)
    (app.pause_dir / "arm-copying").unlink()
    assert app.layout.partial_dir(DS, 1).is_dir() and not app.layout.version_dir(DS, 1).exists()
    app.runner.shutdown(wait=False)  # asks the job to stop …
    marker.unlink()  # … lets it go on to see that …
    app.runner.shutdown(wait=True)  # … and waits for it
    with app.sessions() as db:
        job = db.scalars(select(Job)).one()
        assert (job.state, job.worker, job.crashes) == ("queued", None, 0)
        assert db.scalars(select(Version)).one().status == "pending"
    runner = JobRunner(app.sessions, app.layout, lambda e: None)
    try:
        runner.recover()
        v, job = _wait(app)
    finally:
        runner.shutdown(wait=True)
    assert v.status == "ready" and v.digest == independent_digest(src)[0]
    assert _events(job)[-3:] == ["interrupted", "resumed", "done"]


def test_a_claim_landing_while_recovery_reads_the_jobs_is_not_an_orphan(app):
    """Recovery reads the jobs while a thread of ours claims one: that job is running here, not
    an orphan to requeue as a failed attempt (seen under load as a job run twice)."""
    _job(app, state="queued", files=200)
    (app.pause_dir / "arm-copying").touch()  # holds the job running once claimed
    runner, sessions = app.runner, app.runner.sessions
    reading, claimed = threading.Event(), threading.Event()

    def sessions_after_the_claim():  # recovery's read of the jobs waits for the claim
        if threading.current_thread().name == "recovery":
            reading.set()
            assert claimed.wait(30)
        return sessions()

    runner.sessions = sessions_after_the_claim
    recovered: list[int] = []
    t = threading.Thread(target=lambda: recovered.append(runner.recover()), name="recovery")
    try:
        t.start()
        assert reading.wait(30)
        runner.submit(1)
        deadline = time.monotonic() + 30
        while not (app.pause_dir / "job-1-copying").exists():
            assert time.monotonic() < deadline, "the job never reached the copy"
            time.sleep(0.02)
        claimed.set()
        t.join(30)
        assert recovered == [0]
        with app.sessions() as db:
            job = db.scalars(select(Job)).one()
            assert (job.state, job.worker, job.attempts) == ("running", runner.worker, 1)
    finally:
        claimed.set()
        runner.sessions = sessions
        for pause in app.pause_dir.iterdir():  # let the job go on (teardown waits for it)
            pause.unlink()
    v, job = _wait(app)
    assert v.status == "ready" and job.attempts == 1
    assert "attempt-failed" not in _events(job)


def test_migrations_are_at_head(app):
    from fermi_jupyter.registry import db as dbmod

    assert dbmod.current_revision(app.engine) == dbmod.head_revision(app.engine)


def test_a_killed_worker_not_yet_reaped_is_dead():
    """A registry killed while its parent (a hub polls every 30 s) has not reaped it yet is a
    zombie: os.kill(pid, 0) still succeeds, the worker must count as dead all the same."""
    import signal
    import subprocess

    from fermi_jupyter.registry.jobs.recovery import worker_alive, worker_name

    me = worker_name()
    child = subprocess.Popen(["sleep", "60"])
    name = f"{socket.gethostname()}/0bad:{child.pid}"
    try:
        assert worker_alive(name, me) is True
        os.kill(child.pid, signal.SIGKILL)
        deadline = time.monotonic() + 10
        while worker_alive(name, me):
            assert time.monotonic() < deadline, "a zombie worker still counts as alive"
            time.sleep(0.01)
        os.kill(child.pid, 0)  # not reaped yet: the pid still answers signals
    finally:
        child.kill()
        child.wait()
    assert worker_alive(f"another-host/0bad:{child.pid}", me) is None  # ask its heartbeat


def test_phase_changes_close_together_are_published_at_once_and_written_once(app):
    """A small job runs through its phases in milliseconds: each phase is an event at once,
    but the database gets one write per PHASE_GAP (the claim has just written the first), and
    a heartbeat every interval; what the job writes is its latest phase and counts."""
    _job(app, worker=app.runner.worker)
    with app.sessions() as db:
        job_id, version_id = db.scalars(select(Job.id)).one(), db.scalars(select(Version.id)).one()
    writes: list[str] = []

    def count(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if statement.startswith("UPDATE jobs SET") and "heartbeat_at" in statement:
            writes.append(statement)

    event.listen(app.engine, "before_cursor_execute", count)
    now = [100.0]
    published: list[dict] = []
    progress = JobProgress(
        app.sessions,
        job_id,
        version_id,
        app.runner.worker,
        published.append,
        {},
        threading.Event(),
        clock=lambda: now[0],
    )

    def phase_in_db() -> tuple[str | None, str | None, int | None]:
        with app.sessions() as db:
            job, v = db.get(Job, job_id), db.get(Version, version_id)
            return job.phase, v.phase, job.files_done

    try:
        progress.set_phase(STARTING)  # the claim wrote it
        progress(storage.Progress(1, 10, None, None))  # copying
        now[0] += 0.1
        progress(storage.Progress(30, 300, 30, 300))  # sealing, 0.1 s after the claim
        assert writes == []
        now[0] += PHASE_GAP  # the next report writes the phase that waited
        progress(storage.Progress(30, 300, 30, 300))
        assert len(writes) == 1 and phase_in_db() == ("sealing", "sealing", 30)
        now[0] += 1.0  # nothing new, but a heartbeat is due
        progress(storage.Progress(30, 300, 30, 300))
        assert len(writes) == 2
        progress.set_phase(PUBLISHING)  # at once after that write: waits for the result
        assert len(writes) == 2 and phase_in_db()[0] == "sealing"
    finally:
        event.remove(app.engine, "before_cursor_execute", count)
    phases = [e["progress"]["phase"] for e in published]
    assert phases == ["starting", "copying", "sealing", "sealing", "sealing", "publishing"]
