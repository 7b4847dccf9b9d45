"""Transfer requests: validation into one normalised spec (no database; the only I/O is
resolving remote host names, see ``check_host``).

A request names a *source* and a *sink*; one side is local (a volume path, or a dataset version
as a read-only source), the other remote (``git``, ``huggingface``, ``s3``). Remote → volume is a
download, local → remote an upload. The spec never holds a secret: credentials are named, and
the registry hands their values to the transfer process through its environment.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from typing import Any
from urllib.parse import urlsplit

from . import arguments
from .errors import SpecError

REMOTE_TYPES = ("git", "huggingface", "s3")
LOCAL_TYPES = ("volume", "dataset")
HF_REPO_TYPES = ("model", "dataset", "space")
TOKEN_PLACEHOLDER = "$(TOKEN)"
MAX_DEADLINE = 7 * 24 * 3600
MAX_BACKOFF = 10

# DataCube's option names per type: extra environment may not reuse them (as in the seed)
OPTION_NAMES = {
    "git": ("url", "ref", "token"),
    "huggingface": (
        "token",
        "repo",
        "repo-type",
        "revision",
        "files",
        "path-in-repo",
        "commit-message",
    ),
    "s3": (
        "s3-endpoint",
        "s3-access-key-id",
        "s3-secret-access-key",
        "s3-uri",
        "s3-region",
        "s3-no-check-bucket",
    ),
}
# names the transfer process sets itself, or that would let an environment variable run code
RESERVED_ENV = {"PATH", "HOME", "SHELL", "IFS", "ENV", "BASH_ENV", "TMPDIR", "SYNC"}
RESERVED_ENV_PREFIXES = ("FERMI_", "GIT_", "AWS_", "HF_", "HUGGINGFACE_", "PYTHON", "LD_", "SSL_")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
HF_REPO = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,95}(/[A-Za-z0-9][A-Za-z0-9_.\-]{0,95})?$")
BUCKET = re.compile(r"^[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]$")
GIT_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./\-]{0,254}$")


def _str(body: dict, key: str, *, required: bool = False, limit: int = 2048) -> str | None:
    value = body.get(key)
    if value is None or value == "":
        if required:
            raise SpecError(f"{key} is required", key)
        return None
    if not isinstance(value, str) or len(value) > limit or "\0" in value:
        raise SpecError(f"{key} must be a string of at most {limit} characters", key)
    return value.strip()


def _bool(body: dict, key: str) -> bool:
    value = body.get(key, False)
    if value in ("true", "false"):  # DataCube writes "true" as a string
        return value == "true"
    if not isinstance(value, bool):
        raise SpecError(f"{key} must be true or false", key)
    return value


def _credential(body: dict) -> str | None:
    name = _str(body, "credential", limit=128)
    if "token" in body or "secret_access_key" in body or "access_key_id" in body:
        raise SpecError(
            "secrets are never sent with a transfer: store them once with POST /credentials "
            'and name them here ("credential": "my-token")',
            "credential",
        )
    return name


# AWS's IPv6 instance metadata service (a unique-local address, not link-local)
_METADATA = {ipaddress.ip_address("fd00:ec2::254")}


def check_host(url: str, *, allow_loopback: bool) -> None:
    """Refuse addresses of this machine and of cloud metadata services: a transfer must not be
    a way to read the registry's own neighbours into a volume. A name is checked by what it
    resolves to now (a name can point at 127.0.0.1 or 169.254.169.254), as are numeric forms
    the tools accept (``127.1``, ``2130706433``); each attempt checks again when it starts."""
    host = (urlsplit(url).hostname or "").rstrip(".")  # "localhost." is localhost
    if not host:
        raise SpecError(f"{url!r} has no host name")
    if allow_loopback:
        return
    if host == "localhost" or host.endswith(".localhost"):
        raise SpecError(f"{host!r} is this machine; transfers reach remote services only")
    for ip in _addresses(host):
        if _internal(ip):
            shown = host if str(ip) == host.strip("[]") else f"{host} ({ip})"
            raise SpecError(
                f"{shown!r} is this machine or a cloud metadata service, not a remote service "
                "address"
            )


def _addresses(host: str) -> list[ipaddress.IPv4Address | ipaddress.IPv6Address]:
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        pass
    try:
        infos = socket.getaddrinfo(host, None, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError):  # not resolvable now: nothing to connect to either
        return []
    return [ipaddress.ip_address(str(info[4][0]).split("%")[0]) for info in infos]


def _internal(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast
    ) or ip in _METADATA


def remote_urls(spec: dict[str, Any]) -> list[str]:
    """The URLs a validated spec's tool will connect to (its Git URL, S3 or Hub endpoint)."""
    side = spec["source"] if spec["direction"] == "download" else spec["sink"]
    return [u for u in (side.get("url"), side.get("endpoint")) if u]


