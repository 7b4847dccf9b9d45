"""What an engine gets: the spec, where the local side is, the secrets and the reporter."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..registry.storage.paths import confine
from . import arguments
from .errors import TransferError
from .report import Reporter
from .spec import local_of, remote_of

# secrets reach the process as environment variables, never as arguments
SECRET_ENV = {
    "token": "FERMI_SECRET_TOKEN",
    "access_key_id": "FERMI_SECRET_ACCESS_KEY_ID",
    "secret_access_key": "FERMI_SECRET_SECRET_ACCESS_KEY",
    "username": "FERMI_SECRET_USERNAME",
}

# the machine's certificate authorities, proxies and Hub mirror reach the tools (set by the
# admin, for the registry process or the Job's image)
PASSTHROUGH = (
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "REQUESTS_CA_BUNDLE",
    "CURL_CA_BUNDLE",
    "GIT_SSL_CAINFO",
    "AWS_CA_BUNDLE",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "HF_ENDPOINT",
)


def passthrough_env(env: dict[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    return {k: env[k] for k in PASSTHROUGH if env.get(k)}


def secrets_from_env(env: dict[str, str] | None = None) -> dict[str, str]:
    env = os.environ if env is None else env
    return {k: env[v] for k, v in SECRET_ENV.items() if env.get(v)}


@dataclass
class Context:
    spec: dict[str, Any]
    secrets: dict[str, str]
    report: Reporter
    tag: str
    workdir: Path  # private scratch (askpass script, caches), removed after the attempt
    warnings: list[str] = field(default_factory=list)

    @property
    def remote(self) -> dict[str, Any]:
        return remote_of(self.spec)

    @property
    def local(self) -> dict[str, Any]:
        return local_of(self.spec)

    @property
    def options(self) -> dict[str, list[str]]:
        return arguments.options(self.spec["policy"]["extra_args"])

    def option(self, name: str, default: str | None = None) -> str | None:
        values = self.options.get(name)
        return values[-1] if values else default

    @property
    def root(self) -> Path:
        """The volume root (or a dataset version's folder), as the registry or the Job mounts it."""
        return Path(self.spec["local_root"])

    def local_path(self, *, must_exist: bool) -> Path:
        try:
            return confine(self.root, self.local.get("path", ""), must_exist=must_exist)
        except Exception as e:  # PathRefused / not found: readable, and not worth a retry
            raise TransferError(str(e), "not-found" if must_exist else "invalid") from None

    def warn(self, message: str) -> None:
        self.warnings.append(message)
        self.report.log("warning: " + message)
