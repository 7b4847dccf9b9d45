"""The few Kubernetes API calls a transfer Job needs, through ``kubernetes_asyncio`` (what
KubeSpawner already brings), as plain dicts.

Each registry transfer opens its own client, configured from :class:`KubeSettings` (a kubeconfig
file, else the pod's service account, else the default kubeconfig) — never the process-wide
default, which KubeSpawner may own. Every call has a timeout: an API server that accepts
connections and never answers fails the call, it never holds a transfer forever.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from ...transfers.kube import CONTAINER, PodUser

# where a pod's service account says its namespace
NAMESPACE_FILE = "/var/run/secrets/kubernetes.io/serviceaccount/namespace"


@dataclass(frozen=True)
class KubeSettings:
    """How the registry runs transfers as Jobs (``RegistryApp.transfer_kube_*``)."""

    namespace: str
    image: str
    storage_pvc: str = "fermi-storage"
    service_account: str | None = None
    resources: dict[str, Any] | None = None
    ttl_seconds_after_finished: int = 3600
    pod_user: PodUser = field(default_factory=PodUser)
    config_file: str = ""
    poll_interval: float = 2.0
    request_timeout: float = 30.0
    start_timeout: float = 600.0
    api_grace: float = 60.0


class KubeError(Exception):
    """A call that failed: ``reason`` is ``kubernetes-unavailable`` (no answer), or
    ``kubernetes-refused`` (an answer saying no), ``status`` the HTTP status when there was one."""

    def __init__(self, message: str, reason: str, status: int | None = None):
        super().__init__(message)
        self.message, self.reason, self.status = message, reason, status


def default_namespace() -> str:
    try:
        with open(NAMESPACE_FILE, encoding="utf-8") as f:
            return f.read().strip() or "default"
    except OSError:
        return "default"


class Cluster:
    """One namespace of one API server; use as ``async with Cluster(settings) as k8s``."""

    def __init__(self, settings: KubeSettings):
        self.settings = settings
        self.ns = settings.namespace
        self.host = "the Kubernetes API"
        self._api: Any = None

    async def __aenter__(self) -> Cluster:
        from kubernetes_asyncio import client, config

        conf = client.Configuration()
        try:
            if self.settings.config_file:
                await config.load_kube_config(
                    config_file=self.settings.config_file,
                    client_configuration=conf,
                    persist_config=False,
                )
            else:
                try:
                    config.load_incluster_config(client_configuration=conf)
                except config.ConfigException:
                    await config.load_kube_config(client_configuration=conf, persist_config=False)
        except (config.ConfigException, OSError, ValueError) as e:
            raise KubeError(
                f"no usable Kubernetes configuration for transfer Jobs: {e}",
                "kubernetes-unavailable",
            ) from None
        self.host = conf.host
        self._api = client.ApiClient(configuration=conf)
        self.batch = client.BatchV1Api(self._api)
        self.core = client.CoreV1Api(self._api)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._api is not None:
            await self._api.close()

    # -- calls ---------------------------------------------------------------------------
    async def _call(self, what: str, coro: Any, *, missing_ok: bool = False) -> Any:
        """Await one API call; its answer as a dict (None: 404 and ``missing_ok``)."""
        import aiohttp
        from kubernetes_asyncio.client.exceptions import ApiException

        try:
            answer = await coro
        except ApiException as e:
            if e.status == 404 and missing_ok:
                return None
            raise KubeError(
                f"Kubernetes refused to {what} ({e.status} {e.reason}): {_status_message(e)}",
                "kubernetes-refused",
                e.status,
            ) from None
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            said = str(e) or type(e).__name__
            raise KubeError(
                f"could not {what}: the Kubernetes API at {self.host} did not answer ({said})",
                "kubernetes-unavailable",
            ) from None
        return self._api.sanitize_for_serialization(answer)

    @property
    def _timeout(self) -> float:
        return self.settings.request_timeout

    async def read_job(self, name: str) -> dict[str, Any] | None:
        call = self.batch.read_namespaced_job(name, self.ns, _request_timeout=self._timeout)
        return await self._call(f"read Job {name}", call, missing_ok=True)

    async def create_job(self, manifest: dict[str, Any]) -> dict[str, Any]:
        call = self.batch.create_namespaced_job(self.ns, manifest, _request_timeout=self._timeout)
        return await self._call("create the transfer's Job", call)

    async def delete_job(self, name: str) -> None:
        call = self.batch.delete_namespaced_job(
            name, self.ns, propagation_policy="Background", _request_timeout=self._timeout
        )
        await self._call(f"delete Job {name}", call, missing_ok=True)

    async def create_secret(self, manifest: dict[str, Any]) -> dict[str, Any] | None:
        """Create, or leave alone one that exists (a registry that resumes a transfer)."""
        call = self.core.create_namespaced_secret(self.ns, manifest, _request_timeout=self._timeout)
        try:
            return await self._call("create the transfer's credential Secret", call)
        except KubeError as e:
            if e.status == 409:
                return None
            raise

    async def delete_secret(self, name: str) -> None:
        call = self.core.delete_namespaced_secret(name, self.ns, _request_timeout=self._timeout)
        await self._call(f"delete Secret {name}", call, missing_ok=True)

    async def list_pods(self, selector: str) -> list[dict[str, Any]]:
        call = self.core.list_namespaced_pod(
            self.ns, label_selector=selector, _request_timeout=self._timeout
        )
        answer = await self._call("list the transfer's pods", call)
        return list(answer.get("items") or [])

    async def follow_log(self, pod: str) -> AsyncIterator[str]:
        """The pod's log, line by line, until its container ends or the stream breaks."""
        import aiohttp

        timeout = aiohttp.ClientTimeout(
            total=None, connect=self._timeout, sock_connect=self._timeout, sock_read=None
        )
        call = self.core.read_namespaced_pod_log(
            pod, self.ns, container=CONTAINER, follow=True,
            _preload_content=False, _request_timeout=timeout,
        )  # fmt: skip
        try:
            resp = await call
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as e:
            message = f"could not read the log of pod {pod}: {e}"
            raise KubeError(message, "kubernetes-unavailable") from None
        try:
            if resp.status != 200:
                body = (await resp.read()).decode(errors="replace")
                raise KubeError(
                    f"could not read the log of pod {pod} ({resp.status}): {_message_of(body)}",
                    "kubernetes-refused",
                    resp.status,
                )
            buffer = b""
            async for chunk in resp.content.iter_any():
                buffer += chunk
                *lines, buffer = buffer.split(b"\n")
                for line in lines:
                    yield line.decode(errors="replace")
            if buffer:
                yield buffer.decode(errors="replace")
        except (aiohttp.ClientError, asyncio.TimeoutError) as e:
            message = f"the log of pod {pod} broke off: {e}"
            raise KubeError(message, "kubernetes-unavailable") from None
        finally:
            resp.release()


def _message_of(body: str) -> str:
    try:
        data = json.loads(body)
    except ValueError:
        return body.strip()[:300]
    return (
        str(data.get("message") or data.get("reason") or "")[:300] if isinstance(data, dict) else ""
    )


def _status_message(e: Any) -> str:
    """The ``message`` of a Kubernetes ``Status`` answer (e.g. RBAC's "jobs.batch is
    forbidden: …"), never the request it answers."""
    body = e.body.decode(errors="replace") if isinstance(e.body, bytes) else str(e.body or "")
    return _message_of(body) or str(e.reason)