def _git(body: dict, *, allow_loopback: bool) -> dict[str, Any]:
    url = _str(body, "url", required=True)
    assert url is not None
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http", "git"):
        raise SpecError(
            "a Git URL starts with https://, http:// or git:// (local paths, file:// and "
            "ssh are refused)",
            "url",
        )
    userinfo = parts.netloc.rpartition("@")[0] if "@" in parts.netloc else ""
    if userinfo and TOKEN_PLACEHOLDER not in userinfo:
        raise SpecError(
            "put no password in the URL: store it as a credential and write "
            "https://$(TOKEN)@host/… (or https://user:$(TOKEN)@host/…)",
            "url",
        )
    if TOKEN_PLACEHOLDER in url.replace(userinfo, "", 1):
        raise SpecError("$(TOKEN) may only stand in the user part of the URL", "url")
    check_host(url, allow_loopback=allow_loopback)
    ref = _str(body, "ref", limit=255)
    if ref and (not GIT_REF.match(ref) or ".." in ref or ref.endswith((".lock", "/"))):
        raise SpecError(f"{ref!r} is not a branch, tag or commit name", "ref")
    name = repo_dir_name(url)
    return {"type": "git", "url": url, "ref": ref, "credential": _credential(body), "dir": name}


def repo_dir_name(url: str) -> str:
    """The folder a clone goes into, as ``git clone`` names it: the last URL segment."""
    path = urlsplit(url).path.rstrip("/")
    name = path.rsplit("/", 1)[-1]
    if name.endswith(".git"):
        name = name[:-4]
    if not name or name in (".", "..") or name.startswith("."):
        raise SpecError(f"cannot name a folder after {url!r}", "url")
    return name


def _patterns(body: dict, key: str) -> list[str] | None:
    value = body.get(key)
    if value in (None, "", []):
        return None
    if isinstance(value, str):  # the seed's comma-separated form
        value = [v.strip() for v in value.split(",") if v.strip()]
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(f"{key} is a list of file names or patterns", key)
    if len(value) > 1000:
        raise SpecError(f"{key} has more than 1000 entries", key)
    return value


def _huggingface(body: dict, *, allow_loopback: bool, upload: bool) -> dict[str, Any]:
    repo = _str(body, "repo", required=True, limit=200)
    if not HF_REPO.match(repo or ""):
        raise SpecError(f"{repo!r} is not a Hugging Face repository id (owner/name)", "repo")
    repo_type = body.get("repo_type", "model")
    if repo_type not in HF_REPO_TYPES:
        raise SpecError(f"repo_type is one of {', '.join(HF_REPO_TYPES)}", "repo_type")
    endpoint = _str(body, "endpoint")
    if endpoint:
        if urlsplit(endpoint).scheme not in ("https", "http"):
            raise SpecError("endpoint is an https:// URL of a Hub", "endpoint")
        check_host(endpoint, allow_loopback=allow_loopback)
    spec: dict[str, Any] = {
        "type": "huggingface",
        "repo": repo,
        "repo_type": repo_type,
        "revision": _str(body, "revision", limit=255),
        "endpoint": endpoint,
        "credential": _credential(body),
    }
    if upload:
        path_in_repo = _str(body, "path_in_repo", limit=1024) or ""
        if path_in_repo.startswith("/") or ".." in path_in_repo.split("/"):
            raise SpecError("path_in_repo is relative and has no '..'", "path_in_repo")
        spec["path_in_repo"] = path_in_repo.strip("/")
        spec["commit_message"] = _str(body, "commit_message", limit=500)
    else:
        spec["files"] = _patterns(body, "files")
    return spec


