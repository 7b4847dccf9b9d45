"""A small Hugging Face Hub-compatible server on loopback, for ``huggingface_hub`` to talk to.

No maintained Hub server is on PyPI (``hf-local-hub`` needs a Go binary it does not ship), so
this one implements the endpoints ``snapshot_download``, ``repo_info``, ``create_repo`` and
``create_commit`` use, with the Hub's JSON shapes and headers:

- ``GET  /api/{models|datasets|spaces}/{repo}[/revision/{rev}]`` — repo info, ``sha``, siblings
- ``GET  /api/{type}s/{repo}/tree/{rev}[/{path}]?recursive=`` — the file listing
- ``HEAD|GET /[{type}s/]{repo}/resolve/{rev}/{path}`` — files, ``X-Repo-Commit``, ``ETag``
- ``POST /api/repos/create`` — a new repository (409 when it exists)
- ``POST /api/{type}s/{repo}/preupload/{rev}`` — every file "regular" (no LFS/Xet)
- ``POST /api/{type}s/{repo}/commit/{rev}`` — NDJSON commit: header, file (base64), deletedFile

Gated repositories answer 401 with ``X-Error-Code: GatedRepo`` without the right Bearer token;
writes need the write token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

from .ports import free_port

TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
REPO = r"(?P<repo>[A-Za-z0-9][\w.\-]*/[A-Za-z0-9][\w.\-]*)"


@dataclass
class Repo:
    token: str | None = None  # gated: this token is needed to read
    commits: dict[str, dict[str, bytes]] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)

    def commit(
        self, files: dict[str, bytes], parent: str | None = None, branch: str = "main"
    ) -> str:
        tree = dict(self.commits.get(parent or self.refs.get(branch, ""), {}))
        tree.update(files)
        return self.set_tree(tree, branch)

    def set_tree(self, tree: dict[str, bytes], branch: str = "main") -> str:
        digest = hashlib.sha1(repr(sorted(tree.items())).encode() + str(len(self.commits)).encode())
        sha = digest.hexdigest()
        self.commits[sha] = tree
        self.refs[branch] = sha
        return sha

    def resolve(self, rev: str) -> str | None:
        rev = unquote(rev)
        if rev in self.refs:
            return self.refs[rev]
        return rev if rev in self.commits else None


class HubServer:
    def __init__(self, write_token: str):
        self.write_token = write_token
        self.repos: dict[tuple[str, str], Repo] = {}
        self.port = free_port()
        self.requests: list[str] = []
        hub = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: object) -> None:
                pass

            def do_HEAD(self) -> None:
                hub.handle(self, "HEAD")

            def do_GET(self) -> None:
                hub.handle(self, "GET")

            def do_POST(self) -> None:
                hub.handle(self, "POST")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> HubServer:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def add(
        self,
        repo_id: str,
        files: dict[str, bytes],
        *,
        repo_type: str = "model",
        token: str | None = None,
    ) -> Repo:
        repo = self.repos.setdefault((repo_type, repo_id), Repo(token=token))
        repo.commit(files)
        return repo

    # -- HTTP ---------------------------------------------------------------------------------
    def handle(self, h: BaseHTTPRequestHandler, method: str) -> None:
        url = urlsplit(h.path)
        path = url.path
        self.requests.append(f"{method} {path} {h.headers.get('Authorization', '')}")
        body = h.rfile.read(int(h.headers.get("Content-Length") or 0)) if method == "POST" else b""
        token = (h.headers.get("Authorization") or "").removeprefix("Bearer ").strip() or None
        try:
            if method == "POST" and path == "/api/repos/create":
                return self._create(h, json.loads(body), token)
            m = re.match(rf"^/api/(models|datasets|spaces)/{REPO}(?P<rest>/.*)?$", path)
            if m:
                repo = self._repo(h, TYPES[m.group(1)], m["repo"], token, write=method == "POST")
                if repo is None:
                    return None
                return self._api(
                    h, method, m.group(1), m["repo"], repo, m["rest"] or "", url.query, body
                )
            m = re.match(
                rf"^/(?:(datasets|spaces)/)?{REPO}/resolve/(?P<rev>[^/]+)/(?P<file>.+)$", path
            )
            if m:
                repo = self._repo(h, TYPES.get(m.group(1) or "models", "model"), m["repo"], token)
                if repo is None:
                    return None
                return self._resolve(h, method, repo, m["rev"], unquote(m["file"]))
            return self._json(h, 404, {"error": "not found"}, code="EntryNotFound")
        except BrokenPipeError:
            return None

    def _json(
        self, h: BaseHTTPRequestHandler, status: int, obj: object, code: str | None = None
    ) -> None:
        data = json.dumps(obj).encode()
        h.send_response(status)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(data)))
        if code:
            h.send_header("X-Error-Code", code)
            h.send_header(
                "X-Error-Message", str(obj.get("error", "")) if isinstance(obj, dict) else ""
            )
        h.end_headers()
        h.wfile.write(data)

    def _repo(self, h, repo_type: str, repo_id: str, token: str | None, write: bool = False):  # type: ignore[no-untyped-def]
        repo = self.repos.get((repo_type, repo_id))
        if repo is None:
            self._json(h, 404, {"error": "Repository not found"}, code="RepoNotFound")
            return None
        if write and token != self.write_token:
            self._json(h, 401, {"error": "Invalid credentials in Authorization header"})
            return None
        if repo.token and token not in (repo.token, self.write_token):
            self._json(h, 401, {"error": f"Access to {repo_id} is restricted"}, code="GatedRepo")
            return None
        return repo

    def _create(self, h, payload: dict, token: str | None) -> None:  # type: ignore[no-untyped-def]
        if token != self.write_token:
            return self._json(h, 401, {"error": "Invalid credentials in Authorization header"})
        repo_id = "/".join(p for p in (payload.get("organization"), payload["name"]) if p)
        key = (payload.get("type") or "model", repo_id)
        if key in self.repos:
            return self._json(
                h,
                409,
                {"error": "You already created this repo", "url": f"{self.endpoint}/{repo_id}"},
            )
        self.repos[key] = Repo()
        self.repos[key].set_tree({".gitattributes": b"*.bin filter=lfs\n"})
        return self._json(h, 200, {"url": f"{self.endpoint}/{repo_id}"})

    def _api(
        self, h, method, kind, repo_id, repo: Repo, rest: str, query: str, body: bytes
    ) -> None:  # type: ignore[no-untyped-def]
        m = re.match(r"^(?:/revision/(?P<rev>[^/]+))?$", rest)
        if method == "GET" and m:
            sha = repo.resolve(m["rev"] or "main")
            if sha is None:
                return self._json(h, 404, {"error": "Invalid rev id"}, code="RevisionNotFound")
            files = repo.commits[sha]
            siblings = [
                {"rfilename": p, "size": len(b), "blobId": hashlib.sha1(b).hexdigest()}
                for p, b in sorted(files.items())
            ]
            return self._json(
                h,
                200,
                {
                    "id": repo_id,
                    "_id": repo_id,
                    "sha": sha,
                    "siblings": siblings,
                    "private": False,
                    "gated": "auto" if repo.token else False,
                    "disabled": False,
                    "tags": [],
                    "lastModified": "2026-01-01T00:00:00.000Z",
                },
            )
        m = re.match(r"^/tree/(?P<rev>[^/]+)(?P<path>/.*)?$", rest)
        if method == "GET" and m:
            sha = repo.resolve(m["rev"])
            if sha is None:
                return self._json(h, 404, {"error": "Invalid rev id"}, code="RevisionNotFound")
            prefix = unquote(m["path"] or "").strip("/")
            recursive = parse_qs(query).get("recursive", ["false"])[0].lower() == "true"
            items, folders = [], set()
            for p, b in sorted(repo.commits[sha].items()):
                if prefix and not p.startswith(prefix + "/"):
                    continue
                rel = p[len(prefix) + 1 :] if prefix else p
                if "/" in rel and not recursive:
                    folders.add((prefix + "/" if prefix else "") + rel.split("/")[0])
                    continue
                items.append(
                    {"type": "file", "path": p, "size": len(b), "oid": hashlib.sha1(b).hexdigest()}
                )
            items += [{"type": "directory", "path": f, "oid": "0" * 40} for f in sorted(folders)]
            return self._json(h, 200, items)
        m = re.match(r"^/preupload/(?P<rev>[^/]+)$", rest)
        if method == "POST" and m:
            files = json.loads(body).get("files", [])
            return self._json(
                h,
                200,
                {
                    "files": [
                        {"path": f["path"], "uploadMode": "regular", "shouldIgnore": False}
                        for f in files
                    ]
                },
            )
        m = re.match(r"^/commit/(?P<rev>[^/]+)$", rest)
        if method == "POST" and m:
            branch = unquote(m["rev"])
            tree = dict(repo.commits.get(repo.refs.get(branch, ""), {}))
            for line in body.decode().splitlines():
                if not line.strip():
                    continue
                op = json.loads(line)
                value = op["value"]
                if op["key"] == "file":
                    tree[value["path"]] = base64.b64decode(value["content"])
                elif op["key"] == "deletedFile":
                    tree.pop(value["path"], None)
            sha = repo.set_tree(tree, branch)
            prefix = "" if kind == "models" else kind + "/"
            return self._json(
                h,
                200,
                {
                    "success": True,
                    "commitOid": sha,
                    "pullRequestUrl": None,
                    "commitUrl": f"{self.endpoint}/{prefix}{repo_id}/commit/{sha}",
                },
            )
        return self._json(h, 404, {"error": f"no route {rest}"})

    def _resolve(self, h, method: str, repo: Repo, rev: str, name: str) -> None:  # type: ignore[no-untyped-def]
        sha = repo.resolve(rev)
        if sha is None:
            return self._json(h, 404, {"error": "Invalid rev id"}, code="RevisionNotFound")
        data = repo.commits[sha].get(name)
        if data is None:
            return self._json(h, 404, {"error": "Entry not found"}, code="EntryNotFound")
        h.send_response(200)
        h.send_header("Content-Type", "application/octet-stream")
        h.send_header("Content-Length", str(len(data)))
        h.send_header("ETag", f'"{hashlib.sha1(data).hexdigest()}"')
        h.send_header("X-Repo-Commit", sha)
        h.end_headers()
        if method == "GET":
            h.wfile.write(data)
        return None
