"""The transfers and credentials part of the extension's OpenAPI document (``openapi_build``)."""

from __future__ import annotations

from typing import Any


def transfer_paths() -> dict[str, Any]:
    from ..workspace.shapes import ref
    from .openapi_build import PAGING, op, path_param, query

    tid = path_param("transfer_id", "tr-… id")
    name = path_param("name", "Credential name")
    return {
        "/transfers": {
            "get": op(
                "Your transfers, newest first",
                (200, "TransferPage", "A page"),
                [
                    query("state", "Only this state", ref("TransferState")),
                    query("volume_id", "Only those reading or writing this volume"),
                    *PAGING,
                ],
            ),
            "post": op(
                "Start a download into a volume folder, an upload of a folder or dataset "
                "version, or an import as a dataset (runs as a registry job; follow it with "
                "`event: transfer`)",
                (202, "Transfer", "Accepted: pending"),
                body="TransferCreate",
                description="source and sink are checked against the schema their type names; "
                "what only the registry can judge (URL host and scheme, a credential of the "
                "right type, the extra-argument allow-list, reserved environment names) is "
                "refused by it with reason invalid-transfer or credential-type, and that message "
                "is passed on.",
            ),
        },
        "/transfers/{transfer_id}": {
            "get": op(
                "One transfer: state, conditions, attempts, progress, result",
                (200, "Transfer", "The transfer"),
                [tid],
            ),
            "delete": op(
                "Cancel a transfer (409 not-running once it has finished)",
                (202, "Transfer", "Cancelled"),
                [tid],
            ),
        },
        "/transfers/{transfer_id}/log": {
            "get": op(
                "The transfer's log from a byte offset, credentials redacted",
                (200, "TransferLog", "Text from offset to next_offset"),
                [tid, query("offset", "Byte offset (default 0)", {"type": "integer"})],
            )
        },
        "/credentials": {
            "get": op(
                "Your credentials: names, types and which fields are set — never a value",
                (200, "CredentialList", "All of yours"),
            ),
            "post": op(
                "Store a credential (encrypted by the registry; 409 exists when the name is "
                "taken: delete it first to replace it)",
                (201, "Credential", "Stored; the answer has no value"),
                body="CredentialCreate",
            ),
        },
        "/credentials/{name}": {
            "delete": op("Delete a credential", (204, None, "Deleted"), [name]),
        },
    }
