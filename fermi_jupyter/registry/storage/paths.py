"""Confining user-supplied paths to their volume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from .errors import PathRefused, StorageError

MAX_PATH = 4096


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def confine(
    base: Path,
    user_path: str,
    *,
    must_exist: bool = True,
    kind: Literal["dir", "file", "any"] = "any",
) -> Path:
    """Resolve ``user_path`` inside ``base`` and return the real path.

    ``""``, ``"."`` and ``"./"`` mean ``base`` itself. Refused: absolute paths, any ``..``
    component, NUL bytes, backslashes, and symlinks that resolve outside ``base`` (symlinks that
    stay inside are followed). Percent-decoding is the HTTP layer's job: ``%2e%2e`` is a name.
    """
    if not isinstance(user_path, str):
        raise PathRefused("the path must be a string")
    if "\0" in user_path:
        raise PathRefused("the path contains a NUL byte")
    if "\\" in user_path:
        raise PathRefused("use '/' to separate folders, not '\\'")
    if len(user_path) > MAX_PATH:
        raise PathRefused(f"the path is longer than {MAX_PATH} characters")
    if user_path.startswith("/"):
        raise PathRefused(
            f"{user_path!r} is absolute: give a path relative to the volume root, "
            f"e.g. {user_path.lstrip('/') or '.'!r}"
        )
    parts = [p for p in user_path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise PathRefused(f"{user_path!r} contains '..': paths must stay inside the volume")
    root = os.path.realpath(base)
    real = os.path.realpath(os.path.join(root, *parts))
    if not _inside(real, root):
        raise PathRefused(f"{user_path!r} leads outside the volume (through a symlink)")
    if not os.path.lexists(real):
        if must_exist:
            raise StorageError(f"{user_path or '/'!r} does not exist in the volume", "not-found")
        return Path(real)
    if kind == "dir" and not os.path.isdir(real):
        raise StorageError(f"{user_path!r} is not a directory", "not-a-directory")
    if kind == "file" and not os.path.isfile(real):
        raise StorageError(f"{user_path!r} is not a file", "not-a-file")
    return Path(real)