def parse_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not BUCKET.match(parts.netloc or ""):
        raise SpecError(f"{uri!r} is not an s3://bucket/prefix URI", "uri")
    return parts.netloc, parts.path.lstrip("/")


def _s3(body: dict, *, allow_loopback: bool, upload: bool) -> dict[str, Any]:
    uri = _str(body, "uri", required=True)
    assert uri is not None
    bucket, key = parse_s3_uri(uri)
    endpoint = _str(body, "endpoint")
    if endpoint:
        if urlsplit(endpoint).scheme not in ("https", "http"):
            raise SpecError(
                "endpoint is an http(s):// URL, e.g. https://s3.example.com", "endpoint"
            )
        check_host(endpoint, allow_loopback=allow_loopback)
    spec: dict[str, Any] = {
        "type": "s3",
        "uri": uri,
        "bucket": bucket,
        "key": key,
        "endpoint": endpoint,
        "region": _str(body, "region", limit=64),
        "credential": _credential(body),
    }
    if upload:
        spec["no_check_bucket"] = _bool(body, "no_check_bucket")
    return spec


def _local(body: dict, role: str) -> dict[str, Any]:
    kind = body.get("type")
    if kind == "volume":
        path = body.get("path", "")
        if not isinstance(path, str):
            raise SpecError(f"{role}.path is a path relative to the volume root", "path")
        spec: dict[str, Any] = {"type": "volume", "volume_id": body.get("volume_id"), "path": path}
        new = body.get("create_volume")
        if new is not None:
            if role != "sink" or not isinstance(new, dict):
                raise SpecError("create_volume is an object, and only for a download's sink")
            spec["create_volume"] = new
        elif not isinstance(spec["volume_id"], str) or not spec["volume_id"]:
            raise SpecError(f"{role}.volume_id is required (or create_volume)", "volume_id")
        return spec
    if kind == "dataset" and role == "source":
        version = _str(body, "version", required=True, limit=300)
        return {"type": "dataset", "version": version}
    allowed = "volume or dataset" if role == "source" else "volume"
    raise SpecError(f"a local {role} has type {allowed}", f"{role}.type")


def _policy(body: Any, tool: str, direction: str, remote: dict) -> dict[str, Any]:
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise SpecError("policy is an object", "policy")
    unknown = set(body) - {"backoff_limit", "active_deadline_seconds", "extra_args", "env", "sync"}
    if unknown:
        raise SpecError(f"unknown policy field(s): {', '.join(sorted(unknown))}", "policy")
    backoff = body.get("backoff_limit", 0)
    if isinstance(backoff, bool) or not isinstance(backoff, int) or not 0 <= backoff <= MAX_BACKOFF:
        raise SpecError(f"backoff_limit is a whole number from 0 to {MAX_BACKOFF}", "backoff_limit")
    deadline = body.get("active_deadline_seconds")
    if deadline is not None and (
        isinstance(deadline, bool)
        or not isinstance(deadline, int)
        or not 1 <= deadline <= MAX_DEADLINE
    ):
        raise SpecError(
            f"active_deadline_seconds is a whole number of seconds from 1 to {MAX_DEADLINE}",
            "active_deadline_seconds",
        )
    sync = _bool(body, "sync")
    if sync and not (direction == "download" and tool == "s3"):
        raise SpecError("sync is only for S3 downloads (as in DataCube)", "sync")
    extra = body.get("extra_args") or []
    if not isinstance(extra, list) or not all(isinstance(a, str) for a in extra):
        raise SpecError("extra_args is a list of strings", "extra_args")
    try:
        extra = arguments.check(tool, direction, extra)
    except ValueError as e:
        raise SpecError(str(e), "extra_args") from None
    env = body.get("env") or {}
    if isinstance(env, list):  # Kubernetes' [{"name": …, "value": …}] form
        try:
            env = {e["name"]: e["value"] for e in env}
        except (TypeError, KeyError):
            raise SpecError('env is {"NAME": "value"} or [{"name", "value"}]', "env") from None
    if not isinstance(env, dict) or len(env) > 50:
        raise SpecError('env is an object {"NAME": "value"} of at most 50 entries', "env")
    options = {n for names in OPTION_NAMES.values() for n in names} | {"sync"}
    for name, value in env.items():
        if not isinstance(name, str) or not ENV_NAME.match(name):
            raise SpecError(f"{name!r} is not an environment variable name", "env")
        if not isinstance(value, str) or len(value) > 4096:
            raise SpecError(f"the value of {name} is a string of at most 4096 characters", "env")
        if name.lower().replace("_", "-") in options:
            raise SpecError(
                f"environment variable {name} has the name of a transfer option; "
                "set the option instead",
                "env",
            )
        if name.upper() in RESERVED_ENV or name.upper().startswith(RESERVED_ENV_PREFIXES):
            raise SpecError(
                f"environment variable {name} is set by the transfer itself or could change "
                "what it runs; it cannot be given",
                "env",
            )
    return {
        "backoff_limit": backoff,
        "active_deadline_seconds": deadline,
        "extra_args": extra,
        "env": dict(env),
        "sync": sync,
    }


