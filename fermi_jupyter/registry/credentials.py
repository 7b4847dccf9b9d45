"""Per-user named credentials, encrypted at rest with the registry's key (Fernet).

The API creates, lists (names, types and which fields are set) and deletes them; no answer ever
holds a value. Values are decrypted only when a transfer attempt starts, for that attempt's
process environment (or, on Kubernetes, a Secret the Job references).
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..domain.identity import Identity
from . import audit
from .errors import BadRequest, Conflict, NotFound, Reason
from .transfers.models import Credential

TYPES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # type: (required fields, optional fields)
    "git": (("token",), ("username",)),
    "huggingface": (("token",), ()),
    "s3": (("access_key_id", "secret_access_key"), ()),
}
NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]{0,127}$")


class Vault:
    """Encrypts with the first key, decrypts with any (so keys can be rotated)."""

    def __init__(self, keys: list[str]):
        if not keys:
            raise ValueError("no credentials key")
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    @classmethod
    def from_config(cls, keys: str, key_file: Path) -> Vault:
        """``keys``: comma-separated Fernet keys from the configuration. Without any, a key is
        kept in ``key_file`` (created, mode 600, on first start)."""
        listed = [k.strip() for k in keys.split(",") if k.strip()]
        if not listed:
            if not key_file.exists():
                key_file.parent.mkdir(parents=True, exist_ok=True)
                fd = os.open(key_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(fd, "w") as f:
                    f.write(Fernet.generate_key().decode())
            listed = [key_file.read_text().strip()]
        return cls(listed)

    def seal(self, values: dict[str, str]) -> str:
        return self._fernet.encrypt(json.dumps(values).encode()).decode()

    def open(self, token: str) -> dict[str, str]:
        try:
            return json.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken:
            raise BadRequest(
                "a stored credential cannot be decrypted with the registry's key (was the key "
                "changed?); delete it and store it again",
                reason="credential-unreadable",
            ) from None


def credential_json(c: Credential) -> dict[str, Any]:
    from .serialize import iso

    return {
        "name": c.name,
        "type": c.type,
        "fields": list(c.fields or []),
        "created_at": iso(c.created_at),
    }


def create(db: Session, vault: Vault, who: Identity, body: dict) -> Credential:
    name, kind = body.get("name"), body.get("type")
    if not isinstance(name, str) or not NAME.match(name):
        raise BadRequest(
            "name: letters, digits, '.', '_' or '-', at most 128, e.g. hf-token",
            reason=Reason.invalid_name,
        )
    if not isinstance(kind, str) or kind not in TYPES:  # (a dict is unhashable: checked first)
        raise BadRequest(f"type is one of {', '.join(TYPES)}", reason=Reason.invalid_type)
    required, optional = TYPES[kind]
    unknown = set(body) - {"name", "type", *required, *optional}
    if unknown:
        # never echo values back: name the fields only
        raise BadRequest(
            f"a {kind} credential has {', '.join(required + optional)}; unknown: "
            + ", ".join(sorted(unknown)),
            reason=Reason.invalid_field,
        )
    values: dict[str, str] = {}
    for field in required + optional:
        value = body.get(field)
        if value is None and field in optional:
            continue
        if not isinstance(value, str) or not value or len(value) > 8192 or "\n" in value:
            raise BadRequest(f"{field} is required: one line of text", reason=Reason.invalid_field)
        values[field] = value
    cred = Credential(
        owner=who.name, name=name, type=kind, ciphertext=vault.seal(values), fields=sorted(values)
    )
    db.add(cred)
    audit.record(db, who, "credential.create", f"credential:{who.name}/{name}", type=kind)
    try:
        db.commit()
    except IntegrityError:
        db.rollback()
        raise Conflict(
            f"you already have a credential named {name!r}; delete it first to replace it",
            reason="exists",
        ) from None
    return cred


def list_(db: Session, who: Identity) -> list[Credential]:
    """Only the caller's own: an admin does not see other users' credential names either."""
    return list(
        db.scalars(select(Credential).where(Credential.owner == who.name).order_by(Credential.name))
    )


def get(db: Session, who: Identity, name: str) -> Credential:
    cred = db.scalars(
        select(Credential).where(Credential.owner == who.name, Credential.name == name)
    ).first()
    if cred is None:
        raise NotFound(f"you have no credential named {name!r}", reason="credential-not-found")
    return cred


def delete(db: Session, who: Identity, name: str) -> None:
    cred = get(db, who, name)
    db.delete(cred)
    audit.record(db, who, "credential.delete", f"credential:{who.name}/{name}")
    db.commit()


def values_for(db: Session, vault: Vault, owner: str, credential_id: int | None) -> dict[str, str]:
    """The decrypted values for a transfer of ``owner``; another user's credential is never used."""
    if credential_id is None:
        return {}
    cred = db.get(Credential, credential_id)
    if cred is None or cred.owner != owner:
        raise BadRequest("the transfer's credential was deleted", reason="credential-not-found")
    return vault.open(cred.ciphertext)
