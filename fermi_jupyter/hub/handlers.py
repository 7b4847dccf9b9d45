"""The hub's own endpoints under ``{hub}/fermi/``: the spawn form's dataset picker, its
version list, the form's static files and the translation catalog.

Same origin as the form: the hub's login cookie identifies the user, and every registry call
is made as that user (a short-lived token scoped to the registry only), so the page stays
small however many datasets exist and shows only what the user may see. Errors are JSON
``{"message", "reason"}`` with the reasons of ``errors.py`` — never an HTML page.
"""

from __future__ import annotations

import json
import re
from http.client import responses
from typing import Any
from urllib.parse import quote

from jupyterhub.handlers import BaseHandler
from tornado import web

from .. import i18n
from ..spawner.form import STATIC
from ..spawner.hubapi import (
    RegistryAsUser,
    RegistryDown,
    RegistryFailed,
    RegistryRefused,
    TokenUnavailable,
)
from .errors import HubError

DEFAULT_LIMIT, MAX_LIMIT = 20, 100
CURSOR_RE = re.compile(r"^[A-Za-z0-9_\-=]{1,512}$")
MAX_QUERY = 200


class JSONHandler(BaseHandler):
    """Hub cookie auth, JSON out, ``{"message", "reason"}`` errors."""

    def set_default_headers(self) -> None:
        super().set_default_headers()
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.set_header("Cache-Control", "no-store")

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        exc = (kwargs.get("exc_info") or (None, None, None))[1]
        if isinstance(exc, HubError):
            message, reason = exc.fermi_message, exc.fermi_reason
        elif isinstance(exc, web.HTTPError) and status_code < 500:
            message = exc.log_message % exc.args if exc.log_message else responses[status_code]
            reason = "not-found" if status_code == 404 else "registry-refused"
        else:
            message, reason = "internal error in the hub's fermi endpoint", "internal-error"
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"message": message, "reason": reason}))

    def require_user(self) -> Any:
        user = self.current_user
        if user is None:
            raise HubError("not-authenticated", "log in to the hub first")
        self.forget_stopped_servers(user)
        return user

    def forget_stopped_servers(self, user: Any) -> None:
        """Drop the browser's login cookie of each stopped server of this user.

        The cookie holds an OAuth token the hub revoked when that server stopped; a new
        server would first try it, and the hub would log ``403 GET /hub/api/user`` on every
        spawn after a user's first. The spawn form calls these endpoints before a start, so
        the stale cookie is gone before the new server could try it.
        """
        if self.settings.get("subdomain_host"):
            return  # the cookie belongs to another host there
        for name in getattr(user, "orm_spawners", {}):
            spawner = user.spawners.get(name)
            if spawner is not None and (spawner.active or spawner.ready):
                continue
            client = f"jupyterhub-user-{quote(user.name)}" + (f"-{quote(name)}" if name else "")
            # (the browser sends that cookie only below the server's path, never here: clear
            # it blind — deleting a cookie that is not there does nothing)
            if self.settings.get("cookie_host_prefix_enabled"):
                self.clear_cookie("__Host-" + client, path="/", secure=True)
            else:
                self.clear_cookie(client, path=user.server_url(name))

    def registry(self) -> RegistryAsUser:
        return RegistryAsUser(self.settings["fermi_registry_url"], self.require_user())

    def page(self) -> tuple[int, str | None]:
        raw = self.get_argument("limit", str(DEFAULT_LIMIT))
        if not raw.isdigit() or not 1 <= int(raw) <= MAX_LIMIT:
            raise HubError("bad-limit", f"limit must be a whole number from 1 to {MAX_LIMIT}")
        cursor = self.get_argument("cursor", None)
        if cursor is not None and not CURSOR_RE.match(cursor):
            raise HubError("bad-cursor", "cursor is not one this endpoint handed out")
        return int(raw), cursor

    async def ask(self, path: str, **params: Any) -> Any:
        """GET from the registry as the user; its failures become listed reasons."""
        try:
            body = await self.registry().get(path, **params)
        except TokenUnavailable as e:
            raise HubError("token-unavailable", str(e)) from None
        except RegistryDown as e:
            raise HubError("registry-down", str(e)) from None
        except RegistryFailed as e:
            raise HubError("registry-failed", str(e)) from None
        except RegistryRefused as e:
            if params.get("cursor") and e.status == 400:
                raise HubError("bad-cursor", e.message) from None
            raise HubError("registry-refused", e.message, status=e.status) from None
        if body is None:
            raise HubError("not-found", "no such dataset, or not visible to you")
        return body


