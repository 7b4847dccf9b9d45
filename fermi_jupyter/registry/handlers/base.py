"""Base handler: identity from JupyterHub, JSON in and out, errors as ``{"message", "reason"}``.

Handlers never touch the database on the event loop: ``await self.call(fn)`` runs ``fn(db)``
on the registry's bounded session pool (``sessionpool.py``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from http.client import responses
from typing import Any, TypeVar

import orjson
from jupyterhub.services.auth import HubOAuthenticated, UserNotAllowed
from sqlalchemy.exc import DataError, OperationalError
from sqlalchemy.orm import Session
from tornado import web

from ...domain.identity import Identity
from .. import bodies, metrics, storage
from ..context import RegistryContext
from ..errors import BY_STATUS, BadRequest, Forbidden, Reason, RegistryError, Unauthorized
from ..pagination import parse_limit

log = logging.getLogger(__name__)
T = TypeVar("T")

STORAGE_STATUS = {
    "path-refused": 400,
    "not-a-directory": 400,
    "not-a-file": 400,
    "not-found": 404,
    "exists": 409,
}


class BaseHandler(HubOAuthenticated, web.RequestHandler):
    """Every API handler. ``self.identity`` is set in ``prepare`` or the request ends in 401."""

    identity: Identity
    public = False  # handlers that need no identity (openapi, health)

    @property
    def ctx(self) -> RegistryContext:
        return self.settings["fermi"]

    @property
    def hub_auth(self):  # type: ignore[no-untyped-def,override]
        return self.ctx.hub_auth

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        # revalidate every time: an unchanged page costs a 304 (tornado's ETag on GETs)
        self.set_header("Cache-Control", "private, no-cache")

    async def prepare(self) -> None:
        self._t0 = time.monotonic()
        self._check_nul()
        if self.public:
            return
        model = await self.hub_auth.get_user(self, sync=False)
        if model and not self.allow_all:
            try:
                model = self.check_hub_user(model)
            except UserNotAllowed:
                raise Forbidden(
                    f"{model['name']} may not use this registry (missing access scope)"
                ) from None
        if not model:
            raise Unauthorized(
                "log in through JupyterHub or send 'Authorization: token <hub token>'"
            )
        self._hub_auth_user_cache = model
        self.identity = await self.ctx.identities.resolve(model)

    def _check_nul(self) -> None:
        # no database stores NUL in text; refuse it at the edge instead of failing deep inside
        values = [*self.path_kwargs.values(), *self.path_args]
        for vs in self.request.query_arguments.values():
            values += vs
        if any("\x00" in v if isinstance(v, str) else b"\x00" in v for v in values):
            raise BadRequest("the URL may not contain NUL characters", reason=Reason.invalid_query)

    def check_xsrf_cookie(self) -> None:
        # token requests skip it; cookie requests are checked by HubOAuth
        if not self.public:
            super().check_xsrf_cookie()

    # -- database ---------------------------------------------------------------------------
    async def call(self, fn: Callable[[Session], T]) -> T:
        """``fn(db)`` on the session pool; reads (GET) run in autocommit mode and survive one
        dropped connection."""
        return await self.ctx.pool.run(fn, read_only=self.request.method == "GET")

    # -- JSON helpers -------------------------------------------------------------------------
    def body(self, schema: str) -> dict[str, Any]:
        """The request body, checked against ``components.schemas[schema]``."""
        return bodies.parse(self.request.body, schema)

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(orjson.dumps(obj, default=str))

    def page_args(self) -> tuple[int, str | None]:
        return parse_limit(self.get_argument("limit", None)), self.get_argument("cursor", None)

    def arg(self, name: str) -> str | None:
        value = self.get_argument(name, None)
        return value.strip() if value and value.strip() else None

    # -- errors -----------------------------------------------------------------------------
    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, RegistryError):
            self._json_error(e.status, e.reason, e.message)
        elif isinstance(e, storage.StorageError):
            reason = getattr(e, "reason", "storage")
            self._json_error(STORAGE_STATUS.get(reason, 400), reason, str(e))
        elif isinstance(e, DataError):
            # a value the schema let through but the database cannot hold: a gap in the schema
            log.warning("database refused a value: %s", e.orig)
            self._json_error(400, Reason.invalid_body, "a value is out of range for the registry")
        elif isinstance(e, OperationalError):
            log.error("database unavailable: %s", e.orig)
            self._json_error(503, Reason.unavailable, "the registry's database is not answering")
        else:
            super()._handle_request_exception(e)

    def _json_error(self, status: int, reason: str, message: str) -> None:
        if self._finished:
            return
        self.clear()
        self.set_default_headers()
        self.set_status(status)
        self.finish(
            orjson.dumps({"message": message, "reason": str(getattr(reason, "value", reason))})
        )

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        message = responses.get(status_code, "Unknown error")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        elif status_code >= 500:
            message = "the registry hit an internal error; it is logged for the admins"
        reason = BY_STATUS.get(status_code, Reason.internal_error if status_code >= 500 else None)
        reason = reason or Reason.bad_request
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(orjson.dumps({"message": message, "reason": reason.value}))

    def on_finish(self) -> None:
        if hasattr(self, "_t0"):
            metrics.REQUESTS.labels(
                type(self).__name__, self.request.method, str(self.get_status())
            ).observe(time.monotonic() - self._t0)


class NotFoundHandler(BaseHandler):
    """Any URL the API does not serve: a JSON 404, never tornado's HTML page."""

    public = True

    def prepare(self) -> None:  # type: ignore[override]
        raise RegistryError(
            f"no such endpoint: {self.request.path}", reason=Reason.not_found, status=404
        )
