"""Confining user-supplied paths to their volume."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from .errors import PathRefused, StorageError

MAX_PATH = 4096  # bytes, PATH_MAX on Linux
MAX_NAME = 255  # bytes per component, NAME_MAX


def _inside(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _check_syntax(user_path: str) -> list[str]:
    """The path's components, or PathRefused for anything that is not a plain relative path."""
    if not isinstance(user_path, str):
        raise PathRefused("the path must be a string")
    if "\0" in user_path:
        raise PathRefused("the path contains a NUL byte")
    if "\\" in user_path:
        raise PathRefused("use '/' to separate folders, not '\\'")
    if len(user_path.encode("utf-8", "surrogateescape")) > MAX_PATH:
        raise PathRefused(f"the path is longer than {MAX_PATH} bytes")
    if user_path.startswith("/"):
        raise PathRefused(
            f"{user_path!r} is absolute: give a path relative to the volume root, "
            f"e.g. {user_path.lstrip('/') or '.'!r}"
        )
    parts = [p for p in user_path.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise PathRefused(f"{user_path!r} contains '..': paths must stay inside the volume")
    for p in parts:
        if len(p.encode("utf-8", "surrogateescape")) > MAX_NAME:
            raise PathRefused(f"a name in the path is longer than {MAX_NAME} bytes")
    return parts


def confine(
    base: Path,
    user_path: str,
    *,
    must_exist: bool = True,
    kind: Literal["dir", "file", "any"] = "any",
) -> Path:
    """Resolve ``user_path`` inside ``base`` and return its real path.

    ``""``, ``"."`` and ``"./"`` mean ``base`` itself. Refused with :class:`PathRefused`:
    absolute paths, any ``..`` component, NUL bytes, backslashes, over-long paths or names, and
    symlinks (or chains of them) that resolve outside ``base``; symlinks that stay inside are
    followed. Percent-decoding is the HTTP layer's job: ``%2e%2e`` here is just a name.

    Missing paths raise reason ``not-found`` when ``must_exist``; a wrong ``kind`` raises
    ``not-a-directory`` / ``not-a-file``. The check is about names, not a lock: callers that
    then walk or write use no-follow opens (see walk.py) so a symlink swapped in later is not
    followed either.
    """
    parts = _check_syntax(user_path)
    root = os.path.realpath(base)
    real = os.path.realpath(os.path.join(root, *parts))
    if not _inside(real, root):
        raise PathRefused(f"{user_path!r} leads outside the volume (through a symlink)")
    shown = user_path or "/"
    if not os.path.lexists(real):
        if must_exist:
            raise StorageError(f"{shown!r} does not exist in the volume", "not-found")
        return Path(real)
    if kind == "dir" and not os.path.isdir(real):
        raise StorageError(f"{shown!r} is not a directory", "not-a-directory")
    if kind == "file" and not os.path.isfile(real):
        raise StorageError(f"{shown!r} is not a file", "not-a-file")
    return Path(real)