class DatasetSearchHandler(JSONHandler):
    """``GET {hub}/fermi/datasets?q=&limit=&cursor=``: datasets the user may see."""

    async def get(self) -> None:
        self.require_user()
        q = self.get_argument("q", "").strip()
        if len(q) > MAX_QUERY or any(ord(ch) < 32 or ord(ch) == 127 for ch in q):
            raise HubError("bad-query", f"q is at most {MAX_QUERY} printable characters")
        limit, cursor = self.page()
        body = await self.ask("/datasets", q=q or None, limit=limit, cursor=cursor)
        items = [
            {
                "id": d["id"],
                "name": d["name"],
                "owner": d["owner"],
                "ref": f"{d['owner']}/{d['name']}",
                "latest": d["latest"],
                "visibility": d["visibility"],
            }
            for d in body["items"]
        ]
        self.finish(json.dumps({"items": items, "next_cursor": body.get("next_cursor")}))


class VersionListHandler(JSONHandler):
    """``GET {hub}/fermi/datasets/<ds-id>/versions``: ready versions, for the version picker."""

    async def get(self, dataset_id: str) -> None:
        self.require_user()
        limit, cursor = self.page()
        body = await self.ask(
            f"/datasets/{quote(dataset_id, safe='')}/versions",
            status="ready",
            limit=limit if "limit" in self.request.arguments else MAX_LIMIT,
            cursor=cursor,
        )
        items = [
            {
                "number": v["number"],
                "aliases": v["aliases"],
                "files": v["files"],
                "bytes": v["bytes"],
            }
            for v in body["items"]
        ]
        self.finish(json.dumps({"items": items, "next_cursor": body.get("next_cursor")}))


class LocaleHandler(JSONHandler):
    """``GET {hub}/fermi/locale/<lang>.json``: the catalog the form's script translates with."""

    async def get(self, lang: str) -> None:
        path = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / f"{i18n.DOMAIN}.json"
        if lang not in i18n.LANGUAGES or not path.is_file():
            raise HubError("not-found", f"no catalog for {lang}")
        self.set_header("Cache-Control", "public, max-age=300")
        self.finish(path.read_bytes())


class StaticHandler(web.StaticFileHandler):
    """The form's script and style; a missing file is a JSON 404 like everything here."""

    def write_error(self, status_code: int, **kwargs: Any) -> None:
        reason = "not-found" if status_code == 404 else "internal-error"
        self.set_header("Content-Type", "application/json; charset=utf-8")
        self.finish(json.dumps({"message": responses.get(status_code, "error"), "reason": reason}))


class NotFoundHandler(JSONHandler):
    """Anything else under ``{hub}/fermi/``: a JSON 404, not the hub's HTML page."""

    def prepare(self) -> None:  # type: ignore[override]  # no login needed to learn it is not there
        raise HubError("not-found", f"no endpoint {self.request.path}")


def handlers() -> list[tuple[Any, ...]]:
    """Routes relative to the hub's prefix (``c.JupyterHub.extra_handlers``)."""
    return [
        (r"/fermi/datasets", DatasetSearchHandler),
        (r"/fermi/datasets/(ds-[a-z0-9]{4,32})/versions", VersionListHandler),
        (r"/fermi/locale/([A-Za-z_]{2,8})\.json", LocaleHandler),
        (r"/fermi/static/(.*)", StaticHandler, {"path": str(STATIC)}),
        (r"/fermi(?:/.*)?", NotFoundHandler),
    ]
