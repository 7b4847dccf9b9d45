"""One argument parser for the ``fermi`` CLI and the ``%fermi`` magics."""

from __future__ import annotations

import argparse

VERBS_HELP = """\
verbs:
  mounts                      what is mounted in this server
  volumes                     your volumes, with usage
  ls [PATH]                   list a folder (a local path, or VOLUME:path through the registry)
  datasets [QUERY]            datasets you can see (--scope mine|team|org|public)
  versions NAME               a dataset's versions
  register PATH --name NAME   register a folder of a mounted volume as a new dataset
  register PATH --version-of NAME
                              … or as a new version of an existing one (add --wait)
  status NAME@N               one version: status, progress, size, lineage
  verify NAME@N               recompute its manifest and report drift
  restore NAME@N PATH         copy a version into a folder of a mounted volume
"""


class UsageError(Exception):
    """Bad arguments: argparse would exit; we raise so magics can show a line instead."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{message} (see: fermi help)")


def build() -> argparse.ArgumentParser:
    p = _Parser(
        prog="fermi",
        description="Datasets and volumes from your Jupyter server.",
        epilog=VERBS_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--json", action="store_true", help="print JSON for scripts")
    p.add_argument(
        "--timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="give up waiting (register --wait, verify, restore) after this long; exit code 4",
    )
    # the same options after the verb (`fermi status x@1 --json`); SUPPRESS keeps the top's value
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", default=argparse.SUPPRESS)
    common.add_argument("--timeout", type=float, default=argparse.SUPPRESS, metavar="SECONDS")
    sub = p.add_subparsers(dest="verb", metavar="VERB", parser_class=_Parser)
    sub.add_parser("help", parents=[common], help="this help")
    sub.add_parser("mounts", parents=[common], help="what is mounted here")
    sub.add_parser("volumes", parents=[common], help="your volumes")
    ls = sub.add_parser("ls", parents=[common], help="list a folder")
    ls.add_argument("path", nargs="?", default=".")
    ds = sub.add_parser("datasets", parents=[common], help="datasets you can see")
    ds.add_argument("query", nargs="?")
    ds.add_argument("--scope", default="all", choices=["all", "mine", "team", "org", "public"])
    vs = sub.add_parser("versions", parents=[common], help="versions of a dataset")
    vs.add_argument("name")
    rg = sub.add_parser(
        "register", parents=[common], help="register a folder as a dataset (version)"
    )
    rg.add_argument("path")
    target = rg.add_mutually_exclusive_group(required=True)
    target.add_argument("--name", help="a new dataset's name")
    target.add_argument(
        "--version-of", dest="version_of", metavar="NAME", help="add a version to this dataset"
    )
    rg.add_argument(
        "--type",
        dest="data_type",
        default="mixed",
        choices=["text", "image", "audio", "video", "mixed", "other"],
    )
    rg.add_argument("--mode", default="snapshot", choices=["snapshot", "reference"])
    rg.add_argument("--message", "-m", default="")
    rg.add_argument("--visibility", default="private", choices=["private", "team", "org", "public"])
    rg.add_argument("--team")
    rg.add_argument("--tag", action="append", dest="tags", default=[])
    rg.add_argument("--wait", action="store_true", help="follow it until ready, with progress")
    st = sub.add_parser("status", parents=[common], help="one version")
    st.add_argument("ref", metavar="NAME@N")
    vf = sub.add_parser("verify", parents=[common], help="check a version against its manifest")
    vf.add_argument("ref", metavar="NAME@N")
    rs = sub.add_parser("restore", parents=[common], help="copy a version into a mounted volume")
    rs.add_argument("ref", metavar="NAME@N")
    rs.add_argument("path")
    return p
