"""Git through the ``git`` CLI.

* Download: ``git clone`` into a staging folder, then into ``<path>/<repo name>`` (DataCube's
  layout: the repository is a folder *under* the path). A second download of the same URL
  fetches and checks out in place instead.
* Upload: ``git push`` of the repository ``<path>/<repo name>`` (or ``<path>`` itself).

The token never appears in an argument or a URL: the URL's ``$(TOKEN)`` is removed and the
token is answered by a ``GIT_ASKPASS`` helper that reads it from the environment. The
repository's own configuration cannot run code or redirect the token: hooks, fsmonitor,
credential helpers and every protocol but http(s)/git are switched off on the command line.
"""

from __future__ import annotations

import contextlib
import os
import re
import stat
import subprocess
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from .context import Context, passthrough_env
from .errors import TransferError
from .spec import TOKEN_PLACEHOLDER
from .staging import Staging, tree_size

SHA = re.compile(r"^[0-9a-f]{7,40}$")
ASKPASS = """#!/bin/sh
case "$1" in
  Username*) printf '%s\\n' "$FERMI_GIT_USERNAME" ;;
  *) printf '%s\\n' "$FERMI_SECRET_TOKEN" ;;
esac
"""
SAFE_CONFIG = [
    "core.hooksPath=/dev/null",
    "core.fsmonitor=false",
    "credential.helper=",
    "protocol.allow=never",
    "protocol.https.allow=always",
    "protocol.http.allow=always",
    "protocol.git.allow=always",
    "core.sshCommand=false",
    "submodule.recurse=false",
    "advice.detachedHead=false",
    "init.defaultBranch=main",
    "gc.auto=0",
]
UNAUTHORIZED = re.compile(
    r"Authentication failed|could not read Username|could not read Password|"
    r"HTTP Basic: Access denied|The requested URL returned error: 40[13]|"
    r"Invalid username or password|terminal prompts disabled",
    re.IGNORECASE,
)
NOT_FOUND = re.compile(
    r"not found|does not appear to be a git repository|Remote branch .* not found|"
    r"did not match any file|unknown revision|couldn't find remote ref|returned error: 404",
    re.IGNORECASE,
)
UNREACHABLE = re.compile(
    r"Could not resolve host|Failed to connect|Connection refused|Connection timed out|"
    r"unable to access|Couldn't connect",
    re.IGNORECASE,
)


