"""Extra arguments for the underlying tool: an allow-list per tool and direction.

Allowed: options that tune *how* data moves (depth, patterns, concurrency, sizes). Refused:
any option that changes *where* data is written (``--cache-dir``, ``--local-dir``,
``--separate-git-dir``), runs code (``--upload-pack``, ``-c``, ``--template``) or reaches other
repositories (``--recurse-submodules``, ``--reference``). The names follow the tools DataCube
documents (``git clone|fetch|push``, ``huggingface-cli download|upload``, ``rclone copy``), so a
DataCube ``extraArgs`` list carries over.
"""

from __future__ import annotations

import re

INT = "int"
SIZE = "size"
TEXT = "text"
FLAG = None

_SIZE = re.compile(r"^\d+(\.\d+)?([KMGT]i?)?B?$", re.IGNORECASE)
_TEXT = re.compile(r"^[^\0\n]{1,512}$")

ALLOWED: dict[tuple[str, str], dict[str, str | None]] = {
    ("git", "download"): {
        "--depth": INT,
        "--shallow-since": TEXT,
        "--shallow-exclude": TEXT,
        "--single-branch": FLAG,
        "--no-single-branch": FLAG,
        "--no-tags": FLAG,
        "--tags": FLAG,
        "--prune": FLAG,
        "--filter": TEXT,
        "--quiet": FLAG,
        "--verbose": FLAG,
        "--progress": FLAG,
        "--unshallow": FLAG,
    },
    ("git", "upload"): {
        "--force": FLAG,
        "--force-with-lease": FLAG,
        "--tags": FLAG,
        "--follow-tags": FLAG,
        "--atomic": FLAG,
        "--quiet": FLAG,
        "--verbose": FLAG,
        "--progress": FLAG,
        "--set-upstream": FLAG,
    },
    ("huggingface", "download"): {
        "--include": TEXT,
        "--exclude": TEXT,
        "--max-workers": INT,
        "--force-download": FLAG,
        "--etag-timeout": INT,
        "--quiet": FLAG,
    },
    ("huggingface", "upload"): {
        "--include": TEXT,
        "--exclude": TEXT,
        "--delete": TEXT,
        "--create-pr": FLAG,
        "--private": FLAG,
        "--quiet": FLAG,
    },
    ("s3", "download"): {
        "--transfers": INT,
        "--include": TEXT,
        "--exclude": TEXT,
        "--max-size": SIZE,
        "--min-size": SIZE,
        "--multi-thread-streams": INT,
        "--multi-thread-cutoff": SIZE,
        "--quiet": FLAG,
    },
    ("s3", "upload"): {
        "--transfers": INT,
        "--include": TEXT,
        "--exclude": TEXT,
        "--max-size": SIZE,
        "--min-size": SIZE,
        "--s3-chunk-size": SIZE,
        "--s3-upload-concurrency": INT,
        "--quiet": FLAG,
    },
}
MAX_INT = 10_000


def check(tool: str, direction: str, args: list[str]) -> list[str]:
    """Return ``args`` normalised to ``--name=value`` / ``--name`` form, or raise ValueError."""
    allowed = ALLOWED[(tool, direction)]
    out: list[str] = []
    i = 0
    while i < len(args):
        arg = args[i]
        name, eq, value = arg.partition("=")
        if name not in allowed:
            tools = {"git": "git", "huggingface": "huggingface-cli", "s3": "rclone"}
            raise ValueError(
                f"{name!r} is not an allowed {tools[tool]} {direction} option; allowed: "
                + ", ".join(sorted(allowed))
            )
        kind = allowed[name]
        if kind is FLAG:
            if eq:
                raise ValueError(f"{name} takes no value")
            out.append(name)
            i += 1
            continue
        if not eq:
            if i + 1 >= len(args):
                raise ValueError(f"{name} needs a value")
            value = args[i + 1]
            i += 1
        i += 1
        if kind == INT and not (value.isdigit() and 0 < int(value) <= MAX_INT):
            raise ValueError(f"{name} takes a whole number from 1 to {MAX_INT}")
        if kind == SIZE and not _SIZE.match(value):
            raise ValueError(f"{name} takes a size such as 64M or 1Gi")
        if kind == TEXT and (not _TEXT.match(value) or value.startswith("-")):
            raise ValueError(f"{name} takes a value on one line")
        out.append(f"{name}={value}")
    return out


def options(args: list[str]) -> dict[str, list[str]]:
    """Normalised args → ``{"--name": [values…]}`` (flags get ``[""]``)."""
    out: dict[str, list[str]] = {}
    for arg in args:
        name, _, value = arg.partition("=")
        out.setdefault(name, []).append(value)
    return out


def parse_size(text: str) -> int:
    m = re.match(r"^(\d+(?:\.\d+)?)([KMGT]?)(i?)B?$", text, re.IGNORECASE)
    if not m:
        raise ValueError(f"{text!r} is not a size")
    base = 1024  # rclone reads 64M as MiB: the S3 options follow it
    power = " KMGT".index(m.group(2).upper() or " ")
    return int(float(m.group(1)) * base**power)
