"""The Git engine against real repositories over smart HTTP (``git http-backend``): branches,
tags, a commit, a second download that fetches, a token-protected repository, symlinks that
try to leave the target, push."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..support.git_server import git, make_repo
from .conftest import GIT_TOKEN, outside_files, policy, result_of, run_child


@pytest.fixture(scope="module")
def repos(git_server):
    root = git_server.root
    work = make_repo(root, "public", {"README.md": "v1\n", "data/a.csv": "x,y\n1,2\n"})
    first = git("rev-parse", "HEAD", cwd=work)
    git("tag", "v1.0", cwd=work)
    (work / "README.md").write_text("v2\n")
    git("commit", "-qam", "second", cwd=work)
    git("checkout", "-qb", "dev", cwd=work)
    (work / "dev.txt").write_text("dev\n")
    git("add", "dev.txt", cwd=work)
    git("commit", "-qm", "dev", cwd=work)
    git("push", "-q", "--all", str(root / "public.git"), cwd=work)
    git("push", "-q", "--tags", str(root / "public.git"), cwd=work)
    make_repo(root, "secret", {"weights.txt": "private\n"}, private=True)
    evil = make_repo(root, "links", {"ok.txt": "ok\n"})
    os.symlink("../../../../etc/passwd", evil / "up")
    os.symlink("/etc", evil / "abs")
    os.symlink("ok.txt", evil / "fine")
    git("add", "-A", cwd=evil)
    git("commit", "-qm", "links", cwd=evil)
    git("push", "-q", str(root / "links.git"), "main", cwd=evil)
    return {"first": first}


def spec(root: Path, url: str, path: str = "code", ref: str | None = None, **pol) -> dict:
    from fermi_jupyter.transfers.spec import repo_dir_name

    return {
        "direction": "download",
        "source": {"type": "git", "url": url, "ref": ref, "dir": repo_dir_name(url)},
        "sink": {"type": "volume", "volume_id": "vol-x", "path": path},
        "policy": policy(**pol),
        "local_root": str(root),
    }


def test_clone_default_branch_then_fetch_a_tag_then_a_commit(repos, git_server, volume):
    url = git_server.url("public")
    code, events, err = run_child(spec(volume, url))
    assert code == 0, (events, err)
    clone = volume / "code" / "public"
    assert (clone / "README.md").read_text() == "v2\n" and not (clone / "dev.txt").exists()
    umask = os.umask(0o022)
    os.umask(umask)
    assert clone.stat().st_mode & 0o777 == 0o777 & ~umask  # not the staging folder's 0700
    first = result_of(events)
    assert len(first["revision"]) == 40 and first["path"] == "code/public"
    # the remote URL in the clone carries no credential
    assert "TOKEN" not in (clone / ".git" / "config").read_text()

    code, events, _ = run_child(spec(volume, url, ref="v1.0"))
    assert code == 0, events
    assert result_of(events)["updated"] is True
    assert (clone / "README.md").read_text() == "v1\n"
    code, events, _ = run_child(spec(volume, url, ref="dev"))
    assert code == 0 and (clone / "dev.txt").read_text() == "dev\n"
    code, events, _ = run_child(spec(volume, url, path="pinned", ref=repos["first"]))
    assert code == 0, events
    assert result_of(events)["revision"] == repos["first"]
    assert (volume / "pinned" / "public" / "README.md").read_text() == "v1\n"


def test_branch_clone_and_missing_ref(repos, git_server, volume):
    code, events, _ = run_child(
        spec(volume, git_server.url("public"), ref="dev", extra_args=["--depth=1"])
    )
    assert code == 0 and (volume / "code" / "public" / "dev.txt").exists()
    code, events, _ = run_child(
        spec(volume, git_server.url("public"), path="n", ref="no-such-branch")
    )
    assert code == 2 and result_of(events)["reason"] == "not-found"
    assert not (volume / "n" / "public").exists()
    assert not [p for p in volume.rglob("*.partial")]


def test_token_repo_needs_the_token_and_never_shows_it(repos, git_server, volume):
    url = git_server.url("secret", private=True).replace("http://", "http://$(TOKEN)@")
    code, events, err = run_child(spec(volume, url), {"token": "wrong-token-abcdef"})
    assert code == 2, (events, err)
    assert result_of(events)["reason"] == "unauthorized"
    assert "wrong-token-abcdef" not in repr(events) + err
    assert not (volume / "code" / "secret").exists()

    code, events, err = run_child(spec(volume, url), {"token": GIT_TOKEN})
    assert code == 0, (events, err)
    assert (volume / "code" / "secret" / "weights.txt").read_text() == "private\n"
    assert GIT_TOKEN not in repr(events) + err
    assert GIT_TOKEN not in (volume / "code" / "secret" / ".git" / "config").read_text()


def test_symlinks_leading_out_are_removed(repos, git_server, volume):
    before = outside_files(volume)
    code, events, _ = run_child(spec(volume, git_server.url("links")))
    assert code == 0, events
    clone = volume / "code" / "links"
    assert os.readlink(clone / "fine") == "ok.txt"
    assert not os.path.lexists(clone / "up") and not os.path.lexists(clone / "abs")
    assert len(result_of(events)["warnings"]) == 2
    assert outside_files(volume) == before


def test_server_down_is_retryable(volume):
    from ..support.ports import free_port

    code, events, _ = run_child(spec(volume, f"http://127.0.0.1:{free_port()}/x.git"))
    assert code == 1 and result_of(events)["reason"] == "unreachable"


def test_push_committed_work_and_refuse_an_empty_repo(repos, git_server, volume):
    url = git_server.url("public")
    assert run_child(spec(volume, url, path="dev"))[0] == 0
    clone = volume / "dev" / "public"
    (clone / "new.txt").write_text("pushed\n")
    git("add", "new.txt", cwd=clone)
    git("commit", "-qm", "from the volume", cwd=clone)
    git("checkout", "-qb", "feature", cwd=clone)
    up = {
        "direction": "upload",
        "source": {"type": "volume", "volume_id": "vol-x", "path": "dev"},
        "sink": {"type": "git", "url": url, "ref": None, "dir": "public"},
        "policy": policy(),
        "local_root": str(volume),
    }
    code, events, err = run_child(up)
    assert code == 0, (events, err)
    head = git("rev-parse", "HEAD", cwd=clone)
    assert git("rev-parse", "refs/heads/feature", cwd=git_server.root / "public.git") == head
    # a hook in the user's repository never runs
    hook = clone / ".git" / "hooks" / "pre-push"
    marker = volume / "hook-ran"
    hook.write_text(f"#!/bin/sh\ntouch {marker}\n")
    hook.chmod(0o755)
    (clone / "more.txt").write_text("more\n")
    git("add", "more.txt", cwd=clone)
    git("commit", "-qm", "more", cwd=clone)
    assert run_child(up)[0] == 0
    assert not marker.exists()

    empty = volume / "empty" / "public"
    empty.mkdir(parents=True)
    git("init", "-q", cwd=empty)
    up["source"]["path"] = "empty"
    code, events, _ = run_child(up)
    assert code == 2
    res = result_of(events)
    assert res["reason"] == "nothing-to-push" and "commit" in res["message"]


@pytest.mark.parametrize("trick", ["alternates", "gitdir-file", "symlinked-git"])
def test_push_refuses_a_repository_that_reaches_outside_itself(
    trick, repos, git_server, volume, tmp_path
):
    """The push runs with the registry's rights: objects borrowed from elsewhere (another
    user's repository) through alternates, a gitdir file or a symlinked .git are refused."""
    other = make_repo(tmp_path, "other", {"secret.txt": "someone else's\n"})
    work = volume / f"trick-{trick}" / "public"
    work.mkdir(parents=True)
    if trick == "alternates":
        git("init", "-q", cwd=work)
        (work / ".git" / "objects" / "info").mkdir(parents=True, exist_ok=True)
        (work / ".git" / "objects" / "info" / "alternates").write_text(
            str(other / ".git" / "objects") + "\n"
        )
        git("fetch", "-q", "--update-head-ok", str(other), "main:main", cwd=work)
        git("reset", "-q", "--hard", "main", cwd=work)
    elif trick == "gitdir-file":
        (work / ".git").write_text(f"gitdir: {other / '.git'}\n")
    else:
        (work / ".git").symlink_to(other / ".git")
    up = {
        "direction": "upload",
        "source": {"type": "volume", "volume_id": "vol-x", "path": f"trick-{trick}"},
        "sink": {"type": "git", "url": git_server.url("public"), "ref": "stolen", "dir": "public"},
        "policy": policy(),
        "local_root": str(volume),
    }
    code, events, _ = run_child(up)
    res = result_of(events)
    assert code == 2 and res["reason"] in ("invalid", "not-found"), res
    refs = git("for-each-ref", "--format=%(refname)", cwd=git_server.root / "public.git")
    assert "refs/heads/stolen" not in refs.split()