def validate(body: Any, *, allow_loopback: bool = False) -> dict[str, Any]:
    """A request body → the normalised spec, or :class:`SpecError` with a readable message."""
    if not isinstance(body, dict):
        raise SpecError("the request body is a JSON object with source and sink")
    unknown = set(body) - {"source", "sink", "policy", "dataset", "name"}
    if unknown:
        raise SpecError(f"unknown field(s): {', '.join(sorted(unknown))}")
    source, sink = body.get("source"), body.get("sink")
    if not isinstance(source, dict) or not isinstance(sink, dict):
        raise SpecError("source and sink are objects, each with a type")
    if source.get("type") in REMOTE_TYPES and sink.get("type") not in REMOTE_TYPES:
        direction, remote_body, local_body = "download", source, sink
    elif sink.get("type") in REMOTE_TYPES and source.get("type") not in REMOTE_TYPES:
        direction, remote_body, local_body = "upload", sink, source
    else:
        raise SpecError(
            "one side is git, huggingface or s3 and the other a volume (or, to upload, a "
            "dataset version)"
        )
    upload = direction == "upload"
    tool = remote_body["type"]
    if tool == "git":
        remote = _git(remote_body, allow_loopback=allow_loopback)
    elif tool == "huggingface":
        remote = _huggingface(remote_body, allow_loopback=allow_loopback, upload=upload)
    else:
        remote = _s3(remote_body, allow_loopback=allow_loopback, upload=upload)
    local = _local(local_body, "source" if upload else "sink")
    if upload and tool == "git" and local["type"] == "dataset":
        raise SpecError(
            "Git uploads push a repository from a volume path; restore the version into a "
            "volume and commit there first",
            "source",
        )
    spec: dict[str, Any] = {
        "direction": direction,
        "source": local if upload else remote,
        "sink": remote if upload else local,
        "policy": _policy(body.get("policy"), tool, direction, remote),
        "name": _str(body, "name", limit=128),
    }
    dataset = body.get("dataset")
    if dataset is not None:
        if upload:
            raise SpecError("dataset (import as a dataset) is only for downloads", "dataset")
        if not isinstance(dataset, dict) or not (dataset.get("name") or dataset.get("id")):
            raise SpecError(
                'dataset is {"name": "new-dataset"} or {"id": "ds-…"} (a new version of it)',
                "dataset",
            )
        spec["dataset"] = {
            k: dataset[k]
            for k in ("id", "name", "message", "description", "data_type", "visibility", "tags")
            if k in dataset
        }
    return spec


def remote_of(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["source"] if spec["direction"] == "download" else spec["sink"]


def local_of(spec: dict[str, Any]) -> dict[str, Any]:
    return spec["sink"] if spec["direction"] == "download" else spec["source"]


def describe(remote: dict[str, Any], revision: str | None = None) -> str:
    """``huggingface:owner/repo@sha`` — the provenance a version records (never a secret)."""
    if remote["type"] == "git":
        url = (
            remote["url"].replace(TOKEN_PLACEHOLDER + "@", "").replace(":" + TOKEN_PLACEHOLDER, "")
        )
        return f"git:{url}" + (f"@{revision}" if revision else "")
    if remote["type"] == "huggingface":
        kind = "" if remote["repo_type"] == "model" else remote["repo_type"] + "s/"
        return f"huggingface:{kind}{remote['repo']}" + (f"@{revision}" if revision else "")
    return remote["uri"] + (f"@{revision}" if revision else "")
