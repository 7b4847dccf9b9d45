"""Thin handlers for transfers and credentials under ``{base_url}api/fermi/`` (the sidebar's
"Import data…" / "Export…" forms and its Transfers section)."""

from __future__ import annotations

from jupyter_server.auth.decorator import authorized
from tornado import web

from .base import FermiHandler


class TransfersHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        m = self.manager
        page = await m.transfers(
            self.arg("state"), self.arg("volume_id"), self.arg("limit"), self.arg("cursor")
        )
        self.write_json(page)

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.write_json(await self.manager.create_transfer(self.body()), status=202)


class TransferHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, transfer_id: str) -> None:
        self.write_json(await self.manager.transfer(transfer_id))

    @web.authenticated
    @authorized
    async def delete(self, transfer_id: str) -> None:
        """Cancel: the registry kills the attempt and removes its staging folder."""
        self.write_json(await self.manager.cancel_transfer(transfer_id), status=202)


class TransferLogHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self, transfer_id: str) -> None:
        self.write_json(await self.manager.transfer_log(transfer_id, self.arg("offset")))


class CredentialsHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def get(self) -> None:
        self.write_json(await self.manager.credentials())

    @web.authenticated
    @authorized
    async def post(self) -> None:
        self.write_json(await self.manager.create_credential(self.body()), status=201)


class CredentialHandler(FermiHandler):
    @web.authenticated
    @authorized
    async def delete(self, name: str) -> None:
        await self.manager.delete_credential(name)
        self.no_content()


TRANSFER = r"transfers/(?P<transfer_id>[^/]+)"
TRANSFER_ROUTES = [
    ("transfers", TransfersHandler),
    (TRANSFER, TransferHandler),
    (rf"{TRANSFER}/log", TransferLogHandler),
    ("credentials", CredentialsHandler),
    (r"credentials/(?P<name>[^/]+)", CredentialHandler),
]