def clean_url(url: str) -> tuple[str, str | None]:
    """The URL without ``$(TOKEN)``, and the user name git should answer (or None)."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url, None
    userinfo, _, host = parts.netloc.rpartition("@")
    user, _, _password = userinfo.partition(":")
    if user == TOKEN_PLACEHOLDER:
        # the token is the user name (https://$(TOKEN)@host): git asks for both
        return urlunsplit(parts._replace(netloc=host)), "token-as-user"
    return urlunsplit(parts._replace(netloc=f"{user}@{host}")), None


class Git:
    def __init__(self, ctx: Context):
        self.ctx = ctx
        self.url, mode = clean_url(ctx.remote["url"])
        token = ctx.secrets.get("token", "")
        askpass = ctx.workdir / "askpass.sh"
        askpass.write_text(ASKPASS)
        askpass.chmod(0o700)
        self.env = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "HOME": str(ctx.workdir),
            "LANG": "C.UTF-8",
            "GIT_TERMINAL_PROMPT": "0",
            "GIT_ASKPASS": str(askpass),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_PAGER": "cat",
            "FERMI_SECRET_TOKEN": token,
            "FERMI_GIT_USERNAME": token if mode == "token-as-user" else "fermi",
            **passthrough_env(),
            **{k: v for k, v in ctx.spec["policy"]["env"].items()},
        }

    def run(self, *args: str, cwd: Path | None = None, safe_dir: Path | None = None) -> str:
        config = [*SAFE_CONFIG, *([f"safe.directory={safe_dir}"] if safe_dir else [])]
        cmd = ["git", *[x for c in config for x in ("-c", c)], *args]
        proc = subprocess.Popen(
            cmd,
            cwd=cwd,
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
        )
        err_lines: list[str] = []

        def pump() -> None:
            assert proc.stderr is not None
            for raw in proc.stderr:
                for line in raw.replace("\r", "\n").splitlines():
                    if line.strip():
                        err_lines.append(line)
                        if not re.search(r"\d+% \(\d+/\d+\)", line) or line.endswith("done."):
                            self.ctx.report.log("git: " + line)

        t = threading.Thread(target=pump, daemon=True)
        t.start()
        out = proc.stdout.read() if proc.stdout else ""
        proc.wait()
        t.join()
        if proc.returncode != 0:
            text = "\n".join(err_lines[-20:])
            raise TransferError(f"git {args[0]} failed: {_last_error(err_lines)}", _classify(text))
        return out

    def default_branch(self) -> str | None:
        out = self.run("ls-remote", "--symref", self.url, "HEAD")
        m = re.search(r"^ref: refs/heads/(\S+)\s+HEAD", out, re.MULTILINE)
        return m.group(1) if m else None

    # -- download ---------------------------------------------------------------------------
    def download(self) -> dict[str, Any]:
        ctx = self.ctx
        base = ctx.local_path(must_exist=False)
        dest = base / ctx.remote["dir"]
        extra = ctx.spec["policy"]["extra_args"]
        ref = ctx.remote.get("ref")
        if (dest / ".git").is_dir():
            return self._update(dest, ref, extra)
        staging = Staging(dest, ctx.tag)
        stage = staging.prepare()
        stop = threading.Event()
        watcher = threading.Thread(target=self._watch, args=(stage, stop), daemon=True)
        watcher.start()
        try:
            clone_opts = [
                a for a in extra if a.split("=")[0] not in ("--prune", "--tags", "--unshallow")
            ]
            if ref and not SHA.match(ref):
                self.run(
                    "clone", "--progress", *clone_opts, "--branch", ref, "--", self.url, str(stage)
                )
            else:
                self.run("clone", "--progress", *clone_opts, "--", self.url, str(stage))
                if ref:
                    self.run("checkout", "--detach", ref, cwd=stage)
            staging.remove_escaping_links()
        except BaseException:
            stop.set()
            staging.abort()
            raise
        stop.set()
        watcher.join()
        for w in staging.warnings:
            ctx.warn(w)
        commit = self.run("rev-parse", "HEAD", cwd=stage).strip()
        staging.commit()
        files, size = tree_size(dest)
        ctx.report.totals(files, size)
        ctx.report.set(files, size)
        return {
            "revision": commit,
            "files": files,
            "bytes": size,
            "path": str(dest.relative_to(ctx.root)),
        }

    def _watch(self, stage: Path, stop: threading.Event) -> None:
        while not stop.wait(1.0):
            with contextlib.suppress(OSError):
                self.ctx.report.set(*tree_size(stage))

    def _update(self, dest: Path, ref: str | None, extra: list[str]) -> dict[str, Any]:
        """A clone that exists: fetch from the same URL and check the ref out."""
        fetch_opts = [
            a
            for a in extra
            if a.split("=")[0] not in ("--single-branch", "--no-single-branch", "--shallow-exclude")
        ]
        self.ctx.report.log(f"{dest.name} is already a clone: fetching instead of cloning")
        self.run(
            "fetch", "--progress", *fetch_opts, "--", self.url,
            "+refs/heads/*:refs/remotes/origin/*", "+refs/tags/*:refs/tags/*",
            cwd=dest, safe_dir=dest,
        )  # fmt: skip
        ref = ref or self.default_branch()
        if not ref:
            raise TransferError("the remote has no default branch; give a ref", "not-found")
        if SHA.match(ref) or self._has(dest, f"refs/tags/{ref}"):
            self.run("checkout", "--detach", ref, cwd=dest, safe_dir=dest)
        else:
            self.run("checkout", "-B", ref, f"refs/remotes/origin/{ref}", cwd=dest, safe_dir=dest)
        commit = self.run("rev-parse", "HEAD", cwd=dest, safe_dir=dest).strip()
        files, size = tree_size(dest)
        self.ctx.report.totals(files, size)
        self.ctx.report.set(files, size)
        return {"revision": commit, "files": files, "bytes": size, "updated": True,
                "path": str(dest.relative_to(self.ctx.root))}  # fmt: skip

    def _has(self, repo: Path, ref: str) -> bool:
        try:
            self.run("rev-parse", "--verify", "--quiet", ref, cwd=repo, safe_dir=repo)
            return True
        except TransferError:
            return False

    # -- upload -----------------------------------------------------------------------------
    def upload(self) -> dict[str, Any]:
        ctx = self.ctx
        base = ctx.local_path(must_exist=True)
        repo = base / ctx.remote["dir"]
        if not (repo / ".git").is_dir():
            if (base / ".git").is_dir():
                repo = base
            else:
                raise TransferError(
                    f"no Git repository {ctx.remote['dir']!r} under "
                    f"{ctx.local.get('path') or '/'!r}: "
                    "push uploads the repository found there (clone or git init it first)",
                    "not-found",
                )
        _check_own_repository(repo)
        if not self._has(repo, "HEAD"):
            raise TransferError(
                "nothing is committed in the repository yet: commit on the current branch first",
                "nothing-to-push",
            )
        ref = ctx.remote.get("ref")
        if not ref:
            try:
                ref = self.run("symbolic-ref", "--short", "HEAD", cwd=repo, safe_dir=repo).strip()
            except TransferError:
                raise TransferError(
                    "HEAD is detached: check out a branch or name the branch to push (ref)",
                    "invalid",
                ) from None
        self.run(
            "push", "--progress", *ctx.spec["policy"]["extra_args"], "--", self.url,
            f"HEAD:refs/heads/{ref}", cwd=repo, safe_dir=repo,
        )  # fmt: skip
        commit = self.run("rev-parse", "HEAD", cwd=repo, safe_dir=repo).strip()
        return {"revision": commit, "ref": ref}


# what would make git read objects or refs from outside the repository (another user's)
FOREIGN = ("objects/info/alternates", "objects/info/http-alternates", "commondir")


def _check_own_repository(repo: Path) -> None:
    """A repository in a volume must keep its objects and refs inside it (no .git link or
    gitdir file, no alternates, no linked worktree), or a push could publish what is not the
    volume's. Besides the uid the transfer runs as (the volume's owner, see
    ``registry/transfers/runas.py``): it also holds where that uid may read more than the
    volume (a teammate's folder on a shared volume, a Kubernetes pod's fsGroup)."""
    git = repo / ".git"
    for path in (git, git / "objects", git / "refs"):
        st = os.lstat(path)
        if not stat.S_ISDIR(st.st_mode):
            raise TransferError(
                f"{path.relative_to(repo)} is a link or a file: push a repository whose "
                "objects are inside it (not a linked worktree or a symlinked .git)",
                "invalid",
            )
    for name in FOREIGN:
        if os.path.lexists(git / name):
            raise TransferError(
                f".git/{name} points outside the repository: repack it without alternates "
                "(git repack -a -d, then remove the file) before pushing",
                "invalid",
            )


def _classify(text: str) -> str:
    if UNAUTHORIZED.search(text):
        return "unauthorized"
    if "returned error: 404" in text:
        return "not-found"
    if UNREACHABLE.search(text):
        return "unreachable"
    if NOT_FOUND.search(text):
        return "not-found"
    return "failed"


def _last_error(lines: list[str]) -> str:
    for line in reversed(lines):
        if line.startswith(("fatal:", "error:")):
            return line.split(":", 1)[1].strip()
    return lines[-1].strip() if lines else "no message"


def download(ctx: Context) -> dict[str, Any]:
    return Git(ctx).download()


def upload(ctx: Context) -> dict[str, Any]:
    return Git(ctx).upload()
