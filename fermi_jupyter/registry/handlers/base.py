"""Base handler: identity from JupyterHub, JSON in and out, errors as ``{"message", "reason"}``."""

from __future__ import annotations

import json
import time
from http.client import responses
from typing import Any

from jupyterhub.services.auth import HubOAuthenticated, UserNotAllowed
from sqlalchemy.orm import Session
from tornado import web

from ...domain.identity import Identity
from .. import metrics, storage
from ..context import RegistryContext
from ..errors import RegistryError
from ..pagination import parse_limit

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

    @property
    def db(self) -> Session:
        if not hasattr(self, "_db"):
            self._db = self.ctx.sessions()
        return self._db

    def set_default_headers(self) -> None:
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    async def prepare(self) -> None:
        self._t0 = time.monotonic()
        if self.public:
            return
        model = await self.hub_auth.get_user(self, sync=False)
        if model and not self.allow_all:
            try:
                model = self.check_hub_user(model)
            except UserNotAllowed:
                raise RegistryError(
                    f"{model['name']} may not use this registry (missing access scope)",
                    reason="forbidden",
                    status=403,
                ) from None
        if not model:
            raise RegistryError(
                "log in through JupyterHub or send 'Authorization: token <hub token>'",
                reason="unauthorized",
                status=401,
            )
        self._hub_auth_user_cache = model
        self.identity = await self.ctx.identities.resolve(model)

    def check_xsrf_cookie(self) -> None:
        # token requests skip it; cookie requests are checked by HubOAuth
        if not self.public:
            super().check_xsrf_cookie()

    # -- JSON helpers -------------------------------------------------------------------------
    def json_body(self) -> dict[str, Any]:
        if not self.request.body:
            return {}
        try:
            body = json.loads(self.request.body)
        except (ValueError, UnicodeDecodeError):
            raise RegistryError(
                "the request body is not valid JSON", reason="invalid-json"
            ) from None
        if not isinstance(body, dict):
            raise RegistryError("the request body must be a JSON object", reason="invalid-json")
        return body

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(obj, ensure_ascii=False, default=str))

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
        else:
            super()._handle_request_exception(e)

    def _json_error(self, status: int, reason: str, message: str) -> None:
        if self._finished:
            return
        self._rollback()
        self.clear()
        self.set_default_headers()
        self.set_status(status)
        self.finish(json.dumps({"error": reason, "reason": reason, "message": message}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        self._rollback()
        message = responses.get(status_code, "Unknown error")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        elif status_code >= 500:
            message = "the registry hit an internal error; it is logged for the admins"
        reason = (responses.get(status_code) or "error").lower().replace(" ", "-")
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"error": reason, "reason": reason, "message": message}))

    def _rollback(self) -> None:
        if hasattr(self, "_db"):
            self._db.rollback()

    def on_finish(self) -> None:
        if hasattr(self, "_db"):
            self._db.close()
        if hasattr(self, "_t0"):
            metrics.REQUESTS.labels(
                type(self).__name__, self.request.method, str(self.get_status())
            ).observe(time.monotonic() - self._t0)
