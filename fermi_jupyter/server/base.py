"""``FermiHandler``: what every handler of ``{base_url}api/fermi/`` shares — the manager, the
body, and every error as ``{"message", "reason"}`` with a reason of ``workspace.reasons.Reason``.
"""

from __future__ import annotations

import json
from http.client import responses
from typing import TYPE_CHECKING, Any

from jupyter_server.base.handlers import APIHandler
from tornado import web

from ..client import FermiError
from ..workspace.errors import WorkspaceError
from ..workspace.manager import WorkspaceManager
from ..workspace.reasons import GENERIC_BY_STATUS, Reason, coerce

if TYPE_CHECKING:
    from .app import FermiExtension

AUTH_RESOURCE = "fermi"


class FermiHandler(APIHandler):
    auth_resource = AUTH_RESOURCE

    @property
    def ext(self) -> FermiExtension:
        return self.settings["fermi"]

    @property
    def manager(self) -> WorkspaceManager:
        return self.ext.manager

    def arg(self, name: str) -> str | None:
        value = self.get_argument(name, None)
        return value if value not in (None, "") else None

    def body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except (ValueError, UnicodeDecodeError):
            raise WorkspaceError(
                "the request body is not valid JSON", Reason.invalid_json
            ) from None
        if not isinstance(body, dict):
            raise WorkspaceError("the request body must be a JSON object", Reason.invalid_json)
        return body

    def write_json(self, obj: Any, status: int = 200) -> None:
        self.set_status(status)
        self.finish(json.dumps(obj, ensure_ascii=False, default=str))

    def no_content(self) -> None:
        self.set_status(204)
        self.finish()

    def _handle_request_exception(self, e: BaseException) -> None:
        if isinstance(e, FermiError) and not self._finished:
            status = e.status if e.status and 400 <= e.status < 600 else 400
            if status >= 500 and not isinstance(e, WorkspaceError):
                status = 502  # the registry failed: not this server's fault, nor the user's
            self._error(status, coerce(e.reason, status), str(e))
            return
        super()._handle_request_exception(e)

    def _error(self, status: int, reason: Reason, message: str) -> None:
        self.clear()
        self.set_status(status)
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "reason": reason.value}))

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        """Tornado's errors (401/403 from the auth decorators, 405, …) in our one shape."""
        message = responses.get(status_code, "error")
        exc = kwargs.get("exc_info", (None, None, None))[1]
        if isinstance(exc, web.HTTPError) and exc.log_message:
            message = exc.log_message % exc.args if exc.args else exc.log_message
        elif status_code >= 500:
            message = "the server extension hit an internal error; it is in the server's log"
        reason = GENERIC_BY_STATUS.get(status_code, Reason.bad_request)
        if status_code == 403 and message == "Forbidden":
            message = "log in (a Jupyter token or session) to use this server's fermi API"
        elif status_code == 405:
            message = f"this URL does not answer {self.request.method} (see api/fermi/openapi.json)"
        self.set_header("Content-Type", "application/json")
        self.finish(json.dumps({"message": message, "reason": reason.value}))
